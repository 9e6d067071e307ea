/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Output of the cross-layer join: per-request lines, the per-VM summary,
 * the single-I/O breakdown, per-layer volumes; terminal and CSV in
 * join_report.c, JSON in join_json.c. CSV and JSON formats are versioned in
 * docs/formats.md.
 */
#ifndef HCI_JOIN_REPORT_H
#define HCI_JOIN_REPORT_H
#include <stdio.h>
#include "fmt/json_writer.h"
#include "join.h"

static inline double hci_jus(int64_t ns)
{
	return (double)ns / 1000.0;
}

/* Mean of stage k in microseconds, 0 with no samples. */
static inline double hci_jstats_mean_us(const struct hci_jstats *s, int k)
{
	return s->count[k] ? hci_jus(s->sum_ns[k]) / (double)s->count[k] : 0;
}

/* One interval's volumes of one VM, with the host block layer's share. */
struct hci_volrow {
	double t_s;		/* interval end, seconds since start */
	const char *origin;
	struct hci_jvol v;
	uint64_t host[HCI_NOPS];	/* host block bytes of the VM's origin */
	uint64_t host_splits, host_merges;
};

void hci_jreq_print_header(FILE *f);
void hci_jreq_print(FILE *f, const char *origin, const char *disk, const struct hci_jreq *q,
		    double t_s);
void hci_csv_join_header(FILE *f);
void hci_csv_join_row(FILE *f, const char *origin, const char *disk,
		      const struct hci_jreq *q, double t_s);

void hci_join_summary(FILE *f, const char *origin, const char *path,
		      const struct hci_join *j, const struct hci_wire_stats *ws);
void hci_breakdown_print(FILE *f, const char *origin, const struct hci_join *j);
void hci_vol_print(FILE *f, const struct hci_volrow *r);
void hci_csv_vol_header(FILE *f);
void hci_csv_vol_rows(FILE *f, const struct hci_volrow *r);
void hci_csv_join_hist(FILE *f, const char *origin, const struct hci_join *j);
void hci_csv_breakdown_header(FILE *f);
void hci_csv_breakdown_rows(FILE *f, const char *origin, const struct hci_join *j);

/* JSON (join_json.c): one item of the open "requests" array, of the open "guests" array */
void hci_join_json_req(struct hci_jw *w, const char *origin, const char *disk,
		       const struct hci_jreq *q, double t_s);
void hci_join_json_guest(struct hci_jw *w, const char *origin, const char *path,
			 const struct hci_join *j, const struct hci_wire_stats *ws,
			 const struct hci_volrow *vols, size_t nvols);
#endif
