// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests for lib/fmt/json_writer.c: hcitrace's layout, escapes, nesting. */
#include <errno.h>
#include <stdlib.h>
#include "fmt/json_writer.h"
#include "tap.h"

struct doc {
	struct hci_jw w;
	FILE *f;
	char *buf;
	size_t len;
};

static void doc_open(struct doc *d, bool pretty)
{
	d->buf = NULL;
	d->len = 0;
	d->f = open_memstream(&d->buf, &d->len);
	hci_jw_init(&d->w, d->f, pretty);
}

/* the writer's result, and the text in d->buf */
static int doc_close(struct doc *d)
{
	int err = hci_jw_finish(&d->w);

	fclose(d->f);
	return err;
}

/* a -p request row, as trace/output_json.c writes it */
static void req_row(struct hci_jw *w, double t_s, const char *origin)
{
	hci_jw_start_object(w);
	hci_jw_string_field(w, "layer", "block");
	hci_jw_float_field(w, "time_s", "%.9f", t_s);
	hci_jw_string_field(w, "origin", origin);
	hci_jw_name(w, "stages_us");
	hci_jw_start_object(w);
	hci_jw_float_field(w, "Q2C", "%.3f", 12.3456);
	hci_jw_null_field(w, "D2C");
	hci_jw_end_object(w);
	hci_jw_end_object(w);
}

/* hcitrace's document skeleton: rows on their own lines, keys after "requests" too */
static void test_hcitrace_layout(void)
{
	struct doc d;

	doc_open(&d, false);
	hci_jw_start_object(&d.w);
	hci_jw_string_field(&d.w, "format", "hcitrace");
	hci_jw_int_field(&d.w, "version", 1);
	hci_jw_name(&d.w, "requests");
	hci_jw_start_array(&d.w);
	hci_jw_lines(&d.w);
	req_row(&d.w, 0.5, "vm:a");
	req_row(&d.w, 1.25, "host:/");
	hci_jw_end_array(&d.w);
	hci_jw_break(&d.w);
	hci_jw_name(&d.w, "vms");
	hci_jw_start_array(&d.w);
	hci_jw_lines(&d.w);
	hci_jw_end_array(&d.w);
	hci_jw_break(&d.w);
	hci_jw_name(&d.w, "kvm");
	hci_jw_start_array(&d.w);
	hci_jw_lines(&d.w);
	hci_jw_start_object(&d.w);
	hci_jw_name(&d.w, "images");
	hci_jw_start_array(&d.w);
	hci_jw_start_object(&d.w);
	hci_jw_int_field(&d.w, "fd", -1);
	hci_jw_bool_field(&d.w, "blockdev", false);
	hci_jw_end_object(&d.w);
	hci_jw_start_object(&d.w);
	hci_jw_uint_field(&d.w, "size", UINT64_MAX);
	hci_jw_bool_field(&d.w, "blockdev", true);
	hci_jw_end_object(&d.w);
	hci_jw_end_array(&d.w);
	hci_jw_end_object(&d.w);
	hci_jw_end_array(&d.w);
	hci_jw_break(&d.w);
	hci_jw_name(&d.w, "lost");
	hci_jw_start_object(&d.w);
	hci_jw_uint_field(&d.w, "a", 0);
	hci_jw_uint_field(&d.w, "b", 3);
	hci_jw_end_object(&d.w);
	hci_jw_end_object(&d.w);
	is_int(doc_close(&d), 0, "hcitrace layout: no error");
	is_str(d.buf,
	       "{\"format\":\"hcitrace\",\"version\":1,\"requests\":["
	       "\n{\"layer\":\"block\",\"time_s\":0.500000000,\"origin\":\"vm:a\","
	       "\"stages_us\":{\"Q2C\":12.346,\"D2C\":null}},"
	       "\n{\"layer\":\"block\",\"time_s\":1.250000000,\"origin\":\"host:/\","
	       "\"stages_us\":{\"Q2C\":12.346,\"D2C\":null}}],"
	       "\n\"vms\":[],"
	       "\n\"kvm\":[\n{\"images\":[{\"fd\":-1,\"blockdev\":false},"
	       "{\"size\":18446744073709551615,\"blockdev\":true}]}],"
	       "\n\"lost\":{\"a\":0,\"b\":3}}\n",
	       "hcitrace layout, byte for byte");
	free(d.buf);
}

static void test_escapes(void)
{
	struct doc d;

	doc_open(&d, false);
	hci_jw_start_array(&d.w);
	hci_jw_string(&d.w, "q\"b\\s/\n\t\x01\x1f\x7f\xc3\xa9");
	hci_jw_string(&d.w, "");
	hci_jw_end_array(&d.w);
	is_int(doc_close(&d), 0, "escapes: no error");
	is_str(d.buf, "[\"q\\\"b\\\\s/\\u000a\\u0009\\u0001\\u001f\x7f\xc3\xa9\",\"\"]\n",
	       "quote, backslash and controls escaped, other bytes as they are");
	free(d.buf);
	doc_open(&d, false);
	hci_jw_start_object(&d.w);
	hci_jw_uint_field(&d.w, "a\"b", 1);
	hci_jw_end_object(&d.w);
	doc_close(&d);
	is_str(d.buf, "{\"a\\\"b\":1}\n", "names are escaped too");
	free(d.buf);
}

static void test_numbers(void)
{
	struct doc d;

	doc_open(&d, false);
	hci_jw_start_array(&d.w);
	hci_jw_float(&d.w, "%.3f", 1.0005);
	hci_jw_float(&d.w, "%.9f", 0.0);
	hci_jw_float(&d.w, "%.4f", 2.0 / 3.0);
	hci_jw_int(&d.w, INT64_MIN);
	hci_jw_uint(&d.w, 0);
	hci_jw_null(&d.w);
	hci_jw_end_array(&d.w);
	doc_close(&d);
	is_str(d.buf, "[1.000,0.000000000,0.6667,-9223372036854775808,0,null]\n",
	       "number formats");
	free(d.buf);
}

typedef void (*misuse_fn)(struct hci_jw *w);

static void two_roots(struct hci_jw *w)
{
	hci_jw_uint(w, 1);
	hci_jw_uint(w, 2);
}

static void value_without_name(struct hci_jw *w)
{
	hci_jw_start_object(w);
	hci_jw_uint(w, 1);
}

static void name_in_array(struct hci_jw *w)
{
	hci_jw_start_array(w);
	hci_jw_name(w, "x");
}

static void two_names(struct hci_jw *w)
{
	hci_jw_start_object(w);
	hci_jw_name(w, "x");
	hci_jw_name(w, "y");
}

static void wrong_end(struct hci_jw *w)
{
	hci_jw_start_object(w);
	hci_jw_end_array(w);
}

static void end_at_top(struct hci_jw *w)
{
	hci_jw_end_object(w);
}

static void left_open(struct hci_jw *w)
{
	hci_jw_start_array(w);
	hci_jw_start_object(w);
	hci_jw_end_object(w);
}

static void name_without_value(struct hci_jw *w)
{
	hci_jw_start_object(w);
	hci_jw_name(w, "x");
	hci_jw_end_object(w);
}

static void too_deep(struct hci_jw *w)
{
	for (int i = 0; i <= HCI_JW_MAX_DEPTH; i++)
		hci_jw_start_array(w);
}

static void nothing(struct hci_jw *w)
{
	(void)w;
}

static void test_nesting_errors(void)
{
	static const struct { misuse_fn fn; const char *what; } cases[] = {
		{ two_roots, "two top-level values" },
		{ value_without_name, "a value without a name in an object" },
		{ name_in_array, "a name in an array" },
		{ two_names, "two names in a row" },
		{ wrong_end, "an object closed as an array" },
		{ end_at_top, "an end with nothing open" },
		{ left_open, "a container left open" },
		{ name_without_value, "a name without its value" },
		{ too_deep, "nesting past the limit" },
		{ nothing, "an empty document" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct doc d;

		doc_open(&d, false);
		cases[i].fn(&d.w);
		is_int(doc_close(&d), -EINVAL, "%s is an error", cases[i].what);
		free(d.buf);
	}
}

static void test_pretty(void)
{
	struct doc d;

	doc_open(&d, true);
	hci_jw_start_object(&d.w);
	hci_jw_string_field(&d.w, "a", "x");
	hci_jw_name(&d.w, "b");
	hci_jw_start_array(&d.w);
	hci_jw_lines(&d.w);	/* no effect when pretty */
	hci_jw_uint(&d.w, 1);
	hci_jw_start_object(&d.w);
	hci_jw_end_object(&d.w);
	hci_jw_end_array(&d.w);
	hci_jw_end_object(&d.w);
	is_int(doc_close(&d), 0, "pretty: no error");
	is_str(d.buf, "{\n    \"a\": \"x\",\n    \"b\": [\n        1,\n        {}\n    ]\n}\n",
	       "pretty output indents by four");
	free(d.buf);
}

int main(void)
{
	test_hcitrace_layout();
	test_escapes();
	test_numbers();
	test_nesting_errors();
	test_pretty();
	return done_testing();
}
