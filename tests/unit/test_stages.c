// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The stage rules shared by BPF and user space (include/hci_stages.h), and
 * trace/output.c's per-request stages, against the rules spelled out by hand. */
#include <stdlib.h>
#include "tap.h"
#include "hci_stages.h"
#include "trace/output.h"

/* the block rules, as written out before they were shared */
static const struct { int stage; __u32 need; int from, to; } block_ref[] = {
	{ HCI_Q2G, HCI_HAVE_Q | HCI_HAVE_G, 0, 1 },
	{ HCI_G2I, HCI_HAVE_G | HCI_HAVE_I, 1, 2 },
	{ HCI_I2D, HCI_HAVE_I | HCI_HAVE_D, 2, 3 },
	{ HCI_G2D, HCI_HAVE_G | HCI_HAVE_D, 1, 3 },
	{ HCI_D2C, HCI_HAVE_D, 3, 4 },
	{ HCI_Q2C, HCI_HAVE_Q, 0, 4 },
};

/* CLOCK_MONOTONIC-like stamps: far below 2^63 */
static __u64 rnd(void)
{
	return ((__u64)rand() << 16) ^ (__u64)rand();
}

/* a VMM record with some times missing, some out of order */
static void vevent_random(struct hci_vevent *e)
{
	__u64 t = rnd();

	*e = (struct hci_vevent){ 0 };
	e->nbios = rand() % 3;
	e->ts_v = t;
	e->ts_q = rand() % 4 ? t + rnd() % 1000 : 0;
	e->ts_c = rand() % 4 ? (e->ts_q ?: t) + rnd() % 100000 : 0;
	e->ts_d = rand() % 3 ? (e->ts_q ?: t) + rnd() % 200000 - 50000 : 0;
	/* the VMM's completion, a hair before the host's on another CPU */
	e->ts_vc = (e->ts_c ?: t) + rnd() % 1000 - 100;
}

/* the VMM rules for one record, as written out before they were shared */
static int vevent_matches(const struct hci_vevent *e, const double *us, const bool *pr)
{
	const __u64 v = e->ts_v, q = e->ts_q, c = e->ts_c, vc = e->ts_vc, d = e->ts_d;
	bool want[HCI_NVSTAGES] = { false };
	double wus[HCI_NVSTAGES] = { 0 };

#define SPAN(a, b) ((b) >= (a) ? (double)((b) - (a)) / 1000.0 : 0)
	want[HCI_V2Q] = e->nbios && q;
	want[HCI_VQ2C] = want[HCI_C2V] = want[HCI_V2Q] && c;
	want[HCI_V2V] = true;
	want[HCI_VQ2D] = want[HCI_VD2C] = want[HCI_VQ2C] && d >= q && d <= c;
	wus[HCI_V2Q] = want[HCI_V2Q] ? SPAN(v, q) : 0;
	wus[HCI_VQ2C] = want[HCI_VQ2C] ? SPAN(q, c) : 0;
	wus[HCI_C2V] = want[HCI_C2V] ? SPAN(c, vc) : 0;
	wus[HCI_V2V] = SPAN(v, vc);
	wus[HCI_VQ2D] = want[HCI_VQ2D] ? SPAN(q, d) : 0;
	wus[HCI_VD2C] = want[HCI_VD2C] ? SPAN(d, c) : 0;
#undef SPAN
	for (int s = 0; s < HCI_NVSTAGES; s++)
		if (want[s] != pr[s] || wus[s] != us[s])
			return 0;
	return 1;
}

static void test_block(void)
{
	int bad_rule = 0, bad_rec = 0;

	for (__u32 f = 0; f < 16; f++)
		for (size_t i = 0; i < sizeof(block_ref) / sizeof(block_ref[0]); i++) {
			int s = block_ref[i].stage;

			if (hci_stage_present(f, s) != ((f & block_ref[i].need) == block_ref[i].need) ||
			    hci_stage_from(s) != block_ref[i].from || hci_stage_to(s) != block_ref[i].to)
				bad_rule++;
		}
	is_int(bad_rule, 0, "block stages: presence and ends as the table says, for every flag set");
	srand(2);
	for (int n = 0; n < 20000; n++) {
		struct hci_event e = { .flags = (__u32)rand() % 16 };
		const __u64 *ts[5] = { &e.ts_q, &e.ts_g, &e.ts_i, &e.ts_d, &e.ts_c };
		double us[HCI_NSTAGES];
		bool pr[HCI_NSTAGES];

		e.ts_q = rnd();
		e.ts_g = e.ts_q + rnd() % 1000;
		e.ts_i = e.ts_g + rnd() % 1000;
		e.ts_d = e.ts_i + rnd() % 1000 - 200;	/* another CPU's clock: maybe earlier */
		e.ts_c = e.ts_d + rnd() % 100000;
		hci_req_stages(&e, us, pr);
		for (size_t i = 0; i < sizeof(block_ref) / sizeof(block_ref[0]); i++) {
			int s = block_ref[i].stage;
			bool want = (e.flags & block_ref[i].need) == block_ref[i].need;
			__u64 a = *ts[block_ref[i].from], b = *ts[block_ref[i].to];

			if (pr[s] != want || us[s] != (want && b >= a ? (double)(b - a) / 1000.0 : 0))
				bad_rec++;
		}
	}
	is_int(bad_rec, 0, "hci_req_stages: the same stages and times as the rules by hand");
}

static void test_vmm(void)
{
	struct hci_vpoints p = { .n = 5, .v = 10, .vc = 20 };
	int bad = 0;

	ok(hci_vstage_present(&p, HCI_N2V), "N2V when a notify was taken");
	ok(!hci_vstage_present(&p, HCI_V2Q) && !hci_vstage_present(&p, HCI_VQ2C),
	   "no host stages without a bio");
	ok(hci_vstage_present(&p, HCI_V2V), "V2V always");
	ok(!hci_vstage_present(&p, HCI_V2I), "V2I is never one request's");
	srand(3);
	for (int n = 0; n < 20000; n++) {
		struct hci_vevent e;
		double us[HCI_NVSTAGES];
		bool pr[HCI_NVSTAGES];

		vevent_random(&e);
		hci_vreq_stages(&e, us, pr);
		if (!vevent_matches(&e, us, pr))
			bad++;
	}
	is_int(bad, 0, "hci_vreq_stages: the same stages and times as the rules by hand");
}

static void test_span(void)
{
	__u64 slots[HCI_NBUCKETS] = { 0 }, sum = 0;

	is_int((int)hci_span_ns(100, 3100), 3000, "a span is to - from");
	is_int((int)hci_span_ns(3100, 100), 0, "an out-of-order span clamps to 0");
	hci_span_add(slots, &sum, 0, 3000);
	hci_span_add(slots, &sum, 10, 5);
	is_int((int)slots[hci_bucket_of_ns(3000)], 1, "span_add counts into the duration's bucket");
	is_int((int)slots[0], 1, "a clamped span counts into bucket 0");
	is_int((int)sum, 3000, "span_add sums the clamped durations");
}

int main(void)
{
	test_block();
	test_vmm();
	test_span();
	return done_testing();
}
