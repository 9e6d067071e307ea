/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The cross-layer join (trace/join.c) driven by a synthetic VM: a guest whose
 * CLOCK_MONOTONIC runs OFF behind the host's, block requests with known
 * stamps, the VMM requests they caused, SYNC frames with a delivery delay,
 * and the host polling every 10 ms. Every joined request is checked against
 * the truth it was made from.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "join_test.h"

/* ---- the simulated VM ---- */

enum { K_FULL, K_BIO, K_CACHED };

struct sreq {
	struct hci_w_req r;
	struct hci_jvmm_in v;
	uint64_t start;		/* guest start (first stamp) */
	uint64_t gd;		/* guest D as it happened, recorded or not */
	uint64_t arrive;	/* host ns the REQ record is received */
	int kind;
	bool hidden;		/* before the guest stream: only the VMM side is seen */
	int seen;
};

struct sim {
	struct sreq *r;
	size_t n, nhidden;
	uint64_t spacing;
	uint64_t app[HCI_NOPS], guest[HCI_NOPS], vmm[HCI_NOPS];
	uint64_t napp, nsync;
	uint64_t last;		/* host time of the last event */
};

/*
 * n requests, one every spacing ns of guest time; the first nhidden happen
 * before the guest tracer starts. nofs 0: every request its own offset;
 * otherwise they cycle over nofs offsets 1 MiB apart.
 */
static void sim_gen(struct sim *s, size_t n, size_t nhidden, uint64_t spacing, unsigned int nofs)
{
	memset(s, 0, sizeof(*s));
	s->r = calloc(n, sizeof(*s->r));
	if (!s->r)
		abort();
	s->n = n;
	s->nhidden = nhidden;
	s->spacing = spacing;
	for (size_t i = 0; i < n; i++) {
		struct sreq *q = &s->r[i];
		uint32_t op = i % 3 == 0 ? HCI_OP_WRITE : HCI_OP_READ;
		uint32_t bytes = i % 7 == 0 ? 16384 : 4096;
		uint64_t off = nofs ? (uint64_t)(i % nofs) << 20 : (i * 7919 % 65536) * 16384;
		uint64_t gq = G0 + i * spacing, gd, gc, vs, vc, hq = 0, hd = 0, hc = 0;

		q->kind = i % 10 == 0 ? K_CACHED : i % 10 == 1 ? K_BIO : K_FULL;
		q->hidden = i < nhidden;
		gd = gq + 5 * US + rnd(20 * US);
		vs = gd + OFF + NOTIFY_MIN + rnd(40 * US);
		if (q->kind == K_CACHED) {
			vc = vs + 5 * US + rnd(30 * US);
		} else {
			hq = vs + 2 * US + rnd(8 * US);
			hd = q->kind == K_BIO ? 0 : hq + rnd(20 * US);
			hc = (hd ? hd : hq) + 50 * US + rnd(250 * US);
			vc = hc + 3 * US + rnd(7 * US);
		}
		gc = vc - OFF + IRQ_MIN + rnd(30 * US);
		q->start = gq;
		q->gd = gd;
		/* some requests lack D (the record says only Q..C), some start at G */
		q->r = greq(op, off, bytes, gq, i % 11 == 3 ? 0 : gd, gc);
		if (i % 13 == 5) {
			q->r.ts_q = 0;
			q->r.ts_g = gq;
			q->r.flags = (q->r.flags & ~HCI_HAVE_Q) | HCI_HAVE_G;
		} else if (i % 5 == 2) {
			q->r.ts_g = gq + 1 * US;
			q->r.ts_i = gq + 2 * US;
			q->r.flags |= HCI_HAVE_G | HCI_HAVE_I;
		}
		q->v = vreq(op, off, bytes, vs, hq, hd, hc, vc);
		if (hq)
			q->v.nbios = bytes / 4096;
		q->arrive = gc + OFF + 100 * US + rnd(2 * MS);
		s->vmm[op] += bytes;
		if (!q->hidden)
			s->guest[op] += bytes;
	}
}

enum { EV_VMM, EV_SYNC, EV_APP, EV_REQ };

struct ev {
	uint64_t t;
	int kind;
	size_t i;
};

static int cmp_ev(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Feed everything in host time order, polling every 10 ms, then drain. */
static void sim_run(struct hci_join *j, struct sim *s)
{
	size_t max = s->n * 3 + 1024, ne = 0, reqs = 0, apps = 0;
	struct ev *ev = calloc(max, sizeof(*ev));
	uint64_t t0 = s->r[s->nhidden].start + OFF - 1 * MS, next_poll;

	if (!ev)
		abort();
	for (size_t i = 0; i < s->n; i++) {
		ev[ne++] = (struct ev){ s->r[i].v.vc, EV_VMM, i };
		if (s->r[i].hidden)
			continue;
		ev[ne++] = (struct ev){ s->r[i].arrive, EV_REQ, i };
		if (i % 50 == 7)
			ev[ne++] = (struct ev){ s->r[i].arrive, EV_APP, i };
		if (s->r[i].arrive > s->last)
			s->last = s->r[i].arrive;
	}
	/* SYNC every 100 ms while the guest stream runs */
	for (uint64_t t = t0; t < s->last + 100 * MS && ne < max; t += 100 * MS)
		ev[ne++] = (struct ev){ t, EV_SYNC, 0 };
	qsort(ev, ne, sizeof(*ev), cmp_ev);
	next_poll = ev[0].t;
	for (size_t k = 0; k < ne; k++) {
		const struct ev *e = &ev[k];

		while (next_poll <= e->t) {
			hci_join_poll(j, next_poll, false);
			next_poll += 10 * MS;
		}
		switch (e->kind) {
		case EV_VMM:
			hci_join_vmm(j, &s->r[e->i].v);
			break;
		case EV_REQ:
			send_req(j, &s->r[e->i].r, e->t);
			reqs++;
			break;
		case EV_APP: {
			struct hci_w_app a = {
				.tgid = 100, .op = s->r[e->i].r.op, .dev = GDEV, .ino = 5,
				.off = e->i * 4096, .bytes = 1000 + e->i, .ts = s->r[e->i].r.ts_c,
			};

			memcpy(a.comm, "fio", 4);
			hci_join_guest(j, HCI_WT_APP, &a, sizeof(a), e->t, true);
			s->app[a.op] += a.bytes;
			s->napp++;
			apps++;
			break;
		}
		case EV_SYNC: {
			struct hci_w_sync y = {
				.mono_ns = e->t - OFF - SYNC_LAT_MIN - rnd(50 * US),
				.reqs = reqs, .apps = apps,
			};

			hci_join_guest(j, HCI_WT_SYNC, &y, sizeof(y), e->t, true);
			s->nsync++;
			break;
		}
		}
	}
	free(ev);
	/* everything settles, then every VMM request is past the horizon */
	hci_join_poll(j, s->last + SETTLE, false);
	hci_join_poll(j, s->last + SETTLE + HORIZON + 1 * SEC, false);
	hci_join_poll(j, s->last + SETTLE + HORIZON + 1 * SEC, true);
}

enum {
	B_ID, B_DUP, B_FIELDS, B_PRESENT, B_EXACT, B_SUM, B_TAX, B_NOTIFY, B_IRQ, B_NEG, B_CLOCK,
	B_NCHECKS,
};

static const char *const check_names[B_NCHECKS] = {
	[B_ID] = "every joined request is a simulated request the guest reported",
	[B_DUP] = "no request is joined twice",
	[B_FIELDS] = "disk, op, offset, bytes and nvmm == 1 are the simulated ones",
	[B_PRESENT] = "the stages present are those the request went through",
	[B_EXACT] = "single-clock stages (guest, host, VMM) are exact: the right VMM request",
	[B_SUM] = "present stages sum to TOTAL exactly",
	[B_TAX] = "TAX == TOTAL - device time",
	[B_NOTIFY] = "NOTIFY is the simulated notify delay within the reported uncertainty",
	[B_IRQ] = "IRQ is the simulated interrupt delay within the reported uncertainty",
	[B_NEG] = "NOTIFY and IRQ >= -clock_unc",
	[B_CLOCK] = "the true offset lies in clock_off +- clock_unc at every join",
};

/* Checks each joined request against the truth; returns how many were joined. */
/* The stages a joined request of r must have. */
static uint32_t stages_wanted(const struct sreq *r)
{
	uint32_t want = 1u << HCI_J_NOTIFY | 1u << HCI_J_IRQ | 1u << HCI_J_TOTAL | 1u << HCI_J_TAX;

	if (r->r.ts_d)
		want |= 1u << HCI_J_GUEST;
	if (r->kind == K_CACHED)
		want |= 1u << HCI_J_VCACHED;
	else
		want |= 1u << HCI_J_V2Q | 1u << HCI_J_HD2C | 1u << HCI_J_C2V |
			(r->kind == K_FULL ? 1u << HCI_J_HQ2D : 0);
	return want;
}

/* The stages that need no clock are exact: q was joined to r's own VMM request. */
static bool stages_exact(const struct hci_jreq *q, const struct sreq *r, uint64_t start)
{
	const struct hci_jvmm_in *v = &r->v;

	return !(q->ns[HCI_J_TOTAL] != (int64_t)(r->r.ts_c - start) ||
		 (r->r.ts_d && q->ns[HCI_J_GUEST] != (int64_t)(r->r.ts_d - start)) ||
		 (r->kind == K_CACHED && q->ns[HCI_J_VCACHED] != (int64_t)(v->vc - v->vs)) ||
		 (r->kind != K_CACHED && (q->ns[HCI_J_V2Q] != (int64_t)(v->hq - v->vs) ||
					  q->ns[HCI_J_C2V] != (int64_t)(v->vc - v->hc))) ||
		 (r->kind == K_FULL && (q->ns[HCI_J_HQ2D] != (int64_t)(v->hd - v->hq) ||
					q->ns[HCI_J_HD2C] != (int64_t)(v->hc - v->hd))) ||
		 (r->kind == K_BIO && q->ns[HCI_J_HD2C] != (int64_t)(v->hc - v->hq)));
}

static size_t sim_check(struct sim *s, const struct cap *c, const char *what)
{
	size_t bad[B_NCHECKS] = { 0 };
	size_t nseen = 0;

	for (size_t k = 0; k < c->n; k++) {
		const struct hci_jreq *q = &c->q[k];
		uint64_t start = q->t_start - (uint64_t)q->clock_off, i;
		int64_t sum = 0, dev, notify, irq, unc = q->clock_unc;
		uint32_t want;
		struct sreq *r;
		const struct hci_jvmm_in *v;

		i = (start - G0) / s->spacing;
		if (start < G0 || i >= s->n || s->r[i].start != start || s->r[i].hidden) {
			if (!bad[B_ID]++)
				printf("# %s: joined request at guest %llu is none of ours\n", what,
				       (unsigned long long)start);
			continue;
		}
		r = &s->r[i];
		v = &r->v;
		if (r->seen++)
			bad[B_DUP]++;
		nseen++;
		if (q->gdev != GDEV || q->op != r->r.op || q->off != r->r.sector << 9 ||
		    q->bytes != r->r.bytes || q->nvmm != 1)
			bad[B_FIELDS]++;
		want = stages_wanted(r);
		if (q->present != want) {
			if (!bad[B_PRESENT]++)
				printf("# %s: request %zu present %#x, want %#x\n", what, (size_t)i,
				       q->present, want);
			continue;
		}
		if (!stages_exact(q, r, start)) {
			if (!bad[B_EXACT]++)
				printf("# %s: request %zu joined to the wrong VMM request\n", what,
				       (size_t)i);
		}
		for (int st = HCI_J_GUEST; st <= HCI_J_IRQ; st++)
			if (q->present & 1u << st)
				sum += q->ns[st];
		if (sum != q->ns[HCI_J_TOTAL])
			bad[B_SUM]++;
		dev = r->kind == K_CACHED ? 0 : q->ns[HCI_J_HD2C];
		if (q->ns[HCI_J_TAX] != q->ns[HCI_J_TOTAL] - dev)
			bad[B_TAX]++;
		/* the truth, measured from the D the record has (else its start) */
		notify = (int64_t)v->vs - ((int64_t)(r->r.ts_d ? r->r.ts_d : start) + OFF);
		irq = (int64_t)r->r.ts_c + OFF - (int64_t)v->vc;
		if (absd(q->ns[HCI_J_NOTIFY], notify) > unc) {
			if (!bad[B_NOTIFY]++)
				printf("# %s: request %zu notify %lld, truth %lld, unc %lld\n", what,
				       (size_t)i, (long long)q->ns[HCI_J_NOTIFY], (long long)notify,
				       (long long)unc);
		}
		if (absd(q->ns[HCI_J_IRQ], irq) > unc)
			bad[B_IRQ]++;
		if (q->ns[HCI_J_NOTIFY] < -unc || q->ns[HCI_J_IRQ] < -unc)
			bad[B_NEG]++;
		if (OFF < q->clock_off - unc || OFF > q->clock_off + unc || unc < 0)
			bad[B_CLOCK]++;
	}
	for (int b = 0; b < B_NCHECKS; b++) {
		ok(!bad[b], "%s: %s", what, check_names[b]);
		if (bad[b])
			printf("#   %zu of %zu joined requests fail\n", bad[b], c->n);
	}
	return nseen;
}

/* Inversions of hd in guest-D order, by brute force: the reference. */
static uint64_t sim_inversions(const struct sim *s, uint64_t *pairs)
{
	uint64_t inv = 0, m = 0;

	for (size_t a = 0; a < s->n; a++) {
		const struct sreq *x = &s->r[a];

		if (x->hidden || x->kind == K_CACHED || !x->r.ts_d)
			continue;
		m++;
		for (size_t b = 0; b < s->n; b++) {
			const struct sreq *y = &s->r[b];

			if (y->hidden || y->kind == K_CACHED || !y->r.ts_d)
				continue;
			if (x->r.ts_d < y->r.ts_d &&
			    (x->v.hd ? x->v.hd : x->v.hq) > (y->v.hd ? y->v.hd : y->v.hq))
				inv++;
		}
	}
	*pairs = m > 1 ? m * (m - 1) / 2 : 0;
	return inv;
}

/* 1, 2, 11: a long run on distinct offsets */
/* The per-op statistics of the stream against the sim's requests. */
static void stream_stats(const struct hci_join *j, const struct sim *s)
{
	uint64_t n4k[HCI_NOPS] = { 0 }, nop[HCI_NOPS] = { 0 };
	int64_t total[HCI_NOPS] = { 0 };
	size_t bad_stats = 0;

	for (size_t i = 0; i < s->n; i++) {
		nop[s->r[i].r.op]++;
		if (s->r[i].r.bytes == 4096)
			n4k[s->r[i].r.op]++;
		total[s->r[i].r.op] += (int64_t)(s->r[i].r.ts_c - s->r[i].start);
	}
	for (uint32_t op = HCI_OP_READ; op <= HCI_OP_WRITE; op++) {
		const struct hci_jstats *st = hci_join_stats(j, op, false);
		const struct hci_jstats *s4 = hci_join_stats(j, op, true);
		uint64_t slots = 0;

		for (int b = 0; b < HCI_NBUCKETS; b++)
			slots += st->slots[HCI_J_TOTAL][b];
		if (st->n != nop[op] || st->count[HCI_J_TOTAL] != nop[op] ||
		    st->count[HCI_J_NOTIFY] != nop[op] || slots != nop[op] ||
		    st->sum_ns[HCI_J_TOTAL] != total[op] || s4->n != n4k[op])
			bad_stats++;
	}
	is_int(bad_stats, 0, "stream: per-op stats count every request, sum TOTAL, 4 KiB apart");
	ok(hci_join_stats(j, HCI_NOPS, false) == NULL, "stream: stats of an unknown op is NULL");
}

static void test_stream(void)
{
	const size_t n = 4000;
	struct cap c = { 0 };
	struct hci_join *j = hci_join_new(16384, collect, &c);
	const struct hci_jcounters *cnt;
	struct hci_jvol vol, zero = { 0 };
	uint64_t pairs, inv;
	int64_t off, unc;
	struct sim s;
	size_t joined;

	ok(j != NULL, "stream: hci_join_new");
	if (!j)
		return;
	sim_gen(&s, n, 0, 30 * US, 0);
	sim_run(j, &s);
	cnt = hci_join_counters(j);
	is_int(c.n, n, "stream: one joined request per guest request");
	joined = sim_check(&s, &c, "stream");
	is_int(joined, n, "stream: every guest request was joined");
	is_int(cnt->guest_reqs, n, "stream: guest_reqs");
	is_int(cnt->matched, n, "stream: matched == N");
	is_int(cnt->unmatched, 0, "stream: unmatched == 0");
	is_int(cnt->vmm_reqs, n, "stream: vmm_reqs");
	is_int(cnt->vmm_unmatched, 0, "stream: every VMM request was claimed");
	is_int(cnt->bad_record, 0, "stream: no bad records");
	is_int(cnt->guest_overflow + cnt->vmm_overflow, 0, "stream: no overflow");
	is_int(cnt->clock_conflicts, 0, "stream: no clock conflicts");
	is_int(cnt->guest_missing, 0, "stream: nothing missing by the SYNC counts");
	is_int(cnt->app_recs, s.napp, "stream: app records");

	/* 2: the clock */
	ok(hci_join_clock(j, &off, &unc), "stream: clock known");
	ok(OFF >= off - unc && OFF <= off + unc, "stream: true offset %lld in %lld +- %lld",
	   (long long)OFF, (long long)off, (long long)unc);
	ok(unc >= 0 && unc < (int64_t)(NOTIFY_MIN + IRQ_MIN),
	   "stream: uncertainty %lld ns below min notify + min irq", (long long)unc);
	is_int(hci_join_clock_state(j)->pairs, n, "stream: every pair bounded the clock");
	ok(hci_join_clock_state(j)->syncs > 0 && hci_join_clock_state(j)->syncs <= s.nsync,
	   "stream: SYNC frames bounded it too");

	stream_stats(j, &s);

	/* 11, 9: volumes and the reorder measure */
	hci_join_take_volumes(j, &vol);
	inv = sim_inversions(&s, &pairs);
	is_int(vol.guest[HCI_OP_READ], s.guest[HCI_OP_READ], "stream: guest read bytes");
	is_int(vol.guest[HCI_OP_WRITE], s.guest[HCI_OP_WRITE], "stream: guest write bytes");
	is_int(vol.vmm[HCI_OP_READ], s.vmm[HCI_OP_READ], "stream: VMM read bytes");
	is_int(vol.vmm[HCI_OP_WRITE], s.vmm[HCI_OP_WRITE], "stream: VMM write bytes");
	is_int(vol.app[HCI_OP_READ], s.app[HCI_OP_READ], "stream: app read bytes");
	is_int(vol.app[HCI_OP_WRITE], s.app[HCI_OP_WRITE], "stream: app write bytes");
	ok(s.app[HCI_OP_READ] && s.app[HCI_OP_WRITE], "stream: the sim made app I/O of both kinds");
	is_int(vol.guest_reqs, n, "stream: volume guest_reqs");
	is_int(vol.matched, n, "stream: volume matched");
	is_int(vol.splits + vol.merges, 0, "stream: no splits, no merges");
	ok(inv > 0, "stream: host D order differs from guest D order (%llu inversions)",
	   (unsigned long long)inv);
	is_int(vol.inversions, inv, "stream: inversions as counted by brute force");
	is_int(vol.pairs, pairs, "stream: pairs of requests with host bios and guest D");
	is_int(cnt->inversion_cut, 0, "stream: none left out of the reorder measure");
	hci_join_take_volumes(j, &vol);
	ok(!memcmp(&vol, &zero, sizeof(vol)), "stream: the next interval starts at zero");

	hci_join_free(j);
	free(s.r);
	free(c.q);
}

/* 3: few offsets, rewritten all the time, and the workload ran before the guest tracer */
static void test_repeats(void)
{
	const size_t n = 3000, hidden = 800;
	struct cap c = { 0 };
	struct hci_join *j = hci_join_new(16384, collect, &c);
	const struct hci_jcounters *cnt;
	int64_t off, unc;
	struct sim s;
	size_t joined;

	ok(j != NULL, "repeats: hci_join_new");
	if (!j)
		return;
	/* 4 offsets, a request every ms: each offset again every 4 ms */
	sim_gen(&s, n, hidden, 1 * MS, 4);
	sim_run(j, &s);
	cnt = hci_join_counters(j);
	joined = sim_check(&s, &c, "repeats");
	is_int(joined, n - hidden, "repeats: every reported request was joined");
	is_int(cnt->matched, n - hidden, "repeats: matched");
	is_int(cnt->unmatched, 0, "repeats: unmatched == 0");
	is_int(cnt->vmm_unmatched, hidden, "repeats: the VMM requests before the stream stay unclaimed");
	is_int(cnt->clock_conflicts, 0, "repeats: no clock conflicts");
	ok(hci_join_clock(j, &off, &unc) && OFF >= off - unc && OFF <= off + unc &&
	   unc < (int64_t)(NOTIFY_MIN + IRQ_MIN),
	   "repeats: clock %lld +- %lld holds the truth", (long long)off, (long long)unc);
	hci_join_free(j);
	free(s.r);
	free(c.q);
}

int main(void)
{
	test_stream();
	test_repeats();
	return done_testing();
}
