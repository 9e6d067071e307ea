/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Inside the enforcer: the saved originals and the state file that holds
 * them (enforce.c), shared with the state file's recovery (enforce_state.c)
 * and the QMP backend (enforce_qmp.c). Not for hcithrottle's other files:
 * enforce.h is their interface.
 */
#ifndef HCI_ENFORCE_SAVED_H
#define HCI_ENFORCE_SAVED_H
#include "enforce.h"

/* the v1 files, in the order riops, wiops, rbps, wbps; v2's keys, same order */
extern const char *const enf_v1_files[4];
extern const char *const enf_v2_keys[4];

struct hci_saved *enf_find_saved(struct hci_enforcer *e, const char *cgdir, __u32 dev,
				 const char *file);
/* room for one more saved original (uninitialised), or NULL */
struct hci_saved *enf_new_saved(struct hci_enforcer *e);
/* The whole state file, rewritten atomically; extra (may be NULL) is kept
 * verbatim after the saved limits (lines that could not be restored). */
int enf_save_state_with(struct hci_enforcer *e, const char *extra, char *err, size_t errlen);
/* The same, with no extra lines: the file is then this run's. */
int enf_save_state(struct hci_enforcer *e, char *err, size_t errlen);
/* Put one original back; a vanished cgroup, device or VM counts as done. */
int enf_put_back(const struct hci_saved *s);
/* Ours, under the operator's own limit: a cap never loosens it (0 = none). */
double enf_capped(double ours, double own);
#endif
