// SPDX-License-Identifier: GPL-2.0
/* {{name}}: one event per IPv4 TCP or UDP packet received; every packet goes on. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "ebpf_hub.h"
#include "{{name}}.h"

#define TC_ACT_UNSPEC (-1)	/* "no verdict": on to the next program, then the stack */
#define ETH_P_IP 0x0800
#define ETH_HLEN 14

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

EBPF_HUB_EVENT(struct event);

SEC("tc")
int tc_ingress(struct __sk_buff *skb)
{
	struct iphdr ip;
	__u16 ports[2];	/* source and destination: TCP and UDP headers both start with them */
	struct event *e;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_UNSPEC;
	/* Copy the headers out of the packet; a short packet fails the copy. */
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)))
		return TC_ACT_UNSPEC;
	if (ip.protocol != IPPROTO_TCP && ip.protocol != IPPROTO_UDP)
		return TC_ACT_UNSPEC;
	if (bpf_skb_load_bytes(skb, ETH_HLEN + ip.ihl * 4, ports, sizeof(ports)))
		return TC_ACT_UNSPEC;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return TC_ACT_UNSPEC;
	e->saddr = ip.saddr;
	e->daddr = ip.daddr;
	e->sport = bpf_ntohs(ports[0]);
	e->dport = bpf_ntohs(ports[1]);
	e->proto = ip.protocol;
	e->len = skb->len;
	bpf_ringbuf_submit(e, 0);
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
