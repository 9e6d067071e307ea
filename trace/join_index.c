// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Where the join looks for the VMM requests of a guest request.
 *
 * VMM requests wait in a ring of --max-pending entries, 3 s at most. Each is
 * chained under (op, its first 64 KiB block), newest first: the block index.
 * A lookup walks the chains of the blocks the guest range can start in. On
 * a small image at high IOPS those chains hold every request of the last
 * seconds to that block (an 80 MiB image at 100K IOPS: about 50 per chain
 * at the default ring), and nearly all of them are ruled out by time, one
 * cache miss each. That walk was most of the join's cost.
 *
 * So each request is also chained under (op, its MiB, the ms its VMM
 * completion falls in): the time index. Causality bounds where a match can
 * be: with the clock offset in [L, H], a guest request (guest D gd, C gc)
 * can only be served by a VMM request with
 *     vs >= gd + L   and   vc <= gc + H,
 * and as vs <= vc, its completion lies in [gd + L, gc + H] (host ns): with
 * a known clock, one or two ms. A lookup probes only those (MiB, ms) chains,
 * then puts what it found in the block index's order (block ascending,
 * newest first), so that the candidates, their order and the cut at max are
 * exactly the block walk's; only the requests it skipped differ, and those
 * could not be feasible.
 *
 * The block index stays, for what the time bounds cannot narrow: no clock
 * yet (no SYNC, no pair), a window of more than MAX_PROBES chains, or a VMM
 * request with its completion before its submit (events.c never passes one,
 * but the join does not rely on that).
 */
#include <stdlib.h>
#include <string.h>
#include "join_index.h"
#include "core/vec.h"

#define BLOCK_SHIFT 16		/* the block index: 64 KiB blocks */
#define MIB_SHIFT 4		/* the time index: 16 blocks, 1 MiB */
#define TIME_SHIFT 20		/* the time index: 1.05 ms of completion */
#define MAX_PROBES 64		/* more (MiB, ms) chains than this: the block index */
#define NOT_TIMED (-2)

static uint64_t hkey(uint32_t op, uint64_t blk)
{
	return ((blk * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)op << 59)) >> 7;
}

static uint64_t tkey(uint32_t op, uint64_t mib, uint64_t ms)
{
	uint64_t h = mib * 0x9E3779B97F4A7C15ULL + ms * 0xC2B2AE3D27D4EB4FULL + op;

	return h ^ (h >> 29);
}

bool hci_jindex_init(struct hci_jindex *x, size_t cap)
{
	size_t hn = 16;

	memset(x, 0, sizeof(*x));
	while (hn < cap * 2)
		hn <<= 1;
	x->cap = cap;
	x->v = calloc(cap, sizeof(*x->v));
	x->heads = malloc(hn * sizeof(*x->heads));
	x->theads = malloc(hn * sizeof(*x->theads));
	if (!x->v || !x->heads || !x->theads)
		return false;
	memset(x->heads, 0xff, hn * sizeof(*x->heads));
	memset(x->theads, 0xff, hn * sizeof(*x->theads));
	x->hmask = hn - 1;
	x->max_span = 1;
	return true;
}

void hci_jindex_free(struct hci_jindex *x)
{
	free(x->v);
	free(x->heads);
	free(x->theads);
	free(x->scratch);
	memset(x, 0, sizeof(*x));
}

size_t hci_jindex_mem_bytes(const struct hci_jindex *x)
{
	return x->cap * sizeof(*x->v) + 2 * (x->hmask + 1) * sizeof(*x->heads) +
	       x->cap_scratch * sizeof(*x->scratch);
}

/* Completion before submit, or a time past 2^63: the time bounds do not hold. */
static bool untimed(const struct hci_jvmm_in *v)
{
	return v->vc < v->vs || v->vc >> 63;
}

static void tlink(struct hci_jindex *x, int32_t i)
{
	struct hci_jventry *e = &x->v[i];

	if (untimed(&e->v)) {
		e->tnext = e->tprev = NOT_TIMED;
		x->untimed++;
		return;
	}
	e->tb = (uint32_t)(tkey(e->v.op, e->blk >> MIB_SHIFT, e->v.vc >> TIME_SHIFT) & x->hmask);
	e->tprev = -1;
	e->tnext = x->theads[e->tb];
	if (e->tnext >= 0)
		x->v[e->tnext].tprev = i;
	x->theads[e->tb] = i;
}

static void unlink_entry(struct hci_jindex *x, int32_t i)
{
	struct hci_jventry *e = &x->v[i];

	if (e->hprev >= 0)
		x->v[e->hprev].hnext = e->hnext;
	else
		x->heads[hkey(e->v.op, e->blk) & x->hmask] = e->hnext;
	if (e->hnext >= 0)
		x->v[e->hnext].hprev = e->hprev;
	if (e->tprev == NOT_TIMED) {
		x->untimed--;
		return;
	}
	if (e->tprev >= 0)
		x->v[e->tprev].tnext = e->tnext;
	else
		x->theads[e->tb] = e->tnext;
	if (e->tnext >= 0)
		x->v[e->tnext].tprev = e->tprev;
}

uint32_t hci_jindex_evict_oldest(struct hci_jindex *x)
{
	int32_t i = (int32_t)x->vhead;
	uint32_t n = x->v[i].nguest;

	unlink_entry(x, i);
	x->vhead = (x->vhead + 1) % x->cap;
	x->vn--;
	return n;
}

void hci_jindex_add(struct hci_jindex *x, const struct hci_jvmm_in *in, bool *dropped)
{
	struct hci_jventry *e;
	uint64_t span, b;
	int32_t i;

	*dropped = false;
	if (x->vn == x->cap)
		*dropped = !hci_jindex_evict_oldest(x);
	i = (int32_t)((x->vhead + x->vn) % x->cap);
	e = &x->v[i];
	memset(e, 0, sizeof(*e));
	e->v = *in;
	e->blk = in->off >> BLOCK_SHIFT;
	e->seq = x->seq++;
	span = in->len ? ((in->off + in->len - 1) >> BLOCK_SHIFT) - e->blk + 1 : 1;
	if (span > x->max_span)
		x->max_span = span > 65536 ? 65536 : span;
	b = hkey(in->op, e->blk) & x->hmask;
	e->hprev = -1;
	e->hnext = x->heads[b];
	if (e->hnext >= 0)
		x->v[e->hnext].hprev = i;
	x->heads[b] = i;
	tlink(x, i);
	x->vn++;
}

/* Is entry e, starting in [first, last], a candidate of q against base? */
static bool candidate(const struct hci_jventry *e, const struct hci_jquery *q,
		      struct hci_jbounds base)
{
	if (e->v.op != q->op)
		return false;
	if (q->len && (e->v.off >= q->off + q->len || e->v.off + e->v.len <= q->off))
		return false;
	return hci_jfeasible(q, &e->v, &base);
}

/* The block index: every chain of a block the range may start in. */
static size_t by_block(const struct hci_jindex *x, const struct hci_jquery *q,
		       struct hci_jbounds base, uint64_t first, uint64_t last, int32_t *out,
		       size_t max)
{
	size_t n = 0;

	for (uint64_t m = first; m <= last && n < max; m++) {
		for (int32_t i = x->heads[hkey(q->op, m) & x->hmask]; i >= 0 && n < max;
		     i = x->v[i].hnext) {
			const struct hci_jventry *e = &x->v[i];

			if (e->blk == m && candidate(e, q, base))
				out[n++] = i;
		}
	}
	return n;
}

/* The completions a match of q may have, in host ns; false if not bounded. */
static bool time_window(const struct hci_jquery *q, struct hci_jbounds base, int64_t *lo,
			int64_t *hi)
{
	if (base.lo == INT64_MIN || base.hi == INT64_MAX ||
	    __builtin_add_overflow(q->gd, base.lo, lo) || __builtin_add_overflow(q->gc, base.hi, hi))
		return false;
	if (*lo < 0)
		*lo = 0;
	return true;
}

static int cmp_cand(const void *a, const void *b)
{
	const struct hci_jcand *x = a, *y = b;

	if (x->blk != y->blk)
		return x->blk < y->blk ? -1 : 1;
	return x->seq > y->seq ? -1 : x->seq < y->seq;
}

static bool keep(struct hci_jindex *x, size_t n, int32_t i)
{
	struct hci_jcand *s = hci_vec_grow(x->scratch, &x->cap_scratch, n, sizeof(*s), 64);

	if (!s)
		return false;
	x->scratch = s;
	x->scratch[n] = (struct hci_jcand){ x->v[i].blk, x->v[i].seq, i };
	return true;
}

/*
 * The time index: the (MiB, ms) chains of the window, every candidate
 * found, then in block order. SIZE_MAX when it cannot answer.
 */
static size_t by_time(struct hci_jindex *x, const struct hci_jquery *q, struct hci_jbounds base,
		      uint64_t first, uint64_t last, int32_t *out, size_t max)
{
	uint64_t m0 = first >> MIB_SHIFT, m1 = last >> MIB_SHIFT, t0, t1;
	int64_t lo, hi;
	size_t n = 0;

	if (x->untimed || !time_window(q, base, &lo, &hi))
		return SIZE_MAX;
	if (hi < lo)
		return 0;
	t0 = (uint64_t)lo >> TIME_SHIFT;
	t1 = (uint64_t)hi >> TIME_SHIFT;
	if (t1 - t0 >= MAX_PROBES || m1 - m0 >= MAX_PROBES ||
	    (t1 - t0 + 1) * (m1 - m0 + 1) > MAX_PROBES)
		return SIZE_MAX;
	for (uint64_t m = m0; m <= m1; m++)
		for (uint64_t t = t0; t <= t1; t++)
			for (int32_t i = x->theads[tkey(q->op, m, t) & x->hmask]; i >= 0;
			     i = x->v[i].tnext) {
				const struct hci_jventry *e = &x->v[i];

				if (e->blk < first || e->blk > last || e->blk >> MIB_SHIFT != m ||
				    e->v.vc >> TIME_SHIFT != t || !candidate(e, q, base))
					continue;
				if (!keep(x, n++, i))
					return SIZE_MAX;
			}
	if (n > 1)
		qsort(x->scratch, n, sizeof(*x->scratch), cmp_cand);
	n = n < max ? n : max;
	for (size_t k = 0; k < n; k++)
		out[k] = x->scratch[k].idx;
	return n;
}

size_t hci_jindex_candidates(struct hci_jindex *x, const struct hci_jquery *q,
			     struct hci_jbounds base, int32_t *out, size_t max)
{
	uint64_t first = q->off >> BLOCK_SHIFT, last;
	size_t n;

	last = q->len ? (q->off + q->len - 1) >> BLOCK_SHIFT : first;
	first = first >= x->max_span ? first - x->max_span + 1 : 0;
	n = by_time(x, q, base, first, last, out, max);
	return n != SIZE_MAX ? n : by_block(x, q, base, first, last, out, max);
}
