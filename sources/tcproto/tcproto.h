/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __TCPROTO_H
#define __TCPROTO_H

/* Which way a packet crossed the hook. */
enum tc_direction {
	INGRESS,
	EGRESS,
};

/* IP protocol numbers (IPv4 `protocol`, IPv6 `nexthdr`) under their IANA names;
 * the map is keyed by this type, so its keys print as these names (other numbers
 * print as numbers). NON_IP counts frames that are neither IPv4 nor IPv6. */
enum ip_protocol {
	HOPOPT = 0,
	ICMP = 1,
	IGMP = 2,
	IPIP = 4,
	TCP = 6,
	UDP = 17,
	IPV6 = 41,
	GRE = 47,
	ESP = 50,
	AH = 51,
	ICMPV6 = 58,
	SCTP = 132,
	UDPLITE = 136,
	NON_IP = 256,
};

struct tc_key {
	enum tc_direction direction;
	enum ip_protocol protocol;
};

struct tc_stat {
	__u64 packets;
	__u64 bytes;
};

#endif /* __TCPROTO_H */
