/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A per-CPU BPF map read whole and summed over CPUs, then looked up by key:
 * how every program turns the kernel's histograms into rows.
 */
#ifndef HCI_BPF_SNAPSHOT_H
#define HCI_BPF_SNAPSHOT_H
#include <stddef.h>
#include <linux/types.h>

struct bpf_map;
struct hci_tracer;

struct hci_snap {
	size_t ksz, vsz, n;
	char *keys;
	__u64 *vals;		/* n values of vsz bytes each */
};

int hci_snapshot(struct hci_tracer *t, struct bpf_map *map, struct hci_snap *sn);
const __u64 *hci_snap_find(const struct hci_snap *sn, const void *key);
void hci_snap_free(struct hci_snap *sn);
#endif
