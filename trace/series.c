// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcitrace's per-interval series (interval mode): the rows print_interval
 * prints, kept as a time series. FILE.series.csv gets each interval's rows
 * (IOPS, bytes/s, and per stage p50 and p99 from that interval's buckets
 * only, interpolated inside the log2 bucket as the text output does),
 * FILE.heatmap.csv the interval's non-empty buckets, and the JSON document
 * a "series" array with the series file's numbers. Formats: docs/formats.md.
 *
 * The last interval is what the final report has beyond the intervals
 * already written, so the series adds up to the histogram CSV exactly,
 * whatever the final report adds that no snapshot had (the VMM requests
 * still unreaped at the end). The JSON's rows wait in a temporary file,
 * not in memory: a long run holds only its interval list and its names.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "core/hist.h"
#include "core/log.h"
#include "core/vec.h"
#include "series.h"
#include "trace.h"

struct trace_series {
	FILE *csv;		/* FILE.series.csv (--csv) */
	FILE *heat;		/* FILE.heatmap.csv (--csv) */
	FILE *spool;		/* the JSON's rows until the end (--json) */
	bool spool_failed;
	struct hci_report sofar;	/* every interval written, summed */
	__u64 last_ns;		/* end of the interval before */
	struct series_ival *ivals;
	size_t nivals, cap;
	char **names;		/* origins and devices, each once */
	size_t nnames;
};

static const char *const layer_names[] = { [HCI_LAYER_BLOCK] = "block",
					   [HCI_LAYER_VMM] = "vmm" };

static const char *const *stage_names(__u8 layer)
{
	return layer == HCI_LAYER_VMM ? hci_vstage_names : hci_stage_names;
}

void series_rec_of(const struct hci_row *row, struct series_rec *rec)
{
	struct hci_stage_view sv = hci_stage_view_of(row);

	memset(rec, 0, sizeof(*rec));
	rec->op = (__u8)row->op;
	rec->layer = (__u8)row->layer;
	rec->nstages = (__u8)sv.n;
	rec->ios = sv.ios;
	rec->bytes = row->layer == HCI_LAYER_VMM ? row->vm.bytes : row->v.bytes;
	for (int s = 0; s < sv.n; s++) {
		rec->count[s] = hci_slots_count(sv.slots[s]);
		if (!rec->count[s])
			continue;
		rec->p50_us[s] = hci_slots_percentile_us(sv.slots[s], 50);
		rec->p99_us[s] = hci_slots_percentile_us(sv.slots[s], 99);
	}
}

/* Per second over the interval; an interval of no length has no rate. */
static double rate(__u64 n, double dur_s)
{
	return dur_s > 0 ? (double)n / dur_s : 0;
}

void series_csv_header(FILE *f)
{
	fputs("interval,time_s,duration_s,origin,device,op,layer,ios,iops,bytes,bytes_per_s,"
	      "stage,count,p50_us,p99_us\n", f);
}

/* One line per stage of the row's layer; an absent stage has empty p50, p99. */
void series_csv_rows(FILE *f, const struct series_ival *iv, const struct series_rec *rec,
		     const char *origin, const char *dev)
{
	const char *const *names = stage_names(rec->layer);

	for (int s = 0; s < rec->nstages; s++) {
		fprintf(f, "%u,%.3f,%.3f,", rec->interval, iv->t_s, iv->dur_s);
		hci_csv_field(f, origin);
		fputc(',', f);
		hci_csv_field(f, dev);
		fprintf(f, ",%s,%s,%llu,%.3f,%llu,%.3f,%s,%llu", hci_op_names[rec->op],
			layer_names[rec->layer], (unsigned long long)rec->ios,
			rate(rec->ios, iv->dur_s), (unsigned long long)rec->bytes,
			rate(rec->bytes, iv->dur_s), names[s], (unsigned long long)rec->count[s]);
		if (rec->count[s])
			fprintf(f, ",%.3f,%.3f\n", rec->p50_us[s], rec->p99_us[s]);
		else
			fputs(",,\n", f);
	}
}

void series_heat_header(FILE *f)
{
	fputs("interval,time_s,origin,device,op,stage,bucket_lo_us,bucket_hi_us,count\n", f);
}

/* The histogram CSV's rows of one interval, after its number and end. */
void series_heat_rows(FILE *f, __u32 interval, double t_s, const struct hci_row *row)
{
	struct hci_stage_view sv = hci_stage_view_of(row);

	for (int s = 0; s < sv.n; s++) {
		for (int b = 0; b < HCI_NBUCKETS; b++) {
			if (!sv.slots[s][b])
				continue;
			fprintf(f, "%u,%.3f,", interval, t_s);
			hci_csv_hist_row(f, row->origin, row->dev, row->op, "", sv.names[s], b,
					 sv.slots[s][b]);
		}
	}
}

/* One item of an interval's "rows": the series file's numbers, by stage. */
void series_json_row(struct hci_jw *w, const struct series_ival *iv,
		     const struct series_rec *rec, const char *origin, const char *dev)
{
	const char *const *names = stage_names(rec->layer);

	hci_jw_start_object(w);
	hci_jw_string_field(w, "origin", origin);
	hci_jw_string_field(w, "device", dev);
	hci_jw_string_field(w, "op", hci_op_names[rec->op]);
	hci_jw_string_field(w, "layer", layer_names[rec->layer]);
	hci_jw_uint_field(w, "ios", rec->ios);
	hci_jw_float_field(w, "iops", "%.3f", rate(rec->ios, iv->dur_s));
	hci_jw_uint_field(w, "bytes", rec->bytes);
	hci_jw_float_field(w, "bytes_per_s", "%.3f", rate(rec->bytes, iv->dur_s));
	hci_jw_name(w, "stages");
	hci_jw_start_object(w);
	for (int s = 0; s < rec->nstages; s++) {
		hci_jw_name(w, names[s]);
		hci_jw_start_object(w);
		hci_jw_uint_field(w, "count", rec->count[s]);
		if (rec->count[s]) {
			hci_jw_float_field(w, "p50_us", "%.3f", rec->p50_us[s]);
			hci_jw_float_field(w, "p99_us", "%.3f", rec->p99_us[s]);
		} else {
			hci_jw_null_field(w, "p50_us");
			hci_jw_null_field(w, "p99_us");
		}
		hci_jw_end_object(w);
	}
	hci_jw_end_object(w);
	hci_jw_end_object(w);
}

static const struct hci_row *find_row(const struct hci_report *r, const struct hci_row *like)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct hci_row *row = &r->rows[i];

		if (row->layer == like->layer && row->op == like->op &&
		    !strcmp(row->origin, like->origin) && !strcmp(row->dev, like->dev))
			return row;
	}
	return NULL;
}

int series_delta(const struct hci_report *total, const struct hci_report *sofar,
		 struct hci_report *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < total->n; i++) {
		const struct hci_row *row = &total->rows[i], *old = find_row(sofar, row);
		size_t words = row->layer == HCI_LAYER_VMM ? sizeof(row->vm) / 8 :
							     sizeof(row->v) / 8;
		union { struct hci_hist_val h; struct hci_vmm_val v; } d;
		bool any = false;

		if (old)
			hci_u64s_sub((__u64 *)&d, (const __u64 *)&row->v, (const __u64 *)&old->v,
				     words);
		else
			memcpy(&d, &row->v, words * 8);
		for (size_t k = 0; k < words; k++)
			any |= ((__u64 *)&d)[k] != 0;
		if (any && hci_report_add(out, row->layer, row->origin, row->dev, row->op, &d))
			return -ENOMEM;
	}
	return 0;
}

/* A name's index in the run's table, added the first time it is seen. */
static int name_index(struct trace_series *s, const char *name, __u32 *idx)
{
	char **names;

	for (size_t i = 0; i < s->nnames; i++) {
		if (!strcmp(s->names[i], name)) {
			*idx = (__u32)i;
			return 0;
		}
	}
	names = realloc(s->names, (s->nnames + 1) * sizeof(*names));
	if (!names)
		return -ENOMEM;
	s->names = names;
	names[s->nnames] = strdup(name);
	if (!names[s->nnames])
		return -ENOMEM;
	*idx = (__u32)s->nnames++;
	return 0;
}

/* Keep a row for the JSON; a failure is said once, at the end. */
static void spool_row(struct trace_series *s, struct series_rec *rec, const struct hci_row *row)
{
	if (!s->spool || s->spool_failed)
		return;
	if (name_index(s, row->origin, &rec->origin) || name_index(s, row->dev, &rec->dev) ||
	    fwrite(rec, sizeof(*rec), 1, s->spool) != 1)
		s->spool_failed = true;
}

static struct series_ival *new_ival(struct trace_series *s)
{
	struct series_ival *iv = hci_vec_grow(s->ivals, &s->cap, s->nivals, sizeof(*iv), 64);

	if (!iv)
		return NULL;
	s->ivals = iv;
	return memset(&s->ivals[s->nivals++], 0, sizeof(*s->ivals));
}

/* One interval's rows, ending now, to every output of the series. */
static int add_interval(struct trace_run *tr, const struct hci_report *r)
{
	struct trace_series *s = tr->series;
	struct series_ival *iv = new_ival(s);
	__u64 now = hci_now_ns();
	__u32 n = (__u32)s->nivals;

	if (!iv)
		return -ENOMEM;
	iv->t_s = since_start(tr, now);
	iv->dur_s = (double)(now - s->last_ns) / 1e9;
	s->last_ns = now;
	for (size_t i = 0; i < r->n; i++) {
		const struct hci_row *row = &r->rows[i];
		struct series_rec rec;

		series_rec_of(row, &rec);
		rec.interval = n;
		if (s->csv)
			series_csv_rows(s->csv, iv, &rec, row->origin, row->dev);
		if (s->heat)
			series_heat_rows(s->heat, n, iv->t_s, row);
		spool_row(s, &rec, row);
		iv->nrows++;
		if (hci_report_add(&s->sofar, row->layer, row->origin, row->dev, row->op, &row->v))
			return -ENOMEM;
	}
	return 0;
}

int series_open(struct trace_run *tr)
{
	const char *csv = tr->env.csv_path;
	struct trace_series *s;

	if (!tr->env.interval || (!csv && !tr->json))
		return 0;
	s = tr->series = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->last_ns = hci_now_ns();	/* until tracing starts (t0_ns) */
	if (csv) {
		s->csv = open_side(csv, "series");
		s->heat = s->csv ? open_side(csv, "heatmap") : NULL;
		if (!s->heat)
			return -EIO;
		series_csv_header(s->csv);
		series_heat_header(s->heat);
	}
	if (tr->json) {
		s->spool = tmpfile();
		if (!s->spool) {
			hci_errorf("cannot make a temporary file for the JSON's series: %s; "
				   "nothing was traced: check TMPDIR", strerror(errno));
			return -EIO;
		}
	}
	return 0;
}

void series_interval(struct trace_run *tr, const struct hci_report *r)
{
	struct trace_series *s = tr->series;

	if (!s)
		return;
	if (s->nivals == 0)
		s->last_ns = tr->t0_ns;
	if (add_interval(tr, r))
		s->spool_failed = true;
	if (s->csv)
		fflush(s->csv);
	if (s->heat)
		fflush(s->heat);
}

/*
 * The last interval, from the end of the one before to the end of tracing:
 * the final report minus every interval written, so that the series adds
 * up to the whole run's histograms exactly. Then the CSV files are closed.
 */
int series_final(struct trace_run *tr, const struct hci_report *r)
{
	struct trace_series *s = tr->series;
	struct hci_report last;
	int err = 0;

	if (!s)
		return 0;
	if (s->nivals == 0)
		s->last_ns = tr->t0_ns;
	if (series_delta(r, &s->sofar, &last) || add_interval(tr, &last))
		s->spool_failed = true;
	hci_report_free(&last);
	if (s->csv && close_out(&s->csv, "the series CSV"))
		err = -EIO;
	if (s->heat && close_out(&s->heat, "the heatmap CSV"))
		err = -EIO;
	if (s->spool && (fflush(s->spool) || ferror(s->spool)))
		s->spool_failed = true;
	if (s->spool_failed) {
		hci_errorf("the per-interval series could not be kept (out of memory or "
			   "TMPDIR full): the JSON's \"series\" is left out");
		err = -EIO;
	}
	return err;
}

/* The "series" array: one item per interval, its rows as the series file's. */
void series_json(struct trace_run *tr)
{
	struct trace_series *s = tr->series;
	struct hci_jw *w = &tr->jw;
	struct series_rec rec;

	if (!s || !s->spool || s->spool_failed)
		return;
	rewind(s->spool);
	hci_json_section(w, "series");
	for (size_t i = 0; i < s->nivals; i++) {
		const struct series_ival *iv = &s->ivals[i];

		hci_jw_start_object(w);
		hci_jw_uint_field(w, "interval", i + 1);
		hci_jw_float_field(w, "time_s", "%.3f", iv->t_s);
		hci_jw_float_field(w, "duration_s", "%.3f", iv->dur_s);
		hci_jw_name(w, "rows");
		hci_jw_start_array(w);
		for (size_t k = 0; k < iv->nrows; k++) {
			if (fread(&rec, sizeof(rec), 1, s->spool) != 1 ||
			    rec.origin >= s->nnames || rec.dev >= s->nnames)
				break;	/* cannot be: the spool was checked when written */
			series_json_row(w, iv, &rec, s->names[rec.origin], s->names[rec.dev]);
		}
		hci_jw_end_array(w);
		hci_jw_end_object(w);
	}
	hci_jw_end_array(w);
}

/* Every path out: the files still open (only on errors) closed silently. */
void series_close(struct trace_run *tr)
{
	struct trace_series *s = tr->series;

	if (!s)
		return;
	if (s->csv)
		fclose(s->csv);
	if (s->heat)
		fclose(s->heat);
	if (s->spool)
		fclose(s->spool);
	for (size_t i = 0; i < s->nnames; i++)
		free(s->names[i]);
	free(s->names);
	free(s->ivals);
	hci_report_free(&s->sofar);
	free(s);
	tr->series = NULL;
}
