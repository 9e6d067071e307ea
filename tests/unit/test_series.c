// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The per-interval series (trace/series.c): the last interval as the final
 * report minus the intervals written, percentiles as the text prints them,
 * and the series, heatmap and JSON rows with their absent stages.
 */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "core/hist.h"
#include "trace/series.h"

static struct hci_hist_val block_val(__u64 ios, int bucket)
{
	struct hci_hist_val v;

	memset(&v, 0, sizeof(v));
	v.ios = ios;
	v.bytes = ios * 4096;
	v.slots[HCI_D2C][bucket] = ios;
	v.slots[HCI_Q2C][bucket + 1] = ios;
	return v;
}

static const struct hci_row *row_of(const struct hci_report *r, const char *origin)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->rows[i].origin, origin))
			return &r->rows[i];
	return NULL;
}

/* total - so far: what grew, whole rows that are new, nothing for the rest */
static void delta(void)
{
	struct hci_report total = {}, sofar = {}, out;
	struct hci_hist_val a = block_val(10, 3), a4 = block_val(4, 3), same = block_val(7, 2);
	struct hci_vmm_val vm;
	const struct hci_row *r;

	memset(&vm, 0, sizeof(vm));
	vm.ios = 5;
	vm.slots[HCI_V2V][6] = 5;
	hci_report_add(&total, HCI_LAYER_BLOCK, "host:/a", "loop0", HCI_OP_READ, &a);
	hci_report_add(&total, HCI_LAYER_BLOCK, "host:/same", "loop0", HCI_OP_READ, &same);
	hci_report_add(&total, HCI_LAYER_VMM, "vm:g", "loop0", HCI_OP_READ, &vm);
	hci_report_add(&sofar, HCI_LAYER_BLOCK, "host:/a", "loop0", HCI_OP_READ, &a4);
	hci_report_add(&sofar, HCI_LAYER_BLOCK, "host:/same", "loop0", HCI_OP_READ, &same);
	/* the same names in the other layer are another row */
	hci_report_add(&sofar, HCI_LAYER_BLOCK, "vm:g", "loop0", HCI_OP_READ, &a4);
	is_int(series_delta(&total, &sofar, &out), 0, "delta: built");
	is_int(out.n, 2, "delta: a row that did not grow is left out");
	r = row_of(&out, "host:/a");
	ok(r && r->v.ios == 6 && r->v.slots[HCI_Q2C][4] == 6 && r->v.bytes == 6 * 4096,
	   "delta: a grown row has what it grew by");
	r = row_of(&out, "vm:g");
	ok(r && r->layer == HCI_LAYER_VMM && r->vm.ios == 5 && r->vm.slots[HCI_V2V][6] == 5,
	   "delta: a row new since the last interval is whole, matched by layer too");
	hci_report_free(&out);
	hci_report_free(&total);
	hci_report_free(&sofar);
}

static char *rows_csv(const struct series_rec *rec, const char *origin)
{
	struct series_ival iv = { .t_s = 3.5, .dur_s = 0.5, .nrows = 1 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	series_csv_rows(f, &iv, rec, origin, "loop0");
	fclose(f);
	return buf;
}

/* the header's 15 columns on every line, an absent stage empty, never 0 */
static void csv_rows(void)
{
	struct hci_report r = {};
	struct hci_hist_val v = block_val(1000, 4);
	struct series_rec rec;
	const char *d2c = "7,3.500,0.500,\"host:/a,b\",loop0,write,block,1020,2040.000,"
			  "4096000,8192000.000,D2C,1020,";
	char *s, *line, *save;
	int lines = 0, cols_ok = 1;

	v.slots[HCI_D2C][9] = 20;	/* 20 of 1020 slow ones: p99 in [256, 512) */
	v.ios = 1020;
	hci_report_add(&r, HCI_LAYER_BLOCK, "host:/a,b", "loop0", HCI_OP_WRITE, &v);
	series_rec_of(&r.rows[0], &rec);
	rec.interval = 7;
	is_int(rec.nstages, HCI_NSTAGES, "rec: every block stage");
	is_int(rec.count[HCI_D2C], 1020, "rec: D2C count");
	is_int(rec.count[HCI_I2D], 0, "rec: I2D absent");
	ok(rec.p99_us[HCI_D2C] == hci_slots_percentile_us(r.rows[0].v.slots[HCI_D2C], 99),
	   "rec: p99 as the text prints it (interpolated): %.3f", rec.p99_us[HCI_D2C]);
	ok(rec.p99_us[HCI_D2C] >= 256 && rec.p99_us[HCI_D2C] < 512, "rec: p99 in its bucket");
	ok(rec.p50_us[HCI_D2C] >= 8 && rec.p50_us[HCI_D2C] < 16, "rec: p50 in its bucket");
	s = rows_csv(&rec, "host:/a,b");
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int q = 0, commas = 0;

		lines++;
		for (const char *c = line; *c; c++) {
			q ^= *c == '"';
			commas += !q && *c == ',';
		}
		cols_ok &= commas == 14;
		if (strstr(line, ",I2D,"))
			is_str(strstr(line, ",I2D,"), ",I2D,0,,",
			       "csv: absent stage: count 0, empty p50, p99");
		if (strstr(line, ",D2C,"))
			ok(!strncmp(line, d2c, strlen(d2c)), "csv: a D2C line: %s", line);
	}
	is_int(lines, HCI_NSTAGES, "csv: one line per stage");
	ok(cols_ok, "csv: 15 columns on every line, a quoted origin one column");
	free(s);
	hci_report_free(&r);
}

/* the heatmap: the interval's non-empty buckets only */
static void heat_rows(void)
{
	struct hci_report r = {};
	struct hci_hist_val v = block_val(3, 30);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	v.slots[HCI_D2C][30] = 0;
	v.slots[HCI_D2C][0] = 3;	/* the first bucket, and the open last one */
	hci_report_add(&r, HCI_LAYER_BLOCK, "host:/", "loop0", HCI_OP_READ, &v);
	series_heat_rows(f, 2, 1.25, &r.rows[0]);
	fclose(f);
	is_str(buf, "2,1.250,host:/,loop0,read,D2C,0,1,3\n"
		    "2,1.250,host:/,loop0,read,Q2C,1073741824,inf,3\n",
	       "heatmap: the histogram CSV's rows after interval and time");
	free(buf);
	hci_report_free(&r);
}

/* JSON: the same numbers, an absent stage null */
static void json_row(void)
{
	struct series_ival iv = { .t_s = 2, .dur_s = 1, .nrows = 1 };
	struct hci_report r = {};
	struct hci_hist_val v = block_val(2000, 5);
	struct series_rec rec;
	struct hci_jw w;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	hci_report_add(&r, HCI_LAYER_BLOCK, "host:/", "loop0", HCI_OP_READ, &v);
	series_rec_of(&r.rows[0], &rec);
	hci_jw_init(&w, f, false);
	series_json_row(&w, &iv, &rec, "host:/", "loop0");
	is_int(hci_jw_finish(&w), 0, "json: one well-formed row");
	fclose(f);
	ok(strstr(buf, "\"layer\":\"block\",\"ios\":2000,\"iops\":2000.000,\"bytes\":8192000,"
		       "\"bytes_per_s\":8192000.000,") != NULL, "json: the row's rates");
	ok(strstr(buf, "\"I2D\":{\"count\":0,\"p50_us\":null,\"p99_us\":null}") != NULL,
	   "json: an absent stage is null");
	ok(strstr(buf, "\"D2C\":{\"count\":2000,\"p50_us\":24.000,\"p99_us\":31.840}") != NULL,
	   "json: a stage's count and percentiles: %s", buf);
	free(buf);
	hci_report_free(&r);
}

int main(void)
{
	delta();
	csv_rows();
	heat_rows();
	json_row();
	return done_testing();
}
