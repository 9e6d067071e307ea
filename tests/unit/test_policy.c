// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcithrottle's AIMD controller (throttle/policy.c) closed around a small plant:
 * an SSD of CAP_IOPS shared by VMs (their demand, cut by the caps in force)
 * and a container whose p99 grows with utilisation, base / (1 - util). When
 * demand exceeds the SSD, everyone gets the same share of what they asked.
 * Each interval the plant runs under the caps the controller set at the end
 * of the previous one, and the controller sees what the plant measured.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "throttle/policy.h"

#define CAP_IOPS 10000.0	/* the SSD */
#define BASE_US 200.0		/* container p99 on an idle SSD */
#define BS 4096.0		/* bytes per I/O */
#define T 200			/* intervals per simulation */
#define MIB (1024.0 * 1024.0)

static const struct hci_pol_params P = {
	.decrease = 0.5, .increase = 0.1, .healthy_intervals = 3, .baseline_alpha = 0.2,
};

/* what a VM may do under the caps in force */
static double allowed(const struct hci_pol_vm *m, double demand)
{
	double a = demand;

	if (m->cap_iops > 0 && m->cap_iops < a)
		a = m->cap_iops;
	if (m->cap_bps > 0 && m->cap_bps / BS < a)
		a = m->cap_bps / BS;
	return a;
}

/* one interval of the shared SSD; jitter scales the container's p99 */
static void plant(struct hci_pol_vm *v, const double *dv, size_t nv,
		  struct hci_pol_container *c, double dc, double jitter)
{
	double got[HCI_POL_MAX], total = dc, s, util;

	for (size_t i = 0; i < nv; i++) {
		got[i] = allowed(&v[i], dv[i]);
		total += got[i];
	}
	s = total > CAP_IOPS ? CAP_IOPS / total : 1;
	for (size_t i = 0; i < nv; i++) {
		v[i].iops = got[i] * s;
		v[i].bps = v[i].iops * BS;
	}
	c->iops = dc * s;
	util = total / CAP_IOPS;
	if (util > 0.98)
		util = 0.98;
	c->p99_us = dc > 0 ? BASE_US / (1 - util) * jitter : 0;
}

static bool near(double a, double b, double rel)
{
	return fabs(a - b) <= rel * fabs(b);
}

/* one step with a throwaway decision, for the small direct tests */
static enum hci_pol_action step(struct hci_pol_state *st, struct hci_pol_container *c,
				size_t nc, struct hci_pol_vm *v, size_t nv,
				struct hci_pol_decision *d)
{
	hci_policy_step(&P, st, c, nc, v, nv, d);
	return d->action;
}

/*
 * The main run: the container alone for 20 intervals, then a VM that wants
 * more than the SSD has until interval 150, when the container goes idle.
 */
static void test_step_response(void)
{
	struct hci_pol_container c = { .target_p99_us = 2000 };
	struct hci_pol_vm v = { 0 };
	struct hci_pol_state st = { 0 };
	struct hci_pol_decision d;
	enum hci_pol_action act[T];
	double cap[T], p99[T], vio[T];
	int first_cap = -1, meet = -1, bad_idle = 0, bad_gap = 0, last_cap = -1000;
	int ncap = 0, nlift = 0, nmiss = 0, nchange = 0, low = 0, first_lift3 = -1;
	int removed = -1, bad_lift3 = 0, bad_floor = 0;
	double vsum = 0, peak = 0;

	for (int t = 0; t < T; t++) {
		double dv = t < 20 ? 0 : 12000, dc = t < 150 ? 3000 : 0;
		double before = v.cap_iops;

		plant(&v, &dv, 1, &c, dc, 1);
		p99[t] = c.p99_us;
		vio[t] = v.iops;
		hci_policy_step(&P, &st, &c, 1, &v, 1, &d);
		act[t] = d.action;
		cap[t] = v.cap_iops;
		if (t < 20 && (d.action != HCI_POL_HOLD || v.cap_iops || strncmp(d.reason, "no active VM", 12)))
			bad_idle++;
		if (d.action == HCI_POL_CAP && first_cap < 0)
			first_cap = t;
		if (t > 20 && meet < 0 && p99[t] <= c.target_p99_us)
			meet = t;
		if (d.action == HCI_POL_CAP)
			last_cap = t;
		/* hysteresis: a lift needs healthy_intervals clean ones since a cap */
		if (d.action == HCI_POL_LIFT && t - last_cap < (int)P.healthy_intervals)
			bad_gap++;
		if (v.cap_iops != 0 && v.cap_iops < 1)
			bad_floor++;
		if (t >= 40 && t < 150) {
			ncap += d.action == HCI_POL_CAP;
			nlift += d.action == HCI_POL_LIFT;
			nchange += before != v.cap_iops;
			nmiss += p99[t] > c.target_p99_us;
			low += v.cap_iops && v.cap_iops < 2500;
			vsum += vio[t];
		}
		if (t >= 150) {
			if (d.action == HCI_POL_CAP)
				bad_lift3++;
			if (d.action == HCI_POL_LIFT && first_lift3 < 0)
				first_lift3 = t;
			/* once lifting starts it goes on every interval until removed */
			if (first_lift3 >= 0 && removed < 0 && d.action != HCI_POL_LIFT)
				bad_lift3++;
			if (first_lift3 >= 0 && removed < 0 && before &&
			    v.cap_iops && !near(v.cap_iops - before, P.increase * v.peak_iops, 1e-9))
				bad_lift3++;
			if (removed < 0 && before && !v.cap_iops) {
				removed = t;
				peak = v.peak_iops;
			}
		}
	}
	printf("# step response: contention at 20, first cap at %d, target met at %d\n",
	       first_cap, meet);
	printf("# settled [40,150): %d caps, %d lifts, %d cap changes, %d misses, "
	       "VM mean %.0f IOPS (%.0f fit)\n", ncap, nlift, nchange, nmiss, vsum / 110,
	       0.9 * CAP_IOPS - 3000);
	printf("# container idle at 150: first lift at %d, cap removed at %d (peak %.0f)\n",
	       first_lift3, removed, peak);

	is_int(bad_idle, 0, "alone, the container gets HOLD \"no active VM\" and no cap");
	is_int(first_cap, 20, "the VM is capped on the first interval of contention");
	ok(near(cap[20], 0.5 * vio[20], 1e-12), "first cap is decrease x the measured load (%.0f)", cap[20]);
	ok(v.peak_iops >= vio[20], "the peak is at least the load when first capped");
	ok(meet >= 21 && meet <= 23, "the container meets its target within 3 intervals (at %d)", meet);
	is_int(bad_gap, 0, "no lift within healthy_intervals of a cap (hysteresis)");
	ok(ncap <= 110 / ((int)P.healthy_intervals + 1), "settled: at most one cap per %u+1 intervals (%d)",
	   P.healthy_intervals, ncap);
	ok(nchange <= 110 * 3 / 4, "settled: the cap changes in at most 3/4 of the intervals (%d)", nchange);
	ok(nmiss * 5 <= 110, "settled: the container misses at most 1 interval in 5 (%d)", nmiss);
	is_int(low, 0, "settled: the cap never collapses below 2500");
	ok(vsum / 110 >= 0.5 * (0.9 * CAP_IOPS - 3000), "settled: the VM keeps over half of what fits");
	is_int(bad_floor, 0, "a cap is never below 1 (0 would mean no limit)");
	is_int(bad_lift3, 0, "container idle: no cap, one lift per interval of increase x peak");
	ok(first_lift3 >= 150 && first_lift3 < 150 + (int)P.healthy_intervals,
	   "container idle: lifting starts within healthy_intervals (%d)", first_lift3);
	ok(removed > first_lift3 && removed <= first_lift3 + 10, "the cap is finally removed (at %d)", removed);
	is_int(v.cap_iops, 0, "no cap at the end");
	is_int(act[T - 1], HCI_POL_HOLD, "nothing left to lift: HOLD");
	is_str(d.reason, "no active container; no caps", "HOLD's reason at the end");
}

/* a floor above what the container could live with: it wins, every time */
static void test_floor(void)
{
	struct hci_pol_container c = { .target_p99_us = 2000 };
	struct hci_pol_vm v = { .floor_iops = 7000, .floor_bps = 30 * MIB };
	struct hci_pol_state st = { 0 };
	struct hci_pol_decision d;
	int below = 0, caps = 0, lifts = 0, not_floor = 0, misses = 0;
	double dv = 12000;

	for (int t = 0; t < T; t++) {
		plant(&v, &dv, 1, &c, 3000, 1);
		misses += c.p99_us > c.target_p99_us;
		hci_policy_step(&P, &st, &c, 1, &v, 1, &d);
		if (t == 0) {
			is_int(d.action, HCI_POL_CAP, "floor: first interval caps");
			is_str(d.reason, "container[0] p99 10000us > target 2000us; capping 1 VM: "
			       "vm[0] iops 8000 -> 7000 (floor) bw 31.2MiB/s -> 30.0MiB/s (floor)",
			       "floor: the reason says the floor bound it");
		}
		below += v.cap_iops < v.floor_iops || v.cap_bps < v.floor_bps;
		caps += d.action == HCI_POL_CAP;
		lifts += d.action == HCI_POL_LIFT;
		if (t && (d.action != HCI_POL_HOLD || !strstr(d.reason, "all active VMs at floor") || d.worst != -1))
			not_floor++;
	}
	is_int(below, 0, "floor: the caps are never below the floors");
	is_int(caps, 1, "floor: one cap, then nothing left to lower");
	is_int(lifts, 0, "floor: the container still misses, so no lift");
	is_int(not_floor, 0, "floor: every later interval is HOLD \"all active VMs at floor\"");
	is_int(misses, T, "floor: the plant really misses throughout");
	is_int(st.healthy, 0, "floor: misses keep the healthy streak at 0");

	/* a floor inside the sawtooth: it cuts the dips, the container copes */
	v = (struct hci_pol_vm){ .floor_iops = 3500 };
	st = (struct hci_pol_state){ 0 };
	below = caps = misses = 0;
	for (int t = 0; t < T; t++) {
		plant(&v, &dv, 1, &c, 3000, 1);
		if (t >= 20)
			misses += c.p99_us > c.target_p99_us;
		hci_policy_step(&P, &st, &c, 1, &v, 1, &d);
		below += v.cap_iops && v.cap_iops < v.floor_iops;
		caps += d.action == HCI_POL_CAP && strstr(d.reason, "(floor)");
	}
	is_int(below, 0, "floor 3500: never below it");
	ok(caps > 0, "floor 3500: some caps land on the floor (%d)", caps);
	ok(misses * 5 <= T - 20, "floor 3500: the container misses at most 1 in 5 (%d)", misses);
}

/* two VMs, one four times the other's load: caps stay in that ratio */
static void test_proportional(void)
{
	struct hci_pol_container c = { .target_p99_us = 2000 };
	struct hci_pol_vm v[2] = { 0 };
	struct hci_pol_state st = { 0 };
	struct hci_pol_decision d;
	double dv[2] = { 8000, 2000 };
	int both = 0, off = 0, first = -1, misses = 0;

	for (int t = 0; t < T; t++) {
		plant(v, dv, 2, &c, 3000, 1);
		if (t >= 20)
			misses += c.p99_us > c.target_p99_us;
		hci_policy_step(&P, &st, &c, 1, v, 2, &d);
		if (d.action == HCI_POL_CAP && first < 0) {
			first = t;
			ok(near(v[0].cap_iops / v[1].cap_iops, 4, 1e-9) &&
			   near(v[0].cap_bps / v[1].cap_bps, 4, 1e-9),
			   "proportional: first caps in the ratio of the loads (%.0f, %.0f)",
			   v[0].cap_iops, v[1].cap_iops);
			ok(!strncmp(d.reason, "container[0] p99 10000us > target 2000us; capping 2 VMs: vm[0] iops 6154 -> 3077", 80),
			   "proportional: reason names both (%s)", d.reason);
		}
		if (v[0].cap_iops && v[1].cap_iops) {
			both++;
			off += !near(v[0].cap_iops / v[1].cap_iops, 4, 1e-9);
		}
	}
	is_int(first, 0, "proportional: capped at once");
	ok(both > T / 2, "proportional: both capped most of the time (%d)", both);
	is_int(off, 0, "proportional: the ratio holds through caps and lifts");
	ok(misses * 5 <= T - 20, "proportional: the container misses at most 1 in 5 (%d)", misses);
}

/* the solo baseline, learned while no VM runs, and a target relative to it */
static void test_baseline(void)
{
	struct hci_pol_container c = { .target_rel = 2 }, c2;
	struct hci_pol_vm v = { 0 }, v2;
	struct hci_pol_state st = { 0 };
	struct hci_pol_decision d;
	double dv, solo = BASE_US / (1 - 0.3), at30 = 0, sum = 0;
	int changed = 0, misses = 0, first_cap = -1, meet = -1;

	for (int t = 0; t < T; t++) {
		double j = t % 2 ? 1.1 : 0.9;

		dv = t < 30 ? 0 : 12000;
		plant(&v, &dv, 1, &c, 3000, j);
		if (t < 30)
			sum += c.p99_us;
		hci_policy_step(&P, &st, &c, 1, &v, 1, &d);
		if (t == 0)
			ok(near(c.solo_p99_us, solo * 0.9, 1e-12), "baseline: the first solo interval sets it");
		if (t == 1)
			ok(near(c.solo_p99_us, 0.8 * solo * 0.9 + 0.2 * solo * 1.1, 1e-12),
			   "baseline: then an exponential average with alpha 0.2");
		if (t == 29) {
			at30 = c.solo_p99_us;
			ok(near(at30, sum / 30, 0.05), "baseline: %.1fus near the solo mean %.1fus",
			   at30, sum / 30);
			ok(!strcmp(d.reason, "no active VM; learning solo baselines"), "baseline: reason while learning");
		}
		if (t >= 30) {
			changed += c.solo_p99_us != at30;
			if (d.action == HCI_POL_CAP && first_cap < 0)
				first_cap = t;
			if (t > 30 && meet < 0 && c.p99_us <= 2 * at30)
				meet = t;
			if (t >= 50)
				misses += c.p99_us > 2 * at30;
		}
	}
	printf("# relative target 2x solo %.0fus: first cap at %d, met at %d, %d misses in [50,200)\n",
	       at30, first_cap, meet, misses);
	is_int(changed, 0, "baseline: frozen while a VM is active");
	is_int(first_cap, 30, "relative: capped on the first interval of contention");
	ok(meet > 30 && meet <= 34, "relative: target met within 4 intervals (%d)", meet);
	ok(misses * 4 <= T - 50, "relative: settled misses at most 1 in 4 (%d)", misses);

	/* no baseline yet: the relative target cannot miss */
	c2 = (struct hci_pol_container){ .target_rel = 1.5, .p99_us = 50000, .iops = 100 };
	v2 = (struct hci_pol_vm){ .iops = 9000 };
	st = (struct hci_pol_state){ 0 };
	step(&st, &c2, 1, &v2, 1, &d);
	is_int(d.action, HCI_POL_HOLD, "relative without baseline: not evaluated, HOLD");
	is_int(v2.cap_iops, 0, "relative without baseline: no cap");
	is_int(c2.solo_p99_us, 0, "relative without baseline: nothing learned with a VM active");
	is_int(st.healthy, 1, "relative without baseline: counts as healthy");
	is_str(d.reason, "containers meet targets; no caps", "relative without baseline: reason");
}

/* a container that needs IOPS rather than latency */
static void test_min_iops(void)
{
	struct hci_pol_container c = { .min_iops = 2800 };
	struct hci_pol_vm v = { 0 };
	struct hci_pol_state st = { 0 };
	struct hci_pol_decision d;
	double dv = 12000;
	int short_of = 0, caps = 0;

	for (int t = 0; t < T; t++) {
		plant(&v, &dv, 1, &c, 3000, 1);
		if (t >= 20)
			short_of += c.iops < c.min_iops;
		hci_policy_step(&P, &st, &c, 1, &v, 1, &d);
		caps += d.action == HCI_POL_CAP;
		if (t == 0) {
			is_int(d.action, HCI_POL_CAP, "min_iops: capped when short of IOPS");
			is_int(d.worst, 0, "min_iops: worst is the container");
			is_str(d.reason, "container[0] iops 2000 < min 2800; capping 1 VM: "
			       "vm[0] iops 8000 -> 4000 bw 31.2MiB/s -> 15.6MiB/s", "min_iops: reason");
		}
	}
	printf("# min_iops: short in %d of %d settled intervals, %d caps\n", short_of, T - 20, caps);
	ok(short_of * 5 <= T - 20, "min_iops: short at most 1 interval in 5 (%d)", short_of);
	ok(caps >= 2, "min_iops: caps again when lifted too far (%d)", caps);
}

/* no VM active: nothing to cap, nothing to lift, idle VMs keep their caps */
static void test_no_vm(void)
{
	struct hci_pol_container c = { .target_p99_us = 2000, .p99_us = 5000, .iops = 3000 };
	struct hci_pol_vm v = { .cap_iops = 1000, .peak_iops = 5000 };
	struct hci_pol_state st = { .healthy = 2 };
	struct hci_pol_decision d;
	int held = 0;

	is_int(step(&st, &c, 1, &v, 1, &d), HCI_POL_HOLD, "no VM: a miss is HOLD");
	is_int(d.worst, -1, "no VM: worst is -1 without a CAP");
	is_int(v.cap_iops, 1000, "no VM: the idle VM's cap is kept");
	is_int(st.healthy, 0, "no VM: a miss still resets the streak");
	is_str(d.reason, "no active VM, nothing to throttle; container[0] p99 5000us > target 2000us",
	       "no VM: reason");
	is_int(step(&st, &c, 1, NULL, 0, &d), HCI_POL_HOLD, "no VMs at all: HOLD");
	c.p99_us = 500;
	for (int t = 0; t < 10; t++)
		held += step(&st, &c, 1, &v, 1, &d) == HCI_POL_HOLD && v.cap_iops == 1000;
	is_int(held, 10, "no VM: healthy but idle VMs keep their caps");
	is_int(st.healthy, 0, "no VM: idle intervals do not count toward a lift");
	v.iops = 800;
	is_int(step(&st, &c, 1, &v, 1, &d), HCI_POL_HOLD, "VM back: hold 1/3");
	is_str(d.reason, "containers meet targets, healthy 1/3; holding caps", "VM back: reason");
	step(&st, &c, 1, &v, 1, &d);
	is_int(step(&st, &c, 1, &v, 1, &d), HCI_POL_LIFT, "VM back: lift at 3/3");
	is_int(v.cap_iops, 1500, "VM back: lifted by increase x peak");
	is_str(d.reason, "containers meet targets for 3 intervals; lifting 1 VM: vm[0] iops 1000 -> 1500",
	       "VM back: LIFT's reason");
	is_int(step(&st, &c, 1, &v, 1, &d), HCI_POL_LIFT, "streak goes on: lift again");
	is_int(st.healthy, 4, "the streak keeps counting");
	c.p99_us = 3000;
	is_int(step(&st, &c, 1, &v, 1, &d), HCI_POL_CAP, "a miss caps again");
	is_int(v.cap_iops, 400, "... from the load, below the cap (0.5 x 800)");
	is_int(st.healthy, 0, "... and resets the streak");
}

/* the arithmetic and the bookkeeping, one step at a time */
static void test_rules(void)
{
	struct hci_pol_container c = { .target_p99_us = 2000, .p99_us = 3120, .iops = 100 };
	struct hci_pol_container cc[3];
	struct hci_pol_vm v[2];
	struct hci_pol_state st = { 0 };
	struct hci_pol_decision d;
	struct hci_pol_params p0 = { 0 };
	int bad = 0;

	memset(v, 0, sizeof(v));
	v[0].iops = 5000;
	v[1].iops = 1000;
	is_int(step(&st, &c, 1, v, 2, &d), HCI_POL_CAP, "rules: CAP");
	is_str(d.reason, "container[0] p99 3120us > target 2000us; capping 2 VMs: "
	       "vm[0] iops 5000 -> 2500; vm[1] iops 1000 -> 500", "rules: CAP's reason");
	is_int(v[0].cap_bps, 0, "rules: no bandwidth cap without bandwidth");
	is_int(v[0].peak_iops, 5000, "rules: peak is the load at the first cap");
	v[0].iops = 9000;	/* over the cap can't happen, but peaks freeze anyway */
	v[1].iops = 400;
	step(&st, &c, 1, v, 2, &d);
	is_int(v[0].cap_iops, 1250, "rules: lowered from the cap, not the higher load");
	is_int(v[1].cap_iops, 200, "rules: lowered from the load when below the cap");
	is_int(v[0].peak_iops, 5000, "rules: the peak is frozen while capped");

	/* many misses with no floor: never 0, which would lift the cap */
	for (int t = 0; t < 2000; t++) {
		step(&st, &c, 1, v, 2, &d);
		bad += !(v[0].cap_iops >= 1) || !(v[1].cap_iops >= 1);
	}
	is_int(bad, 0, "rules: with no floor a cap bottoms out at 1, never 0");
	is_int(d.action, HCI_POL_HOLD, "rules: at the bottom, HOLD");
	is_str(d.reason, "container[0] p99 3120us > target 2000us; all active VMs at floor",
	       "rules: at the bottom, the reason");

	/* a floor raised over the cap in force */
	memset(v, 0, sizeof(v));
	v[0] = (struct hci_pol_vm){ .iops = 300, .cap_iops = 300, .floor_iops = 500, .peak_iops = 5000 };
	c.p99_us = 100;
	st.healthy = 0;
	is_int(step(&st, &c, 1, v, 1, &d), HCI_POL_LIFT, "rules: a cap below a raised floor is lifted");
	is_int(v[0].cap_iops, 500, "rules: ... to the floor");
	is_str(d.reason, "containers meet targets, healthy 1/3; holding caps; raised to floor: vm[0]",
	       "rules: ... and says so");

	/* healthy_intervals 0 lifts at once; a cap reaching the peak goes */
	v[0] = (struct hci_pol_vm){ .iops = 900, .cap_iops = 900, .peak_iops = 1000 };
	p0 = P;
	p0.healthy_intervals = 0;
	hci_policy_step(&p0, &st, &c, 1, v, 1, &d);
	is_int(d.action, HCI_POL_LIFT, "rules: healthy_intervals 0 lifts on the first healthy interval");
	is_int(v[0].cap_iops, 0, "rules: a cap reaching the peak is removed");
	is_str(d.reason, "containers meet targets for 2 intervals; lifting 1 VM: vm[0] iops 900 -> none",
	       "rules: removal's reason");
	v[0].iops = 1200;
	hci_policy_step(&p0, &st, &c, 1, v, 1, &d);
	is_int(v[0].peak_iops, 1200, "rules: uncapped again, the peak follows the load");

	/* bandwidth only, and the worst of several containers */
	memset(cc, 0, sizeof(cc));
	cc[0] = (struct hci_pol_container){ .target_p99_us = 1000, .p99_us = 1500, .iops = 10 };
	cc[1] = (struct hci_pol_container){ .target_p99_us = 1000, .p99_us = 4000, .iops = 10 };
	cc[2] = (struct hci_pol_container){ .target_p99_us = 1000, .p99_us = 9000 };	/* idle */
	v[0] = (struct hci_pol_vm){ .bps = 40 * MIB };
	is_int(step(&st, &c, 0, v, 1, &d), HCI_POL_HOLD, "rules: no container at all is healthy");
	is_str(d.reason, "no active container; no caps", "rules: ... nothing to lift");
	is_int(step(&st, cc, 3, v, 1, &d), HCI_POL_CAP, "rules: bandwidth-only VM capped");
	is_int(d.worst, 1, "rules: worst is the largest excess among active containers");
	is_str(d.reason, "2 containers miss, worst container[1] p99 4000us > target 1000us; "
	       "capping 1 VM: vm[0] bw 40.0MiB/s -> 20.0MiB/s", "rules: several misses, one line");
	is_int(v[0].cap_iops, 0, "rules: no IOPS cap without IOPS");

	/* an idle VM's cap waits for it, even when others run and all is well */
	v[0] = (struct hci_pol_vm){ .iops = 1000 };
	v[1] = (struct hci_pol_vm){ .cap_iops = 300, .peak_iops = 1000 };
	c.p99_us = 100;
	st.healthy = 10;
	is_int(step(&st, &c, 1, v, 2, &d), HCI_POL_HOLD, "rules: only an idle VM capped: HOLD");
	is_int(v[1].cap_iops, 300, "rules: ... its cap kept");
	is_str(d.reason, "containers meet targets; capped VMs idle, caps kept", "rules: ... and said");

	/* bad parameters take defaults */
	memset(&p0, 0, sizeof(p0));
	p0.decrease = NAN;
	p0.increase = -1;
	p0.baseline_alpha = INFINITY;
	v[0] = (struct hci_pol_vm){ .iops = 1000 };
	hci_policy_step(&p0, &st, cc, 2, v, 1, &d);
	is_int(v[0].cap_iops, 500, "rules: a NaN decrease reads as 0.5");
}

static bool sane_reason(const char *r)
{
	return strlen(r) < 256 && !strstr(r, "nan") && !strstr(r, "inf") && !strchr(r, '\n');
}

/* NaN, infinite and negative numbers read as 0 */
static void test_garbage(void)
{
	struct hci_pol_container c = {
		.p99_us = NAN, .iops = -5, .target_p99_us = -1, .target_rel = NAN,
		.min_iops = INFINITY, .solo_p99_us = -3,
	};
	struct hci_pol_vm v = {
		.iops = NAN, .bps = -1, .floor_iops = NAN, .floor_bps = -INFINITY,
		.cap_iops = NAN, .cap_bps = -7, .peak_iops = INFINITY, .peak_bps = NAN,
	};
	struct hci_pol_params pn = { .decrease = NAN, .increase = NAN, .baseline_alpha = NAN };
	struct hci_pol_state st = { 0 };
	struct hci_pol_decision d;

	hci_policy_step(&pn, &st, &c, 1, &v, 1, &d);
	is_int(d.action, HCI_POL_HOLD, "garbage: nothing active, HOLD");
	ok(v.cap_iops == 0 && v.cap_bps == 0 && v.peak_iops == 0 && v.peak_bps == 0,
	   "garbage: caps and peaks read as 0");
	is_int(c.solo_p99_us, 0, "garbage: baseline reads as 0");
	ok(sane_reason(d.reason), "garbage: reason is clean (%s)", d.reason);

	/* an active container with a NaN p99 and a NaN-load VM */
	c = (struct hci_pol_container){ .p99_us = NAN, .iops = 100, .target_p99_us = 1000 };
	v = (struct hci_pol_vm){ .iops = 1000, .bps = NAN };
	step(&st, &c, 1, &v, 1, &d);
	is_int(d.action, HCI_POL_HOLD, "garbage: NaN p99 cannot miss");
	is_int(c.solo_p99_us, 0, "garbage: NaN p99 is not learned");
	c.p99_us = 5000;
	step(&st, &c, 1, &v, 1, &d);
	ok(d.action == HCI_POL_CAP && v.cap_iops == 500 && v.cap_bps == 0,
	   "garbage: a NaN bandwidth is no bandwidth");
	ok(sane_reason(d.reason), "garbage: reason is clean (%s)", d.reason);
	c.iops = 1e300;
	c.p99_us = 1e300;
	v.iops = 1e300;
	v.bps = 1e300;
	v.cap_iops = 0;
	v.cap_bps = 0;
	step(&st, &c, 1, &v, 1, &d);
	ok(d.action == HCI_POL_CAP && isfinite(v.cap_iops) && isfinite(v.cap_bps),
	   "garbage: huge numbers stay finite");
	ok(sane_reason(d.reason), "garbage: huge numbers, reason fits (%s)", d.reason);
}

/* 64 VMs in one line: cut at 255 characters, marked */
#define HEAD "container[0] p99 123456us > target 100us; capping 64 VMs: vm[0] iops 12345 -> 6172"
static void test_long_reason(void)
{
	struct hci_pol_container c = { .target_p99_us = 100, .p99_us = 123456, .iops = 10 };
	struct hci_pol_vm v[HCI_POL_MAX + 1];
	struct hci_pol_state st = { 0 };
	struct hci_pol_decision d;
	int capped = 0;
	size_t n;

	memset(v, 0, sizeof(v));
	for (int i = 0; i <= HCI_POL_MAX; i++) {
		v[i].iops = 12345 + i;
		v[i].bps = 1e9;
	}
	step(&st, &c, 1, v, HCI_POL_MAX + 1, &d);
	for (int i = 0; i < HCI_POL_MAX; i++)
		capped += v[i].cap_iops > 0 && v[i].cap_bps > 0;
	n = strlen(d.reason);
	is_int(d.action, HCI_POL_CAP, "long: CAP");
	is_int(capped, HCI_POL_MAX, "long: all of the first HCI_POL_MAX VMs capped");
	is_int(v[HCI_POL_MAX].cap_iops, 0, "long: none past HCI_POL_MAX");
	is_int(n, 255, "long: reason cut to 255 characters");
	is_str(d.reason + n - 3, "...", "long: the cut is marked");
	ok(!strncmp(d.reason, HEAD, strlen(HEAD)), "long: the head survives (%.63s)", d.reason);
}

int main(void)
{
	test_step_response();
	test_floor();
	test_proportional();
	test_baseline();
	test_min_iops();
	test_no_vm();
	test_rules();
	test_garbage();
	test_long_reason();
	return done_testing();
}
