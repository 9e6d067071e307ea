// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcitrace's guest side: finding each --guest-channel's VM (waiting for it
 * when the command boots it), reading the channels, the joined requests,
 * the per-interval volumes of each layer, and the per-VM summaries.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include "core/log.h"
#include "trace.h"

/* A joined guest request: printed with -p, and into the CSV/JSON. */
void guest_joined(void *ctx, const struct hci_jreq *q)
{
	struct guest_chan *g = ctx;
	struct trace_run *tr = g->tr;
	char disk[32];
	double t_s = since_start(tr, q->t_start);

	hci_join_disk_name(g->c.j, q->gdev, disk, sizeof(disk));
	if (tr->env.per_request)
		hci_jreq_print(stdout, g->origin, disk, q, t_s);
	if (tr->join_csv)
		hci_csv_join_row(tr->join_csv, g->origin, disk, q, t_s);
	if (tr->json && tr->env.per_request)
		hci_join_json_req(&tr->jw, g->origin, disk, q, t_s);
}

/* One channel's volumes this interval, next to its VM's host block bytes. */
static void take_volumes(struct trace_run *tr, struct guest_chan *g, const struct hci_report *r)
{
	struct hci_volrow *v;

	v = realloc(g->vols, (g->nvols + 1) * sizeof(*v));
	if (!v)
		return;
	g->vols = v;
	v = &g->vols[g->nvols++];
	memset(v, 0, sizeof(*v));
	v->origin = g->origin;
	v->t_s = (double)(hci_now_ns() - tr->t0_ns) / 1e9;
	hci_join_take_volumes(g->c.j, &v->v);
	for (size_t k = 0; k < r->n; k++) {
		const struct hci_row *row = &r->rows[k];

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

/* Host block bytes (and splits/merges) of each VM so far, from the histograms. */
static void host_totals(struct trace_run *tr)
{
	struct hci_snap cur[2] = {};
	struct hci_report r;

	if (!tr->nchans)
		return;
	if (!build_report(tr, cur, NULL, &r)) {
		for (int i = 0; i < tr->nchans; i++)
			take_volumes(tr, &tr->chans[i], &r);
	}
	hci_report_free(&r);
	hci_snap_free(&cur[0]);
	hci_snap_free(&cur[1]);
}

/* Close an interval of the per-layer volumes: print it, write its CSV rows. */
void volumes_interval(struct trace_run *tr, bool print)
{
	host_totals(tr);
	for (int i = 0; i < tr->nchans; i++) {
		struct guest_chan *g = &tr->chans[i];

		if (!g->nvols)
			continue;
		if (print)
			hci_vol_print(stdout, &g->vols[g->nvols - 1]);
		if (tr->vol_csv)
			hci_csv_vol_rows(tr->vol_csv, &g->vols[g->nvols - 1]);
	}
}

void service_channels(struct trace_run *tr, bool final)
{
	__u64 now = hci_now_ns();

	for (int i = 0; i < tr->nchans; i++) {
		/* a bounded read per channel and turn: a flood cannot starve the rest */
		hci_chan_service(&tr->chans[i].c, now, final ? 64u << 20 : 1u << 20);
		hci_join_poll(tr->chans[i].c.j, hci_now_ns(), final);
	}
}

/*
 * The VM (--vm) and each guest channel's VM and socket. -EAGAIN (with the
 * reason in err) when one is not there yet: a command may be starting it.
 * Channels opened stay open; a later call goes on with the next one.
 */
static int find_guests(struct trace_run *tr, __u32 *vm_tgid, char *err, size_t errlen)
{
	int r;

	if (tr->env.vm && !*vm_tgid) {
		r = hci_vmm_resolve(tr->env.vm, vm_tgid, err, errlen);
		/* a name may appear; a pid that is gone stays gone */
		if (r == -ESRCH && strspn(tr->env.vm, "0123456789") != strlen(tr->env.vm))
			return -EAGAIN;
		if (r)
			return r;
	}
	while (tr->nchans < tr->env.nchannels) {
		struct guest_chan *g = &tr->chans[tr->nchans];
		const char *path = tr->env.channels[tr->nchans];
		__u32 tgid = *vm_tgid ? *vm_tgid : hci_chan_find_vm(path);

		if (!tgid) {
			snprintf(err, errlen, "cannot tell which VM serves guest channel %s (no "
				 "single process listens on it); give --vm PID|NAME", path);
			return -EAGAIN;
		}
		r = hci_chan_open(&g->c, path, tgid, (size_t)tr->env.max_pending, guest_joined, g,
				  err, errlen);
		if (r) {
			hci_chan_close(&g->c);
			return r == -ENOENT ? -EAGAIN : r;
		}
		g->tr = tr;
		g->polled_fd = -1;
		tr->nchans++;
	}
	return 0;
}

/*
 * With "-- COMMAND", the command may be what boots the VM: start it, and
 * wait (saying so) for the VM and its channel sockets, until the command
 * ends or Ctrl-C. Tracing starts once they are there.
 */
int wait_for_guests(struct trace_run *tr, __u32 *vm_tgid)
{
	struct timespec ts = { 0, 100000000 };
	char err[512];
	bool said = false;
	int r;

	while ((r = find_guests(tr, vm_tgid, err, sizeof(err))) == -EAGAIN && tr->env.cmd) {
		if (!tr->child.pid && hci_child_spawn(&tr->child, tr->env.cmd))
			return -ECHILD;
		if (!said && tr->env.vm && !tr->env.nchannels)
			fprintf(stderr, "hcitrace: waiting for VM '%s' to appear (the command "
				"starts it)...\n", tr->env.vm);
		else if (!said && tr->env.vm)
			fprintf(stderr, "hcitrace: waiting for VM '%s' and its guest channel %s to "
				"appear (the command starts them)...\n", tr->env.vm,
				tr->env.channels[0]);
		else if (!said)
			fprintf(stderr, "hcitrace: waiting for a VM to serve guest channel %s "
				"(the command starts it)...\n", tr->env.channels[tr->nchans]);
		said = true;
		hci_child_reap(&tr->child, WNOHANG);
		if (tr->child.done || hci_exiting) {
			hci_errorf("%s before the VM was there (%s): nothing was traced",
				   tr->child.done ? "the command ended" : "stopped", err);
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

int guests_alloc(struct trace_run *tr)
{
	if (!tr->env.nchannels)
		return 0;
	tr->chans = calloc((size_t)tr->env.nchannels, sizeof(*tr->chans));
	if (!tr->chans) {
		hci_errorf("out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* Each channel is its VM's: its origin, named once tracing has started. */
void guests_name_origins(struct trace_run *tr)
{
	for (int i = 0; i < tr->nchans; i++)
		snprintf(tr->chans[i].origin, sizeof(tr->chans[i].origin), "%s",
			 hci_vm_origin(&tr->res, tr->chans[i].c.vm_tgid));
}

/* Channels that (re)connected join the wait on @ep (as 1 + their index). */
void guests_watch(struct trace_run *tr, int ep)
{
	for (int i = 0; i < tr->nchans; i++) {
		struct guest_chan *g = &tr->chans[i];
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (__u32)i + 1 };

		if (g->c.fd >= 0 && g->c.fd != g->polled_fd) {
			if (!epoll_ctl(ep, EPOLL_CTL_ADD, g->c.fd, &ev))
				g->polled_fd = g->c.fd;
		} else if (g->c.fd < 0) {
			g->polled_fd = -1;
		}
	}
}

/* Each VM's join summary (and with --breakdown, its single-I/O breakdown). */
void guests_summary(struct trace_run *tr)
{
	for (int i = 0; i < tr->nchans; i++) {
		struct guest_chan *g = &tr->chans[i];

		hci_join_summary(stdout, g->origin, g->c.path, g->c.j, &g->c.p->st);
		if (tr->env.breakdown)
			hci_breakdown_print(stdout, g->origin, g->c.j);
	}
}

/* The JSON document's "guests" section: each channel's join and volumes. */
void guests_json(struct trace_run *tr)
{
	hci_json_section(&tr->jw, "guests");
	for (int i = 0; i < tr->nchans; i++) {
		struct guest_chan *g = &tr->chans[i];

		hci_join_json_guest(&tr->jw, g->origin, g->c.path, g->c.j, &g->c.p->st,
				    g->vols, g->nvols);
	}
	hci_jw_end_array(&tr->jw);
}

/* What a stream lost or was refused is said at exit, never silently. */
void guests_warn_rejected(struct trace_run *tr)
{
	for (int i = 0; i < tr->nchans; i++) {
		const struct hci_wire_stats *ws = &tr->chans[i].c.p->st;
		const struct hci_jcounters *c = hci_join_counters(tr->chans[i].c.j);
		__u64 rej = ws->skipped + ws->bad_crc + ws->bad_length + ws->bad_type +
			    ws->bad_version + c->bad_record;

		if (rej || ws->seq_gaps || c->guest_dropped || c->guest_overflow)
			fprintf(stderr, "hcitrace: guest stream %s: rejected skipped_bytes=%llu "
				"bad_crc=%llu bad_length=%llu bad_type=%llu bad_version=%llu "
				"bad_record=%llu; seq_gaps=%llu guest_dropped=%llu "
				"guest_overflow=%llu\n", tr->chans[i].origin,
				(unsigned long long)ws->skipped, (unsigned long long)ws->bad_crc,
				(unsigned long long)ws->bad_length,
				(unsigned long long)ws->bad_type,
				(unsigned long long)ws->bad_version,
				(unsigned long long)c->bad_record,
				(unsigned long long)ws->seq_gaps,
				(unsigned long long)c->guest_dropped,
				(unsigned long long)c->guest_overflow);
	}
}

void guests_free(struct trace_run *tr)
{
	for (int i = 0; i < tr->nchans; i++) {
		hci_chan_close(&tr->chans[i].c);
		free(tr->chans[i].vols);
	}
	free(tr->chans);
}
