// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcitrace's ring buffer: each event to its -p streams and to the guest
 * join, drains bounded in time, and the markers that say where the
 * producers lost events (ringbuf_full) or where reading stopped
 * (ringbuf_unread).
 */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "hcitrace.skel.h"
#include "core/log.h"
#include "host/devices.h"
#include "record.h"
#include "trace.h"

void join_vevent(struct trace_run *tr, const struct hci_vevent *e)
{
	struct hci_jvmm_in v = {
		.vs = e->ts_v, .vc = e->ts_vc, .hq = e->ts_q, .hd = e->ts_d, .hc = e->ts_c,
		.off = e->off, .ino = e->ino, .dev = e->dev, .op = e->op, .nbios = e->nbios,
	};

	if (e->ret < 0 || !e->ts_v || e->ts_vc < e->ts_v)
		return;
	v.len = e->op == HCI_OP_FLUSH ? 0 : (__u64)e->ret;
	for (int i = 0; i < tr->nchans; i++)
		if (tr->chans[i].c.vm_tgid == e->vmm_tgid)
			hci_join_vmm(tr->chans[i].c.j, &v);
}

/* The VM image a VMM request went to, and its sector there, when known. */
static void vevent_image(struct trace_run *tr, const struct hci_vevent *e, struct hci_vreq *q)
{
	const struct hci_image *im = hci_vmm_image(hci_resolver_vmm(&tr->res, e->vmm_tgid), e->dev, e->ino);
	__u64 sec;

	if (im) {
		q->image = im->path;
		if (e->op != HCI_OP_FLUSH && !hci_image_sector(im, e->off, &sec))
			q->sector = (long long)sec;
	}
}

/* A VMM request's -p line and rows; a recorded one has its image from the file */
void vreq_row(struct trace_run *tr, const struct hci_vevent *e, const char *origin,
	      const char *dev, const char *image, long long sector)
{
	struct hci_vreq q = {
		.t_s = since_start(tr, e->ts_vc), .submit_s = since_start(tr, e->ts_v),
		.tid = e->tid, .origin = origin, .dev = dev, .op = e->op, .off = e->off,
		.image = image, .sector = sector, .ret = e->ret, .nbios = e->nbios,
	};

	if (!image)
		vevent_image(tr, e, &q);
	hci_vreq_stages(e, q.us, q.present);
	hci_vreq_print(stdout, &q);
	if (tr->vreq_csv)
		hci_csv_vreq_row(tr->vreq_csv, &q);
	if (tr->json)
		hci_json_vreq(&tr->jw, &q);
}

static int on_vevent(struct trace_run *tr, const struct hci_vevent *e)
{
	const char *origin;
	char dev[32];

	if (e->op >= HCI_NOPS)
		return 0;
	if (tr->rec)
		hci_rec_write_vreq(tr->rec, e);
	join_vevent(tr, e);
	if (!tr->env.per_request)
		return 0;
	origin = hci_vm_origin(&tr->res, e->vmm_tgid);
	if (origin_left_out(tr, origin))
		return 0;
	hci_dev_name(e->dev, dev, sizeof(dev));
	vreq_row(tr, e, origin, dev, NULL, -1);
	return 0;
}

/* A loss marker, in every -p stream: the terminal, the request CSVs, the JSON. */
void mark_lost(struct trace_run *tr, __u64 at_ns, __u64 count, const char *counter)
{
	struct hci_lost_mark m = {
		.t_s = since_start(tr, at_ns),
		.count = count, .counter = counter,
	};

	if (!tr->env.per_request || !count)
		return;
	hci_lost_print(stdout, &m);
	if (tr->req_csv)
		hci_csv_req_lost_row(tr->req_csv, &m);
	if (tr->vreq_csv)
		hci_csv_vreq_lost_row(tr->vreq_csv, &m);
	if (tr->json)
		hci_json_lost(&tr->jw, &m);
}

/* The markers due before an event stamped @ts (all of them for ~0). */
static void mark_pending(struct trace_run *tr, __u64 ts)
{
	struct ring_drain *d = &tr->dr;
	int n = 0;

	while (n < d->npending && d->pending[n].ns <= ts) {
		if (tr->rec)
			hci_rec_write_lost(tr->rec, HCI_CNT_RB_LOST, d->pending[n].ns,
					   d->pending[n].count);
		mark_lost(tr, d->pending[n].ns, d->pending[n].count,
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
void check_losses(struct trace_run *tr, __u64 now, bool force)
{
	int fd = bpf_map__fd(tr->t.skel->maps.counters);
	__u32 key = HCI_CNT_RB_LOST;
	struct ring_drain *d = &tr->dr;
	__u64 sum = 0;

	/* every 10 ms: each marker says where, within 10 ms, its losses were */
	if ((!tr->env.per_request && !tr->rec) || !d->percpu || (!force && now - d->checked_ns < 10000000))
		return;
	d->checked_ns = now;
	if (bpf_map_lookup_elem(fd, &key, d->percpu))
		return;
	for (int c = 0; c < tr->t.ncpus; c++)
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

/* A block request's -p line and rows */
void req_row(struct trace_run *tr, const struct hci_event *e, const char *origin, const char *dev)
{
	char comm[sizeof(e->comm) + 1];
	struct hci_req q = {
		.t_s = since_start(tr, e->ts_c), .origin = origin, .dev = dev, .op = e->op,
		.sector = e->sector, .bytes = e->bytes, .pid = e->pid, .comm = comm,
	};

	/* the kernel's comm is NUL-padded, not always NUL-terminated */
	memcpy(comm, e->comm, sizeof(e->comm));
	comm[sizeof(e->comm)] = '\0';
	hci_req_stages(e, q.us, q.present);
	hci_req_print(stdout, &q);
	if (tr->req_csv)
		hci_csv_req_row(tr->req_csv, &q);
	if (tr->json)
		hci_json_req(&tr->jw, &q);
}

static int handle_event(struct trace_run *tr, void *data, size_t size)
{
	const struct hci_event *e = data;
	const char *origin;
	char dev[32];

	if (size < sizeof(__u32))
		return 0;
	if (e->type == HCI_EV_VREQ)
		return size >= sizeof(struct hci_vevent) ? on_vevent(tr, data) : 0;
	if (size < sizeof(*e))
		return 0;
	if (e->type == HCI_EV_VMM) {
		hci_resolver_vmm_name(&tr->res, e->vmm_tgid);
		return 0;
	}
	if (e->type != HCI_EV_REQ || e->op >= HCI_NOPS)
		return 0;
	if (tr->rec)
		hci_rec_write_req(tr->rec, e);
	if (!tr->env.per_request)
		return 0;
	origin = hci_origin_of(&tr->res, e->cgid, e->vmm_tgid);
	if (origin_left_out(tr, origin))
		return 0;
	hci_dev_name(e->dev, dev, sizeof(dev));
	req_row(tr, e, origin, dev);
	return 0;
}

/* Set by a second Ctrl-C (on_stop_signal): finish now, outputs still valid. */
volatile sig_atomic_t trace_hurry;

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

int on_event(void *ctx, void *data, size_t size)
{
	struct trace_run *tr = ctx;
	__u64 ts = event_ns(data, size);

	if (tr->dr.skip) {
		tr->dr.unread += ts != 0;
		return 0;
	}
	if (tr->dr.npending && ts >= tr->dr.pending[0].ns)
		mark_pending(tr, ts);
	handle_event(tr, data, size);
	/*
	 * A stop request or the drain's deadline ends it, whatever the rate.
	 * The clock is read every 32 events: at 250K events/s a read for each
	 * was a sixth of the drain's time, and 32 events take microseconds.
	 */
	if ((hci_exiting && !tr->dr.stopping) || trace_hurry ||
	    (!(++tr->dr.nread & 31) && hci_now_ns() >= tr->dr.until_ns))
		return DRAIN_PAUSE;
	return 0;
}

/* At stop, what is left in the ring is read for this long, then counted. */
#define STOP_DRAIN_NS (20 * 1000000ULL)

/* Read the ring buffer until @until (or a stop request); false on error. */
bool drain(struct trace_run *tr, __u64 until)
{
	int err;

	tr->dr.until_ns = until;
	err = ring_buffer__consume(tr->t.rb);
	if (tr->rec)
		hci_rec_writer_tick(tr->rec, hci_now_ns());
	if (err < 0 && err != -EINTR && err != DRAIN_PAUSE) {
		hci_errorf("polling ring buffer: %s", strerror(-err));
		return false;
	}
	return true;
}

/*
 * Tracing ends: detached, nothing new arrives, and the ring holds what was
 * produced before. When the command ended, all of it is read (at most the
 * ring's size). When told to stop (Ctrl-C, --duration, COUNT), it is read
 * for a bounded time; the rest is counted as lost (ringbuf_unread), and
 * marked at the end of the -p streams.
 */
void stop_tracing(struct trace_run *tr, bool in_time)
{
	__u64 until = in_time ? hci_now_ns() + STOP_DRAIN_NS : ~0ULL;

	/* the kernel takes a while to detach: read the ring meanwhile */
	hci_tracer_detach_begin(&tr->t);
	tr->dr.stopping = true;
	drain(tr, until);
	hci_tracer_detach(&tr->t);
	check_losses(tr, hci_now_ns(), true);
	drain(tr, until);
	mark_pending(tr, ~0ULL);
	tr->dr.skip = true;
	ring_buffer__consume(tr->t.rb);
	if (tr->rec)
		hci_rec_write_lost(tr->rec, HCI_REC_CNT_UNREAD, hci_now_ns(), tr->dr.unread);
	mark_lost(tr, hci_now_ns(), tr->dr.unread, "ringbuf_unread");
}
