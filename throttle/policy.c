// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcithrottle's AIMD controller; policy.h has the spec. What it leaves open
 * is settled here:
 * - A VM is active when it did any I/O this interval (iops or bps > 0), a
 *   container when its iops > 0. IOPS and bandwidth are capped separately,
 *   each only while the VM has load in that dimension.
 * - Peaks: while a dimension is uncapped its peak follows the measured load,
 *   so at the first cap it is at least the load of that interval. Peaks are
 *   kept across cap removals (the daemon owns the state and may reset it).
 * - CAP: every active VM, new cap = max(floor, 1, decrease x min(cap, load)).
 *   A cap at its floor stays; if no cap can move the decision is a HOLD "at
 *   floor". A cap in force below its floor (the floor was raised) is raised
 *   to it on the next step, whatever the decision.
 * - The healthy streak counts healthy intervals in which some VM was active;
 *   any miss resets it. Intervals without an active VM say nothing about
 *   interference: they neither count nor change a cap (HOLD), but they are
 *   where solo baselines are learned.
 * - LIFT: once the streak reaches healthy_intervals, every interval while it
 *   lasts, the caps of active VMs rise by increase x peak; a cap reaching the
 *   peak is removed. The cap of an idle VM waits for the VM to come back.
 * - A relative target without a learned baseline cannot miss. NaN, infinite
 *   or negative numbers read as 0; out-of-range parameters take defaults.
 * - The reason is one line of at most 255 characters, ending in "..." when
 *   it had to be cut.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "policy.h"

#define DEF_DECREASE 0.5
#define DEF_INCREASE 0.1
#define DEF_ALPHA 0.2
#define MIN_CAP 1.0		/* never 0, which would mean "no limit" */

enum miss_kind { MISS_NONE, MISS_ABS, MISS_REL, MISS_MIN };

/* what one dimension of one VM did this step */
enum dim_res { DIM_NONE, DIM_CHANGED, DIM_AT_FLOOR, DIM_REMOVED };

struct rbuf {
	char *s;
	size_t len, size;
	bool cut;
};

static double san(double x)
{
	return isfinite(x) && x > 0 ? x : 0;
}

static double dmin(double a, double b)
{
	return a < b ? a : b;
}

static double dmax(double a, double b)
{
	return a > b ? a : b;
}

__attribute__((format(printf, 2, 3)))
static void rb_add(struct rbuf *b, const char *fmt, ...)
{
	size_t room = b->size - b->len;
	va_list ap;
	int n;

	if (b->cut)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->len, room, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < room) {
		b->len += (size_t)n;
		return;
	}
	b->cut = true;
	b->len = b->size - 1;
	memcpy(b->s + b->size - 4, "...", 4);
}

/* bandwidth in binary units, short */
static void fmt_bw(char *buf, size_t n, double bps)
{
	static const char *const units[] = { "B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s" };
	unsigned int u = 0;

	if (bps == 0) {
		snprintf(buf, n, "none");
		return;
	}
	while (bps >= 1024 && u < sizeof(units) / sizeof(units[0]) - 1) {
		bps /= 1024;
		u++;
	}
	if (bps >= 1e6)
		snprintf(buf, n, "%.3g%s", bps, units[u]);
	else
		snprintf(buf, n, u ? "%.1f%s" : "%.0f%s", bps, units[u]);
}

/* a count or microseconds: whole numbers, short when absurd */
static void fmt_num(char *buf, size_t n, double x)
{
	snprintf(buf, n, x >= 1e12 ? "%.3g" : "%.0f", x);
}

static void fmt_iops(char *buf, size_t n, double iops)
{
	if (iops == 0)
		snprintf(buf, n, "none");
	else
		fmt_num(buf, n, iops);
}

static void add_change(struct rbuf *b, bool bw, double from, double to)
{
	char f[32], t[32];

	if (bw) {
		fmt_bw(f, sizeof(f), from);
		fmt_bw(t, sizeof(t), to);
	} else {
		fmt_iops(f, sizeof(f), from);
		fmt_iops(t, sizeof(t), to);
	}
	rb_add(b, " %s %s -> %s", bw ? "bw" : "iops", f, t);
}

static enum dim_res cap_dim(double *cap, double *peak, double load, double floor,
			    double dec)
{
	double nw;

	if (load <= 0)
		return DIM_NONE;
	nw = dmax(dmax(dec * (*cap > 0 ? dmin(*cap, load) : load), floor), MIN_CAP);
	if (*cap > 0 && nw >= *cap)
		return DIM_AT_FLOOR;
	if (*cap == 0)
		*peak = dmax(*peak, load);
	*cap = nw;
	return DIM_CHANGED;
}

static enum dim_res lift_dim(double *cap, double peak, double inc)
{
	double nw;

	if (*cap <= 0)
		return DIM_NONE;
	nw = *cap + inc * peak;
	if (nw >= peak) {
		*cap = HCI_POL_NOCAP;
		return DIM_REMOVED;
	}
	*cap = nw;
	return DIM_CHANGED;
}

/* the worst missing container, as "container[i] p99 ...us > target ...us" */
static void add_miss(struct rbuf *b, const struct hci_pol_container *c, size_t i,
		     enum miss_kind k, double p99, double iops, size_t nmiss)
{
	char x[32], y[32];

	if (nmiss > 1)
		rb_add(b, "%zu containers miss, worst ", nmiss);
	switch (k) {
	case MISS_ABS:
		fmt_num(x, sizeof(x), p99);
		fmt_num(y, sizeof(y), san(c->target_p99_us));
		rb_add(b, "container[%zu] p99 %sus > target %sus", i, x, y);
		break;
	case MISS_REL:
		fmt_num(x, sizeof(x), p99);
		fmt_num(y, sizeof(y), c->solo_p99_us);
		rb_add(b, "container[%zu] p99 %sus > %.3gx solo %sus", i, x,
		       san(c->target_rel), y);
		break;
	default:
		fmt_num(x, sizeof(x), iops);
		fmt_num(y, sizeof(y), san(c->min_iops));
		rb_add(b, "container[%zu] iops %s < min %s", i, x, y);
		break;
	}
}

/* One step's working state: the sane parameters, the VMs' sane loads, what
 * the containers said, and the reason being written. */
struct step {
	double dec, inc, alpha;
	unsigned int need;
	double viops[HCI_POL_MAX], vbps[HCI_POL_MAX];
	bool vact[HCI_POL_MAX], raised[HCI_POL_MAX];
	size_t nact, nraised, ncact, nmiss, nchanged;
	double worst_sev, worst_p99, worst_iops;
	enum miss_kind worst_kind;
	bool learned;
	struct rbuf b;
};

/* out-of-range parameters take defaults */
static void step_params(struct step *w, const struct hci_pol_params *p)
{
	w->dec = p ? p->decrease : 0;
	w->inc = p ? p->increase : 0;
	w->alpha = p ? p->baseline_alpha : 0;
	w->need = p && p->healthy_intervals ? p->healthy_intervals : 1;
	if (!(w->dec > 0 && w->dec < 1))
		w->dec = DEF_DECREASE;
	if (!(w->inc > 0 && w->inc <= 1))
		w->inc = DEF_INCREASE;
	if (!(w->alpha > 0 && w->alpha <= 1))
		w->alpha = DEF_ALPHA;
}

/* VMs: sane state, floors on caps in force, peaks while uncapped */
static void prepare_vms(struct step *w, struct hci_pol_vm *v, size_t nv)
{
	for (size_t i = 0; i < nv; i++) {
		struct hci_pol_vm *m = &v[i];
		double fi = san(m->floor_iops), fb = san(m->floor_bps);

		w->viops[i] = san(m->iops);
		w->vbps[i] = san(m->bps);
		w->vact[i] = w->viops[i] > 0 || w->vbps[i] > 0;
		w->nact += w->vact[i];
		m->cap_iops = san(m->cap_iops);
		m->cap_bps = san(m->cap_bps);
		m->peak_iops = san(m->peak_iops);
		m->peak_bps = san(m->peak_bps);
		w->raised[i] = false;
		if (m->cap_iops > 0 && m->cap_iops < fi) {
			m->cap_iops = fi;
			w->raised[i] = true;
		}
		if (m->cap_bps > 0 && m->cap_bps < fb) {
			m->cap_bps = fb;
			w->raised[i] = true;
		}
		w->nraised += w->raised[i];
		if (m->cap_iops == 0)
			m->peak_iops = dmax(m->peak_iops, w->viops[i]);
		if (m->cap_bps == 0)
			m->peak_bps = dmax(m->peak_bps, w->vbps[i]);
	}
}

/* How badly one active container misses its targets (0: it meets them),
 * and in which way; its solo baseline is learned while no VM runs. */
static double miss_of(struct step *w, struct hci_pol_container *k, enum miss_kind *kind)
{
	double p99 = san(k->p99_us), iops = san(k->iops);
	double t_abs = san(k->target_p99_us), t_rel = san(k->target_rel);
	double mn = san(k->min_iops), sev = 0;

	*kind = MISS_NONE;
	if (!w->nact && p99 > 0) {
		k->solo_p99_us = k->solo_p99_us > 0 ?
			(1 - w->alpha) * k->solo_p99_us + w->alpha * p99 : p99;
		w->learned = true;
	}
	if (t_abs > 0 && p99 > t_abs && p99 / t_abs > sev) {
		sev = p99 / t_abs;
		*kind = MISS_ABS;
	}
	if (t_rel > 0 && k->solo_p99_us > 0 && p99 > t_rel * k->solo_p99_us &&
	    p99 / (t_rel * k->solo_p99_us) > sev) {
		sev = p99 / (t_rel * k->solo_p99_us);
		*kind = MISS_REL;
	}
	if (mn > 0 && iops < mn && mn / iops > sev) {
		sev = mn / iops;
		*kind = MISS_MIN;
	}
	return sev;
}

/* containers: solo baselines while no VM runs, then targets; the worst
 * miss goes to d->worst */
static void judge_containers(struct step *w, struct hci_pol_container *c, size_t nc,
			     struct hci_pol_decision *d)
{
	for (size_t i = 0; i < nc; i++) {
		struct hci_pol_container *k = &c[i];
		enum miss_kind kind;
		double sev;

		k->solo_p99_us = san(k->solo_p99_us);
		if (san(k->iops) <= 0)
			continue;
		w->ncact++;
		sev = miss_of(w, k, &kind);
		if (kind == MISS_NONE)
			continue;
		if (!w->nmiss++ || sev > w->worst_sev) {
			w->worst_sev = sev;
			w->worst_kind = kind;
			w->worst_p99 = san(k->p99_us);
			w->worst_iops = san(k->iops);
			d->worst = (int)i;
		}
	}
}

static void add_worst(struct step *w, const struct hci_pol_container *c,
		      const struct hci_pol_decision *d)
{
	add_miss(&w->b, &c[d->worst], (size_t)d->worst, w->worst_kind, w->worst_p99,
		 w->worst_iops, w->nmiss);
}

/* No VM did I/O: nothing to cap or lift. */
static void step_no_vm(struct step *w, const struct hci_pol_container *c,
		       struct hci_pol_decision *d)
{
	rb_add(&w->b, "no active VM");
	if (w->nmiss) {
		rb_add(&w->b, ", nothing to throttle; ");
		add_worst(w, c, d);
	} else if (w->learned) {
		rb_add(&w->b, "; learning solo baselines");
	}
	d->worst = -1;
}

/*
 * One dimension's part of a capped VM's "vm[i] ...": "load -> cap" (what
 * the decrease was applied to: the old cap, where it was below the load),
 * then " (floor)" when the cap came down to the floor, or "<dim> at floor"
 * when it was there already.
 */
static void add_capped(struct rbuf *lb, enum dim_res res, bool bw, double old_cap,
		       double load, double cap, double floor)
{
	if (res == DIM_CHANGED)
		add_change(lb, bw, old_cap > 0 ? dmin(old_cap, load) : load, cap);
	if (res == DIM_CHANGED && cap == floor)
		rb_add(lb, " (floor)");
	else if (res == DIM_AT_FLOOR)
		rb_add(lb, " %s at floor", bw ? "bw" : "iops");
}

/* Cap one active VM in both dimensions, adding "vm[i] ..." to lb. */
static void cap_vm(struct step *w, struct hci_pol_vm *m, size_t i, struct rbuf *lb)
{
	double oi = m->cap_iops, ob = m->cap_bps;
	enum dim_res ri, rb;

	ri = cap_dim(&m->cap_iops, &m->peak_iops, w->viops[i], san(m->floor_iops), w->dec);
	rb = cap_dim(&m->cap_bps, &m->peak_bps, w->vbps[i], san(m->floor_bps), w->dec);
	if (ri != DIM_CHANGED && rb != DIM_CHANGED)
		return;
	rb_add(lb, "%svm[%zu]", w->nchanged++ ? "; " : "", i);
	add_capped(lb, ri, false, oi, w->viops[i], m->cap_iops, san(m->floor_iops));
	add_capped(lb, rb, true, ob, w->vbps[i], m->cap_bps, san(m->floor_bps));
}

/* A container misses while VMs run: cap every active VM. */
static void step_cap(struct step *w, const struct hci_pol_container *c, struct hci_pol_vm *v,
		     size_t nv, struct hci_pol_decision *d)
{
	char list[sizeof(d->reason)];
	struct rbuf lb = { .s = list, .size = sizeof(list) };

	list[0] = '\0';
	add_worst(w, c, d);
	for (size_t i = 0; i < nv; i++)
		if (w->vact[i])
			cap_vm(w, &v[i], i, &lb);
	if (w->nchanged) {
		/* a cut list is 255 characters: the whole line is cut too */
		rb_add(&w->b, "; capping %zu VM%s: %s", w->nchanged,
		       w->nchanged == 1 ? "" : "s", list);
		d->action = HCI_POL_CAP;
	} else {
		rb_add(&w->b, "; all active VMs at floor");
		d->worst = -1;
	}
}

/* Healthy long enough: raise the active VMs' caps. */
static void lift_vms(struct step *w, struct hci_pol_vm *v, size_t nv)
{
	for (size_t i = 0; i < nv; i++) {
		struct hci_pol_vm *m = &v[i];
		double oi = m->cap_iops, ob = m->cap_bps;
		enum dim_res ri, rb;

		if (!w->vact[i])
			continue;
		ri = lift_dim(&m->cap_iops, m->peak_iops, w->inc);
		rb = lift_dim(&m->cap_bps, m->peak_bps, w->inc);
		if (ri == DIM_NONE && rb == DIM_NONE)
			continue;
		rb_add(&w->b, "%svm[%zu]", w->nchanged++ ? "; " : "", i);
		if (ri != DIM_NONE)
			add_change(&w->b, false, oi, m->cap_iops);
		if (rb != DIM_NONE)
			add_change(&w->b, true, ob, m->cap_bps);
	}
}

/* Every container meets its targets while VMs run: count the streak, and
 * lift once it is long enough. */
static void step_healthy(struct step *w, struct hci_pol_state *st, struct hci_pol_vm *v,
			 size_t nv, struct hci_pol_decision *d)
{
	const char *how = w->ncact ? "containers meet targets" : "no active container";
	size_t ncapped = 0;

	if (st->healthy < UINT_MAX)
		st->healthy++;
	for (size_t i = 0; i < nv; i++)
		ncapped += w->vact[i] && (v[i].cap_iops > 0 || v[i].cap_bps > 0);
	if (ncapped && st->healthy >= w->need) {
		rb_add(&w->b, "%s for %u intervals; lifting %zu VM%s: ", how, st->healthy,
		       ncapped, ncapped == 1 ? "" : "s");
		lift_vms(w, v, nv);
		d->action = HCI_POL_LIFT;
	} else if (ncapped) {
		rb_add(&w->b, "%s, healthy %u/%u; holding caps", how, st->healthy, w->need);
	} else {
		bool idle_caps = false;

		for (size_t i = 0; i < nv; i++)
			idle_caps |= v[i].cap_iops > 0 || v[i].cap_bps > 0;
		rb_add(&w->b, "%s; %s", how, idle_caps ? "capped VMs idle, caps kept" : "no caps");
	}
}

void hci_policy_step(const struct hci_pol_params *p, struct hci_pol_state *st,
		     struct hci_pol_container *c, size_t nc, struct hci_pol_vm *v, size_t nv,
		     struct hci_pol_decision *d)
{
	struct step w = {0};

	step_params(&w, p);
	if (!c)
		nc = 0;
	if (!v)
		nv = 0;
	if (nc > HCI_POL_MAX)
		nc = HCI_POL_MAX;
	if (nv > HCI_POL_MAX)
		nv = HCI_POL_MAX;
	d->action = HCI_POL_HOLD;
	d->worst = -1;
	d->reason[0] = '\0';
	w.b = (struct rbuf){ .s = d->reason, .size = sizeof(d->reason) };

	prepare_vms(&w, v, nv);
	judge_containers(&w, c, nc, d);
	if (w.nmiss)
		st->healthy = 0;
	if (!w.nact)
		step_no_vm(&w, c, d);
	else if (w.nmiss)
		step_cap(&w, c, v, nv, d);
	else
		step_healthy(&w, st, v, nv, d);

	if (w.nraised) {
		rb_add(&w.b, "; raised to floor:");
		for (size_t i = 0; i < nv; i++)
			if (w.raised[i])
				rb_add(&w.b, " vm[%zu]", i);
		if (d->action == HCI_POL_HOLD)
			d->action = HCI_POL_LIFT;
	}
}
