/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The join's VMM index (trace/join_index.c) against the plain definition of
 * a guest request's candidates: every VMM request in the ring of the same
 * op, starting in a block the range can start in, overlapping it (any, for
 * a flush) and feasible against the clock bounds, in block order and newest
 * first within a block, cut at max. Random rings over small images (long
 * chains), random guest requests and bounds: narrow ones (the time index),
 * wide and open ones (the block index), and entries whose completion comes
 * before their submit.
 */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "trace/join_index.h"

static uint64_t rs = 0x2545F4914F6CDD1DULL;

static uint64_t rnd(uint64_t n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return n ? rs % n : 0;
}

#define US 1000LL
#define MS 1000000LL
#define OFF (7 * 1000 * MS)	/* host = guest + OFF */

/* The definition, straight over the ring (oldest at vhead). */
static size_t reference(const struct hci_jindex *x, const struct hci_jquery *q,
			struct hci_jbounds base, int32_t *out, size_t max)
{
	uint64_t first = q->off >> 16, last = q->len ? (q->off + q->len - 1) >> 16 : first;
	size_t n = 0;

	first = first >= x->max_span ? first - x->max_span + 1 : 0;
	for (uint64_t m = first; m <= last && n < max; m++)
		for (size_t k = x->vn; k-- > 0 && n < max;) {
			int32_t i = (int32_t)((x->vhead + k) % x->cap);
			const struct hci_jventry *e = &x->v[i];
			struct hci_jbounds b = base;

			if (e->blk != m || e->v.op != q->op)
				continue;
			if (q->len && (e->v.off >= q->off + q->len || e->v.off + e->v.len <= q->off))
				continue;
			if (hci_jfeasible(q, &e->v, &b))
				out[n++] = i;
		}
	return n;
}

/* A VMM request at host time t over an image of mib MiB; some split or large. */
static struct hci_jvmm_in vmm_at(int64_t t, uint64_t mib, bool backwards)
{
	struct hci_jvmm_in v = { .op = rnd(4) ? HCI_OP_READ : HCI_OP_WRITE };
	uint64_t len = rnd(20) ? 4096 : 4096 * (1 + rnd(64));

	if (!rnd(200)) {
		v.op = HCI_OP_FLUSH;
		len = 0;
	}
	v.len = len;
	v.off = len ? rnd(mib * 256) * 4096 : 0;
	v.vs = (uint64_t)t;
	v.vc = v.vs + 5 * US + rnd(400 * US);
	if (backwards)
		v.vc = v.vs - 1 - rnd(10 * US);
	return v;
}

/* A guest request near host time t, as the guest clock has it. */
static struct hci_jquery query_at(int64_t t, uint64_t mib)
{
	struct hci_jquery q = { .op = rnd(4) ? HCI_OP_READ : HCI_OP_WRITE };

	q.len = rnd(10) ? 4096 : 4096 * (1 + rnd(32));
	if (!rnd(100)) {
		q.op = HCI_OP_FLUSH;
		q.len = 0;
	}
	q.off = q.len ? rnd(mib * 256) * 4096 : 0;
	q.gd = t - OFF - (int64_t)rnd(100 * US);
	q.gc = q.gd + 50 * US + (int64_t)rnd(2 * MS);
	return q;
}

/* Bounds around the truth: narrow, wide (over MAX_PROBES ms), open. */
static struct hci_jbounds bounds(void)
{
	int64_t w;

	switch (rnd(8)) {
	case 0:
		return (struct hci_jbounds){ INT64_MIN, INT64_MAX };
	case 1:
		return (struct hci_jbounds){ OFF - 1000 * MS, OFF };
	case 2:
		w = 100 * MS;
		break;
	default:
		w = (int64_t)rnd(300 * US) + 1;
	}
	return (struct hci_jbounds){ OFF - w, OFF + w };
}

/* One ring: n VMM requests at iops, then lookups; how many lookups disagreed. */
static size_t run(size_t cap, size_t n, uint64_t mib, unsigned int per_backwards, size_t *nz)
{
	struct hci_jindex x;
	size_t bad = 0;
	int64_t t = 100 * 1000 * MS;

	if (!hci_jindex_init(&x, cap))
		return SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		bool dropped;
		struct hci_jvmm_in v = vmm_at(t, mib, per_backwards && !rnd(per_backwards));

		hci_jindex_add(&x, &v, &dropped);
		t += 10 * US;
		while (x.vn && hci_jindex_oldest(&x)->v.vc + 500 * MS < (uint64_t)t)
			hci_jindex_evict_oldest(&x);
		if (i % 29)
			continue;
		for (int k = 0; k < 4; k++) {
			struct hci_jquery q = query_at(t - (int64_t)rnd(300 * MS), mib);
			struct hci_jbounds b = bounds();
			int32_t got[256], want[256];
			size_t max = rnd(2) ? 256 : 1 + rnd(3);
			size_t ng = hci_jindex_candidates(&x, &q, b, got, max);
			size_t nw = reference(&x, &q, b, want, max);

			*nz += nw > 0;
			if (ng != nw || memcmp(got, want, nw * sizeof(*got)))
				bad++;
		}
	}
	hci_jindex_free(&x);
	return bad;
}

int main(void)
{
	size_t nz = 0;

	is_int(run(65536, 20000, 80, 0, &nz), 0,
	       "80 MiB at 100K IOPS: the index's candidates are the definition's");
	is_int(run(4096, 20000, 2, 0, &nz), 0, "2 MiB, a small ring that overflows: the same");
	is_int(run(8192, 20000, 1, 0, &nz), 0, "1 MiB, every chain long: the same");
	is_int(run(8192, 20000, 80, 50, &nz), 0,
	       "completions before their submits (the block index): the same");
	ok(nz > 1000, "lookups found candidates (%zu), not only empty answers", nz);
	return done_testing();
}
