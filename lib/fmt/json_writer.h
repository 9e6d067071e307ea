/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One streaming JSON writer for every JSON file the programs write (after
 * bpftool's json_writer): the writer places the commas and tracks the
 * nesting, so each section is opened and closed by the code that owns it
 * and a mismatched end is an error, not a broken file.
 *
 * Compact output has no whitespace but the line breaks asked for, which is
 * how hcitrace's JSON looks: hci_jw_lines() starts every item of the
 * current container on a new line (the "requests" rows), hci_jw_break() only
 * the next one (a top-level key). Pretty output indents by four spaces and
 * ignores both. Strings are escaped as hcitrace always did: \" and \\,
 * control characters as \u00XX, every other byte as it is.
 */
#ifndef HCI_FMT_JSON_WRITER_H
#define HCI_FMT_JSON_WRITER_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define HCI_JW_MAX_DEPTH 32

struct hci_jw {
	FILE *f;
	bool pretty;
	int err;		/* first error: -EINVAL (nesting), -EIO (write) */
	int depth;
	bool named;		/* a name was written, its value comes next */
	bool brk;		/* the next item starts a new line */
	bool root_done;		/* the one top-level value is complete */
	struct {
		char close;	/* '}' or ']' */
		bool lines;	/* each item on a new line */
		unsigned long items;
	} st[HCI_JW_MAX_DEPTH];
};

void hci_jw_init(struct hci_jw *w, FILE *f, bool pretty);
/*
 * The document's end: a newline after the top-level value. Returns 0, or
 * the first error (an open container or a misplaced name or value is
 * -EINVAL; a failed write -EIO).
 */
int hci_jw_finish(struct hci_jw *w);

void hci_jw_start_object(struct hci_jw *w);
void hci_jw_end_object(struct hci_jw *w);
void hci_jw_start_array(struct hci_jw *w);
void hci_jw_end_array(struct hci_jw *w);
void hci_jw_lines(struct hci_jw *w);
void hci_jw_break(struct hci_jw *w);

/* an object member's name; its value is the next call */
void hci_jw_name(struct hci_jw *w, const char *name);
void hci_jw_string(struct hci_jw *w, const char *s);
void hci_jw_uint(struct hci_jw *w, uint64_t v);
void hci_jw_int(struct hci_jw *w, int64_t v);
/* a number printed with fmt, e.g. "%.3f" or "%.9f" */
void hci_jw_float(struct hci_jw *w, const char *fmt, double v)
	__attribute__((format(printf, 2, 0)));
void hci_jw_bool(struct hci_jw *w, bool v);
void hci_jw_null(struct hci_jw *w);

/* name and value in one call */
void hci_jw_string_field(struct hci_jw *w, const char *name, const char *s);
void hci_jw_uint_field(struct hci_jw *w, const char *name, uint64_t v);
void hci_jw_int_field(struct hci_jw *w, const char *name, int64_t v);
void hci_jw_float_field(struct hci_jw *w, const char *name, const char *fmt, double v)
	__attribute__((format(printf, 3, 0)));
void hci_jw_bool_field(struct hci_jw *w, const char *name, bool v);
void hci_jw_null_field(struct hci_jw *w, const char *name);

/* s as a JSON string, quotes included, with the escapes above */
void hci_json_escape(FILE *f, const char *s);
#endif
