/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the join's unit tests share (test_join.c, test_join_cases.c): the
 * units, the guest clock's truth, the capture of joined requests, and the
 * guest and VMM requests they are built from.
 */
#ifndef HCI_JOIN_TEST_H
#define HCI_JOIN_TEST_H
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include "trace/join.h"

#define US 1000ULL
#define MS 1000000ULL
#define SEC 1000000000ULL
#define OFF 5000000000LL	/* the truth: host = guest + OFF */
#define G0 (10 * SEC)		/* guest mono at the first simulated request */
#define NOTIFY_MIN (15 * US)	/* guest D -> VMM submit, at least */
#define IRQ_MIN (10 * US)	/* VMM completion -> guest C, at least */
#define SYNC_LAT_MIN (5 * US)	/* SYNC written -> received */
#define SETTLE (250 * MS)	/* join.c SETTLE_NS */
#define HORIZON (3 * SEC)	/* join.c HORIZON_NS */
#define GDEV HCI_DEV_MKDEV(252, 0)

static uint64_t rstate = 0x9E3779B97F4A7C15ULL;

/* xorshift64: deterministic, [0, n) */
static inline uint64_t rnd(uint64_t n)
{
	rstate ^= rstate << 13;
	rstate ^= rstate >> 7;
	rstate ^= rstate << 17;
	return n ? rstate % n : 0;
}

/* ---- capture of joined requests ---- */

struct cap {
	struct hci_jreq *q;
	size_t n, max;
};

static inline void collect(void *ctx, const struct hci_jreq *r)
{
	struct cap *c = ctx;

	if (c->n == c->max) {
		c->max = c->max ? c->max * 2 : 64;
		c->q = realloc(c->q, c->max * sizeof(*c->q));
		if (!c->q)
			abort();
	}
	c->q[c->n++] = *r;
}

/* ---- building blocks ---- */

static inline struct hci_w_req greq(uint32_t op, uint64_t off, uint32_t bytes, uint64_t gq,
				    uint64_t gd, uint64_t gc)
{
	struct hci_w_req r = {
		.dev = GDEV, .op = op, .bytes = bytes, .sector = off >> 9,
		.ts_q = gq, .ts_d = gd, .ts_c = gc,
	};

	r.flags = (gq ? HCI_HAVE_Q : 0) | (gd ? HCI_HAVE_D : 0);
	return r;
}

/* A VMM request that went to the disk: host Q/D/C between submit and completion. */
static inline struct hci_jvmm_in vreq(uint32_t op, uint64_t off, uint64_t len, uint64_t vs,
				      uint64_t hq, uint64_t hd, uint64_t hc, uint64_t vc)
{
	struct hci_jvmm_in v = {
		.vs = vs, .vc = vc, .hq = hq, .hd = hd, .hc = hc, .off = off, .len = len,
		.ino = 12, .dev = HCI_DEV_MKDEV(8, 0), .op = op, .nbios = hq ? 1 : 0,
	};

	return v;
}

static inline void send_req(struct hci_join *j, const struct hci_w_req *r, uint64_t now)
{
	hci_join_guest(j, HCI_WT_REQ, r, sizeof(*r), now, true);
}

/* A SYNC written at guest mono, received at host now. */
static inline void send_sync(struct hci_join *j, uint64_t mono, uint64_t now)
{
	struct hci_w_sync s = { .mono_ns = mono };

	hci_join_guest(j, HCI_WT_SYNC, &s, sizeof(s), now, true);
}

static inline bool off_in(const struct hci_join *j, int64_t truth)
{
	int64_t off, unc;

	return hci_join_clock(j, &off, &unc) && truth >= off - unc && truth <= off + unc;
}
static inline int64_t absd(int64_t a, int64_t b)
{
	return a > b ? a - b : b - a;
}
#endif
