/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The record of one joined guest request and what is summed from it: its
 * stages, the per-op statistics, the guest-vs-host reorder measure.
 * Internal to join*.c.
 */
#ifndef HCI_JOIN_RECORD_H
#define HCI_JOIN_RECORD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "join.h"

/* When the guest request started: the first of Q/G/I/D it has. */
static inline uint64_t hci_jreq_first_ts(const struct hci_w_req *r)
{
	return r->ts_q ? r->ts_q : r->ts_g ? r->ts_g : r->ts_i ? r->ts_i : r->ts_d;
}

/* The host side of one guest request, over the VMM requests that served it. */
struct hci_jserved {
	uint64_t vs, vc;	/* first VMM submit, last VMM completion */
	uint64_t hq, hd, hc;	/* first host Q, last host D and C */
	uint64_t nbios;		/* 0: the host page cache absorbed it */
};

#define HCI_JSERVED_INIT { .vs = UINT64_MAX, .hq = UINT64_MAX }

void hci_jserved_add(struct hci_jserved *s, const struct hci_jvmm_in *v);
/* The stages of r served as s, in the host clock at offset off (+/- unc). */
void hci_jreq_fill(struct hci_jreq *q, const struct hci_w_req *r, uint32_t nvmm,
		   const struct hci_jserved *s, int64_t off, int64_t unc);
/* q into st, and into also (the 4 KiB statistics) unless NULL */
void hci_jstats_add(struct hci_jstats *st, struct hci_jstats *also, const struct hci_jreq *q);

/* Issue times of one request on both sides, for the reorder measure. */
struct hci_jorder {
	uint64_t gd, hd;
};

/* Inversions of host D order against guest D order (o is reordered); false: no memory. */
bool hci_jorder_inversions(struct hci_jorder *o, size_t n, uint64_t *inv);
#endif
