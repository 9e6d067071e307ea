/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The cross-layer join: guest block requests (guest clock, untrusted) matched
 * to the VMM requests they caused (host clock), with the guest clock
 * reconciled to the host's from causality. Pure logic on records: no BPF,
 * no I/O, so the unit tests drive it with synthetic streams.
 */
#ifndef HCI_JOIN_H
#define HCI_JOIN_H
#include <stdbool.h>
#include <stdint.h>
#include "hci_wire.h"
#include "hci_abi.h"

/*
 * Stages of one guest request, guest Q to guest C, in one clock:
 *   GUEST    guest Q -> guest D (guest block layer)
 *   NOTIFY   guest D -> VMM submit (virtqueue notify, VM exit, VMM pickup)
 *   V2Q      VMM submit -> first host bio queued
 *   HQ2D     host Q -> host D (absent on bio-based host disks)
 *   HD2C     host D -> host C: the device (host Q -> C where there is no D)
 *   C2V      host C -> VMM completion
 *   VCACHED  VMM submit -> VMM completion, for requests the host page cache
 *            absorbed (then V2Q..C2V are absent)
 *   IRQ      VMM completion -> guest C (interrupt, guest completion)
 *   TOTAL    guest Q -> guest C: the sum of the present stages above
 *   TAX      TOTAL minus the device time (HD2C, 0 if absorbed): what
 *            virtualization and the host stack added
 */
enum hci_jstage {
	HCI_J_GUEST,
	HCI_J_NOTIFY,
	HCI_J_V2Q,
	HCI_J_HQ2D,
	HCI_J_HD2C,
	HCI_J_C2V,
	HCI_J_VCACHED,
	HCI_J_IRQ,
	HCI_J_TOTAL,
	HCI_J_TAX,
	HCI_NJSTAGES,
};

extern const char *const hci_jstage_names[HCI_NJSTAGES];

/* A VMM request as the host saw it (from struct hci_vevent). */
struct hci_jvmm_in {
	uint64_t vs, vc;	/* VMM submit / completion, host ns */
	uint64_t hq, hd, hc;	/* host block Q, D, C; 0 = absent */
	uint64_t off, len;	/* image offset and bytes (len 0: flush) */
	uint64_t ino;
	uint32_t dev, op, nbios;
};

/* One joined guest request, reported through hci_join_out. */
struct hci_jreq {
	uint32_t gdev;		/* guest disk */
	uint32_t op;
	uint64_t off;		/* guest disk byte offset */
	uint32_t bytes;
	uint32_t nvmm;		/* VMM requests it took (>1: split) */
	uint64_t t_start;	/* guest start (first of Q/G/I/D), host clock */
	int64_t ns[HCI_NJSTAGES];
	uint32_t present;	/* bit per stage */
	int64_t clock_off;	/* offset used: host = guest + clock_off */
	int64_t clock_unc;	/* its uncertainty (half-width), ns */
};

typedef void (*hci_join_out)(void *ctx, const struct hci_jreq *r);

/* Per-stage statistics of the joined requests of one op. */
struct hci_jstats {
	uint64_t n;
	uint64_t count[HCI_NJSTAGES];
	int64_t sum_ns[HCI_NJSTAGES];
	__u64 slots[HCI_NJSTAGES][HCI_NBUCKETS];	/* hci_hist.h buckets */
};

/* Bytes and counts per layer since the last hci_join_take_volumes(). */
struct hci_jvol {
	uint64_t app[HCI_NOPS], guest[HCI_NOPS], vmm[HCI_NOPS];
	uint64_t guest_reqs, matched, splits, merges;
	uint64_t inversions, pairs;	/* issue order guest D vs host D */
};

struct hci_jcounters {
	uint64_t guest_reqs;	/* valid REQ records: reads, writes, flushes */
	uint64_t guest_other;	/* valid, but nothing to join (discard, driver-private) */
	uint64_t app_recs;
	uint64_t matched;
	uint64_t unmatched;	/* no VMM request found in time */
	uint64_t vmm_reqs;
	uint64_t vmm_unmatched;	/* VMM requests no guest request claimed */
	uint64_t vmm_unmatched_bytes;	/* their reads' and writes' bytes */
	uint64_t bad_record;	/* records that failed validation */
	uint64_t guest_overflow;	/* guest requests dropped: --max-pending */
	uint64_t vmm_overflow;	/* VMM requests dropped unmatched: --max-pending */
	uint64_t clock_conflicts;	/* matches refused: they broke causality */
	uint64_t guest_dropped;	/* the guest's own count (SYNC.dropped) */
	uint64_t guest_bpf_lost;	/* the guest tracer's lost events (SYNC) */
	uint64_t guest_missing;	/* REQ records the guest made that never came */
	uint64_t inversion_cut;	/* requests left out of the reorder measure */
};

struct hci_jclock {
	bool have_lo, have_hi;
	int64_t lo, hi;		/* host - guest lies in [lo, hi] */
	uint64_t pairs;		/* matched pairs that bounded it */
	uint64_t syncs;		/* SYNC frames that bounded it */
	bool tsc;		/* TSC-derived estimate available */
	int64_t tsc_off;	/* host - guest from KVM's TSC offset */
};

struct hci_join;

struct hci_join *hci_join_new(size_t max_pending, hci_join_out out, void *ctx);
void hci_join_free(struct hci_join *j);
/* The bytes the join holds: its rings, hash heads and reorder buffer. */
size_t hci_join_mem_bytes(const struct hci_join *j);

/* Guest side: records from the wire, validated here; now = host ns at receipt. */
void hci_join_guest(struct hci_join *j, unsigned int type, const void *rec, size_t len,
		    uint64_t now, bool live);
/* Host side: one completed VMM request of this VM. */
void hci_join_vmm(struct hci_join *j, const struct hci_jvmm_in *v);
/* Match what is due; evict what is too old. final: everything is due. */
void hci_join_poll(struct hci_join *j, uint64_t now, bool final);

/* Estimate: off (host = guest + off) and half-width; false if not yet known. */
bool hci_join_clock(const struct hci_join *j, int64_t *off, int64_t *unc);
const struct hci_jclock *hci_join_clock_state(const struct hci_join *j);
/* The guest's clock started over (its tracer restarted): forget the bounds. */
void hci_join_reset_clock(struct hci_join *j);
/* KVM's view: guest TSC = host TSC * ratio + tsc_offset. ns_per_tsc of the host. */
void hci_join_set_tsc(struct hci_join *j, int64_t host_minus_guest_ns);
const struct hci_jcounters *hci_join_counters(const struct hci_join *j);
/* all requests of op, or only its 4 KiB ones */
const struct hci_jstats *hci_join_stats(const struct hci_join *j, uint32_t op, bool only_4k);
/* Returns the volumes since the last call and starts a new interval. */
void hci_join_take_volumes(struct hci_join *j, struct hci_jvol *v);
const struct hci_w_hello *hci_join_hello(const struct hci_join *j);
const char *hci_join_disk_name(const struct hci_join *j, uint32_t gdev, char *buf, size_t len);

/* Inversions in a[0..n) (a is reordered); O(n log n). Exposed for tests. */
uint64_t hci_count_inversions(uint64_t *a, size_t n);

/*
 * Clock offset from two (TSC, ns) pairs: the guest's SYNC (tsc_g, mono_g) and
 * the host's calibration (tsc_h0, mono_h0, ns per TSC tick), with KVM's
 * guest TSC = host TSC + tsc_offset. Returns host mono - guest mono.
 */
int64_t hci_tsc_clock_offset(uint64_t tsc_g, uint64_t mono_g, int64_t tsc_offset,
			     uint64_t tsc_h0, uint64_t mono_h0, double ns_per_tick);
#endif
