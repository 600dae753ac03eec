/* SPDX-License-Identifier: GPL-2.0 */
/* What {{name}} shares with user space: included by the eBPF program and the loaders. */
#pragma once

/* The histogram is one value, at this key of the `hist` array map: as many __u64 slots
 * as the map's value size holds (EBPF_HUB_HIST_SLOTS of ebpf_hub.h). */
#define HIST_KEY 0
