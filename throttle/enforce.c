// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Writing io limits, and never losing the originals.
 *
 * v1 keeps one file per kind (blkio.throttle.read_iops_device, ...), each
 * with "MAJ:MIN VALUE" lines; writing "MAJ:MIN 0" removes a rule. v2 keeps
 * one io.max with "MAJ:MIN rbps=.. wbps=.. riops=.. wiops=.." lines; "max"
 * means none. Before hcithrottle first writes a (cgroup, device, file), the
 * value that was there goes to the state file (written to a temporary file,
 * fsync'd, renamed), so a SIGKILL leaves a file the next start restores.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "hci_abi.h"
#include "enforce.h"
#include "qmp.h"

#define STATE_HEADER "# hcithrottle state v1: the io limits to restore"

static const char *const v1_files[4] = {
	"blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device",
	"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
};

int hci_enf_init(struct hci_enforcer *e, const char *root, bool v1, const char *state_path,
		 bool dry_run, char *err, size_t errlen)
{
	memset(e, 0, sizeof(*e));
	e->v1 = v1;
	e->dry_run = dry_run;
	if (snprintf(e->root, sizeof(e->root), "%s", root) >= (int)sizeof(e->root) ||
	    snprintf(e->state_path, sizeof(e->state_path), "%s", state_path) >=
	    (int)sizeof(e->state_path)) {
		snprintf(err, errlen, "path too long");
		return -ENAMETOOLONG;
	}
	return 0;
}

static int mkdirs(const char *path)
{
	char tmp[256], *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/*
 * path := text, so that a crash at any point leaves either the old file or
 * the new one, complete: a temporary file, fsync'd, renamed over it, and the
 * directory fsync'd so that the rename itself survives a power cut.
 */
static int write_atomic(const char *path, const char *text, size_t len, char *err,
			size_t errlen)
{
	char tmp[300], dir[256], *slash;
	ssize_t n;
	int fd, rc = 0;

	if (mkdirs(path)) {
		rc = -errno;
		snprintf(err, errlen, "cannot create the directory of %s: %s", path, strerror(-rc));
		return rc;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot write state file %s: %s", tmp, strerror(-rc));
		return rc;
	}
	for (size_t off = 0; off < len; off += (size_t)n) {
		n = write(fd, text + off, len - off);
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			break;
		}
	}
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc) {
		snprintf(err, errlen, "cannot write state file %s: %s", path, strerror(-rc));
		unlink(tmp);
		return rc;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash) {
		*(slash == dir ? slash + 1 : slash) = '\0';
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	return 0;
}

static void format_saved(FILE *f, const struct hci_saved *s)
{
	if (!strcmp(s->kind, "qmp"))
		fprintf(f, "qmp\t%s\t-\t%s\t%s\n", s->cgdir, s->file, s->orig);
	else
		fprintf(f, "%s\t%s\t%u:%u\t%s\t%s\n", s->kind, s->cgdir,
			HCI_DEV_MAJOR(s->dev), HCI_DEV_MINOR(s->dev), s->file, s->orig);
}

/* The whole state file, rewritten atomically; extra (may be NULL) is kept
 * verbatim after the saved limits (lines that could not be restored). */
static int save_state_with(struct hci_enforcer *e, const char *extra, char *err,
			   size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (e->dry_run)
		return 0;
	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "%s\n", STATE_HEADER);
	for (size_t i = 0; i < e->nsaved; i++)
		format_saved(f, &e->saved[i]);
	if (extra)
		fputs(extra, f);
	if (fclose(f)) {
		free(text);
		return -ENOMEM;
	}
	rc = write_atomic(e->state_path, text, len, err, errlen);
	free(text);
	return rc;
}

static int save_state(struct hci_enforcer *e, char *err, size_t errlen)
{
	int rc = save_state_with(e, NULL, err, errlen);

	if (!rc)
		e->owns_state = true;
	return rc;
}

/* The value for dev in a limits file: v1 "VALUE", v2 "rbps=.. ..."; "" if none. */
static int read_line_for(const char *path, __u32 dev, char *out, size_t len)
{
	char line[256], want[32];
	FILE *f = fopen(path, "r");

	out[0] = '\0';
	if (!f)
		return -errno;
	snprintf(want, sizeof(want), "%u:%u ", HCI_DEV_MAJOR(dev), HCI_DEV_MINOR(dev));
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, want, strlen(want)))
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(out, len, "%s", line + strlen(want));
		break;
	}
	fclose(f);
	return 0;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	close(fd);
	return 0;
}

static struct hci_saved *find_saved(struct hci_enforcer *e, const char *cgdir, __u32 dev,
				    const char *file)
{
	for (size_t i = 0; i < e->nsaved; i++)
		if (e->saved[i].dev == dev && !strcmp(e->saved[i].cgdir, cgdir) &&
		    !strcmp(e->saved[i].file, file))
			return &e->saved[i];
	return NULL;
}

static struct hci_saved *new_saved(struct hci_enforcer *e)
{
	if (e->nsaved == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 16;
		struct hci_saved *s = realloc(e->saved, cap * sizeof(*s));

		if (!s)
			return NULL;
		e->saved = s;
		e->cap = cap;
	}
	return &e->saved[e->nsaved++];
}

/*
 * What (cgdir, dev, file) held before hcithrottle first changed it: read and
 * saved to the state file once, before the first write. NULL on error.
 */
static const struct hci_saved *remember(struct hci_enforcer *e, const char *cgdir, __u32 dev,
					const char *file, int *rc, char *err, size_t errlen)
{
	char path[700], cur[160];
	struct hci_saved *s = find_saved(e, cgdir, dev, file);

	*rc = 0;
	if (s)
		return s;
	snprintf(path, sizeof(path), "%s/%s", cgdir, file);
	if (read_line_for(path, dev, cur, sizeof(cur))) {
		*rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	s = new_saved(e);
	if (!s) {
		*rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memset(s, 0, sizeof(*s));
	snprintf(s->kind, sizeof(s->kind), "%s", e->v1 ? "v1" : "v2");
	snprintf(s->cgdir, sizeof(s->cgdir), "%s", cgdir);
	s->dev = dev;
	snprintf(s->file, sizeof(s->file), "%s", file);
	snprintf(s->orig, sizeof(s->orig), "%s", cur[0] ? cur : e->v1 ? "0" : "max");
	*rc = save_state(e, err, errlen);
	if (*rc) {
		e->nsaved--;	/* not on disk: not saved */
		return NULL;
	}
	return s;
}

/* Ours, under the operator's own limit: a cap never loosens it (0 = none). */
static double capped(double ours, double own)
{
	if (!(ours > 0))
		return own;
	if (ours < 1)
		ours = 1;
	return own > 0 && own < ours ? own : ours;
}

static const char *const v2_keys[4] = { "riops", "wiops", "rbps", "wbps" };

/* The four limits of a v2 io.max value ("rbps=max wbps=... riops=.."): 0 = none. */
static void parse_v2(const char *v, double out[4])
{
	for (int k = 0; k < 4; k++) {
		char key[16];
		const char *p;

		out[k] = 0;
		snprintf(key, sizeof(key), "%s=", v2_keys[k]);
		for (p = strstr(v, key); p && p != v && p[-1] != ' '; p = strstr(p + 1, key))
			;
		if (p && strncmp(p + strlen(key), "max", 3))
			out[k] = strtod(p + strlen(key), NULL);
	}
}

static void fmt_v2(char *out, size_t len, double v)
{
	if (v > 0)
		snprintf(out, len, "%.0f", v);
	else
		snprintf(out, len, "max");
}

static int set_v1(struct hci_enforcer *e, const char *cgdir, __u32 dev, const double v[4],
		  double w[4], char *err, size_t errlen)
{
	char path[700], buf[256];
	int rc;

	for (int k = 0; k < 4; k++) {
		const struct hci_saved *s = remember(e, cgdir, dev, v1_files[k], &rc, err, errlen);

		if (!s)
			return rc;
		w[k] = capped(v[k], strtod(s->orig, NULL));
		snprintf(path, sizeof(path), "%s/%s", cgdir, v1_files[k]);
		snprintf(buf, sizeof(buf), "%u:%u %.0f", HCI_DEV_MAJOR(dev), HCI_DEV_MINOR(dev),
			 w[k]);
		e->writes++;
		if (e->dry_run)
			continue;
		rc = write_file(path, buf);
		if (rc) {
			snprintf(err, errlen, "cannot write '%s' to %s: %s", buf, path,
				 strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static int set_v2(struct hci_enforcer *e, const char *cgdir, __u32 dev, const double v[4],
		  double w[4], char *err, size_t errlen)
{
	char path[700], buf[256], f[4][24];
	double own[4];
	const struct hci_saved *s;
	int rc;

	s = remember(e, cgdir, dev, "io.max", &rc, err, errlen);
	if (!s)
		return rc;
	parse_v2(s->orig, own);
	for (int k = 0; k < 4; k++) {
		w[k] = capped(v[k], own[k]);
		fmt_v2(f[k], sizeof(f[k]), w[k]);
	}
	snprintf(buf, sizeof(buf), "%u:%u rbps=%s wbps=%s riops=%s wiops=%s",
		 HCI_DEV_MAJOR(dev), HCI_DEV_MINOR(dev), f[2], f[3], f[0], f[1]);
	snprintf(path, sizeof(path), "%s/io.max", cgdir);
	e->writes++;
	if (e->dry_run)
		return 0;
	rc = write_file(path, buf);
	if (rc)
		snprintf(err, errlen, "cannot write '%s' to %s: %s", buf, path, strerror(-rc));
	return rc;
}

/*
 * The operator's own limits, saved before the first write, are ceilings per
 * direction and kind: a cap is min(cap, own), and no cap means own, exactly.
 */
int hci_enf_set(struct hci_enforcer *e, const char *cgpath, __u32 dev,
		const struct hci_limit *l, struct hci_limit *written, char *err, size_t errlen)
{
	const double v[4] = { l->riops, l->wiops, l->rbps, l->wbps };
	char cgdir[512];
	double w[4] = { 0 };
	int rc;

	if (!cgpath || !strcmp(cgpath, "/") || strchr(cgpath, '\t') || strchr(cgpath, '\n')) {
		snprintf(err, errlen, "refusing to limit cgroup '%s'", cgpath ? cgpath : "?");
		return -EPERM;
	}
	if (snprintf(cgdir, sizeof(cgdir), "%s%s", e->root, cgpath) >= (int)sizeof(cgdir)) {
		snprintf(err, errlen, "cgroup path too long: %s", cgpath);
		return -ENAMETOOLONG;
	}
	if (access(cgdir, F_OK)) {
		snprintf(err, errlen, "cgroup %s is gone", cgpath);
		return -ENOENT;
	}
	rc = e->v1 ? set_v1(e, cgdir, dev, v, w, err, errlen) :
		     set_v2(e, cgdir, dev, v, w, err, errlen);
	if (!rc && written)
		*written = (struct hci_limit){ .riops = w[0], .wiops = w[1], .rbps = w[2],
					       .wbps = w[3] };
	return rc;
}

int hci_enf_forget(struct hci_enforcer *e, const char *cgpath)
{
	char cgdir[512], err[512];
	size_t j = 0;

	snprintf(cgdir, sizeof(cgdir), "%s%s", e->root, cgpath);
	for (size_t i = 0; i < e->nsaved; i++)
		if (strcmp(e->saved[i].kind, "qmp") && !strcmp(e->saved[i].cgdir, cgdir))
			continue;
		else
			e->saved[j++] = e->saved[i];
	if (j == e->nsaved)
		return 0;
	e->nsaved = j;
	return save_state(e, err, sizeof(err));
}

/* The VM (its QMP socket) or its drive is gone: its limits went with it. */
static bool qmp_gone(int rc)
{
	return rc == -ENOENT || rc == -ECONNREFUSED || rc == -ECONNRESET;
}

static int put_back(const struct hci_saved *s)
{
	char path[800], buf[700];
	int rc;

	if (!strcmp(s->kind, "qmp")) {
		struct hci_qmp_throttle t;
		char err[512];

		if (hci_qmp_parse(s->orig, &t))
			return -EINVAL;
		rc = hci_qmp_set(s->cgdir, s->file, &t, err, sizeof(err));
		if (rc && !qmp_gone(rc))
			fprintf(stderr, "hcithrottle: %s\n", err);
		return qmp_gone(rc) ? 0 : rc;
	}
	snprintf(path, sizeof(path), "%s/%s", s->cgdir, s->file);
	snprintf(buf, sizeof(buf), "%u:%u %s", HCI_DEV_MAJOR(s->dev), HCI_DEV_MINOR(s->dev),
		 !strcmp(s->orig, "max") ? "rbps=max wbps=max riops=max wiops=max" : s->orig);
	rc = write_file(path, buf);
	/* the cgroup (or the device) went away: its limits went with it */
	if (rc == -ENOENT || (rc == -ENODEV) || access(s->cgdir, F_OK))
		return 0;
	return rc;
}

int hci_enf_restore(struct hci_enforcer *e)
{
	int failed = 0;

	if (e->dry_run) {
		e->nsaved = 0;
		return 0;
	}
	for (size_t i = 0; i < e->nsaved; i++)
		if (put_back(&e->saved[i])) {
			fprintf(stderr, "hcithrottle: could not restore %s %s for %u:%u\n",
				e->saved[i].cgdir, e->saved[i].file, HCI_DEV_MAJOR(e->saved[i].dev),
				HCI_DEV_MINOR(e->saved[i].dev));
			failed++;
		}
	/* a file this run did not write (lines a recovery kept) is not ours */
	if (!failed) {
		e->nsaved = 0;
		if (e->owns_state)
			unlink(e->state_path);
		e->owns_state = false;
	}
	return failed;
}

__attribute__((format(printf, 1, 2)))
static void enf_error(const char *fmt, ...)
{
	va_list ap;

	fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

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
		for (k = 0; k < 4 && strcmp(t, v2_keys[k]); k++)
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
		for (k = 0; ok && k < 4 && strcmp(f[3], v1_files[k]); k++)
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
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			t = realloc(v, cap * sizeof(*v));
			if (!t) {
				free(v);
				return -ENOMEM;
			}
			v = t;
		}
		t = &v[cnt++];
		memset(t, 0, sizeof(*t));
		snprintf(t->text, sizeof(t->text), "%s", line);
		t->lineno = lineno;
		snprintf(copy, sizeof(copy), "%s", line);
		t->ok = complete && parse_state_line(e, copy, &t->s);
		if (!t->ok)
			enf_error("%s:%d: %s; this line is kept in the file: fix or remove it, then "
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
		enf_error("%s:%d: line %d saves another original for %s %s; both are kept "
			  "in the file: remove the wrong one", e->state_path, v[i].lineno,
			  other->lineno, v[i].s.cgdir, v[i].s.file);
		return false;
	}
	if (!e->dry_run && put_back(&v[i].s)) {
		enf_error("%s:%d: cannot restore %s/%s; this line is kept for another try",
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
			rc = save_state_with(e, kept, err, errlen);
	}
	free(kept);
	return rc ? rc : n;
}

int hci_enf_read(const struct hci_enforcer *e, const char *cgpath, __u32 dev,
		 struct hci_limit *l)
{
	char path[700], v[160];
	double *out[4] = { &l->riops, &l->wiops, &l->rbps, &l->wbps };

	memset(l, 0, sizeof(*l));
	if (e->v1) {
		for (int k = 0; k < 4; k++) {
			snprintf(path, sizeof(path), "%s%s/%s", e->root, cgpath, v1_files[k]);
			if (read_line_for(path, dev, v, sizeof(v)))
				return -errno;
			*out[k] = strtod(v, NULL);
		}
		return 0;
	}
	snprintf(path, sizeof(path), "%s%s/io.max", e->root, cgpath);
	if (read_line_for(path, dev, v, sizeof(v)))
		return -errno;
	{
		double w[4];

		parse_v2(v, w);
		for (int k = 0; k < 4; k++)
			*out[k] = w[k];
	}
	return 0;
}

/* A direction's ceiling from a drive's own limits: its own, else the total. */
static double own_ceiling(const struct hci_qmp_throttle *o, int dir, int total)
{
	return o->v[dir] > 0 ? o->v[dir] : o->v[total];
}

int hci_enf_set_qmp(struct hci_enforcer *e, const char *sock, const char *drive,
		    const struct hci_limit *l, struct hci_limit *written, char *err,
		    size_t errlen)
{
	struct hci_saved *s = find_saved(e, sock, 0, drive);
	struct hci_qmp_throttle own, t;
	int rc;

	if (strchr(sock, '\t') || strchr(sock, '\n') || strchr(drive, '\t') ||
	    strchr(drive, '\n')) {
		snprintf(err, errlen, "refusing QMP socket '%s' drive '%s'", sock, drive);
		return -EPERM;
	}
	e->writes++;
	if (e->dry_run)
		return 0;
	if (!s) {
		/* the drive's own throttling, saved before the first change */
		rc = hci_qmp_get(sock, drive, &own, err, errlen);
		if (rc)
			return rc;
		if (strchr(own.group, '\t') || strchr(own.group, '\n')) {
			snprintf(err, errlen, "QMP %s: refusing drive '%s' in throttle group '%s'",
				 sock, drive, own.group);
			return -EPERM;
		}
		s = new_saved(e);
		if (!s)
			return -ENOMEM;
		memset(s, 0, sizeof(*s));
		snprintf(s->kind, sizeof(s->kind), "qmp");
		snprintf(s->cgdir, sizeof(s->cgdir), "%s", sock);
		snprintf(s->file, sizeof(s->file), "%s", drive);
		hci_qmp_format(&own, s->orig, sizeof(s->orig));
		rc = save_state(e, err, errlen);
		if (rc)
			return rc;
	} else if (hci_qmp_parse(s->orig, &own)) {
		snprintf(err, errlen, "bad saved limits for %s", drive);
		return -EINVAL;
	}
	if (!(l->riops > 0) && !(l->wiops > 0) && !(l->rbps > 0) && !(l->wbps > 0)) {
		t = own;	/* no cap: the drive's own limits, exactly */
	} else {
		memset(&t, 0, sizeof(t));
		snprintf(t.group, sizeof(t.group), "%s", own.group);
		t.v[HCI_QMP_IOPS_RD] = capped(l->riops, own_ceiling(&own, HCI_QMP_IOPS_RD, HCI_QMP_IOPS));
		t.v[HCI_QMP_IOPS_WR] = capped(l->wiops, own_ceiling(&own, HCI_QMP_IOPS_WR, HCI_QMP_IOPS));
		t.v[HCI_QMP_BPS_RD] = capped(l->rbps, own_ceiling(&own, HCI_QMP_BPS_RD, HCI_QMP_BPS));
		t.v[HCI_QMP_BPS_WR] = capped(l->wbps, own_ceiling(&own, HCI_QMP_BPS_WR, HCI_QMP_BPS));
		t.v[HCI_QMP_IOPS_SIZE] = own.v[HCI_QMP_IOPS_SIZE];
	}
	rc = hci_qmp_set(sock, drive, &t, err, errlen);
	if (!rc && written)
		*written = (struct hci_limit){
			.riops = own_ceiling(&t, HCI_QMP_IOPS_RD, HCI_QMP_IOPS),
			.wiops = own_ceiling(&t, HCI_QMP_IOPS_WR, HCI_QMP_IOPS),
			.rbps = own_ceiling(&t, HCI_QMP_BPS_RD, HCI_QMP_BPS),
			.wbps = own_ceiling(&t, HCI_QMP_BPS_WR, HCI_QMP_BPS),
		};
	return rc;
}

void hci_enf_free(struct hci_enforcer *e)
{
	free(e->saved);
	e->saved = NULL;
	e->nsaved = e->cap = 0;
}
