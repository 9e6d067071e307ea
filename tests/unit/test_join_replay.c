/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The join replay (trace/join_replay.c) on a synthetic VM (join_synth.c):
 * its counts are exact (every guest request joined or counted unmatched,
 * every VMM request fed), a stream fed K times counts K times as much with
 * nothing refused (its copies continue one stream: times, frame numbers,
 * SYNC counters), the joined requests of every copy are the first copy's,
 * later by the shift, a stream compressed in time joins the same, and a
 * stream built from the wire bytes of another joins as it does.
 */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "hci_wire.h"
#include "trace/join_replay.h"

struct cap {
	struct hci_jreq *q;
	size_t n, max;
};

static void collect(void *ctx, const struct hci_jreq *r)
{
	struct cap *c = ctx;

	if (c->n == c->max) {
		c->max = c->max ? c->max * 2 : 1024;
		c->q = realloc(c->q, c->max * sizeof(*c->q));
		if (!c->q)
			abort();
	}
	c->q[c->n++] = *r;
}

#define N 20000

/* The guest requests synth makes (N), and its VMM requests: one in 32 is split in two. */
static uint64_t synth_vmm(void)
{
	uint64_t v = 0;

	for (size_t i = 0; i < N; i++)
		v += i % 500 != 499 && i % 32 == 7 ? 2 : 1;
	return v;
}

/* Copy k's requests are copy 0's, k shifts later, in the single-clock stages at least. */
static size_t copies_differ(const struct cap *c, size_t per, unsigned int k, uint64_t shift)
{
	size_t bad = 0;

	for (size_t i = 0; i < per; i++) {
		const struct hci_jreq *a = &c->q[i], *b = &c->q[k * per + i];

		if (b->t_start - (uint64_t)b->clock_off != a->t_start - (uint64_t)a->clock_off +
		    k * shift || a->off != b->off || a->op != b->op || a->bytes != b->bytes ||
		    a->nvmm != b->nvmm || a->present != b->present ||
		    a->ns[HCI_J_TOTAL] != b->ns[HCI_J_TOTAL] || a->ns[HCI_J_V2Q] != b->ns[HCI_J_V2Q])
			bad++;
	}
	return bad;
}

static void test_counts(void)
{
	struct hci_jsynth s = { .n = N, .iops = 100000, .image_mib = 80, .seed = 11 };
	struct hci_jrp_result r1, r3;
	struct cap c1 = { 0 }, c3 = { 0 };
	struct hci_jreplay rp;

	hci_jrp_init(&rp);
	ok(hci_jsynth_build(&rp, &s), "synthetic VM of %d requests built", N);
	is_int(rp.reqs, N, "it holds N REQ records");
	ok(hci_jrp_run(&rp, 65536, 1, collect, &c1, &r1), "replayed once");
	is_int(r1.cnt.guest_reqs, N, "once: every guest request reached the join");
	is_int(r1.cnt.matched + r1.cnt.unmatched, N, "once: each joined or counted unmatched");
	is_int(c1.n, r1.cnt.matched, "once: one joined request reported per match");
	ok(r1.cnt.matched >= N - N / 100, "once: >= 99%% joined (%llu)",
	   (unsigned long long)r1.cnt.matched);
	is_int(r1.cnt.vmm_reqs, synth_vmm(), "once: every VMM request reached the join");
	is_int(r1.cnt.bad_record + r1.cnt.clock_conflicts, 0, "once: nothing refused");
	ok(r1.wall_s > 0 && r1.join_bytes > 0, "once: its time and the join's bytes measured");

	ok(hci_jrp_run(&rp, 65536, 3, collect, &c3, &r3), "replayed 3 times");
	is_int(r3.repeats, 3, "3 copies");
	is_int(r3.cnt.guest_reqs, 3 * r1.cnt.guest_reqs, "3 copies: 3x the guest requests");
	is_int(r3.cnt.matched, 3 * r1.cnt.matched, "3 copies: 3x joined");
	is_int(r3.cnt.unmatched, 3 * r1.cnt.unmatched, "3 copies: 3x unmatched");
	is_int(r3.cnt.vmm_reqs, 3 * r1.cnt.vmm_reqs, "3 copies: 3x the VMM requests");
	is_int(r3.cnt.bad_record + r3.cnt.clock_conflicts + r3.cnt.guest_missing, 0,
	       "3 copies: one stream (no stale SYNC, no counter going back, none missing)");
	ok(r3.shift_ns > 0, "each copy %.1f ms after the one before", (double)r3.shift_ns / 1e6);
	ok(c3.n == 3 * c1.n && !copies_differ(&c3, c1.n, 1, r3.shift_ns) &&
	   !copies_differ(&c3, c1.n, 2, r3.shift_ns),
	   "the joined requests of copies 2 and 3 are copy 1's, shifted");

	ok(hci_jrp_compress(&rp, 2000000) > 1, "compressed in time to 2M requests/s");
	ok(hci_jrp_run(&rp, 65536, 1, NULL, NULL, &r3), "compressed: replayed");
	is_int(r3.cnt.guest_reqs, N, "compressed: every guest request reached the join");
	is_int(r3.cnt.matched + r3.cnt.unmatched, N, "compressed: each joined or counted unmatched");
	ok(r3.cnt.matched >= N - N / 100, "compressed: >= 99%% still joined (%llu)",
	   (unsigned long long)r3.cnt.matched);
	hci_jrp_free(&rp);
	free(c1.q);
	free(c3.q);
}

static bool same_req(const struct hci_jreq *a, const struct hci_jreq *b)
{
	return a->gdev == b->gdev && a->op == b->op && a->off == b->off && a->bytes == b->bytes &&
	       a->nvmm == b->nvmm && a->t_start == b->t_start && a->present == b->present &&
	       !memcmp(a->ns, b->ns, sizeof(a->ns)) && a->clock_off == b->clock_off &&
	       a->clock_unc == b->clock_unc;
}

static bool same_reqs(const struct cap *a, const struct cap *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!same_req(&a->q[i], &b->q[i]))
			return false;
	return true;
}

/* The same stream, given as the bytes of its frames (as a --record file holds them). */
static void test_bytes(void)
{
	struct hci_jsynth s = { .n = 5000, .iops = 50000, .image_mib = 16, .seed = 5 };
	struct hci_jreplay a, b;
	struct hci_wire_parser p;
	struct hci_jrp_result ra, rb;
	struct cap ca = { 0 }, cb = { 0 };
	bool ok_bytes = true;
	uint32_t seq = 0;

	hci_jrp_init(&a);
	hci_jrp_init(&b);
	hci_wire_init(&p);
	ok(hci_jsynth_build(&a, &s), "bytes: synthetic VM built");
	b.live = a.live;
	for (size_t e = 0; e < a.nev && ok_bytes; e++) {
		const struct hci_jrp_ev *ev = &a.ev[e];
		uint8_t buf[HCI_WIRE_MAX_FRAME];

		if (ev->kind == HCI_JRP_VMM) {
			ok_bytes = hci_jrp_add_vmm(&b, ev->t, &a.vmm[ev->first]);
			continue;
		}
		for (size_t k = 0; k < ev->n && ok_bytes; k++) {
			const struct hci_jrp_frame *f = &a.fr[ev->first + k];
			size_t n = hci_wire_frame(buf, sizeof(buf), f->type, seq++, a.recs + f->off,
						  f->nrec);

			/* a frame in two reads at the same time: one read, as the parser sees it */
			ok_bytes = n && hci_jrp_add_bytes(&b, &p, ev->t, buf, n / 2);
			ok_bytes = ok_bytes && hci_jrp_add_bytes(&b, &p, ev->t, buf + n / 2, n - n / 2);
		}
	}
	ok(ok_bytes, "bytes: every frame encoded and parsed back");
	is_int(b.reqs, a.reqs, "bytes: the same REQ records");
	ok(hci_jrp_run(&a, 65536, 1, collect, &ca, &ra) &&
	   hci_jrp_run(&b, 65536, 1, collect, &cb, &rb), "bytes: both replayed");
	ok(!memcmp(&ra.cnt, &rb.cnt, sizeof(ra.cnt)), "bytes: the same counters");
	ok(ca.n && same_reqs(&ca, &cb), "bytes: the same joined requests (%zu)", ca.n);
	hci_jrp_free(&a);
	hci_jrp_free(&b);
	free(ca.q);
	free(cb.q);
}

int main(void)
{
	test_counts();
	test_bytes();
	return done_testing();
}
