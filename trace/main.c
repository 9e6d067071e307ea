// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcitrace: where each block I/O spends its time on this host, per origin.
 *
 * Lifecycle: parse arguments, resolve the disk and cgroup filters, calibrate
 * kernel features, open the skeleton, set rodata and map sizes, load, attach,
 * optionally start the traced command, poll, then report. Every path out goes
 * through one cleanup, which detaches everything (links are fds).
 */
#include <errno.h>
#include <sys/mount.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "hcitrace.skel.h"
#include "hci_abi.h"
#include "host/cgroups.h"
#include "host/devices.h"
#include "options.h"
#include "guest/guest.h"
#include "core/hist.h"
#include "channel.h"
#include "core/child.h"
#include "report_json.h"
#include "host/origin.h"
#include "output.h"
#include "bpf/features.h"
#include "bpf/tracer.h"
#include "host/vmm.h"

struct origin_ent {
	__u64 cgid;
	__u32 tgid;
	char origin[HCI_ORIGIN_MAX];
};

struct vmm_ent {
	__u32 tgid;
	struct hci_vmm_info info;	/* taken while the VMM was alive */
};


struct app;

/*
 * Reading the ring buffer. A drain stops at a deadline, so a consumer that
 * is behind still stops, closes intervals and ends on time; what the
 * producers lost meanwhile is marked in the -p streams where it was lost.
 */
struct drain {
	__u64 until_ns;		/* on_event pauses the drain at this time */
	bool stopping;		/* the last drain: a stop request no longer ends it */
	bool skip;		/* then: count what is left, read nothing */
	__u64 unread;		/* request events left in the ring buffer at stop */
	__u64 rb_lost;		/* ringbuf_full seen so far */
	/* losses not yet marked in the streams, oldest first: each goes before
	 * the first event stamped after the look that saw it */
	struct { __u64 ns, count; } pending[32];
	int npending;
	__u64 checked_ns;
	__u64 *percpu;		/* one counter's per-CPU values */
};

/* One guest stream, joined to its VM's VMM requests. */
struct gchan {
	struct hci_chan c;
	struct app *a;
	char origin[HCI_ORIGIN_MAX];	/* the VM's (origin_of's table moves) */
	struct hci_volrow *vols;	/* one per interval */
	size_t nvols;
	__u64 host_taken[HCI_NOPS], splits_taken, merges_taken;
	int polled_fd;
};

struct app {
	struct hci_env env;
	struct gchan *chans;
	int nchans;
	FILE *join_csv;
	FILE *vol_csv;
	struct hci_tracer t;
	struct hci_cgroups cg;
	struct origin_ent *origins;
	size_t norigins;
	struct vmm_ent **vmms;
	size_t nvmms;
	struct hci_snap prev[2];	/* by enum hci_layer */
	FILE *req_csv;
	FILE *vreq_csv;
	FILE *json;
	bool json_first;
	FILE *hist_csv;		/* --csv, opened before attach, written at the end */
	FILE *brk_csv;		/* its breakdown side file (--guest-channel) */
	__u64 t0_ns;
	struct hci_child child;
	struct drain dr;
};

/* The VM behind a VMM tgid, inspected while the process is alive, then kept. */
static const struct hci_vmm_info *vmm_info(struct app *a, __u32 tgid)
{
	struct vmm_ent **v, *e;

	for (size_t i = 0; i < a->nvmms; i++)
		if (a->vmms[i]->tgid == tgid)
			return &a->vmms[i]->info;
	e = calloc(1, sizeof(*e));
	v = e ? realloc(a->vmms, (a->nvmms + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(e);
		return NULL;
	}
	a->vmms = v;
	a->vmms[a->nvmms++] = e;
	e->tgid = tgid;
	if (hci_vmm_inspect((pid_t)tgid, &e->info))
		snprintf(e->info.name, sizeof(e->info.name), "%u", tgid);	/* gone */
	e->info.pid = (pid_t)tgid;
	return &e->info;
}

static const char *vmm_name(struct app *a, __u32 tgid)
{
	const struct hci_vmm_info *vi = vmm_info(a, tgid);

	return vi ? vi->name : "?";
}

static const char *origin_of(struct app *a, __u64 cgid, __u32 tgid)
{
	struct origin_ent *o;
	const char *path;
	char gone[64];

	for (size_t i = 0; i < a->norigins; i++)
		if (a->origins[i].cgid == cgid && a->origins[i].tgid == tgid)
			return a->origins[i].origin;
	o = realloc(a->origins, (a->norigins + 1) * sizeof(*o));
	if (!o)
		return "?";
	a->origins = o;
	o = &a->origins[a->norigins++];
	o->cgid = cgid;
	o->tgid = tgid;
	if (cgid == (__u64)-1)
		path = "(vmm)";
	else
		path = cgid ? hci_cgroup_path(&a->cg, cgid) : "(unknown)";
	if (!path) {
		/* the cgroup was removed before we could name it */
		snprintf(gone, sizeof(gone), "(removed cgroup %llu)", (unsigned long long)cgid);
		path = gone;
	}
	hci_classify(&a->env.rules, path, tgid ? vmm_name(a, tgid) : NULL,
		     o->origin, sizeof(o->origin));
	return o->origin;
}

/* A VMM's requests are its own: the origin is the VM, whatever its cgroup. */
static const char *vm_origin(struct app *a, __u32 tgid)
{
	return origin_of(a, (__u64)-1, tgid);
}

static void join_vevent(struct app *a, const struct hci_vevent *e)
{
	struct hci_jvmm_in v = {
		.vs = e->ts_v, .vc = e->ts_vc, .hq = e->ts_q, .hd = e->ts_d, .hc = e->ts_c,
		.off = e->off, .ino = e->ino, .dev = e->dev, .op = e->op, .nbios = e->nbios,
	};

	if (e->ret < 0 || !e->ts_v || e->ts_vc < e->ts_v)
		return;
	v.len = e->op == HCI_OP_FLUSH ? 0 : (__u64)e->ret;
	for (int i = 0; i < a->nchans; i++)
		if (a->chans[i].c.vm_tgid == e->vmm_tgid)
			hci_join_vmm(a->chans[i].c.j, &v);
}

static int on_vevent(struct app *a, const struct hci_vevent *e)
{
	struct hci_vreq q;
	char dev[32];

	if (e->op >= HCI_NOPS)
		return 0;
	join_vevent(a, e);
	if (!a->env.per_request)
		return 0;
	memset(&q, 0, sizeof(q));
	q.origin = vm_origin(a, e->vmm_tgid);
	if (a->env.origin && !hci_origin_matches(q.origin, a->env.origin))
		return 0;
	hci_dev_name(e->dev, dev, sizeof(dev));
	q.dev = dev;
	q.t_s = e->ts_vc >= a->t0_ns ? (double)(e->ts_vc - a->t0_ns) / 1e9 : 0;
	q.submit_s = e->ts_v >= a->t0_ns ? (double)(e->ts_v - a->t0_ns) / 1e9 : 0;
	q.tid = e->tid;
	q.op = e->op;
	q.off = e->off;
	q.ret = e->ret;
	q.nbios = e->nbios;
	q.image = "";
	q.sector = -1;
	{
		const struct hci_image *im = hci_vmm_image(vmm_info(a, e->vmm_tgid), e->dev, e->ino);
		__u64 sec;

		if (im) {
			q.image = im->path;
			if (e->op != HCI_OP_FLUSH && !hci_image_sector(im, e->off, &sec))
				q.sector = (long long)sec;
		}
	}
	hci_vreq_stages(e, q.us, q.present);
	hci_vreq_print(stdout, &q);
	if (a->vreq_csv)
		hci_csv_vreq_row(a->vreq_csv, &q);
	if (a->json) {
		hci_json_vreq(a->json, &q, a->json_first);
		a->json_first = false;
	}
	return 0;
}

/* A loss marker, in every -p stream: the terminal, the request CSVs, the JSON. */
static void mark_lost(struct app *a, __u64 at_ns, __u64 count, const char *counter)
{
	struct hci_lost_mark m = {
		.t_s = at_ns >= a->t0_ns ? (double)(at_ns - a->t0_ns) / 1e9 : 0,
		.count = count, .counter = counter,
	};

	if (!a->env.per_request || !count)
		return;
	hci_lost_print(stdout, &m);
	if (a->req_csv)
		hci_csv_req_lost_row(a->req_csv, &m);
	if (a->vreq_csv)
		hci_csv_vreq_lost_row(a->vreq_csv, &m);
	if (a->json) {
		hci_json_lost(a->json, &m, a->json_first);
		a->json_first = false;
	}
}

/* The markers due before an event stamped @ts (all of them for ~0). */
static void mark_pending(struct app *a, __u64 ts)
{
	struct drain *d = &a->dr;
	int n = 0;

	while (n < d->npending && d->pending[n].ns <= ts) {
		mark_lost(a, d->pending[n].ns, d->pending[n].count,
			  hci_counter_names[HCI_CNT_RB_LOST]);
		n++;
	}
	memmove(d->pending, d->pending + n, (size_t)(d->npending - n) * sizeof(d->pending[0]));
	d->npending -= n;
}

/*
 * Losses the BPF side counted since the last look (it could not reserve:
 * the ring was full). Nothing is consumed between the last drain and this
 * look, so every event still in the ring is older than these losses, and
 * every event stamped after this look is newer: the marker goes between.
 */
static void check_losses(struct app *a, __u64 now, bool force)
{
	int fd = bpf_map__fd(a->t.skel->maps.counters);
	__u32 key = HCI_CNT_RB_LOST;
	struct drain *d = &a->dr;
	__u64 sum = 0;

	/* every 10 ms: each marker says where, within 10 ms, its losses were */
	if (!a->env.per_request || !d->percpu || (!force && now - d->checked_ns < 10000000))
		return;
	d->checked_ns = now;
	if (bpf_map_lookup_elem(fd, &key, d->percpu))
		return;
	for (int c = 0; c < a->t.ncpus; c++)
		sum += d->percpu[c];
	if (sum <= d->rb_lost)
		return;
	/* a full queue merges into its newest marker, which moves to now */
	if (d->npending == (int)(sizeof(d->pending) / sizeof(d->pending[0])))
		d->npending--;
	else
		d->pending[d->npending].count = 0;
	d->pending[d->npending].ns = now;
	d->pending[d->npending++].count += sum - d->rb_lost;
	d->rb_lost = sum;
}

static int handle_event(struct app *a, void *data, size_t size)
{
	const struct hci_event *e = data;
	struct hci_req q;
	char dev[32];

	if (size < sizeof(__u32))
		return 0;
	if (e->type == HCI_EV_VREQ)
		return size >= sizeof(struct hci_vevent) ? on_vevent(a, data) : 0;
	if (size < sizeof(*e))
		return 0;
	if (e->type == HCI_EV_VMM) {
		vmm_name(a, e->vmm_tgid);
		return 0;
	}
	if (e->type != HCI_EV_REQ || e->op >= HCI_NOPS || !a->env.per_request)
		return 0;
	memset(&q, 0, sizeof(q));
	q.origin = origin_of(a, e->cgid, e->vmm_tgid);
	if (a->env.origin && !hci_origin_matches(q.origin, a->env.origin))
		return 0;
	hci_dev_name(e->dev, dev, sizeof(dev));
	q.dev = dev;
	q.t_s = e->ts_c >= a->t0_ns ? (double)(e->ts_c - a->t0_ns) / 1e9 : 0;
	q.op = e->op;
	q.sector = e->sector;
	q.bytes = e->bytes;
	hci_req_stages(e, q.us, q.present);
	hci_req_print(stdout, &q);
	if (a->req_csv)
		hci_csv_req_row(a->req_csv, &q);
	if (a->json) {
		hci_json_req(a->json, &q, a->json_first);
		a->json_first = false;
	}
	return 0;
}

/* Set by a second Ctrl-C (on_stop_signal): finish now, outputs still valid. */
static volatile sig_atomic_t hurry;

/* consume() hands on only its callback's errors: this one means "pause" */
#define DRAIN_PAUSE (-EAGAIN)

/* The time a request event was produced (reserved in the ring), 0 if none. */
static __u64 event_ns(const void *data, size_t size)
{
	const struct hci_event *e = data;

	if (size >= sizeof(struct hci_vevent) && e->type == HCI_EV_VREQ)
		return ((const struct hci_vevent *)data)->ts_vc;
	if (size >= sizeof(*e) && e->type == HCI_EV_REQ)
		return e->ts_c;
	return 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct app *a = ctx;
	__u64 ts = event_ns(data, size);

	if (a->dr.skip) {
		a->dr.unread += ts != 0;
		return 0;
	}
	if (a->dr.npending && ts >= a->dr.pending[0].ns)
		mark_pending(a, ts);
	handle_event(a, data, size);
	/* a stop request or the drain's deadline ends it, whatever the rate */
	if ((hci_exiting && !a->dr.stopping) || hurry || hci_now_ns() >= a->dr.until_ns)
		return DRAIN_PAUSE;
	return 0;
}

/* Add a snapshot's rows to the report, minus @base (for interval deltas). */
static int add_rows(struct app *a, enum hci_layer layer, const struct hci_snap *sn,
		    const struct hci_snap *base, struct hci_report *r)
{
	size_t words = sn->vsz / sizeof(__u64);
	union { struct hci_hist_val h; struct hci_vmm_val v; } delta;
	char dev[32];

	for (size_t i = 0; i < sn->n; i++) {
		const void *k = sn->keys + i * sn->ksz;
		const __u64 *val = &sn->vals[i * words], *old = base ? hci_snap_find(base, k) : NULL;
		__u64 *d = (__u64 *)&delta;
		const char *origin;
		__u32 op, devno;
		bool any = false;

		if (old)
			hci_u64s_sub(d, val, old, words);
		else
			memcpy(d, val, sn->vsz);
		for (size_t w = 0; w < words; w++)
			any |= d[w] != 0;
		if (!any)
			continue;
		if (layer == HCI_LAYER_VMM) {
			const struct hci_vmm_key *vk = k;

			origin = vm_origin(a, vk->vmm_tgid);
			op = vk->op;
			devno = vk->dev;
		} else {
			const struct hci_hist_key *hk = k;

			origin = origin_of(a, hk->cgid, hk->vmm_tgid);
			op = hk->op;
			devno = hk->dev;
		}
		if (op >= HCI_NOPS)
			continue;
		if (a->env.origin && !hci_origin_matches(origin, a->env.origin))
			continue;
		hci_dev_name(devno, dev, sizeof(dev));
		if (hci_report_add(r, layer, origin, dev, op, &delta))
			return -ENOMEM;
	}
	return 0;
}

/*
 * Native-aio requests the VMM reaped by polling its ring, with no eventfd
 * read since: their host part is known, their VMM completion is not. At the
 * end of tracing, report them with V2Q and VQ2C, and C2V/V2V absent.
 */
static int add_unreaped(struct app *a, struct hci_report *r)
{
	int fd = bpf_map__fd(a->t.skel->maps.aio_reqs);
	struct hci_aio_key k, next, *prev = NULL;
	struct hci_aio_req q;
	char dev[32];

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct hci_vmm_val v;
		const char *origin;
		__u32 done;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &q))
			continue;
		done = q.io.ncompl & ~HCI_AIO_SUBMITTED;
		if (!(q.io.ncompl & HCI_AIO_SUBMITTED) || !q.io.nbios || done < q.io.nbios ||
		    q.io.op >= HCI_NOPS || !q.io.t_q || q.io.t_c < q.io.t_q)
			continue;
		origin = vm_origin(a, q.tgid);
		if (a->env.origin && !hci_origin_matches(origin, a->env.origin))
			continue;
		memset(&v, 0, sizeof(v));
		v.ios = 1;
		v.bytes = q.len;
		v.bios = q.io.nbios;
		v.slots[HCI_V2Q][hci_bucket_of_ns(q.io.t_q - q.io.t_sub)]++;
		v.sum_ns[HCI_V2Q] = q.io.t_q - q.io.t_sub;
		v.slots[HCI_VQ2C][hci_bucket_of_ns(q.io.t_c - q.io.t_q)]++;
		v.sum_ns[HCI_VQ2C] = q.io.t_c - q.io.t_q;
		if (q.io.t_d >= q.io.t_q && q.io.t_d <= q.io.t_c) {
			v.slots[HCI_VQ2D][hci_bucket_of_ns(q.io.t_d - q.io.t_q)]++;
			v.sum_ns[HCI_VQ2D] = q.io.t_d - q.io.t_q;
			v.slots[HCI_VD2C][hci_bucket_of_ns(q.io.t_c - q.io.t_d)]++;
			v.sum_ns[HCI_VD2C] = q.io.t_c - q.io.t_d;
		}
		hci_dev_name(q.io.dev, dev, sizeof(dev));
		if (hci_report_add(r, HCI_LAYER_VMM, origin, dev, q.io.op, &v))
			return -ENOMEM;
	}
	return 0;
}

/* Both layers now, minus @base[] when given; keeps the snapshots in @cur[]. */
static int build_report(struct app *a, struct hci_snap cur[2], const struct hci_snap *base,
			struct hci_report *r)
{
	int err;

	memset(r, 0, sizeof(*r));
	err = hci_snapshot(&a->t, a->t.skel->maps.hists, &cur[HCI_LAYER_BLOCK]);
	if (!err)
		err = hci_snapshot(&a->t, a->t.skel->maps.vmm_hists, &cur[HCI_LAYER_VMM]);
	if (!err)
		err = add_rows(a, HCI_LAYER_BLOCK, &cur[HCI_LAYER_BLOCK],
			       base ? &base[HCI_LAYER_BLOCK] : NULL, r);
	if (!err)
		err = add_rows(a, HCI_LAYER_VMM, &cur[HCI_LAYER_VMM],
			       base ? &base[HCI_LAYER_VMM] : NULL, r);
	hci_report_sort(r);
	return err;
}

/* A joined guest request: printed with -p, and into the CSV/JSON. */
static void on_joined(void *ctx, const struct hci_jreq *q)
{
	struct gchan *g = ctx;
	struct app *a = g->a;
	char disk[32];
	double t_s = q->t_start >= a->t0_ns ? (double)(q->t_start - a->t0_ns) / 1e9 : 0;

	hci_join_disk_name(g->c.j, q->gdev, disk, sizeof(disk));
	if (a->env.per_request)
		hci_jreq_print(stdout, g->origin, disk, q, t_s);
	if (a->join_csv)
		hci_csv_join_row(a->join_csv, g->origin, disk, q, t_s);
	if (a->json && a->env.per_request) {
		hci_json_join(a->json, g->origin, disk, q, t_s, a->json_first);
		a->json_first = false;
	}
}

/* Host block bytes (and splits/merges) of each VM so far, from the histograms. */
static void host_totals(struct app *a)
{
	struct hci_snap cur[2] = {};
	struct hci_report r;

	if (!a->nchans)
		return;
	if (!build_report(a, cur, NULL, &r)) {
		for (int i = 0; i < a->nchans; i++) {
			struct gchan *g = &a->chans[i];
			struct hci_volrow *v;

			v = realloc(g->vols, (g->nvols + 1) * sizeof(*v));
			if (!v)
				continue;
			g->vols = v;
			v = &g->vols[g->nvols++];
			memset(v, 0, sizeof(*v));
			v->origin = g->origin;
			v->t_s = (double)(hci_now_ns() - a->t0_ns) / 1e9;
			hci_join_take_volumes(g->c.j, &v->v);
			for (size_t k = 0; k < r.n; k++) {
				const struct hci_row *row = &r.rows[k];

				if (row->layer != HCI_LAYER_BLOCK || strcmp(row->origin, g->origin))
					continue;
				if (row->op == HCI_OP_READ || row->op == HCI_OP_WRITE)
					v->host[row->op] += row->v.bytes;
				v->host_splits += row->v.splits;
				v->host_merges += row->v.merges;
			}
			/* cumulative -> this interval */
			for (int op = 0; op < HCI_NOPS; op++) {
				__u64 t = v->host[op];

				v->host[op] = t >= g->host_taken[op] ? t - g->host_taken[op] : 0;
				g->host_taken[op] = t;
			}
			{
				__u64 s = v->host_splits, m = v->host_merges;

				v->host_splits = s >= g->splits_taken ? s - g->splits_taken : 0;
				v->host_merges = m >= g->merges_taken ? m - g->merges_taken : 0;
				g->splits_taken = s;
				g->merges_taken = m;
			}
		}
	}
	hci_report_free(&r);
	hci_snap_free(&cur[0]);
	hci_snap_free(&cur[1]);
}

/* Close an interval of the per-layer volumes: print it, write its CSV rows. */
static void volumes_interval(struct app *a, bool print)
{
	host_totals(a);
	for (int i = 0; i < a->nchans; i++) {
		struct gchan *g = &a->chans[i];

		if (!g->nvols)
			continue;
		if (print)
			hci_vol_print(stdout, &g->vols[g->nvols - 1]);
		if (a->vol_csv)
			hci_csv_vol_rows(a->vol_csv, &g->vols[g->nvols - 1]);
	}
}

static void service_channels(struct app *a, bool final)
{
	__u64 now = hci_now_ns();

	for (int i = 0; i < a->nchans; i++) {
		/* a bounded read per channel and turn: a flood cannot starve the rest */
		hci_chan_service(&a->chans[i].c, now, final ? 64u << 20 : 1u << 20);
		hci_join_poll(a->chans[i].c.j, hci_now_ns(), final);
	}
}

static void print_interval(struct app *a)
{
	struct hci_snap cur[2] = {};
	struct hci_report r;
	char tbuf[32];
	time_t t = time(NULL);

	if (!build_report(a, cur, a->prev, &r)) {
		strftime(tbuf, sizeof(tbuf), "%H:%M:%S", localtime(&t));
		printf("\n%s\n", tbuf);
		if (!r.n)
			printf("  (no I/O)\n");
		hci_report_print(stdout, &r, a->env.show_hist);
	}
	hci_report_free(&r);
	volumes_interval(a, true);
	fflush(stdout);
	for (int l = 0; l < 2; l++) {
		hci_snap_free(&a->prev[l]);
		a->prev[l] = cur[l];
	}
}

static int exit_cmp(const void *x, const void *y)
{
	const struct hci_exit_key *a = x, *b = y;

	return a->reason < b->reason ? -1 : a->reason > b->reason;
}

/* KVM events and exits per VM, with "per VMM request" from the report. */
static int kvm_rows(struct app *a, const struct hci_report *r, struct hci_kvm_row **out,
		    size_t *nout)
{
	struct hci_snap counts = {}, exits = {};
	struct hci_kvm_row *rows = NULL;
	size_t n = 0;
	int err;

	*out = NULL;
	*nout = 0;
	if (!a->env.vmm)
		return 0;
	err = hci_snapshot(&a->t, a->t.skel->maps.kvm_counts, &counts);
	if (!err)
		err = hci_snapshot(&a->t, a->t.skel->maps.kvm_exits, &exits);
	if (err)
		goto out;
	/* reasons in a stable order */
	{
		struct { struct hci_exit_key k; __u64 v; } *ev = malloc(exits.n * sizeof(*ev) + 1);

		if (!ev) {
			err = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < exits.n; i++) {
			memcpy(&ev[i].k, exits.keys + i * exits.ksz, sizeof(ev[i].k));
			ev[i].v = exits.vals[i];
		}
		qsort(ev, exits.n, sizeof(*ev), exit_cmp);
		for (size_t i = 0; i < counts.n + exits.n; i++) {
			__u32 tgid = i < counts.n ? *(__u32 *)(counts.keys + i * counts.ksz) :
						    ev[i - counts.n].k.vmm_tgid;
			struct hci_kvm_row *k = NULL;

			for (size_t j = 0; j < n; j++)
				if (!strcmp(rows[j].origin, vm_origin(a, tgid)))
					k = &rows[j];
			if (!k) {
				struct hci_kvm_row *nr = realloc(rows, (n + 1) * sizeof(*rows));

				if (!nr) {
					free(ev);
					err = -ENOMEM;
					goto out;
				}
				rows = nr;
				k = &rows[n++];
				memset(k, 0, sizeof(*k));
				snprintf(k->origin, sizeof(k->origin), "%s", vm_origin(a, tgid));
				for (size_t e = 0; e < r->n; e++)
					if (r->rows[e].layer == HCI_LAYER_VMM &&
					    !strcmp(r->rows[e].origin, k->origin))
						k->vmm_ios += r->rows[e].vm.ios;
			}
			if (i < counts.n) {
				hci_u64s_add(k->v.c, &counts.vals[i * HCI_NKVM], HCI_NKVM);
			} else {
				const __u32 reason = ev[i - counts.n].k.reason;
				const __u64 v = ev[i - counts.n].v;
				size_t e;

				k->exits_total += v;
				for (e = 0; e < k->nexits && k->reasons[e] != reason; e++)
					;
				if (e == k->nexits && k->nexits < 64)
					k->reasons[k->nexits++] = reason;
				if (e < 64)
					k->exits[e] += v;
			}
		}
		free(ev);
	}
	if (a->env.origin) {
		size_t w = 0;

		for (size_t i = 0; i < n; i++)
			if (hci_origin_matches(rows[i].origin, a->env.origin))
				rows[w++] = rows[i];
		n = w;
	}
	*out = rows;
	*nout = n;
	rows = NULL;
out:
	free(rows);
	hci_snap_free(&counts);
	hci_snap_free(&exits);
	return err;
}

/* Every output is opened before tracing starts: a bad path costs no trace. */
static FILE *open_out(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		hci_errorf("cannot write '%s': %s; nothing was traced: give a path that "
			   "can be written", path, strerror(errno));
	return f;
}

/* Close an output; a failed write (disk full) is an error, said once here. */
static int close_out(FILE **f, const char *what)
{
	int err = ferror(*f);

	if (fclose(*f))
		err = 1;
	*f = NULL;
	if (err)
		hci_errorf("writing %s failed: %s", what, strerror(errno));
	return err ? -EIO : 0;
}

/* The side file next to the --csv file: "out.csv" + ".join" -> "out.join.csv". */
static FILE *open_side(const char *csv, const char *what)
{
	char path[4096];
	size_t l = strlen(csv);

	if (l > 4 && !strcmp(csv + l - 4, ".csv"))
		l -= 4;
	snprintf(path, sizeof(path), "%.*s.%s.csv", (int)l, csv, what);
	return open_out(path);
}

/*
 * The VM (--vm) and each guest channel's VM and socket. -EAGAIN (with the
 * reason in err) when one is not there yet: a command may be starting it.
 * Channels opened stay open; a later call goes on with the next one.
 */
static int find_guests(struct app *a, __u32 *vm_tgid, char *err, size_t errlen)
{
	int r;

	if (a->env.vm && !*vm_tgid) {
		r = hci_vmm_resolve(a->env.vm, vm_tgid, err, errlen);
		/* a name may appear; a pid that is gone stays gone */
		if (r == -ESRCH && strspn(a->env.vm, "0123456789") != strlen(a->env.vm))
			return -EAGAIN;
		if (r)
			return r;
	}
	while (a->nchans < a->env.nchannels) {
		struct gchan *g = &a->chans[a->nchans];
		const char *path = a->env.channels[a->nchans];
		__u32 tgid = *vm_tgid ? *vm_tgid : hci_chan_find_vm(path);

		if (!tgid) {
			snprintf(err, errlen, "cannot tell which VM serves guest channel %s (no "
				 "single process listens on it); give --vm PID|NAME", path);
			return -EAGAIN;
		}
		r = hci_chan_open(&g->c, path, tgid, (size_t)a->env.max_pending, on_joined, g,
				  err, errlen);
		if (r) {
			hci_chan_close(&g->c);
			return r == -ENOENT ? -EAGAIN : r;
		}
		g->a = a;
		g->polled_fd = -1;
		a->nchans++;
	}
	return 0;
}

/*
 * With "-- COMMAND", the command may be what boots the VM: start it, and
 * wait (saying so) for the VM and its channel sockets, until the command
 * ends or Ctrl-C. Tracing starts once they are there.
 */
static int wait_for_guests(struct app *a, __u32 *vm_tgid)
{
	struct timespec ts = { 0, 100000000 };
	char err[512];
	bool said = false;
	int r;

	while ((r = find_guests(a, vm_tgid, err, sizeof(err))) == -EAGAIN && a->env.cmd) {
		if (!a->child.pid && hci_child_spawn(&a->child, a->env.cmd))
			return -ECHILD;
		if (!said && a->env.vm && !a->env.nchannels)
			fprintf(stderr, "hcitrace: waiting for VM '%s' to appear (the command "
				"starts it)...\n", a->env.vm);
		else if (!said && a->env.vm)
			fprintf(stderr, "hcitrace: waiting for VM '%s' and its guest channel %s to "
				"appear (the command starts them)...\n", a->env.vm,
				a->env.channels[0]);
		else if (!said)
			fprintf(stderr, "hcitrace: waiting for a VM to serve guest channel %s "
				"(the command starts it)...\n", a->env.channels[a->nchans]);
		said = true;
		hci_child_reap(&a->child, WNOHANG);
		if (a->child.done || hci_exiting) {
			hci_errorf("%s before the VM was there (%s): nothing was traced",
				   a->child.done ? "the command ended" : "stopped", err);
			return -ESRCH;
		}
		nanosleep(&ts, NULL);
	}
	if (r)
		hci_errorf("%s", err);
	else if (said)
		fprintf(stderr, "hcitrace: the VM is there; tracing starts\n");
	return r;
}

/* Every output file, opened (so checked) before anything is traced. */
static int open_outputs(struct app *a)
{
	const char *csv = a->env.csv_path;

	if (a->env.json_path) {
		a->json = open_out(a->env.json_path);
		if (!a->json)
			return -EIO;
		hci_json_begin(a->json);
	}
	if (!csv)
		return 0;
	a->hist_csv = open_out(csv);
	if (!a->hist_csv)
		return -EIO;
	if (a->env.nchannels) {
		a->brk_csv = open_side(csv, "breakdown");
		a->join_csv = a->brk_csv ? open_side(csv, "join") : NULL;
		a->vol_csv = a->join_csv ? open_side(csv, "volumes") : NULL;
		if (!a->vol_csv)
			return -EIO;
		hci_csv_join_header(a->join_csv);
		hci_csv_vol_header(a->vol_csv);
	}
	if (a->env.per_request) {
		a->req_csv = open_side(csv, "requests");
		if (!a->req_csv)
			return -EIO;
		hci_csv_req_header(a->req_csv);
		if (a->env.vmm) {
			a->vreq_csv = open_side(csv, "vmm-requests");
			if (!a->vreq_csv)
				return -EIO;
			hci_csv_vreq_header(a->vreq_csv);
		}
	}
	return 0;
}

/* "vms": the VMs seen, with their images; hci_json_end closes this array. */
static void json_vms(struct app *a)
{
	char dev[32];

	fputs("],\n\"vms\":[", a->json);
	for (size_t i = 0; i < a->nvmms; i++) {
		const struct hci_vmm_info *vi = &a->vmms[i]->info;

		fprintf(a->json, "%s\n{\"origin\":", i ? "," : "");
		hci_json_string(a->json, vm_origin(a, a->vmms[i]->tgid));
		fprintf(a->json, ",\"pid\":%d,\"comm\":", vi->pid);
		hci_json_string(a->json, vi->comm);
		fputs(",\"drives\":", a->json);
		hci_json_string(a->json, vi->drives);
		fputs(",\"images\":[", a->json);
		for (int m = 0; m < vi->nimages; m++) {
			const struct hci_image *im = &vi->images[m];

			hci_dev_name(im->dev, dev, sizeof(dev));
			fprintf(a->json, "%s{\"fd\":%d,\"path\":", m ? "," : "", im->fd);
			hci_json_string(a->json, im->path);
			fputs(",\"device\":", a->json);
			hci_json_string(a->json, dev);
			fprintf(a->json, ",\"size\":%llu,\"extents\":%ld,\"blockdev\":%s}",
				(unsigned long long)im->size, im->extents,
				im->blockdev ? "true" : "false");
		}
		fputs("]}", a->json);
	}
}

/* The BPF side's counters, then the user side's: events left unread at stop */
#define NLOST (HCI_NCOUNTERS + 2)

static int final_report(struct app *a)
{
	const char *lost_names[NLOST];
	__u64 counters[NLOST];
	struct hci_kvm_row *kvm = NULL;
	struct hci_snap cur[2] = {};
	struct hci_report r;
	size_t nkvm = 0;
	int err;

	memcpy(lost_names, hci_counter_names, sizeof(hci_counter_names));
	lost_names[NLOST - 1] = "ringbuf_unread";
	/*
	 * Tracing has ended (stop_tracing): with the programs detached, the
	 * histograms and the in-flight aio table are read in one frozen state.
	 * Otherwise a request reaped (moved from one to the other) between the
	 * two reads would be in neither.
	 */
	err = build_report(a, cur, NULL, &r);
	if (!err && a->env.vmm)
		err = add_unreaped(a, &r);
	if (err)
		goto out;
	hci_report_sort(&r);
	err = kvm_rows(a, &r, &kvm, &nkvm);
	if (err)
		goto out;
	if (!a->env.interval && !a->env.per_request) {
		if (!r.n)
			printf("no block I/O traced%s\n", a->env.origin ? " for that origin" : "");
		hci_report_print(stdout, &r, a->env.show_hist);
		hci_kvm_print(stdout, kvm, nkvm);
		if (a->nvmms)
			printf("\nVMs:\n");
		for (size_t i = 0; i < a->nvmms; i++)
			hci_vmm_print(stdout, &a->vmms[i]->info);
	}
	/* the guest side: the last (or only) interval of volumes, then the join */
	volumes_interval(a, !a->env.interval);
	for (int i = 0; i < a->nchans; i++) {
		struct gchan *g = &a->chans[i];

		hci_join_summary(stdout, g->origin, g->c.path, g->c.j, &g->c.p->st);
		if (a->env.breakdown)
			hci_breakdown_print(stdout, g->origin, g->c.j);
	}
	hci_tracer_counters(&a->t, counters);
	counters[HCI_NCOUNTERS + 1] = a->dr.unread;
	if (a->hist_csv) {
		hci_csv_write_hist(a->hist_csv, &r);
		for (int i = 0; i < a->nchans; i++)
			hci_csv_join_hist(a->hist_csv, a->chans[i].origin, a->chans[i].c.j);
		if (close_out(&a->hist_csv, a->env.csv_path))
			err = -EIO;
	}
	if (a->brk_csv) {
		hci_csv_breakdown_header(a->brk_csv);
		for (int i = 0; i < a->nchans; i++)
			hci_csv_breakdown_rows(a->brk_csv, a->chans[i].origin, a->chans[i].c.j);
		if (close_out(&a->brk_csv, "the breakdown CSV"))
			err = -EIO;
	}
	if (a->json) {
		json_vms(a);
		fputs("],\n\"guests\":[", a->json);
		for (int i = 0; i < a->nchans; i++) {
			struct gchan *g = &a->chans[i];

			hci_json_guest(a->json, g->origin, g->c.path, g->c.j, &g->c.p->st,
				       g->vols, g->nvols, i == 0);
		}
		hci_json_end(a->json, &r, kvm, nkvm, lost_names, counters, NLOST);
		if (close_out(&a->json, a->env.json_path))
			err = -EIO;
	}
	fflush(stdout);
	hci_report_lost_n(lost_names, counters, NLOST, "hcitrace");
	for (int i = 0; i < a->nchans; i++) {
		const struct hci_wire_stats *ws = &a->chans[i].c.p->st;
		const struct hci_jcounters *c = hci_join_counters(a->chans[i].c.j);
		__u64 rej = ws->skipped + ws->bad_crc + ws->bad_length + ws->bad_type +
			    ws->bad_version + c->bad_record;

		if (rej || ws->seq_gaps || c->guest_dropped || c->guest_overflow)
			fprintf(stderr, "hcitrace: guest stream %s: rejected skipped_bytes=%llu "
				"bad_crc=%llu bad_length=%llu bad_type=%llu bad_version=%llu "
				"bad_record=%llu; seq_gaps=%llu guest_dropped=%llu "
				"guest_overflow=%llu\n", a->chans[i].origin,
				(unsigned long long)ws->skipped, (unsigned long long)ws->bad_crc,
				(unsigned long long)ws->bad_length,
				(unsigned long long)ws->bad_type,
				(unsigned long long)ws->bad_version,
				(unsigned long long)c->bad_record,
				(unsigned long long)ws->seq_gaps,
				(unsigned long long)c->guest_dropped,
				(unsigned long long)c->guest_overflow);
	}
out:
	free(kvm);
	hci_report_free(&r);
	hci_snap_free(&cur[0]);
	hci_snap_free(&cur[1]);
	return err;
}

/* Each drain reads for at most this long: stops and intervals wait no more. */
#define DRAIN_NS (10 * 1000000ULL)
/* At stop, what is left in the ring is read for this long, then counted. */
#define STOP_DRAIN_NS (20 * 1000000ULL)

static __u64 min_due(__u64 t, __u64 due)
{
	return due && due < t ? due : t;
}

/* Read the ring buffer until @until (or a stop request); false on error. */
static bool drain(struct app *a, __u64 until)
{
	int err;

	a->dr.until_ns = until;
	err = ring_buffer__consume(a->t.rb);
	if (err < 0 && err != -EINTR && err != DRAIN_PAUSE) {
		hci_errorf("polling ring buffer: %s", strerror(-err));
		return false;
	}
	return true;
}

/*
 * The second Ctrl-C: the command is killed rather than waited for, and what
 * is left unread is counted at once, but the outputs are still closed, so
 * the JSON stays valid. A third one kills hcitrace (hci_on_stop_signal).
 */
static void on_stop_signal(int sig)
{
	if (hci_exiting && !hurry) {
		hurry = sig;
		return;
	}
	hci_on_stop_signal(sig);
}

/* Pass the stop on to the command and wait for it, unless told to hurry. */
static void stop_child(struct app *a, int sig)
{
	struct timespec ts = { 0, 5000000 };

	if (a->child.pid <= 0 || a->child.done)
		return;
	kill(a->child.pid, sig);
	for (;;) {
		hci_child_reap(&a->child, WNOHANG);
		if (a->child.done)
			return;
		if (hurry) {
			hci_child_stop(&a->child, SIGKILL);
			return;
		}
		nanosleep(&ts, NULL);
	}
}

/*
 * Tracing ends: detached, nothing new arrives, and the ring holds what was
 * produced before. When the command ended, all of it is read (at most the
 * ring's size). When told to stop (Ctrl-C, --duration, COUNT), it is read
 * for a bounded time; the rest is counted as lost (ringbuf_unread), and
 * marked at the end of the -p streams.
 */
static void stop_tracing(struct app *a, bool in_time)
{
	__u64 until = in_time ? hci_now_ns() + STOP_DRAIN_NS : ~0ULL;

	/* the kernel takes a while to detach: read the ring meanwhile */
	hci_tracer_detach_begin(&a->t);
	a->dr.stopping = true;
	drain(a, until);
	hci_tracer_detach(&a->t);
	check_losses(a, hci_now_ns(), true);
	drain(a, until);
	mark_pending(a, ~0ULL);
	a->dr.skip = true;
	ring_buffer__consume(a->t.rb);
	mark_lost(a, hci_now_ns(), a->dr.unread, "ringbuf_unread");
}

/* epoll timeout: wake for the next interval or the deadline, at most 100 ms */
static int wait_ms(__u64 now, __u64 next, __u64 deadline)
{
	__u64 due = min_due(min_due(now + 100000000ULL, next), deadline);

	return due > now ? (int)((due - now + 999999) / 1000000) : 0;
}

static int run(struct app *a)
{
	__u64 start = hci_now_ns(), next = 0, deadline = 0;
	int ep = -1, ret = 0;
	long intervals = 0;
	bool in_time;

	if (a->env.interval)
		next = start + (__u64)a->env.interval * 1000000000ULL;
	if (a->env.duration > 0)
		deadline = start + (__u64)(a->env.duration * 1e9);
	/*
	 * One wait for the ring buffer and the guest channels: a guest's bytes
	 * are read as they arrive, so their receipt time bounds the clock well.
	 */
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		hci_errorf("epoll: %s", strerror(errno));
		return -errno;
	}
	if (!a->nchans) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 0 };

		epoll_ctl(ep, EPOLL_CTL_ADD, ring_buffer__epoll_fd(a->t.rb), &ev);
	}
	/* after attach: scripts wait for this line */
	if (!a->env.cmd)
		fprintf(stderr, "Tracing block I/O%s... Hit Ctrl-C to end.\n",
			deadline ? " for the given duration" : "");
	if (a->env.per_request)
		hci_req_print_header(stdout);

	while (!hci_exiting) {
		struct epoll_event evs[8];
		__u64 t = hci_now_ns();
		int err;

		/* channels that (re)connected join the wait */
		for (int i = 0; i < a->nchans; i++) {
			struct gchan *g = &a->chans[i];
			struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (__u32)i + 1 };

			if (g->c.fd >= 0 && g->c.fd != g->polled_fd) {
				if (!epoll_ctl(ep, EPOLL_CTL_ADD, g->c.fd, &ev))
					g->polled_fd = g->c.fd;
			} else if (g->c.fd < 0) {
				g->polled_fd = -1;
			}
		}
		/*
		 * With a guest stream, every request makes ring buffer events;
		 * waking for each would cost more than the join. Wait on the
		 * channels only and drain the ring buffer every 10 ms.
		 */
		err = epoll_wait(ep, evs, 8, a->nchans ? 10 : wait_ms(t, next, deadline));
		if (err < 0 && errno != EINTR) {
			hci_errorf("epoll_wait: %s", strerror(errno));
			ret = -errno;
			break;
		}
		t = hci_now_ns();
		check_losses(a, t, false);
		if (!drain(a, min_due(min_due(t + DRAIN_NS, next), deadline))) {
			ret = -EIO;
			break;
		}
		service_channels(a, false);
		hci_child_reap(&a->child, WNOHANG);
		if (a->child.done)
			break;
		t = hci_now_ns();
		if (next && t >= next) {
			print_interval(a);
			next += (__u64)a->env.interval * 1000000000ULL;
			if (a->env.count && ++intervals >= a->env.count)
				break;
		}
		if (deadline && t >= deadline)
			break;
	}
	close(ep);
	/* we were told to stop: pass it on, then wait for the command */
	in_time = !a->child.done || hci_exiting;	/* a stop, not the command's end */
	stop_child(a, hci_exiting ? hci_exiting : SIGTERM);
	stop_tracing(a, in_time);
	/* what the guest already sent is still joined */
	service_channels(a, true);
	return ret;
}

int main(int argc, char **argv)
{
	struct app a = { .json_first = true };
	char err[512];
	__u32 dev = 0, vm_tgid = 0;
	__u64 cgid = 0;
	int ret;

	if (argc > 1 && !strcmp(argv[1], "guest")) {
		argv[1] = (char *)"hcitrace guest";	/* for --help and errors */
		return hci_guest_main(argc - 1, argv + 1);
	}
	ret = hci_env_parse(&a.env, argc, argv, err, sizeof(err));
	if (ret) {
		if (ret < 0 && err[0])
			hci_errorf("%s", err);
		hci_env_free(&a.env);
		return ret > 0 ? 0 : 2;
	}
	hci_set_verbosity(a.env.verbose);
	ret = 1;
	if (geteuid() != 0)
		fprintf(stderr, "Warning: not root; loading BPF programs will likely fail\n");
	if (hci_cgroups_init(&a.cg, err, sizeof(err))) {
		hci_errorf("%s", err);
		goto cleanup;
	}
	if (a.env.disk && hci_dev_from_name(a.env.disk, &dev, err, sizeof(err))) {
		hci_errorf("%s", err);
		goto cleanup;
	}
	if (a.env.cgroup && hci_cgroup_id(&a.cg, a.env.cgroup, &cgid, err, sizeof(err))) {
		hci_errorf("%s", err);
		goto cleanup;
	}
	if (a.env.vm && a.env.nchannels > 1) {
		hci_errorf("with several --guest-channel, leave --vm out: each channel's VM "
			   "is found from its socket");
		goto cleanup;
	}
	if (open_outputs(&a))
		goto cleanup;
	signal(SIGINT, on_stop_signal);
	signal(SIGTERM, on_stop_signal);
	if (a.env.nchannels) {
		a.chans = calloc((size_t)a.env.nchannels, sizeof(*a.chans));
		if (!a.chans) {
			hci_errorf("out of memory");
			goto cleanup;
		}
	}
	if (wait_for_guests(&a, &vm_tgid))
		goto cleanup;
	/* syscall tracepoints are attached through tracefs */
	if (a.env.vmm && access("/sys/kernel/tracing/events/syscalls", F_OK) &&
	    access("/sys/kernel/debug/tracing/events/syscalls", F_OK))
		mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	{
		struct hci_tracer_opts o = {
			.dev = dev, .cgid = cgid, .vm_tgid = vm_tgid,
			/* the join needs every VMM request: events without -p too */
			.per_request = a.env.per_request || a.nchans, .vmm = a.env.vmm,
			.raw_tp = a.env.raw_tp, .verbose = a.env.verbose,
			.slots = a.env.slots, .max_keys = a.env.max_keys,
			.rb_kib = a.env.rb_kib,
		};

		if (hci_tracer_start(&a.t, &o, on_event, &a))
			goto cleanup;
		a.dr.percpu = calloc((size_t)a.t.ncpus, sizeof(*a.dr.percpu));
	}
	if (a.env.vmm) {
		/* name the VMs that run now, while they run */
		struct hci_vmm_info *found = calloc(64, sizeof(*found));
		int n = found ? hci_vmm_discover(found, 64, (pid_t)vm_tgid) : 0;

		for (int i = 0; i < n; i++)
			vmm_info(&a, (__u32)found[i].pid);
		free(found);
	}
	for (int i = 0; i < a.nchans; i++)
		snprintf(a.chans[i].origin, sizeof(a.chans[i].origin), "%s",
			 vm_origin(&a, a.chans[i].c.vm_tgid));
	a.t0_ns = hci_now_ns();
	/* (unless it was started already, to boot the VM we waited for) */
	if (a.env.cmd && !a.child.pid && hci_child_spawn(&a.child, a.env.cmd))
		goto cleanup;
	if (run(&a))
		goto cleanup;
	if (final_report(&a))
		goto cleanup;
	ret = a.env.cmd ? a.child.status : 0;

cleanup:
	hci_child_stop(&a.child, SIGTERM);
	hci_tracer_stop(&a.t);
	if (a.req_csv && fclose(a.req_csv) && !ret)
		ret = 1;
	if (a.vreq_csv && fclose(a.vreq_csv) && !ret)
		ret = 1;
	if (a.join_csv && fclose(a.join_csv) && !ret)
		ret = 1;
	if (a.vol_csv && fclose(a.vol_csv) && !ret)
		ret = 1;
	if (a.hist_csv)
		fclose(a.hist_csv);	/* only on errors: written at the end */
	if (a.brk_csv)
		fclose(a.brk_csv);
	free(a.dr.percpu);
	for (int i = 0; i < a.nchans; i++) {
		hci_chan_close(&a.chans[i].c);
		free(a.chans[i].vols);
	}
	free(a.chans);
	if (a.json)
		fclose(a.json);
	hci_cgroups_free(&a.cg);
	free(a.origins);
	for (size_t i = 0; i < a.nvmms; i++)
		free(a.vmms[i]);
	free(a.vmms);
	hci_snap_free(&a.prev[0]);
	hci_snap_free(&a.prev[1]);
	hci_env_free(&a.env);
	return ret;
}
