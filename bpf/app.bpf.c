// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * app.bpf.c: application reads and writes (hcitrace guest --app).
 *
 * What it observes. The first layer of the three-layer volume analysis: what
 * programs asked for, before the page cache and the block layer. Entry keeps
 * the file and offset per thread (app_inflight); the return says how many
 * bytes moved. Only regular files and block devices count: pipes, sockets,
 * ttys and the trace channel itself are not storage I/O.
 *
 * What it hands on. One HCI_EV_APP record per call that moved bytes, on the
 * ring buffer; user space (guest/) sums them into volumes per file and
 * compares them with the block layer's.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hci_common.bpf.h"

static __always_inline int app_enter(__u64 fd, __u64 off, bool positional, __u32 op)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct task_struct *task = (void *)bpf_get_current_task();
	struct app_io io = { .op = op };
	struct file **fds, *f = NULL;
	struct inode *inode;
	__u32 tid = (__u32)pid_tgid;
	__u16 mode;

	if ((__u32)(pid_tgid >> 32) == targ_self_tgid)
		return 0;
	if (fd >= BPF_CORE_READ(task, files, fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(task, files, fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xfffff]);
	if (!f)
		return 0;
	inode = BPF_CORE_READ(f, f_inode);
	mode = BPF_CORE_READ(inode, i_mode);
	if ((mode & 0170000) == 0060000)		/* S_IFBLK */
		io.dev = BPF_CORE_READ(inode, i_rdev);
	else if ((mode & 0170000) == 0100000)		/* S_IFREG */
		io.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	else
		return 0;
	io.ino = BPF_CORE_READ(inode, i_ino);
	io.off = positional ? off : (__u64)BPF_CORE_READ(f, f_pos);
	if (bpf_map_update_elem(&app_inflight, &tid, &io, BPF_ANY))
		count(HCI_CNT_APP_FULL);
	return 0;
}

static __always_inline int app_exit(long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct hci_aevent *e;
	struct app_io *io;

	io = bpf_map_lookup_elem(&app_inflight, &tid);
	if (!io)
		return 0;
	if (ret > 0) {
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (e) {
			e->type = HCI_EV_APP;
			e->tgid = pid_tgid >> 32;
			e->dev = io->dev;
			e->op = io->op;
			e->ino = io->ino;
			e->off = io->off;
			e->bytes = (__u64)ret;
			e->ts = bpf_ktime_get_ns();
			bpf_get_current_comm(e->comm, sizeof(e->comm));
			bpf_ringbuf_submit(e, 0);
		} else {
			count(HCI_CNT_RB_LOST);
		}
	}
	bpf_map_delete_elem(&app_inflight, &tid);
	return 0;
}

#define APP_RW(sc, off_arg, positional, op)					\
SEC("tracepoint/syscalls/sys_enter_" #sc)					\
int hci_app_enter_##sc(struct trace_event_raw_sys_enter *ctx)			\
{										\
	return app_enter(ctx->args[0], off_arg, positional, op);		\
}										\
SEC("tracepoint/syscalls/sys_exit_" #sc)					\
int hci_app_exit_##sc(struct trace_event_raw_sys_exit *ctx)				\
{										\
	return app_exit(ctx->ret);						\
}

APP_RW(read, 0, false, HCI_OP_READ)
APP_RW(write, 0, false, HCI_OP_WRITE)
APP_RW(readv, 0, false, HCI_OP_READ)
APP_RW(writev, 0, false, HCI_OP_WRITE)
APP_RW(pread64, ctx->args[3], true, HCI_OP_READ)
APP_RW(pwrite64, ctx->args[3], true, HCI_OP_WRITE)
APP_RW(preadv, ctx->args[3], true, HCI_OP_READ)
APP_RW(pwritev, ctx->args[3], true, HCI_OP_WRITE)
