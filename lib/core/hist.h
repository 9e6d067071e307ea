/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef HCI_USER_HIST_H
#define HCI_USER_HIST_H

#include <stddef.h>
#include <stdio.h>
#include "hci_abi.h"

extern const char *const hci_stage_names[HCI_NSTAGES];
extern const char *const hci_vstage_names[HCI_NVSTAGES];
extern const char *const hci_op_names[HCI_NOPS];

/* Word-wise arithmetic on the all-__u64 value structs (block and VMM
 * histogram values, KVM counters): dst += src, and dst = a - b for interval
 * deltas of cumulative counts, never below zero. */
void hci_u64s_add(__u64 *dst, const __u64 *src, size_t n);
void hci_u64s_sub(__u64 *dst, const __u64 *a, const __u64 *b, size_t n);
__u64 hci_slots_count(const __u64 *slots);
/* p-th percentile (0..100) in us, interpolated inside its log2 bucket */
double hci_slots_percentile_us(const __u64 *slots, double p);
/* biolatency-style star histogram */
void hci_slots_print(FILE *f, const __u64 *slots, const char *unit);

#endif
