// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Output in three forms with one bucket schema (log2 us): terminal tables and
 * histograms, CSV (one row per non-empty bucket) and JSON. A stage that did
 * not happen for a request is absent: it adds nothing to the stage's
 * histogram and counts in "absent"; it is never written as a zero.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "hist.h"
#include "output.h"

int hci_report_add(struct hci_report *r, const char *origin, const char *dev,
		   __u32 op, const struct hci_hist_val *v)
{
	struct hci_row *row;

	for (size_t i = 0; i < r->n; i++) {
		row = &r->rows[i];
		if (row->op == op && !strcmp(row->origin, origin) && !strcmp(row->dev, dev)) {
			hci_hist_add(&row->v, v);
			return 0;
		}
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct hci_row *rows = realloc(r->rows, cap * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		r->rows = rows;
		r->cap = cap;
	}
	row = &r->rows[r->n++];
	memset(row, 0, sizeof(*row));
	snprintf(row->origin, sizeof(row->origin), "%s", origin);
	snprintf(row->dev, sizeof(row->dev), "%s", dev);
	row->op = op;
	row->v = *v;
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct hci_row *x = a, *y = b;
	int c = strcmp(x->origin, y->origin);

	if (c)
		return c;
	c = strcmp(x->dev, y->dev);
	if (c)
		return c;
	return (int)x->op - (int)y->op;
}

void hci_report_sort(struct hci_report *r)
{
	if (r->n)
		qsort(r->rows, r->n, sizeof(*r->rows), row_cmp);
}

void hci_report_free(struct hci_report *r)
{
	free(r->rows);
	memset(r, 0, sizeof(*r));
}

void hci_report_print(FILE *f, const struct hci_report *r, bool show_hist)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct hci_row *row = &r->rows[i];
		const struct hci_hist_val *v = &row->v;

		fprintf(f, "\norigin %s  device %s  op %s  ios %llu  bytes %llu\n",
			row->origin, row->dev, hci_op_names[row->op],
			(unsigned long long)v->ios, (unsigned long long)v->bytes);
		if (v->merges || v->splits || v->requeues || v->rq_merges)
			fprintf(f, "  merges %llu  splits %llu  requeues %llu  rq-merges %llu\n",
				(unsigned long long)v->merges, (unsigned long long)v->splits,
				(unsigned long long)v->requeues,
				(unsigned long long)v->rq_merges);
		fprintf(f, "  %-5s %10s %10s %10s %10s %10s\n",
			"stage", "count", "avg(us)", "p50(us)", "p99(us)", "absent");
		for (int s = 0; s < HCI_NSTAGES; s++) {
			__u64 n = hci_slots_count(v->slots[s]);
			__u64 absent = v->ios > n ? v->ios - n : 0;

			if (!n) {
				fprintf(f, "  %-5s %10s %10s %10s %10s %10llu\n",
					hci_stage_names[s], "absent", "-", "-", "-",
					(unsigned long long)absent);
				continue;
			}
			fprintf(f, "  %-5s %10llu %10.1f %10.1f %10.1f %10llu\n",
				hci_stage_names[s], (unsigned long long)n,
				(double)v->sum_ns[s] / (double)n / 1000.0,
				hci_slots_percentile_us(v->slots[s], 50),
				hci_slots_percentile_us(v->slots[s], 99),
				(unsigned long long)absent);
		}
		if (!show_hist)
			continue;
		for (int s = 0; s < HCI_NSTAGES; s++) {
			if (!hci_slots_count(v->slots[s]))
				continue;
			fprintf(f, "\n  %s %s %s %s\n", row->origin, row->dev,
				hci_op_names[row->op], hci_stage_names[s]);
			hci_slots_print(f, v->slots[s], "usecs");
		}
	}
}

void hci_req_stages(const struct hci_event *e, double *us, bool *present)
{
	static const struct { int stage; __u32 need; int from, to; } def[] = {
		{ HCI_Q2G, HCI_HAVE_Q | HCI_HAVE_G, 0, 1 },
		{ HCI_G2I, HCI_HAVE_G | HCI_HAVE_I, 1, 2 },
		{ HCI_I2D, HCI_HAVE_I | HCI_HAVE_D, 2, 3 },
		{ HCI_G2D, HCI_HAVE_G | HCI_HAVE_D, 1, 3 },
		{ HCI_D2C, HCI_HAVE_D, 3, 4 },
		{ HCI_Q2C, HCI_HAVE_Q, 0, 4 },
	};
	const __u64 ts[5] = { e->ts_q, e->ts_g, e->ts_i, e->ts_d, e->ts_c };

	for (size_t i = 0; i < sizeof(def) / sizeof(def[0]); i++) {
		int s = def[i].stage;

		present[s] = (e->flags & def[i].need) == def[i].need;
		us[s] = 0;
		if (present[s])
			us[s] = ts[def[i].to] >= ts[def[i].from] ?
				(double)(ts[def[i].to] - ts[def[i].from]) / 1000.0 : 0;
	}
}

void hci_req_print_header(FILE *f)
{
	fprintf(f, "%-11s %-24s %-8s %-5s %12s %7s", "TIME(s)", "ORIGIN", "DISK",
		"OP", "SECTOR", "BYTES");
	for (int s = 0; s < HCI_NSTAGES; s++)
		fprintf(f, " %8s", hci_stage_names[s]);
	fprintf(f, "  (us)\n");
}

void hci_req_print(FILE *f, const struct hci_req *q)
{
	fprintf(f, "%-11.6f %-24s %-8s %-5s %12llu %7u", q->t_s, q->origin, q->dev,
		hci_op_names[q->op], (unsigned long long)q->sector, q->bytes);
	for (int s = 0; s < HCI_NSTAGES; s++) {
		if (q->present[s])
			fprintf(f, " %8.1f", q->us[s]);
		else
			fprintf(f, " %8s", "-");
	}
	fputc('\n', f);
}

/* RFC 4180: quote fields holding a comma, quote or line break. */
void hci_csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void hci_csv_write_hist(FILE *f, const struct hci_report *r)
{
	fputs("origin,device,op,stage,bucket_lo_us,bucket_hi_us,count\n", f);
	for (size_t i = 0; i < r->n; i++) {
		const struct hci_row *row = &r->rows[i];

		for (int s = 0; s < HCI_NSTAGES; s++) {
			for (int b = 0; b < HCI_NBUCKETS; b++) {
				if (!row->v.slots[s][b])
					continue;
				hci_csv_field(f, row->origin);
				fputc(',', f);
				hci_csv_field(f, row->dev);
				fprintf(f, ",%s,%s,%llu,", hci_op_names[row->op],
					hci_stage_names[s],
					(unsigned long long)hci_bucket_lo_us(b));
				if (b == HCI_NBUCKETS - 1)
					fputs("inf", f);
				else
					fprintf(f, "%llu", (unsigned long long)hci_bucket_hi_us(b));
				fprintf(f, ",%llu\n", (unsigned long long)row->v.slots[s][b]);
			}
		}
	}
}

void hci_csv_req_header(FILE *f)
{
	fputs("time_s,origin,device,op,sector,bytes", f);
	for (int s = 0; s < HCI_NSTAGES; s++)
		fprintf(f, ",%s_us", hci_stage_names[s]);
	fputc('\n', f);
}

void hci_csv_req_row(FILE *f, const struct hci_req *q)
{
	fprintf(f, "%.9f,", q->t_s);
	hci_csv_field(f, q->origin);
	fputc(',', f);
	hci_csv_field(f, q->dev);
	fprintf(f, ",%s,%llu,%u", hci_op_names[q->op], (unsigned long long)q->sector,
		q->bytes);
	for (int s = 0; s < HCI_NSTAGES; s++) {
		if (q->present[s])
			fprintf(f, ",%.3f", q->us[s]);
		else
			fputc(',', f);	/* absent: empty, never 0 */
	}
	fputc('\n', f);
}

void hci_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void hci_json_begin(FILE *f)
{
	fprintf(f, "{\"format\":\"hcitrace\",\"version\":%d,\"bucket_unit\":\"log2_us\","
		"\"requests\":[", HCI_JSON_VERSION);
}

void hci_json_req(FILE *f, const struct hci_req *q, bool first)
{
	fprintf(f, "%s\n{\"time_s\":%.9f,\"origin\":", first ? "" : ",", q->t_s);
	hci_json_string(f, q->origin);
	fputs(",\"device\":", f);
	hci_json_string(f, q->dev);
	fprintf(f, ",\"op\":\"%s\",\"sector\":%llu,\"bytes\":%u,\"stages_us\":{",
		hci_op_names[q->op], (unsigned long long)q->sector, q->bytes);
	for (int s = 0; s < HCI_NSTAGES; s++) {
		fprintf(f, "%s\"%s\":", s ? "," : "", hci_stage_names[s]);
		if (q->present[s])
			fprintf(f, "%.3f", q->us[s]);
		else
			fputs("null", f);
	}
	fputs("}}", f);
}

void hci_json_end(FILE *f, const struct hci_report *r,
		  const char *const *counter_names, const __u64 *counters, int ncounters)
{
	fputs("],\n\"histograms\":[", f);
	for (size_t i = 0; i < r->n; i++) {
		const struct hci_row *row = &r->rows[i];
		const struct hci_hist_val *v = &row->v;

		fprintf(f, "%s\n{\"origin\":", i ? "," : "");
		hci_json_string(f, row->origin);
		fputs(",\"device\":", f);
		hci_json_string(f, row->dev);
		fprintf(f, ",\"op\":\"%s\",\"ios\":%llu,\"bytes\":%llu,\"merges\":%llu,"
			"\"splits\":%llu,\"requeues\":%llu,\"rq_merges\":%llu,\"stages\":{",
			hci_op_names[row->op], (unsigned long long)v->ios,
			(unsigned long long)v->bytes, (unsigned long long)v->merges,
			(unsigned long long)v->splits, (unsigned long long)v->requeues,
			(unsigned long long)v->rq_merges);
		for (int s = 0; s < HCI_NSTAGES; s++) {
			__u64 n = hci_slots_count(v->slots[s]);
			bool first = true;

			fprintf(f, "%s\"%s\":{\"count\":%llu,\"absent\":%llu,\"sum_ns\":%llu,"
				"\"buckets\":[", s ? "," : "", hci_stage_names[s],
				(unsigned long long)n,
				(unsigned long long)(v->ios > n ? v->ios - n : 0),
				(unsigned long long)v->sum_ns[s]);
			for (int b = 0; b < HCI_NBUCKETS; b++) {
				if (!v->slots[s][b])
					continue;
				fprintf(f, "%s{\"lo_us\":%llu,\"hi_us\":", first ? "" : ",",
					(unsigned long long)hci_bucket_lo_us(b));
				if (b == HCI_NBUCKETS - 1)
					fputs("null", f);
				else
					fprintf(f, "%llu", (unsigned long long)hci_bucket_hi_us(b));
				fprintf(f, ",\"count\":%llu}", (unsigned long long)v->slots[s][b]);
				first = false;
			}
			fputs("]}", f);
		}
		fputs("}}", f);
	}
	fputs("],\n\"lost\":{", f);
	for (int i = 0; i < ncounters; i++)
		fprintf(f, "%s\"%s\":%llu", i ? "," : "", counter_names[i],
			(unsigned long long)counters[i]);
	fputs("}}\n", f);
}
