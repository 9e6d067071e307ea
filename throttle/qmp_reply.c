// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The JSON reader (json.h). Two passes over the text with the same
 * recursive-descent parser: the first validates and counts the nodes and
 * string bytes, the second fills one allocation of exactly that size. So
 * memory is proportional to what the text holds, never to a guess.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "qmp_reply.h"

struct jp {
	const char *s;
	size_t len, pos;
	bool fill;			/* second pass: write nodes and strings */
	struct hci_json *nodes;
	size_t nnodes;
	char *strs;
	size_t nstrs;
	char *err;
	size_t errlen;
};

static int fail(struct jp *p, const char *what)
{
	if (p->err && p->errlen)
		snprintf(p->err, p->errlen, "JSON: %s at byte %zu", what, p->pos);
	return -EINVAL;
}

static void ws(struct jp *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
				   p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static struct hci_json *new_node(struct jp *p, enum hci_json_type t)
{
	struct hci_json *n = NULL;

	if (p->fill) {
		n = &p->nodes[p->nnodes];
		memset(n, 0, sizeof(*n));
		n->type = t;
	}
	p->nnodes++;
	return n;
}

static void put(struct jp *p, char c)
{
	if (p->fill)
		p->strs[p->nstrs] = c;
	p->nstrs++;
}

static int hex4(struct jp *p, unsigned int *out)
{
	unsigned int v = 0;

	if (p->len - p->pos < 4)
		return fail(p, "short \\u escape");
	for (int i = 0; i < 4; i++) {
		char c = p->s[p->pos++];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned int)(c - 'A' + 10);
		else
			return fail(p, "bad hex digit in \\u escape");
	}
	*out = v;
	return 0;
}

static void put_utf8(struct jp *p, unsigned int cp)
{
	if (cp < 0x80) {
		put(p, (char)cp);
	} else if (cp < 0x800) {
		put(p, (char)(0xc0 | (cp >> 6)));
		put(p, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		put(p, (char)(0xe0 | (cp >> 12)));
		put(p, (char)(0x80 | ((cp >> 6) & 0x3f)));
		put(p, (char)(0x80 | (cp & 0x3f)));
	} else {
		put(p, (char)(0xf0 | (cp >> 18)));
		put(p, (char)(0x80 | ((cp >> 12) & 0x3f)));
		put(p, (char)(0x80 | ((cp >> 6) & 0x3f)));
		put(p, (char)(0x80 | (cp & 0x3f)));
	}
}

/* A string at p->pos (the opening quote): its bytes go to the string area.
 * *nul tells whether it holds a NUL (escaped as \u0000). */
static int string(struct jp *p, const char **out, size_t *outlen, bool *nul)
{
	size_t start = p->nstrs;
	int rc;

	*nul = false;
	p->pos++;
	for (;;) {
		unsigned char c;

		if (p->pos >= p->len)
			return fail(p, "unterminated string");
		c = (unsigned char)p->s[p->pos++];
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(p, "control character in string");
		if (c != '\\') {
			put(p, (char)c);
			continue;
		}
		if (p->pos >= p->len)
			return fail(p, "unterminated string");
		c = (unsigned char)p->s[p->pos++];
		switch (c) {
		case '"': case '\\': case '/': put(p, (char)c); break;
		case 'b': put(p, '\b'); break;
		case 'f': put(p, '\f'); break;
		case 'n': put(p, '\n'); break;
		case 'r': put(p, '\r'); break;
		case 't': put(p, '\t'); break;
		case 'u': {
			unsigned int cp, lo;

			rc = hex4(p, &cp);
			if (rc)
				return rc;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return fail(p, "lone low surrogate");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (p->len - p->pos < 2 || p->s[p->pos] != '\\' ||
				    p->s[p->pos + 1] != 'u')
					return fail(p, "lone high surrogate");
				p->pos += 2;
				rc = hex4(p, &lo);
				if (rc)
					return rc;
				if (lo < 0xdc00 || lo > 0xdfff)
					return fail(p, "bad surrogate pair");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (!cp)
				*nul = true;
			put_utf8(p, cp);
			break;
		}
		default:
			return fail(p, "bad escape in string");
		}
	}
	if (outlen)
		*outlen = p->nstrs - start;
	put(p, '\0');
	if (out)
		*out = p->fill ? p->strs + start : NULL;
	return 0;
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

static int number(struct jp *p, struct hci_json *n)
{
	size_t start = p->pos;
	char buf[64];

	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->len || !digit(p->s[p->pos]))
		return fail(p, "bad number");
	if (p->s[p->pos] == '0')
		p->pos++;
	else
		while (p->pos < p->len && digit(p->s[p->pos]))
			p->pos++;
	if (p->pos < p->len && p->s[p->pos] == '.') {
		p->pos++;
		if (p->pos >= p->len || !digit(p->s[p->pos]))
			return fail(p, "bad fraction");
		while (p->pos < p->len && digit(p->s[p->pos]))
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || !digit(p->s[p->pos]))
			return fail(p, "bad exponent");
		while (p->pos < p->len && digit(p->s[p->pos]))
			p->pos++;
	}
	if (p->pos - start >= sizeof(buf))
		return fail(p, "number too long");
	if (n) {
		memcpy(buf, p->s + start, p->pos - start);
		buf[p->pos - start] = '\0';
		n->num = strtod(buf, NULL);	/* overflow gives +-HUGE_VAL */
	}
	return 0;
}

static int literal(struct jp *p, const char *word)
{
	size_t l = strlen(word);

	if (p->len - p->pos < l || memcmp(p->s + p->pos, word, l))
		return fail(p, "unexpected character");
	p->pos += l;
	return 0;
}

static int value(struct jp *p, struct hci_json **out, int depth);

/* An array or object at p->pos: members linked in order. */
static int container(struct jp *p, struct hci_json *n, bool obj, int depth)
{
	struct hci_json **link = n ? &n->child : NULL;
	char close = obj ? '}' : ']';
	size_t count = 0;

	if (depth >= HCI_JSON_MAX_DEPTH)
		return fail(p, "nested too deeply");
	p->pos++;
	ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		const char *key = NULL;
		struct hci_json *m;
		bool nul;
		int rc;

		ws(p);
		if (obj) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return fail(p, "expected a member name");
			rc = string(p, &key, NULL, &nul);
			if (rc)
				return rc;
			/* a name is compared as a C string: "a\u0000b" would pass for "a" */
			if (nul)
				return fail(p, "NUL in a member name");
			ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return fail(p, "expected ':'");
			p->pos++;
		}
		rc = value(p, &m, depth + 1);
		if (rc)
			return rc;
		count++;
		if (m) {
			m->key = key;
			*link = m;
			link = &m->next;
		}
		ws(p);
		if (p->pos >= p->len)
			return fail(p, obj ? "unterminated object" : "unterminated array");
		if (p->s[p->pos] == close) {
			p->pos++;
			break;
		}
		if (p->s[p->pos] != ',')
			return fail(p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
		p->pos++;
	}
	if (n)
		n->len = count;
	return 0;
}

static int value(struct jp *p, struct hci_json **out, int depth)
{
	struct hci_json *n;

	ws(p);
	*out = NULL;
	if (p->pos >= p->len)
		return fail(p, "expected a value");
	switch (p->s[p->pos]) {
	case '{':
		n = new_node(p, HCI_JSON_OBJ);
		*out = n;
		return container(p, n, true, depth);
	case '[':
		n = new_node(p, HCI_JSON_ARR);
		*out = n;
		return container(p, n, false, depth);
	case '"': {
		const char *s;
		size_t l;
		bool nul;
		int rc;

		n = new_node(p, HCI_JSON_STR);
		*out = n;
		rc = string(p, &s, &l, &nul);
		if (!rc && n) {
			n->str = s;
			n->len = l;
		}
		return rc;
	}
	case 't':
		n = new_node(p, HCI_JSON_BOOL);
		*out = n;
		if (n)
			n->b = true;
		return literal(p, "true");
	case 'f':
		*out = new_node(p, HCI_JSON_BOOL);
		return literal(p, "false");
	case 'n':
		*out = new_node(p, HCI_JSON_NULL);
		return literal(p, "null");
	default:
		n = new_node(p, HCI_JSON_NUM);
		*out = n;
		return number(p, n);
	}
}

static int parse(struct jp *p, struct hci_json **root)
{
	int rc = value(p, root, 0);

	if (rc)
		return rc;
	ws(p);
	if (p->pos != p->len)
		return fail(p, "trailing characters");
	return 0;
}

int hci_json_parse(const char *text, size_t len, struct hci_json_doc *doc, char *err,
		   size_t errlen)
{
	struct jp p = { .s = text, .len = len, .err = err, .errlen = errlen };
	size_t nodes, strs;
	int rc;

	doc->root = NULL;
	doc->mem = NULL;
	rc = parse(&p, &doc->root);	/* count */
	if (rc)
		return rc;
	nodes = p.nnodes;
	strs = p.nstrs;
	doc->mem = malloc(nodes * sizeof(struct hci_json) + strs + 1);
	if (!doc->mem) {
		if (err && errlen)
			snprintf(err, errlen, "JSON: out of memory");
		return -ENOMEM;
	}
	p = (struct jp){ .s = text, .len = len, .err = err, .errlen = errlen, .fill = true,
			 .nodes = doc->mem,
			 .strs = (char *)doc->mem + nodes * sizeof(struct hci_json) };
	rc = parse(&p, &doc->root);	/* fill: the same text cannot fail now */
	if (rc || p.nnodes != nodes || p.nstrs != strs) {
		hci_json_free(doc);
		return rc ? rc : -EINVAL;
	}
	return 0;
}

void hci_json_free(struct hci_json_doc *doc)
{
	free(doc->mem);
	doc->mem = NULL;
	doc->root = NULL;
}

const struct hci_json *hci_json_get(const struct hci_json *obj, const char *key)
{
	if (!obj || obj->type != HCI_JSON_OBJ)
		return NULL;
	for (const struct hci_json *m = obj->child; m; m = m->next)
		if (!strcmp(m->key, key))
			return m;
	return NULL;
}

const char *hci_json_str(const struct hci_json *obj, const char *key)
{
	const struct hci_json *m = hci_json_get(obj, key);

	return m && m->type == HCI_JSON_STR ? m->str : NULL;
}

bool hci_json_num(const struct hci_json *obj, const char *key, double *out)
{
	const struct hci_json *m = hci_json_get(obj, key);

	if (!m || m->type != HCI_JSON_NUM || !isfinite(m->num))
		return false;
	*out = m->num;
	return true;
}
