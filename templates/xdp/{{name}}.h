/* SPDX-License-Identifier: GPL-2.0 */
/* The map value {{name}} counts in: included by the eBPF program and the loaders. */
#pragma once

/* The key of packets that are neither IPv4 nor IPv6 (IP protocols are 0-255). */
#define PROTO_NON_IP 256

struct counter {
	__u64 packets;
	__u64 bytes;
};
