// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vmm_kread.bpf.c: the VMM layer's reads of kernel objects by address.
 *
 * What it reads. Every VMM submit asks which image its fd names: the fd's
 * struct file comes from the task's fd table, and the file's inode says
 * what it is (vio_file). An io_uring submit reads its io_kiocb, and a
 * completion its CQE's result (ureq_read, uring_cqe_res).
 *
 * How. Where the kernel has the kfunc bpf_rdonly_cast (v6.2,
 * targ_rdonly_cast), an address is cast to its BTF type and its fields,
 * and the pointers they hold, are plain loads that the verifier makes
 * fault-safe; elsewhere each is a bpf_probe_read, a helper call (about
 * 35 ns each here, docs/bench.md).
 *
 * Why one file. A kfunc may be declared in one of the linked objects only:
 * libbpf 1.1's linker fails on the second ("failed to resolve size of
 * underlying type"). So these are global functions, declared in
 * hci_vmm.bpf.h and called from the other VMM files: a BPF-to-BPF call.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hci_vmm.bpf.h"

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* ---- which image an fd names (vio_file) ---- */

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

/* ---- an io_uring request's fields (ureq_read) and its CQE's result ---- */

/*
 * Without the kfunc, by one bpf_probe_read: the opcode, the flags' low
 * byte, the SQE's fd (in cqe.fd until the request is issued) and a read or
 * write's file position (io_rw, in the command area at the start) lie in
 * its first UREQ_HEAD bytes (offsets 64, 72, 92 and 8 on 6.18); where CO-RE
 * says a kernel lays them out further in, each is read on its own.
 */
#define UREQ_HEAD 128

#define UREQ_IN_HEAD(type, f) \
	(bpf_core_field_offset(type, f) + bpf_core_field_size(type, f) <= UREQ_HEAD)

static __always_inline void ureq_read_probe(struct io_kiocb *req, struct ureq_fields *fu)
{
	bool rw = bpf_core_type_exists(struct io_rw);
	__u8 head[UREQ_HEAD];

	if (UREQ_IN_HEAD(struct io_kiocb, opcode) && UREQ_IN_HEAD(struct io_kiocb, flags) &&
	    UREQ_IN_HEAD(struct io_kiocb, cqe.fd) &&
	    (!rw || UREQ_IN_HEAD(struct io_rw, kiocb.ki_pos)) &&
	    !bpf_probe_read_kernel(head, sizeof(head), req)) {
		fu->opcode = hci_head_field(__u8, head, struct io_kiocb, opcode);
		/* little-endian: the low byte of the flags word comes first */
		fu->flags0 = hci_head_field(__u8, head, struct io_kiocb, flags);
		fu->fd = hci_head_field(__s32, head, struct io_kiocb, cqe.fd);
		if (rw)
			fu->pos = hci_head_field(__s64, head, struct io_rw, kiocb.ki_pos);
		return;
	}
	fu->opcode = BPF_CORE_READ(req, opcode);
	fu->flags0 = BPF_CORE_READ(req, flags) & 0xff;
	fu->fd = BPF_CORE_READ(req, cqe.fd);
	if (rw)
		fu->pos = BPF_CORE_READ((struct io_rw *)req, kiocb.ki_pos);
}

__noinline int ureq_read(__u64 req, struct ureq_fields *fu)
{
	struct io_kiocb *r;

	if (!fu)
		return 0;
	fu->pos = 0;
	if (!targ_rdonly_cast) {
		ureq_read_probe((struct io_kiocb *)req, fu);
		return 0;
	}
	r = bpf_rdonly_cast((void *)req, bpf_core_type_id_kernel(struct io_kiocb));
	fu->opcode = r->opcode;
	fu->flags0 = r->flags & 0xff;
	fu->fd = r->cqe.fd;
	if (bpf_core_type_exists(struct io_rw)) {
		/* the same address: io_rw is the command area io_kiocb starts with */
		struct io_rw *rw = bpf_rdonly_cast((void *)req, bpf_core_type_id_kernel(struct io_rw));

		fu->pos = rw->kiocb.ki_pos;
	}
	return 0;
}

__noinline int uring_cqe_res(__u64 cqe)
{
	struct io_uring_cqe *c;

	if (!targ_rdonly_cast)
		return BPF_CORE_READ((struct io_uring_cqe *)cqe, res);
	c = bpf_rdonly_cast((void *)cqe, bpf_core_type_id_kernel(struct io_uring_cqe));
	return c->res;
}
