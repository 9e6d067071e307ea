/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Records shared by bpf/ and the programs in lib/, trace/, guest/, throttle/. Fixed-width fields, no
 * pointers, sizes pinned by _Static_assert so both sides agree.
 */
#ifndef HCITRACE_H
#define HCITRACE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "hci_hist.h"

/*
 * Stages, named btt-style by where they start and end:
 *   Q  bio queued (block_bio_queue)
 *   G  request allocated for it (block_getrq)
 *   I  request inserted into the scheduler/dispatch list (block_rq_insert)
 *   D  request dispatched to the driver (block_rq_issue)
 *   C  completed (block_rq_complete, or block_bio_complete on bio-based disks)
 * G2D exists because blk-mq direct issue skips I: then G2I and I2D are absent
 * and G2D still says how long the request waited before dispatch.
 */
enum hci_stage {
	HCI_Q2G,
	HCI_G2I,
	HCI_I2D,
	HCI_G2D,
	HCI_D2C,
	HCI_Q2C,
	HCI_NSTAGES,
};

enum hci_op {
	HCI_OP_READ,
	HCI_OP_WRITE,
	HCI_OP_FLUSH,
	HCI_OP_DISCARD,
	HCI_OP_OTHER,
	HCI_NOPS,
};

/* Events the BPF side counts because it could not record them in full. */
enum hci_counter {
	HCI_CNT_SLOT_FULL,	/* per-request slot table and overflow both full */
	HCI_CNT_HIST_FULL,	/* histogram map full: a new origin key was dropped */
	HCI_CNT_RB_LOST,	/* ring buffer full: per-request/notification lost */
	HCI_CNT_Q_MISSING,	/* request whose bio queue event was not seen */
	HCI_CNT_RQ_UNSEEN,	/* completion of a request never seen issued (or no slot) */
	HCI_CNT_PARTIAL,	/* partial completions (not final, not counted) */
	HCI_CNT_STALE,		/* slot reclaimed after its owner vanished */
	HCI_CNT_VMM_FULL,	/* VMM tgid table full */
	HCI_CNT_VIO_FULL,	/* VMM in-flight table full: request not traced */
	HCI_CNT_VHIST_FULL,	/* VMM histogram map full */
	HCI_CNT_AIO_CUT,	/* io_submit iocbs beyond what one call can follow */
	HCI_CNT_APP_FULL,	/* application I/O in-flight table full (guest --app) */
	/*
	 * Requests seen issued whose completion was never run through our
	 * program: the same request was issued again, or it was still in a
	 * slot when tracing ended. The kernel can skip a tracepoint's program
	 * without telling (seen on 6.18: 6 to 77 of 2.1 to 2.5 million
	 * completions on a loop device, recursion_misses 0, run_cnt short by
	 * as many), so this is how such a request is still accounted for.
	 */
	HCI_CNT_CPL_UNSEEN,
	HCI_NCOUNTERS,
};

/*
 * Per-object state in flight (one bio or one request), in the BPF slot
 * tables (bpf/hci_slots.bpf.h); user space reads what is left at the end.
 */
struct hci_slot {
	__u64 key;		/* object address, 0 = free */
	__u64 ts;		/* claim time, 0 while being initialised */
	__u64 tq, tg, ti, td;
	__u64 cgid;
	__u32 vmm_tgid;
	__u32 flags;		/* HCI_HAVE_*; 0 = a dead overflow entry */
	__u32 in_ovf;
	__u32 bytes;		/* bio size at Q (drivers may consume bi_iter) */
	__u64 sector;
	/*
	 * The VMM request this I/O belongs to (0: none), as its table knows
	 * it: a blocking syscall's submit ns and thread (vtid), a native aio
	 * iocb's user address and VM (vtid is the tgid), or an io_uring
	 * request's io_kiocb address (see bpf/hci_vmm_link.bpf.h).
	 */
	__u64 vreq_id;
	__u32 vtid;
	__u32 pid;		/* submitting thread (-p only, else 0) */
	char comm[16];		/* its comm (-p only) */
};
_Static_assert(sizeof(struct hci_slot) == 112, "slot layout");

/*
 * A slot stamped at @ts is stale at @now once it is older than @stale_ns.
 * Another CPU may stamp the slot after this CPU read @now, so @ts can be a
 * little ahead of @now: that slot is brand new, not 584 years old.
 */
static inline int hci_slot_stale(__u64 now, __u64 ts, __u64 stale_ns)
{
	return ts && (__s64)(now - ts) > (__s64)stale_ns;
}

/* Origin as the kernel sees it: user space resolves it to vm:/container:/host:. */
struct hci_hist_key {
	__u64 cgid;		/* owner cgroup id of the bio (blkcg), 0 = unknown */
	__u32 vmm_tgid;		/* submitting process if it is a VMM, else 0 */
	__u32 dev;		/* whole-disk dev_t, encoded (major << 20 | minor) */
	__u32 op;		/* enum hci_op */
	__u32 pad;
};
_Static_assert(sizeof(struct hci_hist_key) == 24, "hist key layout");

struct hci_hist_val {
	__u64 slots[HCI_NSTAGES][HCI_NBUCKETS];
	__u64 sum_ns[HCI_NSTAGES];
	__u64 ios;		/* completed requests (or bios on bio-based disks) */
	__u64 bytes;
	__u64 merges;		/* bios merged into an existing request */
	__u64 splits;		/* bios split to fit the queue limits */
	__u64 requeues;
	__u64 rq_merges;	/* requests merged into another request */
};
_Static_assert(sizeof(struct hci_hist_val) ==
	       8 * (HCI_NSTAGES * HCI_NBUCKETS + HCI_NSTAGES + 6),
	       "hist value layout");

enum hci_event_type {
	HCI_EV_REQ = 1,		/* one completed request (--per-request) */
	HCI_EV_VMM = 2,		/* first I/O seen from a VMM process */
	HCI_EV_VREQ = 3,	/* one completed VMM request (--vmm --per-request) */
	HCI_EV_APP = 4,		/* one application read/write (guest --app) */
	HCI_EV_CGROUP = 5,	/* a cgroup was made, removed or joined (hcithrottle) */
};

enum hci_cg_kind { HCI_CG_MKDIR, HCI_CG_RMDIR, HCI_CG_ATTACH };

struct hci_cgevent {
	__u32 type;		/* HCI_EV_CGROUP */
	__u32 kind;		/* enum hci_cg_kind */
	__u64 cgid;		/* the cgroup's kernfs id (its directory's inode) */
};
_Static_assert(sizeof(struct hci_cgevent) == 16, "cgroup event layout");

/* An application read or write on a regular file or block device. */
struct hci_aevent {
	__u32 type;		/* HCI_EV_APP */
	__u32 tgid;
	__u32 dev;		/* file system's dev, or the block device's rdev */
	__u32 op;		/* HCI_OP_READ / HCI_OP_WRITE */
	__u64 ino;
	__u64 off;		/* file offset of the first byte */
	__u64 bytes;		/* what the call returned */
	__u64 ts;		/* CLOCK_MONOTONIC at return */
	char comm[16];
};
_Static_assert(sizeof(struct hci_aevent) == 64, "app event layout");

/*
 * VMM layer (--vmm): one VMM request is one I/O syscall of a VMM thread on
 * an image (pread64/pwrite64/preadv/pwritev[2], fdatasync/fsync). Stages:
 *   V2Q   VMM submit -> first host bio queued by that thread in the syscall
 *   VQ2C  first host Q -> last host completion of those bios
 *   C2V   last host completion -> the VMM sees it (syscall returns)
 *   V2V   VMM submit -> VMM completion
 * A request that caused no bio was absorbed (host page cache).
 * Where KVM events fire (not under TCG):
 *   N2V   virtqueue notify (kvm_fast_mmio, an ioeventfd write) -> VMM submit
 *   V2I   VMM completion -> interrupt injected (kvm_msi_set_irq/kvm_set_irq)
 * Both are taken for the first request after the event that opened them.
 * VQ2C splits at the host dispatch into VQ2D and VD2C (request-based disks):
 *   V2Q + VQ2D + VD2C + C2V = V2V.
 */
enum hci_vstage {
	HCI_V2Q,
	HCI_VQ2C,
	HCI_C2V,
	HCI_V2V,
	HCI_N2V,
	HCI_V2I,
	HCI_VQ2D,	/* VQ2C split at the host dispatch: first Q -> last D */
	HCI_VD2C,	/* ... and last D -> last C (the device) */
	HCI_NVSTAGES,
};

/* VM exits per VM and reason (kvm_exit). Reason HCI_EXIT_UNKNOWN where the
 * vendor structure is not known (neither VMX nor SVM). */
#define HCI_EXIT_UNKNOWN 0xffffffffu

struct hci_exit_key {
	__u32 vmm_tgid;
	__u32 reason;
};

enum hci_kvm_counter {
	HCI_KVM_NOTIFY,		/* kvm_fast_mmio */
	HCI_KVM_MMIO,		/* kvm_mmio (not ioeventfd-backed) */
	HCI_KVM_PIO,		/* kvm_pio */
	HCI_KVM_MSI,		/* kvm_msi_set_irq */
	HCI_KVM_IRQ,		/* kvm_set_irq */
	HCI_KVM_INJ,		/* kvm_inj_virq */
	HCI_NKVM,
};

struct hci_vmm_key {
	__u32 vmm_tgid;
	__u32 dev;		/* disk holding the image (st_dev, or rdev) */
	__u32 op;
	__u32 pad;
};
_Static_assert(sizeof(struct hci_vmm_key) == 16, "vmm key layout");

struct hci_vmm_val {
	__u64 slots[HCI_NVSTAGES][HCI_NBUCKETS];
	__u64 sum_ns[HCI_NVSTAGES];
	__u64 ios;		/* VMM requests completed */
	__u64 bytes;		/* bytes the syscalls returned */
	__u64 bios;		/* host bios they caused */
	__u64 absorbed;		/* requests that caused no bio */
	__u64 absorbed_bytes;
	__u64 errors;		/* syscalls that failed */
	__u64 unlinked;		/* io_uring requests run by io-wq workers: bios not linked */
};
_Static_assert(sizeof(struct hci_vmm_val) ==
	       8 * (HCI_NVSTAGES * HCI_NBUCKETS + HCI_NVSTAGES + 7),
	       "vmm value layout");

/* A VMM request in flight (BPF-side state; user space reads the leftovers). */
struct hci_vio {
	__u64 t_sub;		/* also the request's identity for linked bios */
	__u64 off;
	__u64 ino;
	__u64 t_q;		/* first linked bio queued */
	__u64 t_c;		/* last linked completion */
	__u64 t_n;		/* the notify this request answers, 0 if none */
	__u64 t_d;		/* dispatch (D) of the last linked request to complete */
	__u32 op;
	__u32 dev;
	__u32 nbios;
	__u32 ncompl;		/* native aio: bit 31 = io_submit took it */
	__u32 punted;		/* io_uring: handed to an io-wq worker */
	__u32 tid;		/* submitting thread (aio/io_uring: kept for the report) */
};
_Static_assert(sizeof(struct hci_vio) == 80, "vio layout");

#define HCI_AIO_SUBMITTED 0x80000000u

/* native aio requests, by (VM, iocb user address) */
struct hci_aio_key {
	__u32 tgid;
	__u32 pad;
	__u64 iocb;
};
_Static_assert(sizeof(struct hci_aio_key) == 16, "aio key layout");

struct hci_aio_req {
	struct hci_vio io;
	__u64 len;
	__u32 tgid;		/* the VM (completions may run elsewhere) */
	__u32 evfd;		/* its completion signals an eventfd (IOCB_FLAG_RESFD) */
};
_Static_assert(sizeof(struct hci_aio_req) == 96, "aio req layout");

/* aio_slots (bpf/hci_maps.bpf.h): the fast path in front of aio_reqs */
#define HCI_AIO_SLOTS 4096

struct hci_aio_slot {
	__u64 iocb;		/* the iocb's user address, 0 = free */
	struct hci_aio_req r;	/* r.tgid: the VM */
};
_Static_assert(sizeof(struct hci_aio_slot) == 104, "aio slot layout");

/* KVM event counts per VM (key: VMM tgid) */
struct hci_kvm_val {
	__u64 c[HCI_NKVM];
};

struct hci_vevent {
	__u32 type;		/* HCI_EV_VREQ */
	__u32 vmm_tgid;
	__u32 tid;
	__u32 dev;
	__u32 op;
	__u32 nbios;
	__u32 ncompl;
	__s32 ret;		/* syscall return: bytes or -errno */
	__u64 ino;		/* image inode */
	__u64 off;
	__u64 ts_v, ts_q, ts_c, ts_vc;	/* CLOCK_MONOTONIC ns; 0 = absent */
	__u64 ts_d;
};
_Static_assert(sizeof(struct hci_vevent) == 88, "vevent layout");

#define HCI_HAVE_Q (1u << 0)
#define HCI_HAVE_G (1u << 1)
#define HCI_HAVE_I (1u << 2)
#define HCI_HAVE_D (1u << 3)
#define HCI_BIO_BASED (1u << 4)
#define HCI_VAIO (1u << 5)	/* linked to a native-aio VMM request (slot only) */
#define HCI_VURING (1u << 6)	/* linked to an io_uring VMM request (slot only) */

struct hci_event {
	__u32 type;		/* enum hci_event_type */
	__u32 flags;		/* HCI_HAVE_* */
	__u64 cgid;
	__u32 vmm_tgid;
	__u32 dev;
	__u32 op;
	__u32 bytes;
	__u64 sector;
	__u64 ts_q, ts_g, ts_i, ts_d, ts_c;	/* CLOCK_MONOTONIC ns */
	/*
	 * HCI_EV_VMM: the VMM's comm. HCI_EV_REQ: the submitting thread's
	 * comm and id (biosnoop's COMM and PID), where the tracer asked for
	 * them (targ_req_who: -p without --record); else zero.
	 */
	char comm[16];
	__u32 pid;
	__u32 pad;
};
_Static_assert(sizeof(struct hci_event) == 104, "event layout");
/* a record file's raw request (include/hci_record.h) keeps the first 96 bytes */
#define HCI_EVENT_V1_BYTES 96

#define HCI_DEV_MKDEV(ma, mi) (((__u32)(ma) << 20) | (__u32)(mi))
#define HCI_DEV_MAJOR(d) ((d) >> 20)
#define HCI_DEV_MINOR(d) ((d) & 0xFFFFF)

#endif /* HCITRACE_H */
