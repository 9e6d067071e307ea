// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The join replayed from memory (join_replay.h): a stream is kept as frames
 * and VMM requests in host time order; each copy of it is shifted and its
 * frames encoded again before the clock starts, then fed to the wire parser
 * and the join exactly as channel.c and events.c feed them live, with a
 * poll after each read of the channel (and every 10 ms of VMM requests, as
 * hcitrace's loop wakes at least that often).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "hci_wire.h"
#include "join_replay.h"

#define POLL_NS 10000000ULL	/* hcitrace's loop wakes at least this often */
#define VOLUMES_NS 1000000000ULL	/* volumes taken as an interval of 1 s would */

static bool grow(void **p, size_t *cap, size_t want, size_t size)
{
	size_t c = *cap ? *cap : 1024;
	void *q;

	if (want <= *cap)
		return true;
	while (c < want)
		c *= 2;
	q = realloc(*p, c * size);
	if (!q)
		return false;
	*p = q;
	*cap = c;
	return true;
}

void hci_jrp_init(struct hci_jreplay *rp)
{
	memset(rp, 0, sizeof(*rp));
}

void hci_jrp_free(struct hci_jreplay *rp)
{
	free(rp->ev);
	free(rp->fr);
	free(rp->recs);
	free(rp->vmm);
	hci_jrp_init(rp);
}

static bool add_ev(struct hci_jreplay *rp, uint64_t t, uint32_t kind, size_t first)
{
	if (!grow((void **)&rp->ev, &rp->cap_ev, rp->nev + 1, sizeof(*rp->ev)))
		return false;
	rp->ev[rp->nev++] = (struct hci_jrp_ev){ .t = t, .kind = kind, .n = 1, .first = first };
	return true;
}

bool hci_jrp_add_vmm(struct hci_jreplay *rp, uint64_t t, const struct hci_jvmm_in *v)
{
	if (!grow((void **)&rp->vmm, &rp->cap_vmm, rp->nvmm + 1, sizeof(*rp->vmm)) ||
	    !add_ev(rp, t, HCI_JRP_VMM, rp->nvmm))
		return false;
	rp->vmm[rp->nvmm++] = *v;
	rp->frame_open = false;
	return true;
}

bool hci_jrp_add_restart(struct hci_jreplay *rp)
{
	rp->frame_open = false;
	return add_ev(rp, rp->nev ? rp->ev[rp->nev - 1].t : 0, HCI_JRP_RESTART, 0);
}

/* A record: one more of the last frame (same read, seq and type), or a new frame. */
bool hci_jrp_add_frame(struct hci_jreplay *rp, uint64_t t, unsigned int type, uint32_t seq,
		       const void *recs, size_t len)
{
	struct hci_jrp_frame *f = rp->nfr ? &rp->fr[rp->nfr - 1] : NULL;
	size_t rs = hci_wire_rec_size(type);
	bool array = type == HCI_WT_REQ || type == HCI_WT_APP;

	if (!rs || len % rs || !len || (!array && len != rs))
		return false;
	if (!grow((void **)&rp->recs, &rp->cap_recs, rp->nrecs + len, 1))
		return false;
	memcpy(rp->recs + rp->nrecs, recs, len);
	if (type == HCI_WT_REQ)
		rp->reqs += len / rs;
	else if (type == HCI_WT_APP)
		rp->apps += len / rs;
	if (rp->frame_open && array && f && f->seq == seq && f->type == type &&
	    f->nrec + len / rs <= HCI_WIRE_MAX_RECS) {
		f->nrec += (uint32_t)(len / rs);
		rp->nrecs += len;
		return true;
	}
	if (!grow((void **)&rp->fr, &rp->cap_fr, rp->nfr + 1, sizeof(*rp->fr)))
		return false;
	if (rp->frame_open) {
		rp->ev[rp->nev - 1].n++;
	} else {
		if (!add_ev(rp, t, HCI_JRP_GUEST, rp->nfr))
			return false;
		rp->frame_open = true;
	}
	rp->fr[rp->nfr++] = (struct hci_jrp_frame){
		.type = type, .nrec = (uint32_t)(len / rs), .seq = seq, .off = rp->nrecs,
	};
	rp->nrecs += len;
	return true;
}

struct bytes_ctx {
	struct hci_jreplay *rp;
	uint64_t t;
	bool ok;
};

static void on_parsed(void *ctx, unsigned int type, uint32_t seq, const void *rec, size_t len)
{
	struct bytes_ctx *b = ctx;

	if (!hci_jrp_add_frame(b->rp, b->t, type, seq, rec, len))
		b->ok = false;
}

bool hci_jrp_add_bytes(struct hci_jreplay *rp, struct hci_wire_parser *p, uint64_t t,
		       const void *buf, size_t n)
{
	struct bytes_ctx b = { rp, t, true };

	hci_jrp_end_read(rp);
	hci_wire_feed(p, buf, n, on_parsed, &b);
	hci_jrp_end_read(rp);
	return b.ok;
}

/* ---- one shifted copy ---- */

struct shift {
	uint64_t dt;		/* added to every time, both clocks */
	uint32_t dseq;
	uint64_t dreqs, dapps, ddropped;
};

static void at(uint64_t *ts, uint64_t dt)
{
	if (*ts)
		*ts += dt;
}

/* A record of the copy: its times later by dt, the guest's counters carried on. */
static void shift_rec(void *rec, unsigned int type, const struct shift *s)
{
	switch (type) {
	case HCI_WT_REQ: {
		struct hci_w_req *r = rec;

		at(&r->ts_q, s->dt);
		at(&r->ts_g, s->dt);
		at(&r->ts_i, s->dt);
		at(&r->ts_d, s->dt);
		at(&r->ts_c, s->dt);
		break;
	}
	case HCI_WT_APP:
		at(&((struct hci_w_app *)rec)->ts, s->dt);
		break;
	case HCI_WT_SYNC: {
		struct hci_w_sync *y = rec;

		at(&y->mono_ns, s->dt);
		y->reqs += s->dreqs;
		y->apps += s->dapps;
		y->dropped += s->ddropped;
		break;
	}
	case HCI_WT_HELLO:
		at(&((struct hci_w_hello *)rec)->mono_ns, s->dt);
		at(&((struct hci_w_hello *)rec)->real_ns, s->dt);
		break;
	case HCI_WT_BYE:
		at(&((struct hci_w_bye *)rec)->mono_ns, s->dt);
		break;
	}
}

/* A copy, ready to feed: each GUEST event's bytes, the shifted VMM requests. */
struct copy {
	uint8_t *bytes;
	size_t nbytes, cap;
	size_t *ev_off;		/* per event: its bytes start (GUEST) */
	struct hci_jvmm_in *vmm;
};

static bool encode_frame(const struct hci_jreplay *rp, const struct hci_jrp_frame *f,
			 const struct shift *s, struct copy *c)
{
	uint8_t recs[HCI_WIRE_MAX_PAYLOAD];
	size_t rs = hci_wire_rec_size(f->type), len = rs * f->nrec, n;

	if (len > sizeof(recs) ||
	    !grow((void **)&c->bytes, &c->cap, c->nbytes + HCI_WIRE_MAX_FRAME, 1))
		return false;
	memcpy(recs, rp->recs + f->off, len);
	for (size_t k = 0; k < f->nrec; k++)
		shift_rec(recs + k * rs, f->type, s);
	n = hci_wire_frame(c->bytes + c->nbytes, HCI_WIRE_MAX_FRAME, f->type, f->seq + s->dseq,
			   recs, f->nrec);
	if (!n)
		return false;
	c->nbytes += n;
	return true;
}

static bool build_copy(const struct hci_jreplay *rp, const struct shift *s, struct copy *c)
{
	c->nbytes = 0;
	for (size_t e = 0; e < rp->nev; e++) {
		const struct hci_jrp_ev *ev = &rp->ev[e];

		c->ev_off[e] = c->nbytes;
		if (ev->kind == HCI_JRP_RESTART)
			continue;
		if (ev->kind == HCI_JRP_VMM) {
			struct hci_jvmm_in *v = &c->vmm[ev->first];

			*v = rp->vmm[ev->first];
			at(&v->vs, s->dt);
			at(&v->vc, s->dt);
			at(&v->hq, s->dt);
			at(&v->hd, s->dt);
			at(&v->hc, s->dt);
			continue;
		}
		for (size_t k = 0; k < ev->n; k++)
			if (!encode_frame(rp, &rp->fr[ev->first + k], s, c))
				return false;
	}
	c->ev_off[rp->nev] = c->nbytes;
	return true;
}

/* ---- feeding ---- */

struct feed {
	struct hci_join *j;
	struct hci_wire_parser *p;
	bool live;
	uint64_t now;
	uint64_t last_poll, next_volumes;
	struct hci_jvol vol;
};

/* channel.c's on_record, without the KVM TSC (a replay has no VM to ask) */
static void on_record(void *ctx, unsigned int type, uint32_t seq, const void *rec, size_t len)
{
	struct feed *f = ctx;

	if (type == HCI_WT_HELLO && seq == 0 && f->p->st.frames > 1)
		hci_join_reset_clock(f->j);
	hci_join_guest(f->j, type, rec, len, f->now, f->live);
}

_Static_assert(sizeof(struct hci_jvol) % sizeof(uint64_t) == 0, "volumes: counters only");

/* An interval's volumes, as hcitrace -i 1 takes them, summed into f->vol */
static void take_volumes(struct feed *f)
{
	const uint64_t *a;
	uint64_t *sum = (uint64_t *)&f->vol;
	struct hci_jvol v;

	hci_join_take_volumes(f->j, &v);
	a = (const uint64_t *)&v;
	for (size_t i = 0; i < sizeof(v) / sizeof(*a); i++)
		sum[i] += a[i];
}

static void poll_at(struct feed *f, uint64_t t)
{
	hci_join_poll(f->j, t, false);
	f->last_poll = t;
	if (t >= f->next_volumes) {
		take_volumes(f);
		f->next_volumes = t + VOLUMES_NS;
	}
}

static void feed_copy(const struct hci_jreplay *rp, const struct copy *c, uint64_t dt,
		      struct feed *f)
{
	for (size_t e = 0; e < rp->nev; e++) {
		const struct hci_jrp_ev *ev = &rp->ev[e];
		uint64_t t = ev->t + dt;

		if (ev->kind == HCI_JRP_RESTART) {
			hci_wire_init(f->p);
			continue;
		}
		if (ev->kind == HCI_JRP_VMM) {
			hci_join_vmm(f->j, &c->vmm[ev->first]);
			if (t >= f->last_poll + POLL_NS)
				poll_at(f, t);
			continue;
		}
		f->now = t;
		hci_wire_feed(f->p, c->bytes + c->ev_off[e], c->ev_off[e + 1] - c->ev_off[e],
			      on_record, f);
		poll_at(f, t);
	}
}

/* Widen [lo, hi] by a guest time; times past 2^62 are garbage the join refuses anyway. */
static void span_of(uint64_t ts, uint64_t *lo, uint64_t *hi)
{
	if (!ts || ts >> 62)
		return;
	*lo = ts < *lo ? ts : *lo;
	*hi = ts > *hi ? ts : *hi;
}

/* The guest times a record carries, into [lo, hi]. */
static void rec_span(unsigned int type, const uint8_t *rec, uint64_t *lo, uint64_t *hi)
{
	const struct hci_w_req *r = (const void *)rec;

	switch (type) {
	case HCI_WT_REQ:
		span_of(r->ts_q, lo, hi);
		span_of(r->ts_g, lo, hi);
		span_of(r->ts_i, lo, hi);
		span_of(r->ts_d, lo, hi);
		span_of(r->ts_c, lo, hi);
		break;
	case HCI_WT_APP:
		span_of(((const struct hci_w_app *)rec)->ts, lo, hi);
		break;
	case HCI_WT_SYNC:
		span_of(((const struct hci_w_sync *)rec)->mono_ns, lo, hi);
		break;
	case HCI_WT_HELLO:
		span_of(((const struct hci_w_hello *)rec)->mono_ns, lo, hi);
		break;
	case HCI_WT_BYE:
		span_of(((const struct hci_w_bye *)rec)->mono_ns, lo, hi);
		break;
	}
}

/*
 * What one copy adds: a time past the stream's end in both clocks (the
 * host's events and the guest's records: a guest's first SYNC can be
 * older than the host's first event), frame numbers, SYNC counters.
 */
static struct shift copy_unit(const struct hci_jreplay *rp)
{
	uint32_t seq_lo = UINT32_MAX, seq_hi = 0;
	uint64_t drop_lo = UINT64_MAX, drop_hi = 0, g_lo = UINT64_MAX, g_hi = 0, span;
	struct shift s = { 0 };

	if (!rp->nev)
		return s;
	for (size_t i = 0; i < rp->nfr; i++) {
		const struct hci_jrp_frame *f = &rp->fr[i];
		size_t rs = hci_wire_rec_size(f->type);

		seq_lo = f->seq < seq_lo ? f->seq : seq_lo;
		seq_hi = f->seq > seq_hi ? f->seq : seq_hi;
		for (size_t k = 0; k < f->nrec; k++)
			rec_span(f->type, rp->recs + f->off + k * rs, &g_lo, &g_hi);
		if (f->type == HCI_WT_SYNC) {
			const struct hci_w_sync *y = (const void *)(rp->recs + f->off);

			drop_lo = y->dropped < drop_lo ? y->dropped : drop_lo;
			drop_hi = y->dropped > drop_hi ? y->dropped : drop_hi;
		}
	}
	span = rp->ev[rp->nev - 1].t - rp->ev[0].t;
	if (g_hi >= g_lo && g_hi - g_lo > span)
		span = g_hi - g_lo;
	s.dt = span + POLL_NS;
	s.dseq = rp->nfr ? seq_hi - seq_lo + 1 : 0;
	s.dreqs = rp->reqs;
	s.dapps = rp->apps;
	s.ddropped = drop_hi >= drop_lo ? drop_hi - drop_lo : 0;
	return s;
}

static struct shift times(const struct shift *u, unsigned int k)
{
	return (struct shift){ .dt = k * u->dt, .dseq = k * u->dseq, .dreqs = k * u->dreqs,
			       .dapps = k * u->dapps, .ddropped = k * u->ddropped };
}

/* ---- compression in time ---- */

struct squeeze {
	uint64_t h0, g0;	/* the stream's start, host and guest clock */
	double x;
};

static void sq(uint64_t *ts, uint64_t base, double x)
{
	if (*ts && *ts >= base && !(*ts >> 62))
		*ts = base + (uint64_t)((double)(*ts - base) / x);
}

static void squeeze_rec(void *rec, unsigned int type, const struct squeeze *z)
{
	struct hci_w_req *r = rec;

	switch (type) {
	case HCI_WT_REQ:
		sq(&r->ts_q, z->g0, z->x);
		sq(&r->ts_g, z->g0, z->x);
		sq(&r->ts_i, z->g0, z->x);
		sq(&r->ts_d, z->g0, z->x);
		sq(&r->ts_c, z->g0, z->x);
		break;
	case HCI_WT_APP:
		sq(&((struct hci_w_app *)rec)->ts, z->g0, z->x);
		break;
	case HCI_WT_SYNC:
		sq(&((struct hci_w_sync *)rec)->mono_ns, z->g0, z->x);
		break;
	case HCI_WT_HELLO:
		sq(&((struct hci_w_hello *)rec)->mono_ns, z->g0, z->x);
		break;
	case HCI_WT_BYE:
		sq(&((struct hci_w_bye *)rec)->mono_ns, z->g0, z->x);
		break;
	}
}

double hci_jrp_compress(struct hci_jreplay *rp, double rate)
{
	struct squeeze z = { .h0 = UINT64_MAX, .g0 = UINT64_MAX };
	uint64_t g_hi = 0, span;

	for (size_t e = 0; e < rp->nev; e++)
		z.h0 = rp->ev[e].t < z.h0 ? rp->ev[e].t : z.h0;
	for (size_t i = 0; i < rp->nvmm; i++) {
		const uint64_t ts[] = { rp->vmm[i].vs, rp->vmm[i].hq, rp->vmm[i].hd };

		for (size_t k = 0; k < 3; k++)
			z.h0 = ts[k] && ts[k] < z.h0 ? ts[k] : z.h0;
	}
	for (size_t i = 0; i < rp->nfr; i++) {
		size_t rs = hci_wire_rec_size(rp->fr[i].type);

		for (size_t k = 0; k < rp->fr[i].nrec; k++)
			rec_span(rp->fr[i].type, rp->recs + rp->fr[i].off + k * rs, &z.g0, &g_hi);
	}
	if (!rp->nev || !rp->reqs || z.g0 > g_hi)
		return 1;
	span = rp->ev[rp->nev - 1].t - rp->ev[0].t;
	z.x = span ? rate * (double)span / 1e9 / (double)rp->reqs : 1;
	if (z.x <= 1)
		return 1;
	for (size_t e = 0; e < rp->nev; e++)
		sq(&rp->ev[e].t, z.h0, z.x);
	for (size_t i = 0; i < rp->nvmm; i++) {
		struct hci_jvmm_in *v = &rp->vmm[i];

		sq(&v->vs, z.h0, z.x);
		sq(&v->vc, z.h0, z.x);
		sq(&v->hq, z.h0, z.x);
		sq(&v->hd, z.h0, z.x);
		sq(&v->hc, z.h0, z.x);
	}
	for (size_t i = 0; i < rp->nfr; i++) {
		size_t rs = hci_wire_rec_size(rp->fr[i].type);

		for (size_t k = 0; k < rp->fr[i].nrec; k++)
			squeeze_rec(rp->recs + rp->fr[i].off + k * rs, rp->fr[i].type, &z);
	}
	return z.x;
}

static double cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void copy_free(struct copy *c)
{
	free(c->bytes);
	free(c->ev_off);
	free(c->vmm);
}

bool hci_jrp_run(const struct hci_jreplay *rp, size_t max_pending, unsigned int repeats,
		 hci_join_out out, void *ctx, struct hci_jrp_result *res)
{
	struct shift unit = copy_unit(rp);
	struct copy c = { 0 };
	struct feed f = { .live = rp->live };
	bool ok = false;
	uint64_t t_end = 0;

	memset(res, 0, sizeof(*res));
	c.ev_off = calloc(rp->nev + 1, sizeof(*c.ev_off));
	c.vmm = calloc(rp->nvmm + 1, sizeof(*c.vmm));
	f.p = malloc(sizeof(*f.p));
	f.j = hci_join_new(max_pending, out, ctx);
	if (!c.ev_off || !c.vmm || !f.p || !f.j)
		goto out;
	hci_wire_init(f.p);
	if (rp->nev)
		f.next_volumes = rp->ev[0].t + VOLUMES_NS;
	for (unsigned int k = 0; k < repeats; k++) {
		struct shift s = times(&unit, k);
		double c0, w0;

		if (!build_copy(rp, &s, &c))
			goto out;
		c0 = cpu_now();
		w0 = wall_now();
		feed_copy(rp, &c, s.dt, &f);
		if (k + 1 == repeats) {
			t_end = rp->nev ? rp->ev[rp->nev - 1].t + s.dt : 0;
			hci_join_poll(f.j, t_end, true);
			take_volumes(&f);
		}
		res->cpu_s += cpu_now() - c0;
		res->wall_s += wall_now() - w0;
	}
	res->shift_ns = unit.dt;
	res->repeats = repeats;
	res->cnt = *hci_join_counters(f.j);
	res->clock = *hci_join_clock_state(f.j);
	res->vol = f.vol;
	for (uint32_t op = 0; op < HCI_NOPS; op++) {
		res->st[op] = *hci_join_stats(f.j, op, false);
		res->st4k[op] = *hci_join_stats(f.j, op, true);
	}
	res->join_bytes = hci_join_mem_bytes(f.j);
	ok = true;
out:
	hci_join_free(f.j);
	free(f.p);
	copy_free(&c);
	return ok;
}
