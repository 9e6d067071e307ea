// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * block.bpf.c: the host block layer, per request, per origin.
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
 *
 * What it hands on. The histograms (hists) are the report's block layer; with
 * --per-request, one record per request (events). With --vmm, each bio is
 * offered to the VMM layer one level up (hci_vmm_link.bpf.h), which links it
 * to the VMM request that queued it and is told when it completes. Every
 * program exists twice, tp_btf and raw_tp (HCI_TP below); user space loads
 * one of the two before load (lib/bpf/layers.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hci_abi.h"
#include "hci_core.bpf.h"
#include "hci_slots.bpf.h"
#include "hci_common.bpf.h"
#include "hci_vmm_link.bpf.h"

/* see addr_scratch in hci_maps.bpf.h: a typed pointer made a number */
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
 *
 * Each use takes its own addr_scratch slot from __COUNTER__, which counts
 * per translation unit: every HCI_TP user lives in this file, so the slots
 * stay distinct. A second file using HCI_TP would need a base of its own.
 */
#define HCI_TP(tp, handler, type, idx_new, idx_old)				\
HCI_TP_SLOT(tp, handler, type, idx_new, idx_old, __COUNTER__)
#define HCI_TP_SLOT(tp, handler, type, idx_new, idx_old, slot)			\
_Static_assert((slot) < HCI_NSCRATCH, "addr_scratch slots");			\
SEC("tp_btf/" #tp)								\
int BPF_PROG(hci_##tp##_btf)								\
{										\
	type *p = targ_single_arg ? (void *)ctx[idx_new] : (void *)ctx[idx_old];\
										\
	return handler(ctx, p, addr_of(p, slot), true, slot);			\
}										\
SEC("raw_tp/" #tp)								\
int BPF_PROG(hci_##tp##_raw)								\
{										\
	type *p = targ_single_arg ? (void *)ctx[idx_new] : (void *)ctx[idx_old];\
										\
	return handler(ctx, p, (__u64)p, false, slot);				\
}

static __always_inline struct hci_hist_val *hist_get(__u64 cgid, __u32 vmm,
						     __u32 dev, __u32 op)
{
	struct hci_hist_key k = {
		.cgid = cgid, .vmm_tgid = vmm, .dev = dev, .op = op,
	};

	return lookup_or_init(&hists, &k, &hist_zero, HCI_CNT_HIST_FULL);
}

/* the histogram key's disk and op, as a bio or a request tells them */
static __always_inline __u32 bio_dev(struct bio *bio, const bool btf)
{
	return hci_disk_dev(hci_bio_disk(bio, btf), btf);
}

static __always_inline __u32 rq_dev(struct request *rq, const bool btf)
{
	return hci_disk_dev(hci_rq_disk(rq, btf), btf);
}

static __always_inline __u32 bio_op(struct bio *bio, const bool btf)
{
	return hci_op_of(HCI_RD(btf, bio, bi_opf));
}

static __always_inline __u32 rq_op(struct request *rq, const bool btf)
{
	return hci_op_of(HCI_RD(btf, rq, cmd_flags));
}

/*
 * Slot @s, if there is one, having counted one more @field (merges, splits,
 * requeues, rq_merges) for its origin on @dev and @op, which are read only
 * for a slot. A macro, for the field's name.
 */
#define slot_counted(s, dev, op, field)						\
	({									\
		struct hci_slot *s_ = (s);					\
		struct hci_hist_val *v_;					\
										\
		if (s_) {							\
			v_ = hist_get(s_->cgid, s_->vmm_tgid, (dev), (op));	\
			if (v_)							\
				v_->field++;					\
		}								\
		s_;								\
	})

static __always_inline struct hci_slot *slot_new(void *arr, void *ovf, __u64 *live,
						 __u64 key, __u64 now, bool *created)
{
	struct hci_slot *s;
	__u64 stale = 0;

	s = hci_slot_get(arr, ovf, live, key, targ_slot_mask, now, created, &stale);
	if (stale)
		count(HCI_CNT_STALE);
	if (!s)
		count(HCI_CNT_SLOT_FULL);
	return s;
}

#define bio_find(key) hci_slot_find(&bio_slots, &bio_ovf, &bio_ovf_live, (key), targ_slot_mask)
#define rq_find(key) hci_slot_find(&rq_slots, &rq_ovf, &rq_ovf_live, (key), targ_slot_mask)
#define bio_new(key, now, created) \
	slot_new(&bio_slots, &bio_ovf, &bio_ovf_live, (key), (now), (created))
#define bio_put(s) hci_slot_put(&bio_ovf, &bio_ovf_live, (s))

/*
 * With the kernel's D stamp no request slot exists unless something besides
 * C saw the request (an insert, a partial completion): rq_live counts them,
 * and while it is 0 C goes straight to the first bio's slot instead of
 * probing the request table first (a cache miss at low queue depths).
 * Raised when a slot is made and lowered when one is gone, so a slot that
 * exists is always counted; one reclaimed as stale for another request was
 * never lowered, which only costs lookups.
 */
static __always_inline struct hci_slot *rq_new(__u64 key, __u64 now, bool *created)
{
	struct hci_slot *s = slot_new(&rq_slots, &rq_ovf, &rq_ovf_live, key, now, created);

	if (targ_kernel_d && s && *created)
		__sync_fetch_and_add(&rq_live, 1);
	return s;
}

static __always_inline void rq_put(struct hci_slot *s)
{
	if (hci_slot_put(&rq_ovf, &rq_ovf_live, s) && targ_kernel_d)
		__sync_fetch_and_add(&rq_live, -1);
}

static __always_inline struct hci_slot *rq_find_at_c(__u64 key)
{
	if (targ_kernel_d && !*(volatile __u64 *)&rq_live)
		return NULL;
	return rq_find(key);
}

/* ---- Q: the bio enters the block layer, in the submitter's context ---- */

static __always_inline int on_bio_queue(__u64 *ctx, struct bio *bio, __u64 key,
					const bool btf, const __u32 slot)
{
	struct hci_slot *s;
	bool created;
	__u64 cgid, now;

	if (targ_dev && bio_dev(bio, btf) != targ_dev)
		return 0;
	cgid = hci_bio_cgid(bio, btf);
	if (targ_cgid && cgid != targ_cgid)
		return 0;
	now = bpf_ktime_get_ns();
	s = bio_new(key, now, &created);
	if (!s)
		return 0;
	/*
	 * With the kernel's D stamp a bio's slot lives until its request's C:
	 * one still here when its address comes back was dispatched, and our
	 * completion program never ran for it (rq_slot_first counts the same).
	 */
	if (!created && targ_kernel_d && s->flags)
		count(HCI_CNT_CPL_UNSEEN);
	s->tq = now;
	s->cgid = cgid;
	s->vmm_tgid = vmm_tgid_of_current(btf);
	s->flags = HCI_HAVE_Q;
	s->bytes = HCI_RD(btf, bio, bi_iter.bi_size);
	s->sector = HCI_RD(btf, bio, bi_iter.bi_sector);
	if (targ_req_who) {
		/* -p's COMM and PID: the submitter, as only Q can see it */
		s->pid = (__u32)bpf_get_current_pid_tgid();
		bpf_get_current_comm(s->comm, sizeof(s->comm));
	}
	if (targ_vmm)
		vmm_link_bio(s, bio, now, btf);
	return 0;
}
HCI_TP(block_bio_queue, on_bio_queue, struct bio, 0, 1)

/*
 * ---- G: a request is allocated for the bio ----
 * Only where the kernel's stamp cannot stand for G (targ_kernel_g off, see
 * rq_take_g): otherwise user space does not load this program at all.
 */

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
 * What a slot made from another bio's takes over: its Q, its origin and the
 * VMM request it belongs to.
 */
static __always_inline void slot_inherit(struct hci_slot *s, const struct hci_slot *from)
{
	s->tq = from->tq;
	s->cgid = from->cgid;
	s->vmm_tgid = from->vmm_tgid;
	s->vreq_id = from->vreq_id;
	s->vtid = from->vtid;
	if (targ_req_who) {
		s->pid = from->pid;
		__builtin_memcpy(s->comm, from->comm, sizeof(s->comm));
	}
}

/*
 * G from the kernel's stamp (lib/bpf/stamps.c says when): rq->start_time_ns,
 * set as blk-mq set the request up. 0 means this request was not stamped:
 * then G is absent. Under a plug the stamp can be the plug's cached time,
 * from before this bio's Q: G cannot precede Q, so it is Q then.
 */
static __always_inline void rq_take_g(struct hci_slot *s, struct request *rq, const bool btf)
{
	__u64 t = HCI_RD(btf, rq, start_time_ns);

	if (!t)
		return;
	s->tg = t < s->tq ? s->tq : t;
	s->flags |= HCI_HAVE_G;
}

/*
 * Is request slot @s, found at insert or issue, this use of the request's
 * (inserted before, or requeued, and now on its way on)? Otherwise it is left
 * from an earlier use whose completion our program never saw. Dispatch tells
 * them apart where we stamp D: a requeue clears it. With the kernel's D stamp
 * nothing is stamped before C, and the first bio tells instead: this use's
 * bio still has its slot only if we have not moved it here yet.
 */
static __always_inline bool rq_slot_current(struct hci_slot *s, struct request *rq,
					    const bool btf, const __u32 slot)
{
	struct bio *bio;

	if (!s->flags)
		return false;
	if (!targ_kernel_d)
		return !(s->flags & HCI_HAVE_D);
	bio = HCI_RD(btf, rq, bio);
	return !bio || !bio_find(btf ? addr_of(bio, slot) : (__u64)bio);
}

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
		if (rq_slot_current(s, rq, btf, slot))
			return s;
		/*
		 * Left from an earlier use: it completed, and our completion
		 * program never ran for it. Count it, and start afresh for
		 * this new use of the request (also for a dead overflow entry,
		 * see hci_slot_put()).
		 */
		if (s->flags)
			count(HCI_CNT_CPL_UNSEEN);
		rq_put(s);
		if (rq_find(key))
			return NULL;	/* a dead entry we cannot delete now */
	}
	if (targ_dev && rq_dev(rq, btf) != targ_dev)
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
		slot_inherit(s, b);
		s->tg = b->tg;
		if (targ_vmm && b->vmm_tgid)
			vmm_stack_down(rq, bio, b->vmm_tgid, btf);
		s->flags = b->flags & (HCI_HAVE_Q | HCI_HAVE_G | HCI_VAIO | HCI_VURING);
		if (targ_kernel_g)
			rq_take_g(s, rq, btf);
		bio_put(b);
	} else {
		/* flush sequences, passthrough, or I/O queued before we attached */
		s->cgid = hci_bio_cgid(bio, btf);
		count(HCI_CNT_Q_MISSING);
	}
	return s;
}

/*
 * D from the kernel's stamp (lib/bpf/stamps.c says when): rq->io_start_time_ns,
 * set as blk-mq handed the request to the driver, on queues that keep
 * blk-stat (wbt does). Read at C, where it is set. 0: this request was not
 * stamped, D is absent. Under a plug the stamp is the plug's cached time and
 * can precede G: D is then G (it cannot come before it).
 */
static __always_inline void rq_take_d(struct hci_slot *s, struct request *rq, const bool btf)
{
	__u64 t = HCI_RD(btf, rq, io_start_time_ns);
	__u64 floor = s->flags & HCI_HAVE_G ? s->tg : s->tq;

	if (!t)
		return;
	s->td = t < floor ? floor : t;
	s->flags |= HCI_HAVE_D;
}

/* I and D: stamp the request's slot, which the first of them creates */
static __always_inline int rq_stamp(struct request *rq, __u64 key, const bool btf,
				    const __u32 slot, const bool dispatched)
{
	__u64 now = bpf_ktime_get_ns();
	struct hci_slot *s = rq_slot_first(rq, key, now, btf, slot);

	if (!s)
		return 0;
	if (dispatched) {
		s->td = now;
		s->flags |= HCI_HAVE_D;
	} else {
		s->ti = now;
		s->flags |= HCI_HAVE_I;
	}
	return 0;
}

static __always_inline int on_rq_insert(__u64 *ctx, struct request *rq, __u64 key,
					const bool btf, const __u32 slot)
{
	return rq_stamp(rq, key, btf, slot, false);
}
HCI_TP(block_rq_insert, on_rq_insert, struct request, 0, 1)

static __always_inline int on_rq_issue(__u64 *ctx, struct request *rq, __u64 key,
				       const bool btf, const __u32 slot)
{
	return rq_stamp(rq, key, btf, slot, true);
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
	e->pid = s->pid;
	e->pad = 0;
	if (targ_req_who)
		__builtin_memcpy(e->comm, s->comm, sizeof(e->comm));
	else
		__builtin_memset(e->comm, 0, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

/*
 * Every stage whose two ends this request passed (hci_stages.h), into its
 * histogram value. The loop unrolls to the same straight line of tests the
 * rules spell out: stage and points are constants in each copy.
 */
static __always_inline void rq_stages_add(struct hci_hist_val *v, struct hci_slot *s, __u64 now)
{
	const __u64 ts[HCI_NPOINTS] = { s->tq, s->tg, s->ti, s->td, now };
	__u32 f = s->flags;

#pragma unroll
	for (int st = 0; st < HCI_NSTAGES; st++)
		if (hci_stage_present(f, st))
			stage_add(v, st, ts[hci_stage_from(st)], ts[hci_stage_to(st)]);
}

/*
 * C: one I/O of @bytes done for slot @s's origin on @dev and @op. Its
 * histogram value is returned for the caller's stages; NULL if hists is full.
 */
static __always_inline struct hci_hist_val *hist_done(const struct hci_slot *s, __u32 dev,
						      __u32 op, __u32 bytes)
{
	struct hci_hist_val *v = hist_get(s->cgid, s->vmm_tgid, dev, op);

	if (v) {
		v->ios++;
		v->bytes += bytes;
	}
	return v;
}

/* ---- C: the request completes (any context: do not look at current) ---- */

/* Where a completing request's state lives: its own slot, its bio's, or here. */
enum rq_state_home { RQ_HOME_RQ, RQ_HOME_BIO, RQ_HOME_STACK };

/*
 * With the kernel's D stamp (targ_kernel_d) no program may have seen this
 * request before C: with no scheduler, blk-mq neither inserts nor (for us)
 * dispatches it. Its first bio's slot then holds its Q and origin, as
 * rq_slot_first() would have moved them. A request with no such bio (a flush
 * sequence, I/O queued before we attached) is counted as rq_slot_first()
 * counts it, from @tmp. NULL: not ours (-d, -c).
 */
static __always_inline struct hci_slot *rq_state_at_c(struct request *rq, struct hci_slot *tmp,
						      enum rq_state_home *home, const bool btf,
						      const __u32 slot)
{
	struct bio *bio = HCI_RD(btf, rq, bio);
	struct hci_slot *b;

	if (targ_dev && rq_dev(rq, btf) != targ_dev)
		return NULL;
	b = bio ? bio_find(btf ? addr_of(bio, slot) : (__u64)bio) : NULL;
	if (b) {
		*home = RQ_HOME_BIO;
		if (targ_kernel_g)
			rq_take_g(b, rq, btf);
		b->flags &= HCI_HAVE_Q | HCI_HAVE_G | HCI_VAIO | HCI_VURING;
		return b;
	}
	if (targ_cgid && hci_bio_cgid(bio, btf) != targ_cgid)
		return NULL;
	__builtin_memset(tmp, 0, sizeof(*tmp));
	tmp->cgid = hci_bio_cgid(bio, btf);
	count(HCI_CNT_Q_MISSING);
	*home = RQ_HOME_STACK;
	return tmp;
}

/*
 * A partial completion of a request whose state is still its first bio's: the
 * next completion may find another bio first in the request, so the state
 * moves to the request's own slot now.
 */
static __always_inline void rq_state_keep(struct hci_slot *b, __u64 key)
{
	struct hci_slot *s;
	bool created;

	s = rq_new(key, b->tq, &created);
	if (s && created) {
		slot_inherit(s, b);
		s->tg = b->tg;
		s->flags = b->flags;
	}
	bio_put(b);
}

/* C of a request whose state @s is complete: into its histogram (and ring) */
static __always_inline void rq_account(struct hci_slot *s, struct request *rq, __u32 nr_bytes,
				       const bool btf)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 dev = rq_dev(rq, btf), op = rq_op(rq, btf);
	struct hci_hist_val *v;

	if (targ_kernel_d)
		rq_take_d(s, rq, btf);
	v = hist_done(s, dev, op, nr_bytes);
	if (v)
		rq_stages_add(v, s, now);
	if (targ_per_request)
		emit_request(s, dev, op, nr_bytes, HCI_RD(btf, rq, __sector), now, 0);
	if (targ_vmm)
		vmm_rq_done(s, rq, now, btf);
}

static __always_inline int on_rq_complete(__u64 *ctx, struct request *rq, __u64 key,
					  const bool btf, const __u32 slot)
{
	enum rq_state_home home = RQ_HOME_RQ;
	__u32 nr_bytes = (__u32)ctx[2];
	struct hci_slot tmp, *s;

	s = rq_find_at_c(key);
	if (!s && targ_kernel_d)
		s = rq_state_at_c(rq, &tmp, &home, btf, slot);
	else if (!s) {
		/* not ours to count: another disk's, or (-c) another cgroup's */
		if (targ_dev && rq_dev(rq, btf) != targ_dev)
			return 0;
		if (targ_cgid && hci_bio_cgid(HCI_RD(btf, rq, bio), btf) != targ_cgid)
			return 0;
		count(HCI_CNT_RQ_UNSEEN);
		return 0;
	}
	if (!s)
		return 0;
	if (nr_bytes < HCI_RD(btf, rq, __data_len)) {
		/* more of this request is still to come */
		count(HCI_CNT_PARTIAL);
		if (home == RQ_HOME_BIO)
			rq_state_keep(s, key);
		return 0;
	}
	rq_account(s, rq, nr_bytes, btf);
	if (home == RQ_HOME_RQ)
		rq_put(s);
	else if (home == RQ_HOME_BIO)
		bio_put(s);
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
	dev = bio_dev(bio, btf);
	op = bio_op(bio, btf);
	v = hist_done(s, dev, op, s->bytes);
	if (v)
		stage_add(v, HCI_Q2C, s->tq, now);
	if (targ_per_request)
		emit_request(s, dev, op, s->bytes, s->sector, now, HCI_BIO_BASED);
	if (targ_vmm)
		vio_complete(s, now);
	bio_put(s);
	return 0;
}
/* (request_queue, bio) on every kernel */
HCI_TP(block_bio_complete, on_bio_complete, struct bio, 1, 1)

/* ---- merges, splits, requeues: counted per origin (slot_counted) ---- */

static __always_inline int on_bio_merge(__u64 *ctx, struct bio *bio, __u64 key,
					const bool btf, const __u32 slot)
{
	struct hci_slot *s = slot_counted(bio_find(key), bio_dev(bio, btf),
					  bio_op(bio, btf), merges);

	/* the bio now rides on an existing request: it has no C of its own */
	if (s)
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
	bool created;

	if (!parent)
		return 0;
	p = bio_find(btf ? addr_of(parent, slot) : (__u64)parent);
	if (!p)
		return 0;
	slot_counted(p, bio_dev(split, btf), bio_op(split, btf), splits);
	s = bio_new(key, bpf_ktime_get_ns(), &created);
	if (s) {
		slot_inherit(s, p);
		s->flags = HCI_HAVE_Q | (p->flags & (HCI_VAIO | HCI_VURING));
		s->bytes = HCI_RD(btf, split, bi_iter.bi_size);
		s->sector = HCI_RD(btf, split, bi_iter.bi_sector);
	}
	return 0;
}
HCI_TP(block_split, on_split, struct bio, 0, 1)

static __always_inline int on_rq_requeue(__u64 *ctx, struct request *rq, __u64 key,
					 const bool btf, const __u32 slot)
{
	struct hci_slot *s = slot_counted(rq_find(key), rq_dev(rq, btf),
					  rq_op(rq, btf), requeues);

	/* it will be dispatched again: D is re-stamped then */
	if (s)
		s->flags &= ~HCI_HAVE_D;
	return 0;
}
HCI_TP(block_rq_requeue, on_rq_requeue, struct request, 0, 1)

/* A request merged into another is freed without a completion of its own. */
static __always_inline int on_rq_merge(__u64 *ctx, struct request *rq, __u64 key,
				       const bool btf, const __u32 slot)
{
	struct hci_slot *s = slot_counted(rq_find(key), rq_dev(rq, btf),
					  rq_op(rq, btf), rq_merges);

	if (s)
		rq_put(s);
	return 0;
}
HCI_TP(block_rq_merge, on_rq_merge, struct request, 0, 1)
