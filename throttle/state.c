// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcithrottle's files in its state directory: the host's lock, the pid and
 * status files of a run, and the state file of saved limits that a killed
 * run leaves for the next start or 'hcithrottle reset' (recover). The
 * status and reset commands are their readers.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "host/procs.h"
#include "throttle.h"

static void limit_col(char *buf, size_t len, double v)
{
	snprintf(buf, len, v > 0 ? "%.0f" : "-", v);
}

static void status_row(struct svc *s, FILE *f, const struct tdev *d, const struct ostate *o)
{
	struct hci_limit l = o->in_force;
	char c[4][24];
	double v[4];

	/* a cgroup's limits read back from the kernel, the operator's own
	 * included; a QEMU drive's as last written */
	if (!thr_qmp_for(s, o->origin) && !o->gone && o->cgpath[0] && strcmp(o->cgpath, "/") &&
	    hci_enf_read(&s->enf, o->cgpath, d->dev, &l))
		l = o->in_force;
	v[0] = l.riops;
	v[1] = l.wiops;
	v[2] = l.rbps;
	v[3] = l.wbps;
	for (int k = 0; k < 4; k++)
		limit_col(c[k], sizeof(c[k]), v[k]);
	fprintf(f, "%-8s %-28s %-9s %10.0f %12.0f %10.1f %8.2f %10s %10s %12s %12s\n",
		d->name, o->origin,
		o->gone ? "gone" : o->vm ? "vm" : o->container ? "container" : "-",
		o->iops, o->bps, o->p99_us, o->inflight, c[0], c[1], c[2], c[3]);
}

/*
 * The limits columns are what hcithrottle last wrote (the operator's own
 * limits under its caps, the floor's headroom included), not the policy's
 * cap: what the kernel enforces.
 */
void thr_write_status(struct svc *s)
{
	char path[300], tmp[310];
	FILE *f;

	snprintf(path, sizeof(path), "%s/status", s->dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "hcithrottle pid %d, interval %u ms, backend %s%s, %lu intervals, "
		"%lu decisions, %lu rewrites\n", getpid(), s->conf.interval_ms,
		thr_backend_names[s->conf.backend], s->o.dry_run ? " (dry run)" : "", s->intervals,
		s->decisions, s->rewrites);
	fprintf(f, "%-8s %-28s %-9s %10s %12s %10s %8s %10s %10s %12s %12s\n", "DEVICE",
		"ORIGIN", "ROLE", "IOPS", "BYTES/S", "P99(us)", "INFLIGHT", "R_IOPS", "W_IOPS",
		"R_BPS", "W_BPS");
	for (int k = 0; k < s->ndevs; k++)
		for (int i = 0; i < s->devs[k].n; i++)
			status_row(s, f, &s->devs[k], &s->devs[k].o[i]);
	for (int i = 0; i < s->nunc; i++)
		fprintf(f, "note: %s cannot be capped: its VMM runs in the root cgroup "
			"(backend = %s)\n", s->unc[i].origin, thr_backend_names[s->conf.backend]);
	fclose(f);
	rename(tmp, path);
}

int thr_load_conf(struct svc *s)
{
	char err[512], tmp[256];

	if (hci_tconf_load(s->o.config, &s->conf, err, sizeof(err))) {
		hci_errorf("%s", err);
		return -EINVAL;
	}
	/* dirname() may modify its argument and return a pointer into it:
	 * never its own argument as snprintf's destination */
	snprintf(tmp, sizeof(tmp), "%s", s->conf.state_path);
	snprintf(s->dir, sizeof(s->dir), "%s", dirname(tmp));
	return 0;
}

static void mkdirs(const char *dir)
{
	char tmp[256];

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	mkdir(tmp, 0755);
}

/* The pid that holds an flock on path, from /proc/locks; 0 if none. */
static pid_t lock_holder(const char *path)
{
	char line[256];
	struct stat st;
	pid_t pid = 0;
	FILE *f;

	if (stat(path, &st))
		return 0;
	f = fopen("/proc/locks", "r");
	if (!f)
		return 0;
	while (!pid && fgets(line, sizeof(line), f)) {
		unsigned int ma, mi;
		unsigned long ino;
		int p;

		if (strstr(line, "->") || !strstr(line, "FLOCK"))
			continue;
		if (sscanf(line, "%*d: FLOCK %*s %*s %d %x:%x:%lu", &p, &ma, &mi, &ino) == 4 &&
		    ino == st.st_ino && makedev(ma, mi) == st.st_dev)
			pid = p;
	}
	fclose(f);
	return pid;
}

/* "pid N (hcithrottle run -c FILE)": who holds the lock, for the message. */
static void describe_pid(pid_t pid, char *buf, size_t len)
{
	char cmd[200] = "";
	int n = hci_proc_cmdline(pid, cmd, sizeof(cmd));

	if (n < 0)
		n = 0;
	cmd[n] = '\0';
	for (int i = 0; i + 1 < n; i++)
		if (!cmd[i])
			cmd[i] = ' ';
	if (pid <= 0)
		snprintf(buf, len, "another process");
	else
		snprintf(buf, len, "pid %d (%s)", pid, cmd[0] ? cmd : "gone");
}

/*
 * One hcithrottle per host writes limits: an flock on "lock" in the state
 * directory, taken atomically and held until the process ends (the kernel
 * drops it however it ends, SIGKILL included). The file is never removed:
 * removing a lock file races a process that has just opened it. It holds
 * the holder's pid, for people; the messages ask the kernel.
 */
int thr_take_lock(struct svc *s)
{
	char path[300], who[256];
	int fd;

	mkdirs(s->dir);
	snprintf(path, sizeof(path), "%s/lock", s->dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		hci_errorf("cannot open the lock file %s: %s (is the state directory writable?)",
			   path, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int e = errno;

		close(fd);
		if (e != EWOULDBLOCK) {
			hci_errorf("cannot lock %s: %s", path, strerror(e));
			return -e;
		}
		describe_pid(lock_holder(path), who, sizeof(who));
		hci_errorf("%s holds the hcithrottle lock %s: one hcithrottle at a time "
			   "changes this host's limits; stop that one first (a run restores "
			   "its limits on SIGTERM)", who, path);
		return -EBUSY;
	}
	if (!ftruncate(fd, 0))
		dprintf(fd, "%d %s\n", getpid(), s->o.cmd);
	s->lock_fd = fd;
	return 0;
}

/*
 * Limits a previous run left (SIGKILL): put back every valid line. A line
 * that could not be restored stays in the state file, and run refuses to
 * start over it: it would record what this run saves on top of it.
 */
int thr_recover(struct svc *s, bool starting)
{
	struct hci_enforcer rec;
	char err[512];
	int n, kept;

	/* for real, whatever this run then writes (backend = none: nothing) */
	if (hci_enf_init(&rec, s->cg.root, s->cg.v1, s->conf.state_path, false, err,
			 sizeof(err))) {
		hci_errorf("%s", err);
		return -1;
	}
	n = hci_enf_recover(&rec, &kept, err, sizeof(err));
	hci_enf_free(&rec);
	if (n < 0) {
		hci_errorf("%s", err);
		return -1;
	}
	if (starting && n)
		fprintf(stderr, "hcithrottle: restored %d limits left by a previous run\n", n);
	else if (!starting)
		printf("hcithrottle: %d limit%s restored\n", n, n == 1 ? "" : "s");
	if (kept) {
		hci_errorf("%d line%s of %s could not be restored (above) and %s kept there; "
			   "fix or remove %s, then run 'hcithrottle reset'%s", kept,
			   kept == 1 ? "" : "s", s->conf.state_path, kept == 1 ? "is" : "are",
			   kept == 1 ? "it" : "them", starting ? " before starting again" : "");
		return -1;
	}
	return 0;
}

int thr_cmd_status(struct svc *s)
{
	char path[300], line[512], who[256];
	pid_t pid;
	FILE *f;

	if (thr_load_conf(s))
		return 2;
	snprintf(path, sizeof(path), "%s/lock", s->dir);
	pid = lock_holder(path);
	if (!pid) {
		printf("hcithrottle is not running\n");
	} else {
		describe_pid(pid, who, sizeof(who));
		printf("hcithrottle lock held by %s\n", who);
		snprintf(path, sizeof(path), "%s/status", s->dir);
		f = fopen(path, "r");
		if (f) {
			while (fgets(line, sizeof(line), f))
				fputs(line, stdout);
			fclose(f);
		} else {
			printf("no interval measured yet\n");
		}
	}
	f = fopen(s->conf.state_path, "r");
	if (f) {
		printf("limits saved in %s (restored on exit or by 'hcithrottle reset'):\n",
		       s->conf.state_path);
		while (fgets(line, sizeof(line), f))
			if (line[0] != '#')
				fputs(line, stdout);
		fclose(f);
	} else {
		printf("no limits set by hcithrottle\n");
	}
	return 0;
}

/* Holds the lock while it restores: a run cannot start half-way through. */
int thr_cmd_reset(struct svc *s)
{
	char err[512];
	int ret;

	if (thr_load_conf(s))
		return 2;
	if (thr_take_lock(s))
		return 1;
	/* the io controller's mount: lines for anything else are refused */
	if (hci_cgroups_init(&s->cg, err, sizeof(err))) {
		hci_errorf("%s", err);
		return 1;
	}
	ret = thr_recover(s, false) ? 1 : 0;
	hci_cgroups_free(&s->cg);
	return ret;
}

/* The pid file of a run, for people and scripts (the lock is the truth). */
int thr_write_pid(struct svc *s)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/pid", s->dir);
	f = fopen(path, "w");
	if (!f) {
		hci_errorf("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "%d\n", getpid());
	fclose(f);
	return 0;
}

/* A run's pid and status files go when it ends; the lock file stays. */
void thr_remove_run_files(struct svc *s)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/pid", s->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/status", s->dir);
	unlink(path);
}
