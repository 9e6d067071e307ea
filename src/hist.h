/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef HCI_USER_HIST_H
#define HCI_USER_HIST_H

#include <stddef.h>
#include <stdio.h>
#include "hcitrace.h"

extern const char *const hci_stage_names[HCI_NSTAGES];
extern const char *const hci_vstage_names[HCI_NVSTAGES];
extern const char *const hci_op_names[HCI_NOPS];

/* word-wise sums over the all-__u64 value structs (hist and vmm values) */
void hci_u64s_add(__u64 *dst, const __u64 *src, size_t n);
void hci_hist_add(struct hci_hist_val *dst, const struct hci_hist_val *src);
/* dst = a - b, for interval deltas of cumulative counts */
void hci_hist_sub(struct hci_hist_val *dst, const struct hci_hist_val *a,
		  const struct hci_hist_val *b);
__u64 hci_slots_count(const __u64 *slots);
/* p-th percentile (0..100) in us, interpolated inside its log2 bucket */
double hci_slots_percentile_us(const __u64 *slots, double p);
/* biolatency-style star histogram */
void hci_slots_print(FILE *f, const __u64 *slots, const char *unit);

#endif
