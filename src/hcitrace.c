// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcitrace: where each block I/O spends its time on this host, per origin.
 *
 * Lifecycle: parse arguments, resolve the disk and cgroup filters, calibrate
 * kernel features, open the skeleton, set rodata and map sizes, load, attach,
 * optionally start the traced command, poll, then report. Every path out goes
 * through one cleanup, which detaches everything (links are fds).
 */
#include <dirent.h>
#include <errno.h>
#include <sys/mount.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "hcitrace.skel.h"
#include "hcitrace.h"
#include "cgroups.h"
#include "devs.h"
#include "env.h"
#include "hist.h"
#include "origin.h"
#include "output.h"
#include "probe.h"
#include "vmm.h"

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	if (exiting) {
		/* a second Ctrl-C means "now" */
		signal(sig, SIG_DFL);
		raise(sig);
	}
	exiting = sig;
}

static const char *const counter_names[HCI_NCOUNTERS + 1] = {
	[HCI_CNT_SLOT_FULL] = "slot_table_full",
	[HCI_CNT_HIST_FULL] = "histogram_keys_full",
	[HCI_CNT_RB_LOST] = "ringbuf_full",
	[HCI_CNT_Q_MISSING] = "queue_event_missing",
	[HCI_CNT_RQ_UNSEEN] = "completion_without_issue",
	[HCI_CNT_PARTIAL] = "partial_completions",
	[HCI_CNT_STALE] = "stale_slots_reclaimed",
	[HCI_CNT_VMM_FULL] = "vmm_table_full",
	[HCI_CNT_VIO_FULL] = "vmm_inflight_full",
	[HCI_CNT_VHIST_FULL] = "vmm_histogram_keys_full",
	[HCI_CNT_AIO_CUT] = "aio_iocbs_not_followed",
	[HCI_NCOUNTERS] = "prog_recursion_misses",
};

struct origin_ent {
	__u64 cgid;
	__u32 tgid;
	char origin[HCI_ORIGIN_MAX];
};

struct vmm_ent {
	__u32 tgid;
	struct hci_vmm_info info;	/* taken while the VMM was alive */
};

/* A per-CPU map read whole and summed over CPUs: block or VMM layer. */
struct snap {
	size_t ksz, vsz, n;
	char *keys;
	__u64 *vals;		/* n values of vsz bytes each */
};

struct app {
	struct hci_env env;
	struct hcitrace *skel;
	struct ring_buffer *rb;
	struct bpf_link **links;
	size_t nlinks;
	struct hci_cgroups cg;
	struct origin_ent *origins;
	size_t norigins;
	struct vmm_ent **vmms;
	size_t nvmms;
	struct snap prev[2];	/* by enum hci_layer */
	FILE *req_csv;
	FILE *vreq_csv;
	FILE *json;
	bool json_first;
	__u64 t0_ns;
	int ncpus;
	pid_t child;
	int child_status;
	bool child_done;
};

static int verbosity;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && verbosity < 2)
		return 0;
	if (!verbosity)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static void errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

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

static int on_vevent(struct app *a, const struct hci_vevent *e)
{
	struct hci_vreq q;
	char dev[32];

	if (e->op >= HCI_NOPS)
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

static int on_event(void *ctx, void *data, size_t size)
{
	struct app *a = ctx;
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
	if (e->type != HCI_EV_REQ || e->op >= HCI_NOPS)
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

static void snap_free(struct snap *sn)
{
	free(sn->keys);
	free(sn->vals);
	memset(sn, 0, sizeof(*sn));
}

/* Read a whole per-CPU map, values summed over CPUs. */
static int snapshot(struct app *a, struct bpf_map *map, struct snap *sn)
{
	int fd = bpf_map__fd(map);
	size_t ksz = bpf_map__key_size(map), vsz = bpf_map__value_size(map);
	size_t words = vsz / sizeof(__u64), cap = 0;
	char key[64], next[64];
	void *prev = NULL;
	__u64 *percpu;

	memset(sn, 0, sizeof(*sn));
	sn->ksz = ksz;
	sn->vsz = vsz;
	if (ksz > sizeof(key))
		return -EINVAL;
	percpu = calloc((size_t)a->ncpus, vsz);
	if (!percpu)
		return -ENOMEM;
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, ksz);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, percpu))
			continue;	/* deleted under us */
		if (sn->n == cap) {
			char *k;
			__u64 *v;

			cap = cap ? cap * 2 : 16;
			k = realloc(sn->keys, cap * ksz);
			v = k ? realloc(sn->vals, cap * vsz) : NULL;
			if (k)
				sn->keys = k;
			if (!v) {
				free(percpu);
				snap_free(sn);
				return -ENOMEM;
			}
			sn->vals = v;
		}
		memcpy(sn->keys + sn->n * ksz, key, ksz);
		memset(&sn->vals[sn->n * words], 0, vsz);
		for (int c = 0; c < a->ncpus; c++)
			hci_u64s_add(&sn->vals[sn->n * words], &percpu[c * words], words);
		sn->n++;
	}
	free(percpu);
	return 0;
}

static const __u64 *snap_find(const struct snap *sn, const void *key)
{
	for (size_t j = 0; j < sn->n; j++)
		if (!memcmp(sn->keys + j * sn->ksz, key, sn->ksz))
			return &sn->vals[j * (sn->vsz / sizeof(__u64))];
	return NULL;
}

/* Add a snapshot's rows to the report, minus @base (for interval deltas). */
static int add_rows(struct app *a, enum hci_layer layer, const struct snap *sn,
		    const struct snap *base, struct hci_report *r)
{
	size_t words = sn->vsz / sizeof(__u64);
	union { struct hci_hist_val h; struct hci_vmm_val v; } delta;
	char dev[32];

	for (size_t i = 0; i < sn->n; i++) {
		const void *k = sn->keys + i * sn->ksz;
		const __u64 *val = &sn->vals[i * words], *old = base ? snap_find(base, k) : NULL;
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
	int fd = bpf_map__fd(a->skel->maps.aio_reqs);
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
static int build_report(struct app *a, struct snap cur[2], const struct snap *base,
			struct hci_report *r)
{
	int err;

	memset(r, 0, sizeof(*r));
	err = snapshot(a, a->skel->maps.hists, &cur[HCI_LAYER_BLOCK]);
	if (!err)
		err = snapshot(a, a->skel->maps.vmm_hists, &cur[HCI_LAYER_VMM]);
	if (!err)
		err = add_rows(a, HCI_LAYER_BLOCK, &cur[HCI_LAYER_BLOCK],
			       base ? &base[HCI_LAYER_BLOCK] : NULL, r);
	if (!err)
		err = add_rows(a, HCI_LAYER_VMM, &cur[HCI_LAYER_VMM],
			       base ? &base[HCI_LAYER_VMM] : NULL, r);
	hci_report_sort(r);
	return err;
}

static void print_interval(struct app *a)
{
	struct snap cur[2] = {};
	struct hci_report r;
	char tbuf[32];
	time_t t = time(NULL);

	if (!build_report(a, cur, a->prev, &r)) {
		strftime(tbuf, sizeof(tbuf), "%H:%M:%S", localtime(&t));
		printf("\n%s\n", tbuf);
		if (!r.n)
			printf("  (no I/O)\n");
		hci_report_print(stdout, &r, a->env.show_hist);
		fflush(stdout);
	}
	hci_report_free(&r);
	for (int l = 0; l < 2; l++) {
		snap_free(&a->prev[l]);
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
	struct snap counts = {}, exits = {};
	struct hci_kvm_row *rows = NULL;
	size_t n = 0;
	int err;

	*out = NULL;
	*nout = 0;
	if (!a->env.vmm)
		return 0;
	err = snapshot(a, a->skel->maps.kvm_counts, &counts);
	if (!err)
		err = snapshot(a, a->skel->maps.kvm_exits, &exits);
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
	snap_free(&counts);
	snap_free(&exits);
	return err;
}

static void read_counters(struct app *a, __u64 *out)
{
	int fd = bpf_map__fd(a->skel->maps.counters);
	__u64 *vals = calloc((size_t)a->ncpus, sizeof(__u64));
	struct bpf_program *prog;

	memset(out, 0, sizeof(__u64) * (HCI_NCOUNTERS + 1));
	for (__u32 k = 0; vals && k < HCI_NCOUNTERS; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < a->ncpus; c++)
			out[k] += vals[c];
	}
	free(vals);
	/* a program that re-entered itself on one CPU was skipped: count it */
	bpf_object__for_each_program(prog, a->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int pfd = bpf_program__fd(prog);

		if (pfd >= 0 && !bpf_obj_get_info_by_fd(pfd, &info, &len))
			out[HCI_NCOUNTERS] += info.recursion_misses;
	}
}

static void report_lost(const __u64 *c)
{
	bool any = false;

	for (int i = 0; i <= HCI_NCOUNTERS; i++) {
		if (!c[i])
			continue;
		fprintf(stderr, "%s %s=%llu", any ? "" : "hcitrace: incomplete events:",
			counter_names[i], (unsigned long long)c[i]);
		any = true;
	}
	fprintf(stderr, any ? "\n" : "hcitrace: no events lost\n");
}

static FILE *open_out(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		errorf("cannot write '%s': %s", path, strerror(errno));
	return f;
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

static int final_report(struct app *a)
{
	__u64 counters[HCI_NCOUNTERS + 1];
	struct hci_kvm_row *kvm = NULL;
	struct snap cur[2] = {};
	struct hci_report r;
	size_t nkvm = 0;
	int err;

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
	read_counters(a, counters);
	if (a->env.csv_path) {
		FILE *f = open_out(a->env.csv_path);

		if (!f) {
			err = -EIO;
		} else {
			hci_csv_write_hist(f, &r);
			if (fclose(f))
				err = -EIO;
		}
	}
	if (a->json) {
		json_vms(a);
		hci_json_end(a->json, &r, kvm, nkvm, counter_names, counters,
			     HCI_NCOUNTERS + 1);
		if (fclose(a->json))
			err = -EIO;
		a->json = NULL;
	}
	fflush(stdout);
	report_lost(counters);
out:
	free(kvm);
	hci_report_free(&r);
	snap_free(&cur[0]);
	snap_free(&cur[1]);
	return err;
}

/* --vm PID|NAME -> the VMM's tgid. A name must match exactly one VMM. */
static int resolve_vm(const char *spec, __u32 *tgid, char *err, size_t errlen)
{
	char path[64], buf[4096], name[128];
	struct dirent *d;
	int found = 0;
	DIR *proc;
	char *end;
	long pid;

	errno = 0;
	pid = strtol(spec, &end, 10);
	if (!errno && end != spec && !*end) {
		snprintf(path, sizeof(path), "/proc/%ld", pid);
		if (pid <= 0 || pid > 0x7fffffff || access(path, F_OK)) {
			snprintf(err, errlen, "no process with pid %s", spec);
			return -ESRCH;
		}
		*tgid = (__u32)pid;
		return 0;
	}
	proc = opendir("/proc");
	if (!proc) {
		snprintf(err, errlen, "cannot read /proc: %s", strerror(errno));
		return -errno;
	}
	while ((d = readdir(proc))) {
		size_t n;
		FILE *f;

		pid = strtol(d->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (n && !hci_vmm_name_from_cmdline(buf, n, name, sizeof(name)) &&
		    !strcmp(name, spec)) {
			*tgid = (__u32)pid;
			found++;
		}
	}
	closedir(proc);
	if (found == 1)
		return 0;
	if (found)
		snprintf(err, errlen, "%d processes are named '%s'; give the pid", found, spec);
	else
		snprintf(err, errlen, "no VM named '%s' is running (give its -name or pid)", spec);
	return found ? -EEXIST : -ESRCH;
}

static int spawn(struct app *a)
{
	a->child = fork();
	if (a->child < 0) {
		errorf("fork: %s", strerror(errno));
		return -errno;
	}
	if (a->child == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(a->env.cmd[0], a->env.cmd);
		fprintf(stderr, "Error: cannot run '%s': %s\n", a->env.cmd[0], strerror(errno));
		_exit(127);
	}
	return 0;
}

static void reap(struct app *a, int flags)
{
	int st;

	if (a->child <= 0 || a->child_done)
		return;
	if (waitpid(a->child, &st, flags) == a->child) {
		a->child_done = true;
		a->child_status = WIFEXITED(st) ? WEXITSTATUS(st) :
				  WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
	}
}

static int setup_bpf(struct app *a, __u32 dev, __u64 cgid, __u32 vm_tgid)
{
	struct hci_features feat;
	struct bpf_program *prog;
	bool use_btf;
	int err;

	hci_probe_features(&feat);
	use_btf = feat.tp_btf && !a->env.raw_tp;
	if (a->env.verbose)
		hci_features_print(stderr, &feat, use_btf);

	a->skel = hcitrace__open();
	if (!a->skel) {
		errorf("cannot open BPF object: %s", strerror(errno));
		return -errno;
	}
	a->skel->rodata->targ_dev = dev;
	a->skel->rodata->targ_cgid = cgid;
	a->skel->rodata->targ_per_request = a->env.per_request;
	a->skel->rodata->targ_single_arg = feat.single_arg;
	a->skel->rodata->targ_slot_mask = (__u32)a->env.slots - 1;
	a->skel->rodata->targ_vmm = a->env.vmm;
	a->skel->rodata->targ_vm_tgid = vm_tgid;
	a->skel->rodata->targ_kvm_exit_reason_arg = feat.kvm_exit_reason_arg;
	a->skel->rodata->targ_uring_cqe_ptr = feat.uring_cqe_ptr;
	bpf_map__set_max_entries(a->skel->maps.bio_slots, (__u32)a->env.slots);
	bpf_map__set_max_entries(a->skel->maps.rq_slots, (__u32)a->env.slots);
	bpf_map__set_max_entries(a->skel->maps.bio_ovf, (__u32)a->env.slots);
	bpf_map__set_max_entries(a->skel->maps.rq_ovf, (__u32)a->env.slots);
	bpf_map__set_max_entries(a->skel->maps.hists, (__u32)a->env.max_keys);
	bpf_map__set_max_entries(a->skel->maps.events,
				 a->env.per_request ? (__u32)a->env.rb_kib * 1024 : 256 * 1024);

	/* choose the variant before load: the loser is never loaded */
	bpf_object__for_each_program(prog, a->skel->obj) {
		const char *name = bpf_program__name(prog);
		size_t l = strlen(name);
		bool is_btf = l > 4 && !strcmp(name + l - 4, "_btf");

		/* the VMM layer's syscall and KVM tracepoints cost nothing unless asked for */
		if (!strncmp(name, "sys_", 4))
			bpf_program__set_autoload(prog, a->env.vmm);
		else if (!strncmp(name, "kvm_", 4))
			bpf_program__set_autoload(prog, a->env.vmm && feat.kvm);
		else if (!strncmp(name, "io_uring_", 9))
			bpf_program__set_autoload(prog, a->env.vmm && feat.uring);
		else
			bpf_program__set_autoload(prog, is_btf == use_btf);
	}
	err = hcitrace__load(a->skel);
	if (err) {
		errorf("cannot load BPF programs: %s%s", strerror(-err),
		       a->env.verbose ? "" : " (run with -v for the verifier log)");
		return err;
	}
	/*
	 * Attach one by one: the KVM tracepoints are an optional extra, and a
	 * kernel without them (or with KVM as an absent module) must not stop
	 * the rest.
	 */
	bpf_object__for_each_program(prog, a->skel->obj) {
		const char *name = bpf_program__name(prog);
		struct bpf_link *link, **links;

		if (!bpf_program__autoload(prog))
			continue;
		link = bpf_program__attach(prog);
		if (!link) {
			err = -errno;
			if (!strncmp(name, "kvm_", 4) || !strncmp(name, "io_uring_", 9)) {
				if (a->env.verbose)
					fprintf(stderr, "tracepoint %s unavailable (%s): "
						"its stages will be absent\n", name,
						strerror(-err));
				continue;
			}
			errorf("cannot attach %s: %s%s", name, strerror(-err),
			       !strncmp(name, "sys_", 4) && !feat.tracefs ?
			       " (tracefs is not mounted: mount -t tracefs tracefs "
			       "/sys/kernel/tracing)" : "");
			return err;
		}
		links = realloc(a->links, (a->nlinks + 1) * sizeof(*links));
		if (!links) {
			bpf_link__destroy(link);
			return -ENOMEM;
		}
		a->links = links;
		a->links[a->nlinks++] = link;
	}
	a->rb = ring_buffer__new(bpf_map__fd(a->skel->maps.events), on_event, a, NULL);
	if (!a->rb) {
		errorf("cannot create ring buffer: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int run(struct app *a)
{
	__u64 start = now_ns(), next = 0, deadline = 0;
	long intervals = 0;

	if (a->env.interval)
		next = start + (__u64)a->env.interval * 1000000000ULL;
	if (a->env.duration > 0)
		deadline = start + (__u64)(a->env.duration * 1e9);
	/* after attach: scripts wait for this line */
	if (!a->env.cmd)
		fprintf(stderr, "Tracing block I/O%s... Hit Ctrl-C to end.\n",
			deadline ? " for the given duration" : "");
	if (a->env.per_request)
		hci_req_print_header(stdout);

	while (!exiting) {
		__u64 t;
		int err = ring_buffer__poll(a->rb, 100);

		if (err < 0 && err != -EINTR) {
			errorf("polling ring buffer: %s", strerror(-err));
			return err;
		}
		reap(a, WNOHANG);
		if (a->child_done)
			break;
		t = now_ns();
		if (next && t >= next) {
			print_interval(a);
			next += (__u64)a->env.interval * 1000000000ULL;
			if (a->env.count && ++intervals >= a->env.count)
				break;
		}
		if (deadline && t >= deadline)
			break;
	}
	if (a->child > 0 && !a->child_done) {
		/* we were told to stop: pass it on, then wait for the command */
		kill(a->child, exiting ? exiting : SIGTERM);
		reap(a, 0);
	}
	ring_buffer__consume(a->rb);
	return 0;
}

int main(int argc, char **argv)
{
	struct app a = { .json_first = true };
	char err[512];
	__u32 dev = 0, vm_tgid = 0;
	__u64 cgid = 0;
	int ret;

	ret = hci_env_parse(&a.env, argc, argv, err, sizeof(err));
	if (ret) {
		if (ret < 0 && err[0])
			errorf("%s", err);
		hci_env_free(&a.env);
		return ret > 0 ? 0 : 2;
	}
	verbosity = a.env.verbose;
	libbpf_set_print(libbpf_print);
	ret = 1;
	if (geteuid() != 0)
		fprintf(stderr, "Warning: not root; loading BPF programs will likely fail\n");
	if (hci_cgroups_init(&a.cg, err, sizeof(err))) {
		errorf("%s", err);
		goto cleanup;
	}
	if (a.env.disk && hci_dev_from_name(a.env.disk, &dev, err, sizeof(err))) {
		errorf("%s", err);
		goto cleanup;
	}
	if (a.env.cgroup && hci_cgroup_id(&a.cg, a.env.cgroup, &cgid, err, sizeof(err))) {
		errorf("%s", err);
		goto cleanup;
	}
	if (a.env.vm && resolve_vm(a.env.vm, &vm_tgid, err, sizeof(err))) {
		errorf("%s", err);
		goto cleanup;
	}
	/* syscall tracepoints are attached through tracefs */
	if (a.env.vmm && access("/sys/kernel/tracing/events/syscalls", F_OK) &&
	    access("/sys/kernel/debug/tracing/events/syscalls", F_OK))
		mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	a.ncpus = libbpf_num_possible_cpus();
	if (a.ncpus <= 0) {
		errorf("cannot count possible CPUs");
		goto cleanup;
	}
	if (a.env.json_path) {
		a.json = open_out(a.env.json_path);
		if (!a.json)
			goto cleanup;
		hci_json_begin(a.json);
	}
	if (a.env.csv_path && a.env.per_request) {
		char path[4096];
		size_t l = strlen(a.env.csv_path);

		if (l > 4 && !strcmp(a.env.csv_path + l - 4, ".csv"))
			l -= 4;
		snprintf(path, sizeof(path), "%.*s.requests.csv", (int)l, a.env.csv_path);
		a.req_csv = open_out(path);
		if (!a.req_csv)
			goto cleanup;
		hci_csv_req_header(a.req_csv);
		if (a.env.vmm) {
			snprintf(path, sizeof(path), "%.*s.vmm-requests.csv", (int)l,
				 a.env.csv_path);
			a.vreq_csv = open_out(path);
			if (!a.vreq_csv)
				goto cleanup;
			hci_csv_vreq_header(a.vreq_csv);
		}
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (setup_bpf(&a, dev, cgid, vm_tgid))
		goto cleanup;
	if (a.env.vmm) {
		/* name the VMs that run now, while they run */
		struct hci_vmm_info *found = calloc(64, sizeof(*found));
		int n = found ? hci_vmm_discover(found, 64, (pid_t)vm_tgid) : 0;

		for (int i = 0; i < n; i++)
			vmm_info(&a, (__u32)found[i].pid);
		free(found);
	}
	a.t0_ns = now_ns();
	if (a.env.cmd && spawn(&a))
		goto cleanup;
	if (run(&a))
		goto cleanup;
	if (final_report(&a))
		goto cleanup;
	ret = a.env.cmd ? a.child_status : 0;

cleanup:
	if (a.child > 0 && !a.child_done) {
		kill(a.child, SIGTERM);
		reap(&a, 0);
	}
	ring_buffer__free(a.rb);
	for (size_t i = 0; i < a.nlinks; i++)
		bpf_link__destroy(a.links[i]);
	free(a.links);
	hcitrace__destroy(a.skel);
	if (a.req_csv && fclose(a.req_csv) && !ret)
		ret = 1;
	if (a.vreq_csv && fclose(a.vreq_csv) && !ret)
		ret = 1;
	if (a.json)
		fclose(a.json);
	hci_cgroups_free(&a.cg);
	free(a.origins);
	for (size_t i = 0; i < a.nvmms; i++)
		free(a.vmms[i]);
	free(a.vmms);
	snap_free(&a.prev[0]);
	snap_free(&a.prev[1]);
	hci_env_free(&a.env);
	return ret;
}
