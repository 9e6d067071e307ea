/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The stage rules, written once: which stages a request has, between which
 * two of its times, and how one duration goes into a histogram.
 *
 * Both layers record times, and a stage is present only when both its ends
 * were seen: a point the kernel skipped (blk-mq direct issue skips I) leaves
 * its stages out, absent and never zero. BPF applies these rules when it adds
 * a completed request to the histograms (block.bpf.c on_rq_complete,
 * vmm.bpf.c vio_finish); user space applies them to a per-request record
 * (trace/output.c) and to the requests BPF never saw finish. Pure inline
 * functions on scalars, like hci_hist.h, so that the same code runs in BPF
 * and in the host's unit tests (tests/unit/test_stages.c).
 */
#ifndef HCI_STAGES_H
#define HCI_STAGES_H

#include "hci_abi.h"

/* ---- the block layer: five points, Q G I D C (see enum hci_stage) ---- */

enum hci_point {
	HCI_PT_Q,
	HCI_PT_G,
	HCI_PT_I,
	HCI_PT_D,
	HCI_PT_C,
	HCI_NPOINTS,
};

/* the HCI_HAVE_* flag that says a point was seen; C always is (it is the
 * event that ends the request) */
static inline __u32 hci_point_flag(int point)
{
	switch (point) {
	case HCI_PT_Q: return HCI_HAVE_Q;
	case HCI_PT_G: return HCI_HAVE_G;
	case HCI_PT_I: return HCI_HAVE_I;
	case HCI_PT_D: return HCI_HAVE_D;
	default: return 0;
	}
}

/* where a block stage starts ... */
static inline int hci_stage_from(int stage)
{
	switch (stage) {
	case HCI_Q2G: case HCI_Q2C: return HCI_PT_Q;
	case HCI_G2I: case HCI_G2D: return HCI_PT_G;
	case HCI_I2D: return HCI_PT_I;
	default: return HCI_PT_D;	/* HCI_D2C */
	}
}

/* ... and where it ends */
static inline int hci_stage_to(int stage)
{
	switch (stage) {
	case HCI_Q2G: return HCI_PT_G;
	case HCI_G2I: return HCI_PT_I;
	case HCI_I2D: case HCI_G2D: return HCI_PT_D;
	default: return HCI_PT_C;	/* HCI_D2C, HCI_Q2C */
	}
}

/* a request with these HCI_HAVE_* flags has @stage: both its ends were seen */
static inline int hci_stage_present(__u32 flags, int stage)
{
	__u32 need = hci_point_flag(hci_stage_from(stage)) |
		     hci_point_flag(hci_stage_to(stage));

	return (flags & need) == need;
}

/* ---- shared by both layers ---- */

/*
 * The time from @from to @to. Stamps from two CPUs can be a hair out of
 * order: clamp to 0, never wrap. For CLOCK_MONOTONIC stamps (below 2^63) a
 * set sign bit is the same as to < from; masking by it is no branch
 * (hci_hist.h says why that matters).
 */
static inline __u64 hci_span_ns(__u64 from, __u64 to)
{
	__u64 d = to - from;

	return d & ((d >> 63) - 1);
}

/* one duration into a log2-us histogram row (@slots) and its sum */
static inline void hci_span_add(__u64 *slots, __u64 *sum, __u64 from, __u64 to)
{
	__u64 d = hci_span_ns(from, to);

	slots[hci_bucket_of_ns(d)]++;
	*sum += d;
}

/* ---- the VMM layer (see enum hci_vstage) ---- */

/* The times of one VMM request, 0 where not seen, and its linked bios. */
struct hci_vpoints {
	__u64 n;	/* the notify it answers (per VM, BPF only) */
	__u64 v;	/* the VMM submitted it */
	__u64 q;	/* its first bio was queued */
	__u64 d;	/* the last of its requests to complete was dispatched */
	__u64 c;	/* its last bio or request completed */
	__u64 vc;	/* the VMM saw it complete */
	__u32 nbios;
};

/*
 * Does the request have @stage? V2V always; the host part (V2Q, VQ2C, C2V)
 * only when it has bios; VQ2D and VD2C only when the dispatch lies inside
 * the host part. V2I is per VM, from kvm.bpf.c, never one request's.
 */
static inline int hci_vstage_present(const struct hci_vpoints *p, int stage)
{
	int host = p->nbios && p->q, done = host && p->c;

	switch (stage) {
	case HCI_V2V: return 1;
	case HCI_N2V: return p->n != 0;
	case HCI_V2Q: return host;
	case HCI_VQ2C: case HCI_C2V: return done;
	case HCI_VQ2D: case HCI_VD2C: return done && p->d >= p->q && p->d <= p->c;
	default: return 0;		/* HCI_V2I */
	}
}

/* the two times @stage lies between */
static inline void hci_vstage_ends(const struct hci_vpoints *p, int stage,
				   __u64 *from, __u64 *to)
{
	switch (stage) {
	case HCI_V2Q:  *from = p->v; *to = p->q; break;
	case HCI_VQ2C: *from = p->q; *to = p->c; break;
	case HCI_C2V:  *from = p->c; *to = p->vc; break;
	case HCI_N2V:  *from = p->n; *to = p->v; break;
	case HCI_VQ2D: *from = p->q; *to = p->d; break;
	case HCI_VD2C: *from = p->d; *to = p->c; break;
	default:       *from = p->v; *to = p->vc; break;	/* HCI_V2V */
	}
}

#endif /* HCI_STAGES_H */
