/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Every map and every setting (targ_*) of the one BPF object, by layer.
 *
 * The per-layer files are compiled alone and linked into one object
 * (bpftool gen object), so that hcitrace, hcitrace guest and hcithrottle keep
 * one skeleton and the layers share their histograms. Each map is written
 * here once: maps.bpf.c defines HCI_MAP empty and includes this header, which
 * makes it the one definition; every other file sees the same text as an
 * extern declaration, which the static linker resolves to that definition.
 * The settings are defined (with their defaults) in maps.bpf.c and declared
 * here, as the linker wants for `const volatile` globals.
 */
#ifndef HCI_MAPS_BPF_H
#define HCI_MAPS_BPF_H

#include "hci_abi.h"

#ifndef HCI_MAP
#define HCI_MAP extern
#endif

/*
 * A slot table (hci_slots.bpf.h): @n address-hashed array slots, and an
 * overflow table of as many, a plain hash, never LRU (see there).
 */
#define HCI_SLOT_TABLE(slots, ovf, n)						\
HCI_MAP struct {								\
	__uint(type, BPF_MAP_TYPE_ARRAY);					\
	__uint(max_entries, n);							\
	__type(key, __u32);							\
	__type(value, struct hci_slot);						\
} slots SEC(".maps");								\
HCI_MAP struct {								\
	__uint(type, BPF_MAP_TYPE_HASH);					\
	__uint(max_entries, n);							\
	__type(key, __u64);							\
	__type(value, struct hci_slot);						\
} ovf SEC(".maps")

/*
 * A layer's histograms: a per-CPU hash of @vtype by @ktype, not preallocated
 * (memory is paid for the keys that occur), each value made on first use
 * from the zeroed one in the one-entry @zero beside it (too big for the
 * stack, see lookup_or_init()).
 */
#define HCI_HIST_MAP(hists, zero, nkeys, ktype, vtype)				\
HCI_MAP struct {								\
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);					\
	__uint(max_entries, nkeys);						\
	__uint(map_flags, BPF_F_NO_PREALLOC);					\
	__type(key, ktype);							\
	__type(value, vtype);							\
} hists SEC(".maps");								\
HCI_MAP struct {								\
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);				\
	__uint(max_entries, 1);							\
	__type(key, __u32);							\
	__type(value, vtype);							\
} zero SEC(".maps")

/* ---- settings, written by user space before load (see maps.bpf.c) ---- */
extern const volatile __u32 targ_dev;
extern const volatile __u64 targ_cgid;
extern const volatile bool targ_per_request;
extern const volatile bool targ_single_arg;
extern const volatile __u32 targ_slot_mask;
extern const volatile __u32 targ_aio_mask;
extern const volatile bool targ_vmm;
extern const volatile __u32 targ_vm_tgid;
extern const volatile bool targ_kvm_exit_reason_arg;
extern const volatile bool targ_uring_cqe_ptr;
extern const volatile bool targ_uring_ctx_first;
extern const volatile bool targ_uring_worker;
extern const volatile __u32 targ_self_tgid;
extern const volatile bool targ_kernel_g;
extern const volatile bool targ_kernel_d;
extern const volatile bool targ_syscall_regs;
extern const volatile bool targ_rdonly_cast;
extern const volatile bool targ_bpf_loop;
extern const volatile bool targ_req_who;
extern __u64 bio_ovf_live, rq_ovf_live, rq_live;
extern __u64 aio_done_head;

/* ---- shared by every layer: counters, the ring buffer, known VMMs ---- */
HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HCI_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* VMM processes already announced to user space (HCI_EV_VMM) */
HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} vmm_seen SEC(".maps");

/* vmm_seen's fast path: tgid & (HCI_SEEN_FAST - 1) -> an announced VMM */
#define HCI_SEEN_FAST 1024

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HCI_SEEN_FAST);
	__type(key, __u32);
	__type(value, __u32);
} vmm_seen_fast SEC(".maps");

/* ---- block.bpf.c: per-object slots and the block histograms ---- */
HCI_SLOT_TABLE(bio_slots, bio_ovf, 16384);
HCI_SLOT_TABLE(rq_slots, rq_ovf, 16384);
HCI_HIST_MAP(hists, hist_zero, 4096, struct hci_hist_key, struct hci_hist_val);

/*
 * tp_btf hands out typed kernel pointers, which the verifier will not let us
 * hash. Passing the value through a map slot turns it into a plain number
 * (map values keep no pointer types) for a few instructions, where
 * bpf_probe_read_kernel would cost a helper call.
 *
 * One slot per program: a completion in softirq can interrupt a program
 * between the store and the load, and a shared slot would hand it the
 * other program's address. A program never nests with itself.
 */
#define HCI_NSCRATCH 16

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HCI_NSCRATCH);
	__type(key, __u32);
	__type(value, __u64);
} addr_scratch SEC(".maps");

/* ---- vmm*.bpf.c: VMM requests, their histograms, and their links ---- */
/* VMM requests in flight, by submitting thread (the syscalls are blocking) */
#define vio hci_vio

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct vio);
} vmm_inflight SEC(".maps");

HCI_HIST_MAP(vmm_hists, vmm_zero, 1024, struct hci_vmm_key, struct hci_vmm_val);

/*
 * QEMU aio=native: one VMM request per iocb. io_submit submits the iocbs in
 * order, and with O_DIRECT each one's bios are queued before the next one
 * starts, so the thread's bios are handed to the iocbs by bytes.
 */
#define AIO_BATCH 32
#define AIO_IOVS 16

#define aio_key hci_aio_key	/* iocb: the iocb's user address, QEMU's handle */
#define aio_req hci_aio_req

struct aio_cursor {
	__u32 tid, pad;		/* cur_slots' owner (hci_tslot.bpf.h) */
	__u32 n, idx;
	__u64 acc;
	__u64 iocb[AIO_BATCH];
	__u64 len[AIO_BATCH];
};

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct aio_key);
	__type(value, struct aio_req);
} aio_reqs SEC(".maps");

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct aio_cursor);
} aio_cursors SEC(".maps");

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct aio_cursor);
} aio_zero SEC(".maps");

/*
 * VMMs that reap with io_getevents (not QEMU, which reads its ring in user
 * space): each event names its iocb, and the syscall's return is the VMM
 * completion of those requests.
 */
HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} getevents_bufs SEC(".maps");

/*
 * The eventfd each VM's aio completions signal (iocb aio_resfd), by tgid,
 * and how far that VM's reads have taken aio_done.
 */
struct aio_evfd {
	__u32 fd;
	__u32 pad;
	__u64 done_tail;	/* the next aio_done position it has not looked at */
};

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct aio_evfd);
} aio_evfds SEC(".maps");

/*
 * The eventfd requests that may now be reaped, in the order they became
 * so (all their bios complete and io_submit returned): a ring that every
 * VM's eventfd read takes from its done_tail on, so that a read costs what
 * completed since the last one, not a walk of aio_slots. Position p is
 * entry p % HCI_AIO_DONE, written when seq = p + 1; aio_done_head is the
 * next position (maps.bpf.c).
 */
#define HCI_AIO_DONE 4096

struct aio_done_ent {
	__u64 seq;
	__u64 iocb;
	__u32 tgid;
	__u32 pad;
};

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HCI_AIO_DONE);
	__type(key, __u32);
	__type(value, struct aio_done_ent);
} aio_done SEC(".maps");

/*
 * Image files of VMs, by (file system disk, inode): with a cached image
 * (cache=writeback) the VMM's writes stop in the host page cache, and the
 * flusher kworkers write them out later; those bios are the VM's.
 */
struct image_key {
	__u32 dev;
	__u32 pad;
	__u64 ino;
};

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct image_key);
	__type(value, __u32);
} image_inodes SEC(".maps");

/*
 * Stacked devices: a loop device with direct I/O (and dm, which clones bios)
 * sends the upper request's own pages down to the device below. The first
 * page of each VM request on its way down identifies the lower bios its
 * worker queues, so they are the VM's too: the next layer of the request.
 */
struct stack_parent {
	__u32 vmm_tgid;
	__u32 upper_dev;
};

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct stack_parent);
} stack_pages SEC(".maps");

/*
 * The fast path in front of stack_pages: one array entry per first page, at
 * a hash of its address, claimed with a compare-and-swap (an inlined array
 * lookup, where an LRU update and delete per VM request cost more than the
 * rest of the request's block programs). Only a page whose entry another
 * live request holds goes to stack_pages, and stack_ovf_n counts those, so
 * that a lookup skips the LRU while it is empty. The LRU may drop an entry
 * without telling us: the count can only overstate (a lookup too many).
 */
#define HCI_STACK_SLOTS 16384

struct stack_slot {
	__u64 page;		/* 0 = free */
	struct stack_parent p;
};

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HCI_STACK_SLOTS);
	__type(key, __u32);
	__type(value, struct stack_slot);
} stack_slots SEC(".maps");

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s64);
} stack_ovf_n SEC(".maps");

/* QEMU aio=io_uring: requests by io_kiocb, and each thread's current one */
HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct aio_req);
} ureqs SEC(".maps");

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} uring_cur SEC(".maps");

/*
 * The fast path in front of the four per-thread hashes above (vmm_inflight,
 * aio_cursors, getevents_bufs, uring_cur) and of ureqs: arrays by tid (by
 * io_kiocb for ureqs), whose entries are claimed and freed
 * (hci_tslot.bpf.h); a hash holds only what found its entry taken by
 * another live one, and tslot_ovf counts each hash's entries.
 */
enum { HCI_TS_VIO, HCI_TS_CUR, HCI_TS_GEV, HCI_TS_URING, HCI_TS_UREQ,
	HCI_TS_EVFD,	/* aio_evfds' entries: every read() looks there */
	HCI_TS_AIO,	/* aio_reqs, behind aio_slots */
	HCI_NTS };

#define HCI_TS_SLOTS 4096
#define HCI_TS_CUR_SLOTS 1024	/* a cursor is 536 bytes */

struct vio_tslot {
	__u32 tid;		/* owner, 0 = free */
	__u32 pad;
	struct vio io;
};

struct u64_tslot {
	__u32 tid;		/* owner, 0 = free */
	__u32 pad;
	__u64 v;
};

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HCI_TS_SLOTS);
	__type(key, __u32);
	__type(value, struct vio_tslot);
} vio_slots SEC(".maps");

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HCI_TS_CUR_SLOTS);
	__type(key, __u32);
	__type(value, struct aio_cursor);
} cur_slots SEC(".maps");

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HCI_TS_SLOTS);
	__type(key, __u32);
	__type(value, struct u64_tslot);
} gev_slots SEC(".maps");

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HCI_TS_SLOTS);
	__type(key, __u32);
	__type(value, struct u64_tslot);
} uring_slots SEC(".maps");

/* ureqs' fast path: by a hash of the io_kiocb address, claimed by CAS on key */
#define HCI_UREQ_SLOTS 4096

struct ureq_slot {
	__u64 key;		/* the io_kiocb's address, 0 = free */
	struct aio_req r;
};

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HCI_UREQ_SLOTS);
	__type(key, __u32);
	__type(value, struct ureq_slot);
} ureq_slots SEC(".maps");

/*
 * aio_reqs' fast path: by a hash of (VM, iocb), claimed by CAS on the iocb
 * word; HCI_AIO_SLOTS entries, fewer with a smaller --slots. An entry is
 * the VM's while iocb and r.tgid both match; r.tgid is cleared before the
 * iocb word on release, so a VM whose iocb has the same address never
 * takes another VM's entry for its own.
 */
#define aio_slot hci_aio_slot	/* include/hci_abi.h: user space reads it at exit */

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HCI_AIO_SLOTS);
	__type(key, __u32);
	__type(value, struct aio_slot);
} aio_slots SEC(".maps");

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HCI_NTS);
	__type(key, __u32);
	__type(value, __s64);
} tslot_ovf SEC(".maps");

/* ---- kvm.bpf.c: per-VM KVM state and counts ---- */
/*
 * Per-VM KVM state: the notify and the VMM completion that still wait for
 * their request and their interrupt. Written from vCPU threads and VMM
 * threads of one process; a lost race costs one stage sample, nothing else.
 */
struct kvm_state {
	__u64 t_notify;		/* last virtqueue notify not yet taken by a submit */
	__u64 t_vdone;		/* last VMM completion not yet followed by an irq */
	__u32 vdone_dev;
	__u32 vdone_op;
};

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct kvm_state);
} kvm_states SEC(".maps");

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct hci_kvm_val);
} kvm_counts SEC(".maps");

/*
 * Set by the first KVM event of any VM. Until then no notify waits and no
 * interrupt will come (a TCG guest, fio under a VMM's name), so the VMM
 * programs skip kvm_states: two hash lookups per request.
 */
HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} kvm_active SEC(".maps");

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct hci_exit_key);
	__type(value, __u64);
} kvm_exits SEC(".maps");

/* ---- app.bpf.c: application reads and writes in flight ---- */
struct app_io {
	__u64 ino;
	__u64 off;
	__u32 dev;
	__u32 op;
};

HCI_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct app_io);
} app_inflight SEC(".maps");

#endif /* HCI_MAPS_BPF_H */
