// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * maps.bpf.c: the one home of every map and every setting.
 *
 * hcitrace's BPF side is one object linked from one file per layer: block
 * (the requests), vmm, vmm_aio and vmm_uring (the VMM's own requests, one
 * layer up), kvm (the guest's notifies and interrupts), app (a guest's
 * application I/O) and cgroup (hcithrottle's view of cgroup changes). The
 * layers hand each other their state through maps alone, so the maps are
 * defined here, once, and every layer file declares them extern through
 * hci_maps.bpf.h. User space sizes them and sets the targ_* settings through
 * the one skeleton before load; this file holds their defaults.
 *
 * No program lives here: a map owned by no layer in particular (counters,
 * events) would otherwise pick a file at random.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define HCI_MAP		/* the definitions, not extern declarations */
#include "hci_maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 targ_dev = 0;		/* whole-disk dev, 0 = all */
const volatile __u64 targ_cgid = 0;		/* owner cgroup, 0 = all */
const volatile bool targ_per_request = false;
/* v5.11 (commit a54895fa057c) dropped the request_queue argument */
const volatile bool targ_single_arg = true;
const volatile __u32 targ_slot_mask = 16383;
/* aio_slots' size - 1: --slots, at most HCI_AIO_SLOTS */
const volatile __u32 targ_aio_mask = HCI_AIO_SLOTS - 1;
const volatile bool targ_vmm = false;		/* --vmm: trace the VMM layer */
const volatile __u32 targ_vm_tgid = 0;		/* --vm: only this VMM (and it is one) */
/* older kernels' kvm_exit was (exit_reason, vcpu, isa); user space counts
 * the prototype's arguments in BTF and says which one this kernel has */
const volatile bool targ_kvm_exit_reason_arg = false;
/* io_uring_complete has passed the CQE by pointer since v6.0; before that,
 * (ctx, req, user_data, res, cflags, ...) */
const volatile bool targ_uring_cqe_ptr = true;
/* some kernels' io_uring tracepoints are (ctx, req, ...); v6.1's and later
 * ones (req, ...) */
const volatile bool targ_uring_ctx_first = false;
/* an io-wq worker's request is its io_worker's cur_work (features.c) */
const volatile bool targ_uring_worker = false;
/* guest --app: the tracer's own writes (to a file channel) are not app I/O */
const volatile __u32 targ_self_tgid = 0;
/* G from rq->start_time_ns, not from block_getrq (lib/bpf/stamps.c) */
const volatile bool targ_kernel_g = false;
/* -p: each request's submitting thread and comm, taken at Q */
const volatile bool targ_req_who = false;
/* D from rq->io_start_time_ns at C, no block_rq_issue (lib/bpf/stamps.c) */
const volatile bool targ_kernel_d = false;
/* syscall exits read their arguments through bpf_task_pt_regs (features.c) */
const volatile bool targ_syscall_regs = false;
/* the kfunc bpf_rdonly_cast (v6.2): a kernel object's fields by plain loads */
const volatile bool targ_rdonly_cast = false;
/* bpf_loop (v5.17): an eventfd read takes aio_done, not all of aio_slots */
const volatile bool targ_bpf_loop = false;

/* entries in each overflow table (hci_slots.bpf.h): 0 spares a hash lookup */
__u64 bio_ovf_live = 0;
__u64 rq_ovf_live = 0;
/* aio_done's next position (hci_maps.bpf.h) */
__u64 aio_done_head = 0;
/* request slots in use, counted with the kernel's D stamp only (block.bpf.c) */
__u64 rq_live = 0;
