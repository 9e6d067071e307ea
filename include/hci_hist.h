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

/*
 * Why the arithmetic below has no compare: BPF has no conditional set or
 * move, so every compare is a branch, and the verifier walks each
 * combination of a request's stages' branches (15K instructions for each
 * program that finishes a VMM request, when the buckets were compares).
 * Borrows and carries give the same answers without one. HCI_OPAQUE keeps
 * the compiler from folding them back into compares.
 */
#define HCI_OPAQUE(x) __asm__ volatile("" : "+r"(x))

/*
 * One step of the search below, for *v < 2^32: if *v > c, C - v borrows
 * (sets bit 63), and *v is shifted down by the step's 2^bits; returns that
 * shift, 0 or 2^bits.
 */
static inline unsigned long long hci_log2_step(unsigned long long *v, unsigned long long c,
					       unsigned int bits)
{
	unsigned long long x = *v, s;

	HCI_OPAQUE(x);
	s = ((c - x) >> 63) << bits;
	*v = x >> s;
	return s;
}

/* floor(log2(v)) for v > 0; 0 for v == 0: a binary search by borrows */
static inline unsigned int hci_log2_u64(unsigned long long v)
{
	unsigned long long r;

	/* the high half is non-zero: (v >> 32) + 2^32 - 1 carries into bit 32 */
	r = (((v >> 32) + 0xFFFFFFFFULL) >> 32) << 5;
	v >>= r;
	r |= hci_log2_step(&v, 0xFFFFULL, 4);
	r |= hci_log2_step(&v, 0xFFULL, 3);
	r |= hci_log2_step(&v, 0xFULL, 2);
	r |= hci_log2_step(&v, 0x3ULL, 1);
	return (unsigned int)(r | (v >> 1));
}

/*
 * The bucket of @ns (below 2^63; hci_span_ns gives no more), without a
 * branch, a multiply or a divide. Bucket b >= 1 holds
 * 1000 * 2^(b-1) <= ns < 1000 * 2^b, and as 2^9 < 1000 < 2^10 that is
 * b = log2(ns) - 8 or one less: one borrow against the lower edge decides.
 */
static inline unsigned int hci_bucket_of_ns(unsigned long long ns)
{
	long long b = (long long)hci_log2_u64(ns) - 8, sh = b - 1, over;
	unsigned long long lo;

	sh &= ~(sh >> 63);				/* max(b - 1, 0) */
	lo = 1000ULL << sh;				/* b's lower edge */
	HCI_OPAQUE(lo);
	b -= (long long)((ns - lo) >> 63);		/* below it: b - 1 */
	b &= ~(b >> 63);				/* max(b, 0): under 1 us */
	over = (long long)(HCI_NBUCKETS - 1) - b;	/* negative past the last */
	HCI_OPAQUE(over);
	over >>= 63;
	b = (b & ~over) | ((HCI_NBUCKETS - 1) & over);
	/* a no-op on the value: the bound the verifier needs for slots[b] */
	return (unsigned int)b & (HCI_NBUCKETS - 1);
}

_Static_assert((HCI_NBUCKETS & (HCI_NBUCKETS - 1)) == 0, "HCI_NBUCKETS is a power of two");

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
