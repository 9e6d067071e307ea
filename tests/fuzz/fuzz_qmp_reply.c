// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the JSON reader (throttle/qmp_reply.c): hcithrottle feeds it
 * what a QMP socket sends. Build and run: make build/fuzz_qmp_reply, then
 * tests/t/16-fuzz-qmp-reply.t, or docs/testing.md for longer runs.
 *
 * Each input is parsed once. A failure must be -EINVAL or -ENOMEM with no
 * tree, no memory and a "JSON: " message (-EINVAL: at a byte within the
 * input). A success must give a tree no deeper than the nesting limit in
 * which object members have keys and array members none, each container's
 * len counts its members, strings end in a NUL at str[len], numbers are not
 * NaN, and hci_json_get/str/num find each member's key's first member.
 * The tree is then written back as JSON text (unless a number is infinite),
 * which must parse to an equal tree. Any violation traps.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "throttle/qmp_reply.h"

#define check(c) do { if (!(c)) __builtin_trap(); } while (0)

/* levels of nodes: a scalar inside HCI_JSON_MAX_DEPTH containers is the deepest */
#define MAX_LEVELS (HCI_JSON_MAX_DEPTH + 1)

/* The member of obj that hci_json_get should find for key: the first by strcmp. */
static const struct hci_json *first(const struct hci_json *obj, const char *key)
{
	for (const struct hci_json *m = obj->child; m; m = m->next)
		if (!strcmp(m->key, key))
			return m;
	return NULL;
}

static void check_lookups(const struct hci_json *obj)
{
	for (const struct hci_json *m = obj->child; m; m = m->next) {
		const struct hci_json *f = first(obj, m->key);
		const char *s = hci_json_str(obj, m->key);
		double v = 0;
		bool got;

		check(f != NULL);
		check(hci_json_get(obj, m->key) == f);
		check(s == (f->type == HCI_JSON_STR ? f->str : NULL));
		got = hci_json_num(obj, m->key, &v);
		check(got == (f->type == HCI_JSON_NUM && isfinite(f->num)));
		check(!got || v == f->num);
	}
}

/* Checks n and everything under it (n at level 1..MAX_LEVELS); says if a number is infinite. */
static void walk(const struct hci_json *n, int level, bool in_obj, bool *inf)
{
	size_t count = 0;

	check(level >= 1 && level <= MAX_LEVELS);
	check(in_obj ? n->key != NULL : n->key == NULL);
	switch (n->type) {
	case HCI_JSON_NULL:
	case HCI_JSON_BOOL:
		check(n->child == NULL && n->str == NULL && n->len == 0);
		check(n->type == HCI_JSON_BOOL || !n->b);
		break;
	case HCI_JSON_NUM:
		check(n->child == NULL && n->str == NULL && n->len == 0 && !n->b);
		check(!isnan(n->num));
		if (isinf(n->num))
			*inf = true;
		break;
	case HCI_JSON_STR:
		check(n->child == NULL && !n->b);
		check(n->str != NULL && n->str[n->len] == '\0');
		break;
	case HCI_JSON_ARR:
	case HCI_JSON_OBJ:
		check(n->str == NULL && !n->b);
		check(level < MAX_LEVELS);
		for (const struct hci_json *m = n->child; m; m = m->next) {
			walk(m, level + 1, n->type == HCI_JSON_OBJ, inf);
			count++;
		}
		check(count == n->len);
		if (n->type == HCI_JSON_OBJ)
			check_lookups(n);
		else
			check(hci_json_get(n, "") == NULL);
		break;
	default:
		check(0);
	}
}

/* A growing text buffer for the writer. */
struct buf {
	char *s;
	size_t len, cap;
};

static void out(struct buf *b, const char *s, size_t n)
{
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap - b->len < n)
			cap *= 2;
		b->s = realloc(b->s, cap);
		check(b->s != NULL);
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
}

static void out_str(struct buf *b, const char *s, size_t n)
{
	out(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			out(b, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			out(b, esc, 6);
		} else {
			out(b, (const char *)&s[i], 1);
		}
	}
	out(b, "\"", 1);
}

/* n as JSON text (member names hold no NUL: json.c refuses them). */
static void write_json(struct buf *b, const struct hci_json *n)
{
	char num[32];
	int l;

	switch (n->type) {
	case HCI_JSON_NULL:
		out(b, "null", 4);
		break;
	case HCI_JSON_BOOL:
		if (n->b)
			out(b, "true", 4);
		else
			out(b, "false", 5);
		break;
	case HCI_JSON_NUM:
		l = snprintf(num, sizeof(num), "%.17g", n->num);
		check(l > 0 && (size_t)l < sizeof(num));
		out(b, num, (size_t)l);
		break;
	case HCI_JSON_STR:
		out_str(b, n->str, n->len);
		break;
	case HCI_JSON_ARR:
	case HCI_JSON_OBJ:
		out(b, n->type == HCI_JSON_OBJ ? "{" : "[", 1);
		for (const struct hci_json *m = n->child; m; m = m->next) {
			if (m != n->child)
				out(b, ",", 1);
			if (n->type == HCI_JSON_OBJ) {
				out_str(b, m->key, strlen(m->key));
				out(b, ":", 1);
			}
			write_json(b, m);
		}
		out(b, n->type == HCI_JSON_OBJ ? "}" : "]", 1);
		break;
	}
}

static bool equal(const struct hci_json *a, const struct hci_json *b, int level)
{
	const struct hci_json *x, *y;

	check(level <= MAX_LEVELS);
	if (a->type != b->type || a->len != b->len)
		return false;
	if ((a->key == NULL) != (b->key == NULL) || (a->key && strcmp(a->key, b->key)))
		return false;
	switch (a->type) {
	case HCI_JSON_NULL:
		return true;
	case HCI_JSON_BOOL:
		return a->b == b->b;
	case HCI_JSON_NUM:
		/* and -0 stays -0 */
		return a->num == b->num && signbit(a->num) == signbit(b->num);
	case HCI_JSON_STR:
		return !memcmp(a->str, b->str, a->len);
	case HCI_JSON_ARR:
	case HCI_JSON_OBJ:
		for (x = a->child, y = b->child; x && y; x = x->next, y = y->next)
			if (!equal(x, y, level + 1))
				return false;
		return !x && !y;
	}
	return false;
}

static void check_failure(int rc, const struct hci_json_doc *d, const char *err, size_t size)
{
	const char *at;
	char *end;
	unsigned long long pos;

	check(rc == -EINVAL || rc == -ENOMEM);
	check(d->root == NULL && d->mem == NULL);
	check(!strncmp(err, "JSON: ", 6));
	if (rc == -EINVAL) {
		at = strstr(err, " at byte ");
		check(at != NULL);
		pos = strtoull(at + 9, &end, 10);
		check(end != at + 9 && *end == '\0' && pos <= size);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hci_json_doc d, d2;
	struct buf b = { 0 };
	char err[128] = "";
	bool inf = false;
	int rc;

	rc = hci_json_parse((const char *)data, size, &d, err, sizeof(err));
	if (rc) {
		check_failure(rc, &d, err, size);
		return 0;
	}
	check(d.root != NULL && d.mem != NULL);
	check(d.root->next == NULL);
	walk(d.root, 1, false, &inf);

	if (!inf) {
		write_json(&b, d.root);
		err[0] = '\0';
		rc = hci_json_parse(b.s, b.len, &d2, err, sizeof(err));
		check(rc == 0 && d2.root != NULL && d2.mem != NULL);
		walk(d2.root, 1, false, &inf);
		check(!inf);
		check(equal(d.root, d2.root, 1));
		hci_json_free(&d2);
		check(d2.root == NULL && d2.mem == NULL);
		free(b.s);
	}
	hci_json_free(&d);
	check(d.root == NULL && d.mem == NULL);
	return 0;
}
