// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The clock-offset estimate of the join (see join.c for why the bounds hold):
 * what SYNC frames and matched pairs teach about off = host - guest, and the
 * estimate with its uncertainty, KVM's TSC offset preferred when causality
 * allows it.
 */
#include "join_clock.h"

#define NOBOUND_WINDOW 1000000000LL	/* before any pair: this far below the SYNC bound */

struct hci_jbounds hci_jclock_bounds(const struct hci_jclock *c)
{
	struct hci_jbounds b = { INT64_MIN, INT64_MAX };

	if (c->have_lo)
		b.lo = c->lo;
	if (c->have_hi) {
		b.hi = c->hi;
		if (!c->have_lo)
			b.lo = c->hi - NOBOUND_WINDOW;
	}
	return b;
}

int64_t hci_jbounds_middle(const struct hci_jbounds *b)
{
	if (b->lo == INT64_MIN)
		return b->hi;
	if (b->hi == INT64_MAX)
		return b->lo;
	return b->lo + (b->hi - b->lo) / 2;
}

bool hci_jclock_sync(struct hci_jclock *c, int64_t hi)
{
	if (c->have_lo && hi < c->lo)
		return false;
	if (!c->have_hi || hi < c->hi)
		c->hi = hi;
	c->have_hi = true;
	c->syncs++;
	return true;
}

bool hci_jclock_pair(struct hci_jclock *c, int64_t lo, int64_t hi)
{
	if (c->have_lo && c->lo > lo)
		lo = c->lo;
	if (c->have_hi && c->hi < hi)
		hi = c->hi;
	if (lo > hi)
		return false;
	c->lo = lo;
	c->hi = hi;
	c->have_lo = c->have_hi = true;
	c->pairs++;
	return true;
}

bool hci_jclock_estimate(const struct hci_jclock *c, int64_t *off, int64_t *unc)
{
	*off = 0;
	*unc = INT64_MAX;
	if (c->have_lo && c->have_hi) {
		*off = c->lo + (c->hi - c->lo) / 2;
		*unc = (c->hi - c->lo + 1) / 2;
	} else if (c->have_hi) {
		*off = c->hi;
	} else if (c->have_lo) {
		*off = c->lo;
	}
	/*
	 * KVM's TSC offset, when it agrees with causality, is the estimate. Its
	 * stated uncertainty stays causal: the distance to the farther bound,
	 * so [off - unc, off + unc] still holds every offset causality allows.
	 */
	if (c->tsc && (!c->have_lo || c->tsc_off >= c->lo) &&
	    (!c->have_hi || c->tsc_off <= c->hi)) {
		*off = c->tsc_off;
		*unc = INT64_MAX;
		if (c->have_lo && c->have_hi)
			*unc = c->tsc_off - c->lo > c->hi - c->tsc_off ? c->tsc_off - c->lo :
									c->hi - c->tsc_off;
	}
	return c->have_lo || c->have_hi || c->tsc;
}

int64_t hci_tsc_clock_offset(uint64_t tsc_g, uint64_t mono_g, int64_t tsc_offset,
			     uint64_t tsc_h0, uint64_t mono_h0, double ns_per_tick)
{
	int64_t tsc_h = (int64_t)(tsc_g - (uint64_t)tsc_offset);
	double host = (double)mono_h0 + (double)(tsc_h - (int64_t)tsc_h0) * ns_per_tick;

	return (int64_t)host - (int64_t)mono_g;
}
