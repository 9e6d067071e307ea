/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * hcitrace's run: the state one trace carries from start to report, and the
 * steps that share it. main.c drives the steps (the event loop); events.c
 * reads the ring buffer, report.c builds the report, guests.c serves the
 * guest channels, kvm.c the KVM table, outfiles.c opens and closes the
 * output files. Origins and VMs are named by host/resolver.h.
 */
#ifndef HCI_TRACE_H
#define HCI_TRACE_H
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include "hci_abi.h"
#include "bpf/tracer.h"
#include "core/child.h"
#include "host/cgroups.h"
#include "host/resolver.h"
#include "host/vmm.h"
#include "channel.h"
#include "options.h"
#include "output.h"
#include "join_report.h"

struct trace_run;
struct hci_rec_writer;

/*
 * Reading the ring buffer. A drain stops at a deadline, so a consumer that
 * is behind still stops, closes intervals and ends on time; what the
 * producers lost meanwhile is marked in the -p streams where it was lost.
 */
struct ring_drain {
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
	unsigned int nread;	/* events read: the clock is looked at every 32 */
};

/* One guest stream, joined to its VM's VMM requests. */
struct guest_chan {
	struct hci_chan c;
	struct trace_run *tr;
	char origin[HCI_ORIGIN_MAX];	/* the VM's, copied when tracing starts */
	struct hci_volrow *vols;	/* one per interval */
	size_t nvols;
	__u64 host_taken[HCI_NOPS], splits_taken, merges_taken;
	int polled_fd;
};

/* Everything one hcitrace run holds, from the parsed options to the report. */
struct trace_run {
	struct hci_env env;
	struct guest_chan *chans;
	int nchans;
	FILE *join_csv;
	FILE *vol_csv;
	struct hci_tracer t;
	struct hci_cgroups cg;
	struct hci_resolver res;	/* origins and VMs, named once and kept */
	struct hci_snap prev[2];	/* by enum hci_layer */
	FILE *req_csv;
	FILE *vreq_csv;
	FILE *json;
	struct hci_jw jw;	/* writes json from open_outputs to final_report */
	FILE *hist_csv;		/* --csv, opened before attach, written at the end */
	FILE *brk_csv;		/* its breakdown side file (--guest-channel) */
	__u64 t0_ns;
	struct hci_child child;
	struct ring_drain dr;
	struct hci_rec_writer *rec;	/* --record: every event, to the file */
	struct trace_metrics *metrics;	/* --listen, --prom-file: metrics.c */
	struct trace_series *series;	/* interval mode with --csv or --json: series.c */
};

/* Seconds from the start of tracing to @ns; 0 for a time before it. */
static inline double since_start(const struct trace_run *tr, __u64 ns)
{
	return ns >= tr->t0_ns ? (double)(ns - tr->t0_ns) / 1e9 : 0;
}

/* Not of the --origin asked for: left out of every output. */
static inline bool origin_left_out(const struct trace_run *tr, const char *origin)
{
	return tr->env.origin && !hci_origin_matches(origin, tr->env.origin);
}

/* The earlier of @t and @due, where a @due of 0 is "none". */
static inline __u64 min_due(__u64 t, __u64 due)
{
	return due && due < t ? due : t;
}

/* events.c: the ring buffer */
extern volatile sig_atomic_t trace_hurry;	/* a second Ctrl-C: finish now */
int on_event(void *ctx, void *data, size_t size);
void check_losses(struct trace_run *tr, __u64 now, bool force);
bool drain(struct trace_run *tr, __u64 until);
void stop_tracing(struct trace_run *tr, bool in_time);
/* the -p lines and rows of one event, and a loss marker (also for report_file.c) */
void req_row(struct trace_run *tr, const struct hci_event *e, const char *origin, const char *dev);
/* @image NULL: found from the live VMM; else the recorded one (and @sector) */
void vreq_row(struct trace_run *tr, const struct hci_vevent *e, const char *origin,
	      const char *dev, const char *image, long long sector);
void mark_lost(struct trace_run *tr, __u64 at_ns, __u64 count, const char *counter);
/* a VMM request to the joins of its VM's guest channels */
void join_vevent(struct trace_run *tr, const struct hci_vevent *e);

/* report.c: the report, per interval and at the end */
int build_report(struct trace_run *tr, struct hci_snap cur[2], const struct hci_snap *base,
		 struct hci_report *r);
void print_interval(struct trace_run *tr);
int final_report(struct trace_run *tr);

/* kvm.c */
int kvm_rows(struct trace_run *tr, const struct hci_report *r, struct hci_kvm_row **out,
	     size_t *nout);

/* guests.c: the guest channels and their volumes */
int guests_alloc(struct trace_run *tr);
int wait_for_guests(struct trace_run *tr, __u32 *vm_tgid);
void guests_name_origins(struct trace_run *tr);
void guests_watch(struct trace_run *tr, int ep);
void service_channels(struct trace_run *tr, bool final);
void volumes_interval(struct trace_run *tr, bool print);
void guests_summary(struct trace_run *tr);
void guests_json(struct trace_run *tr);
/* report.c: the histogram CSV and the breakdown CSV, written and closed */
int write_report_csvs(struct trace_run *tr, const struct hci_report *r);
/* a joined guest request (hci_join_out), to the -p streams, CSV and JSON */
void guest_joined(void *ctx, const struct hci_jreq *q);
void guests_warn_rejected(struct trace_run *tr);
void guests_free(struct trace_run *tr);

/* outfiles.c: the output files */
int open_outputs(struct trace_run *tr);
/* the side file next to the --csv file: "out.csv" + "join" -> "out.join.csv" */
FILE *open_side(const char *csv, const char *what);
int close_out(FILE **f, const char *what);
int close_outputs(struct trace_run *tr);
#endif
