// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcithrottle's configuration file, version 1 (the format is in tconf.h).
 * Line-based like hci_rules_load(): hci_tconf_line() parses one line and
 * knows nothing of the file; hci_tconf_load() prefixes "FILE:LINE: ", refuses
 * a single-valued key given twice and checks what needs the whole file.
 * Nothing is truncated silently: a value too long for its field is an error.
 */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -EINVAL; } while (0)

enum tkey {
	/* single-valued: one bit each in the loader's "seen" mask */
	K_VERSION, K_INTERVAL, K_BACKEND, K_DECREASE, K_INCREASE, K_HEALTHY,
	K_STATE, K_LOG, K_LISTEN, K_PROM_FILE,
	/* repeatable */
	K_DEVICE, K_RULE, K_CONTAINER, K_VM, K_QMP,
	K_NKEYS
};
#define K_NSINGLE K_DEVICE

static const char *const key_names[K_NKEYS] = {
	[K_VERSION] = "version",
	[K_INTERVAL] = "interval",
	[K_BACKEND] = "backend",
	[K_DECREASE] = "decrease",
	[K_INCREASE] = "increase",
	[K_HEALTHY] = "healthy_intervals",
	[K_STATE] = "state",
	[K_LOG] = "log",
	[K_LISTEN] = "listen",
	[K_PROM_FILE] = "prom_file",
	[K_DEVICE] = "device",
	[K_RULE] = "rule",
	[K_CONTAINER] = "container",
	[K_VM] = "vm",
	[K_QMP] = "qmp",
};

void hci_tconf_defaults(struct hci_tconf *c)
{
	memset(c, 0, sizeof(*c));
	c->interval_ms = 200;
	c->backend = HCI_BACKEND_CGROUP;
	c->decrease = 0.5;
	c->increase = 0.1;
	c->healthy_intervals = 5;
	strcpy(c->state_path, "/run/hcithrottle/state");
}

void hci_tconf_free(struct hci_tconf *c)
{
	hci_rules_free(&c->rules);
}

static char *trim(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	while (*s && isspace((unsigned char)*s))
		s++;
	return s;
}

static bool has_space(const char *s)
{
	for (; *s; s++)
		if (isspace((unsigned char)*s))
			return true;
	return false;
}

/* Copy src into a field of size len, or say which value is too long. */
static int copy_field(char *dst, size_t len, const char *src, const char *what,
		      char *err, size_t errlen)
{
	size_t n = strlen(src);

	if (n >= len)
		FAIL("%s '%.40s...' longer than %zu bytes", what, src, len - 1);
	memcpy(dst, src, n + 1);
	return 0;
}

/*
 * A non-negative decimal number at the start of s; *end is left after it.
 * A leading digit or '.' is required, so strtod's "inf", "nan", signs and
 * leading blanks are refused; so is hexadecimal.
 */
static bool parse_num(const char *s, double *v, const char **end)
{
	char *e;

	if (!isdigit((unsigned char)s[0]) &&
	    !(s[0] == '.' && isdigit((unsigned char)s[1])))
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return false;
	errno = 0;
	*v = strtod(s, &e);
	if (errno || e == s || !(*v >= 0 && *v <= DBL_MAX))
		return false;
	*end = e;
	return true;
}

/* A whole non-negative decimal number, nothing after it. */
static bool parse_plain(const char *s, double *v)
{
	const char *e;

	return parse_num(s, v, &e) && !*e;
}

static bool parse_uint(const char *s, unsigned long *v)
{
	char *e;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	*v = strtoul(s, &e, 10);
	return !errno && e != s && !*e;
}

/* "1500us", "2ms", "0.5s"; a bare number is refused. */
static bool parse_duration_us(const char *s, double *us)
{
	const char *e;
	double v, mult;

	if (!parse_num(s, &v, &e))
		return false;
	if (!strcmp(e, "us"))
		mult = 1;
	else if (!strcmp(e, "ms"))
		mult = 1e3;
	else if (!strcmp(e, "s"))
		mult = 1e6;
	else
		return false;
	*us = v * mult;
	return *us <= DBL_MAX;
}

/* Bytes: plain, or with K, M, G (powers of 1024). */
static bool parse_size(const char *s, double *bytes)
{
	const char *e;
	double v, mult;

	if (!parse_num(s, &v, &e))
		return false;
	if (!*e)
		mult = 1;
	else if (!strcmp(e, "K") || !strcmp(e, "k"))
		mult = 1024.0;
	else if (!strcmp(e, "M") || !strcmp(e, "m"))
		mult = 1024.0 * 1024;
	else if (!strcmp(e, "G") || !strcmp(e, "g"))
		mult = 1024.0 * 1024 * 1024;
	else
		return false;
	*bytes = v * mult;
	return *bytes <= DBL_MAX;
}

static int parse_interval(struct hci_tconf *c, const char *v, char *err, size_t errlen)
{
	double us, ms;
	unsigned int whole;

	/* a bare number is refused: "100" could be ms or s, and a guess is wrong
	 * by 1000x */
	if (!parse_duration_us(v, &us))
		FAIL("invalid interval '%s': want a duration with its unit, like 200ms or 1s", v);
	ms = us / 1e3;
	if (ms < 10 || ms > 10000)
		FAIL("interval '%s' out of range 10ms..10s", v);
	whole = (unsigned int)(ms + 0.5);
	if (ms - whole > 1e-6 || whole - ms > 1e-6)
		FAIL("interval '%s' is not a whole number of milliseconds", v);
	c->interval_ms = whole;
	return 0;
}

static int parse_device(struct hci_tconf *c, const char *v, char *err, size_t errlen)
{
	const char *name = v;

	if (has_space(v))
		FAIL("device '%s': one disk name per device line, no spaces", v);
	if (v[0] == '/') {
		if (strncmp(v, "/dev/", 5))
			FAIL("device '%s': want a disk name (loop0) or a /dev path", v);
		name = v + 5;
	}
	if (!name[0] || (v[0] != '/' && strchr(v, '/')))
		FAIL("device '%s': want a disk name (loop0) or a /dev path", v);
	for (int i = 0; i < c->ndevices; i++)
		if (!strcmp(c->devices[i], v))
			FAIL("device '%s' given twice", v);
	if (c->ndevices == HCI_TCONF_MAX)
		FAIL("too many device lines (at most %d)", HCI_TCONF_MAX);
	if (copy_field(c->devices[c->ndevices], sizeof(c->devices[0]), v, "device",
		       err, errlen))
		return -EINVAL;
	c->ndevices++;
	return 0;
}

/* "CLASS:GLOB" with a non-empty glob, class as the key says. */
static int check_pattern(const char *key, const char *pat, char *err, size_t errlen)
{
	size_t n = strlen(key);

	if (strncmp(pat, key, n) || pat[n] != ':' || !pat[n + 1])
		FAIL("%s pattern '%s' must be %s:GLOB (e.g. %s:*)", key, pat, key, key);
	if (n + 1 + strlen(pat + n + 1) >= HCI_ORIGIN_MAX)
		FAIL("%s pattern longer than %d bytes", key, HCI_ORIGIN_MAX - 1);
	return 0;
}

/*
 * Does the earlier pattern match every origin pat matches? Then a line for
 * pat never applies (the first match wins). Only the sure cases: the same
 * glob, a glob of only '*', or a literal name the earlier glob matches.
 */
static bool covers(const char *earlier, const char *pat)
{
	const char *e = strchr(earlier, ':') + 1, *p = strchr(pat, ':') + 1;

	if (!strcmp(e, p) || strspn(e, "*") == strlen(e))
		return true;
	return !strpbrk(p, "*?[\\") && fnmatch(e, p, 0) == 0;
}

static int check_reachable(const char *key, const char *pat, const char *earlier,
			   char *err, size_t errlen)
{
	if (covers(earlier, pat))
		FAIL("%s '%s' never applies: the earlier %s '%s' matches %s first "
		     "(remove this line, or move it above that one)", key, pat, key, earlier,
		     strcmp(pat, earlier) ? "everything it does" : "it");
	return 0;
}

/* Split "NAME=VALUE" in place; false when it is not of that form. */
static bool split_attr(char *tok, char **val)
{
	char *eq = strchr(tok, '=');

	if (!eq || eq == tok || !eq[1])
		return false;
	*eq = '\0';
	*val = eq + 1;
	return true;
}

/*
 * A "KEY KEY:GLOB NAME=VALUE..." line (container, vm) names its attributes
 * from a table: each one may stand once, and sets a double of the line's
 * item (a struct hci_ttarget or hci_tfloor) from VALUE, read as its kind.
 */
enum attr_kind {
	ATTR_COUNT,	/* a plain number >= 0 */
	ATTR_BYTES,	/* bytes/s, or with K, M, G */
	ATTR_P99,	/* a duration, or a multiple (1.5x): sets p99_us or p99_rel */
};

struct attr_rule {
	const char *name;
	enum attr_kind kind;
	size_t field;		/* offsetof the double it sets */
};

static int parse_p99(struct hci_ttarget *t, const char *key, const char *pat, const char *val,
		     char *err, size_t errlen)
{
	size_t n = strlen(val);
	const char *e;

	if (val[n - 1] == 'x') {
		if (!parse_num(val, &t->p99_rel, &e) || e != val + n - 1)
			FAIL("%s %s: invalid p99 '%s'", key, pat, val);
		if (t->p99_rel < 1.0)
			FAIL("%s %s: p99 '%s' below 1x the solo baseline", key, pat, val);
		return 0;
	}
	if (!parse_duration_us(val, &t->p99_us))
		FAIL("%s %s: invalid p99 '%s': want 2ms, 1500us, 0.002s or 1.5x", key, pat, val);
	if (t->p99_us <= 0)
		FAIL("%s %s: p99 '%s' must be above 0", key, pat, val);
	return 0;
}

static int parse_attr(const struct attr_rule *r, void *item, const char *key, const char *pat,
		      const char *val, char *err, size_t errlen)
{
	double *dst = (double *)((char *)item + r->field);

	switch (r->kind) {
	case ATTR_COUNT:
		if (!parse_plain(val, dst))
			FAIL("%s %s: invalid %s '%s': want a number >= 0", key, pat, r->name, val);
		return 0;
	case ATTR_BYTES:
		if (!parse_size(val, dst))
			FAIL("%s %s: invalid %s '%s': want bytes/s, or with K, M, G", key, pat,
			     r->name, val);
		return 0;
	case ATTR_P99:
		return parse_p99(item, key, pat, val, err, errlen);
	}
	return -EINVAL;
}

/* the order of each table is the order its "unknown attribute" message lists */
static const struct attr_rule container_attrs[] = {
	{ "p99", ATTR_P99, 0 },
	{ "min_iops", ATTR_COUNT, offsetof(struct hci_ttarget, min_iops) },
	{ NULL },
};

static const struct attr_rule vm_attrs[] = {
	{ "floor_iops", ATTR_COUNT, offsetof(struct hci_tfloor, iops) },
	{ "floor_bps", ATTR_BYTES, offsetof(struct hci_tfloor, bps) },
	{ NULL },
};

/* "a, b": the table's names, for the "unknown attribute" message */
static void attr_names(const struct attr_rule *rules, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (const struct attr_rule *r = rules; r->name && off < len; r++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", r == rules ? "" : ", ",
					r->name);
}

/*
 * The line v after its KEY: the pattern, checked and copied to pattern
 * (HCI_ORIGIN_MAX bytes), then each NAME=VALUE by its rule. *seen gets a
 * bit per attribute given, in the table's order.
 */
static int parse_pattern_line(const char *key, char *v, char *pattern,
			      const struct attr_rule *rules, void *item, unsigned int *seen,
			      char *err, size_t errlen)
{
	char *save, *tok, *val, names[64];
	const struct attr_rule *r;
	int ret;

	tok = strtok_r(v, " \t", &save);
	ret = check_pattern(key, tok, err, errlen);
	if (ret)
		return ret;
	strcpy(pattern, tok);
	*seen = 0;
	while ((tok = strtok_r(NULL, " \t", &save))) {
		if (!split_attr(tok, &val))
			FAIL("%s %s: '%s' is not NAME=VALUE", key, pattern, tok);
		for (r = rules; r->name && strcmp(r->name, tok); r++)
			;
		if (!r->name) {
			attr_names(rules, names, sizeof(names));
			FAIL("%s %s: unknown attribute '%s' (%s)", key, pattern, tok, names);
		}
		if (*seen & 1u << (r - rules))
			FAIL("%s %s: %s given twice", key, pattern, r->name);
		*seen |= 1u << (r - rules);
		ret = parse_attr(r, item, key, pattern, val, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * A new line's pattern against the n lines before it (their patterns
 * stride bytes apart from earlier[0]): refused when one of them matches
 * everything it does, or when the table (HCI_TCONF_MAX) is full.
 */
static int check_new_line(const char *key, const char *pat, const char *earlier,
			  size_t stride, int n, char *err, size_t errlen)
{
	for (int i = 0; i < n; i++)
		if (check_reachable(key, pat, earlier + (size_t)i * stride, err, errlen))
			return -EINVAL;
	if (n == HCI_TCONF_MAX)
		FAIL("too many %s lines (at most %d)", key, HCI_TCONF_MAX);
	return 0;
}

static int parse_container(struct hci_tconf *c, char *v, char *err, size_t errlen)
{
	struct hci_ttarget t = {0};
	unsigned int seen;
	int ret;

	ret = parse_pattern_line("container", v, t.pattern, container_attrs, &t, &seen,
				 err, errlen);
	if (ret)
		return ret;
	if (!seen)
		FAIL("container %s: needs p99= and/or min_iops=", t.pattern);
	if (check_new_line("container", t.pattern, c->targets[0].pattern,
			   sizeof(c->targets[0]), c->ntargets, err, errlen))
		return -EINVAL;
	c->targets[c->ntargets++] = t;
	return 0;
}

static int parse_vm(struct hci_tconf *c, char *v, char *err, size_t errlen)
{
	struct hci_tfloor f = {0};
	unsigned int seen;
	int ret;

	ret = parse_pattern_line("vm", v, f.pattern, vm_attrs, &f, &seen, err, errlen);
	if (ret)
		return ret;
	if (check_new_line("vm", f.pattern, c->floors[0].pattern, sizeof(c->floors[0]),
			   c->nfloors, err, errlen))
		return -EINVAL;
	c->floors[c->nfloors++] = f;
	return 0;
}

static int parse_qmp(struct hci_tconf *c, char *v, char *err, size_t errlen)
{
	struct hci_tqmp q = {0};
	char *save, *f[4];
	int n = 0;

	for (char *tok = strtok_r(v, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (n == 3)
			FAIL("qmp wants exactly vm:NAME SOCKET DRIVE");
		f[n++] = tok;
	}
	if (n != 3)
		FAIL("qmp wants exactly vm:NAME SOCKET DRIVE");
	if (strncmp(f[0], "vm:", 3) || !f[0][3])
		FAIL("qmp origin '%s' must be vm:NAME", f[0]);
	if (strpbrk(f[0], "*?["))
		FAIL("qmp origin '%s' must name one VM, not a pattern", f[0]);
	if (f[1][0] != '/')
		FAIL("qmp socket '%s' is not an absolute path", f[1]);
	if (copy_field(q.origin, sizeof(q.origin), f[0], "qmp origin", err, errlen) ||
	    copy_field(q.socket, sizeof(q.socket), f[1], "qmp socket", err, errlen) ||
	    copy_field(q.drive, sizeof(q.drive), f[2], "qmp drive", err, errlen))
		return -EINVAL;
	for (int i = 0; i < c->nqmp; i++)
		if (!strcmp(c->qmp[i].origin, q.origin))
			FAIL("qmp for %s given twice", q.origin);
	if (c->nqmp == HCI_TCONF_MAX)
		FAIL("too many qmp lines (at most %d)", HCI_TCONF_MAX);
	c->qmp[c->nqmp++] = q;
	return 0;
}

static int parse_path(char *dst, size_t len, const char *key, const char *v,
		      char *err, size_t errlen)
{
	if (v[0] != '/')
		FAIL("%s '%s' is not an absolute path", key, v);
	return copy_field(dst, len, v, key, err, errlen);
}

static int parse_value(struct hci_tconf *c, enum tkey k, char *v, char *err, size_t errlen)
{
	struct hci_rule r;
	unsigned long u;
	double d;
	int ret;

	switch (k) {
	case K_VERSION:
		if (!parse_uint(v, &u) || u != 1)
			FAIL("unsupported version '%s' (this hcithrottle reads version 1)", v);
		return 0;
	case K_INTERVAL:
		return parse_interval(c, v, err, errlen);
	case K_BACKEND:
		if (!strcmp(v, "cgroup"))
			c->backend = HCI_BACKEND_CGROUP;
		else if (!strcmp(v, "qmp"))
			c->backend = HCI_BACKEND_QMP;
		else if (!strcmp(v, "none"))
			c->backend = HCI_BACKEND_NONE;
		else
			FAIL("unknown backend '%s' (cgroup, qmp or none)", v);
		return 0;
	case K_DECREASE:
		if (!parse_plain(v, &d) || d <= 0 || d >= 1)
			FAIL("invalid decrease '%s': want a factor in (0, 1)", v);
		c->decrease = d;
		return 0;
	case K_INCREASE:
		if (!parse_plain(v, &d) || d <= 0 || d > 1)
			FAIL("invalid increase '%s': want a fraction in (0, 1]", v);
		c->increase = d;
		return 0;
	case K_HEALTHY:
		if (!parse_uint(v, &u) || u < 1 || u > 1000)
			FAIL("invalid healthy_intervals '%s': want 1..1000", v);
		c->healthy_intervals = (unsigned int)u;
		return 0;
	case K_STATE:
		return parse_path(c->state_path, sizeof(c->state_path), "state", v, err, errlen);
	case K_LOG:
		return parse_path(c->log_path, sizeof(c->log_path), "log", v, err, errlen);
	case K_LISTEN:	/* ADDR:PORT, checked where it is bound (metrics.c) */
		if (has_space(v))
			FAIL("invalid listen '%s': want ADDR:PORT or PORT", v);
		return copy_field(c->listen, sizeof(c->listen), v, "listen", err, errlen);
	case K_PROM_FILE:
		return parse_path(c->prom_file, sizeof(c->prom_file), "prom_file", v, err, errlen);
	case K_DEVICE:
		return parse_device(c, v, err, errlen);
	case K_RULE:
		ret = hci_rule_parse(v, &r, err, errlen);
		if (ret)
			return ret;
		if (hci_rules_add(&c->rules, &r))
			FAIL("out of memory");
		return 0;
	case K_CONTAINER:
		return parse_container(c, v, err, errlen);
	case K_VM:
		return parse_vm(c, v, err, errlen);
	case K_QMP:
		return parse_qmp(c, v, err, errlen);
	case K_NKEYS:
		break;
	}
	FAIL("internal error: key %d", (int)k);
}

/* One line; *seen (may be NULL) collects the single-valued keys given. */
static int tconf_line(struct hci_tconf *c, const char *line, unsigned int *seen,
		      char *err, size_t errlen)
{
	char *buf = strdup(line), *s, *eq, *key, *val, *hash;
	int k, ret;

	if (!buf)
		FAIL("out of memory");
	hash = strchr(buf, '#');
	if (hash)
		*hash = '\0';
	s = trim(buf);
	ret = 0;
	if (!*s)
		goto out;
	ret = -EINVAL;
	eq = strchr(s, '=');
	if (!eq || eq == s) {
		snprintf(err, errlen, "'%s' is not KEY = VALUE", s);
		goto out;
	}
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	for (k = 0; k < K_NKEYS; k++)
		if (!strcmp(key, key_names[k]))
			break;
	if (k == K_NKEYS) {
		snprintf(err, errlen, "unknown key '%s'", key);
		goto out;
	}
	if (!*val) {
		snprintf(err, errlen, "%s: empty value", key);
		goto out;
	}
	if (seen && k < K_NSINGLE) {
		if (*seen & (1u << k)) {
			snprintf(err, errlen, "duplicate key '%s' (it may appear once)", key);
			goto out;
		}
		*seen |= 1u << k;
	}
	ret = parse_value(c, (enum tkey)k, val, err, errlen);
out:
	free(buf);
	return ret;
}

int hci_tconf_line(struct hci_tconf *c, const char *line, char *err, size_t errlen)
{
	return tconf_line(c, line, NULL, err, errlen);
}

int hci_tconf_load(const char *path, struct hci_tconf *c, char *err, size_t errlen)
{
	char line[1024], msg[512];
	unsigned int seen = 0;
	int lineno = 0, ret = 0, ndev;
	FILE *f;

	hci_tconf_defaults(c);
	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "cannot open config file '%s': %s", path, strerror(-ret));
		return ret;
	}
	while (fgets(line, sizeof(line), f)) {
		char *nl = strchr(line, '\n');

		lineno++;
		if (!nl && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line longer than %zu bytes",
				 path, lineno, sizeof(line) - 2);
			ret = -EINVAL;
			break;
		}
		if (nl)
			*nl = '\0';
		ndev = c->ndevices;
		ret = tconf_line(c, line, &seen, msg, sizeof(msg));
		if (!ret && c->ndevices > ndev)
			c->device_line[ndev] = lineno;
		if (ret) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			break;
		}
	}
	if (!ret && ferror(f)) {
		ret = errno ? -errno : -EIO;
		snprintf(err, errlen, "cannot read config file '%s': %s", path, strerror(-ret));
	}
	fclose(f);
	if (!ret && !c->ndevices) {
		snprintf(err, errlen, "%s: no device = line", path);
		ret = -EINVAL;
	}
	if (!ret && c->backend == HCI_BACKEND_QMP && !c->nqmp) {
		snprintf(err, errlen, "%s: backend = qmp needs at least one qmp = line", path);
		ret = -EINVAL;
	}
	if (ret)
		hci_tconf_free(c);
	return ret;
}

bool hci_tconf_match(const char *pattern, const char *origin)
{
	const char *pc = strchr(pattern, ':'), *oc = strchr(origin, ':');
	size_t plen = pc ? (size_t)(pc - pattern) : strlen(pattern);

	if (!oc || (size_t)(oc - origin) != plen || strncmp(pattern, origin, plen))
		return false;
	return fnmatch(pc ? pc + 1 : "*", oc + 1, 0) == 0;
}

const struct hci_ttarget *hci_tconf_target(const struct hci_tconf *c, const char *origin)
{
	for (int i = 0; i < c->ntargets; i++)
		if (hci_tconf_match(c->targets[i].pattern, origin))
			return &c->targets[i];
	return NULL;
}

const struct hci_tfloor *hci_tconf_floor(const struct hci_tconf *c, const char *origin)
{
	for (int i = 0; i < c->nfloors; i++)
		if (hci_tconf_match(c->floors[i].pattern, origin))
			return &c->floors[i];
	return NULL;
}
