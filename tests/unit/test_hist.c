// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The log2-us bucket schema (shared with BPF), histogram math, and the slot
 * table's staleness rule. */
#include <math.h>
#include <stdlib.h>
#include "tap.h"
#include "core/hist.h"

static unsigned int ref_log2(unsigned long long v)
{
	unsigned int r = 0;

	while (v >>= 1)
		r++;
	return r;
}

/* the bucket by the definition: log2 of the whole microseconds, plus 1 */
static unsigned int ref_bucket(unsigned long long ns)
{
	unsigned long long us = ns / 1000;
	unsigned int b = us ? ref_log2(us) + 1 : 0;

	return b < HCI_NBUCKETS ? b : HCI_NBUCKETS - 1;
}

int main(void)
{
	struct hci_hist_val a = {0}, b = {0}, c;
	__u64 slots[HCI_NBUCKETS] = {0};
	int bad = 0;

	for (int sh = 0; sh < 64; sh++) {
		unsigned long long v = 1ULL << sh;

		if (hci_log2_u64(v) != ref_log2(v) || hci_log2_u64(v - 1 + !sh) != ref_log2(v - 1 + !sh) ||
		    hci_log2_u64(v + 1) != ref_log2(v + 1))
			bad++;
	}
	srand(1);
	for (int i = 0; i < 100000; i++) {
		unsigned long long v = ((unsigned long long)rand() << 33) ^ ((unsigned long long)rand() << 11) ^ (unsigned long long)rand();

		v >>= rand() % 64;
		if (hci_log2_u64(v) != (v ? ref_log2(v) : 0))
			bad++;
	}
	is_int(bad, 0, "log2 agrees with a reference on powers of two and random values");
	is_int(hci_log2_u64(0), 0, "log2(0) is 0");

	/* the bucket without a branch against the divide and a reference log2 */
	bad = 0;
	for (unsigned long long us = 0; us < (1ULL << 42); us += 1 + us / 4096)
		for (unsigned long long ns = us ? us * 1000 - 1 : 0; ns <= us * 1000 + 1; ns++)
			if (hci_bucket_of_ns(ns) != ref_bucket(ns))
				bad++;
	for (int sh = 0; sh < 63; sh++)
		for (long long d = -2; d <= 2; d++) {
			unsigned long long ns = (1ULL << sh) + (unsigned long long)d;

			if (ns < (1ULL << 63) && hci_bucket_of_ns(ns) != ref_bucket(ns))
				bad++;
		}
	for (int i = 0; i < 1000000; i++) {
		unsigned long long ns = ((unsigned long long)rand() << 33 ^ (unsigned long long)rand() << 11 ^
					 (unsigned long long)rand()) >> (rand() % 64);

		if (hci_bucket_of_ns(ns >> 1) != ref_bucket(ns >> 1))
			bad++;
	}
	is_int(bad, 0, "bucket agrees with ns / 1000 and a reference log2: every us edge up to 2^42 us (sparser above 4096), powers of two, random ns below 2^63");
	is_int(hci_bucket_of_ns(0), 0, "0 ns -> bucket 0 [0,1) us");
	is_int(hci_bucket_of_ns(999), 0, "999 ns -> bucket 0");
	is_int(hci_bucket_of_ns(1000), 1, "1 us -> bucket 1 [1,2)");
	is_int(hci_bucket_of_ns(1999), 1, "1.999 us -> bucket 1");
	is_int(hci_bucket_of_ns(2000), 2, "2 us -> bucket 2 [2,4)");
	is_int(hci_bucket_of_ns(3999), 2, "3.999 us -> bucket 2");
	is_int(hci_bucket_of_ns(4000), 3, "4 us -> bucket 3");
	is_int(hci_bucket_of_ns(1000ULL * 1024), 11, "1024 us -> bucket 11 [1024,2048)");
	is_int(hci_bucket_of_ns(~0ULL), HCI_NBUCKETS - 1, "huge -> last bucket, no overflow");
	bad = 0;
	for (unsigned int bk = 1; bk < HCI_NBUCKETS - 1; bk++) {
		if (hci_bucket_of_ns(hci_bucket_lo_us(bk) * 1000) != bk ||
		    hci_bucket_of_ns(hci_bucket_hi_us(bk) * 1000 - 1) != bk)
			bad++;
	}
	is_int(bad, 0, "every bucket's bounds map back to it");
	is_int(hci_bucket_lo_us(0), 0, "bucket 0 starts at 0");
	is_int(hci_bucket_hi_us(0), 1, "bucket 0 ends at 1 us");

	ok(hci_slots_percentile_us(slots, 50) == 0, "percentile of empty is 0");
	slots[3] = 100;		/* [4, 8) us */
	ok(fabs(hci_slots_percentile_us(slots, 50) - 6.0) < 1e-9, "p50 interpolates in its bucket");
	ok(fabs(hci_slots_percentile_us(slots, 100) - 8.0) < 1e-9, "p100 is the bucket's top");
	slots[10] = 1;		/* [512, 1024) us */
	ok(hci_slots_percentile_us(slots, 99) < 8.0, "p99 of 100 fast + 1 slow stays fast");
	ok(hci_slots_percentile_us(slots, 100) > 512.0, "p100 reaches the slow one");
	is_int(hci_slots_count(slots), 101, "count sums the buckets");

	a.slots[HCI_D2C][2] = 5;
	a.ios = 5;
	b.slots[HCI_D2C][2] = 3;
	b.ios = 3;
#define W (sizeof(struct hci_hist_val) / sizeof(__u64))
	c = a;
	hci_u64s_add((__u64 *)&c, (const __u64 *)&b, W);
	is_int(c.slots[HCI_D2C][2], 8, "add sums buckets");
	is_int(c.ios, 8, "add sums ios");
	hci_u64s_sub((__u64 *)&c, (const __u64 *)&a, (const __u64 *)&b, W);
	is_int(c.slots[HCI_D2C][2], 2, "sub gives the interval delta");
	hci_u64s_sub((__u64 *)&c, (const __u64 *)&b, (const __u64 *)&a, W);
	is_int(c.ios, 0, "sub never wraps below zero");

	/* the slot table's staleness rule (shared with bpf/hci_slots.bpf.h) */
#define S30 (30ULL * 1000000000ULL)
	ok(!hci_slot_stale(1000, 0, S30), "a slot being initialised (ts 0) is never stale");
	ok(!hci_slot_stale(S30, 1, S30), "30 s old is not yet stale");
	ok(hci_slot_stale(S30 + 2, 1, S30), "older than 30 s is stale");
	/* another CPU stamped it after this one read its clock: brand new */
	ok(!hci_slot_stale(5000000000ULL, 5000000100ULL, S30),
	   "a slot stamped 100 ns after 'now' is not stale (no unsigned wrap)");
	ok(!hci_slot_stale(1, 2, S30), "... nor 1 ns after");
	return done_testing();
}
