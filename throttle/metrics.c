// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcithrottle's metrics (metrics.h): each decision interval the whole
 * exposition text is built from what the controller holds (lib/fmt/prom.h),
 * published to the /metrics thread (lib/fmt/httpd.h) and written to
 * --prom-file. Labels come only from the configuration's devices and the
 * origin map; origins of one name on one device (two cgroups a rule names
 * alike) are one series, summed. The decision counters live here, keyed by
 * (device, origin, kind, reason), with the reason a fixed class of the
 * decision log's free text so that it stays bounded.
 */
#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "hcitrace.skel.h"
#include "fmt/httpd.h"
#include "fmt/prom.h"
#include "metrics_file.h"
#include "throttle.h"

enum kind { KIND_CAP, KIND_LIFT, KIND_RESTORE, NKINDS };
static const char *const kind_names[NKINDS] = { "cap", "lift", "restore" };

/* the reason classes: docs/hcithrottle.md ("Metrics") says what each means */
enum reason {
	WHY_P99, WHY_P99_REL, WHY_MIN_IOPS, WHY_HEALTHY, WHY_NO_CONTAINER, WHY_FLOOR,
	WHY_RETRY, WHY_EXIT, WHY_OTHER, NWHYS
};
static const char *const why_names[NWHYS] = {
	"p99_target", "p99_relative", "min_iops", "healthy", "no_container",
	"floor_raised", "retry", "exit", "other",
};

struct dcount {
	int dev;
	char origin[HCI_ORIGIN_MAX];
	enum kind kind;
	enum reason why;
	unsigned long n;
};

struct thr_metrics {
	struct hci_prom p;		/* per interval: gauges, decisions, the service */
	struct hci_prom hp;		/* the tracer's families, at most once a period */
	__u64 hp_ns;			/* when hp was built */
	char *out;			/* p then hp: the text served and written */
	size_t outlen, outcap;
	struct hci_httpd *h;
	struct thr_pfile *pf;		/* --prom-file's writer thread */
	bool pf_said;			/* its first error was said */
	struct dcount *dc;
	size_t ndc;
	unsigned long dc_dropped;	/* decisions past THR_METRICS_MAX_DECISIONS */
	bool render_failed;		/* said once */
	int unrestored;
	__u64 last_active[HCI_TCONF_MAX][MAX_ORIGINS];	/* per ostate slot, ns */
};

/* One (device, origin) series: its ostates summed. */
struct grp {
	int dev;
	const struct ostate *o;		/* the first: targets, floors */
	double iops, bps, p99_us;
	struct hci_limit cap;
	struct hci_hist_val *h[HCI_NOPS];	/* cumulative, from the tracer */
};

static const char *spec_or(const char *cli, const char *conf)
{
	return cli ? cli : conf[0] ? conf : NULL;
}

int thr_metrics_start(struct svc *s)
{
	const char *listen = spec_or(s->o.listen, s->conf.listen);
	const char *file = spec_or(s->o.prom_file, s->conf.prom_file);
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct thr_metrics *m;
	char err[512];

	if (!listen && !file)
		return 0;
	if (listen && hci_httpd_addr(listen, &ss, &sslen, err, sizeof(err))) {
		hci_errorf("%s", err);	/* it names the address */
		return 2;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		hci_errorf("out of memory");
		return 1;
	}
	hci_prom_init(&m->p);
	hci_prom_init(&m->hp);
	if (file && !(m->pf = thr_pfile_start(file, err, sizeof(err)))) {
		hci_errorf("%s", err);
		free(m);
		return 1;
	}
	if (listen) {
		m->h = hci_httpd_start(listen, s->o.verbose > 0, err, sizeof(err));
		if (!m->h) {
			hci_errorf("%s", err);
			thr_pfile_stop(m->pf);
			free(m);
			return 1;
		}
		fprintf(stderr, "hcithrottle: metrics on http://%s/metrics\n",
			hci_httpd_where(m->h));
	}
	/* served from the first interval on (503 before: nothing published) */
	s->metrics = m;
	return 0;
}

/* The decision log's reason text, as one of a few classes (policy.c writes
 * these phrases; anything else is "other"). */
static enum reason classify(const struct hci_pol_decision *dec)
{
	if (dec->action == HCI_POL_HOLD)
		return WHY_RETRY;	/* the last write failed: the same caps again */
	if (dec->action == HCI_POL_CAP)
		return strstr(dec->reason, " > target ") ? WHY_P99 :
		       strstr(dec->reason, "x solo ") ? WHY_P99_REL :
		       strstr(dec->reason, " < min ") ? WHY_MIN_IOPS : WHY_OTHER;
	if (strstr(dec->reason, "lifting"))
		return strstr(dec->reason, "no active container") ? WHY_NO_CONTAINER :
								    WHY_HEALTHY;
	return strstr(dec->reason, "raised to floor") ? WHY_FLOOR : WHY_OTHER;
}

static void count(struct thr_metrics *m, int dev, const char *origin, enum kind kind,
		  enum reason why)
{
	struct dcount *c;

	for (size_t i = 0; i < m->ndc; i++) {
		c = &m->dc[i];
		if (c->dev == dev && c->kind == kind && c->why == why && !strcmp(c->origin, origin)) {
			c->n++;
			return;
		}
	}
	if (!m->dc)
		m->dc = calloc(THR_METRICS_MAX_DECISIONS, sizeof(*m->dc));
	if (!m->dc || m->ndc == THR_METRICS_MAX_DECISIONS) {
		m->dc_dropped++;
		return;
	}
	c = &m->dc[m->ndc++];
	c->dev = dev;
	snprintf(c->origin, sizeof(c->origin), "%s", origin);
	c->kind = kind;
	c->why = why;
	c->n = 1;
}

void thr_metrics_decision(struct svc *s, const struct tdev *d, const struct ostate *o,
			  const struct hci_pol_decision *dec)
{
	/* the decision log's action: a retried write is logged as a lift */
	if (s->metrics)
		count(s->metrics, (int)(d - s->devs), o->origin,
		      dec->action == HCI_POL_CAP ? KIND_CAP : KIND_LIFT, classify(dec));
}

static bool capped(const struct hci_limit *l)
{
	return l->riops > 0 || l->wiops > 0 || l->rbps > 0 || l->wbps > 0;
}

static int grp_cmp(const void *a, const void *b)
{
	const struct grp *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return strcmp(x->o->origin, y->o->origin);
}

/* The origins exported, one per (device, origin), sorted; *n of them. */
static struct grp *collect(struct svc *s, struct thr_metrics *m, size_t *n)
{
	__u64 now = hci_now_ns(), idle = (__u64)THR_METRICS_IDLE_S * 1000000000ULL;
	size_t total = 0, j = 0;
	struct grp *g;

	for (int k = 0; k < s->ndevs; k++)
		total += (size_t)s->devs[k].n;
	*n = 0;
	g = calloc(total ? total : 1, sizeof(*g));
	if (!g)
		return NULL;
	for (int k = 0; k < s->ndevs; k++)
		for (int i = 0; i < s->devs[k].n; i++) {
			const struct ostate *o = &s->devs[k].o[i];

			if (o->iops > 0 || o->bps > 0)
				m->last_active[k][i] = now;
			if (o->gone || (!capped(&o->in_force) && now - m->last_active[k][i] > idle))
				continue;
			/* the limits as the kernel has them: written with %.0f */
			g[j++] = (struct grp){ .dev = k, .o = o, .iops = o->iops, .bps = o->bps,
					       .p99_us = o->p99_us,
					       .cap = { nearbyint(o->in_force.riops),
							nearbyint(o->in_force.wiops),
							nearbyint(o->in_force.rbps),
							nearbyint(o->in_force.wbps) } };
		}
	qsort(g, j, sizeof(*g), grp_cmp);
	for (size_t i = 0; i < j; i++) {
		struct grp *w = &g[*n ? *n - 1 : 0];

		if (*n && !grp_cmp(w, &g[i])) {
			w->iops += g[i].iops;
			w->bps += g[i].bps;
			w->p99_us = g[i].p99_us > w->p99_us ? g[i].p99_us : w->p99_us;
			w->cap.riops += g[i].cap.riops;
			w->cap.wiops += g[i].cap.wiops;
			w->cap.rbps += g[i].cap.rbps;
			w->cap.wbps += g[i].cap.wbps;
		} else {
			g[(*n)++] = g[i];
		}
	}
	return g;
}

/* The tracer's cumulative histograms of each exported origin, per op. */
static void attach_hists(struct svc *s, struct grp *g, size_t n)
{
	const struct hci_snap *sn = &s->prev;
	size_t words = sn->vsz / sizeof(__u64);

	if (words > sizeof(struct hci_hist_val) / sizeof(__u64))
		words = sizeof(struct hci_hist_val) / sizeof(__u64);
	for (size_t i = 0; i < sn->n; i++) {
		const struct hci_hist_key *key = (const void *)(sn->keys + i * sn->ksz);
		const struct hci_origin *ro;
		struct ostate probe;
		struct grp want = { .o = &probe }, *hit;

		want.dev = -1;
		for (int k = 0; k < s->ndevs; k++)
			if (s->devs[k].dev == key->dev)
				want.dev = k;
		if (want.dev < 0 || key->op >= HCI_NOPS)
			continue;
		ro = hci_origin_lookup(&s->res, key->cgid, key->vmm_tgid);
		if (!ro)
			continue;
		snprintf(probe.origin, sizeof(probe.origin), "%s", ro->name);
		hit = bsearch(&want, g, n, sizeof(*g), grp_cmp);
		if (!hit)
			continue;	/* not an origin hcithrottle tracks, or idle */
		if (!hit->h[key->op])
			hit->h[key->op] = calloc(1, sizeof(struct hci_hist_val));
		if (hit->h[key->op])
			hci_u64s_add((__u64 *)hit->h[key->op], &sn->vals[i * (sn->vsz / 8)],
				     words);
	}
}

/* the labels of one series, in hcitrace's order: origin, origin_class
 * ("vm", "container", "host"), device, then op and stage */
struct labels {
	struct hci_prom_label l[5];
	char cls[HCI_ORIGIN_MAX];
};

static size_t labels_of(struct labels *lb, const struct svc *s, const struct grp *g)
{
	const char *o = g->o->origin;

	snprintf(lb->cls, sizeof(lb->cls), "%.*s", (int)strcspn(o, ":"), o);
	lb->l[0] = (struct hci_prom_label){ "origin", o };
	lb->l[1] = (struct hci_prom_label){ "origin_class", lb->cls };
	lb->l[2] = (struct hci_prom_label){ "device", s->devs[g->dev].name };
	return 3;
}

enum gwhat { G_CAP_IOPS, G_CAP_BPS, G_IOPS, G_BPS, G_P99, G_TARGET_P99, G_TARGET_MIN,
	     G_FLOOR_IOPS, G_FLOOR_BPS };

static const struct gspec {
	const char *name, *help;
	enum gwhat what;
	bool per_dir;		/* a series per direction: op="read", op="write" */
} gauges[] = {
	{ "hcithrottle_cap_iops", "IOPS limit hcithrottle has in force on the origin, per "
	  "direction, as written (the operator's own limit stays a ceiling); 0 = no limit",
	  G_CAP_IOPS, true },
	{ "hcithrottle_cap_bytes_per_second", "Bandwidth limit hcithrottle has in force on the "
	  "origin, per direction, as written; 0 = no limit", G_CAP_BPS, true },
	{ "hcithrottle_iops", "Completed I/Os per second in the last decision interval",
	  G_IOPS, false },
	{ "hcithrottle_bytes_per_second", "Bytes per second completed in the last decision "
	  "interval", G_BPS, false },
	{ "hcithrottle_p99_seconds", "p99 of queue-to-completion (Q2C) in the last decision "
	  "interval, interpolated in its log2 bucket; 0 when idle", G_P99, false },
	{ "hcithrottle_target_p99_seconds", "A protected container's p99 target: the absolute "
	  "one, or the multiple of its learned solo p99 (NaN until learned), the lower of the "
	  "two when both are set", G_TARGET_P99, false },
	{ "hcithrottle_target_min_iops", "A protected container's min_iops target",
	  G_TARGET_MIN, false },
	{ "hcithrottle_floor_iops", "A VM's IOPS floor: no cap goes below it", G_FLOOR_IOPS,
	  false },
	{ "hcithrottle_floor_bytes_per_second", "A VM's bandwidth floor (configured, or implied "
	  "by its IOPS floor at its mean request size)", G_FLOOR_BPS, false },
};

/* the container's effective p99 target in seconds, NaN while a relative
 * one has no baseline yet */
static double target_p99_s(const struct ostate *o)
{
	double abs = o->c.target_p99_us, rel = 0;

	if (o->c.target_rel > 0)
		rel = o->c.solo_p99_us > 0 ? o->c.target_rel * o->c.solo_p99_us : NAN;
	if (abs > 0 && (rel == 0 || isnan(rel) || abs < rel))
		return abs / 1e6;
	return rel / 1e6;
}

/* whether the series exists, and its value (dir 0 read, 1 write) */
static bool gauge_value(enum gwhat w, const struct grp *g, int dir, double *v)
{
	const struct ostate *o = g->o;

	switch (w) {
	case G_CAP_IOPS: *v = dir ? g->cap.wiops : g->cap.riops; return true;
	case G_CAP_BPS: *v = dir ? g->cap.wbps : g->cap.rbps; return true;
	case G_IOPS: *v = g->iops; return true;
	case G_BPS: *v = g->bps; return true;
	case G_P99: *v = g->p99_us / 1e6; return true;
	case G_TARGET_P99:
		*v = target_p99_s(o);
		return o->container && (o->c.target_p99_us > 0 || o->c.target_rel > 0);
	case G_TARGET_MIN: *v = o->c.min_iops; return o->container && o->c.min_iops > 0;
	case G_FLOOR_IOPS: *v = o->v.floor_iops; return o->vm && o->v.floor_iops > 0;
	case G_FLOOR_BPS: *v = o->v.floor_bps; return o->vm && o->v.floor_bps > 0;
	}
	return false;
}

static void put_gauges(struct hci_prom *p, const struct svc *s, const struct grp *g, size_t n)
{
	static const char *const dirs[2] = { "read", "write" };

	for (size_t f = 0; f < sizeof(gauges) / sizeof(gauges[0]); f++) {
		const struct gspec *sp = &gauges[f];

		hci_prom_family(p, sp->name, HCI_PROM_GAUGE, sp->help);
		for (size_t i = 0; i < n; i++)
			for (int dir = 0; dir < (sp->per_dir ? 2 : 1); dir++) {
				struct labels lb;
				size_t nl = labels_of(&lb, s, &g[i]);
				double v;

				if (!gauge_value(sp->what, &g[i], dir, &v))
					continue;
				if (sp->per_dir)
					lb.l[nl++] = (struct hci_prom_label){ "op", dirs[dir] };
				hci_prom_sample(p, sp->name, lb.l, nl, v);
			}
	}
}

/*
 * The tracer's families, named as hcitrace names them, so that one
 * dashboard reads both (the scrape's job label tells them apart).
 */
#define F_STAGE "hcitrace_block_stage_seconds"
#define F_LOST "hcitrace_lost_events_total"

static void put_hists(struct hci_prom *p, const struct svc *s, const struct grp *g, size_t n)
{
	hci_prom_family(p, F_STAGE, HCI_PROM_HISTOGRAM, "Block I/O latency per stage (Q2G, "
			"G2I, I2D, G2D, D2C, Q2C), from the in-kernel log2-microsecond buckets, "
			"since hcithrottle started");
	for (size_t i = 0; i < n; i++)
		for (int op = 0; op < HCI_NOPS; op++) {
			struct labels lb;
			size_t nl = labels_of(&lb, s, &g[i]);

			if (!g[i].h[op])
				continue;
			lb.l[nl++] = (struct hci_prom_label){ "op", hci_op_names[op] };
			for (int st = 0; st < HCI_NSTAGES; st++) {
				if (!hci_slots_count(g[i].h[op]->slots[st]))
					continue;	/* absent, as in hcitrace */
				lb.l[nl] = (struct hci_prom_label){ "stage", hci_stage_names[st] };
				hci_prom_hist_log2us(p, F_STAGE, lb.l, nl + 1, g[i].h[op]->slots[st],
						     g[i].h[op]->sum_ns[st]);
			}
		}
}

static void put_io_counters(struct hci_prom *p, const struct svc *s, const struct grp *g,
			    size_t n)
{
#define V(f) offsetof(struct hci_hist_val, f)
	static const struct { const char *name, *help; size_t off; } fam[] = {
		{ "hcitrace_block_ios_total", "Requests completed (bios, on bio-based disks)",
		  V(ios) },
		{ "hcitrace_block_bytes_total", "Bytes of the requests completed", V(bytes) },
		{ "hcitrace_block_bio_merges_total", "Bios merged into an existing request",
		  V(merges) },
		{ "hcitrace_block_request_merges_total", "Requests merged into another request",
		  V(rq_merges) },
		{ "hcitrace_block_splits_total", "Bios split to fit the queue limits", V(splits) },
		{ "hcitrace_block_requeues_total", "Requests requeued", V(requeues) },
	};
#undef V

	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		hci_prom_family(p, fam[f].name, HCI_PROM_COUNTER, fam[f].help);
		for (size_t i = 0; i < n; i++)
			for (int op = 0; op < HCI_NOPS; op++) {
				const char *h = (const char *)g[i].h[op];
				struct labels lb;
				size_t nl = labels_of(&lb, s, &g[i]);
				__u64 v;

				if (!h)
					continue;
				memcpy(&v, h + fam[f].off, sizeof(v));
				lb.l[nl++] = (struct hci_prom_label){ "op", hci_op_names[op] };
				hci_prom_sample_u64(p, fam[f].name, lb.l, nl, v);
			}
	}
}

static void put_decisions(struct hci_prom *p, const struct svc *s, const struct thr_metrics *m)
{
	hci_prom_family(p, "hcithrottle_decisions_total", HCI_PROM_COUNTER,
			"Limits written per origin, by kind (cap, lift, restore) and reason class "
			"(p99_target, p99_relative, min_iops, healthy, no_container, floor_raised, "
			"retry, exit, other)");
	for (size_t i = 0; i < m->ndc; i++) {
		const struct dcount *c = &m->dc[i];
		char cls[HCI_ORIGIN_MAX];
		const struct hci_prom_label l[] = {
			{ "origin", c->origin }, { "origin_class", cls },
			{ "device", s->devs[c->dev].name },
			{ "kind", kind_names[c->kind] }, { "reason", why_names[c->why] },
		};

		snprintf(cls, sizeof(cls), "%.*s", (int)strcspn(c->origin, ":"), c->origin);
		hci_prom_sample_u64(p, "hcithrottle_decisions_total", l, 5, c->n);
	}
}

static void counter(struct hci_prom *p, const char *name, const char *help, uint64_t v)
{
	hci_prom_family(p, name, HCI_PROM_COUNTER, help);
	hci_prom_sample_u64(p, name, NULL, 0, v);
}

/* the service's own counts, and every loss counter of the BPF side */
static void put_service(struct hci_prom *p, struct svc *s, const struct thr_metrics *m)
{
	__u64 lost[HCI_NCOUNTERS + 1];
	unsigned long served = 0, refused = 0;

	counter(p, "hcithrottle_intervals_total", "Decision intervals run", s->intervals);
	counter(p, "hcithrottle_limit_rewrites_total", "Limits written again, unchanged, to free "
		"bios blk-throttle held", s->rewrites);
	counter(p, "hcithrottle_cgroup_events_total", "cgroup mkdir, rmdir and attach events "
		"seen", s->cg_events);
	counter(p, "hcithrottle_metrics_decisions_dropped_total", "Decisions not counted in "
		"hcithrottle_decisions_total: its series table was full", m->dc_dropped);
	if (m->pf) {
		struct thr_pfile_counts c;

		thr_pfile_counts(m->pf, &c, NULL, 0);
		hci_prom_family(p, "hcithrottle_prom_file_writes_total", HCI_PROM_COUNTER,
				"--prom-file texts written, failed, or superseded by the next one "
				"before the writer thread reached them");
		hci_prom_sample_u64(p, "hcithrottle_prom_file_writes_total",
				    &(struct hci_prom_label){ "result", "written" }, 1, c.written);
		hci_prom_sample_u64(p, "hcithrottle_prom_file_writes_total",
				    &(struct hci_prom_label){ "result", "failed" }, 1, c.failed);
		hci_prom_sample_u64(p, "hcithrottle_prom_file_writes_total",
				    &(struct hci_prom_label){ "result", "superseded" }, 1,
				    c.superseded);
	}
	hci_prom_family(p, "hcithrottle_restore_failed", HCI_PROM_GAUGE, "Original limits "
			"that could not be put back at exit (the state file keeps them)");
	hci_prom_sample(p, "hcithrottle_restore_failed", NULL, 0, m->unrestored);
	if (m->h) {
		hci_httpd_counts(m->h, &served, &refused);
		hci_prom_family(p, "hcithrottle_http_requests_total", HCI_PROM_COUNTER,
				"Requests to --listen: scrapes served, and others refused");
		hci_prom_sample_u64(p, "hcithrottle_http_requests_total",
				    &(struct hci_prom_label){ "result", "served" }, 1, served);
		hci_prom_sample_u64(p, "hcithrottle_http_requests_total",
				    &(struct hci_prom_label){ "result", "refused" }, 1, refused);
	}
	if (!s->t.skel)
		return;		/* the tracer did not start */
	hci_tracer_counters(&s->t, lost);
	hci_prom_family(p, F_LOST, HCI_PROM_COUNTER, "Events lost or not followed, by counter "
			"(docs/hcitrace.md, \"Lost events\"): the BPF side's, as hcitrace has them");
	for (int i = 0; i <= HCI_NCOUNTERS; i++)
		hci_prom_sample_u64(p, F_LOST, &(struct hci_prom_label){ "counter",
				    hci_counter_names[i] }, 1, lost[i]);
}

/* The whole text, from what the controller holds now. */
/* m->out = p's text, then hp's: 0 or -ENOMEM */
static int join(struct thr_metrics *m)
{
	size_t len = m->p.len + m->hp.len;

	if (len + 1 > m->outcap) {
		char *b = realloc(m->out, len + 1);

		if (!b)
			return -ENOMEM;
		m->out = b;
		m->outcap = len + 1;
	}
	memcpy(m->out, m->p.buf, m->p.len);
	memcpy(m->out + m->p.len, m->hp.buf, m->hp.len);
	m->out[len] = '\0';
	m->outlen = len;
	return 0;
}

/*
 * The whole text, from what the controller holds now. The tracer's
 * families (most of the text: 34 lines per stage histogram) are cumulative
 * counts that rate() reads over a scrape interval or more, so they are
 * built again at most once per THR_METRICS_HIST_MS and at exit; the
 * controller's own (caps, decisions) every interval.
 */
static int render(struct svc *s, struct thr_metrics *m, bool final)
{
	__u64 now = hci_now_ns();
	bool hists = final || !m->hp_ns || now - m->hp_ns >= THR_METRICS_HIST_MS * 1000000ULL;
	size_t n = 0;
	struct grp *g = collect(s, m, &n);
	int err = g ? 0 : -ENOMEM;

	hci_prom_reset(&m->p);
	if (g && hists) {
		hci_prom_reset(&m->hp);
		attach_hists(s, g, n);
		put_hists(&m->hp, s, g, n);
		put_io_counters(&m->hp, s, g, n);
		m->hp_ns = now;
	}
	if (g)
		put_gauges(&m->p, s, g, n);
	put_decisions(&m->p, s, m);
	put_service(&m->p, s, m);
	for (size_t i = 0; g && i < n; i++)
		for (int op = 0; op < HCI_NOPS; op++)
			free(g[i].h[op]);
	free(g);
	if (!err)
		err = m->p.err ? m->p.err : m->hp.err;
	if (!err)
		err = join(m);
	if (err)
		m->hp_ns = 0;	/* the next interval builds everything again */
	return err;
}

static void publish(struct svc *s, struct thr_metrics *m, bool final)
{
	char err[512];
	int rc = render(s, m, final);

	if (rc) {
		/* the last good text stays served; said once */
		if (!m->render_failed)
			hci_errorf("metrics: %s; serving the last text", strerror(-rc));
		m->render_failed = true;
		return;
	}
	if (m->h)
		hci_httpd_publish(m->h, m->out, m->outlen);
	if (!m->pf)
		return;
	if (thr_pfile_post(m->pf, m->out, m->outlen) && !m->pf_said) {
		hci_errorf("--prom-file: out of memory");
		m->pf_said = true;
	}
	if (!m->pf_said) {
		struct thr_pfile_counts c;

		thr_pfile_counts(m->pf, &c, err, sizeof(err));
		if (c.failed) {
			hci_errorf("%s (said once; counted in hcithrottle_prom_file_writes_total)",
				   err);
			m->pf_said = true;
		}
	}
}

void thr_metrics_interval(struct svc *s)
{
	if (s->metrics)
		publish(s, s->metrics, false);
}

unsigned int thr_metrics_port(const struct svc *s)
{
	return s->metrics && s->metrics->h ? hci_httpd_port(s->metrics->h) : 0;
}

void thr_metrics_stop(struct svc *s, int unrestored)
{
	struct thr_metrics *m = s->metrics;

	if (!m)
		return;
	m->unrestored = unrestored;
	for (int k = 0; k < s->ndevs; k++)
		for (int i = 0; i < s->devs[k].n; i++) {
			struct ostate *o = &s->devs[k].o[i];

			if (unrestored || o->gone || !capped(&o->in_force))
				continue;
			count(m, k, o->origin, KIND_RESTORE, WHY_EXIT);
			o->in_force = (struct hci_limit){0};
		}
	publish(s, m, true);	/* the text at exit, for --prom-file */
	thr_pfile_stop(m->pf);	/* once it is written */
	hci_httpd_stop(m->h);
	hci_prom_free(&m->p);
	hci_prom_free(&m->hp);
	free(m->out);
	free(m->dc);
	free(m);
	s->metrics = NULL;
}
