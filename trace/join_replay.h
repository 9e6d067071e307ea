/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The join offline: a guest stream (its frames, by the host time each was
 * received) and that VM's VMM requests, held in memory and fed through the
 * host join (join.c) as fast as the CPU goes, the way hcitrace feeds it live
 * (channel.c: the parser's records to hci_join_guest, a poll after each
 * read; events.c: each VMM request to hci_join_vmm). Its counts are the
 * live run's; its CPU time is the join's cost per request, with no BPF,
 * channel or output around it. tools/join-replay.c is the benchmark.
 *
 * A replay can run its stream K times, each copy shifted in time (guest and
 * host clocks by the same amount, frame numbers and the guest's SYNC
 * counters carried on), so a short recording makes a long, continuous
 * stream for the same join.
 */
#ifndef HCI_JOIN_REPLAY_H
#define HCI_JOIN_REPLAY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "join.h"

/* One guest frame as the parser delivered it; its records at recs + off. */
struct hci_jrp_frame {
	uint32_t type, nrec, seq;
	size_t off;
};

enum { HCI_JRP_GUEST, HCI_JRP_VMM, HCI_JRP_RESTART };

/*
 * At host time t: frames [first, first + n) received, VMM request first, or
 * the channel connected again (channel.c starts its parser over).
 */
struct hci_jrp_ev {
	uint64_t t;
	uint32_t kind, n;
	size_t first;
};

struct hci_jreplay {
	struct hci_jrp_ev *ev;
	size_t nev, cap_ev;
	struct hci_jrp_frame *fr;
	size_t nfr, cap_fr;
	uint8_t *recs;
	size_t nrecs, cap_recs;	/* bytes */
	struct hci_jvmm_in *vmm;
	size_t nvmm, cap_vmm;
	bool live;		/* receipt times bound the clock (a socket, not a file) */
	bool frame_open;	/* hci_jrp_add_frame() goes on with the last GUEST event */
	uint64_t reqs, apps;	/* REQ and APP records in the stream */
};

void hci_jrp_init(struct hci_jreplay *rp);
void hci_jrp_free(struct hci_jreplay *rp);
/* Append, in host time order. false: out of memory. */
bool hci_jrp_add_vmm(struct hci_jreplay *rp, uint64_t t, const struct hci_jvmm_in *v);
/* The channel's stream starts over (a reconnect), after the last event. */
bool hci_jrp_add_restart(struct hci_jreplay *rp);
/* A frame received at t; frames of one read share one event. */
bool hci_jrp_add_frame(struct hci_jreplay *rp, uint64_t t, unsigned int type, uint32_t seq,
		       const void *recs, size_t len);
/* The next frame starts a new read. */
static inline void hci_jrp_end_read(struct hci_jreplay *rp)
{
	rp->frame_open = false;
}
/* The bytes of one read of the guest channel at t, through a wire parser. */
struct hci_wire_parser;
bool hci_jrp_add_bytes(struct hci_jreplay *rp, struct hci_wire_parser *p, uint64_t t,
		       const void *buf, size_t n);

/*
 * Compress the stream in time so that its guest requests come at rate per
 * second of host time (the test guest runs under TCG at a few thousand):
 * every time in both clocks is moved towards the stream's start by the same
 * factor, which keeps every causal order and the offset between the clocks
 * constant, while the join's own windows (its 250 ms settle, 3 s horizon,
 * 10 ms polls) stay as they are, so it holds as many requests as a VM that
 * fast. Returns the factor (1: nothing to do).
 */
double hci_jrp_compress(struct hci_jreplay *rp, double rate);

/* What one replay did and cost. */
struct hci_jrp_result {
	struct hci_jcounters cnt;
	struct hci_jclock clock;
	struct hci_jstats st[HCI_NOPS], st4k[HCI_NOPS];	/* hci_join_stats() at the end */
	struct hci_jvol vol;	/* the volumes of every interval, summed */
	unsigned int repeats;
	uint64_t shift_ns;	/* each copy this much later than the one before */
	double cpu_s, wall_s;	/* getrusage / CLOCK_MONOTONIC around the feeding only */
	size_t join_bytes;	/* what the join itself holds */
};

/*
 * Feed rp repeats times through a new join of max_pending (hcitrace's
 * --max-pending), out called for each joined request. Building each copy's
 * bytes is not timed. false: out of memory.
 */
bool hci_jrp_run(const struct hci_jreplay *rp, size_t max_pending, unsigned int repeats,
		 hci_join_out out, void *ctx, struct hci_jrp_result *res);

/*
 * From an "hcitrace --record" file (join_replay_file.c): guest channel chan
 * (the order of --guest-channel) and its VM's VMM requests. false: err says why.
 */
bool hci_jrp_load(struct hci_jreplay *rp, const char *path, unsigned int chan, char *err,
		  size_t errlen);

/* A synthetic VM (join_synth.c): n guest requests at iops over image_mib. */
struct hci_jsynth {
	size_t n;
	double iops;
	uint64_t image_mib;
	uint64_t seed;
};

bool hci_jsynth_build(struct hci_jreplay *rp, const struct hci_jsynth *s);
#endif
