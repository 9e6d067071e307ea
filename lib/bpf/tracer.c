// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Skeleton lifecycle for hcitrace and hcitrace guest. Program variants are
 * chosen before load (the loser is never loaded); optional layers (VMM
 * syscalls, io_uring, KVM, application I/O) load only when asked for.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "hcitrace.skel.h"
#include "core/hist.h"
#include "layers.h"
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
	bpf_map__set_max_entries(skel->maps.bio_slots, (__u32)o->slots);
	bpf_map__set_max_entries(skel->maps.rq_slots, (__u32)o->slots);
	bpf_map__set_max_entries(skel->maps.bio_ovf, (__u32)o->slots);
	bpf_map__set_max_entries(skel->maps.rq_ovf, (__u32)o->slots);
	bpf_map__set_max_entries(skel->maps.hists, (__u32)o->max_keys);
	bpf_map__set_max_entries(skel->maps.events,
				 o->per_request || o->app ? (__u32)o->rb_kib * 1024 : 256 * 1024);
}

static int keep_link(struct hci_tracer *t, struct bpf_link *link)
{
	struct bpf_link **links = realloc(t->links, (t->nlinks + 1) * sizeof(*links));

	if (!links) {
		bpf_link__destroy(link);
		return -ENOMEM;
	}
	t->links = links;
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

		if (!bpf_program__autoload(prog))
			continue;
		link = bpf_program__attach(prog);
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
		err = keep_link(t, link);
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

	libbpf_set_print(libbpf_print);
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus <= 0) {
		hci_errorf("cannot count possible CPUs");
		return -EINVAL;
	}
	hci_probe_features(feat);
	use_btf = feat->tp_btf && !o->raw_tp;
	if (o->verbose)
		hci_features_print(stderr, feat, use_btf);

	t->skel = hcitrace__open();
	if (!t->skel) {
		hci_errorf("cannot open BPF object: %s", strerror(errno));
		return -errno;
	}
	configure(t->skel, o, feat);
	/* choose the variant before load: the loser is never loaded */
	bpf_object__for_each_program(prog, t->skel->obj)
		bpf_program__set_autoload(prog, hci_prog_wanted(bpf_program__name(prog), o,
								 feat, use_btf));
	err = hcitrace__load(t->skel);
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

/* requests of an array slot table still in flight */
static __u64 live_in_array(struct bpf_map *map)
{
	int fd = bpf_map__fd(map);
	struct hci_slot v;
	__u64 n = 0;

	for (__u32 i = 0; i < bpf_map__max_entries(map); i++)
		if (!bpf_map_lookup_elem(fd, &i, &v) && v.key && v.flags)
			n++;
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
	 * the kernel skipped our completion program for it).
	 */
	if (!t->nlinks)
		out[HCI_CNT_CPL_UNSEEN] += live_in_array(t->skel->maps.rq_slots) +
					   live_in_hash(t->skel->maps.rq_ovf);
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
 * A detach can wait for an RCU grace period, tens of ms on a busy machine,
 * and one after the other they held a stop up by 150 ms (1.5 s with
 * --vmm). In parallel the waits overlap, and the caller can read the ring
 * buffer meanwhile. A link whose thread does not start is destroyed here.
 */
void hci_tracer_detach_begin(struct hci_tracer *t)
{
	struct hci_detach *d;

	if (t->detach_begun)
		return;
	t->detach_begun = true;
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

void hci_tracer_detach(struct hci_tracer *t)
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
	t->detaching = NULL;
	t->detach_begun = false;
	free(t->links);
	t->links = NULL;
	t->nlinks = 0;
}

void hci_tracer_stop(struct hci_tracer *t)
{
	ring_buffer__free(t->rb);
	t->rb = NULL;
	hci_tracer_detach(t);
	hcitrace__destroy(t->skel);
	t->skel = NULL;
}
