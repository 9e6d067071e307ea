/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* hcitrace --record in a live run (record_run.c); the file is record.h's. */
#ifndef HCI_RECORD_RUN_H
#define HCI_RECORD_RUN_H
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

struct trace_run;
struct hci_chan;

/* --record without --ringbuf-kib: the ring's size from the disks' rate now */
long record_ring_kib(const struct trace_run *tr, __u32 dev);
/* Before the attach: the file made, its header written (0 without --record) */
int record_open(struct trace_run *tr, __u32 dev, __u64 cgid, __u32 vm_tgid);
/* After the attach: the start time, the guest channels */
void record_started(struct trace_run *tr);
/* A guest channel's bytes as read (hci_chan's tee) */
void record_chan_bytes(void *ctx, const struct hci_chan *c, const void *buf, size_t n,
		       uint64_t now);
/* After tracing: final histograms, counters, trailer; closed */
int record_finish(struct trace_run *tr);
/* On errors: closed without a trailer (it reads as cut short) */
void record_abort(struct trace_run *tr);
#endif
