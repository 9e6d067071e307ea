/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The VMM side of the join: the ring of VMM requests waiting for their guest
 * requests, and the two indexes that find the candidates of a guest request
 * in it (join_index.c says why two). Internal to join*.c.
 */
#ifndef HCI_JOIN_INDEX_H
#define HCI_JOIN_INDEX_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "join.h"
#include "join_clock.h"

struct hci_jventry {
	struct hci_jvmm_in v;
	uint64_t blk;		/* its first 64 KiB block */
	uint64_t seq;		/* insertion number: the order of a block's chain */
	uint32_t nguest;	/* guest requests it served */
	uint32_t tb;		/* its bucket in the time index */
	int32_t hnext, hprev;	/* chain of (op, block) */
	int32_t tnext, tprev;	/* chain of (op, MiB, ms of completion); -2: not in it */
};

/* A candidate found through the time index, before it is put in block order. */
struct hci_jcand {
	uint64_t blk, seq;
	int32_t idx;
};

struct hci_jindex {
	size_t cap;
	struct hci_jventry *v;
	size_t vhead, vn;
	int32_t *heads, *theads;
	uint64_t hmask;
	uint64_t max_span;	/* longest VMM request seen, in blocks */
	uint64_t seq;
	uint64_t untimed;	/* live entries the time index cannot hold */
	struct hci_jcand *scratch;
	size_t cap_scratch;
};

bool hci_jindex_init(struct hci_jindex *x, size_t cap);
void hci_jindex_free(struct hci_jindex *x);
size_t hci_jindex_mem_bytes(const struct hci_jindex *x);
/* Adds v; when the ring is full the oldest goes first: *dropped says if it served none. */
void hci_jindex_add(struct hci_jindex *x, const struct hci_jvmm_in *v, bool *dropped);
/* Removes the oldest; returns how many guest requests it served. */
uint32_t hci_jindex_evict_oldest(struct hci_jindex *x);
static inline const struct hci_jventry *hci_jindex_oldest(const struct hci_jindex *x)
{
	return x->vn ? &x->v[x->vhead] : NULL;
}

/* The guest request side of a lookup: its range, op, and D and C stamps. */
struct hci_jquery {
	uint32_t op;
	uint64_t off, len;	/* len 0: a flush */
	int64_t gd, gc;
};

/* Narrow b by what matching q to VMM request v would imply; false if empty. */
static inline bool hci_jfeasible(const struct hci_jquery *q, const struct hci_jvmm_in *v,
				 struct hci_jbounds *b)
{
	int64_t hi = (int64_t)v->vs - q->gd, lo = (int64_t)v->vc - q->gc;

	if (hi < b->hi)
		b->hi = hi;
	if (lo > b->lo)
		b->lo = lo;
	return b->lo <= b->hi;
}

/*
 * The VMM requests of op overlapping q's range (any, for a flush) that are
 * feasible against base: at most max, in the order of the blocks they start
 * in, newest first within a block. Returns how many went to out.
 */
size_t hci_jindex_candidates(struct hci_jindex *x, const struct hci_jquery *q,
			     struct hci_jbounds base, int32_t *out, size_t max);
#endif
