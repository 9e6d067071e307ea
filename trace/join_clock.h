/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The guest clock against the host's, inside the join: the causal interval
 * [lo, hi] that off = host - guest must lie in, narrowed by SYNC frames and
 * matched pairs, and the estimate read from it. Internal to join*.c.
 */
#ifndef HCI_JOIN_CLOCK_H
#define HCI_JOIN_CLOCK_H
#include <stdbool.h>
#include <stdint.h>
#include "join.h"

struct hci_jbounds {
	int64_t lo, hi;		/* feasible offsets; INT64_MIN/MAX = open */
};

/* The offsets the clock allows now, the search window if only SYNC bounded it. */
struct hci_jbounds hci_jclock_bounds(const struct hci_jclock *c);
/* The middle of b, or its one closed end. */
int64_t hci_jbounds_middle(const struct hci_jbounds *b);
/* A SYNC frame's upper bound; false (and nothing learnt) if it breaks causality. */
bool hci_jclock_sync(struct hci_jclock *c, int64_t hi);
/* A matched pair's bounds [lo, hi]; false (and nothing learnt) if they break causality. */
bool hci_jclock_pair(struct hci_jclock *c, int64_t lo, int64_t hi);
/* hci_join_clock() on the clock alone. */
bool hci_jclock_estimate(const struct hci_jclock *c, int64_t *off, int64_t *unc);
#endif
