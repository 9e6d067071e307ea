// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The state file read back: a run that could not clean up (SIGKILL) left
 * its saved originals; every line hcithrottle could have written is put
 * back, and each other line is reported with its FILE:LINE and kept.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "hci_abi.h"
#include "core/log.h"
#include "core/vec.h"
#include "qmp.h"
#include "enforce_saved.h"

/* Digits only, as the kernel prints a limit (and as hcithrottle saves it). */
static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* "MAJ:MIN", decimal, nothing else. */
static bool parse_devno(const char *s, unsigned int *ma, unsigned int *mi)
{
	char a[16], b[16];
	const char *c = strchr(s, ':');

	if (!c || c - s >= (long)sizeof(a) || strlen(c + 1) >= sizeof(b))
		return false;
	memcpy(a, s, (size_t)(c - s));
	a[c - s] = '\0';
	snprintf(b, sizeof(b), "%s", c + 1);
	if (!all_digits(a) || !all_digits(b) || strlen(a) > 9 || strlen(b) > 9)
		return false;
	*ma = (unsigned int)strtoul(a, NULL, 10);
	*mi = (unsigned int)strtoul(b, NULL, 10);
	return true;
}

/* An io.max value as the kernel prints it: each of the four keys once. */
static bool valid_v2_value(const char *v)
{
	char buf[640], *save = NULL;
	unsigned int seen = 0;

	if (!strcmp(v, "max"))
		return true;
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(t, '=');
		int k;

		if (!eq)
			return false;
		*eq = '\0';
		for (k = 0; k < 4 && strcmp(t, enf_v2_keys[k]); k++)
			;
		if (k == 4 || (seen & (1u << k)) || (strcmp(eq + 1, "max") && !all_digits(eq + 1)))
			return false;
		seen |= 1u << k;
	}
	return seen == 15;
}

/*
 * A cgroup directory hcithrottle could have written: strictly below the io
 * controller's mount (never its root), without "." or ".." or empty parts.
 */
static bool valid_cgdir(const struct hci_enforcer *e, const char *dir)
{
	size_t n = strlen(e->root);
	const char *p;

	if (!n || strncmp(dir, e->root, n) || dir[n] != '/' || !dir[n + 1])
		return false;
	for (p = dir + n; *p; ) {
		size_t len;

		p++;	/* past '/' */
		len = strcspn(p, "/");
		if (!len || (len == 1 && p[0] == '.') || (len == 2 && !strncmp(p, "..", 2)))
			return false;
		p += len;
	}
	return true;
}

/*
 * One state line into s, or false: the kind, file and value must be ones
 * hcithrottle writes for this host's io controller, the target a cgroup
 * below its mount (or an absolute QMP socket).
 */
static bool parse_state_line(const struct hci_enforcer *e, char *line, struct hci_saved *s)
{
	char *f[6], *save = NULL;
	unsigned int ma = 0, mi = 0, k = 0;
	bool ok;

	for (char *t = strtok_r(line, "\t", &save); t && k < 6; t = strtok_r(NULL, "\t", &save))
		f[k++] = t;
	if (k != 5)
		return false;
	if (!strcmp(f[0], "qmp")) {
		struct hci_qmp_throttle t;

		ok = f[1][0] == '/' && !strcmp(f[2], "-") && !hci_qmp_parse(f[4], &t);
	} else if (!strcmp(f[0], "v1")) {
		ok = e->v1 && valid_cgdir(e, f[1]) && parse_devno(f[2], &ma, &mi) &&
		     all_digits(f[4]);
		for (k = 0; ok && k < 4 && strcmp(f[3], enf_v1_files[k]); k++)
			;
		ok = ok && k < 4;
	} else if (!strcmp(f[0], "v2")) {
		ok = !e->v1 && valid_cgdir(e, f[1]) && parse_devno(f[2], &ma, &mi) &&
		     !strcmp(f[3], "io.max") && valid_v2_value(f[4]);
	} else {
		ok = false;
	}
	if (!ok || strlen(f[1]) >= sizeof(s->cgdir) || strlen(f[3]) >= sizeof(s->file) ||
	    strlen(f[4]) >= sizeof(s->orig))
		return false;
	memset(s, 0, sizeof(*s));
	snprintf(s->kind, sizeof(s->kind), "%s", f[0]);
	snprintf(s->cgdir, sizeof(s->cgdir), "%s", f[1]);
	s->dev = HCI_DEV_MKDEV(ma, mi);
	snprintf(s->file, sizeof(s->file), "%s", f[3]);
	snprintf(s->orig, sizeof(s->orig), "%s", f[4]);
	return true;
}

struct sline {
	char text[1024];
	int lineno;
	bool ok;		/* a line hcithrottle writes */
	struct hci_saved s;
};

/* Read the data lines (not comments) of the state file; *n of them. */
static int read_state_lines(const struct hci_enforcer *e, FILE *f, struct sline **out,
			    size_t *n)
{
	struct sline *v = NULL, *t;
	size_t cap = 0, cnt = 0;
	char line[1024];
	int lineno = 0;

	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		/* a line cut short has no newline; too long a line is refused whole */
		bool complete = (len && line[len - 1] == '\n') || len == sizeof(line) - 1;
		char copy[1024];

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || (!line[0] && complete))
			continue;
		t = hci_vec_grow(v, &cap, cnt, sizeof(*v), 16);
		if (!t) {
			free(v);
			return -ENOMEM;
		}
		v = t;
		t = &v[cnt++];
		memset(t, 0, sizeof(*t));
		snprintf(t->text, sizeof(t->text), "%s", line);
		t->lineno = lineno;
		snprintf(copy, sizeof(copy), "%s", line);
		t->ok = complete && parse_state_line(e, copy, &t->s);
		if (!t->ok)
			hci_errorf("%s:%d: %s; this line is kept in the file: fix or remove it, then "
				  "run 'hcithrottle reset' again", e->state_path, lineno,
				  complete ? "not a state line (or a target hcithrottle never "
				  "writes)" : "line cut short (no newline)");
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* Another valid line for the same limit: which one is the original? */
static const struct sline *conflict(const struct sline *v, size_t n, size_t i)
{
	for (size_t j = 0; j < n; j++)
		if (j != i && v[j].ok && v[j].s.dev == v[i].s.dev &&
		    !strcmp(v[j].s.cgdir, v[i].s.cgdir) && !strcmp(v[j].s.file, v[i].s.file))
			return &v[j];
	return NULL;
}

/* Restore one valid line; false (reported) if it is kept. */
static bool recover_line(struct hci_enforcer *e, const struct sline *v, size_t n, size_t i)
{
	const struct sline *other = conflict(v, n, i);

	if (other) {
		hci_errorf("%s:%d: line %d saves another original for %s %s; both are kept "
			  "in the file: remove the wrong one", e->state_path, v[i].lineno,
			  other->lineno, v[i].s.cgdir, v[i].s.file);
		return false;
	}
	if (!e->dry_run && enf_put_back(&v[i].s)) {
		hci_errorf("%s:%d: cannot restore %s/%s; this line is kept for another try",
			  e->state_path, v[i].lineno, v[i].s.cgdir, v[i].s.file);
		return false;
	}
	return true;
}

/*
 * Every valid line is restored, whatever the others hold. The lines that
 * could not be (reported one by one) stay in the state file, rewritten
 * atomically; the file goes once none is left.
 */
int hci_enf_recover(struct hci_enforcer *e, int *nkept, char *err, size_t errlen)
{
	char *kept = NULL;
	size_t keptlen = 0, nl = 0;
	struct sline *v = NULL;
	FILE *f = fopen(e->state_path, "r"), *k;
	int n = 0, rc;

	*nkept = 0;
	if (!f) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, errlen, "cannot read state file %s: %s", e->state_path,
			 strerror(-rc));
		return rc;
	}
	rc = read_state_lines(e, f, &v, &nl);
	fclose(f);
	k = rc ? NULL : open_memstream(&kept, &keptlen);
	if (!k) {
		free(v);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < nl; i++) {
		if (v[i].ok && recover_line(e, v, nl, i)) {
			n++;
			continue;
		}
		fprintf(k, "%s\n", v[i].text);
		(*nkept)++;
	}
	fclose(k);
	free(v);
	e->nsaved = 0;		/* restored: nothing of ours is in force */
	rc = 0;
	if (!e->dry_run) {
		if (!*nkept)
			unlink(e->state_path);
		else
			rc = enf_save_state_with(e, kept, err, errlen);
	}
	free(kept);
	return rc ? rc : n;
}

