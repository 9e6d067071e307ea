/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the three VMM files (vmm.bpf.c for blocking syscalls, vmm_aio.bpf.c
 * for native aio, vmm_uring.bpf.c for io_uring) share: is this process one
 * we trace, which image a file descriptor names, the notify a new request
 * answers, and the one way a VMM request ends (vio_finish, in vmm.bpf.c).
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
 * What vio_filp needs of an inode, in one read: i_mode, i_sb, i_ino and
 * i_rdev lie in its first INODE_HEAD bytes on the kernels we know, and one
 * read of those costs about what one of a field does (each bpf_probe_read
 * about 50 ns here: vio_file was 260 of io_submit's 730 ns per request).
 * Where CO-RE says a field lies further in, each is read on its own.
 */
#define INODE_HEAD 128

struct inode_fields {
	__u16 mode;
	__u32 rdev;
	__u64 ino;
	struct super_block *sb;
};

#define INODE_FIELD_IN_HEAD(f) \
	(bpf_core_field_offset(struct inode, f) + bpf_core_field_size(struct inode, f) <= INODE_HEAD)

static __always_inline void inode_fields(struct inode *inode, struct inode_fields *fi)
{
	__u8 head[INODE_HEAD];

	if (INODE_FIELD_IN_HEAD(i_mode) && INODE_FIELD_IN_HEAD(i_sb) &&
	    INODE_FIELD_IN_HEAD(i_ino) && INODE_FIELD_IN_HEAD(i_rdev) &&
	    !bpf_probe_read_kernel(head, sizeof(head), inode)) {
		fi->mode = *(__u16 *)(head + bpf_core_field_offset(struct inode, i_mode));
		fi->sb = *(struct super_block **)(head + bpf_core_field_offset(struct inode, i_sb));
		fi->ino = *(__u64 *)(head + bpf_core_field_offset(struct inode, i_ino));
		fi->rdev = *(__u32 *)(head + bpf_core_field_offset(struct inode, i_rdev));
		return;
	}
	fi->mode = BPF_CORE_READ(inode, i_mode);
	fi->sb = BPF_CORE_READ(inode, i_sb);
	fi->ino = BPF_CORE_READ(inode, i_ino);
	fi->rdev = BPF_CORE_READ(inode, i_rdev);
}

/*
 * The image behind a VMM's fd: a regular file (its file system's disk) or a
 * block device. Returns false for anything else (eventfds, sockets...).
 */
static __always_inline bool vio_filp(struct file *f, struct vio *io)
{
	struct image_key k = {};
	struct inode_fields fi;
	struct super_block *sb;
	__u32 tgid;

	if (!f)
		return false;
	inode_fields(BPF_CORE_READ(f, f_inode), &fi);
	io->ino = fi.ino;
	if ((fi.mode & 0170000) == 0060000) {		/* S_IFBLK */
		io->dev = fi.rdev;
		return true;
	}
	if ((fi.mode & 0170000) != 0100000)		/* S_IFREG */
		return false;
	sb = fi.sb;	/* a local of ours: no CO-RE relocation on it */
	io->dev = BPF_CORE_READ(sb, s_dev);
	/* a regular file: an image, whose writeback is the VM's too */
	tgid = bpf_get_current_pid_tgid() >> 32;
	k.dev = io->dev;
	k.ino = io->ino;
	if (!bpf_map_lookup_elem(&image_inodes, &k))
		bpf_map_update_elem(&image_inodes, &k, &tgid, BPF_ANY);
	return true;
}

static __always_inline bool vio_file(__u64 fd, struct vio *io)
{
	struct file **fds, *f = NULL;

	if (hci_task_btf(false)) {
		struct fdtable *fdt = bpf_get_current_task_btf()->files->fdt;

		if (fd >= fdt->max_fds)
			return false;
		fds = fdt->fd;
	} else {
		struct task_struct *task = (void *)bpf_get_current_task();
		struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);

		if (fd >= BPF_CORE_READ(fdt, max_fds))
			return false;
		fds = BPF_CORE_READ(fdt, fd);
	}
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xfffff]);
	return vio_filp(f, io);
}

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
