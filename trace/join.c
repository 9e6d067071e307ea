// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Join guest block requests to VMM requests, and the guest clock to the host's.
 *
 * Matching. A guest request (disk offset, length, direction, guest times)
 * caused the VMM request(s) that cover its byte range with the same direction
 * and that happened inside it in time: VMM submit after guest D, VMM
 * completion before guest C. With raw images the guest's disk offset is the
 * image offset, so the key is the byte range; time tells repeats apart. A
 * guest request covered by several VMM requests was split (one-to-many); a
 * VMM request covering several guest requests merged them.
 *
 * Clock. Both sides stamp CLOCK_MONOTONIC, each its own. Every matched pair
 * bounds off = host - guest from both sides:
 *     guest D + off <= VMM submit      ->  off <= vs - gD   (hi)
 *     VMM completion <= guest C + off  ->  off >= vc - gC   (lo)
 * and every SYNC frame bounds it from above (sent before it was received).
 * The estimate is the middle of [lo, hi], its uncertainty the half-width. A
 * match that would empty the interval broke causality: it is refused and
 * counted, so one bad pair cannot poison the clock.
 *
 * Memory. Guest and VMM requests wait in two rings of --max-pending entries;
 * what overflows is dropped and counted. VMM requests are found through an
 * index of their ring (join_index.c): by block and by completion time, so a
 * lookup costs the few requests near it in space and time, never a scan of
 * the window.
 *
 * This file holds the guest ring, the guest records and the matching; the
 * VMM ring and its index are in join_index.c, the clock's interval and
 * estimate in join_clock.c, the stages and statistics of a matched request
 * in join_record.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "join.h"
#include "join_clock.h"
#include "join_index.h"
#include "join_record.h"

#define SETTLE_NS 250000000ULL	/* guest records wait this long for their VMM side */
#define HORIZON_NS 3000000000ULL	/* VMM requests wait this long for a guest */
#define MAX_PIECES 64		/* VMM requests one guest request may split into */
#define MAX_DISKS 32

struct gent {
	struct hci_w_req r;
	uint64_t arrived;
};

struct hci_join {
	size_t cap;
	struct gent *g;
	size_t ghead, gn;
	struct hci_jindex x;	/* the VMM requests */
	struct hci_jclock c;
	struct hci_jcounters cnt;
	struct hci_jstats st[HCI_NOPS];
	struct hci_jstats st4k[HCI_NOPS];	/* 4 KiB requests: the breakdown */
	struct hci_jvol vol;
	struct hci_jorder *inv;
	size_t ninv;
	bool have_hello;
	struct hci_w_hello hello;
	struct hci_w_disk disks[MAX_DISKS];
	int ndisks;
	uint64_t last_sync_mono;
	uint64_t req_records;	/* REQ records received, valid or not */
	hci_join_out out;
	void *ctx;
};

struct hci_join *hci_join_new(size_t max_pending, hci_join_out out, void *ctx)
{
	struct hci_join *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->cap = max_pending;
	j->g = calloc(max_pending, sizeof(*j->g));
	j->inv = calloc(max_pending, sizeof(*j->inv));
	if (!hci_jindex_init(&j->x, max_pending) || !j->g || !j->inv) {
		hci_join_free(j);
		return NULL;
	}
	j->out = out;
	j->ctx = ctx;
	return j;
}

void hci_join_free(struct hci_join *j)
{
	if (!j)
		return;
	free(j->g);
	hci_jindex_free(&j->x);
	free(j->inv);
	free(j);
}

size_t hci_join_mem_bytes(const struct hci_join *j)
{
	return sizeof(*j) + j->cap * (sizeof(*j->g) + sizeof(*j->inv)) +
	       hci_jindex_mem_bytes(&j->x);
}

/* ---- the VMM side ---- */

void hci_join_vmm(struct hci_join *j, const struct hci_jvmm_in *in)
{
	bool dropped;

	if (in->op != HCI_OP_READ && in->op != HCI_OP_WRITE && in->op != HCI_OP_FLUSH)
		return;
	j->cnt.vmm_reqs++;
	if (in->op != HCI_OP_FLUSH)
		j->vol.vmm[in->op] += in->len;
	hci_jindex_add(&j->x, in, &dropped);
	if (dropped)
		j->cnt.vmm_overflow++;
}

/* ---- the guest side: validation of untrusted records ---- */

static bool req_valid(const struct hci_w_req *r)
{
	const uint64_t max_ns = 600ULL * 1000000000ULL;
	uint64_t s = hci_jreq_first_ts(r);
	const uint64_t ts[] = { r->ts_q, r->ts_g, r->ts_i, r->ts_d, r->ts_c };

	if (r->op >= HCI_NOPS || r->bytes > (1u << 30) || r->flags & ~0x1fu)
		return false;
	/* driver-private requests (virtio-blk GET_ID...) carry no sector */
	if (r->op != HCI_OP_OTHER && r->sector > (UINT64_MAX >> 10))
		return false;
	if (!r->ts_c || !s || r->ts_c < s || r->ts_c - s > max_ns)
		return false;
	/*
	 * Every present stamp lies in [start, C], and D after the start. Q/G/I
	 * among themselves are not checked: a requeued request is inserted
	 * again after its first dispatch.
	 */
	for (size_t k = 0; k < sizeof(ts) / sizeof(ts[0]); k++)
		if (ts[k] && (ts[k] < s || ts[k] > r->ts_c))
			return false;
	if ((r->op == HCI_OP_READ || r->op == HCI_OP_WRITE) && !r->bytes)
		return false;
	return true;
}

static void guest_req(struct hci_join *j, const struct hci_w_req *r, uint64_t now)
{
	struct gent *e;

	j->req_records++;
	if (!req_valid(r)) {
		j->cnt.bad_record++;
		return;
	}
	if (r->op != HCI_OP_READ && r->op != HCI_OP_WRITE && r->op != HCI_OP_FLUSH) {
		/* discards, driver-private: no VMM request to join them to */
		j->cnt.guest_other++;
		return;
	}
	j->cnt.guest_reqs++;
	j->vol.guest_reqs++;
	j->vol.guest[r->op] += r->bytes;
	if (j->gn == j->cap) {
		/* the oldest waits no longer: it counts as dropped */
		j->ghead = (j->ghead + 1) % j->cap;
		j->gn--;
		j->cnt.guest_overflow++;
	}
	e = &j->g[(j->ghead + j->gn) % j->cap];
	e->r = *r;
	e->arrived = now;
	j->gn++;
}

static void guest_app(struct hci_join *j, const struct hci_w_app *a)
{
	if ((a->op != HCI_OP_READ && a->op != HCI_OP_WRITE) || a->bytes > (1ULL << 31)) {
		j->cnt.bad_record++;
		return;
	}
	j->cnt.app_recs++;
	j->vol.app[a->op] += a->bytes;
}

static void guest_sync(struct hci_join *j, const struct hci_w_sync *s, uint64_t now, bool live)
{
	if (!s->mono_ns || s->mono_ns < j->last_sync_mono || s->dropped > s->reqs + s->apps) {
		j->cnt.bad_record++;
		return;
	}
	j->last_sync_mono = s->mono_ns;
	j->cnt.guest_dropped = s->dropped;
	j->cnt.guest_bpf_lost = s->bpf_lost;
	/* what the guest made and neither dropped nor delivered */
	if (s->reqs > j->req_records + s->dropped)
		j->cnt.guest_missing = s->reqs - j->req_records - s->dropped;
	else
		j->cnt.guest_missing = 0;
	/* a replayed file says nothing about when it was written */
	if (live && now > s->mono_ns / 2 && !hci_jclock_sync(&j->c, (int64_t)(now - s->mono_ns)))
		j->cnt.clock_conflicts++;
}

static void guest_hello(struct hci_join *j, const void *rec)
{
	memcpy(&j->hello, rec, sizeof(j->hello));
	/* guest strings are NUL-terminated here, whatever was sent */
	j->hello.release[sizeof(j->hello.release) - 1] = '\0';
	j->hello.host[sizeof(j->hello.host) - 1] = '\0';
	j->have_hello = true;
}

static void guest_disk(struct hci_join *j, const void *rec)
{
	struct hci_w_disk d;
	int k;

	memcpy(&d, rec, sizeof(d));
	d.name[sizeof(d.name) - 1] = '\0';
	d.serial[sizeof(d.serial) - 1] = '\0';
	for (k = 0; k < j->ndisks && j->disks[k].dev != d.dev; k++)
		;
	if (k < MAX_DISKS) {
		j->disks[k] = d;
		if (k == j->ndisks)
			j->ndisks++;
	}
}

void hci_join_guest(struct hci_join *j, unsigned int type, const void *rec, size_t len,
		    uint64_t now, bool live)
{
	if (len != hci_wire_rec_size(type)) {
		j->cnt.bad_record++;
		return;
	}
	switch (type) {
	case HCI_WT_REQ:
		guest_req(j, rec, now);
		break;
	case HCI_WT_APP:
		guest_app(j, rec);
		break;
	case HCI_WT_SYNC:
		guest_sync(j, rec, now, live);
		break;
	case HCI_WT_HELLO:
		guest_hello(j, rec);
		break;
	case HCI_WT_DISK:
		guest_disk(j, rec);
		break;
	case HCI_WT_BYE:
		break;
	default:
		j->cnt.bad_record++;
	}
}

/* ---- matching ---- */

/* Guest D, or the start of a request the guest never dispatched. */
static int64_t guest_d(const struct gent *g)
{
	return (int64_t)(g->r.ts_d ? g->r.ts_d : hci_jreq_first_ts(&g->r));
}

/* What the index is asked about a guest request. */
static struct hci_jquery query_of(const struct gent *g)
{
	return (struct hci_jquery){
		.op = g->r.op, .off = g->r.sector << 9, .len = g->r.bytes,
		.gd = guest_d(g), .gc = (int64_t)g->r.ts_c,
	};
}

static uint64_t absdiff(int64_t a, int64_t b)
{
	return a > b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;
}

struct piece_set {
	int32_t idx[MAX_PIECES];
	size_t n;
	struct hci_jbounds b;
};

/* Cover [o, o+l) with candidates, nearest in time first; false if impossible. */
static bool choose(struct hci_join *j, const struct gent *g, const int32_t *cand, size_t nc,
		   struct piece_set *ps)
{
	uint64_t o = g->r.sector << 9, end = o + g->r.bytes, cur = o;
	struct hci_jquery q = query_of(g);
	int64_t gd = q.gd;
	struct hci_jbounds b = hci_jclock_bounds(&j->c);

	ps->n = 0;
	do {
		int32_t best = -1;
		uint64_t best_d = UINT64_MAX;
		/*
		 * Before any pair, b.lo is only the search window below the SYNC
		 * bound: the offset lies just under that bound (by the SYNC's
		 * delivery delay), as hci_join_clock() says, not mid-window.
		 */
		int64_t est = j->c.have_lo || ps->n ? hci_jbounds_middle(&b) : b.hi;

		for (size_t k = 0; k < nc; k++) {
			const struct hci_jventry *e = &j->x.v[cand[k]];
			struct hci_jbounds t = b;
			uint64_t d;

			if (g->r.bytes && (e->v.off > cur || e->v.off + e->v.len <= cur))
				continue;
			if (!hci_jfeasible(&q, &e->v, &t))
				continue;
			/* the right one has the usual notify delay: vs - gD near est */
			d = absdiff((int64_t)e->v.vs - gd, est);
			if (d < best_d) {
				best_d = d;
				best = cand[k];
			}
		}
		if (best < 0 || ps->n == MAX_PIECES)
			return false;
		hci_jfeasible(&q, &j->x.v[best].v, &b);
		ps->idx[ps->n++] = best;
		if (!g->r.bytes)
			break;
		cur = j->x.v[best].v.off + j->x.v[best].v.len;
	} while (cur < end);
	ps->b = b;
	return true;
}

/* The record of a matched request: to the statistics and to the caller. */
static void emit(struct hci_join *j, const struct gent *g, const struct piece_set *ps)
{
	const struct hci_w_req *r = &g->r;
	struct hci_jserved sv = HCI_JSERVED_INIT;
	int64_t off, unc;
	struct hci_jreq q;

	for (size_t k = 0; k < ps->n; k++)
		hci_jserved_add(&sv, &j->x.v[ps->idx[k]].v);
	hci_join_clock(j, &off, &unc);
	hci_jreq_fill(&q, r, (uint32_t)ps->n, &sv, off, unc);
	hci_jstats_add(&j->st[r->op], r->bytes == 4096 ? &j->st4k[r->op] : NULL, &q);
	if (sv.nbios && r->ts_d) {
		if (j->ninv < j->cap)
			j->inv[j->ninv++] =
				(struct hci_jorder){ .gd = r->ts_d, .hd = sv.hd ? sv.hd : sv.hq };
		else
			j->cnt.inversion_cut++;
	}
	if (j->out)
		j->out(j->ctx, &q);
}

/* The clock bounds matching g to the pieces of ps implies. */
static void pair_bounds(const struct hci_join *j, const struct gent *g,
			const struct piece_set *ps, int64_t *lo, int64_t *hi)
{
	int64_t gd = guest_d(g);

	*lo = INT64_MIN;
	*hi = INT64_MAX;
	for (size_t k = 0; k < ps->n; k++) {
		const struct hci_jvmm_in *v = &j->x.v[ps->idx[k]].v;

		if ((int64_t)v->vc - (int64_t)g->r.ts_c > *lo)
			*lo = (int64_t)v->vc - (int64_t)g->r.ts_c;
		if ((int64_t)v->vs - gd < *hi)
			*hi = (int64_t)v->vs - gd;
	}
}

static void match_one(struct hci_join *j, const struct gent *g)
{
	struct hci_jquery q = query_of(g);
	struct hci_jbounds base = hci_jclock_bounds(&j->c);
	int32_t cand[256];
	struct piece_set ps;
	int64_t lo, hi;
	size_t nc;

	if (!j->c.have_lo && !j->c.have_hi) {
		/* no clock at all yet (no SYNC seen): only an unambiguous pair */
		nc = hci_jindex_candidates(&j->x, &q, base, cand, 2);
		if (nc != 1)
			goto unmatched;
	} else {
		nc = hci_jindex_candidates(&j->x, &q, base, cand, sizeof(cand) / sizeof(cand[0]));
	}
	if (!nc || !choose(j, g, cand, nc, &ps))
		goto unmatched;
	/* commit: the clock learns from this pair (choose() kept it feasible) */
	pair_bounds(j, g, &ps, &lo, &hi);
	if (!hci_jclock_pair(&j->c, lo, hi)) {
		/* cannot happen after choose(); kept as a guard for the invariant */
		j->cnt.clock_conflicts++;
		goto unmatched;
	}
	for (size_t k = 0; k < ps.n; k++) {
		struct hci_jventry *e = &j->x.v[ps.idx[k]];

		if (e->nguest++)
			j->vol.merges++;
	}
	if (ps.n > 1)
		j->vol.splits++;
	j->cnt.matched++;
	j->vol.matched++;
	emit(j, g, &ps);
	return;
unmatched:
	j->cnt.unmatched++;
}

/*
 * The oldest VMM request leaves the index. One no guest request claimed is
 * counted with its bytes: they are in the VMM volumes and in no guest's (I/O
 * the guest issued before its tracer started, or whose event it lost).
 */
static void evict_vmm(struct hci_join *j)
{
	const struct hci_jvmm_in v = hci_jindex_oldest(&j->x)->v;

	if (hci_jindex_evict_oldest(&j->x))
		return;
	j->cnt.vmm_unmatched++;
	if (v.op != HCI_OP_FLUSH)
		j->cnt.vmm_unmatched_bytes += v.len;
}

void hci_join_poll(struct hci_join *j, uint64_t now, bool final)
{
	while (j->gn) {
		struct gent *g = &j->g[j->ghead];

		if (!final && g->arrived + SETTLE_NS > now)
			break;
		match_one(j, g);
		j->ghead = (j->ghead + 1) % j->cap;
		j->gn--;
	}
	while (j->x.vn && (final || hci_jindex_oldest(&j->x)->v.vc + HORIZON_NS < now))
		evict_vmm(j);
}

/* ---- results ---- */

bool hci_join_clock(const struct hci_join *j, int64_t *off, int64_t *unc)
{
	return hci_jclock_estimate(&j->c, off, unc);
}

void hci_join_reset_clock(struct hci_join *j)
{
	memset(&j->c, 0, sizeof(j->c));
	j->last_sync_mono = 0;
	j->req_records = 0;
}

const struct hci_jclock *hci_join_clock_state(const struct hci_join *j)
{
	return &j->c;
}

void hci_join_set_tsc(struct hci_join *j, int64_t host_minus_guest_ns)
{
	j->c.tsc = true;
	j->c.tsc_off = host_minus_guest_ns;
}

const struct hci_jcounters *hci_join_counters(const struct hci_join *j)
{
	return &j->cnt;
}

const struct hci_jstats *hci_join_stats(const struct hci_join *j, uint32_t op, bool only_4k)
{
	if (op >= HCI_NOPS)
		return NULL;
	return only_4k ? &j->st4k[op] : &j->st[op];
}

void hci_join_take_volumes(struct hci_join *j, struct hci_jvol *v)
{
	*v = j->vol;
	if (hci_jorder_inversions(j->inv, j->ninv, &v->inversions))
		v->pairs = j->ninv > 1 ? (uint64_t)j->ninv * (j->ninv - 1) / 2 : 0;
	j->ninv = 0;
	memset(&j->vol, 0, sizeof(j->vol));
}

const struct hci_w_hello *hci_join_hello(const struct hci_join *j)
{
	return j->have_hello ? &j->hello : NULL;
}

const char *hci_join_disk_name(const struct hci_join *j, uint32_t gdev, char *buf, size_t len)
{
	for (int k = 0; k < j->ndisks; k++)
		if (j->disks[k].dev == gdev && j->disks[k].name[0]) {
			snprintf(buf, len, "%s", j->disks[k].name);
			return buf;
		}
	snprintf(buf, len, "%u:%u", HCI_DEV_MAJOR(gdev), HCI_DEV_MINOR(gdev));
	return buf;
}
