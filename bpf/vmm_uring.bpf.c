// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vmm_uring.bpf.c: VMM requests made with io_uring (QEMU aio=io_uring).
 *
 * What it observes. io_uring_submit_req fires in the submitting thread just
 * before the SQE is issued, so the bios it queues inline are that request's
 * (uring_cur names the thread's current request, uring_link in
 * hci_vmm_link.bpf.h reads it). A request punted to an io-wq worker is the
 * worker's current work, which links the worker's bios to it
 * (uring_worker_req, hci_tslot.bpf.h); where the kernel does not name it,
 * the worker getting the request's file (io_uring_file_get) does. QEMU reaps
 * CQEs from the ring in user space, so the VMM completion is the CQE being
 * posted (io_uring_complete).
 *
 * What it hands on. Requests by io_kiocb (ureqs), finished through
 * vio_finish (vmm.bpf.c) like every other VMM request.
 *
 * The io_uring tracepoints are optional: a kernel without them loses these
 * requests' stages, never the rest (lib/bpf/layers.c). v6.1 names the SQE's
 * io_uring_submit_sqe, later kernels io_uring_submit_req: both programs are
 * here and one is loaded (lib/bpf/features.c uring_probe). Some older
 * kernels pass the tracepoints (ctx, req, ...) instead of (req, ...);
 * targ_uring_ctx_first picks the argument. v6.1 also assigns a punted
 * request's file in the submitter, so that there only the worker's current
 * work links its bios.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hci_vmm.bpf.h"

static __always_inline __u32 uring_op(__u8 opcode)
{
	switch (opcode) {
	case 1: case 4: case 22: return HCI_OP_READ;	/* READV, READ_FIXED, READ */
	case 2: case 5: case 23: return HCI_OP_WRITE;	/* WRITEV, WRITE_FIXED, WRITE */
	case 3: return HCI_OP_FLUSH;			/* FSYNC */
	default: return HCI_NOPS;
	}
}

/* follow request @key from now on; false if its entry and the hash are full */
static __always_inline bool ureq_put(__u64 key, const struct aio_req *r)
{
	struct ureq_slot *sl = ureq_slot_at(key);
	__u64 old;

	if (sl) {
		old = __sync_val_compare_and_swap(&sl->key, 0, key);
		if (old == 0 || old == key) {
			sl->r = *r;
			return true;
		}
	}
	return tslot_ovf_put(&ureqs, HCI_TS_UREQ, &key, (void *)r);
}

/* thread @tid issues io_uring request @key from now on */
static __always_inline void uring_cur_set(__u32 tid, __u64 key)
{
	struct u64_tslot *sl = tslot_claim(&uring_slots, tid, HCI_TS_SLOTS - 1);

	if (sl)
		sl->v = key;
	else
		tslot_ovf_put(&uring_cur, HCI_TS_URING, &tid, &key);
}

/* ... and none any more */
static __always_inline void uring_cur_clear(__u32 tid)
{
	struct u64_tslot *sl = tslot_find(&uring_slots, tid, HCI_TS_SLOTS - 1);

	if (sl)
		tslot_release(sl);
	else
		tslot_ovf_del(&uring_cur, HCI_TS_URING, &tid);
}

/* the request an io_uring tracepoint was passed: first, or after the ctx */
#define uring_req_arg(ctx) (targ_uring_ctx_first ? (ctx)[1] : (ctx)[0])

/* io_kiocb @key's SQE is about to be issued, in this thread */
static __always_inline int uring_submit(__u64 key)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct ureq_fields fu;
	struct aio_req r = {};

	if (!vio_wanted())
		return 0;
	ureq_read(key, &fu);
	r.io.op = uring_op(fu.opcode);
	if (r.io.op >= HCI_NOPS) {
		uring_cur_clear(tid);
		return 0;
	}
	/*
	 * The file is assigned only when the request is issued, after this
	 * tracepoint; the SQE's fd is already in cqe.fd. A registered ("fixed")
	 * file's fd is an index, not an fd: its disk stays unknown (0).
	 */
	if (!(fu.flags0 & 1 /* REQ_F_FIXED_FILE */) && !vio_file(fu.fd, &r.io)) {
		uring_cur_clear(tid);
		return 0;
	}
	r.io.off = fu.pos;
	r.io.t_sub = bpf_ktime_get_ns();
	r.io.t_n = kvm_take_notify(pid_tgid >> 32);
	r.tgid = pid_tgid >> 32;
	r.io.tid = tid;
	if (!ureq_put(key, &r)) {
		count(HCI_CNT_VIO_FULL);
		return 0;
	}
	uring_cur_set(tid, key);
	return 0;
}

SEC("raw_tp/io_uring_submit_req")
int BPF_PROG(hci_io_uring_submit_req_raw)
{
	return uring_submit(uring_req_arg(ctx));
}

/* its name on v6.1 (lib/bpf/layers.c loads one of the two) */
SEC("raw_tp/io_uring_submit_sqe")
int BPF_PROG(hci_io_uring_submit_sqe_raw)
{
	return uring_submit(uring_req_arg(ctx));
}

/*
 * The request's file is assigned when it is first issued, in the issuing
 * thread: the submitter inline or from its task work (a linked request), or
 * an io-wq worker for a punted one. From here on, this thread's bios are
 * that request's. A worker's are found by its current work instead, where
 * the kernel names it (uring_worker_req): an entry here would stay claimed
 * after the work, as a worker makes no syscall whose exit frees it.
 */
SEC("raw_tp/io_uring_file_get")
int BPF_PROG(hci_io_uring_file_get_raw)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 key = uring_req_arg(ctx), *cur = uring_cur_of(tid);

	/* issued inline: its submit named it already */
	if (cur && *cur == key)
		return 0;
	if (uring_worker_req())
		return 0;
	if (ureq_find(key))
		uring_cur_set(tid, key);
	return 0;
}

/* handed to an io-wq worker, which queues its bios (uring_link) */
SEC("raw_tp/io_uring_queue_async_work")
int BPF_PROG(hci_io_uring_queue_async_work_raw)
{
	__u64 key = uring_req_arg(ctx);
	struct aio_req *r = ureq_find(key);

	if (r)
		r->io.punted = 1;
	return 0;
}

/*
 * The submitter's request ends with its io_uring_enter. Where the kernel
 * keeps a syscall's registers (targ_syscall_regs), this program is not
 * loaded: the entry outlives the syscall, and uring_link checks the thread
 * is inside io_uring_enter instead (uring_cur_live), which spares a program
 * run per io_uring_enter (docs/bench.md). The entry is freed when its
 * thread exits.
 */
SEC("tracepoint/syscalls/sys_exit_io_uring_enter")
int hci_sys_exit_io_uring_enter(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	uring_cur_clear(tid);
	return 0;
}

/* ... there: in every thread's exit, of every process */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(hci_io_uring_thread_exit)
{
	uring_cur_clear((__u32)bpf_get_current_pid_tgid());
	return 0;
}

SEC("raw_tp/io_uring_complete")
int BPF_PROG(hci_io_uring_complete_raw)
{
	__u64 key = ctx[1];
	struct ureq_slot *sl = ureq_slot_at(key);
	struct aio_req *r = NULL;
	long res;

	if (sl && sl->key == key)
		r = &sl->r;
	else
		r = tslot_ovf_find(&ureqs, HCI_TS_UREQ, &key);
	if (!r)
		return 0;
	if (targ_uring_cqe_ptr)
		res = uring_cqe_res(ctx[2]);
	else
		res = (int)ctx[3];
	vio_finish(&r->io, r->tgid, 0, res, bpf_ktime_get_ns());
	if (sl && sl->key == key)
		__sync_val_compare_and_swap(&sl->key, key, 0);
	else
		tslot_ovf_del(&ureqs, HCI_TS_UREQ, &key);
	return 0;
}
