// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Writing io limits, and never losing the originals.
 *
 * v1 keeps one file per kind (blkio.throttle.read_iops_device, ...), each
 * with "MAJ:MIN VALUE" lines; writing "MAJ:MIN 0" removes a rule. v2 keeps
 * one io.max with "MAJ:MIN rbps=.. wbps=.. riops=.. wiops=.." lines; "max"
 * means none. Before hcithrottle first writes a (cgroup, device, file), the
 * value that was there goes to the state file (written to a temporary file,
 * fsync'd, renamed), so a SIGKILL leaves a file the next start restores
 * (enforce_state.c). QEMU drives capped over QMP: enforce_qmp.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "hci_abi.h"
#include "enforce_saved.h"
#include "qmp.h"
#include "core/vec.h"

#define STATE_HEADER "# hcithrottle state v1: the io limits to restore"

const char *const enf_v1_files[4] = {
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
int enf_save_state_with(struct hci_enforcer *e, const char *extra, char *err,
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

int enf_save_state(struct hci_enforcer *e, char *err, size_t errlen)
{
	int rc = enf_save_state_with(e, NULL, err, errlen);

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

struct hci_saved *enf_find_saved(struct hci_enforcer *e, const char *cgdir, __u32 dev,
				    const char *file)
{
	for (size_t i = 0; i < e->nsaved; i++)
		if (e->saved[i].dev == dev && !strcmp(e->saved[i].cgdir, cgdir) &&
		    !strcmp(e->saved[i].file, file))
			return &e->saved[i];
	return NULL;
}

struct hci_saved *enf_new_saved(struct hci_enforcer *e)
{
	struct hci_saved *s = hci_vec_grow(e->saved, &e->cap, e->nsaved, sizeof(*s), 16);

	if (!s)
		return NULL;
	e->saved = s;
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
	struct hci_saved *s = enf_find_saved(e, cgdir, dev, file);

	*rc = 0;
	if (s)
		return s;
	snprintf(path, sizeof(path), "%s/%s", cgdir, file);
	if (read_line_for(path, dev, cur, sizeof(cur))) {
		*rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	s = enf_new_saved(e);
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
	*rc = enf_save_state(e, err, errlen);
	if (*rc) {
		e->nsaved--;	/* not on disk: not saved */
		return NULL;
	}
	return s;
}

/* Ours, under the operator's own limit: a cap never loosens it (0 = none). */
double enf_capped(double ours, double own)
{
	if (!(ours > 0))
		return own;
	if (ours < 1)
		ours = 1;
	return own > 0 && own < ours ? own : ours;
}

const char *const enf_v2_keys[4] = { "riops", "wiops", "rbps", "wbps" };

/* The four limits of a v2 io.max value ("rbps=max wbps=... riops=.."): 0 = none. */
static void parse_v2(const char *v, double out[4])
{
	for (int k = 0; k < 4; k++) {
		char key[16];
		const char *p;

		out[k] = 0;
		snprintf(key, sizeof(key), "%s=", enf_v2_keys[k]);
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
		const struct hci_saved *s = remember(e, cgdir, dev, enf_v1_files[k], &rc, err,
						     errlen);

		if (!s)
			return rc;
		w[k] = enf_capped(v[k], strtod(s->orig, NULL));
		snprintf(path, sizeof(path), "%s/%s", cgdir, enf_v1_files[k]);
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
		w[k] = enf_capped(v[k], own[k]);
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
	return enf_save_state(e, err, sizeof(err));
}

/* The VM (its QMP socket) or its drive is gone: its limits went with it. */
static bool qmp_gone(int rc)
{
	return rc == -ENOENT || rc == -ECONNREFUSED || rc == -ECONNRESET;
}

int enf_put_back(const struct hci_saved *s)
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
		if (enf_put_back(&e->saved[i])) {
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

int hci_enf_read(const struct hci_enforcer *e, const char *cgpath, __u32 dev,
		 struct hci_limit *l)
{
	char path[700], v[160];
	double *out[4] = { &l->riops, &l->wiops, &l->rbps, &l->wbps };

	memset(l, 0, sizeof(*l));
	if (e->v1) {
		for (int k = 0; k < 4; k++) {
			snprintf(path, sizeof(path), "%s%s/%s", e->root, cgpath, enf_v1_files[k]);
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

void hci_enf_free(struct hci_enforcer *e)
{
	free(e->saved);
	e->saved = NULL;
	e->nsaved = e->cap = 0;
}
