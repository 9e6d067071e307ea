// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcitrace: host block layer, per request, per origin.
 *
 * What it measures. Every block request goes through up to five points:
 * the bio is queued (Q), a request is allocated for it (G), the request is
 * inserted into a scheduler or dispatch list (I), dispatched to the driver (D)
 * and completed (C). Bio-based disks (zram, dm, md) have no request, so they
 * only have Q and C. For each completed request we add the time between these
 * points into a log2-microsecond histogram keyed by (origin, disk, op, stage).
 * A point the kernel skipped leaves its stages out of the histogram: absent,
 * never zero.
 *
 * Origin. Completion runs in IRQ or worker context, so the current task says
 * nothing there. The origin is taken at submission instead: the owner cgroup
 * of the bio (bio->bi_blkg, which is also right for writeback on cgroup v2)
 * and, if the submitting process is a VMM, its tgid. The VMM test reads the
 * thread-group leader's comm, because QEMU submits from worker threads named
 * "worker" or "iou-wrk-N", not from its main thread.
 *
 * Cost. No global hash keyed by request on the hot path: per-object state
 * lives in address-hashed array slots (see hci_slots.bpf.h), histograms in a
 * per-CPU hash that is looked up once per completion. The per-request ring
 * buffer is off unless --per-request asks for it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hci_abi.h"
#include "hci_core.bpf.h"
#include "hci_slots.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 targ_dev = 0;		/* whole-disk dev, 0 = all */
const volatile __u64 targ_cgid = 0;		/* owner cgroup, 0 = all */
const volatile bool targ_per_request = false;
/* v5.11 (commit a54895fa057c) dropped the request_queue argument */
const volatile bool targ_single_arg = true;
const volatile __u32 targ_slot_mask = 16383;
const volatile bool targ_vmm = false;		/* --vmm: trace the VMM layer */
const volatile __u32 targ_vm_tgid = 0;		/* --vm: only this VMM (and it is one) */
/* older kernels' kvm_exit was (exit_reason, vcpu, isa); user space counts
 * the prototype's arguments in BTF and says which one this kernel has */
const volatile bool targ_kvm_exit_reason_arg = false;
/* io_uring_complete has passed the CQE by pointer since v6.0; before that,
 * (ctx, req, user_data, res, cflags, ...) */
const volatile bool targ_uring_cqe_ptr = true;
/* guest --app: the tracer's own writes (to a file channel) are not app I/O */
const volatile __u32 targ_self_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct hci_slot);
} bio_slots SEC(".maps");

/* overflow tables: plain hashes, never LRU (see hci_slots.bpf.h) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct hci_slot);
} bio_ovf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct hci_slot);
} rq_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct hci_slot);
} rq_ovf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct hci_hist_key);
	__type(value, struct hci_hist_val);
} hists SEC(".maps");

/* A zeroed value to insert new histogram keys from (too big for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hci_hist_val);
} hist_zero SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HCI_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} vmm_seen SEC(".maps");

/* VMM requests in flight, by submitting thread (the syscalls are blocking) */
#define vio hci_vio

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct vio);
} vmm_inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct hci_vmm_key);
	__type(value, struct hci_vmm_val);
} vmm_hists SEC(".maps");

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
	__u32 n, idx;
	__u64 acc;
	__u64 iocb[AIO_BATCH];
	__u64 len[AIO_BATCH];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct aio_key);
	__type(value, struct aio_req);
} aio_reqs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct aio_cursor);
} aio_cursors SEC(".maps");

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

struct {
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

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct stack_parent);
} stack_pages SEC(".maps");

/* QEMU aio=io_uring: requests by io_kiocb, and each thread's current one */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct aio_req);
} ureqs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} uring_cur SEC(".maps");

/* the eventfd each VM's aio completions signal (iocb aio_resfd), by tgid */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} aio_evfds SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hci_vmm_val);
} vmm_zero SEC(".maps");

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

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct kvm_state);
} kvm_states SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct hci_kvm_val);
} kvm_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct hci_exit_key);
	__type(value, __u64);
} kvm_exits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HCI_NSCRATCH);
	__type(key, __u32);
	__type(value, __u64);
} addr_scratch SEC(".maps");

static __always_inline __u64 addr_of(void *p, __u32 slot)
{
	volatile __u64 *s = bpf_map_lookup_elem(&addr_scratch, &slot);

	if (!s)
		return 0;
	*s = (__u64)p;
	return *s;
}

/*
 * Both variants of a program from one handler. v5.11 (commit a54895fa057c)
 * dropped the request_queue first argument of most block tracepoints; the
 * verifier never walks the branch that targ_single_arg rules out.
 */
#define HCI_TP(tp, handler, type, idx_new, idx_old)				\
HCI_TP_SLOT(tp, handler, type, idx_new, idx_old, __COUNTER__)
#define HCI_TP_SLOT(tp, handler, type, idx_new, idx_old, slot)			\
_Static_assert((slot) < HCI_NSCRATCH, "addr_scratch slots");			\
SEC("tp_btf/" #tp)								\
int BPF_PROG(tp##_btf)								\
{										\
	type *p = targ_single_arg ? (void *)ctx[idx_new] : (void *)ctx[idx_old];\
										\
	return handler(ctx, p, addr_of(p, slot), true, slot);			\
}										\
SEC("raw_tp/" #tp)								\
int BPF_PROG(tp##_raw)								\
{										\
	type *p = targ_single_arg ? (void *)ctx[idx_new] : (void *)ctx[idx_old];\
										\
	return handler(ctx, p, (__u64)p, false, slot);				\
}

/*
 * Atomic although per-CPU: a completion in softirq can interrupt another
 * program on this CPU between its load and its store of the same counter.
 */
static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		__sync_fetch_and_add(c, 1);
}

/*
 * Is the submitting process a VMM? Compares the thread-group leader's comm
 * against the known VMM names with a few word compares (comm is 16 bytes).
 */
static __always_inline __u32 vmm_tgid_of_current(const bool btf)
{
	union { char c[16]; __u64 w[2]; } comm = {};
	__u64 w0, w1;
	__u32 tgid;
	__u8 one = 1;

	if (btf) {
		struct task_struct *l = bpf_get_current_task_btf()->group_leader;

		comm.w[0] = *(__u64 *)&l->comm[0];
		comm.w[1] = *(__u64 *)&l->comm[8];
	} else {
		struct task_struct *t = (void *)bpf_get_current_task();

		bpf_probe_read_kernel(&comm, sizeof(comm),
				      BPF_CORE_READ(t, group_leader)->comm);
	}
	w0 = comm.w[0];
	w1 = comm.w[1];
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (targ_vm_tgid && tgid == targ_vm_tgid)
		goto vmm;
	/* "qemu-sys" "tem-" */
	if (!(w0 == 0x7379732d756d6571ULL && (w1 & 0xffffffff) == 0x2d6d6574) &&
	    /* "firecrac" "ker\0" */
	    !(w0 == 0x6361726365726966ULL && (w1 & 0xffffffff) == 0x72656b) &&
	    /* "cloud-hy" "pervis" */
	    !(w0 == 0x79682d64756f6c63ULL && (w1 & 0xffffffffffffULL) == 0x736976726570ULL) &&
	    /* "crosvm\0" */
	    !((w0 & 0xffffffffffffffULL) == 0x6d76736f7263ULL))
		return 0;
vmm:
	if (bpf_map_lookup_elem(&vmm_seen, &tgid))
		return tgid;
	if (bpf_map_update_elem(&vmm_seen, &tgid, &one, BPF_NOEXIST) == 0) {
		struct hci_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

		if (!e) {
			/* user space still names it, from /proc, when it reports */
			count(HCI_CNT_RB_LOST);
			return tgid;
		}
		__builtin_memset(e, 0, sizeof(*e));
		e->type = HCI_EV_VMM;
		e->vmm_tgid = tgid;
		__builtin_memcpy(e->comm, comm.c, sizeof(e->comm));
		bpf_ringbuf_submit(e, 0);
	} else if (!bpf_map_lookup_elem(&vmm_seen, &tgid)) {
		count(HCI_CNT_VMM_FULL);
	}
	return tgid;
}

/*
 * A histogram value for @key, created from @zero_map's zeroed value (too big
 * for the stack) on first use. A full map is counted as @full, never silent.
 */
static __always_inline void *lookup_or_init(void *map, void *key, void *zero_map, __u32 full)
{
	__u32 zero = 0;
	void *v, *z;

	v = bpf_map_lookup_elem(map, key);
	if (v)
		return v;
	z = bpf_map_lookup_elem(zero_map, &zero);
	if (!z)
		return NULL;
	bpf_map_update_elem(map, key, z, BPF_NOEXIST);
	v = bpf_map_lookup_elem(map, key);
	if (!v)
		count(full);
	return v;
}

static __always_inline struct hci_hist_val *hist_get(__u64 cgid, __u32 vmm,
						     __u32 dev, __u32 op)
{
	struct hci_hist_key k = {
		.cgid = cgid, .vmm_tgid = vmm, .dev = dev, .op = op,
	};

	return lookup_or_init(&hists, &k, &hist_zero, HCI_CNT_HIST_FULL);
}

/* one duration into a log2-us histogram and its sum */
static __always_inline void span_add(__u64 *slots, __u64 *sum, __u64 from, __u64 to)
{
	__u64 d = to - from;

	/* stamps from two CPUs can be a hair out of order: clamp, do not wrap */
	if ((__s64)d < 0)
		d = 0;
	slots[hci_bucket_of_ns(d)]++;
	*sum += d;
}

/* for both layers' values, which share slots[][] and sum_ns[] */
#define stage_add(v, stage, from, to) \
	span_add((v)->slots[stage], &(v)->sum_ns[stage], (from), (to))

static __always_inline struct hci_slot *slot_new(void *arr, void *ovf, __u64 key,
						 __u64 now, bool *created)
{
	struct hci_slot *s;
	__u64 stale = 0;

	s = hci_slot_get(arr, ovf, key, targ_slot_mask, now, created, &stale);
	if (stale)
		count(HCI_CNT_STALE);
	if (!s)
		count(HCI_CNT_SLOT_FULL);
	return s;
}

#define bio_find(key) hci_slot_find(&bio_slots, &bio_ovf, (key), targ_slot_mask)
#define rq_find(key) hci_slot_find(&rq_slots, &rq_ovf, (key), targ_slot_mask)
#define bio_new(key, now, created) slot_new(&bio_slots, &bio_ovf, (key), (now), (created))
#define rq_new(key, now, created) slot_new(&rq_slots, &rq_ovf, (key), (now), (created))
#define bio_put(s) hci_slot_put(&bio_ovf, (s))
#define rq_put(s) hci_slot_put(&rq_ovf, (s))

/*
 * A bio queued by a VMM thread while it is inside an I/O syscall belongs to
 * that VMM request: with cache=none the bio is submitted synchronously from
 * the syscall (pread/pwrite from QEMU's thread pool).
 */
/* a bio queued while this thread issues an io_uring request is that request's */
static __always_inline void uring_link(struct hci_slot *s, __u32 tid, __u64 now)
{
	__u64 *req = bpf_map_lookup_elem(&uring_cur, &tid);
	struct aio_req *r;

	if (!req)
		return;
	r = bpf_map_lookup_elem(&ureqs, req);
	if (!r)
		return;
	s->vseq = *req;
	s->flags |= HCI_VURING;
	if (!r->io.t_q)
		r->io.t_q = now;
	r->io.nbios++;
}

static __always_inline void aio_link(struct hci_slot *s, __u32 tid, __u32 tgid, __u64 now)
{
	struct aio_cursor *c = bpf_map_lookup_elem(&aio_cursors, &tid);
	struct aio_key k = { .tgid = tgid };
	struct aio_req *r;
	__u32 i;

	if (!c) {
		uring_link(s, tid, now);
		return;
	}
	if (c->idx >= c->n || c->idx >= AIO_BATCH)
		return;
	i = c->idx;
	k.iocb = c->iocb[i];
	r = bpf_map_lookup_elem(&aio_reqs, &k);
	if (r) {
		s->vseq = k.iocb;
		s->vtid = tgid;
		s->flags |= HCI_VAIO;
		if (!r->io.t_q)
			r->io.t_q = now;
		r->io.nbios++;
	}
	c->acc += s->bytes;
	if (c->acc >= c->len[i]) {
		c->idx++;
		c->acc = 0;
	}
}

static __always_inline void vio_link(struct hci_slot *s, __u64 now)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct vio *io = bpf_map_lookup_elem(&vmm_inflight, &tid);

	if (!io) {
		aio_link(s, tid, pid_tgid >> 32, now);
		return;
	}
	s->vseq = io->t_sub;
	s->vtid = tid;
	if (!io->t_q)
		io->t_q = now;
	io->nbios++;
}

/* A linked bio or request completed: the VMM request's host part ends here. */
static __always_inline void vio_complete(struct hci_slot *s, __u64 now)
{
	__u32 tid = s->vtid;
	struct vio *io;

	if (!s->vseq)
		return;
	if (s->flags & (HCI_VAIO | HCI_VURING)) {
		struct aio_key k = { .tgid = s->vtid, .iocb = s->vseq };
		struct aio_req *r = s->flags & HCI_VAIO ? bpf_map_lookup_elem(&aio_reqs, &k) :
							  bpf_map_lookup_elem(&ureqs, &s->vseq);

		if (r) {
			r->io.t_c = now;
			if (s->flags & HCI_HAVE_D)
				r->io.t_d = s->td;
			r->io.ncompl++;
		}
		return;
	}
	io = bpf_map_lookup_elem(&vmm_inflight, &tid);
	if (io && io->t_sub == s->vseq) {
		io->t_c = now;
		if (s->flags & HCI_HAVE_D)
			io->t_d = s->td;
		io->ncompl++;
	}
}

/*
 * A write from outside any VMM that carries a VM image's page cache is that
 * VM's writeback. The first page tells whose file it is (a bio's pages all
 * come from one file when writeback builds it).
 */
static __always_inline __u32 writeback_owner(struct bio *bio)
{
	struct image_key k = {};
	struct address_space *mapping;
	struct inode *host;
	__u32 *tgid;

	if ((BPF_CORE_READ(bio, bi_opf) & 0xff) != 1 /* REQ_OP_WRITE */)
		return 0;
	mapping = BPF_CORE_READ(bio, bi_io_vec, bv_page, mapping);
	/* anonymous and movable pages tag the low bits; they are no file's */
	if (!mapping || ((__u64)mapping & 3))
		return 0;
	host = BPF_CORE_READ(mapping, host);
	k.dev = BPF_CORE_READ(host, i_sb, s_dev);
	k.ino = BPF_CORE_READ(host, i_ino);
	tgid = bpf_map_lookup_elem(&image_inodes, &k);
	return tgid ? *tgid : 0;
}

static __always_inline __u64 first_page(struct bio *bio, const bool btf)
{
	struct bio_vec *bv = HCI_RD(btf, bio, bi_io_vec);

	return bv ? (__u64)BPF_CORE_READ(bv, bv_page) : 0;
}

/* the VM whose request, one layer up, carries this bio's first page */
static __always_inline __u32 stacked_owner(struct bio *bio, const bool btf)
{
	__u64 page = first_page(bio, btf);
	struct stack_parent *p;

	if (!page)
		return 0;
	p = bpf_map_lookup_elem(&stack_pages, &page);
	return p ? p->vmm_tgid : 0;
}

/* ---- Q: the bio enters the block layer, in the submitter's context ---- */

static __always_inline int on_bio_queue(__u64 *ctx, struct bio *bio, __u64 key,
					const bool btf, const __u32 slot)
{
	struct hci_slot *s;
	bool created;
	__u64 cgid, now;

	if (targ_dev && hci_disk_dev(hci_bio_disk(bio, btf), btf) != targ_dev)
		return 0;
	cgid = hci_bio_cgid(bio, btf);
	if (targ_cgid && cgid != targ_cgid)
		return 0;
	now = bpf_ktime_get_ns();
	s = bio_new(key, now, &created);
	if (!s)
		return 0;
	s->tq = now;
	s->cgid = cgid;
	s->vmm_tgid = vmm_tgid_of_current(btf);
	s->flags = HCI_HAVE_Q;
	s->bytes = HCI_RD(btf, bio, bi_iter.bi_size);
	s->sector = HCI_RD(btf, bio, bi_iter.bi_sector);
	if (targ_vmm && s->vmm_tgid)
		vio_link(s, now);
	else if (targ_vmm)
		s->vmm_tgid = stacked_owner(bio, btf) ?: writeback_owner(bio);
	return 0;
}
HCI_TP(block_bio_queue, on_bio_queue, struct bio, 0, 1)

/* ---- G: a request is allocated for the bio ---- */

static __always_inline int on_getrq(__u64 *ctx, struct bio *bio, __u64 key,
				    const bool btf, const __u32 slot)
{
	struct hci_slot *s = bio_find(key);

	if (s) {
		s->tg = bpf_ktime_get_ns();
		s->flags |= HCI_HAVE_G;
	}
	return 0;
}
HCI_TP(block_getrq, on_getrq, struct bio, 0, 1)

/*
 * The first time we see a request (insert or issue), move what we know about
 * its first bio into the request's slot and free the bio's.
 */
static __always_inline struct hci_slot *rq_slot_first(struct request *rq, __u64 key,
						      __u64 now, const bool btf,
						      const __u32 slot)
{
	struct bio *bio;
	struct hci_slot *s, *b = NULL;
	bool created;

	s = rq_find(key);
	if (s) {
		/* inserted, or requeued (D cleared), and now on its way on */
		if (s->flags && !(s->flags & HCI_HAVE_D))
			return s;
		/*
		 * Dispatched before and seen again with no requeue between:
		 * it completed, and our completion program never ran for it.
		 * Count it, and start afresh for this new use of the request
		 * (also for a dead overflow entry, see hci_slot_put()).
		 */
		if (s->flags)
			count(HCI_CNT_CPL_UNSEEN);
		rq_put(s);
		if (rq_find(key))
			return NULL;	/* a dead entry we cannot delete now */
	}
	if (targ_dev && hci_disk_dev(hci_rq_disk(rq, btf), btf) != targ_dev)
		return NULL;
	bio = HCI_RD(btf, rq, bio);
	if (bio)
		b = bio_find(btf ? addr_of(bio, slot) : (__u64)bio);
	if (!b && targ_cgid && hci_bio_cgid(bio, btf) != targ_cgid)
		return NULL;
	s = rq_new(key, now, &created);
	if (!s || !created)
		return s;
	if (b) {
		s->tq = b->tq;
		s->tg = b->tg;
		s->cgid = b->cgid;
		s->vmm_tgid = b->vmm_tgid;
		if (targ_vmm && b->vmm_tgid) {
			struct stack_parent sp = {
				.vmm_tgid = b->vmm_tgid,
				.upper_dev = hci_disk_dev(hci_rq_disk(rq, btf), btf),
			};
			__u64 page = first_page(bio, btf);

			if (page)
				bpf_map_update_elem(&stack_pages, &page, &sp, BPF_ANY);
		}
		s->flags = b->flags & (HCI_HAVE_Q | HCI_HAVE_G | HCI_VAIO | HCI_VURING);
		s->vseq = b->vseq;
		s->vtid = b->vtid;
		bio_put(b);
	} else {
		/* flush sequences, passthrough, or I/O queued before we attached */
		s->cgid = hci_bio_cgid(bio, btf);
		count(HCI_CNT_Q_MISSING);
	}
	return s;
}

static __always_inline int on_rq_insert(__u64 *ctx, struct request *rq, __u64 key,
					const bool btf, const __u32 slot)
{
	__u64 now = bpf_ktime_get_ns();
	struct hci_slot *s = rq_slot_first(rq, key, now, btf, slot);

	if (s) {
		s->ti = now;
		s->flags |= HCI_HAVE_I;
	}
	return 0;
}
HCI_TP(block_rq_insert, on_rq_insert, struct request, 0, 1)

static __always_inline int on_rq_issue(__u64 *ctx, struct request *rq, __u64 key,
				       const bool btf, const __u32 slot)
{
	__u64 now = bpf_ktime_get_ns();
	struct hci_slot *s = rq_slot_first(rq, key, now, btf, slot);

	if (s) {
		s->td = now;
		s->flags |= HCI_HAVE_D;
	}
	return 0;
}
HCI_TP(block_rq_issue, on_rq_issue, struct request, 0, 1)

static __always_inline void emit_request(struct hci_slot *s, __u32 dev,
					 __u32 op, __u32 bytes, __u64 sector,
					 __u64 now, __u32 extra)
{
	struct hci_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(HCI_CNT_RB_LOST);
		return;
	}
	e->type = HCI_EV_REQ;
	e->flags = s->flags | extra;
	e->cgid = s->cgid;
	e->vmm_tgid = s->vmm_tgid;
	e->dev = dev;
	e->op = op;
	e->bytes = bytes;
	e->sector = sector;
	e->ts_q = s->tq;
	e->ts_g = s->tg;
	e->ts_i = s->ti;
	e->ts_d = s->td;
	e->ts_c = now;
	__builtin_memset(e->comm, 0, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

/* ---- C: the request completes (any context: do not look at current) ---- */

static __always_inline int on_rq_complete(__u64 *ctx, struct request *rq, __u64 key,
					  const bool btf, const __u32 slot)
{
	__u32 nr_bytes = (__u32)ctx[2];
	struct hci_slot *s;
	struct hci_hist_val *v;
	__u64 now;
	__u32 dev, op, f;

	s = rq_find(key);
	if (!s) {
		/* not ours to count: another disk's, or (-c) another cgroup's */
		if (targ_dev && hci_disk_dev(hci_rq_disk(rq, btf), btf) != targ_dev)
			return 0;
		if (targ_cgid && hci_bio_cgid(HCI_RD(btf, rq, bio), btf) != targ_cgid)
			return 0;
		count(HCI_CNT_RQ_UNSEEN);
		return 0;
	}
	if (nr_bytes < HCI_RD(btf, rq, __data_len)) {
		/* more of this request is still to come */
		count(HCI_CNT_PARTIAL);
		return 0;
	}
	now = bpf_ktime_get_ns();
	dev = hci_disk_dev(hci_rq_disk(rq, btf), btf);
	op = hci_op_of(HCI_RD(btf, rq, cmd_flags));
	f = s->flags;
	v = hist_get(s->cgid, s->vmm_tgid, dev, op);
	if (v) {
		v->ios++;
		v->bytes += nr_bytes;
		if (f & HCI_HAVE_D)
			stage_add(v, HCI_D2C, s->td, now);
		if (f & HCI_HAVE_Q) {
			stage_add(v, HCI_Q2C, s->tq, now);
			if (f & HCI_HAVE_G)
				stage_add(v, HCI_Q2G, s->tq, s->tg);
		}
		if (f & HCI_HAVE_G) {
			if (f & HCI_HAVE_I)
				stage_add(v, HCI_G2I, s->tg, s->ti);
			if (f & HCI_HAVE_D)
				stage_add(v, HCI_G2D, s->tg, s->td);
		}
		if ((f & HCI_HAVE_I) && (f & HCI_HAVE_D))
			stage_add(v, HCI_I2D, s->ti, s->td);
	}
	if (targ_per_request)
		emit_request(s, dev, op, nr_bytes, HCI_RD(btf, rq, __sector), now, 0);
	if (targ_vmm) {
		vio_complete(s, now);
		if (s->vmm_tgid) {
			/* done one layer up: its pages may now carry anything */
			__u64 page = first_page(HCI_RD(btf, rq, bio), btf);

			if (page)
				bpf_map_delete_elem(&stack_pages, &page);
		}
	}
	rq_put(s);
	return 0;
}
/* block_rq_complete has had (rq, error, nr_bytes) since v4.10 */
HCI_TP(block_rq_complete, on_rq_complete, struct request, 0, 0)

/*
 * ---- C on bio-based disks ----
 * blk-mq clears BIO_TRACE_COMPLETION before ending a request's bios, so this
 * fires only for bios that never became requests (zram, dm, md).
 */
static __always_inline int on_bio_complete(__u64 *ctx, struct bio *bio, __u64 key,
					   const bool btf, const __u32 slot)
{
	struct hci_slot *s = bio_find(key);
	struct hci_hist_val *v;
	__u32 dev, op;
	__u64 now;

	if (!s)
		return 0;
	now = bpf_ktime_get_ns();
	dev = hci_disk_dev(hci_bio_disk(bio, btf), btf);
	op = hci_op_of(HCI_RD(btf, bio, bi_opf));
	v = hist_get(s->cgid, s->vmm_tgid, dev, op);
	if (v) {
		v->ios++;
		v->bytes += s->bytes;
		stage_add(v, HCI_Q2C, s->tq, now);
	}
	if (targ_per_request)
		emit_request(s, dev, op, s->bytes, s->sector, now, HCI_BIO_BASED);
	if (targ_vmm)
		vio_complete(s, now);
	bio_put(s);
	return 0;
}
/* (request_queue, bio) on every kernel */
HCI_TP(block_bio_complete, on_bio_complete, struct bio, 1, 1)

/* ---- merges, splits, requeues: counted per origin ---- */

static __always_inline int on_bio_merge(__u64 *ctx, struct bio *bio, __u64 key,
					const bool btf, const __u32 slot)
{
	struct hci_slot *s = bio_find(key);
	struct hci_hist_val *v;

	if (!s)
		return 0;
	v = hist_get(s->cgid, s->vmm_tgid, hci_disk_dev(hci_bio_disk(bio, btf), btf),
		     hci_op_of(HCI_RD(btf, bio, bi_opf)));
	if (v)
		v->merges++;
	/* the bio now rides on an existing request: it has no C of its own */
	bio_put(s);
	return 0;
}
HCI_TP(block_bio_backmerge, on_bio_merge, struct bio, 0, 2)
HCI_TP(block_bio_frontmerge, on_bio_merge, struct bio, 0, 2)

/*
 * A split bio is the front part, chained to the original (bi_private is the
 * parent, see bio_chain()). It inherits the parent's Q and origin.
 */
static __always_inline int on_split(__u64 *ctx, struct bio *split, __u64 key,
				    const bool btf, const __u32 slot)
{
	struct bio *parent = HCI_RD(btf, split, bi_private);
	struct hci_slot *p, *s;
	struct hci_hist_val *v;
	bool created;

	if (!parent)
		return 0;
	p = bio_find(btf ? addr_of(parent, slot) : (__u64)parent);
	if (!p)
		return 0;
	v = hist_get(p->cgid, p->vmm_tgid, hci_disk_dev(hci_bio_disk(split, btf), btf),
		     hci_op_of(HCI_RD(btf, split, bi_opf)));
	if (v)
		v->splits++;
	s = bio_new(key, bpf_ktime_get_ns(), &created);
	if (s) {
		s->tq = p->tq;
		s->cgid = p->cgid;
		s->vmm_tgid = p->vmm_tgid;
		s->flags = HCI_HAVE_Q | (p->flags & (HCI_VAIO | HCI_VURING));
		s->bytes = HCI_RD(btf, split, bi_iter.bi_size);
		s->sector = HCI_RD(btf, split, bi_iter.bi_sector);
		s->vseq = p->vseq;
		s->vtid = p->vtid;
	}
	return 0;
}
HCI_TP(block_split, on_split, struct bio, 0, 1)

static __always_inline int on_rq_requeue(__u64 *ctx, struct request *rq, __u64 key,
					 const bool btf, const __u32 slot)
{
	struct hci_slot *s = rq_find(key);
	struct hci_hist_val *v;

	if (!s)
		return 0;
	v = hist_get(s->cgid, s->vmm_tgid, hci_disk_dev(hci_rq_disk(rq, btf), btf),
		     hci_op_of(HCI_RD(btf, rq, cmd_flags)));
	if (v)
		v->requeues++;
	/* it will be dispatched again: D is re-stamped then */
	s->flags &= ~HCI_HAVE_D;
	return 0;
}
HCI_TP(block_rq_requeue, on_rq_requeue, struct request, 0, 1)

/* A request merged into another is freed without a completion of its own. */
static __always_inline int on_rq_merge(__u64 *ctx, struct request *rq, __u64 key,
				       const bool btf, const __u32 slot)
{
	struct hci_slot *s = rq_find(key);
	struct hci_hist_val *v;

	if (!s)
		return 0;
	v = hist_get(s->cgid, s->vmm_tgid, hci_disk_dev(hci_rq_disk(rq, btf), btf),
		     hci_op_of(HCI_RD(btf, rq, cmd_flags)));
	if (v)
		v->rq_merges++;
	rq_put(s);
	return 0;
}
HCI_TP(block_rq_merge, on_rq_merge, struct request, 0, 1)

/*
 * ---- The VMM layer: I/O syscalls of VMM threads ----
 * Per-syscall tracepoints fire only for their own syscall, so the cost is
 * paid by preadv & co. alone, and filtered to VMM processes at once.
 */

static __always_inline bool vio_wanted(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (targ_vm_tgid)
		return tgid == targ_vm_tgid;
	return vmm_tgid_of_current(false) != 0;
}

/* The first VMM submit after a notify answers it. */
static __always_inline __u64 kvm_take_notify(__u32 tgid)
{
	struct kvm_state *st = bpf_map_lookup_elem(&kvm_states, &tgid);
	__u64 t;

	if (!st || !st->t_notify)
		return 0;
	t = st->t_notify;
	st->t_notify = 0;
	return t;
}

/*
 * The image behind a VMM's fd: a regular file (its file system's disk) or a
 * block device. Returns false for anything else (eventfds, sockets...).
 */
static __always_inline bool vio_filp(struct file *f, struct vio *io)
{
	struct inode *inode;
	__u16 mode;

	if (!f)
		return false;
	inode = BPF_CORE_READ(f, f_inode);
	mode = BPF_CORE_READ(inode, i_mode);
	if ((mode & 0170000) == 0060000) {		/* S_IFBLK */
		io->dev = BPF_CORE_READ(inode, i_rdev);
	} else if ((mode & 0170000) == 0100000) {	/* S_IFREG */
		struct image_key k = {};
		__u32 tgid = bpf_get_current_pid_tgid() >> 32;

		io->dev = BPF_CORE_READ(inode, i_sb, s_dev);
		k.dev = io->dev;
		k.ino = BPF_CORE_READ(inode, i_ino);
		if (!bpf_map_lookup_elem(&image_inodes, &k))
			bpf_map_update_elem(&image_inodes, &k, &tgid, BPF_ANY);
	} else {
		return false;
	}
	io->ino = BPF_CORE_READ(inode, i_ino);
	return true;
}

static __always_inline bool vio_file(__u64 fd, struct vio *io)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct file **fds, *f = NULL;

	if (fd >= BPF_CORE_READ(task, files, fdt, max_fds))
		return false;
	fds = BPF_CORE_READ(task, files, fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xfffff]);
	return vio_filp(f, io);
}

static __always_inline int vio_enter(__u64 fd, __u64 off, __u32 op)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vio io = {};

	if (!vio_wanted() || !vio_file(fd, &io))
		return 0;
	io.t_sub = bpf_ktime_get_ns();
	io.t_n = kvm_take_notify(bpf_get_current_pid_tgid() >> 32);
	io.off = off;
	io.op = op;
	if (bpf_map_update_elem(&vmm_inflight, &tid, &io, BPF_ANY))
		count(HCI_CNT_VIO_FULL);
	return 0;
}

static __always_inline struct hci_vmm_val *vhist_get(__u32 tgid, __u32 dev, __u32 op)
{
	struct hci_vmm_key k = { .vmm_tgid = tgid, .dev = dev, .op = op };

	return lookup_or_init(&vmm_hists, &k, &vmm_zero, HCI_CNT_VHIST_FULL);
}

/* A VMM completion now waits for the interrupt that tells the guest. */
static __always_inline void kvm_arm_irq(__u32 tgid, __u32 dev, __u32 op, __u64 now)
{
	struct kvm_state *st = bpf_map_lookup_elem(&kvm_states, &tgid);
	struct kvm_state fresh = {};

	if (!st) {
		bpf_map_update_elem(&kvm_states, &tgid, &fresh, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&kvm_states, &tgid);
		if (!st)
			return;
	}
	if (!st->t_vdone) {
		st->t_vdone = now;
		st->vdone_dev = dev;
		st->vdone_op = op;
	}
}

/* A VMM request is complete as the VMM sees it: account and report it. */
static __always_inline void vio_finish(struct vio *io, __u32 tgid, __u32 tid, long ret,
				       __u64 now)
{
	struct hci_vmm_val *v;
	struct hci_vevent *e;

	v = vhist_get(tgid, io->dev, io->op);
	if (v) {
		v->ios++;
		if (ret < 0)
			v->errors++;
		else
			v->bytes += ret;
		v->bios += io->nbios;
		stage_add(v, HCI_V2V, io->t_sub, now);
		if (io->t_n)
			stage_add(v, HCI_N2V, io->t_n, io->t_sub);
		if (io->nbios) {
			stage_add(v, HCI_V2Q, io->t_sub, io->t_q);
			if (io->t_c) {
				stage_add(v, HCI_VQ2C, io->t_q, io->t_c);
				stage_add(v, HCI_C2V, io->t_c, now);
				if (io->t_d >= io->t_q && io->t_d <= io->t_c) {
					stage_add(v, HCI_VQ2D, io->t_q, io->t_d);
					stage_add(v, HCI_VD2C, io->t_d, io->t_c);
				}
			}
		} else if (io->punted) {
			v->unlinked++;
		} else {
			v->absorbed++;
			if (ret > 0)
				v->absorbed_bytes += ret;
		}
	}
	if (targ_per_request) {
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (e) {
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
		} else {
			count(HCI_CNT_RB_LOST);
		}
	}
	kvm_arm_irq(tgid, io->dev, io->op, now);
}

static __always_inline int vio_exit(long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct vio *io;

	io = bpf_map_lookup_elem(&vmm_inflight, &tid);
	if (!io)
		return 0;
	vio_finish(io, pid_tgid >> 32, tid, ret, bpf_ktime_get_ns());
	bpf_map_delete_elem(&vmm_inflight, &tid);
	return 0;
}

#define VIO_ENTER(sc, off_arg, op)						\
SEC("tracepoint/syscalls/sys_enter_" #sc)					\
int sys_enter_##sc(struct trace_event_raw_sys_enter *ctx)			\
{										\
	return vio_enter(ctx->args[0], off_arg, op);				\
}										\
SEC("tracepoint/syscalls/sys_exit_" #sc)					\
int sys_exit_##sc(struct trace_event_raw_sys_exit *ctx)				\
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

/*
 * ---- QEMU aio=native: io_submit, and the eventfd that reports completions ----
 * QEMU reaps completions from the aio ring in user space, without a syscall,
 * after reading the eventfd the iocbs name (IOCB_FLAG_RESFD). That read is
 * the moment the VMM sees them: it completes every request of that VM whose
 * bios have all completed.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct aio_cursor);
} aio_zero SEC(".maps");

static __always_inline __u32 aio_op(__u16 opcode)
{
	switch (opcode) {
	case 0: case 7: return HCI_OP_READ;	/* IOCB_CMD_PREAD, PREADV */
	case 1: case 8: return HCI_OP_WRITE;	/* IOCB_CMD_PWRITE, PWRITEV */
	case 2: case 3: return HCI_OP_FLUSH;	/* IOCB_CMD_FSYNC, FDSYNC */
	default: return HCI_NOPS;
	}
}

SEC("tracepoint/syscalls/sys_enter_io_submit")
int sys_enter_io_submit(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), now, t_n, *pp = (void *)ctx->args[2];
	__u32 tid = (__u32)pid_tgid, tgid = pid_tgid >> 32, zero = 0;
	long nr = ctx->args[1];
	struct aio_cursor *c;
	void *z;

	if (!vio_wanted() || nr <= 0)
		return 0;
	z = bpf_map_lookup_elem(&aio_zero, &zero);
	if (!z || bpf_map_update_elem(&aio_cursors, &tid, z, BPF_ANY))
		return 0;
	c = bpf_map_lookup_elem(&aio_cursors, &tid);
	if (!c)
		return 0;
	now = bpf_ktime_get_ns();
	t_n = kvm_take_notify(tgid);
	if (nr > AIO_BATCH)
		count(HCI_CNT_AIO_CUT);
	for (int i = 0; i < AIO_BATCH; i++) {
		struct aio_req r = {};
		struct aio_key k = { .tgid = tgid };
		struct iocb cb;
		__u64 len = 0;

		if (i >= nr)
			break;
		if (bpf_probe_read_user(&k.iocb, sizeof(k.iocb), &pp[i]) ||
		    bpf_probe_read_user(&cb, sizeof(cb), (void *)k.iocb))
			break;
		if (cb.aio_lio_opcode == 7 || cb.aio_lio_opcode == 8) {
			/* vectored: aio_buf is the iovec array, aio_nbytes its count */
			struct iovec *iov = (void *)cb.aio_buf;

			if (cb.aio_nbytes > AIO_IOVS)
				count(HCI_CNT_AIO_CUT);
			for (int j = 0; j < AIO_IOVS; j++) {
				__u64 l = 0;

				if (j >= cb.aio_nbytes)
					break;
				bpf_probe_read_user(&l, sizeof(l), &iov[j].iov_len);
				len += l;
			}
		} else {
			len = cb.aio_nbytes;
		}
		c->iocb[i] = k.iocb;
		c->len[i] = len;
		c->n = i + 1;
		r.io.op = aio_op(cb.aio_lio_opcode);
		if (r.io.op >= HCI_NOPS || !vio_file(cb.aio_fildes, &r.io))
			continue;
		r.io.t_sub = now;
		r.io.off = cb.aio_offset;
		r.io.t_n = i == 0 ? t_n : 0;
		r.len = len;
		r.tgid = tgid;
		r.io.tid = tid;
		{
			/*
			 * QEMU reaps completions from the aio ring in user space and
			 * may reuse an iocb before it reads the eventfd again: the
			 * reuse proves it saw the old request complete, so finish
			 * that one now instead of overwriting it.
			 */
			struct aio_req *old = bpf_map_lookup_elem(&aio_reqs, &k);

			if (old && (old->io.ncompl & HCI_AIO_SUBMITTED) && old->io.nbios &&
			    (old->io.ncompl & ~HCI_AIO_SUBMITTED) >= old->io.nbios) {
				old->io.ncompl &= ~HCI_AIO_SUBMITTED;
				vio_finish(&old->io, tgid, 0, (long)old->len, now);
			}
		}
		if (bpf_map_update_elem(&aio_reqs, &k, &r, BPF_ANY))
			count(HCI_CNT_VIO_FULL);
		if (cb.aio_flags & 1 /* IOCB_FLAG_RESFD */) {
			__u32 fd = cb.aio_resfd;

			bpf_map_update_elem(&aio_evfds, &tgid, &fd, BPF_ANY);
		}
	}
	return 0;
}

/* Iocbs io_submit did not take will never complete: forget them. */
SEC("tracepoint/syscalls/sys_exit_io_submit")
int sys_exit_io_submit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct aio_cursor *c = bpf_map_lookup_elem(&aio_cursors, &tid);
	long ret = ctx->ret;

	if (!c)
		return 0;
	for (int i = 0; i < AIO_BATCH; i++) {
		struct aio_key k = { .tgid = pid_tgid >> 32 };
		struct aio_req *r;

		if (i >= c->n)
			break;
		k.iocb = c->iocb[i];
		r = bpf_map_lookup_elem(&aio_reqs, &k);
		if (!r)
			continue;
		if (i >= ret)
			bpf_map_delete_elem(&aio_reqs, &k);
		else
			r->io.ncompl |= HCI_AIO_SUBMITTED;	/* may be reaped */
	}
	bpf_map_delete_elem(&aio_cursors, &tid);
	return 0;
}

/*
 * VMMs that reap with io_getevents (not QEMU, which reads its ring in user
 * space): each event names its iocb, and the syscall's return is the VMM
 * completion of those requests.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} getevents_bufs SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_io_getevents")
int sys_enter_io_getevents(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 events = ctx->args[3];

	if (vio_wanted())
		bpf_map_update_elem(&getevents_bufs, &tid, &events, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_io_getevents")
int sys_exit_io_getevents(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), *buf, now;
	__u32 tid = (__u32)pid_tgid;
	struct io_event *ev;
	long n = ctx->ret;

	buf = bpf_map_lookup_elem(&getevents_bufs, &tid);
	if (!buf)
		return 0;
	ev = (void *)*buf;
	bpf_map_delete_elem(&getevents_bufs, &tid);
	now = bpf_ktime_get_ns();
	for (int i = 0; i < AIO_BATCH; i++) {
		struct aio_key k = { .tgid = pid_tgid >> 32 };
		struct aio_req *r;
		__s64 res = 0;

		if (i >= n)
			break;
		if (bpf_probe_read_user(&k.iocb, sizeof(k.iocb), &ev[i].obj) ||
		    bpf_probe_read_user(&res, sizeof(res), &ev[i].res))
			break;
		r = bpf_map_lookup_elem(&aio_reqs, &k);
		if (!r)
			continue;
		r->io.ncompl &= ~HCI_AIO_SUBMITTED;
		vio_finish(&r->io, k.tgid, tid, res, now);
		bpf_map_delete_elem(&aio_reqs, &k);
	}
	if (n > AIO_BATCH)
		count(HCI_CNT_AIO_CUT);
	return 0;
}

struct reap_ctx {
	__u32 tgid;
};

static long aio_reap_one(struct bpf_map *map, struct aio_key *k, struct aio_req *r,
			 struct reap_ctx *rc)
{
	__u32 done = r->io.ncompl & ~HCI_AIO_SUBMITTED;

	if (k->tgid != rc->tgid || !(r->io.ncompl & HCI_AIO_SUBMITTED) || done < r->io.nbios)
		return 0;
	r->io.ncompl = done;
	/* stamped after seeing the completion, never before it (other CPU) */
	vio_finish(&r->io, rc->tgid, 0, (long)r->len, bpf_ktime_get_ns());
	bpf_map_delete_elem(map, k);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_read")
int sys_enter_read(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 *fd = bpf_map_lookup_elem(&aio_evfds, &tgid);
	struct reap_ctx rc;

	if (!fd || *fd != (__u32)ctx->args[0])
		return 0;
	rc.tgid = tgid;
	bpf_for_each_map_elem(&aio_reqs, aio_reap_one, &rc, 0);
	return 0;
}

/*
 * ---- QEMU aio=io_uring ----
 * io_uring_submit_req fires in the submitting thread just before the SQE is
 * issued, so the bios it queues inline are that request's. QEMU reaps CQEs
 * from the ring in user space, so the VMM completion is the CQE being posted
 * (io_uring_complete). A request punted to an io-wq worker gets its file in
 * the worker (io_uring_file_get), which links the worker's bios to it.
 */
static __always_inline __u32 uring_op(__u8 opcode)
{
	switch (opcode) {
	case 1: case 4: case 22: return HCI_OP_READ;	/* READV, READ_FIXED, READ */
	case 2: case 5: case 23: return HCI_OP_WRITE;	/* WRITEV, WRITE_FIXED, WRITE */
	case 3: return HCI_OP_FLUSH;			/* FSYNC */
	default: return HCI_NOPS;
	}
}

SEC("raw_tp/io_uring_submit_req")
int BPF_PROG(io_uring_submit_req_raw)
{
	struct io_kiocb *req = (void *)ctx[0];
	__u64 pid_tgid = bpf_get_current_pid_tgid(), key = ctx[0];
	__u32 tid = (__u32)pid_tgid;
	struct aio_req r = {};

	if (!vio_wanted())
		return 0;
	r.io.op = uring_op(BPF_CORE_READ(req, opcode));
	if (r.io.op >= HCI_NOPS) {
		bpf_map_delete_elem(&uring_cur, &tid);
		return 0;
	}
	/*
	 * The file is assigned only when the request is issued, after this
	 * tracepoint; the SQE's fd is already in cqe.fd. A registered ("fixed")
	 * file's fd is an index, not an fd: its disk stays unknown (0).
	 */
	if (!(BPF_CORE_READ(req, flags) & 1 /* REQ_F_FIXED_FILE */) &&
	    !vio_file(BPF_CORE_READ(req, cqe.fd), &r.io)) {
		bpf_map_delete_elem(&uring_cur, &tid);
		return 0;
	}
	if (bpf_core_type_exists(struct io_rw))
		r.io.off = BPF_CORE_READ((struct io_rw *)req, kiocb.ki_pos);
	r.io.t_sub = bpf_ktime_get_ns();
	r.io.t_n = kvm_take_notify(pid_tgid >> 32);
	r.tgid = pid_tgid >> 32;
	r.io.tid = tid;
	if (bpf_map_update_elem(&ureqs, &key, &r, BPF_ANY)) {
		count(HCI_CNT_VIO_FULL);
		return 0;
	}
	bpf_map_update_elem(&uring_cur, &tid, &key, BPF_ANY);
	return 0;
}

/*
 * The request's file is assigned when it is issued, in the issuing thread:
 * the submitter inline, or an io-wq worker for a punted request. From here
 * on, this thread's bios are that request's.
 */
SEC("raw_tp/io_uring_file_get")
int BPF_PROG(io_uring_file_get_raw)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 key = ctx[0];

	if (bpf_map_lookup_elem(&ureqs, &key))
		bpf_map_update_elem(&uring_cur, &tid, &key, BPF_ANY);
	return 0;
}

/* handed to an io-wq worker: linked again at io_uring_file_get, if it fires */
SEC("raw_tp/io_uring_queue_async_work")
int BPF_PROG(io_uring_queue_async_work_raw)
{
	__u64 key = ctx[0];
	struct aio_req *r = bpf_map_lookup_elem(&ureqs, &key);

	if (r)
		r->io.punted = 1;
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_io_uring_enter")
int sys_exit_io_uring_enter(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&uring_cur, &tid);
	return 0;
}

SEC("raw_tp/io_uring_complete")
int BPF_PROG(io_uring_complete_raw)
{
	__u64 key = ctx[1];
	struct aio_req *r = bpf_map_lookup_elem(&ureqs, &key);
	long res;

	if (!r)
		return 0;
	if (targ_uring_cqe_ptr)
		res = BPF_CORE_READ((struct io_uring_cqe *)ctx[2], res);
	else
		res = (int)ctx[3];
	vio_finish(&r->io, r->tgid, 0, res, bpf_ktime_get_ns());
	bpf_map_delete_elem(&ureqs, &key);
	return 0;
}

/*
 * ---- KVM events ----
 * They fire in the VMM's own threads (vCPU threads for exits, notifies and
 * injections; the thread writing an irqfd for MSI/GSI injection), so the
 * current tgid is the VM. Handlers take scalars, so that the raw_tp programs
 * can be driven with BPF_PROG_TEST_RUN and synthetic arguments.
 */

static __always_inline __u32 kvm_vm(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (!targ_vmm)
		return 0;
	if (targ_vm_tgid)
		return tgid == targ_vm_tgid ? tgid : 0;
	return vmm_tgid_of_current(false);
}

static __always_inline void kvm_count(__u32 tgid, int which)
{
	struct hci_kvm_val *c = bpf_map_lookup_elem(&kvm_counts, &tgid);
	struct hci_kvm_val zero = {};

	if (!c) {
		bpf_map_update_elem(&kvm_counts, &tgid, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&kvm_counts, &tgid);
		if (!c)
			return;
	}
	if (which >= 0 && which < HCI_NKVM)
		c->c[which]++;
}

static __always_inline int kvm_on_notify(__u32 which)
{
	__u32 tgid = kvm_vm();
	struct kvm_state fresh = {}, *st;

	if (!tgid)
		return 0;
	kvm_count(tgid, which);
	st = bpf_map_lookup_elem(&kvm_states, &tgid);
	if (!st) {
		fresh.t_notify = bpf_ktime_get_ns();
		bpf_map_update_elem(&kvm_states, &tgid, &fresh, BPF_NOEXIST);
		return 0;
	}
	if (!st->t_notify)
		st->t_notify = bpf_ktime_get_ns();
	return 0;
}

static __always_inline int kvm_on_irq(__u32 which)
{
	__u32 tgid = kvm_vm();
	struct hci_vmm_val *v;
	struct kvm_state *st;
	__u64 now, t;

	if (!tgid)
		return 0;
	kvm_count(tgid, which);
	st = bpf_map_lookup_elem(&kvm_states, &tgid);
	if (!st || !st->t_vdone)
		return 0;
	now = bpf_ktime_get_ns();
	t = st->t_vdone;
	st->t_vdone = 0;
	v = vhist_get(tgid, st->vdone_dev, st->vdone_op);
	if (v)
		stage_add(v, HCI_V2I, t, now);
	return 0;
}

/*
 * The hardware exit reason lives in the vendor's vCPU structure, which
 * embeds struct kvm_vcpu first. Known: VMX and SVM; others count as unknown.
 */
struct vcpu_vmx___hci {
	union {
		__u32 full;
		struct {
			__u16 basic;
		};
	} exit_reason;
} __attribute__((preserve_access_index));

struct vmcb_control_area___hci {
	__u64 exit_code;
} __attribute__((preserve_access_index));

struct vmcb___hci {
	struct vmcb_control_area___hci control;
} __attribute__((preserve_access_index));

struct vcpu_svm___hci {
	struct vmcb___hci *vmcb;
} __attribute__((preserve_access_index));

static __always_inline __u32 kvm_exit_reason(void *vcpu)
{
	if (!vcpu)
		return HCI_EXIT_UNKNOWN;
	if (bpf_core_type_exists(struct vcpu_vmx___hci))
		return BPF_CORE_READ((struct vcpu_vmx___hci *)vcpu, exit_reason.basic);
	if (bpf_core_type_exists(struct vcpu_svm___hci))
		return (__u32)BPF_CORE_READ((struct vcpu_svm___hci *)vcpu, vmcb, control.exit_code);
	return HCI_EXIT_UNKNOWN;
}

static __always_inline int kvm_exit_count(struct hci_exit_key *k)
{
	__u64 one = 1, *c;

	c = bpf_map_lookup_elem(&kvm_exits, k);
	if (c)
		(*c)++;
	else if (bpf_map_update_elem(&kvm_exits, k, &one, BPF_NOEXIST))
		count(HCI_CNT_VHIST_FULL);
	return 0;
}

static __always_inline int kvm_on_exit(void *vcpu)
{
	struct hci_exit_key k = {};

	k.vmm_tgid = kvm_vm();
	if (!k.vmm_tgid)
		return 0;
	k.reason = kvm_exit_reason(vcpu);
	return kvm_exit_count(&k);
}

/* raw_tp only: kvm events are not on the block hot path, and raw_tp
 * programs can be test-run; args are read from the u64 context */
SEC("raw_tp/kvm_fast_mmio")
int BPF_PROG(kvm_fast_mmio_raw) { return kvm_on_notify(HCI_KVM_NOTIFY); }

/* kvm_mmio(type, len, gpa, val): only writes can be notifies */
SEC("raw_tp/kvm_mmio")
int BPF_PROG(kvm_mmio_raw)
{
	return (int)ctx[0] == 1 /* KVM_TRACE_MMIO_WRITE */ ? kvm_on_notify(HCI_KVM_MMIO) : 0;
}

/* kvm_pio(rw, port, size, count, data): rw 1 is an out (a legacy notify) */
SEC("raw_tp/kvm_pio")
int BPF_PROG(kvm_pio_raw)
{
	return (int)ctx[0] == 1 ? kvm_on_notify(HCI_KVM_PIO) : 0;
}

SEC("raw_tp/kvm_msi_set_irq")
int BPF_PROG(kvm_msi_set_irq_raw) { return kvm_on_irq(HCI_KVM_MSI); }

/* kvm_set_irq(gsi, level, source): only raising the line injects */
SEC("raw_tp/kvm_set_irq")
int BPF_PROG(kvm_set_irq_raw)
{
	return (int)ctx[1] ? kvm_on_irq(HCI_KVM_IRQ) : 0;
}

SEC("raw_tp/kvm_inj_virq")
int BPF_PROG(kvm_inj_virq_raw)
{
	__u32 tgid = kvm_vm();

	if (tgid)
		kvm_count(tgid, HCI_KVM_INJ);
	return 0;
}

SEC("raw_tp/kvm_exit")
int BPF_PROG(kvm_exit_raw)
{
	struct hci_exit_key k = {};

	if (!targ_kvm_exit_reason_arg)
		return kvm_on_exit((void *)ctx[0]);
	k.vmm_tgid = kvm_vm();
	if (!k.vmm_tgid)
		return 0;
	k.reason = (__u32)ctx[0];
	return kvm_exit_count(&k);
}

/*
 * ---- Application reads and writes (hcitrace guest --app) ----
 * The first layer of the three-layer volume analysis: what programs asked
 * for, before the page cache and the block layer. Entry keeps the file and
 * offset per thread; the return says how many bytes moved. Only regular
 * files and block devices count: pipes, sockets, ttys and the trace channel
 * itself are not storage I/O.
 */
struct app_io {
	__u64 ino;
	__u64 off;
	__u32 dev;
	__u32 op;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct app_io);
} app_inflight SEC(".maps");

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
int app_enter_##sc(struct trace_event_raw_sys_enter *ctx)			\
{										\
	return app_enter(ctx->args[0], off_arg, positional, op);		\
}										\
SEC("tracepoint/syscalls/sys_exit_" #sc)					\
int app_exit_##sc(struct trace_event_raw_sys_exit *ctx)				\
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

/*
 * ---- cgroup changes (hcithrottle) ----
 * mkdir, rmdir and task attach keep the daemon's origin map current without
 * rescanning cgroupfs: a removed cgroup is forgotten at once, a new one is
 * named before its first I/O. All three pass the cgroup first.
 */
static __always_inline int cg_event(struct cgroup *cgrp, __u32 kind)
{
	struct hci_cgevent *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(HCI_CNT_RB_LOST);
		return 0;
	}
	e->type = HCI_EV_CGROUP;
	e->kind = kind;
	e->cgid = BPF_CORE_READ(cgrp, kn, id);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("raw_tp/cgroup_mkdir")
int cg_mkdir(__u64 *ctx)
{
	return cg_event((struct cgroup *)ctx[0], HCI_CG_MKDIR);
}

SEC("raw_tp/cgroup_rmdir")
int cg_rmdir(__u64 *ctx)
{
	return cg_event((struct cgroup *)ctx[0], HCI_CG_RMDIR);
}

SEC("raw_tp/cgroup_attach_task")
int cg_attach_task(__u64 *ctx)
{
	return cg_event((struct cgroup *)ctx[0], HCI_CG_ATTACH);
}
