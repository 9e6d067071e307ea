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
 * completes every request of that VM whose bios have all completed. A VMM
 * that reaps with io_getevents instead is finished by that syscall's return,
 * and an iocb reused before either proves its old request was seen.
 *
 * What it hands on. Finished requests go through vio_finish (vmm.bpf.c), like
 * every other VMM request; the ones still unreaped at exit are added by user
 * space from aio_reqs (trace/main.c add_unreaped).
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
static __always_inline void aio_finish_reused(struct aio_key *k, __u64 now)
{
	struct aio_req *old = bpf_map_lookup_elem(&aio_reqs, k);

	if (old && (old->io.ncompl & HCI_AIO_SUBMITTED) && old->io.nbios &&
	    (old->io.ncompl & ~HCI_AIO_SUBMITTED) >= old->io.nbios) {
		old->io.ncompl &= ~HCI_AIO_SUBMITTED;
		vio_finish(&old->io, k->tgid, 0, (long)old->len, now);
	}
}

/* iocb @i of a batch: its place in the cursor, and (for an image) a request */
static __always_inline void aio_submit_one(struct aio_cursor *c, int i, struct aio_key *k,
					   const struct iocb *cb, __u64 now, __u64 t_n,
					   __u32 tid)
{
	struct aio_req r = {};
	__u64 len = iocb_len(cb);

	c->iocb[i] = k->iocb;
	c->len[i] = len;
	c->n = i + 1;
	r.io.op = aio_op(cb->aio_lio_opcode);
	if (r.io.op >= HCI_NOPS || !vio_file(cb->aio_fildes, &r.io))
		return;
	r.io.t_sub = now;
	r.io.off = cb->aio_offset;
	r.io.t_n = i == 0 ? t_n : 0;
	r.len = len;
	r.tgid = k->tgid;
	r.io.tid = tid;
	aio_finish_reused(k, now);
	if (bpf_map_update_elem(&aio_reqs, k, &r, BPF_ANY))
		count(HCI_CNT_VIO_FULL);
	if (cb->aio_flags & 1 /* IOCB_FLAG_RESFD */) {
		__u32 fd = cb->aio_resfd;

		bpf_map_update_elem(&aio_evfds, &k->tgid, &fd, BPF_ANY);
	}
}

SEC("tracepoint/syscalls/sys_enter_io_submit")
int sys_enter_io_submit(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), now, t_n, *pp = (void *)ctx->args[2];
	__u32 tid = (__u32)pid_tgid, tgid = pid_tgid >> 32, zero = 0;
	long nr = ctx->args[1];
	struct aio_cursor *c;
	void *z;

	if (!vio_wanted() || nr <= 0)
		return 0;
	z = bpf_map_lookup_elem(&aio_zero, &zero);
	if (!z || bpf_map_update_elem(&aio_cursors, &tid, z, BPF_ANY))
		return 0;
	c = bpf_map_lookup_elem(&aio_cursors, &tid);
	if (!c)
		return 0;
	now = bpf_ktime_get_ns();
	t_n = kvm_take_notify(tgid);
	if (nr > AIO_BATCH)
		count(HCI_CNT_AIO_CUT);
	for (int i = 0; i < AIO_BATCH; i++) {
		struct aio_key k = { .tgid = tgid };
		struct iocb cb;

		if (i >= nr)
			break;
		if (bpf_probe_read_user(&k.iocb, sizeof(k.iocb), &pp[i]) ||
		    bpf_probe_read_user(&cb, sizeof(cb), (void *)k.iocb))
			break;
		aio_submit_one(c, i, &k, &cb, now, t_n, tid);
	}
	return 0;
}

/* Iocbs io_submit did not take will never complete: forget them. */
SEC("tracepoint/syscalls/sys_exit_io_submit")
int sys_exit_io_submit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct aio_cursor *c = bpf_map_lookup_elem(&aio_cursors, &tid);
	long ret = ctx->ret;

	if (!c)
		return 0;
	for (int i = 0; i < AIO_BATCH; i++) {
		struct aio_key k = { .tgid = pid_tgid >> 32 };
		struct aio_req *r;

		if (i >= c->n)
			break;
		k.iocb = c->iocb[i];
		r = bpf_map_lookup_elem(&aio_reqs, &k);
		if (!r)
			continue;
		if (i >= ret)
			bpf_map_delete_elem(&aio_reqs, &k);
		else
			r->io.ncompl |= HCI_AIO_SUBMITTED;	/* may be reaped */
	}
	bpf_map_delete_elem(&aio_cursors, &tid);
	return 0;
}

/*
 * VMMs that reap with io_getevents (not QEMU, which reads its ring in user
 * space): each event names its iocb, and the syscall's return is the VMM
 * completion of those requests. The entry keeps the events buffer.
 */
SEC("tracepoint/syscalls/sys_enter_io_getevents")
int sys_enter_io_getevents(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 events = ctx->args[3];

	if (vio_wanted())
		bpf_map_update_elem(&getevents_bufs, &tid, &events, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_io_getevents")
int sys_exit_io_getevents(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), *buf, now;
	__u32 tid = (__u32)pid_tgid;
	struct io_event *ev;
	long n = ctx->ret;

	buf = bpf_map_lookup_elem(&getevents_bufs, &tid);
	if (!buf)
		return 0;
	ev = (void *)*buf;
	bpf_map_delete_elem(&getevents_bufs, &tid);
	now = bpf_ktime_get_ns();
	for (int i = 0; i < AIO_BATCH; i++) {
		struct aio_key k = { .tgid = pid_tgid >> 32 };
		struct aio_req *r;
		__s64 res = 0;

		if (i >= n)
			break;
		if (bpf_probe_read_user(&k.iocb, sizeof(k.iocb), &ev[i].obj) ||
		    bpf_probe_read_user(&res, sizeof(res), &ev[i].res))
			break;
		r = bpf_map_lookup_elem(&aio_reqs, &k);
		if (!r)
			continue;
		r->io.ncompl &= ~HCI_AIO_SUBMITTED;
		vio_finish(&r->io, k.tgid, tid, res, now);
		bpf_map_delete_elem(&aio_reqs, &k);
	}
	if (n > AIO_BATCH)
		count(HCI_CNT_AIO_CUT);
	return 0;
}

struct reap_ctx {
	__u32 tgid;
};

static long aio_reap_one(struct bpf_map *map, struct aio_key *k, struct aio_req *r,
			 struct reap_ctx *rc)
{
	__u32 done = r->io.ncompl & ~HCI_AIO_SUBMITTED;

	if (k->tgid != rc->tgid || !(r->io.ncompl & HCI_AIO_SUBMITTED) || done < r->io.nbios)
		return 0;
	r->io.ncompl = done;
	/* stamped after seeing the completion, never before it (other CPU) */
	vio_finish(&r->io, rc->tgid, 0, (long)r->len, bpf_ktime_get_ns());
	bpf_map_delete_elem(map, k);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_read")
int sys_enter_read(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 *fd = bpf_map_lookup_elem(&aio_evfds, &tgid);
	struct reap_ctx rc;

	if (!fd || *fd != (__u32)ctx->args[0])
		return 0;
	rc.tgid = tgid;
	bpf_for_each_map_elem(&aio_reqs, aio_reap_one, &rc, 0);
	return 0;
}
