/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * hcithrottle's controller: AIMD caps on VM I/O, per device, from one
 * interval's measurements. Pure: no I/O, no clock; the daemon feeds it and
 * writes what it decides. Unit-tested on synthetic series.
 *
 * Each interval, for one device:
 * - A container is *missing* its target when it is active (iops > 0) and its
 *   p99 exceeds its target (absolute, or p99_rel x its solo baseline) or its
 *   IOPS are below min_iops. The solo baseline is learned as an exponential
 *   average of its p99 over intervals with no active VM on the device.
 * - While any container misses and any VM is active: every active VM is
 *   capped (or its cap lowered) multiplicatively: new cap = decrease x
 *   min(current cap, measured load), where load is IOPS and bandwidth
 *   separately, so VMs are throttled in proportion to their load. A cap is
 *   never below the VM's floor. The healthy streak resets.
 * - When every container meets its target (or none is active) for
 *   healthy_intervals consecutive intervals: each cap rises additively by
 *   increase x the VM's uncapped peak (the highest load seen while it was not
 *   capped; at least the load it had when first capped); a cap that
 *   reaches the peak is removed. Between the two, caps hold.
 * Every change carries a reason for the decision log.
 */
#ifndef HCI_POLICY_H
#define HCI_POLICY_H
#include <stdbool.h>
#include <stddef.h>

#define HCI_POL_MAX 64
#define HCI_POL_NOCAP 0.0	/* a cap of 0 means "no limit" */

struct hci_pol_container {
	double p99_us, iops;		/* this interval */
	double target_p99_us;		/* absolute, 0 = none */
	double target_rel;		/* x solo baseline, 0 = none */
	double min_iops;		/* 0 = none */
	double solo_p99_us;		/* learned; in/out, 0 = not yet */
};

struct hci_pol_vm {
	double iops, bps;		/* this interval */
	double floor_iops, floor_bps;	/* 0 = none */
	double cap_iops, cap_bps;	/* in force; in/out; 0 = none */
	double peak_iops, peak_bps;	/* uncapped peak; in/out */
};

enum hci_pol_action {
	HCI_POL_HOLD,		/* nothing changes */
	HCI_POL_CAP,		/* caps set or lowered */
	HCI_POL_LIFT,		/* caps raised or removed */
};

struct hci_pol_params {
	double decrease;	/* (0, 1) */
	double increase;	/* (0, 1] */
	unsigned int healthy_intervals;
	double baseline_alpha;	/* EWMA weight for the solo baseline, e.g. 0.2 */
};

struct hci_pol_state {
	unsigned int healthy;	/* consecutive healthy intervals */
};

struct hci_pol_decision {
	enum hci_pol_action action;
	int worst;		/* index of the container that triggered a CAP, -1 */
	char reason[256];	/* one line, for the log */
};

/* One interval for one device. Updates vms[].cap_*, peaks and baselines. */
void hci_policy_step(const struct hci_pol_params *p, struct hci_pol_state *st,
		     struct hci_pol_container *c, size_t nc, struct hci_pol_vm *v, size_t nv,
		     struct hci_pol_decision *d);
#endif
