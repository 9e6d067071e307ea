/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * hcitrace's Prometheus metrics (--listen, --prom-file): the report the
 * CSV is made from (build_report, totals since the start), as exposition
 * text (lib/fmt/prom.h), published to the /metrics server (lib/fmt/httpd.h)
 * and written to the file at every interval (every second without one)
 * and at exit. docs/monitoring.md lists the metrics and their labels.
 *
 * Cardinality: label values come only from the origin map (the resolver's
 * names), the disks and the ops; a series with no new I/O for
 * --metrics-idle seconds is left out until it has I/O again. So at most
 * the BPF side's histogram keys (--max-keys) times the stages are exported.
 */
#ifndef HCI_TRACE_METRICS_H
#define HCI_TRACE_METRICS_H
#include <stdbool.h>
#include <linux/types.h>

struct trace_run;

/* Starts the server (--listen) before tracing: 0, or -1 with the error said. */
int metrics_open(struct trace_run *tr);
/* From the loop: a new text when due (@interval_closed: an interval just ended). */
void metrics_tick(struct trace_run *tr, __u64 now, bool interval_closed);
/*
 * After tracing stopped: the last text, served and written, with every
 * series (idle ones too: it is the run's totals). 0, or -EIO (the file).
 */
int metrics_final(struct trace_run *tr);
void metrics_close(struct trace_run *tr);
#endif
