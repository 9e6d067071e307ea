/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The per-interval series (interval mode, `hcitrace 1`): each interval's
 * rows, per origin, device, op and stage, with IOPS, bytes/s, p50 and p99
 * from that interval's buckets alone, to FILE.series.csv and its buckets
 * to FILE.heatmap.csv next to --csv, and as the JSON's "series" array.
 * Formats: docs/formats.md.
 */
#ifndef HCI_TRACE_SERIES_H
#define HCI_TRACE_SERIES_H
#include <stdio.h>
#include "output.h"

struct trace_run;

/*
 * One interval's numbers for one row, as both the CSV and the JSON write
 * them (so the two cannot disagree): the row's I/Os and bytes, and per
 * stage the I/Os that had it and its p50 and p99.
 */
struct series_rec {
	__u32 interval;		/* 1, 2, ...: the interval it belongs to */
	__u32 origin, dev;	/* indices into the run's name table */
	__u8 op, layer, nstages, pad;
	__u64 ios, bytes;
	__u64 count[HCI_NVSTAGES];
	double p50_us[HCI_NVSTAGES], p99_us[HCI_NVSTAGES];
};

/* One interval: its end (seconds since the start) and length. */
struct series_ival {
	double t_s, dur_s;
	size_t nrows;
};

/* The pure parts, for the unit test as for the run. */
void series_rec_of(const struct hci_row *row, struct series_rec *rec);
void series_csv_header(FILE *f);
void series_csv_rows(FILE *f, const struct series_ival *iv, const struct series_rec *rec,
		     const char *origin, const char *dev);
void series_heat_header(FILE *f);
void series_heat_rows(FILE *f, __u32 interval, double t_s, const struct hci_row *row);
void series_json_row(struct hci_jw *w, const struct series_ival *iv,
		     const struct series_rec *rec, const char *origin, const char *dev);
/* @out = @total - @sofar, row by row: what the last interval added */
int series_delta(const struct hci_report *total, const struct hci_report *sofar,
		 struct hci_report *out);

/* The run's: opened with the other outputs, fed by the report. */
int series_open(struct trace_run *tr);
void series_interval(struct trace_run *tr, const struct hci_report *r);
int series_final(struct trace_run *tr, const struct hci_report *r);
void series_json(struct trace_run *tr);
void series_close(struct trace_run *tr);
#endif
