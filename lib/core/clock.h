/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The two clocks the programs read: CLOCK_MONOTONIC (what the BPF side's
 * bpf_ktime_get_ns() counts) and, for the guest join, the CPU's TSC.
 */
#ifndef HCI_CORE_CLOCK_H
#define HCI_CORE_CLOCK_H
#include <time.h>
#include <linux/types.h>

/* CLOCK_MONOTONIC in ns */
static inline __u64 hci_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* The CPU's time stamp counter, or 0 where there is none (not x86). */
static inline __u64 hci_rdtsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	return 0;
#endif
}
#endif
