/* SPDX-License-Identifier: GPL-2.0 */
/* The record {{name}} sends to user space: included by the eBPF program and the loaders. */
#pragma once

#ifndef __EBPF_HUB_H
typedef __u32 ipv4_addr_t;	/* ebpf_hub.h's, for user space: an IPv4 address, network order */
#endif

struct event {
	ipv4_addr_t saddr;	/* printed as an address: the type's name says what it is */
	ipv4_addr_t daddr;
	__u16 sport;
	__u16 dport;
	__u32 proto;		/* 6 TCP, 17 UDP */
	__u32 len;		/* bytes, link-layer header included */
};
