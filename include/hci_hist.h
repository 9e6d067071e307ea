/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one bucket schema used everywhere: log2 microseconds.
 *
 *   bucket 0      [0, 1) us
 *   bucket k>=1   [2^(k-1), 2^k) us
 *   bucket N-1    [2^(N-2), inf) us  (the last bucket catches everything above)
 *
 * Pure functions on scalars, so the same code runs in BPF and in host unit
 * tests. No compiler builtins: clang 14's BPF backend crashes on clzll.
 */
#ifndef HCI_HIST_H
#define HCI_HIST_H

#define HCI_NBUCKETS 32

/* floor(log2(v)) for v > 0; 0 for v == 0. Branch-light binary search. */
static inline unsigned int hci_log2_u64(unsigned long long v)
{
	unsigned int r = 0, shift;

	shift = (v > 0xFFFFFFFFULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xFFFFULL) << 4;     v >>= shift; r |= shift;
	shift = (v > 0xFFULL) << 3;       v >>= shift; r |= shift;
	shift = (v > 0xFULL) << 2;        v >>= shift; r |= shift;
	shift = (v > 0x3ULL) << 1;        v >>= shift; r |= shift;
	r |= (unsigned int)(v >> 1);
	return r;
}

/*
 * ns / 1000 without a divide for ns < 2^32 (4.29 s), which is every stage
 * of a healthy request: a 64-bit divide is the slowest instruction on the
 * completion path (one per stage), and BPF has no multiply-high. 274877907
 * is 2^38 / 1000 rounded up; its error, below 0.0009 for such ns, never
 * reaches the next integer, because ns / 1000 is at least 0.001 short of
 * it. tests/unit/test_hist.c checks it against the divide.
 */
static inline unsigned long long hci_ns_to_us(unsigned long long ns)
{
	if (ns < (1ULL << 32))
		return (ns * 274877907ULL) >> 38;
	return ns / 1000;
}

static inline unsigned int hci_bucket_of_ns(unsigned long long ns)
{
	unsigned long long us = hci_ns_to_us(ns);
	unsigned int b;

	if (us == 0)
		return 0;
	b = hci_log2_u64(us) + 1;
	return b < HCI_NBUCKETS ? b : HCI_NBUCKETS - 1;
}

static inline unsigned long long hci_bucket_lo_us(unsigned int b)
{
	return b == 0 ? 0 : 1ULL << (b - 1);
}

/* Upper bound (exclusive) of a bucket; the last bucket is open-ended. */
static inline unsigned long long hci_bucket_hi_us(unsigned int b)
{
	return 1ULL << b;
}

#endif /* HCI_HIST_H */
