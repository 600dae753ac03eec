/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __XDPFILTER_H
#define __XDPFILTER_H

/* Packets and bytes given one verdict (the map is keyed by enum xdp_action, so its
 * keys print as XDP_DROP and XDP_PASS). */
struct verdict_stat {
	__u64 packets;
	__u64 bytes;
};

#endif /* __XDPFILTER_H */
