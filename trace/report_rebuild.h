/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * hcitrace report: the histograms of a recorded run, rebuilt from its
 * records by the rules the BPF side applies (hci_stages.h, hci_hist.h),
 * into the report rows the live run prints (output.h).
 */
#ifndef HCI_REPORT_REBUILD_H
#define HCI_REPORT_REBUILD_H
#include "output.h"
#include "record_read.h"

struct hci_rebuild;

struct hci_rebuild *hci_rebuild_new(void);
/* A request record (HCI_REC_REQ, _RAW or VREQ) into its key's value for its op */
int hci_rebuild_req(struct hci_rebuild *rb, const struct hci_rec_keyinfo *k,
		    const struct hci_event *e);
int hci_rebuild_vreq(struct hci_rebuild *rb, const struct hci_rec_keyinfo *k,
		     const struct hci_vevent *e);
/*
 * A final BPF histogram (HCI_REC_HIST): it gives what no request record
 * carries (block: merges, splits, requeues, rq_merges; VMM: absorbed and
 * unlinked, and N2V, which BPF stamps per VM), and what BPF counted, to
 * check the rebuilt counts against.
 */
int hci_rebuild_hist(struct hci_rebuild *rb, const struct hci_rec_keyinfo *k, unsigned int op,
		     const struct hci_hist_val *block, const struct hci_vmm_val *vmm);
/*
 * The rows, as the live report's (sorted), left out as @left_out says
 * (NULL: none). *@missing: requests BPF counted that have no record.
 */
int hci_rebuild_report(struct hci_rebuild *rb, struct hci_report *r,
		       bool (*left_out)(void *ctx, const char *origin), void *ctx,
		       __u64 *missing);
void hci_rebuild_free(struct hci_rebuild *rb);
#endif
