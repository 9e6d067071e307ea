// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Prometheus text exposition writer (prom.h): the buffer, names,
 * escapes, samples and the log2-us histogram. The atomic file write is in
 * promfile.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "prom.h"

void hci_prom_init(struct hci_prom *p)
{
	memset(p, 0, sizeof(*p));
}

void hci_prom_reset(struct hci_prom *p)
{
	p->len = 0;
	p->err = 0;
	if (p->buf)
		p->buf[0] = '\0';
}

void hci_prom_free(struct hci_prom *p)
{
	free(p->buf);
	hci_prom_init(p);
}

/* room for @n more bytes and the NUL */
static int grow(struct hci_prom *p, size_t n)
{
	size_t cap = p->cap ? p->cap : 4096;
	char *b;

	if (p->err)
		return -1;
	if (p->len + n + 1 <= p->cap)
		return 0;
	while (cap < p->len + n + 1)
		cap *= 2;
	b = realloc(p->buf, cap);
	if (!b) {
		p->err = -ENOMEM;
		return -1;
	}
	p->buf = b;
	p->cap = cap;
	return 0;
}

static void put(struct hci_prom *p, const char *s, size_t n)
{
	if (grow(p, n))
		return;
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

static void puts_(struct hci_prom *p, const char *s)
{
	put(p, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3))) putf(struct hci_prom *p, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* only numbers go through here: 128 bytes hold any of them */
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		p->err = p->err ? p->err : -EINVAL;
		return;
	}
	put(p, tmp, (size_t)n);
}

int hci_prom_name_ok(const char *s, int label)
{
	if (!s || !*s)
		return 0;
	for (const char *c = s; *c; c++) {
		int alpha = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_';
		int digit = *c >= '0' && *c <= '9';

		if (!alpha && !(digit && c != s) && !(*c == ':' && !label))
			return 0;
	}
	return 1;
}

static int check_name(struct hci_prom *p, const char *s, int label)
{
	if (hci_prom_name_ok(s, label))
		return 0;
	if (!p->err)
		p->err = -EINVAL;
	return -1;
}

/*
 * The length of the valid UTF-8 sequence at @s (1 to 4), or 0 where it is
 * not one: overlong forms, surrogates and code points past U+10FFFF are
 * not valid, as Go's utf8.ValidString (Prometheus's parser) has it.
 */
static int utf8_len(const unsigned char *s)
{
	unsigned int c = s[0], n, cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (unsigned int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return (int)n;
}

void hci_prom_escape_label(struct hci_prom *p, const char *s)
{
	const unsigned char *c = (const unsigned char *)s;

	while (*c) {
		int n = utf8_len(c);

		if (*c == '\\')
			put(p, "\\\\", 2);
		else if (*c == '"')
			put(p, "\\\"", 2);
		else if (*c == '\n')
			put(p, "\\n", 2);
		else if (n)
			put(p, (const char *)c, (size_t)n);
		else
			put(p, "\xef\xbf\xbd", 3);	/* U+FFFD for the one bad byte */
		c += n ? n : 1;
	}
}

void hci_prom_escape_help(struct hci_prom *p, const char *s)
{
	for (const char *c = s; *c; c++) {
		if (*c == '\\')
			put(p, "\\\\", 2);
		else if (*c == '\n')
			put(p, "\\n", 2);
		else
			put(p, c, 1);
	}
}

void hci_prom_family(struct hci_prom *p, const char *name, enum hci_prom_type type,
		     const char *help)
{
	static const char *const types[] = {
		[HCI_PROM_COUNTER] = "counter", [HCI_PROM_GAUGE] = "gauge",
		[HCI_PROM_HISTOGRAM] = "histogram", [HCI_PROM_UNTYPED] = "untyped",
	};

	if (check_name(p, name, 0) || (unsigned int)type > HCI_PROM_UNTYPED)
		return;
	puts_(p, "# HELP ");
	puts_(p, name);
	put(p, " ", 1);
	hci_prom_escape_help(p, help ? help : "");
	puts_(p, "\n# TYPE ");
	puts_(p, name);
	put(p, " ", 1);
	puts_(p, types[type]);
	put(p, "\n", 1);
}

/* name{a="x",b="y"[,le="..."]}, then a space; no braces without labels */
static int series(struct hci_prom *p, const char *name, const char *suffix,
		  const struct hci_prom_label *l, size_t nl, const char *le)
{
	if (check_name(p, name, 0))
		return -1;
	puts_(p, name);
	puts_(p, suffix);
	if (nl || le)
		put(p, "{", 1);
	for (size_t i = 0; i < nl; i++) {
		if (check_name(p, l[i].name, 1))
			return -1;
		if (i)
			put(p, ",", 1);
		puts_(p, l[i].name);
		put(p, "=\"", 2);
		hci_prom_escape_label(p, l[i].value ? l[i].value : "");
		put(p, "\"", 1);
	}
	if (le) {
		puts_(p, nl ? ",le=\"" : "le=\"");
		puts_(p, le);
		put(p, "\"", 1);
	}
	puts_(p, (nl || le) ? "} " : " ");
	return p->err ? -1 : 0;
}

void hci_prom_sample(struct hci_prom *p, const char *name, const struct hci_prom_label *l,
		     size_t nl, double v)
{
	if (series(p, name, "", l, nl, NULL))
		return;
	if (isnan(v))
		puts_(p, "NaN\n");
	else if (isinf(v))
		puts_(p, v > 0 ? "+Inf\n" : "-Inf\n");
	else
		putf(p, "%.17g\n", v);
}

void hci_prom_sample_u64(struct hci_prom *p, const char *name, const struct hci_prom_label *l,
			 size_t nl, uint64_t v)
{
	if (!series(p, name, "", l, nl, NULL))
		putf(p, "%" PRIu64 "\n", v);
}

void hci_prom_le(unsigned int b, char *buf, size_t len)
{
	/* 2^b microseconds is 2^b with the decimal point six places left */
	uint64_t us = 1ULL << b;

	snprintf(buf, len, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
}

void hci_prom_hist_log2us(struct hci_prom *p, const char *name, const struct hci_prom_label *l,
			  size_t nl, const __u64 slots[HCI_NBUCKETS], __u64 sum_ns)
{
	uint64_t cum = 0;
	char le[32];

	for (unsigned int b = 0; b < HCI_NBUCKETS - 1; b++) {
		cum += slots[b];
		hci_prom_le(b, le, sizeof(le));
		if (series(p, name, "_bucket", l, nl, le))
			return;
		putf(p, "%" PRIu64 "\n", cum);
	}
	cum += slots[HCI_NBUCKETS - 1];
	if (series(p, name, "_bucket", l, nl, "+Inf"))
		return;
	putf(p, "%" PRIu64 "\n", cum);
	if (series(p, name, "_sum", l, nl, NULL))
		return;
	putf(p, "%llu.%09llu\n", sum_ns / 1000000000ULL, sum_ns % 1000000000ULL);
	if (!series(p, name, "_count", l, nl, NULL))
		putf(p, "%" PRIu64 "\n", cum);
}
