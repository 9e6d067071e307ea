// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* CSV and JSON writers, and the absent-stage rule for single requests. */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "core/hist.h"
#include "trace/output.h"

static char *capture(void (*fn)(FILE *, const void *), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, arg);
	fclose(f);
	return buf;
}

static void w_hist(FILE *f, const void *r) { hci_csv_write_hist(f, r); }
static void w_field(FILE *f, const void *s) { hci_csv_field(f, s); }
static void w_json_str(FILE *f, const void *s) { hci_json_escape(f, s); }
static void w_req(FILE *f, const void *q) { hci_csv_req_row(f, q); }
static void w_req_hdr(FILE *f, const void *q) { (void)q; hci_csv_req_header(f); }
static void w_vreq_hdr(FILE *f, const void *q) { (void)q; hci_csv_vreq_header(f); }
static void w_vreq(FILE *f, const void *q) { hci_csv_vreq_row(f, q); }
static void w_req_lost(FILE *f, const void *m) { hci_csv_req_lost_row(f, m); }
static void w_vreq_lost(FILE *f, const void *m) { hci_csv_vreq_lost_row(f, m); }
static void w_text_lost(FILE *f, const void *m) { hci_lost_print(f, m); }
static void w_json_lost(FILE *f, const void *m)
{
	struct hci_jw w;

	hci_jw_init(&w, f, false);
	hci_jw_start_array(&w);
	hci_jw_lines(&w);
	hci_json_lost(&w, m);
	hci_json_lost(&w, m);
	hci_jw_end_array(&w);
}

/* fields in one CSV line without quotes (enough for these rows) */
static int ncols(const char *line)
{
	int n = 1;

	for (; *line && *line != '\n'; line++)
		n += *line == ',';
	return n;
}

/* A loss marker has the header's columns, in every CSV that carries one. */
static void lost_markers(void)
{
	struct hci_lost_mark m = { .t_s = 2.25, .count = 4711, .counter = "ringbuf_full" };
	struct hci_vreq vq = { .origin = "vm:x", .dev = "loop0", .image = "", .sector = -1 };
	char *h, *s;

	h = capture(w_req_hdr, NULL);
	s = capture(w_req_lost, &m);
	is_str(s, "2.250000000,,,lost,,,,,,,,,4711,ringbuf_full,,\n",
	       "request CSV: a loss marker row, op 'lost', with its count and counter");
	is_int(ncols(s), ncols(h), "request CSV: the marker has the header's columns");
	ok(strstr(h, ",Q2C_us,lost,lost_counter,pid,comm\n") != NULL,
	   "request CSV: lost columns after the stages, then the submitter");
	free(s);
	free(h);
	h = capture(w_vreq_hdr, NULL);
	s = capture(w_vreq_lost, &m);
	is_int(ncols(s), ncols(h), "VMM request CSV: the marker has the header's columns");
	ok(!strncmp(s, "2.250000000,,,lost,", 19) && strstr(s, ",4711,ringbuf_full\n"),
	   "VMM request CSV: marker row");
	free(s);
	s = capture(w_vreq, &vq);
	is_int(ncols(s), ncols(h), "VMM request CSV: a request row has the header's columns");
	free(s);
	free(h);
	s = capture(w_json_lost, &m);
	is_str(s, "[\n{\"layer\":\"lost\",\"time_s\":2.250000000,\"events\":4711,"
	       "\"counter\":\"ringbuf_full\"},\n{\"layer\":\"lost\",\"time_s\":2.250000000,"
	       "\"events\":4711,\"counter\":\"ringbuf_full\"}]",
	       "JSON: a loss marker is a request entry of layer 'lost'");
	free(s);
	s = capture(w_text_lost, &m);
	ok(!strncmp(s, "2.250000    LOST 4711 events here (ringbuf_full)", 48),
	   "-p text: a LOST line in place, with the count");
	free(s);
}

int main(void)
{
	struct hci_report r = {0};
	struct hci_hist_val v = {0};
	struct hci_event e = {0};
	struct hci_req q = {0};
	char *s, *s2;

	v.ios = 3;
	v.slots[HCI_D2C][0] = 1;
	v.slots[HCI_D2C][3] = 2;
	v.slots[HCI_Q2C][HCI_NBUCKETS - 1] = 3;
	ok(!hci_report_add(&r, HCI_LAYER_BLOCK, "host:/a,b", "loop0", HCI_OP_READ, &v), "add row");
	ok(!hci_report_add(&r, HCI_LAYER_BLOCK, "host:/a,b", "loop0", HCI_OP_READ, &v), "add same key again");
	is_int(r.n, 1, "same (origin, dev, op) merges into one row");
	is_int(r.rows[0].v.slots[HCI_D2C][3], 4, "merged counts add");
	s = capture(w_hist, &r);
	is_str(s,
	       "origin,device,op,stage,bucket_lo_us,bucket_hi_us,count\n"
	       "\"host:/a,b\",loop0,read,D2C,0,1,2\n"
	       "\"host:/a,b\",loop0,read,D2C,4,8,4\n"
	       "\"host:/a,b\",loop0,read,Q2C,1073741824,inf,6\n",
	       "histogram CSV: header, quoted origin, empty buckets and absent stages omitted");
	free(s);
	hci_report_free(&r);

	s = capture(w_field, "say \"hi\"");
	is_str(s, "\"say \"\"hi\"\"\"", "CSV doubles quotes");
	free(s);
	s = capture(w_field, "plain");
	is_str(s, "plain", "CSV leaves plain fields alone");
	free(s);
	s = capture(w_json_str, "a\"b\\c\n\x01");
	is_str(s, "\"a\\\"b\\\\c\\u000a\\u0001\"", "JSON escapes quotes, backslashes, controls");
	free(s);

	/* direct issue: Q, G, D but no I */
	e.flags = HCI_HAVE_Q | HCI_HAVE_G | HCI_HAVE_D;
	e.ts_q = 1000;
	e.ts_g = 1500;
	e.ts_d = 3000;
	e.ts_c = 10000;
	hci_req_stages(&e, q.us, q.present);
	ok(q.present[HCI_Q2G] && q.us[HCI_Q2G] == 0.5, "Q2G present, 0.5 us");
	ok(!q.present[HCI_G2I] && !q.present[HCI_I2D], "G2I and I2D absent without insert");
	ok(q.present[HCI_G2D] && q.us[HCI_G2D] == 1.5, "G2D covers the skipped insert");
	ok(q.present[HCI_D2C] && q.us[HCI_D2C] == 7.0, "D2C 7 us");
	ok(q.present[HCI_Q2C] && q.us[HCI_Q2C] == 9.0, "Q2C 9 us");
	/* bio-based: only Q and C */
	e.flags = HCI_HAVE_Q | HCI_BIO_BASED;
	hci_req_stages(&e, q.us, q.present);
	ok(q.present[HCI_Q2C] && !q.present[HCI_D2C] && !q.present[HCI_Q2G],
	   "bio-based: Q2C only");
	q.origin = "vm:x";
	q.dev = "zram0";
	q.op = HCI_OP_WRITE;
	q.bytes = 4096;
	q.t_s = 1.5;
	s = capture(w_req, &q);
	is_str(s, "1.500000000,vm:x,zram0,write,0,4096,,,,,,9.000,,,,\n",
	       "request CSV: absent stages are empty fields, never 0, and no loss");
	q.pid = 4242;
	q.comm = "fio,\"x\"";
	s2 = capture(w_req, &q);
	is_str(s2, "1.500000000,vm:x,zram0,write,0,4096,,,,,,9.000,,,4242,\"fio,\"\"x\"\"\"\n",
	       "request CSV: the submitter's pid and comm, quoted as RFC 4180 asks");
	free(s2);
	q.pid = 0;
	q.comm = NULL;
	free(s);
	lost_markers();
	return done_testing();
}
