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
 * what overflows is dropped and counted. VMM requests are found by a hash of
 * (op, 64 KiB block of the offset) chained through the ring, so a lookup costs the
 * requests of a few MiB, never a scan of the window.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hci_hist.h"
#include "join.h"

#define SETTLE_NS 250000000ULL	/* guest records wait this long for their VMM side */
#define HORIZON_NS 3000000000ULL	/* VMM requests wait this long for a guest */
#define NOBOUND_WINDOW 1000000000LL	/* before any pair: this far below the SYNC bound */
#define MAX_PIECES 64		/* VMM requests one guest request may split into */
#define MAX_DISKS 32
#define BLOCK_SHIFT 16	/* hash buckets of 64 KiB: short chains at high IOPS */

const char *const hci_jstage_names[HCI_NJSTAGES] = {
	[HCI_J_GUEST] = "guest",
	[HCI_J_NOTIFY] = "notify",
	[HCI_J_V2Q] = "vmm_submit",
	[HCI_J_HQ2D] = "host_queue",
	[HCI_J_HD2C] = "device",
	[HCI_J_C2V] = "vmm_complete",
	[HCI_J_VCACHED] = "vmm_cached",
	[HCI_J_IRQ] = "irq",
	[HCI_J_TOTAL] = "total",
	[HCI_J_TAX] = "tax",
};

struct gent {
	struct hci_w_req r;
	uint64_t arrived;
};

struct ventry {
	struct hci_jvmm_in v;
	uint64_t blk;
	uint32_t nguest;
	int32_t hnext, hprev;
};

struct ipair {
	uint64_t gd, hd;
};

struct hci_join {
	size_t cap;
	struct gent *g;
	size_t ghead, gn;
	struct ventry *v;
	size_t vhead, vn;
	int32_t *heads;
	uint64_t hmask;
	uint64_t max_span;	/* longest VMM request seen, in hash blocks */
	struct hci_jclock c;
	struct hci_jcounters cnt;
	struct hci_jstats st[HCI_NOPS];
	struct hci_jstats st4k[HCI_NOPS];	/* 4 KiB requests: the breakdown */
	struct hci_jvol vol;
	struct ipair *inv;
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

static uint64_t hkey(uint32_t op, uint64_t blk)
{
	return ((blk * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)op << 59)) >> 7;
}

struct hci_join *hci_join_new(size_t max_pending, hci_join_out out, void *ctx)
{
	struct hci_join *j = calloc(1, sizeof(*j));
	size_t hn = 16;

	if (!j)
		return NULL;
	while (hn < max_pending * 2)
		hn <<= 1;
	j->cap = max_pending;
	j->g = calloc(max_pending, sizeof(*j->g));
	j->v = calloc(max_pending, sizeof(*j->v));
	j->heads = malloc(hn * sizeof(*j->heads));
	j->inv = calloc(max_pending, sizeof(*j->inv));
	if (!j->g || !j->v || !j->heads || !j->inv) {
		hci_join_free(j);
		return NULL;
	}
	memset(j->heads, 0xff, hn * sizeof(*j->heads));
	j->hmask = hn - 1;
	j->max_span = 1;
	j->out = out;
	j->ctx = ctx;
	return j;
}

void hci_join_free(struct hci_join *j)
{
	if (!j)
		return;
	free(j->g);
	free(j->v);
	free(j->heads);
	free(j->inv);
	free(j);
}

/* ---- the VMM side ---- */

static void vunlink(struct hci_join *j, int32_t i)
{
	struct ventry *e = &j->v[i];

	if (e->hprev >= 0)
		j->v[e->hprev].hnext = e->hnext;
	else
		j->heads[hkey(e->v.op, e->blk) & j->hmask] = e->hnext;
	if (e->hnext >= 0)
		j->v[e->hnext].hprev = e->hprev;
}

static void vevict_oldest(struct hci_join *j, bool overflow)
{
	int32_t i = (int32_t)j->vhead;

	if (!j->v[i].nguest) {
		if (overflow)
			j->cnt.vmm_overflow++;
		else
			j->cnt.vmm_unmatched++;
	}
	vunlink(j, i);
	j->vhead = (j->vhead + 1) % j->cap;
	j->vn--;
}

void hci_join_vmm(struct hci_join *j, const struct hci_jvmm_in *in)
{
	struct ventry *e;
	uint64_t span, b;
	int32_t i;

	if (in->op != HCI_OP_READ && in->op != HCI_OP_WRITE && in->op != HCI_OP_FLUSH)
		return;
	j->cnt.vmm_reqs++;
	if (in->op != HCI_OP_FLUSH)
		j->vol.vmm[in->op] += in->len;
	if (j->vn == j->cap)
		vevict_oldest(j, true);
	i = (int32_t)((j->vhead + j->vn) % j->cap);
	e = &j->v[i];
	memset(e, 0, sizeof(*e));
	e->v = *in;
	e->blk = in->off >> BLOCK_SHIFT;
	span = in->len ? ((in->off + in->len - 1) >> BLOCK_SHIFT) - e->blk + 1 : 1;
	if (span > j->max_span)
		j->max_span = span > 65536 ? 65536 : span;
	b = hkey(in->op, e->blk) & j->hmask;
	e->hprev = -1;
	e->hnext = j->heads[b];
	if (e->hnext >= 0)
		j->v[e->hnext].hprev = i;
	j->heads[b] = i;
	j->vn++;
}

/* ---- the guest side: validation of untrusted records ---- */

static uint64_t first_ts(const struct hci_w_req *r)
{
	return r->ts_q ? r->ts_q : r->ts_g ? r->ts_g : r->ts_i ? r->ts_i : r->ts_d;
}

static bool req_valid(const struct hci_w_req *r)
{
	const uint64_t max_ns = 600ULL * 1000000000ULL;
	uint64_t s = first_ts(r);
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

static void sync_bound(struct hci_join *j, int64_t hi)
{
	if (j->c.have_lo && hi < j->c.lo) {
		j->cnt.clock_conflicts++;
		return;
	}
	if (!j->c.have_hi || hi < j->c.hi)
		j->c.hi = hi;
	j->c.have_hi = true;
	j->c.syncs++;
}

void hci_join_guest(struct hci_join *j, unsigned int type, const void *rec, size_t len,
		    uint64_t now, bool live)
{
	if (len != hci_wire_rec_size(type)) {
		j->cnt.bad_record++;
		return;
	}
	switch (type) {
	case HCI_WT_REQ: {
		const struct hci_w_req *r = rec;
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
		break;
	}
	case HCI_WT_APP: {
		const struct hci_w_app *a = rec;

		if ((a->op != HCI_OP_READ && a->op != HCI_OP_WRITE) || a->bytes > (1ULL << 31)) {
			j->cnt.bad_record++;
			return;
		}
		j->cnt.app_recs++;
		j->vol.app[a->op] += a->bytes;
		break;
	}
	case HCI_WT_SYNC: {
		const struct hci_w_sync *s = rec;

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
		if (live && now > s->mono_ns / 2)
			sync_bound(j, (int64_t)(now - s->mono_ns));
		break;
	}
	case HCI_WT_HELLO:
		memcpy(&j->hello, rec, sizeof(j->hello));
		/* guest strings are NUL-terminated here, whatever was sent */
		j->hello.release[sizeof(j->hello.release) - 1] = '\0';
		j->hello.host[sizeof(j->hello.host) - 1] = '\0';
		j->have_hello = true;
		break;
	case HCI_WT_DISK: {
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
		break;
	}
	case HCI_WT_BYE:
		break;
	default:
		j->cnt.bad_record++;
	}
}

/* ---- matching ---- */

struct bounds {
	int64_t lo, hi;		/* feasible offsets; INT64_MIN/MAX = open */
};

static struct bounds cur_bounds(const struct hci_join *j)
{
	struct bounds b = { INT64_MIN, INT64_MAX };

	if (j->c.have_lo)
		b.lo = j->c.lo;
	if (j->c.have_hi) {
		b.hi = j->c.hi;
		if (!j->c.have_lo)
			b.lo = j->c.hi - NOBOUND_WINDOW;
	}
	return b;
}

/* Narrow b by what matching r to VMM request v would imply; false if empty. */
static bool feasible(const struct gent *g, const struct hci_jvmm_in *v, struct bounds *b)
{
	int64_t gd = (int64_t)(g->r.ts_d ? g->r.ts_d : first_ts(&g->r));
	int64_t hi = (int64_t)v->vs - gd, lo = (int64_t)v->vc - (int64_t)g->r.ts_c;

	if (hi < b->hi)
		b->hi = hi;
	if (lo > b->lo)
		b->lo = lo;
	return b->lo <= b->hi;
}

static int64_t est_of(const struct bounds *b)
{
	if (b->lo == INT64_MIN)
		return b->hi;
	if (b->hi == INT64_MAX)
		return b->lo;
	return b->lo + (b->hi - b->lo) / 2;
}

static uint64_t absdiff(int64_t a, int64_t b)
{
	return a > b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;
}

/*
 * Candidates for guest byte range [o, o+l) of op: VMM requests overlapping it
 * that are feasible against the current bounds.
 */
static size_t candidates(struct hci_join *j, const struct gent *g, int32_t *out, size_t max)
{
	uint64_t o = g->r.sector << 9, l = g->r.bytes, first, last, m;
	struct bounds base = cur_bounds(j);
	size_t n = 0;

	first = o >> BLOCK_SHIFT;
	last = l ? (o + l - 1) >> BLOCK_SHIFT : first;
	first = first >= j->max_span ? first - j->max_span + 1 : 0;
	for (m = first; m <= last && n < max; m++) {
		for (int32_t i = j->heads[hkey(g->r.op, m) & j->hmask]; i >= 0 && n < max;
		     i = j->v[i].hnext) {
			const struct ventry *e = &j->v[i];
			struct bounds b = base;

			if (e->blk != m || e->v.op != g->r.op)
				continue;
			if (l && (e->v.off >= o + l || e->v.off + e->v.len <= o))
				continue;
			if (!feasible(g, &e->v, &b))
				continue;
			out[n++] = i;
		}
	}
	return n;
}

struct piece_set {
	int32_t idx[MAX_PIECES];
	size_t n;
	struct bounds b;
};

/* Cover [o, o+l) with candidates, nearest in time first; false if impossible. */
static bool choose(struct hci_join *j, const struct gent *g, const int32_t *cand, size_t nc,
		   struct piece_set *ps)
{
	uint64_t o = g->r.sector << 9, end = o + g->r.bytes, cur = o;
	int64_t gd = (int64_t)(g->r.ts_d ? g->r.ts_d : first_ts(&g->r));
	struct bounds b = cur_bounds(j);

	ps->n = 0;
	do {
		int32_t best = -1;
		uint64_t best_d = UINT64_MAX;
		/*
		 * Before any pair, b.lo is only the search window below the SYNC
		 * bound: the offset lies just under that bound (by the SYNC's
		 * delivery delay), as hci_join_clock() says, not mid-window.
		 */
		int64_t est = j->c.have_lo || ps->n ? est_of(&b) : b.hi;

		for (size_t k = 0; k < nc; k++) {
			const struct ventry *e = &j->v[cand[k]];
			struct bounds t = b;
			uint64_t d;

			if (g->r.bytes && (e->v.off > cur || e->v.off + e->v.len <= cur))
				continue;
			if (!feasible(g, &e->v, &t))
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
		feasible(g, &j->v[best].v, &b);
		ps->idx[ps->n++] = best;
		if (!g->r.bytes)
			break;
		cur = j->v[best].v.off + j->v[best].v.len;
	} while (cur < end);
	ps->b = b;
	return true;
}

static void stat_add(struct hci_jstats *s, const struct hci_jreq *q)
{
	s->n++;
	for (int k = 0; k < HCI_NJSTAGES; k++) {
		if (!(q->present & (1u << k)))
			continue;
		s->count[k]++;
		s->sum_ns[k] += q->ns[k];
		s->slots[k][hci_bucket_of_ns(q->ns[k] > 0 ? (uint64_t)q->ns[k] : 0)]++;
	}
}

static void set(struct hci_jreq *q, int k, int64_t v)
{
	q->ns[k] = v;
	q->present |= 1u << k;
}

static void emit(struct hci_join *j, const struct gent *g, const struct piece_set *ps)
{
	const struct hci_w_req *r = &g->r;
	uint64_t vs = UINT64_MAX, vc = 0, hq = UINT64_MAX, hd = 0, hc = 0, nbios = 0;
	int64_t off, unc, gs = (int64_t)first_ts(r), gd = r->ts_d ? (int64_t)r->ts_d : gs;
	struct hci_jreq q;

	for (size_t k = 0; k < ps->n; k++) {
		const struct hci_jvmm_in *v = &j->v[ps->idx[k]].v;

		vs = v->vs < vs ? v->vs : vs;
		vc = v->vc > vc ? v->vc : vc;
		if (v->nbios && v->hq && v->hc) {
			hq = v->hq < hq ? v->hq : hq;
			hc = v->hc > hc ? v->hc : hc;
			if (v->hd > hd)
				hd = v->hd;
			nbios += v->nbios;
		}
	}
	hci_join_clock(j, &off, &unc);
	memset(&q, 0, sizeof(q));
	q.gdev = r->dev;
	q.op = r->op;
	q.off = r->sector << 9;
	q.bytes = r->bytes;
	q.nvmm = (uint32_t)ps->n;
	q.t_start = (uint64_t)(gs + off);
	q.clock_off = off;
	q.clock_unc = unc;
	if (r->ts_d)
		set(&q, HCI_J_GUEST, gd - gs);
	set(&q, HCI_J_NOTIFY, (int64_t)vs - (gd + off));
	if (nbios) {
		set(&q, HCI_J_V2Q, (int64_t)(hq - vs));
		if (hd >= hq && hd <= hc) {
			set(&q, HCI_J_HQ2D, (int64_t)(hd - hq));
			set(&q, HCI_J_HD2C, (int64_t)(hc - hd));
		} else {
			set(&q, HCI_J_HD2C, (int64_t)(hc - hq));
		}
		set(&q, HCI_J_C2V, (int64_t)(vc - hc));
	} else {
		set(&q, HCI_J_VCACHED, (int64_t)(vc - vs));
	}
	set(&q, HCI_J_IRQ, (int64_t)r->ts_c + off - (int64_t)vc);
	set(&q, HCI_J_TOTAL, (int64_t)r->ts_c - gs);
	set(&q, HCI_J_TAX, q.ns[HCI_J_TOTAL] - (nbios ? q.ns[HCI_J_HD2C] : 0));
	stat_add(&j->st[r->op], &q);
	if (r->bytes == 4096)
		stat_add(&j->st4k[r->op], &q);
	if (nbios && r->ts_d) {
		if (j->ninv < j->cap)
			j->inv[j->ninv++] = (struct ipair){ .gd = r->ts_d, .hd = hd ? hd : hq };
		else
			j->cnt.inversion_cut++;
	}
	if (j->out)
		j->out(j->ctx, &q);
}

static void match_one(struct hci_join *j, const struct gent *g)
{
	int32_t cand[256];
	struct piece_set ps;
	size_t nc;

	if (!j->c.have_lo && !j->c.have_hi) {
		/* no clock at all yet (no SYNC seen): only an unambiguous pair */
		nc = candidates(j, g, cand, 2);
		if (nc != 1)
			goto unmatched;
	} else {
		nc = candidates(j, g, cand, sizeof(cand) / sizeof(cand[0]));
	}
	if (!nc || !choose(j, g, cand, nc, &ps))
		goto unmatched;
	/* commit: the clock learns from this pair (choose() kept it feasible) */
	{
		int64_t gd = (int64_t)(g->r.ts_d ? g->r.ts_d : first_ts(&g->r));
		int64_t lo = INT64_MIN, hi = INT64_MAX;

		for (size_t k = 0; k < ps.n; k++) {
			const struct hci_jvmm_in *v = &j->v[ps.idx[k]].v;

			if ((int64_t)v->vc - (int64_t)g->r.ts_c > lo)
				lo = (int64_t)v->vc - (int64_t)g->r.ts_c;
			if ((int64_t)v->vs - gd < hi)
				hi = (int64_t)v->vs - gd;
		}
		if (j->c.have_lo && j->c.lo > lo)
			lo = j->c.lo;
		if (j->c.have_hi && j->c.hi < hi)
			hi = j->c.hi;
		if (lo > hi) {
			/* cannot happen after choose(); kept as a guard for the invariant */
			j->cnt.clock_conflicts++;
			goto unmatched;
		}
		j->c.lo = lo;
		j->c.hi = hi;
		j->c.have_lo = j->c.have_hi = true;
	}
	j->c.pairs++;
	for (size_t k = 0; k < ps.n; k++) {
		struct ventry *e = &j->v[ps.idx[k]];

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
	while (j->vn && (final || j->v[j->vhead].v.vc + HORIZON_NS < now))
		vevict_oldest(j, false);
}

/* ---- results ---- */

bool hci_join_clock(const struct hci_join *j, int64_t *off, int64_t *unc)
{
	const struct hci_jclock *c = &j->c;

	*off = 0;
	*unc = INT64_MAX;
	if (c->have_lo && c->have_hi) {
		*off = c->lo + (c->hi - c->lo) / 2;
		*unc = (c->hi - c->lo + 1) / 2;
	} else if (c->have_hi) {
		*off = c->hi;
	} else if (c->have_lo) {
		*off = c->lo;
	}
	/*
	 * KVM's TSC offset, when it agrees with causality, is the estimate. Its
	 * stated uncertainty stays causal: the distance to the farther bound,
	 * so [off - unc, off + unc] still holds every offset causality allows.
	 */
	if (c->tsc && (!c->have_lo || c->tsc_off >= c->lo) &&
	    (!c->have_hi || c->tsc_off <= c->hi)) {
		*off = c->tsc_off;
		*unc = INT64_MAX;
		if (c->have_lo && c->have_hi)
			*unc = c->tsc_off - c->lo > c->hi - c->tsc_off ? c->tsc_off - c->lo :
									c->hi - c->tsc_off;
	}
	return c->have_lo || c->have_hi || c->tsc;
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

static int cmp_gd(const void *a, const void *b)
{
	const struct ipair *x = a, *y = b;

	return x->gd < y->gd ? -1 : x->gd > y->gd;
}

static uint64_t merge_count(uint64_t *a, uint64_t *tmp, size_t n)
{
	size_t mid = n / 2, i = 0, k = 0, r;
	uint64_t inv;

	if (n < 2)
		return 0;
	inv = merge_count(a, tmp, mid) + merge_count(a + mid, tmp, n - mid);
	r = mid;
	while (i < mid && r < n) {
		if (a[r] < a[i]) {
			tmp[k++] = a[r++];
			inv += mid - i;
		} else {
			tmp[k++] = a[i++];
		}
	}
	while (i < mid)
		tmp[k++] = a[i++];
	while (r < n)
		tmp[k++] = a[r++];
	memcpy(a, tmp, n * sizeof(*a));
	return inv;
}

uint64_t hci_count_inversions(uint64_t *a, size_t n)
{
	uint64_t *tmp, inv;

	if (n < 2)
		return 0;
	tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		return 0;
	inv = merge_count(a, tmp, n);
	free(tmp);
	return inv;
}

void hci_join_take_volumes(struct hci_join *j, struct hci_jvol *v)
{
	uint64_t *hd = malloc((j->ninv + 1) * sizeof(*hd));

	*v = j->vol;
	if (hd) {
		qsort(j->inv, j->ninv, sizeof(*j->inv), cmp_gd);
		for (size_t i = 0; i < j->ninv; i++)
			hd[i] = j->inv[i].hd;
		v->inversions = hci_count_inversions(hd, j->ninv);
		v->pairs = j->ninv > 1 ? (uint64_t)j->ninv * (j->ninv - 1) / 2 : 0;
		free(hd);
	}
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

int64_t hci_tsc_clock_offset(uint64_t tsc_g, uint64_t mono_g, int64_t tsc_offset,
			     uint64_t tsc_h0, uint64_t mono_h0, double ns_per_tick)
{
	int64_t tsc_h = (int64_t)(tsc_g - (uint64_t)tsc_offset);
	double host = (double)mono_h0 + (double)(tsc_h - (int64_t)tsc_h0) * ns_per_tick;

	return (int64_t)host - (int64_t)mono_g;
}
