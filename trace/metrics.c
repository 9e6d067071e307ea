// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcitrace's report as Prometheus metrics (metrics.h says when and why).
 *
 * Every text is built from scratch from build_report() with no base: the
 * totals since tracing started, the numbers the CSV is written from, as
 * Prometheus counters and histograms want them (it takes rates and
 * increases itself). A stage the kernel skipped for every request of a
 * series has no histogram, as it has no CSV rows: absent, never zero.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "hcitrace.skel.h"
#include "bpf/phases.h"
#include "core/hist.h"
#include "core/vec.h"
#include "fmt/httpd.h"
#include "fmt/prom.h"
#include "metrics.h"
#include "trace.h"

#define ONE_S 1000000000ULL

enum { SER_BLOCK, SER_VMM, SER_GUEST };

/* one exported series' key, and when its count last moved */
struct series {
	int layer;
	__u32 op;
	char origin[HCI_ORIGIN_MAX];
	char dev[32];
	__u64 ios;
	__u64 changed_ns;
};

struct trace_metrics {
	struct hci_httpd *httpd;
	struct hci_prom text;
	struct series *ser;	/* sorted by ser_cmp */
	size_t nser, cap;
	__u64 next_ns;		/* without an interval: the next refresh */
	__u64 idle_ns;		/* 0: keep every series */
	size_t live, idle;	/* series exported and left out, last refresh */
	bool refreshed;
	bool file_failed;	/* the last write failed (said once) */
	double start_s;		/* the Unix time tracing started */
};

static int ser_cmp(const void *a, const void *b)
{
	const struct series *x = a, *y = b;
	int c;

	if (x->layer != y->layer)
		return x->layer - y->layer;
	if (x->op != y->op)
		return x->op < y->op ? -1 : 1;
	c = strcmp(x->origin, y->origin);
	return c ? c : strcmp(x->dev, y->dev);
}

/*
 * Whether the series has had I/O in the last --metrics-idle seconds; a
 * series seen for the first time has. Asking again in the same refresh
 * gives the same answer.
 */
static bool series_live(struct trace_metrics *m, int layer, const char *origin, const char *dev,
			__u32 op, __u64 ios, __u64 now)
{
	struct series key = { .layer = layer, .op = op }, *s, *n;
	size_t at;

	snprintf(key.origin, sizeof(key.origin), "%s", origin);
	snprintf(key.dev, sizeof(key.dev), "%s", dev);
	s = m->nser ? bsearch(&key, m->ser, m->nser, sizeof(*s), ser_cmp) : NULL;
	if (s) {
		if (s->ios != ios) {
			s->ios = ios;
			s->changed_ns = now;
		}
		return !m->idle_ns || now - s->changed_ns < m->idle_ns;
	}
	n = hci_vec_grow(m->ser, &m->cap, m->nser, sizeof(*n), 64);
	if (!n)
		return true;	/* exported, just not remembered */
	m->ser = n;
	for (at = 0; at < m->nser && ser_cmp(&m->ser[at], &key) < 0; at++)
		;
	memmove(&m->ser[at + 1], &m->ser[at], (m->nser - at) * sizeof(*s));
	key.ios = ios;
	key.changed_ns = now;
	m->ser[at] = key;
	m->nser++;
	return true;
}

/* origin, origin_class (the origin's "vm", "container", "host"), device, op */
struct row_labels {
	struct hci_prom_label l[5];
	char cls[32];
};

static void labels_of(struct row_labels *rl, const char *origin, const char *dev, __u32 op)
{
	snprintf(rl->cls, sizeof(rl->cls), "%.*s", (int)strcspn(origin, ":"), origin);
	rl->l[0] = (struct hci_prom_label){ "origin", origin };
	rl->l[1] = (struct hci_prom_label){ "origin_class", rl->cls };
	rl->l[2] = (struct hci_prom_label){ "device", dev };
	rl->l[3] = (struct hci_prom_label){ "op", hci_op_names[op] };
	rl->l[4] = (struct hci_prom_label){ "stage", "" };
}

static int layer_of(const struct hci_row *row)
{
	return row->layer == HCI_LAYER_VMM ? SER_VMM : SER_BLOCK;
}

/* which rows are exported now, into @live; counts both kinds */
static void mark_rows(struct trace_metrics *m, const struct hci_report *r, bool *live, __u64 now)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct hci_row *row = &r->rows[i];
		__u64 ios = row->layer == HCI_LAYER_VMM ? row->vm.ios : row->v.ios;

		live[i] = series_live(m, layer_of(row), row->origin, row->dev, row->op, ios, now);
		if (live[i])
			m->live++;
		else
			m->idle++;
	}
}

static void put_stage_hists(struct hci_prom *p, const struct hci_report *r, const bool *live,
			    enum hci_layer layer, const char *name, const char *help)
{
	hci_prom_family(p, name, HCI_PROM_HISTOGRAM, help);
	for (size_t i = 0; i < r->n; i++) {
		const struct hci_row *row = &r->rows[i];
		struct hci_stage_view sv;
		struct row_labels rl;

		if (row->layer != layer || !live[i])
			continue;
		sv = hci_stage_view_of(row);
		labels_of(&rl, row->origin, row->dev, row->op);
		for (int s = 0; s < sv.n; s++) {
			if (!hci_slots_count(sv.slots[s]))
				continue;	/* absent, never zero */
			rl.l[4].value = sv.names[s];
			hci_prom_hist_log2us(p, name, rl.l, 5, sv.slots[s], sv.sum_ns[s]);
		}
	}
}

struct counter_def {
	const char *name, *help;
	size_t off;
};

#define BLOCK(f) offsetof(struct hci_hist_val, f)
#define VMM(f) offsetof(struct hci_vmm_val, f)

static const struct counter_def block_counters[] = {
	{ "hcitrace_block_ios_total", "Requests completed (bios, on bio-based disks)", BLOCK(ios) },
	{ "hcitrace_block_bytes_total", "Bytes of the requests completed", BLOCK(bytes) },
	{ "hcitrace_block_bio_merges_total", "Bios merged into an existing request",
	  BLOCK(merges) },
	{ "hcitrace_block_request_merges_total", "Requests merged into another request",
	  BLOCK(rq_merges) },
	{ "hcitrace_block_splits_total", "Bios split to fit the queue limits", BLOCK(splits) },
	{ "hcitrace_block_requeues_total", "Requests requeued", BLOCK(requeues) },
};

static const struct counter_def vmm_counters[] = {
	{ "hcitrace_vmm_requests_total",
	  "VMM requests (I/O syscalls and io_uring requests on images) completed", VMM(ios) },
	{ "hcitrace_vmm_bytes_total", "Bytes the VMM requests returned", VMM(bytes) },
	{ "hcitrace_vmm_bios_total", "Host bios the VMM requests caused", VMM(bios) },
	{ "hcitrace_vmm_absorbed_total", "VMM requests that caused no bio (page cache)",
	  VMM(absorbed) },
	{ "hcitrace_vmm_errors_total", "VMM requests whose syscall failed", VMM(errors) },
};

static void put_counters(struct hci_prom *p, const struct hci_report *r, const bool *live,
			 enum hci_layer layer, const struct counter_def *defs, size_t ndefs)
{
	for (size_t d = 0; d < ndefs; d++) {
		hci_prom_family(p, defs[d].name, HCI_PROM_COUNTER, defs[d].help);
		for (size_t i = 0; i < r->n; i++) {
			const struct hci_row *row = &r->rows[i];
			struct row_labels rl;
			__u64 v;

			if (row->layer != layer || !live[i])
				continue;
			memcpy(&v, (const char *)&row->v + defs[d].off, sizeof(v));
			labels_of(&rl, row->origin, row->dev, row->op);
			hci_prom_sample_u64(p, defs[d].name, rl.l, 4, v);
		}
	}
}

/* a guest channel's stats of @op, when that series is exported now */
static const struct hci_jstats *guest_stats(struct trace_run *tr, int i, __u32 op, __u64 now)
{
	const struct hci_jstats *s;

	if (!tr->chans[i].c.j)
		return NULL;
	s = hci_join_stats(tr->chans[i].c.j, op, false);
	if (!s->n || !series_live(tr->metrics, SER_GUEST, tr->chans[i].origin, "guest", op, s->n,
				  now))
		return NULL;
	return s;
}

/* the joined guest stages (--guest-channel), one series per VM and op */
static void put_guest(struct trace_run *tr, __u64 now)
{
	static const char *const name = "hcitrace_guest_stage_seconds";
	struct hci_prom *p = &tr->metrics->text;
	const struct hci_jstats *s;
	struct row_labels rl;

	hci_prom_family(p, name, HCI_PROM_HISTOGRAM,
			"Joined guest requests' stages (docs/guest.md), by the guest's op");
	for (int i = 0; i < tr->nchans; i++) {
		for (__u32 op = 0; op < HCI_NOPS; op++) {
			if (!(s = guest_stats(tr, i, op, now)))
				continue;
			labels_of(&rl, tr->chans[i].origin, "guest", op);
			for (int k = 0; k < HCI_NJSTAGES; k++) {
				if (!s->count[k])
					continue;
				rl.l[4].value = hci_jstage_names[k];
				hci_prom_hist_log2us(p, name, rl.l, 5, s->slots[k],
						     s->sum_ns[k] > 0 ? (__u64)s->sum_ns[k] : 0);
			}
		}
	}
	hci_prom_family(p, "hcitrace_guest_requests_total", HCI_PROM_COUNTER,
			"Guest requests joined to their VMM and host requests");
	for (int i = 0; i < tr->nchans; i++) {
		for (__u32 op = 0; op < HCI_NOPS; op++) {
			if (!(s = guest_stats(tr, i, op, now)))
				continue;
			labels_of(&rl, tr->chans[i].origin, "guest", op);
			hci_prom_sample_u64(p, "hcitrace_guest_requests_total", rl.l, 4, s->n);
		}
	}
}

/* one unlabelled sample with its family */
static void put_one(struct hci_prom *p, const char *name, enum hci_prom_type type,
		    const char *help, double v)
{
	hci_prom_family(p, name, type, help);
	hci_prom_sample(p, name, NULL, 0, v);
}

/* run_time_ns and run_cnt summed over the tracer's programs */
static void bpf_run_totals(struct trace_run *tr, __u64 *ns, __u64 *cnt)
{
	struct bpf_program *prog;

	*ns = *cnt = 0;
	bpf_object__for_each_program(prog, tr->t.skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len)) {
			*ns += info.run_time_ns;
			*cnt += info.run_cnt;
		}
	}
}

/* kernel.bpf_stats_enabled: 1, 0, or -1 where it cannot be read */
static int bpf_stats_enabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* The BPF side's loss counters and the user side's, as report.c names them. */
static void put_losses(struct trace_run *tr, struct hci_prom *p)
{
	__u64 c[HCI_NCOUNTERS + 2];
	struct hci_prom_label l = { "counter", NULL };

	hci_tracer_counters(&tr->t, c);
	c[HCI_NCOUNTERS + 1] = tr->dr.unread;
	hci_prom_family(p, "hcitrace_lost_events_total", HCI_PROM_COUNTER,
			"Events lost or not followed, by counter (docs/hcitrace.md, "
			"\"Lost events\"): the same counters hcitrace prints at exit");
	for (int i = 0; i < HCI_NCOUNTERS + 2; i++) {
		l.value = i <= HCI_NCOUNTERS ? hci_counter_names[i] : "ringbuf_unread";
		hci_prom_sample_u64(p, "hcitrace_lost_events_total", &l, 1, c[i]);
	}
}

/* the tracer's own cost and state */
static void put_tracer(struct trace_run *tr)
{
	struct trace_metrics *m = tr->metrics;
	struct hci_prom *p = &m->text;
	unsigned long served = 0, refused = 0;
	__u64 run_ns, runs;
	int stats = bpf_stats_enabled();

	put_losses(tr, p);
	bpf_run_totals(tr, &run_ns, &runs);
	put_one(p, "hcitrace_bpf_run_seconds_total", HCI_PROM_COUNTER,
		"Time hcitrace's BPF programs ran; the kernel counts it only while "
		"kernel.bpf_stats_enabled is 1 (hcitrace_bpf_stats_enabled)", (double)run_ns / 1e9);
	put_one(p, "hcitrace_bpf_runs_total", HCI_PROM_COUNTER,
		"Runs of hcitrace's BPF programs, counted as hcitrace_bpf_run_seconds_total is",
		(double)runs);
	put_one(p, "hcitrace_bpf_stats_enabled", HCI_PROM_GAUGE,
		"kernel.bpf_stats_enabled: 1 when BPF run time is counted, 0 when not, "
		"-1 when it cannot be read", stats);
	put_one(p, "hcitrace_cpu_seconds_total", HCI_PROM_COUNTER,
		"User and system CPU time of the hcitrace process", (double)hci_cpu_ns() / 1e9);
	put_one(p, "hcitrace_start_time_seconds", HCI_PROM_GAUGE,
		"When tracing started, in seconds since the Unix epoch", m->start_s);
	hci_prom_family(p, "hcitrace_series", HCI_PROM_GAUGE,
			"Series of origin, device and op: exported, and left out after "
			"--metrics-idle seconds without I/O");
	hci_prom_sample_u64(p, "hcitrace_series",
			    (struct hci_prom_label[]){ { "state", "exported" } }, 1, m->live);
	hci_prom_sample_u64(p, "hcitrace_series", (struct hci_prom_label[]){ { "state", "idle" } },
			    1, m->idle);
	if (m->httpd) {
		hci_httpd_counts(m->httpd, &served, &refused);
		put_one(p, "hcitrace_scrapes_total", HCI_PROM_COUNTER,
			"GET /metrics requests answered", (double)served);
		put_one(p, "hcitrace_http_connections_cut_total", HCI_PROM_COUNTER,
			"Connections to --listen cut for not finishing a request within "
			"10 s (a slow or hostile client)", (double)hci_httpd_cut(m->httpd));
	}
}

/* the whole text from a report of totals since the start */
static void build_text(struct trace_run *tr, const struct hci_report *r, bool *live, __u64 now)
{
	struct trace_metrics *m = tr->metrics;
	struct hci_prom *p = &m->text;

	m->live = m->idle = 0;
	mark_rows(m, r, live, now);
	put_stage_hists(p, r, live, HCI_LAYER_BLOCK, "hcitrace_block_stage_seconds",
			"Host block layer stages (Q2G, G2I, I2D, G2D, D2C, Q2C) of completed "
			"requests, log2 buckets of microseconds");
	put_counters(p, r, live, HCI_LAYER_BLOCK, block_counters,
		     sizeof(block_counters) / sizeof(block_counters[0]));
	if (tr->env.vmm) {
		put_stage_hists(p, r, live, HCI_LAYER_VMM, "hcitrace_vmm_stage_seconds",
				"VMM request stages (V2Q, VQ2C, C2V, V2V, N2V, V2I, VQ2D, VD2C), "
				"log2 buckets of microseconds");
		put_counters(p, r, live, HCI_LAYER_VMM, vmm_counters,
			     sizeof(vmm_counters) / sizeof(vmm_counters[0]));
	}
	if (tr->nchans)
		put_guest(tr, now);
	put_tracer(tr);
}

/* --prom-file: a failure is said once, until a write works again */
static int write_file(struct trace_run *tr)
{
	struct trace_metrics *m = tr->metrics;
	char err[512];
	int ret;

	ret = hci_prom_write_file(tr->env.prom_file, m->text.buf, m->text.len, err, sizeof(err));
	if (ret && !m->file_failed)
		fprintf(stderr, "Warning: --prom-file %s\n", err);
	m->file_failed = ret != 0;
	return ret;
}

/* A new text, served and written; the one before stays where this fails. */
static int refresh(struct trace_run *tr, __u64 now)
{
	struct trace_metrics *m = tr->metrics;
	struct hci_snap cur[2] = {};
	struct hci_report r;
	bool *live = NULL;
	int ret = -ENOMEM;

	hci_prom_reset(&m->text);
	if (!build_report(tr, cur, NULL, &r) && (live = calloc(r.n + 1, sizeof(*live)))) {
		build_text(tr, &r, live, now);
		ret = m->text.err;
	}
	if (!ret && m->httpd)
		ret = hci_httpd_publish(m->httpd, m->text.buf, m->text.len);
	if (!ret && tr->env.prom_file)
		ret = write_file(tr) ? -EIO : 0;
	else if (ret == -ENOMEM || ret == -EINVAL)
		fprintf(stderr, "Warning: metrics not refreshed: %s\n", strerror(-ret));
	m->refreshed = true;
	free(live);
	hci_report_free(&r);
	hci_snap_free(&cur[0]);
	hci_snap_free(&cur[1]);
	return ret;
}

int metrics_open(struct trace_run *tr)
{
	struct trace_metrics *m;
	char err[512];

	if (!tr->env.listen && !tr->env.prom_file)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m) {
		hci_errorf("out of memory");
		return -1;
	}
	tr->metrics = m;
	hci_prom_init(&m->text);
	m->idle_ns = (__u64)tr->env.metrics_idle * ONE_S;
	m->start_s = (double)time(NULL);
	if (!tr->env.listen)
		return 0;
	m->httpd = hci_httpd_start(tr->env.listen, tr->env.verbose > 0, err, sizeof(err));
	if (!m->httpd) {
		hci_errorf("%s", err);
		return -1;
	}
	/* before "Tracing block I/O...": scripts that gave port 0 read it here */
	fprintf(stderr, "Serving metrics on http://%s/metrics\n", hci_httpd_where(m->httpd));
	return 0;
}

void metrics_tick(struct trace_run *tr, __u64 now, bool interval_closed)
{
	struct trace_metrics *m = tr->metrics;

	if (!m)
		return;
	if (m->refreshed && (tr->env.interval ? !interval_closed : now < m->next_ns))
		return;
	m->next_ns = now + ONE_S;
	refresh(tr, now);
}

int metrics_final(struct trace_run *tr)
{
	if (!tr->metrics)
		return 0;
	/* the run's totals, whole: what a batch run leaves in --prom-file */
	tr->metrics->idle_ns = 0;
	return refresh(tr, hci_now_ns()) == -EIO ? -EIO : 0;
}

void metrics_close(struct trace_run *tr)
{
	struct trace_metrics *m = tr->metrics;

	if (!m)
		return;
	hci_httpd_stop(m->httpd);
	hci_prom_free(&m->text);
	free(m->ser);
	free(m);
	tr->metrics = NULL;
}
