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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "hcitrace.h"
#include "enforce.h"
#include "qmp.h"

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

/* The whole state file, rewritten atomically. */
static int save_state(struct hci_enforcer *e, char *err, size_t errlen)
{
	char tmp[300];
	FILE *f;
	int fd;

	if (e->dry_run)
		return 0;
	if (mkdirs(e->state_path)) {
		snprintf(err, errlen, "cannot create the directory of %s: %s", e->state_path,
			 strerror(errno));
		return -errno;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", e->state_path);
	f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, errlen, "cannot write state file %s: %s", tmp, strerror(errno));
		return -errno;
	}
	fprintf(f, "# hcithrottle state v1: the io limits to restore\n");
	for (size_t i = 0; i < e->nsaved; i++) {
		const struct hci_saved *s = &e->saved[i];

		if (!strcmp(s->kind, "qmp"))
			fprintf(f, "qmp\t%s\t-\t%s\t%s\n", s->cgdir, s->file, s->orig);
		else
			fprintf(f, "%s\t%s\t%u:%u\t%s\t%s\n", s->kind, s->cgdir,
				HCI_DEV_MAJOR(s->dev), HCI_DEV_MINOR(s->dev), s->file, s->orig);
	}
	fflush(f);
	fd = fileno(f);
	if (ferror(f) || fsync(fd)) {
		fclose(f);
		snprintf(err, errlen, "cannot write state file %s", tmp);
		return -EIO;
	}
	fclose(f);
	if (rename(tmp, e->state_path)) {
		snprintf(err, errlen, "cannot rename %s: %s", tmp, strerror(errno));
		return -errno;
	}
	return 0;
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

/* Remember what (cgdir, dev, file) holds now, once, before changing it. */
static int remember(struct hci_enforcer *e, const char *cgdir, __u32 dev, const char *file,
		    char *err, size_t errlen)
{
	char path[700], cur[160];
	struct hci_saved *s;

	if (find_saved(e, cgdir, dev, file))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", cgdir, file);
	if (read_line_for(path, dev, cur, sizeof(cur))) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -errno;
	}
	s = new_saved(e);
	if (!s)
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	snprintf(s->kind, sizeof(s->kind), "%s", e->v1 ? "v1" : "v2");
	snprintf(s->cgdir, sizeof(s->cgdir), "%s", cgdir);
	s->dev = dev;
	snprintf(s->file, sizeof(s->file), "%s", file);
	snprintf(s->orig, sizeof(s->orig), "%s", cur[0] ? cur : e->v1 ? "0" : "max");
	return save_state(e, err, errlen);
}

static void fmt_v2(char *out, size_t len, double v)
{
	if (v > 0)
		snprintf(out, len, "%.0f", v < 1 ? 1 : v);
	else
		snprintf(out, len, "max");
}

int hci_enf_set(struct hci_enforcer *e, const char *cgpath, __u32 dev,
		const struct hci_limit *l, char *err, size_t errlen)
{
	char cgdir[512], path[700], buf[256];
	const double v[4] = { l->riops, l->wiops, l->rbps, l->wbps };
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
	if (e->v1) {
		for (int k = 0; k < 4; k++) {
			rc = remember(e, cgdir, dev, v1_files[k], err, errlen);
			if (rc)
				return rc;
			snprintf(path, sizeof(path), "%s/%s", cgdir, v1_files[k]);
			snprintf(buf, sizeof(buf), "%u:%u %.0f", HCI_DEV_MAJOR(dev),
				 HCI_DEV_MINOR(dev), v[k] > 0 && v[k] < 1 ? 1 : v[k]);
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
	rc = remember(e, cgdir, dev, "io.max", err, errlen);
	if (rc)
		return rc;
	{
		char a[24], b[24], c[24], d[24];

		fmt_v2(a, sizeof(a), l->rbps);
		fmt_v2(b, sizeof(b), l->wbps);
		fmt_v2(c, sizeof(c), l->riops);
		fmt_v2(d, sizeof(d), l->wiops);
		snprintf(buf, sizeof(buf), "%u:%u rbps=%s wbps=%s riops=%s wiops=%s",
			 HCI_DEV_MAJOR(dev), HCI_DEV_MINOR(dev), a, b, c, d);
	}
	snprintf(path, sizeof(path), "%s/io.max", cgdir);
	e->writes++;
	if (e->dry_run)
		return 0;
	rc = write_file(path, buf);
	if (rc)
		snprintf(err, errlen, "cannot write '%s' to %s: %s", buf, path, strerror(-rc));
	return rc;
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
	if (!failed) {
		e->nsaved = 0;
		unlink(e->state_path);
	}
	return failed;
}

int hci_enf_recover(struct hci_enforcer *e, char *err, size_t errlen)
{
	FILE *f = fopen(e->state_path, "r");
	char line[1024];
	int n = 0, lineno = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		char *ver, *dir, *dev, *file, *orig, *save = NULL;
		unsigned int ma, mi;
		struct hci_saved s;

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || !line[0])
			continue;
		ver = strtok_r(line, "\t", &save);
		dir = strtok_r(NULL, "\t", &save);
		dev = strtok_r(NULL, "\t", &save);
		file = strtok_r(NULL, "\t", &save);
		orig = strtok_r(NULL, "\t", &save);
		if (ver && !strcmp(ver, "qmp")) {
			struct hci_qmp_throttle t;

			if (!dir || dir[0] != '/' || !dev || strcmp(dev, "-") || !file || !orig ||
			    hci_qmp_parse(orig, &t))
				goto bad;
			ma = mi = 0;
		} else if (!ver || !dir || !dev || !file || !orig ||
			   sscanf(dev, "%u:%u", &ma, &mi) != 2 ||
			   (strcmp(ver, "v1") && strcmp(ver, "v2")) || strchr(file, '/') ||
			   (strncmp(file, "blkio.throttle.", 15) && strcmp(file, "io.max"))) {
bad:
			snprintf(err, errlen, "%s:%d: not a state line; fix or remove the file",
				 e->state_path, lineno);
			fclose(f);
			return -EINVAL;
		}
		memset(&s, 0, sizeof(s));
		snprintf(s.kind, sizeof(s.kind), "%s", ver);
		snprintf(s.cgdir, sizeof(s.cgdir), "%s", dir);
		s.dev = HCI_DEV_MKDEV(ma, mi);
		snprintf(s.file, sizeof(s.file), "%s", file);
		snprintf(s.orig, sizeof(s.orig), "%s", orig);
		if (!e->dry_run && put_back(&s)) {
			snprintf(err, errlen, "cannot restore %s/%s from %s", dir, file,
				 e->state_path);
			fclose(f);
			return -EIO;
		}
		n++;
	}
	fclose(f);
	if (!e->dry_run)
		unlink(e->state_path);
	return n;
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
		static const char *const keys[4] = { "riops=", "wiops=", "rbps=", "wbps=" };

		for (int k = 0; k < 4; k++) {
			const char *p = strstr(v, keys[k]);

			if (p && strncmp(p + strlen(keys[k]), "max", 3))
				*out[k] = strtod(p + strlen(keys[k]), NULL);
		}
	}
	return 0;
}

/* A direction's ceiling from a drive's own limits: its own, else the total. */
static double own_ceiling(const struct hci_qmp_throttle *o, int dir, int total)
{
	return o->v[dir] > 0 ? o->v[dir] : o->v[total];
}

static double capped(double ours, double own)
{
	if (!(ours > 0))
		return own;
	if (ours < 1)
		ours = 1;
	return own > 0 && own < ours ? own : ours;
}

int hci_enf_set_qmp(struct hci_enforcer *e, const char *sock, const char *drive,
		    const struct hci_limit *l, char *err, size_t errlen)
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
	return hci_qmp_set(sock, drive, &t, err, errlen);
}

void hci_enf_free(struct hci_enforcer *e)
{
	free(e->saved);
	e->saved = NULL;
	e->nsaved = e->cap = 0;
}
