// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Skeleton lifecycle for hcitrace and hcitrace guest. Program variants are
 * chosen before load (the loser is never loaded); optional layers (VMM
 * syscalls, io_uring, KVM, application I/O) load only when asked for.
 */
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/membarrier.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "hcitrace.skel.h"
#include "core/hist.h"
#include "layers.h"
#include "stamps.h"
#include "tp_link.h"
#include "tracer.h"

const char *const hci_counter_names[HCI_NCOUNTERS + 1] = {
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
	[HCI_CNT_APP_FULL] = "app_inflight_full",
	[HCI_CNT_CPL_UNSEEN] = "completion_not_seen",
	[HCI_NCOUNTERS] = "prog_recursion_misses",
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && hci_verbosity() < 2)
		return 0;
	if (!hci_verbosity())
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* settings and map sizes, between open and load */
static void configure(struct hcitrace *skel, const struct hci_tracer_opts *o,
		      const struct hci_features *feat)
{
	__u32 aio_slots;

	skel->rodata->targ_dev = o->dev;
	skel->rodata->targ_cgid = o->cgid;
	skel->rodata->targ_per_request = o->per_request;
	skel->rodata->targ_single_arg = feat->single_arg;
	skel->rodata->targ_slot_mask = (__u32)o->slots - 1;
	skel->rodata->targ_vmm = o->vmm;
	skel->rodata->targ_vm_tgid = o->vm_tgid;
	skel->rodata->targ_self_tgid = o->self_tgid;
	skel->rodata->targ_kvm_exit_reason_arg = feat->kvm_exit_reason_arg;
	skel->rodata->targ_uring_cqe_ptr = feat->uring_cqe_ptr;
	skel->rodata->targ_uring_ctx_first = feat->uring_ctx_first;
	skel->rodata->targ_uring_worker = feat->uring_worker;
	skel->rodata->targ_kernel_g = feat->kernel_g;
	skel->rodata->targ_kernel_d = feat->kernel_d;
	skel->rodata->targ_syscall_regs = feat->syscall_regs;
	skel->rodata->targ_rdonly_cast = feat->rdonly_cast;
	skel->rodata->targ_bpf_loop = feat->bpf_loop;
	skel->rodata->targ_req_who = o->req_who;
	bpf_map__set_max_entries(skel->maps.bio_slots, (__u32)o->slots);
	bpf_map__set_max_entries(skel->maps.rq_slots, (__u32)o->slots);
	bpf_map__set_max_entries(skel->maps.bio_ovf, (__u32)o->slots);
	bpf_map__set_max_entries(skel->maps.rq_ovf, (__u32)o->slots);
	aio_slots = o->slots < HCI_AIO_SLOTS ? (__u32)o->slots : HCI_AIO_SLOTS;
	skel->rodata->targ_aio_mask = aio_slots - 1;
	bpf_map__set_max_entries(skel->maps.aio_slots, aio_slots);
	bpf_map__set_max_entries(skel->maps.hists, (__u32)o->max_keys);
	bpf_map__set_max_entries(skel->maps.events,
				 o->per_request || o->app ? (__u32)o->rb_kib * 1024 : 256 * 1024);
}

/*
 * Where G and D come from: the kernel's request stamps, or block_getrq and
 * block_rq_issue (stamps.c)
 */
static void choose_stamps(struct hci_features *feat, const struct hci_tracer_opts *o)
{
	char why[128] = "", why_d[128] = "";

	feat->kernel_g = hci_kernel_g_usable(feat->rq_start_time, o->dev, why, sizeof(why));
	feat->kernel_d = hci_kernel_d_usable(feat->rq_io_start_time, o->dev, o->vmm,
					     why_d, sizeof(why_d));
	if (!o->verbose)
		return;
	fprintf(stderr, "G point: %s%s%s\n",
		feat->kernel_g ? "the kernel's request stamp (rq->start_time_ns)" :
		"block_getrq", feat->kernel_g ? "" : ": ", why);
	fprintf(stderr, "D point: %s%s%s\n",
		feat->kernel_d ? "the kernel's dispatch stamp (rq->io_start_time_ns)" :
		"block_rq_issue", feat->kernel_d ? "" : ": ", why_d);
}

static int keep_link(struct hci_tracer *t, struct bpf_link *link, int event_fd)
{
	struct bpf_link **links = realloc(t->links, (t->nlinks + 1) * sizeof(*links));
	int *fds = links ? realloc(t->event_fds, (t->nlinks + 1) * sizeof(*fds)) : NULL;

	if (links)
		t->links = links;
	if (fds)
		t->event_fds = fds;
	if (!fds) {
		bpf_link__destroy(link);
		if (event_fd >= 0)
			close(event_fd);
		return -ENOMEM;
	}
	t->event_fds[t->nlinks] = event_fd;
	t->links[t->nlinks++] = link;
	return 0;
}

/*
 * Attach one by one: the KVM and io_uring tracepoints are an optional
 * extra, and a kernel without them must not stop the rest.
 */
static int attach_all(struct hci_tracer *t, const struct hci_tracer_opts *o)
{
	struct bpf_program *prog;
	int err;

	bpf_object__for_each_program(prog, t->skel->obj) {
		const char *name = bpf_program__name(prog);
		const struct hci_prog_layer *layer = hci_prog_layer_of(name);
		struct bpf_link *link;
		int event_fd;

		if (!bpf_program__autoload(prog))
			continue;
		link = hci_tp_attach(prog, &event_fd);
		if (!link) {
			err = -errno;
			if (layer->optional) {
				if (o->verbose)
					fprintf(stderr, "tracepoint %s unavailable (%s): "
						"its stages will be absent\n", name,
						strerror(-err));
				continue;
			}
			hci_errorf("cannot attach %s: %s%s", name, strerror(-err),
				   layer->tracefs && !t->feat.tracefs ?
				   " (tracefs is not mounted: mount -t tracefs tracefs "
				   "/sys/kernel/tracing)" : "");
			return err;
		}
		err = keep_link(t, link, event_fd);
		if (err)
			return err;
	}
	return 0;
}

int hci_tracer_start(struct hci_tracer *t, const struct hci_tracer_opts *o,
		     ring_buffer_sample_fn cb, void *ctx)
{
	struct hci_features *feat = &t->feat;
	struct bpf_program *prog;
	bool use_btf;
	int err;

	memset(&t->ph, 0, sizeof(t->ph));
	t->ph.begin = hci_now_ns();
	t->ph.cpu0 = hci_cpu_ns();
	libbpf_set_print(libbpf_print);
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus <= 0) {
		hci_errorf("cannot count possible CPUs");
		return -EINVAL;
	}
	hci_probe_features(feat);
	use_btf = feat->tp_btf && !o->raw_tp;
	choose_stamps(feat, o);
	t->ph.features = hci_now_ns();	/* calibration, the G point's included */
	if (o->verbose)
		hci_features_print(stderr, feat, use_btf, o->vmm);

	t->skel = hcitrace__open();
	if (!t->skel) {
		hci_errorf("cannot open BPF object: %s", strerror(errno));
		return -errno;
	}
	configure(t->skel, o, feat);
	t->ph.open = hci_now_ns();
	/* choose the variant before load: the loser is never loaded */
	bpf_object__for_each_program(prog, t->skel->obj)
		bpf_program__set_autoload(prog, hci_prog_wanted(bpf_program__name(prog), o,
								 feat, use_btf));
	t->ph.load_boot0 = hci_boot_ns();
	err = hcitrace__load(t->skel);
	t->ph.load = hci_now_ns();
	t->ph.load_boot = hci_boot_ns();
	if (err) {
		hci_errorf("cannot load BPF programs: %s%s", strerror(-err),
			   o->verbose ? "" : " (run with -v for the verifier log)");
		return err;
	}
	err = attach_all(t, o);
	if (err)
		return err;
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), cb, ctx, NULL);
	if (!t->rb) {
		hci_errorf("cannot create ring buffer: %s", strerror(errno));
		return -errno;
	}
	t->ph.attach = hci_now_ns();
	t->ph.cpu_start = hci_cpu_ns();
	hci_phases_print_start(&t->ph, t->skel->obj, t->nlinks);
	return 0;
}

/* requests of a hash slot table still in flight (dead entries have no flags) */
static __u64 live_in_hash(struct bpf_map *map)
{
	int fd = bpf_map__fd(map);
	__u64 key, next, n = 0;
	struct hci_slot v;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, &v) && v.flags)
			n++;
	}
	return n;
}

/* hci_array_each() from entry @i on, one lookup each */
static int array_each_one_by_one(int fd, __u32 i, __u32 max, void *val, hci_array_fn fn,
				 void *ctx)
{
	int err;

	for (; i < max; i++) {
		if (bpf_map_lookup_elem(fd, &i, val))
			continue;
		err = fn(val, ctx);
		if (err)
			return err;
	}
	return 0;
}

/*
 * In batches: one lookup per entry was 16384 syscalls, 15 to 30 ms of
 * every stop. A kernel without batch lookups takes the slow way; an
 * array's batches come in index order, so a failed one goes on from there.
 */
int hci_array_each(struct bpf_map *map, hci_array_fn fn, void *ctx)
{
	enum { CHUNK = 1024 };
	int fd = bpf_map__fd(map), err = 0;
	__u32 max = bpf_map__max_entries(map), keys[CHUNK], next = 0, *from = NULL;
	size_t size = bpf_map__value_size(map);
	char *v = calloc(CHUNK, size);

	if (!v)
		return -ENOMEM;
	for (__u32 seen = 0; seen < max;) {
		__u32 cnt = CHUNK;
		int rc = bpf_map_lookup_batch(fd, from, &next, keys, v, &cnt, NULL);

		if (rc && rc != -ENOENT) {
			err = array_each_one_by_one(fd, seen, max, v, fn, ctx);
			break;
		}
		for (__u32 i = 0; i < cnt && !err; i++)
			err = fn(v + i * size, ctx);
		seen += cnt;
		if (err || rc || !cnt)
			break;
		from = &next;
	}
	free(v);
	return err;
}

static int count_live(const void *val, void *ctx)
{
	const struct hci_slot *s = val;

	*(__u64 *)ctx += s->key && s->flags;
	return 0;
}

/* requests of an array slot table still in flight */
static __u64 live_in_array(struct bpf_map *map)
{
	__u64 n = 0;

	hci_array_each(map, count_live, &n);
	return n;
}

void hci_tracer_counters(struct hci_tracer *t, __u64 *out)
{
	int fd = bpf_map__fd(t->skel->maps.counters);
	__u64 *vals = calloc((size_t)t->ncpus, sizeof(__u64));
	struct bpf_program *prog;

	memset(out, 0, sizeof(__u64) * (HCI_NCOUNTERS + 1));
	for (__u32 k = 0; vals && k < HCI_NCOUNTERS; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < t->ncpus; c++)
			out[k] += vals[c];
	}
	free(vals);
	/*
	 * Once the programs are detached the tables are frozen: a request
	 * still in a slot was never counted (it was in flight at the end, or
	 * the kernel skipped our completion program for it). With the
	 * kernel's D stamp, a request's state stays in its first bio's slot
	 * until C (merged bios' slots are freed at the merge), so a live bio
	 * slot is such a request too.
	 */
	if (!t->nlinks) {
		out[HCI_CNT_CPL_UNSEEN] += live_in_array(t->skel->maps.rq_slots) +
					   live_in_hash(t->skel->maps.rq_ovf);
		if (t->feat.kernel_d)
			out[HCI_CNT_CPL_UNSEEN] += live_in_array(t->skel->maps.bio_slots) +
						   live_in_hash(t->skel->maps.bio_ovf);
	}
	/* a program that re-entered itself on one CPU was skipped: count it */
	bpf_object__for_each_program(prog, t->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int pfd = bpf_program__fd(prog);

		if (pfd >= 0 && !bpf_obj_get_info_by_fd(pfd, &info, &len))
			out[HCI_NCOUNTERS] += info.recursion_misses;
	}
}

void hci_report_lost(const __u64 *c, const char *who)
{
	hci_report_lost_n(hci_counter_names, c, HCI_NCOUNTERS + 1, who);
}

void hci_report_lost_n(const char *const *names, const __u64 *c, int n, const char *who)
{
	bool any = false;

	for (int i = 0; i < n; i++) {
		if (!c[i])
			continue;
		if (!any)
			fprintf(stderr, "%s: incomplete events:", who);
		fprintf(stderr, " %s=%llu", names[i], (unsigned long long)c[i]);
		any = true;
	}
	if (any)
		fputc('\n', stderr);
	else
		fprintf(stderr, "%s: no events lost\n", who);
}

static void *destroy_link(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/* The links being destroyed in the background, one thread each. */
struct hci_detach {
	pthread_t *th;
	bool *started;
};

/*
 * A tracepoint link's detach waits for a grace period, tens of ms on a
 * busy machine; one after the other, the 22 of --vmm took 0.7 to 1.5 s. In
 * parallel the waits overlap, and the caller can read the ring buffer
 * meanwhile. (The wait that does not overlap, closing the perf event, is
 * left to a grandchild: tp_link.c.) A link whose thread does not start is
 * destroyed here.
 */
void hci_tracer_detach_begin(struct hci_tracer *t)
{
	struct hci_detach *d;

	if (t->detach_begun)
		return;
	t->detach_begun = true;
	if (t->nlinks) {
		t->ph.stop = hci_now_ns();
		t->ph.cpu_stop = hci_cpu_ns();
	}
	d = t->detaching = calloc(1, sizeof(*d));
	if (d) {
		d->th = calloc(t->nlinks + 1, sizeof(*d->th));
		d->started = calloc(t->nlinks + 1, sizeof(*d->started));
	}
	for (size_t i = 0; i < t->nlinks; i++) {
		bool ok = d && d->th && d->started &&
			  !pthread_create(&d->th[i], NULL, destroy_link, t->links[i]);

		if (d && d->started)
			d->started[i] = ok;
		if (!ok)
			bpf_link__destroy(t->links[i]);
	}
}

/* @settle: wait for the programs to stop running, for a final read */
static void detach(struct hci_tracer *t, bool settle)
{
	struct hci_detach *d;

	hci_tracer_detach_begin(t);
	d = t->detaching;
	for (size_t i = 0; d && d->started && i < t->nlinks; i++)
		if (d->started[i])
			pthread_join(d->th[i], NULL);
	if (d) {
		free(d->th);
		free(d->started);
		free(d);
	}
	if (t->nlinks) {
		t->ph.links = hci_now_ns();
		/*
		 * A raw_tp program can still be running on another CPU when
		 * its link is gone (the kernel frees the probe after a grace
		 * period, without waiting for it): wait for one, so that the
		 * tables read next are final. MEMBARRIER_CMD_GLOBAL is
		 * synchronize_rcu(). hci_tracer_stop() reads nothing after.
		 */
		if (settle)
			syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
		t->ph.grace = hci_now_ns();
		t->ph.handed = hci_tp_release(t->event_fds, t->nlinks);
		t->ph.detached = hci_now_ns();
		hci_phases_print_detach(&t->ph, t->nlinks);
	}
	t->detaching = NULL;
	t->detach_begun = false;
	free(t->links);
	t->links = NULL;
	free(t->event_fds);
	t->event_fds = NULL;
	t->nlinks = 0;
}

void hci_tracer_detach(struct hci_tracer *t)
{
	detach(t, true);
}

void hci_tracer_stop(struct hci_tracer *t)
{
	ring_buffer__free(t->rb);
	t->rb = NULL;
	detach(t, false);
	t->ph.destroy = hci_now_ns();
	hcitrace__destroy(t->skel);
	t->skel = NULL;
	t->ph.closed = hci_now_ns();
	hci_phases_print_stop(&t->ph);
	memset(&t->ph, 0, sizeof(t->ph));
}
