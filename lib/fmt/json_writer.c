// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The streaming JSON writer of json_writer.h: separators, nesting, escapes. */
#include <errno.h>
#include <inttypes.h>
#include "json_writer.h"

void hci_jw_init(struct hci_jw *w, FILE *f, bool pretty)
{
	*w = (struct hci_jw){ .f = f, .pretty = pretty };
}

static void fail(struct hci_jw *w, int err)
{
	if (!w->err)
		w->err = err;
}

void hci_json_escape(FILE *f, const char *s)
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

static void indent(struct hci_jw *w, int depth)
{
	fputc('\n', w->f);
	for (int i = 0; i < depth; i++)
		fputs("    ", w->f);
}

/*
 * Before a name, or a value that has no name: the comma, the line break,
 * and the check that the item belongs here. False when it does not (the
 * writer then writes nothing more).
 */
static bool begin_item(struct hci_jw *w, bool is_name)
{
	if (w->err)
		return false;
	if (!w->depth) {
		if (is_name || w->root_done) {
			fail(w, -EINVAL);
			return false;
		}
		return true;
	}
	if (w->named) {
		/* the value of the name just written; a second name is wrong */
		if (is_name) {
			fail(w, -EINVAL);
			return false;
		}
		w->named = false;
		return true;
	}
	if (is_name != (w->st[w->depth - 1].close == '}')) {
		fail(w, -EINVAL);	/* a bare value in an object, a name in an array */
		return false;
	}
	if (w->st[w->depth - 1].items++)
		fputc(',', w->f);
	if (w->pretty)
		indent(w, w->depth);
	else if (w->brk || w->st[w->depth - 1].lines)
		fputc('\n', w->f);
	w->brk = false;
	return true;
}

static void end_value(struct hci_jw *w)
{
	if (!w->depth)
		w->root_done = true;
}

static void start(struct hci_jw *w, char open, char close)
{
	if (!begin_item(w, false))
		return;
	if (w->depth == HCI_JW_MAX_DEPTH) {
		fail(w, -EINVAL);
		return;
	}
	fputc(open, w->f);
	w->st[w->depth].close = close;
	w->st[w->depth].lines = false;
	w->st[w->depth].items = 0;
	w->depth++;
}

static void end(struct hci_jw *w, char close)
{
	if (w->err)
		return;
	if (!w->depth || w->named || w->st[w->depth - 1].close != close) {
		fail(w, -EINVAL);
		return;
	}
	w->depth--;
	if (w->pretty && w->st[w->depth].items)
		indent(w, w->depth);
	fputc(close, w->f);
	w->brk = false;
	end_value(w);
}

void hci_jw_start_object(struct hci_jw *w)
{
	start(w, '{', '}');
}

void hci_jw_end_object(struct hci_jw *w)
{
	end(w, '}');
}

void hci_jw_start_array(struct hci_jw *w)
{
	start(w, '[', ']');
}

void hci_jw_end_array(struct hci_jw *w)
{
	end(w, ']');
}

void hci_jw_lines(struct hci_jw *w)
{
	if (w->depth)
		w->st[w->depth - 1].lines = true;
}

void hci_jw_break(struct hci_jw *w)
{
	w->brk = true;
}

void hci_jw_name(struct hci_jw *w, const char *name)
{
	if (!begin_item(w, true))
		return;
	hci_json_escape(w->f, name);
	fputs(w->pretty ? ": " : ":", w->f);
	w->named = true;
}

void hci_jw_string(struct hci_jw *w, const char *s)
{
	if (!begin_item(w, false))
		return;
	hci_json_escape(w->f, s);
	end_value(w);
}

void hci_jw_uint(struct hci_jw *w, uint64_t v)
{
	if (!begin_item(w, false))
		return;
	fprintf(w->f, "%" PRIu64, v);
	end_value(w);
}

void hci_jw_int(struct hci_jw *w, int64_t v)
{
	if (!begin_item(w, false))
		return;
	fprintf(w->f, "%" PRId64, v);
	end_value(w);
}

void hci_jw_float(struct hci_jw *w, const char *fmt, double v)
{
	if (!begin_item(w, false))
		return;
	fprintf(w->f, fmt, v);
	end_value(w);
}

void hci_jw_bool(struct hci_jw *w, bool v)
{
	if (!begin_item(w, false))
		return;
	fputs(v ? "true" : "false", w->f);
	end_value(w);
}

void hci_jw_null(struct hci_jw *w)
{
	if (!begin_item(w, false))
		return;
	fputs("null", w->f);
	end_value(w);
}

void hci_jw_string_field(struct hci_jw *w, const char *name, const char *s)
{
	hci_jw_name(w, name);
	hci_jw_string(w, s);
}

void hci_jw_uint_field(struct hci_jw *w, const char *name, uint64_t v)
{
	hci_jw_name(w, name);
	hci_jw_uint(w, v);
}

void hci_jw_int_field(struct hci_jw *w, const char *name, int64_t v)
{
	hci_jw_name(w, name);
	hci_jw_int(w, v);
}

void hci_jw_float_field(struct hci_jw *w, const char *name, const char *fmt, double v)
{
	hci_jw_name(w, name);
	hci_jw_float(w, fmt, v);
}

void hci_jw_bool_field(struct hci_jw *w, const char *name, bool v)
{
	hci_jw_name(w, name);
	hci_jw_bool(w, v);
}

void hci_jw_null_field(struct hci_jw *w, const char *name)
{
	hci_jw_name(w, name);
	hci_jw_null(w);
}

int hci_jw_finish(struct hci_jw *w)
{
	if (!w->err && (w->depth || w->named || !w->root_done))
		fail(w, -EINVAL);
	if (!w->err)
		fputc('\n', w->f);
	if (ferror(w->f))
		fail(w, -EIO);
	return w->err;
}
