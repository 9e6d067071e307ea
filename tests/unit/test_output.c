// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* CSV and JSON writers, and the absent-stage rule for single requests. */
#include <stdlib.h>
#include "tap.h"
#include "hist.h"
#include "output.h"

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
static void w_json_str(FILE *f, const void *s) { hci_json_string(f, s); }
static void w_req(FILE *f, const void *q) { hci_csv_req_row(f, q); }

int main(void)
{
	struct hci_report r = {0};
	struct hci_hist_val v = {0};
	struct hci_event e = {0};
	struct hci_req q = {0};
	char *s;

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
	is_str(s, "1.500000000,vm:x,zram0,write,0,4096,,,,,,9.000\n",
	       "request CSV: absent stages are empty fields, never 0");
	free(s);
	return done_testing();
}
