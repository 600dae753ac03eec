// SPDX-License-Identifier: GPL-2.0
/* tcflow: one event per IPv4 TCP or UDP packet seen by a TC hook; every
 * packet passes. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "ebpf_hub.h"

#define TC_ACT_OK 0
#define ETH_P_IP 0x0800
#define ETH_HLEN 14

/* Report one packet in N, chosen at random (0 or 1 = every packet). */
const volatile __u32 sample_every = 0;

struct event {
	ipv4_addr_t saddr;
	ipv4_addr_t daddr;
	__u16 sport;
	__u16 dport;
	__u32 proto;	/* 6 TCP, 17 UDP */
	__u32 len;	/* bytes, link-layer header included */
	__u32 ifindex;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);
} events SEC(".maps");

EBPF_HUB_EVENT(struct event);

SEC("tc")
int tc_ipv4_flow(struct __sk_buff *skb)
{
	struct iphdr ip;
	__u16 ports[2];	/* source and destination, network order */
	struct event *e;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if (sample_every > 1 && bpf_get_prandom_u32() % sample_every)
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)))
		return TC_ACT_OK;
	if (ip.protocol != IPPROTO_TCP && ip.protocol != IPPROTO_UDP)
		return TC_ACT_OK;
	/* Both TCP and UDP start with the two ports. */
	if (bpf_skb_load_bytes(skb, ETH_HLEN + ip.ihl * 4, ports, sizeof(ports)))
		return TC_ACT_OK;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return TC_ACT_OK;
	e->saddr = ip.saddr;
	e->daddr = ip.daddr;
	e->sport = bpf_ntohs(ports[0]);
	e->dport = bpf_ntohs(ports[1]);
	e->proto = ip.protocol;
	e->len = skb->len;
	e->ifindex = skb->ifindex;
	bpf_ringbuf_submit(e, 0);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
