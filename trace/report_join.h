/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* hcitrace report: the guest join, re-run from the recorded channel bytes. */
#ifndef HCI_REPORT_JOIN_H
#define HCI_REPORT_JOIN_H
#include "record_read.h"

struct trace_run;

/* HCI_REC_CHAN: a channel (or its reconnect); -ENOMEM */
int rjoin_chan(struct trace_run *tr, const struct hci_rec *rec);
/* HCI_REC_CHAN_DATA: one read's bytes, parsed and joined at their receipt time */
void rjoin_data(struct trace_run *tr, const struct hci_rec *rec);
/* The end of the file: what is still held is joined or given up, as at exit */
void rjoin_finish(struct trace_run *tr, __u64 end_ns);
/* Before the summaries: every channel slot up to the last has a join */
int rjoin_fill(struct trace_run *tr);
void rjoin_free(struct trace_run *tr);
#endif
