/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the three VMM files (vmm.bpf.c for blocking syscalls, vmm_aio.bpf.c
 * for native aio, vmm_uring.bpf.c for io_uring) share: is this process one
 * we trace, which image a file descriptor names and what an io_uring
 * request holds (vmm_kread.bpf.c), the notify a new request answers, and
 * the one way a VMM request ends (vio_finish, in vmm.bpf.c).
 */
#ifndef HCI_VMM_BPF_H
#define HCI_VMM_BPF_H

#include "hci_common.bpf.h"
#include "hci_tslot.bpf.h"

static __always_inline bool vio_wanted(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (targ_vm_tgid)
		return tgid == targ_vm_tgid;
	return vmm_tgid_of_current(hci_task_btf(false)) != 0;
}

/* has any VM had a KVM event yet? (kvm_active) */
static __always_inline bool kvm_seen(void)
{
	__u32 zero = 0, *a = bpf_map_lookup_elem(&kvm_active, &zero);

	return a && *a;
}

/* The first VMM submit after a notify answers it. */
static __always_inline __u64 kvm_take_notify(__u32 tgid)
{
	struct kvm_state *st;
	__u64 t;

	if (!kvm_seen())
		return 0;
	st = bpf_map_lookup_elem(&kvm_states, &tgid);
	if (!st || !st->t_notify)
		return 0;
	t = st->t_notify;
	st->t_notify = 0;
	return t;
}

/*
 * The reads of kernel objects by address, in vmm_kread.bpf.c (it says why
 * there, and why global functions).
 *
 * vio_file: the image behind VMM fd @fd of the current task, its dev and
 * inode into @io; 1 if it is a regular file (the image of a VM whose disk
 * is a file) or a block device, 0 for anything else (eventfds, sockets...).
 */
int vio_file(__u64 fd, struct vio *io);

/* what an io_uring submit needs of its io_kiocb (ureq_read) */
struct ureq_fields {
	__u8 opcode;
	__u8 flags0;		/* REQ_F_FIXED_FILE is bit 0 */
	__s32 fd;
	__s64 pos;
};

int ureq_read(__u64 req, struct ureq_fields *fu);

/* the result in the io_uring CQE at @cqe */
int uring_cqe_res(__u64 cqe);

static __always_inline struct hci_vmm_val *vhist_get(__u32 tgid, __u32 dev, __u32 op)
{
	struct hci_vmm_key k = { .vmm_tgid = tgid, .dev = dev, .op = op };

	return lookup_or_init(&vmm_hists, &k, &vmm_zero, HCI_CNT_VHIST_FULL);
}

/*
 * A VMM request is complete as the VMM sees it: account and report it.
 * Defined once in vmm.bpf.c and called from the other VMM files: a real
 * BPF-to-BPF call. It is a global function, which the verifier checks once
 * on its own, not once per call site: sys_enter_io_submit calls it in a
 * loop of AIO_BATCH, and checking it there 32 times over (as for an inline
 * or __hidden helper) exceeds the verifier's budget. It runs once per VMM
 * request, not per bio. Always returns 0 (a global function returns a
 * scalar).
 */
int vio_finish(struct vio *io, __u32 tgid, __u32 tid, long ret, __u64 now);

#endif /* HCI_VMM_BPF_H */
