/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The BPF side's lifecycle, shared by the host tracer and guest mode: open
 * the skeleton, set rodata and map sizes, pick program variants, load,
 * attach one by one, then poll. One stop path undoes all of it.
 */
#ifndef HCI_TRACER_H
#define HCI_TRACER_H
#include <stdbool.h>
#include <bpf/libbpf.h>
#include "hci_abi.h"
#include "features.h"
#include "phases.h"
#include "snapshot.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/signals.h"

struct hci_tracer_opts {
	__u32 dev;		/* whole-disk filter, 0 = all */
	__u64 cgid;		/* cgroup filter, 0 = all */
	__u32 vm_tgid;		/* --vm */
	__u32 self_tgid;	/* never count this process's app I/O */
	bool per_request;	/* events for each request into the ring buffer */
	bool req_who;		/* ... with the submitter's thread id and comm */
	bool vmm;		/* VMM layer (syscalls, io_uring, KVM) */
	bool app;		/* application reads/writes (guest mode --app) */
	bool cgroups;		/* cgroup mkdir/rmdir/attach events (hcithrottle) */
	bool raw_tp;
	int verbose;
	long slots, max_keys, rb_kib;
};

struct hci_tracer {
	struct hcitrace *skel;
	struct ring_buffer *rb;
	struct bpf_link **links;
	int *event_fds;		/* per link: its perf event's second fd, or -1 (tp_link.h) */
	size_t nlinks;
	int ncpus;
	struct hci_features feat;
	bool detach_begun;	/* hci_tracer_detach_begin() ran */
	struct hci_detach *detaching;
	struct hci_phases ph;	/* start and stop times, for -v */
};

/* names of the counters read by hci_tracer_counters(), last = recursion misses */
extern const char *const hci_counter_names[HCI_NCOUNTERS + 1];

int hci_tracer_start(struct hci_tracer *t, const struct hci_tracer_opts *o,
		     ring_buffer_sample_fn cb, void *ctx);
/*
 * The BPF side's loss counters (HCI_NCOUNTERS + 1 of them). After
 * hci_tracer_detach() they also count the requests left in a slot
 * (completion_not_seen), which only the frozen tables tell.
 */
void hci_tracer_counters(struct hci_tracer *t, __u64 *out);
/*
 * Call @fn with each value of the BPF array @map, read in batches, until
 * one call returns nonzero (returned); a negative errno if reading fails.
 */
typedef int (*hci_array_fn)(const void *val, void *ctx);
int hci_array_each(struct bpf_map *map, hci_array_fn fn, void *ctx);
void hci_report_lost(const __u64 *c, const char *who);
/* The same for n counters with their names (the BPF side's and more). */
void hci_report_lost_n(const char *const *names, const __u64 *c, int n, const char *who);
/* Stop tracing; the maps stay readable until hci_tracer_stop(). */
void hci_tracer_detach(struct hci_tracer *t);
/* Start detaching, in the background; hci_tracer_detach() waits for it. */
void hci_tracer_detach_begin(struct hci_tracer *t);
void hci_tracer_stop(struct hci_tracer *t);
#endif
