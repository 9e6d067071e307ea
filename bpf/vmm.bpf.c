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

/*
 * ---- Which image an fd names (vio_file, declared in hci_vmm.bpf.h) ----
 *
 * Every VMM submit asks. The fd's struct file comes from the task's fd
 * table; the file's inode says what it is. Where the kernel has the kfunc
 * bpf_rdonly_cast (v6.2, targ_rdonly_cast), the file is cast to its BTF
 * type and the chain file -> inode -> super_block is plain loads, which
 * the verifier makes fault-safe; elsewhere each step is a bpf_probe_read,
 * a helper call of about 50 ns here.
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* @fd's struct file in the current task, or NULL */
static __always_inline struct file *fd_file(__u64 fd)
{
	struct file **fds, *f = NULL;

	if (hci_task_btf(false)) {
		struct fdtable *fdt = bpf_get_current_task_btf()->files->fdt;

		if (fd >= fdt->max_fds)
			return NULL;
		fds = fdt->fd;
	} else {
		struct task_struct *task = (void *)bpf_get_current_task();
		struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);

		if (fd >= BPF_CORE_READ(fdt, max_fds))
			return NULL;
		fds = BPF_CORE_READ(fdt, fd);
	}
	/* an array of pointers: BTF types the loads of its entries as numbers */
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xfffff]);
	return f;
}

/* what vio_file needs of an inode */
struct inode_fields {
	__u16 mode;
	__u32 rdev;
	__u64 ino;
	__u32 s_dev;		/* its file system's */
};

/* through BTF: plain loads */
static __always_inline void inode_fields_cast(struct file *f, struct inode_fields *fi)
{
	struct file *cf = bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
	struct inode *inode = cf->f_inode;

	fi->mode = inode->i_mode;
	fi->rdev = inode->i_rdev;
	fi->ino = inode->i_ino;
	fi->s_dev = (fi->mode & 0170000) == 0100000 ? inode->i_sb->s_dev : 0;
}

/*
 * Without the kfunc, by bpf_probe_read: i_mode, i_sb, i_ino and i_rdev lie
 * in the first INODE_HEAD bytes on the kernels we know (i_rdev ends at 80
 * on v6.1 and v6.18), and one read of those costs about what one of a field
 * does. Where CO-RE says a field lies further in, each is read on its own.
 * The copy is on the stack of the deepest call chain, io_submit's entry ->
 * aio_submit_one -> vio_file, which the verifier holds to 512 bytes in all
 * (each frame rounded up to 32): 128 bytes here took it to 544 on v6.1.
 */
#define INODE_HEAD 80

#define INODE_FIELD_IN_HEAD(f) \
	(bpf_core_field_offset(struct inode, f) + bpf_core_field_size(struct inode, f) <= INODE_HEAD)

static __always_inline void inode_fields_read(struct file *f, struct inode_fields *fi)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	struct super_block *sb;
	__u8 head[INODE_HEAD];

	if (INODE_FIELD_IN_HEAD(i_mode) && INODE_FIELD_IN_HEAD(i_sb) &&
	    INODE_FIELD_IN_HEAD(i_ino) && INODE_FIELD_IN_HEAD(i_rdev) &&
	    !bpf_probe_read_kernel(head, sizeof(head), inode)) {
		fi->mode = hci_head_field(__u16, head, struct inode, i_mode);
		sb = hci_head_field(struct super_block *, head, struct inode, i_sb);
		fi->ino = hci_head_field(__u64, head, struct inode, i_ino);
		fi->rdev = hci_head_field(__u32, head, struct inode, i_rdev);
	} else {
		fi->mode = BPF_CORE_READ(inode, i_mode);
		sb = BPF_CORE_READ(inode, i_sb);
		fi->ino = BPF_CORE_READ(inode, i_ino);
		fi->rdev = BPF_CORE_READ(inode, i_rdev);
	}
	/* sb is a local of ours: no CO-RE relocation on it */
	fi->s_dev = (fi->mode & 0170000) == 0100000 ? BPF_CORE_READ(sb, s_dev) : 0;
}

__noinline int vio_file(__u64 fd, struct vio *io)
{
	struct file *f = fd_file(fd);
	struct inode_fields fi;
	struct image_key k = {};
	__u32 tgid;

	if (!f || !io)
		return 0;
	if (targ_rdonly_cast)
		inode_fields_cast(f, &fi);
	else
		inode_fields_read(f, &fi);
	io->ino = fi.ino;
	if ((fi.mode & 0170000) == 0060000) {		/* S_IFBLK */
		io->dev = fi.rdev;
		return 1;
	}
	if ((fi.mode & 0170000) != 0100000)		/* S_IFREG */
		return 0;
	/* a regular file: an image, whose writeback is the VM's too */
	io->dev = fi.s_dev;
	tgid = bpf_get_current_pid_tgid() >> 32;
	k.dev = io->dev;
	k.ino = io->ino;
	if (!bpf_map_lookup_elem(&image_inodes, &k))
		bpf_map_update_elem(&image_inodes, &k, &tgid, BPF_ANY);
	return 1;
}

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
