// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vmm.bpf.c: the VMM layer, one level above the block layer.
 *
 * What it observes. A VM's disk is an image (a file or a block device) that
 * its VMM reads and writes on the guest's behalf. A VMM request starts when
 * the VMM submits it and ends when the VMM sees it complete; in between, the
 * host block layer serves it with zero or more bios. This file traces the
 * blocking syscalls QEMU's thread pool uses (pread/pwrite and their vectored
 * forms, fsync): the request is open, by thread, from sys_enter to sys_exit,
 * and every bio that thread queues meanwhile is its (hci_vmm_link.bpf.h).
 * vmm_aio.bpf.c and vmm_uring.bpf.c do the same for native aio and io_uring.
 *
 * What it hands on. Each finished request goes into the VM's histogram
 * (vmm_hists, stages from hci_stages.h): V2V end to end, split at its bios
 * into V2Q, VQ2C (VQ2D + VD2C) and C2V; N2V from the guest's notify that it
 * answers (kvm.bpf.c). Then it arms kvm_states, so that the interrupt which
 * tells the guest closes V2I in kvm.bpf.c. A request with no bio was
 * absorbed by the host page cache, or punted out of our sight: counted, with
 * no host stages.
 *
 * Why here. Per-syscall tracepoints fire only for their own syscall, so the
 * cost is paid by preadv & co. alone, and filtered to VMM processes at once.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hci_vmm.bpf.h"

static __always_inline int vio_enter(__u64 fd, __u64 off, __u32 op)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vio_tslot *sl;
	struct vio io = {};

	if (!vio_wanted() || !vio_file(fd, &io))
		return 0;
	io.t_sub = bpf_ktime_get_ns();
	io.t_n = kvm_take_notify(bpf_get_current_pid_tgid() >> 32);
	io.off = off;
	io.op = op;
	sl = tslot_claim(&vio_slots, tid, HCI_TS_SLOTS - 1);
	if (sl)
		sl->io = io;
	else if (!tslot_ovf_put(&vmm_inflight, HCI_TS_VIO, &tid, &io))
		count(HCI_CNT_VIO_FULL);
	return 0;
}

/* A VMM completion now waits for the interrupt that tells the guest. */
static __always_inline void kvm_arm_irq(__u32 tgid, __u32 dev, __u32 op, __u64 now)
{
	const struct kvm_state fresh = {};
	struct kvm_state *st;

	if (!kvm_seen())
		return;
	st = lookup_or_insert(&kvm_states, &tgid, &fresh);
	if (!st)
		return;
	if (!st->t_vdone) {
		st->t_vdone = now;
		st->vdone_dev = dev;
		st->vdone_op = op;
	}
}

/*
 * One stage of a VMM request into its histogram, inline: the bucket is
 * arithmetic without a branch (hci_hist.h), so a request's stages cost the
 * verifier a straight line, and the out-of-line call each stage was while
 * the bucket took compares (80 ns per request here) is gone.
 */
static __always_inline void vstage_add(struct hci_vmm_val *v, __u32 st, __u64 from, __u64 to)
{
	if (st < HCI_NVSTAGES)
		stage_add(v, st, from, to);
}

/* the request's stages (hci_stages.h) and counts, into its VM's histogram */
static __always_inline void vio_account(struct hci_vmm_val *v, const struct vio *io, long ret,
					__u64 now)
{
	const struct hci_vpoints p = {
		.n = io->t_n, .v = io->t_sub, .q = io->t_q, .d = io->t_d,
		.c = io->t_c, .vc = now, .nbios = io->nbios,
	};
	__u64 from, to;

	v->ios++;
	if (ret < 0)
		v->errors++;
	else
		v->bytes += ret;
	v->bios += io->nbios;
#pragma unroll
	for (int st = 0; st < HCI_NVSTAGES; st++) {
		if (!hci_vstage_present(&p, st))
			continue;
		hci_vstage_ends(&p, st, &from, &to);
		vstage_add(v, st, from, to);
	}
	if (io->nbios)
		return;
	/* no bio: punted out of our sight, or absorbed by the page cache */
	if (io->punted) {
		v->unlinked++;
	} else {
		v->absorbed++;
		if (ret > 0)
			v->absorbed_bytes += ret;
	}
}

/* --per-request: the VMM request's record */
static __always_inline void vio_emit(const struct vio *io, __u32 tgid, __u32 tid, long ret,
				     __u64 now)
{
	struct hci_vevent *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(HCI_CNT_RB_LOST);
		return;
	}
	e->type = HCI_EV_VREQ;
	e->vmm_tgid = tgid;
	e->tid = tid ? tid : io->tid;
	e->dev = io->dev;
	e->op = io->op;
	e->nbios = io->nbios;
	e->ncompl = io->ncompl;
	e->ret = ret;
	e->ino = io->ino;
	e->off = io->off;
	e->ts_v = io->t_sub;
	e->ts_q = io->t_q;
	e->ts_c = io->t_c;
	e->ts_vc = now;
	e->ts_d = io->t_d;
	bpf_ringbuf_submit(e, 0);
}

int vio_finish(struct vio *io, __u32 tgid, __u32 tid, long ret, __u64 now)
{
	struct hci_vmm_val *v;

	if (!io)	/* a global function's pointer argument may be NULL */
		return 0;
	v = vhist_get(tgid, io->dev, io->op);
	if (v)
		vio_account(v, io, ret, now);
	if (targ_per_request)
		vio_emit(io, tgid, tid, ret, now);
	kvm_arm_irq(tgid, io->dev, io->op, now);
	return 0;
}

static __always_inline int vio_exit(long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct vio_tslot *sl;
	struct vio *io;

	sl = tslot_find(&vio_slots, tid, HCI_TS_SLOTS - 1);
	if (sl) {
		vio_finish(&sl->io, pid_tgid >> 32, tid, ret, bpf_ktime_get_ns());
		tslot_release(sl);
		return 0;
	}
	io = tslot_ovf_find(&vmm_inflight, HCI_TS_VIO, &tid);
	if (!io)
		return 0;
	vio_finish(io, pid_tgid >> 32, tid, ret, bpf_ktime_get_ns());
	tslot_ovf_del(&vmm_inflight, HCI_TS_VIO, &tid);
	return 0;
}

#define VIO_ENTER(sc, off_arg, op)						\
SEC("tracepoint/syscalls/sys_enter_" #sc)					\
int hci_sys_enter_##sc(struct trace_event_raw_sys_enter *ctx)			\
{										\
	return vio_enter(ctx->args[0], off_arg, op);				\
}										\
SEC("tracepoint/syscalls/sys_exit_" #sc)					\
int hci_sys_exit_##sc(struct trace_event_raw_sys_exit *ctx)				\
{										\
	return vio_exit(ctx->ret);						\
}

/* pos is args[3] for all four on 64-bit (pos_h is 0 there) */
VIO_ENTER(pread64, ctx->args[3], HCI_OP_READ)
VIO_ENTER(pwrite64, ctx->args[3], HCI_OP_WRITE)
VIO_ENTER(preadv, ctx->args[3], HCI_OP_READ)
VIO_ENTER(pwritev, ctx->args[3], HCI_OP_WRITE)
VIO_ENTER(preadv2, ctx->args[3], HCI_OP_READ)
VIO_ENTER(pwritev2, ctx->args[3], HCI_OP_WRITE)
VIO_ENTER(fdatasync, 0, HCI_OP_FLUSH)
VIO_ENTER(fsync, 0, HCI_OP_FLUSH)
