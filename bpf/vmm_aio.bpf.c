// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vmm_aio.bpf.c: VMM requests made with Linux native aio (QEMU aio=native).
 *
 * What it observes. io_submit hands the kernel a batch of iocbs; each one is
 * a VMM request, keyed by (VM, the iocb's user address), QEMU's own handle.
 * io_submit submits them in order, and with O_DIRECT each one's bios are
 * queued before the next one starts, so the thread's bios are handed to the
 * iocbs by bytes, through a per-thread cursor (aio_link in
 * hci_vmm_link.bpf.h). The iocbs io_submit did not take are forgotten at its
 * exit.
 *
 * When the VMM sees a request complete. QEMU reaps completions from the aio
 * ring in user space, without a syscall, after reading the eventfd the iocbs
 * name (IOCB_FLAG_RESFD). That read is the moment the VMM sees them: it
 * completes every request of that VM whose bios have all completed. Such a
 * request is pushed onto aio_done when it becomes reapable (its last bio's
 * completion, or io_submit's exit if that comes later), and a read takes
 * what was pushed since the VM's last one: walking all of aio_slots instead
 * cost 32 us per read (docs/bench.md). A VMM that reaps with io_getevents
 * instead is finished by that syscall's return, and an iocb reused before
 * either proves its old request was seen.
 *
 * What it hands on. Finished requests go through vio_finish (vmm.bpf.c), like
 * every other VMM request; the ones still unreaped at exit are added by user
 * space from aio_slots and aio_reqs (trace/report.c add_unreaped).
 *
 * Where requests wait. In aio_slots, an array by a hash of (VM, iocb) whose
 * entries are claimed by compare-and-swap (hci_tslot.bpf.h), so that the
 * five visits of a request (submit, io_submit's exit, its bio's queue and
 * completion, the reap) are array lookups, with no hash insert or delete;
 * aio_reqs, a hash, takes only a request whose entry another one holds.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hci_vmm.bpf.h"

static __always_inline __u32 aio_op(__u16 opcode)
{
	switch (opcode) {
	case 0: case 7: return HCI_OP_READ;	/* IOCB_CMD_PREAD, PREADV */
	case 1: case 8: return HCI_OP_WRITE;	/* IOCB_CMD_PWRITE, PWRITEV */
	case 2: case 3: return HCI_OP_FLUSH;	/* IOCB_CMD_FSYNC, FDSYNC */
	default: return HCI_NOPS;
	}
}

/* the bytes an iocb moves: a vectored one's (PREADV, PWRITEV) iovecs summed */
static __always_inline __u64 iocb_len(const struct iocb *cb)
{
	/* vectored: aio_buf is the iovec array, aio_nbytes its count */
	struct iovec *iov = (void *)cb->aio_buf;
	__u64 len = 0;

	if (cb->aio_lio_opcode != 7 && cb->aio_lio_opcode != 8)
		return cb->aio_nbytes;
	if (cb->aio_nbytes > AIO_IOVS)
		count(HCI_CNT_AIO_CUT);
	for (int j = 0; j < AIO_IOVS; j++) {
		__u64 l = 0;

		if (j >= cb->aio_nbytes)
			break;
		bpf_probe_read_user(&l, sizeof(l), &iov[j].iov_len);
		len += l;
	}
	return len;
}

/*
 * QEMU reaps completions from the aio ring in user space and may reuse an
 * iocb before it reads the eventfd again: the reuse proves it saw the old
 * request complete, so finish that one now instead of overwriting it.
 */
static __always_inline void aio_finish_reused(struct aio_req *old, __u32 tgid, __u64 now)
{
	if ((old->io.ncompl & HCI_AIO_SUBMITTED) && old->io.nbios &&
	    (old->io.ncompl & ~HCI_AIO_SUBMITTED) >= old->io.nbios) {
		old->io.ncompl &= ~HCI_AIO_SUBMITTED;
		vio_finish(&old->io, tgid, 0, (long)old->len, now);
	}
}

/*
 * Follow request @k (@r) from its submit on, where its iocb's last request
 * is, if that is still followed (finished first, if it was seen), or else
 * in a free entry or the hash: one visit of the entry, and a request never
 * in both. False if both are full.
 */
static __always_inline bool aio_submit_put(struct aio_key *k, const struct aio_req *r,
					   __u64 now)
{
	struct aio_slot *sl = aio_slot_at(k->tgid, k->iocb);
	struct aio_req *old;

	if (aio_slot_is(sl, k)) {
		aio_finish_reused(&sl->r, k->tgid, now);
		sl->r = *r;
		return true;
	}
	old = tslot_ovf_find(&aio_reqs, HCI_TS_AIO, k);
	if (old) {
		aio_finish_reused(old, k->tgid, now);
		*old = *r;
		return true;
	}
	if (sl && __sync_val_compare_and_swap(&sl->iocb, 0, k->iocb) == 0) {
		sl->r = *r;
		return true;
	}
	return tslot_ovf_put(&aio_reqs, HCI_TS_AIO, k, (void *)r);
}

/* what every iocb of one io_submit shares */
struct aio_sub {
	__u64 now;
	__u64 t_n;		/* the notify the batch answers */
	__u32 tgid;
	__u32 tid;
};

/*
 * iocb @i of a batch (at user address @uiocb): its place in the cursor, and
 * (for an image) a request. Returns 1 if the iocb cannot be read (the batch
 * ends there). A global function, which the verifier checks once, not once
 * per iocb of AIO_BATCH (inlined, it took the load most of a second).
 */
__noinline int aio_submit_one(struct aio_cursor *c, __u32 i, __u64 uiocb,
			      const struct aio_sub *sc)
{
	struct aio_key k = { .iocb = uiocb };
	struct aio_req r = {};
	struct aio_evfd *evfd;
	struct iocb cb;
	__u64 len;

	if (!c || !sc || i >= AIO_BATCH)
		return 1;
	if (bpf_probe_read_user(&cb, sizeof(cb), (void *)uiocb))
		return 1;
	k.tgid = sc->tgid;
	len = iocb_len(&cb);
	c->iocb[i] = uiocb;
	c->len[i] = len;
	c->n = i + 1;
	r.io.op = aio_op(cb.aio_lio_opcode);
	if (r.io.op >= HCI_NOPS || !vio_file(cb.aio_fildes, &r.io))
		return 0;
	r.io.t_sub = sc->now;
	r.io.off = cb.aio_offset;
	r.io.t_n = i == 0 ? sc->t_n : 0;
	r.len = len;
	r.tgid = k.tgid;
	r.io.tid = sc->tid;
	r.evfd = cb.aio_flags & 1;	/* IOCB_FLAG_RESFD */
	if (!aio_submit_put(&k, &r, sc->now))
		count(HCI_CNT_VIO_FULL);
	if (!r.evfd)
		return 0;
	/* the same eventfd every time: write it only when it changes */
	evfd = bpf_map_lookup_elem(&aio_evfds, &k.tgid);
	if (evfd) {
		if (evfd->fd != cb.aio_resfd)
			evfd->fd = cb.aio_resfd;
	} else {
		/* its reads take aio_done from here on */
		struct aio_evfd fresh = { .fd = cb.aio_resfd, .done_tail = aio_done_head };

		tslot_ovf_put(&aio_evfds, HCI_TS_EVFD, &k.tgid, &fresh);
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_io_submit")
int hci_sys_enter_io_submit(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), *pp = (void *)ctx->args[2];
	__u32 tid = (__u32)pid_tgid, zero = 0;
	struct aio_sub sc = { .tgid = pid_tgid >> 32, .tid = tid };
	long nr = ctx->args[1];
	struct aio_cursor *c;
	void *z;

	if (!vio_wanted() || nr <= 0)
		return 0;
	c = tslot_claim(&cur_slots, tid, HCI_TS_CUR_SLOTS - 1);
	if (c) {
		/* the entries past n are never read */
		c->n = c->idx = 0;
		c->acc = 0;
	} else {
		z = bpf_map_lookup_elem(&aio_zero, &zero);
		if (!z || !tslot_ovf_put(&aio_cursors, HCI_TS_CUR, &tid, z))
			return 0;
		c = bpf_map_lookup_elem(&aio_cursors, &tid);
		if (!c)
			return 0;
	}
	sc.now = bpf_ktime_get_ns();
	sc.t_n = kvm_take_notify(sc.tgid);
	if (nr > AIO_BATCH)
		count(HCI_CNT_AIO_CUT);
	for (__u32 i = 0; i < AIO_BATCH; i++) {
		__u64 uiocb;

		if (i >= nr)
			break;
		if (bpf_probe_read_user(&uiocb, sizeof(uiocb), &pp[i]) ||
		    aio_submit_one(c, i, uiocb, &sc))
			break;
	}
	return 0;
}

/*
 * iocb @i of the batch thread @c's io_submit returned @ret for: taken, or
 * forgotten (it will never complete). A global function, for the verifier:
 * inlined, each iocb's compare with @ret splits what it knows of @ret, and
 * the loop's states stop matching (half a second and 460K instructions).
 */
__noinline int aio_exit_one(struct aio_cursor *c, __u32 i, __u32 tgid, long ret)
{
	struct aio_key k = { .tgid = tgid };
	struct aio_req *r;

	if (!c || i >= AIO_BATCH)
		return 0;
	k.iocb = c->iocb[i];
	r = aio_req_find(&k);
	if (!r)
		return 0;
	if (i >= ret) {
		aio_req_del(&k);
		return 0;
	}
	/* may be reaped now (aio_done_push says why the atomic) */
	if (aio_reapable(__sync_fetch_and_or(&r->io.ncompl, HCI_AIO_SUBMITTED) |
			 HCI_AIO_SUBMITTED, r->io.nbios) && r->evfd)
		aio_done_push(&k);
	return 0;
}

/* Iocbs io_submit did not take will never complete: forget them. */
SEC("tracepoint/syscalls/sys_exit_io_submit")
int hci_sys_exit_io_submit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct aio_cursor *c = tslot_find(&cur_slots, tid, HCI_TS_CUR_SLOTS - 1);
	bool in_slot = c != NULL;

	if (!c)
		c = tslot_ovf_find(&aio_cursors, HCI_TS_CUR, &tid);
	if (!c)
		return 0;
	for (__u32 i = 0; i < AIO_BATCH; i++) {
		if (i >= c->n)
			break;
		aio_exit_one(c, i, pid_tgid >> 32, ctx->ret);
	}
	if (in_slot)
		tslot_release(c);
	else
		tslot_ovf_del(&aio_cursors, HCI_TS_CUR, &tid);
	return 0;
}

/*
 * VMMs that reap with io_getevents (not QEMU, which reads its ring in user
 * space): each event names its iocb, and the syscall's return is the VMM
 * completion of those requests. The exit needs the events buffer, the
 * fourth argument: where the kernel lets it (targ_syscall_regs, v5.15) it
 * reads that from the registers the syscall saved at entry; elsewhere the
 * entry program keeps it by thread. Reading it at exit spares every call
 * a program run and two slot visits (docs/bench.md).
 */
SEC("tracepoint/syscalls/sys_enter_io_getevents")
int hci_sys_enter_io_getevents(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 events = ctx->args[3];
	struct u64_tslot *sl;

	if (!vio_wanted())
		return 0;
	sl = tslot_claim(&gev_slots, tid, HCI_TS_SLOTS - 1);
	if (sl)
		sl->v = events;
	else
		tslot_ovf_put(&getevents_bufs, HCI_TS_GEV, &tid, &events);
	return 0;
}

/* the events buffer of thread @tid's io_getevents, at its exit; or NULL */
static __always_inline struct io_event *getevents_buf(__u32 tid)
{
	struct u64_tslot *sl;
	struct pt_regs *regs;
	__u64 *buf, ev;

	if (targ_syscall_regs) {
		if (!vio_wanted())
			return NULL;
		regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
		return (void *)PT_REGS_PARM4_SYSCALL(regs);
	}
	sl = tslot_find(&gev_slots, tid, HCI_TS_SLOTS - 1);
	if (sl) {
		ev = sl->v;
		tslot_release(sl);
		return (void *)ev;
	}
	buf = tslot_ovf_find(&getevents_bufs, HCI_TS_GEV, &tid);
	if (!buf)
		return NULL;
	ev = *buf;
	tslot_ovf_del(&getevents_bufs, HCI_TS_GEV, &tid);
	return (void *)ev;
}

SEC("tracepoint/syscalls/sys_exit_io_getevents")
int hci_sys_exit_io_getevents(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), now;
	__u32 tid = (__u32)pid_tgid;
	struct io_event *ev;
	long n = ctx->ret;

	ev = getevents_buf(tid);
	if (!ev)
		return 0;
	now = bpf_ktime_get_ns();
	for (int i = 0; i < AIO_BATCH; i++) {
		struct aio_key k = { .tgid = pid_tgid >> 32 };
		struct io_event e;
		struct aio_req *r;

		if (i >= n)
			break;
		if (bpf_probe_read_user(&e, sizeof(e), &ev[i]))
			break;
		k.iocb = e.obj;
		r = aio_req_find(&k);
		if (!r)
			continue;
		r->io.ncompl &= ~HCI_AIO_SUBMITTED;
		vio_finish(&r->io, k.tgid, tid, e.res, now);
		aio_req_del(&k);
	}
	if (n > AIO_BATCH)
		count(HCI_CNT_AIO_CUT);
	return 0;
}

struct reap_ctx {
	__u32 tgid;
	__u32 walk;		/* aio_done lost entries: walk every request */
	__u64 from;		/* aio_done positions from, up to stop */
	__u64 stop;
};

/* has the VMM now seen request @r of VM @tgid complete? Then finish it. */
static __always_inline bool aio_reap(struct aio_req *r, __u32 tgid)
{
	__u32 done = r->io.ncompl & ~HCI_AIO_SUBMITTED;

	if (r->tgid != tgid || !aio_reapable(r->io.ncompl, r->io.nbios))
		return false;
	r->io.ncompl = done;
	/* stamped after seeing the completion, never before it (other CPU) */
	vio_finish(&r->io, tgid, 0, (long)r->len, bpf_ktime_get_ns());
	return true;
}

/* request @k, if it is followed and may be reaped */
static __always_inline void aio_reap_key(struct aio_key *k)
{
	struct aio_slot *sl = aio_slot_at(k->tgid, k->iocb);
	struct aio_req *r;

	if (aio_slot_is(sl, k)) {
		if (aio_reap(&sl->r, k->tgid))
			aio_req_del(k);
		return;
	}
	r = tslot_ovf_find(&aio_reqs, HCI_TS_AIO, k);
	if (r && aio_reap(r, k->tgid))
		tslot_ovf_del(&aio_reqs, HCI_TS_AIO, k);
}

/* aio_done's position rc->from + @i: reap it if it is this VM's */
static long aio_reap_done(__u32 i, struct reap_ctx *rc)
{
	__u64 pos = rc->from + i, seq;
	__u32 idx = (__u32)pos & (HCI_AIO_DONE - 1);
	struct aio_done_ent *d = bpf_map_lookup_elem(&aio_done, &idx);
	struct aio_key k = { .tgid = rc->tgid };

	if (!d)
		return 1;
	/* x86 keeps loads in order: seq first, then what it guards */
	seq = *(volatile __u64 *)&d->seq;
	if (seq != pos + 1) {
		if (seq > pos + 1)
			rc->walk = 1;	/* overwritten: the ring went round */
		else
			rc->stop = pos;	/* claimed, not written yet: next read */
		return 1;
	}
	if (d->tgid != rc->tgid)
		return 0;
	k.iocb = d->iocb;
	aio_reap_key(&k);
	return 0;
}

static long aio_reap_slot(struct bpf_map *map, __u32 *idx, struct aio_slot *sl,
			  struct reap_ctx *rc)
{
	struct aio_key k = { .tgid = rc->tgid, .iocb = sl->iocb };

	if (k.iocb && aio_reap(&sl->r, rc->tgid))
		aio_req_del(&k);
	return 0;
}

static long aio_reap_ovf(struct bpf_map *map, struct aio_key *k, struct aio_req *r,
			 struct reap_ctx *rc)
{
	if (aio_reap(r, rc->tgid))
		tslot_ovf_del(&aio_reqs, HCI_TS_AIO, k);
	return 0;
}

/*
 * What became reapable since this VM's last read, from aio_done (where the
 * kernel has bpf_loop, v5.17). True if that was all: false if the ring
 * lost some of it, or there is no bpf_loop, and every request is walked.
 */
static __always_inline bool aio_reap_ring(struct aio_evfd *ev, struct reap_ctx *rc)
{
	__u64 head = *(volatile __u64 *)&aio_done_head;

	if (!targ_bpf_loop)
		return false;
	rc->from = ev->done_tail;
	rc->stop = head;
	rc->walk = 0;
	if (head - rc->from > HCI_AIO_DONE) {
		ev->done_tail = head;
		return false;
	}
	bpf_loop((__u32)(head - rc->from), aio_reap_done, rc, 0);
	ev->done_tail = rc->walk ? head : rc->stop;
	return !rc->walk;
}

SEC("tracepoint/syscalls/sys_enter_read")
int hci_sys_enter_read(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct reap_ctx rc = { .tgid = tgid };
	struct aio_evfd *ev;

	/* every process's read() comes here: leave at once while no VM has
	 * named an eventfd (counted as tslot_ovf's HCI_TS_EVFD) */
	ev = tslot_ovf_find(&aio_evfds, HCI_TS_EVFD, &tgid);
	if (!ev || ev->fd != (__u32)ctx->args[0])
		return 0;
	if (aio_reap_ring(ev, &rc))
		return 0;
	bpf_for_each_map_elem(&aio_slots, aio_reap_slot, &rc, 0);
	if (tslot_ovf_used(HCI_TS_AIO))
		bpf_for_each_map_elem(&aio_reqs, aio_reap_ovf, &rc, 0);
	return 0;
}
