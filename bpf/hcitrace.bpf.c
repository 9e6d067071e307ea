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
#include "hcitrace.h"
#include "hci_core.bpf.h"
#include "hci_slots.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 targ_dev = 0;		/* whole-disk dev, 0 = all */
const volatile __u64 targ_cgid = 0;		/* owner cgroup, 0 = all */
const volatile bool targ_per_request = false;
/* v5.11 (commit a54895fa057c) dropped the request_queue argument */
const volatile bool targ_single_arg = true;
const volatile __u32 targ_slot_mask = 16383;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct hci_slot);
} bio_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
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
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
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

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/*
 * Tracepoint argument @i as a plain number. tp_btf hands out trusted BTF
 * pointers, and the verifier forbids hashing those; everything here reads
 * through BPF_CORE_READ anyway, so an untyped address is all we need.
 * v5.11 (commit a54895fa057c) dropped the request_queue first argument.
 */
#define ARG_BTF(i) ({ __u64 __v = 0;					\
	bpf_probe_read_kernel(&__v, sizeof(__v), &ctx[i]); (void *)__v; })
#define ARG_RAW(i) ((void *)ctx[i])

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		(*c)++;
}

/*
 * Is the submitting process a VMM? Compares the thread-group leader's comm
 * against the known VMM names with a few word compares (comm is 16 bytes).
 */
static __always_inline __u32 vmm_tgid_of_current(void)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);
	union { char c[16]; __u64 w[2]; } comm = {};
	__u64 w0, w1;
	__u32 tgid;
	__u8 one = 1;

	bpf_probe_read_kernel(&comm, sizeof(comm), &leader->comm);
	w0 = comm.w[0];
	w1 = comm.w[1];
	/* "qemu-sys" "tem-" */
	if (!(w0 == 0x7379732d756d6571ULL && (w1 & 0xffffffff) == 0x2d6d6574) &&
	    /* "firecrac" "ker\0" */
	    !(w0 == 0x6361726365726966ULL && (w1 & 0xffffffff) == 0x72656b) &&
	    /* "cloud-hy" "pervis" */
	    !(w0 == 0x79682d64756f6c63ULL && (w1 & 0xffffffffffff) == 0x736976726570ULL) &&
	    /* "crosvm\0" */
	    !((w0 & 0xffffffffffffffULL) == 0x6d76736f7263ULL))
		return 0;

	tgid = bpf_get_current_pid_tgid() >> 32;
	if (bpf_map_lookup_elem(&vmm_seen, &tgid))
		return tgid;
	if (bpf_map_update_elem(&vmm_seen, &tgid, &one, BPF_NOEXIST) == 0) {
		struct hci_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

		if (!e) {
			/* user space resolves unseen tgids on its next poll */
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

static __always_inline struct hci_hist_val *hist_get(__u64 cgid, __u32 vmm,
						     __u32 dev, __u32 op)
{
	struct hci_hist_key k = {
		.cgid = cgid, .vmm_tgid = vmm, .dev = dev, .op = op,
	};
	struct hci_hist_val *v;
	__u32 zero = 0;
	void *z;

	v = bpf_map_lookup_elem(&hists, &k);
	if (v)
		return v;
	z = bpf_map_lookup_elem(&hist_zero, &zero);
	if (!z)
		return NULL;
	bpf_map_update_elem(&hists, &k, z, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&hists, &k);
	if (!v)
		count(HCI_CNT_HIST_FULL);
	return v;
}

static __always_inline void stage_add(struct hci_hist_val *v, int stage,
				      __u64 from, __u64 to)
{
	__u64 d = to - from;

	/* a clock step backwards would be a huge u64: keep it out */
	if ((__s64)d < 0)
		d = 0;
	v->slots[stage][hci_bucket_of_ns(d)]++;
	v->sum_ns[stage] += d;
}

static __always_inline struct hci_slot *bio_slot(struct bio *bio, bool create)
{
	__u64 stale = 0;
	bool created;
	struct hci_slot *s;

	if (!create)
		return hci_slot_find(&bio_slots, &bio_ovf, (__u64)bio,
				     targ_slot_mask);
	s = hci_slot_get(&bio_slots, &bio_ovf, (__u64)bio, targ_slot_mask,
			 bpf_ktime_get_ns(), &created, &stale);
	if (stale)
		count(HCI_CNT_STALE);
	if (!s)
		count(HCI_CNT_SLOT_FULL);
	return s;
}

/* ---- Q: the bio enters the block layer, in the submitter's context ---- */

static __always_inline int on_bio_queue(struct bio *bio)
{
	struct hci_slot *s;
	__u64 cgid;

	if (targ_dev && hci_disk_dev(hci_bio_disk(bio)) != targ_dev)
		return 0;
	cgid = hci_bio_cgid(bio);
	if (targ_cgid && cgid != targ_cgid)
		return 0;
	s = bio_slot(bio, true);
	if (!s)
		return 0;
	s->tq = bpf_ktime_get_ns();
	s->cgid = cgid;
	s->vmm_tgid = vmm_tgid_of_current();
	s->flags = HCI_HAVE_Q;
	s->bytes = BPF_CORE_READ(bio, bi_iter.bi_size);
	s->sector = BPF_CORE_READ(bio, bi_iter.bi_sector);
	return 0;
}

SEC("tp_btf/block_bio_queue")
int BPF_PROG(block_bio_queue_btf)
{
	struct bio *bio = (targ_single_arg ? ARG_BTF(0) : ARG_BTF(1));

	return on_bio_queue(bio);
}

SEC("raw_tp/block_bio_queue")
int BPF_PROG(block_bio_queue_raw)
{
	struct bio *bio = (targ_single_arg ? ARG_RAW(0) : ARG_RAW(1));

	return on_bio_queue(bio);
}

/* ---- G: a request is allocated for the bio ---- */

static __always_inline int on_getrq(struct bio *bio)
{
	struct hci_slot *s = bio_slot(bio, false);

	if (s) {
		s->tg = bpf_ktime_get_ns();
		s->flags |= HCI_HAVE_G;
	}
	return 0;
}

SEC("tp_btf/block_getrq")
int BPF_PROG(block_getrq_btf)
{
	struct bio *bio = (targ_single_arg ? ARG_BTF(0) : ARG_BTF(1));

	return on_getrq(bio);
}

SEC("raw_tp/block_getrq")
int BPF_PROG(block_getrq_raw)
{
	struct bio *bio = (targ_single_arg ? ARG_RAW(0) : ARG_RAW(1));

	return on_getrq(bio);
}

/*
 * The first time we see a request (insert or issue), move what we know about
 * its first bio into the request's slot and free the bio's.
 */
static __always_inline struct hci_slot *rq_slot_first(struct request *rq)
{
	struct bio *bio = BPF_CORE_READ(rq, bio);
	struct hci_slot *s, *b;
	__u64 stale = 0;
	bool created;

	s = hci_slot_find(&rq_slots, &rq_ovf, (__u64)rq, targ_slot_mask);
	if (s)
		return s;
	if (targ_dev && hci_disk_dev(hci_rq_disk(rq)) != targ_dev)
		return NULL;
	b = bio ? bio_slot(bio, false) : NULL;
	if (!b && targ_cgid && hci_bio_cgid(bio) != targ_cgid)
		return NULL;
	s = hci_slot_get(&rq_slots, &rq_ovf, (__u64)rq, targ_slot_mask,
			 bpf_ktime_get_ns(), &created, &stale);
	if (stale)
		count(HCI_CNT_STALE);
	if (!s) {
		count(HCI_CNT_SLOT_FULL);
		return NULL;
	}
	if (!created)
		return s;
	if (b) {
		s->tq = b->tq;
		s->tg = b->tg;
		s->cgid = b->cgid;
		s->vmm_tgid = b->vmm_tgid;
		s->flags = b->flags & (HCI_HAVE_Q | HCI_HAVE_G);
		hci_slot_put(&bio_ovf, b);
	} else {
		/* flush sequences, passthrough, or I/O queued before we attached */
		s->cgid = hci_bio_cgid(bio);
		count(HCI_CNT_Q_MISSING);
	}
	return s;
}

static __always_inline int on_rq_insert(struct request *rq)
{
	struct hci_slot *s = rq_slot_first(rq);

	if (s) {
		s->ti = bpf_ktime_get_ns();
		s->flags |= HCI_HAVE_I;
	}
	return 0;
}

SEC("tp_btf/block_rq_insert")
int BPF_PROG(block_rq_insert_btf)
{
	struct request *rq = (targ_single_arg ? ARG_BTF(0) : ARG_BTF(1));

	return on_rq_insert(rq);
}

SEC("raw_tp/block_rq_insert")
int BPF_PROG(block_rq_insert_raw)
{
	struct request *rq = (targ_single_arg ? ARG_RAW(0) : ARG_RAW(1));

	return on_rq_insert(rq);
}

static __always_inline int on_rq_issue(struct request *rq)
{
	struct hci_slot *s = rq_slot_first(rq);

	if (s) {
		s->td = bpf_ktime_get_ns();
		s->flags |= HCI_HAVE_D;
	}
	return 0;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(block_rq_issue_btf)
{
	struct request *rq = (targ_single_arg ? ARG_BTF(0) : ARG_BTF(1));

	return on_rq_issue(rq);
}

SEC("raw_tp/block_rq_issue")
int BPF_PROG(block_rq_issue_raw)
{
	struct request *rq = (targ_single_arg ? ARG_RAW(0) : ARG_RAW(1));

	return on_rq_issue(rq);
}

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

static __always_inline int on_rq_complete(struct request *rq, __u32 nr_bytes)
{
	struct hci_slot *s;
	struct hci_hist_val *v;
	__u64 now;
	__u32 dev, op, f;

	s = hci_slot_find(&rq_slots, &rq_ovf, (__u64)rq, targ_slot_mask);
	if (!s) {
		if (!targ_dev || hci_disk_dev(hci_rq_disk(rq)) == targ_dev)
			count(HCI_CNT_RQ_UNSEEN);
		return 0;
	}
	if (nr_bytes < BPF_CORE_READ(rq, __data_len)) {
		/* more of this request is still to come */
		count(HCI_CNT_PARTIAL);
		return 0;
	}
	now = bpf_ktime_get_ns();
	dev = hci_disk_dev(hci_rq_disk(rq));
	op = hci_op_of(BPF_CORE_READ(rq, cmd_flags));
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
		emit_request(s, dev, op, nr_bytes, BPF_CORE_READ(rq, __sector),
			     now, 0);
	hci_slot_put(&rq_ovf, s);
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(block_rq_complete_btf)
{
	return on_rq_complete(ARG_BTF(0), (__u32)ctx[2]);
}

SEC("raw_tp/block_rq_complete")
int BPF_PROG(block_rq_complete_raw, struct request *rq, int error,
	     unsigned int nr_bytes)
{
	return on_rq_complete(rq, nr_bytes);
}

/*
 * ---- C on bio-based disks ----
 * blk-mq clears BIO_TRACE_COMPLETION before ending a request's bios, so this
 * fires only for bios that never became requests (zram, dm, md).
 */
static __always_inline int on_bio_complete(struct bio *bio)
{
	struct hci_slot *s = bio_slot(bio, false);
	struct hci_hist_val *v;
	__u32 dev, op, bytes;
	__u64 now;

	if (!s)
		return 0;
	now = bpf_ktime_get_ns();
	dev = hci_disk_dev(hci_bio_disk(bio));
	op = hci_op_of(BPF_CORE_READ(bio, bi_opf));
	bytes = s->bytes;
	v = hist_get(s->cgid, s->vmm_tgid, dev, op);
	if (v) {
		v->ios++;
		v->bytes += bytes;
		stage_add(v, HCI_Q2C, s->tq, now);
	}
	if (targ_per_request)
		emit_request(s, dev, op, bytes, s->sector, now, HCI_BIO_BASED);
	hci_slot_put(&bio_ovf, s);
	return 0;
}

SEC("tp_btf/block_bio_complete")
int BPF_PROG(block_bio_complete_btf)
{
	return on_bio_complete(ARG_BTF(1));
}

SEC("raw_tp/block_bio_complete")
int BPF_PROG(block_bio_complete_raw, struct request_queue *q, struct bio *bio)
{
	return on_bio_complete(bio);
}

/* ---- merges, splits, requeues: counted per origin ---- */

static __always_inline int on_bio_merge(struct bio *bio)
{
	struct hci_slot *s = bio_slot(bio, false);
	struct hci_hist_val *v;

	if (!s)
		return 0;
	v = hist_get(s->cgid, s->vmm_tgid, hci_disk_dev(hci_bio_disk(bio)),
		     hci_op_of(BPF_CORE_READ(bio, bi_opf)));
	if (v)
		v->merges++;
	/* the bio now rides on an existing request: it has no C of its own */
	hci_slot_put(&bio_ovf, s);
	return 0;
}

SEC("tp_btf/block_bio_backmerge")
int BPF_PROG(block_bio_backmerge_btf)
{
	struct bio *bio = (targ_single_arg ? ARG_BTF(0) : ARG_BTF(2));

	return on_bio_merge(bio);
}

SEC("raw_tp/block_bio_backmerge")
int BPF_PROG(block_bio_backmerge_raw)
{
	struct bio *bio = (targ_single_arg ? ARG_RAW(0) : ARG_RAW(2));

	return on_bio_merge(bio);
}

SEC("tp_btf/block_bio_frontmerge")
int BPF_PROG(block_bio_frontmerge_btf)
{
	struct bio *bio = (targ_single_arg ? ARG_BTF(0) : ARG_BTF(2));

	return on_bio_merge(bio);
}

SEC("raw_tp/block_bio_frontmerge")
int BPF_PROG(block_bio_frontmerge_raw)
{
	struct bio *bio = (targ_single_arg ? ARG_RAW(0) : ARG_RAW(2));

	return on_bio_merge(bio);
}

/*
 * A split bio is the front part, chained to the original (bi_private is the
 * parent, see bio_chain()). It inherits the parent's Q and origin.
 */
static __always_inline int on_split(struct bio *split)
{
	struct bio *parent = BPF_CORE_READ(split, bi_private);
	struct hci_slot *p, *s;
	struct hci_hist_val *v;

	p = parent ? bio_slot(parent, false) : NULL;
	if (!p)
		return 0;
	v = hist_get(p->cgid, p->vmm_tgid, hci_disk_dev(hci_bio_disk(split)),
		     hci_op_of(BPF_CORE_READ(split, bi_opf)));
	if (v)
		v->splits++;
	s = bio_slot(split, true);
	if (s) {
		s->tq = p->tq;
		s->cgid = p->cgid;
		s->vmm_tgid = p->vmm_tgid;
		s->flags = HCI_HAVE_Q;
		s->bytes = BPF_CORE_READ(split, bi_iter.bi_size);
		s->sector = BPF_CORE_READ(split, bi_iter.bi_sector);
	}
	return 0;
}

SEC("tp_btf/block_split")
int BPF_PROG(block_split_btf)
{
	struct bio *bio = (targ_single_arg ? ARG_BTF(0) : ARG_BTF(1));

	return on_split(bio);
}

SEC("raw_tp/block_split")
int BPF_PROG(block_split_raw)
{
	struct bio *bio = (targ_single_arg ? ARG_RAW(0) : ARG_RAW(1));

	return on_split(bio);
}

static __always_inline int on_rq_requeue(struct request *rq)
{
	struct hci_slot *s;
	struct hci_hist_val *v;

	s = hci_slot_find(&rq_slots, &rq_ovf, (__u64)rq, targ_slot_mask);
	if (!s)
		return 0;
	v = hist_get(s->cgid, s->vmm_tgid, hci_disk_dev(hci_rq_disk(rq)),
		     hci_op_of(BPF_CORE_READ(rq, cmd_flags)));
	if (v)
		v->requeues++;
	/* it will be dispatched again: D is re-stamped then */
	s->flags &= ~HCI_HAVE_D;
	return 0;
}

SEC("tp_btf/block_rq_requeue")
int BPF_PROG(block_rq_requeue_btf)
{
	struct request *rq = (targ_single_arg ? ARG_BTF(0) : ARG_BTF(1));

	return on_rq_requeue(rq);
}

SEC("raw_tp/block_rq_requeue")
int BPF_PROG(block_rq_requeue_raw)
{
	struct request *rq = (targ_single_arg ? ARG_RAW(0) : ARG_RAW(1));

	return on_rq_requeue(rq);
}

/* A request merged into another is freed without a completion of its own. */
static __always_inline int on_rq_merge(struct request *rq)
{
	struct hci_slot *s;
	struct hci_hist_val *v;

	s = hci_slot_find(&rq_slots, &rq_ovf, (__u64)rq, targ_slot_mask);
	if (!s)
		return 0;
	v = hist_get(s->cgid, s->vmm_tgid, hci_disk_dev(hci_rq_disk(rq)),
		     hci_op_of(BPF_CORE_READ(rq, cmd_flags)));
	if (v)
		v->rq_merges++;
	hci_slot_put(&rq_ovf, s);
	return 0;
}

SEC("tp_btf/block_rq_merge")
int BPF_PROG(block_rq_merge_btf)
{
	struct request *rq = (targ_single_arg ? ARG_BTF(0) : ARG_BTF(1));

	return on_rq_merge(rq);
}

SEC("raw_tp/block_rq_merge")
int BPF_PROG(block_rq_merge_raw)
{
	struct request *rq = (targ_single_arg ? ARG_RAW(0) : ARG_RAW(1));

	return on_rq_merge(rq);
}
