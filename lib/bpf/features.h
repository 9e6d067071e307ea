/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef HCI_PROBE_H
#define HCI_PROBE_H
#include <stdbool.h>
#include <stdio.h>

/* What the running kernel offers, found before load (retsnoop's calib_feat). */
struct hci_features {
	bool btf;		/* /sys/kernel/btf/vmlinux present */
	bool tp_btf;		/* tp_btf programs can attach to block_* */
	bool single_arg;	/* block tracepoints without the request_queue arg */
	bool tracefs;
	bool kvm;		/* KVM tracepoints exist (kvm_exit in BTF) */
	bool kvm_exit_reason_arg; /* older kvm_exit(reason, vcpu, isa) */
	bool uring;		/* io_uring tracepoints exist */
	bool uring_cqe_ptr;	/* io_uring_complete(ctx, req, cqe) */
	bool uring_ctx_first;	/* io_uring_file_get(ctx, req, ...): older kernels */
	bool uring_submit_sqe;	/* the SQE tracepoint is io_uring_submit_sqe (v6.1) */
	bool uring_worker;	/* an io-wq worker names the work it runs (worker_private) */
	bool rq_start_time;	/* struct request has start_time_ns */
	bool kernel_g;		/* G from rq->start_time_ns, no block_getrq (stamps.c) */
	bool rq_io_start_time;	/* struct request has io_start_time_ns */
	bool kernel_d;		/* D from rq->io_start_time_ns, no block_rq_issue (stamps.c) */
	bool syscall_regs;	/* bpf_task_pt_regs: a syscall's arguments at its exit */
	bool rdonly_cast;	/* the kfunc bpf_rdonly_cast: kernel objects by plain loads */
	bool bpf_loop;		/* an eventfd read reaps from aio_done, not all of aio_slots */
};

void hci_probe_features(struct hci_features *f);
void hci_features_print(FILE *out, const struct hci_features *f, bool use_tp_btf, bool vmm);
#endif
