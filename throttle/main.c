// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcithrottle: keep containers fast when VMs contend for the same SSD.
 *
 * Every interval it reads hcitrace's in-kernel histograms (per origin
 * cgroup, disk and op), turns the deltas into IOPS, bytes, in-flight depth
 * and p99 per origin and device, asks the AIMD controller (policy.c) what
 * the VMs' caps should be, and writes them into the cgroup io controller,
 * or into QEMU's own throttling over QMP (enforce.c, qmp.c), having saved
 * the originals first. Every decision is logged
 * with its reason. Any exit puts the original limits back.
 *
 *   hcithrottle run [-c FILE] [--dry-run]     the service (foreground)
 *   hcithrottle status [-c FILE]              origins, I/O and limits now
 *   hcithrottle reset [-c FILE]               remove every limit it set
 */
#include <argp.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "hcitrace.skel.h"
#include "hci_abi.h"
#include "host/cgroups.h"
#include "host/devices.h"
#include "enforce.h"
#include "core/hist.h"
#include "host/origin.h"
#include "policy.h"
#include "config.h"
#include "bpf/tracer.h"
#include "host/vmm.h"

#define DEFAULT_CONFIG "/etc/hcikit/hcithrottle.conf"
#define MAX_ORIGINS 256
/*
 * A cap at the floor is written with headroom: blk-throttle delivers 75-85%
 * of a low IOPS limit to a deep queue (measured on loop devices, v1), and
 * the floor is what the VM must get, not what the file says.
 */
#define FLOOR_HEADROOM 1.3

static volatile sig_atomic_t reload;

static void on_hup(int sig)
{
	(void)sig;
	reload = 1;
}

struct opts {
	const char *cmd;
	const char *config;
	bool dry_run;
	int verbose;
	double duration;
	const char *measure_log;	/* every interval, every origin (CSV) */
};

/* An origin on a device, with the controller's state for it. */
struct ostate {
	char origin[HCI_ORIGIN_MAX];
	__u64 cgid;
	char cgpath[512];
	bool vm, container, gone;
	bool unsynced;		/* the last write failed: write again */
	struct hci_limit in_force;	/* what was last written (0 = none) */
	struct hci_limit asked;		/* what was last asked of hci_enf_set() */
	unsigned int silent_ms;		/* capped, and no completion for this long */
	double iops, bps, p99_us, inflight, riops_share;
	double implied_bps;	/* floor_iops x the mean request size seen */
	struct hci_pol_vm v;
	struct hci_pol_container c;
};

struct tdev {
	__u32 dev;
	char name[64];
	struct ostate o[MAX_ORIGINS];
	int n;
	struct hci_pol_state ps;
};

/* A VM that cannot be capped, said once (at start, or when first seen). */
struct uncappable {
	char origin[HCI_ORIGIN_MAX];
	pid_t pid;		/* its VMM, 0 if not known */
};

struct vmm_name {
	__u32 tgid;
	char name[128];
};

struct svc {
	struct opts o;
	struct vmm_name vmms[MAX_ORIGINS];
	size_t nvmms;
	struct hci_tconf conf;
	struct hci_cgroups cg;
	struct hci_tracer t;
	struct hci_enforcer enf;
	struct tdev devs[HCI_TCONF_MAX];
	int ndevs;
	struct hci_snap prev;
	FILE *log;
	FILE *mlog;
	char dir[256];		/* state directory: lock, pid and status files */
	int lock_fd;		/* the host's hcithrottle lock, held for life */
	__u64 t0;
	unsigned long decisions, intervals, cg_events;
	unsigned long rewrites;		/* limits written again to free held bios */
	struct uncappable unc[MAX_ORIGINS];
	int nunc;
};

/* ---- measurement ---- */

/*
 * A VMM's VM name, from its command line: read once per process, not every
 * interval (a kept name outlives its process; a reused pid keeps it).
 */
static const char *vmm_name_of(struct svc *s, __u32 tgid, char *buf, size_t len)
{
	char path[64], cmd[4096];
	struct vmm_name *e;
	FILE *f;
	size_t n;

	if (!tgid)
		return NULL;
	for (size_t i = 0; i < s->nvmms; i++)
		if (s->vmms[i].tgid == tgid) {
			snprintf(buf, len, "%s", s->vmms[i].name);
			return buf;
		}
	snprintf(path, sizeof(path), "/proc/%u/cmdline", tgid);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	n = fread(cmd, 1, sizeof(cmd), f);
	fclose(f);
	if (!n || hci_vmm_name_from_cmdline(cmd, n, buf, len))
		snprintf(buf, len, "%u", tgid);
	if (s->nvmms < MAX_ORIGINS) {
		e = &s->vmms[s->nvmms++];
		e->tgid = tgid;
		snprintf(e->name, sizeof(e->name), "%s", buf);
	}
	return buf;
}

static struct ostate *ostate_get(struct svc *s, struct tdev *d, const char *origin, __u64 cgid)
{
	struct ostate *o;

	o = NULL;
	for (int i = 0; i < d->n; i++) {
		if (!strcmp(d->o[i].origin, origin) && d->o[i].cgid == cgid)
			return &d->o[i];
		/* a removed cgroup made again: one origin, one row, a fresh state
		 * (its limits went with the old directory) */
		if (!o && d->o[i].gone && !strcmp(d->o[i].origin, origin))
			o = &d->o[i];
	}
	if (!o && d->n == MAX_ORIGINS)
		return NULL;
	if (!o)
		o = &d->o[d->n++];
	memset(o, 0, sizeof(*o));
	snprintf(o->origin, sizeof(o->origin), "%s", origin);
	o->cgid = cgid;
	{
		const char *p = hci_cgroup_path(&s->cg, cgid);

		snprintf(o->cgpath, sizeof(o->cgpath), "%s", p ? p : "");
	}
	o->vm = !strncmp(origin, "vm:", 3);
	o->container = !strncmp(origin, "container:", 10);
	return o;
}

static void apply_conf(struct svc *s, struct ostate *o)
{
	const struct hci_ttarget *t = o->container ? hci_tconf_target(&s->conf, o->origin) : NULL;
	const struct hci_tfloor *f = o->vm ? hci_tconf_floor(&s->conf, o->origin) : NULL;

	o->c.target_p99_us = t ? t->p99_us : 0;
	o->c.target_rel = t ? t->p99_rel : 0;
	o->c.min_iops = t ? t->min_iops : 0;
	o->v.floor_iops = f ? f->iops : 0;
	o->v.floor_bps = f ? f->bps : 0;
	/* a container with no target is measured, not protected */
	if (o->container && !t)
		o->container = false;
}

/* One interval: histogram deltas -> per device, per origin measurements. */
static int measure(struct svc *s, double secs)
{
	struct hci_snap cur = {};
	size_t words;
	int err = hci_snapshot(&s->t, s->t.skel->maps.hists, &cur);

	if (err)
		return err;
	words = cur.vsz / sizeof(__u64);
	for (int k = 0; k < s->ndevs; k++)
		for (int i = 0; i < s->devs[k].n; i++) {
			struct ostate *o = &s->devs[k].o[i];

			o->iops = o->bps = o->p99_us = o->inflight = 0;
			o->riops_share = 0;
		}
	for (size_t i = 0; i < cur.n; i++) {
		const struct hci_hist_key *key = (const void *)(cur.keys + i * cur.ksz);
		const struct hci_hist_val *v = (const void *)&cur.vals[i * words];
		const struct hci_hist_val *old = (const void *)(s->prev.n ?
							hci_snap_find(&s->prev, key) : NULL);
		struct hci_hist_val d;
		char origin[HCI_ORIGIN_MAX], vname[128];
		const char *path;
		struct tdev *td = NULL;
		struct ostate *o;
		double lat_ns, r;

		if (key->op != HCI_OP_READ && key->op != HCI_OP_WRITE)
			continue;
		for (int k = 0; k < s->ndevs; k++)
			if (s->devs[k].dev == key->dev)
				td = &s->devs[k];
		if (!td)
			continue;
		if (old)
			hci_u64s_sub((__u64 *)&d, (const __u64 *)v, (const __u64 *)old, words);
		else
			memcpy(&d, v, sizeof(d));
		if (!d.ios)
			continue;	/* idle this interval: its origin's zeros stand */
		path = key->cgid ? hci_cgroup_path(&s->cg, key->cgid) : NULL;
		if (!path)
			continue;	/* unknown or removed cgroup: nothing to act on */
		hci_classify(&s->conf.rules, path, vmm_name_of(s, key->vmm_tgid, vname, sizeof(vname)),
			     origin, sizeof(origin));
		o = ostate_get(s, td, origin, key->cgid);
		if (!o)
			continue;
		apply_conf(s, o);
		r = (double)d.ios / secs;
		o->iops += r;
		o->bps += (double)d.bytes / secs;
		if (key->op == HCI_OP_READ)
			o->riops_share += r;
		lat_ns = d.ios ? (double)d.sum_ns[HCI_Q2C] / (double)d.ios : 0;
		o->inflight += r * lat_ns / 1e9;	/* Little's law */
		if (d.ios) {
			double p = hci_slots_percentile_us(d.slots[HCI_Q2C], 99);

			if (p > o->p99_us)
				o->p99_us = p;
		}
	}
	hci_snap_free(&s->prev);
	s->prev = cur;
	return 0;
}

/*
 * cgroup mkdir/rmdir/attach from the tracepoints: a removed cgroup's origins
 * are forgotten at once (nothing is written to them again), a new one is
 * named now. Other events (a VMM's first I/O) need nothing here.
 */
static int on_event(void *ctx, void *data, size_t size)
{
	struct svc *s = ctx;
	struct hci_cgevent e;

	if (size < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	if (e.type != HCI_EV_CGROUP)
		return 0;
	s->cg_events++;
	if (e.kind == HCI_CG_MKDIR) {
		hci_cgroup_path(&s->cg, e.cgid);
		return 0;
	}
	if (e.kind != HCI_CG_RMDIR)
		return 0;
	for (int k = 0; k < s->ndevs; k++)
		for (int i = 0; i < s->devs[k].n; i++) {
			struct ostate *o = &s->devs[k].o[i];

			if (o->cgid != e.cgid || o->gone)
				continue;
			o->gone = true;
			hci_enf_forget(&s->enf, o->cgpath);
			fprintf(stderr, "hcithrottle: cgroup %s of %s was removed; forgetting it\n",
				o->cgpath, o->origin);
		}
	return 0;
}

/* ---- decisions ---- */

static void log_row(struct svc *s, const struct tdev *d, const struct ostate *o,
		    const char *action, const char *reason)
{
	double t = (double)(hci_now_ns() - s->t0) / 1e9;

	if (!s->log)
		return;
	fprintf(s->log, "%.3f,%s,%s,%s,%.0f,%.0f,%.1f,%.0f,%.0f,", t, d->name, action, o->origin,
		o->iops, o->bps, o->p99_us, o->v.cap_iops, o->v.cap_bps);
	/* the reason is free text: quote it */
	fputc('"', s->log);
	for (const char *p = reason; *p; p++) {
		if (*p == '"')
			fputc('"', s->log);
		fputc(*p, s->log);
	}
	fputs("\"\n", s->log);
	fflush(s->log);
}

/* A limit as written, per direction and kind ("max" = none). */
static void fmt_limit(char *buf, size_t len, const struct hci_limit *l)
{
	const double v[4] = { l ? l->riops : 0, l ? l->wiops : 0, l ? l->rbps : 0,
			      l ? l->wbps : 0 };
	char f[4][24];

	if (!l) {
		snprintf(buf, len, "unknown (the write failed)");
		return;
	}
	for (int k = 0; k < 4; k++)
		snprintf(f[k], sizeof(f[k]), v[k] > 0 ? "%.0f" : "max", v[k]);
	snprintf(buf, len, "riops=%s wiops=%s rbps=%s wbps=%s", f[0], f[1], f[2], f[3]);
}

static const char *const backend_names[] = {
	[HCI_BACKEND_CGROUP] = "cgroup", [HCI_BACKEND_QMP] = "qmp", [HCI_BACKEND_NONE] = "none",
};

/* The QMP socket and drive that cap this VM, if the backend is qmp. */
static const struct hci_tqmp *qmp_for(const struct svc *s, const char *origin)
{
	if (s->conf.backend != HCI_BACKEND_QMP)
		return NULL;
	for (int i = 0; i < s->conf.nqmp; i++)
		if (!strcmp(s->conf.qmp[i].origin, origin))
			return &s->conf.qmp[i];
	return NULL;
}

/* Can this VM be capped? Over QMP always; in the io controller only in a
 * cgroup of its own (never the root). */
static bool cappable(const struct svc *s, const struct ostate *o)
{
	return qmp_for(s, o->origin) || (o->cgpath[0] && strcmp(o->cgpath, "/"));
}

/*
 * A VM whose VMM runs in the root cgroup, which hcithrottle never limits,
 * and with no qmp line: said once, at start for the VMMs running then, or
 * when its I/O is first seen; the status file keeps a note.
 */
static void say_uncappable(struct svc *s, const char *origin, pid_t pid)
{
	struct uncappable *u;

	for (int i = 0; i < s->nunc; i++)
		if (!strcmp(s->unc[i].origin, origin))
			return;
	if (s->nunc == MAX_ORIGINS)
		return;
	u = &s->unc[s->nunc++];
	snprintf(u->origin, sizeof(u->origin), "%s", origin);
	u->pid = pid;
	fprintf(stderr, "hcithrottle: %s cannot be capped: its VMM runs in the root cgroup, "
		"which hcithrottle never limits, with backend = %s; move it to a cgroup of its "
		"own%s\n", origin, backend_names[s->conf.backend],
		s->conf.backend == HCI_BACKEND_QMP ? ", or give it a qmp line" :
		", or use backend = qmp with a qmp line for it");
}

/* The io controller's cgroup of a process, relative to its mount ("/"). */
static bool proc_io_cgroup(const struct svc *s, pid_t pid, char *out, size_t len)
{
	char path[64], line[640];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	/* "ID:CONTROLLERS:/PATH": v1 blkio, or the v2 line "0::/PATH" */
	while (!found && fgets(line, sizeof(line), f)) {
		char *ctl = strchr(line, ':'), *p = ctl ? strchr(ctl + 1, ':') : NULL;

		if (!p)
			continue;
		*ctl = *p = '\0';
		p++;
		p[strcspn(p, "\n")] = '\0';
		if (s->cg.v1 ? strstr(ctl + 1, "blkio") != NULL : !strcmp(line, "0") && !ctl[1])
			found = snprintf(out, len, "%s", p) > 0;
	}
	fclose(f);
	return found;
}

/* At start: every VMM process now in the root cgroup that no qmp line caps. */
static void scan_uncappable(struct svc *s)
{
	struct dirent *de;
	DIR *proc;

	if (s->conf.backend == HCI_BACKEND_NONE || !(proc = opendir("/proc")))
		return;
	while ((de = readdir(proc))) {
		char path[64], comm[32] = "", cg[512], name[128], origin[HCI_ORIGIN_MAX];
		pid_t pid = (pid_t)atoi(de->d_name);
		FILE *f;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
		comm[strcspn(comm, "\n")] = '\0';
		if (!hci_is_vmm_comm(comm) || !proc_io_cgroup(s, pid, cg, sizeof(cg)) ||
		    strcmp(cg, "/") || !vmm_name_of(s, (__u32)pid, name, sizeof(name)))
			continue;
		snprintf(origin, sizeof(origin), "vm:%s", name);
		if (!qmp_for(s, origin))
			say_uncappable(s, origin, pid);
	}
	closedir(proc);
}

/*
 * blk-throttle can keep a capped cgroup's bios queued after its limit
 * changes and never dispatch them: seen in the 6.1 test guest in about one
 * run in four of 86-throttle-v2.t, 16 bios held for 20 s at 65 IOPS with
 * none in flight, until the same io.max was written again, which frees them
 * at once. So a capped VM with no completion for REWRITE_AFTER_MS gets its
 * limit written again, unchanged, once per REWRITE_AFTER_MS: if it is merely
 * idle that costs one write. QEMU's own throttling (QMP) is not affected.
 */
#define REWRITE_AFTER_MS 1000

static void rewrite_if_silent(struct svc *s, struct tdev *d, struct ostate *o)
{
	struct hci_limit w;
	char err[512];

	if (o->iops > 0 || (!o->v.cap_iops && !o->v.cap_bps) || o->unsynced ||
	    qmp_for(s, o->origin)) {
		o->silent_ms = 0;
		return;
	}
	o->silent_ms += s->conf.interval_ms;
	if (o->silent_ms < REWRITE_AFTER_MS)
		return;
	o->silent_ms = 0;
	if (hci_enf_set(&s->enf, o->cgpath, d->dev, &o->asked, &w, err, sizeof(err))) {
		o->unsynced = true;	/* decide() reports it on its next write */
		return;
	}
	if (!s->rewrites++ || s->o.verbose)
		fprintf(stderr, "hcithrottle: %s %s: no I/O completed for %u ms while capped; "
			"limit written again, unchanged (blk-throttle may hold bios after a "
			"change)\n", d->name, o->origin, REWRITE_AFTER_MS);
}

static void decide(struct svc *s, struct tdev *d)
{
	struct hci_pol_params pp = {
		.decrease = s->conf.decrease, .increase = s->conf.increase,
		.healthy_intervals = s->conf.healthy_intervals, .baseline_alpha = 0.2,
	};
	struct hci_pol_container c[MAX_ORIGINS];
	struct hci_pol_vm v[MAX_ORIGINS];
	int ci[MAX_ORIGINS], vi[MAX_ORIGINS];
	size_t nc = 0, nv = 0;
	struct hci_pol_decision dec;

	for (int i = 0; i < d->n; i++) {
		struct ostate *o = &d->o[i];

		if (o->gone)
			continue;
		if (o->container) {
			o->c.p99_us = o->p99_us;
			o->c.iops = o->iops;
			ci[nc] = i;
			c[nc++] = o->c;
		} else if (o->vm && !cappable(s, o)) {
			say_uncappable(s, o->origin, 0);
		} else if (o->vm) {
			o->v.iops = o->iops;
			o->v.bps = o->bps;
			/*
			 * An IOPS floor implies a bandwidth floor at the VM's mean
			 * request size: otherwise the bandwidth cap, which has no
			 * floor of its own, keeps halving and starves the VM.
			 */
			if (o->v.floor_iops > 0 && o->iops > 0) {
				double implied = o->v.floor_iops * (o->bps / o->iops);

				if (implied > o->implied_bps)
					o->implied_bps = implied;
			}
			if (o->implied_bps > o->v.floor_bps)
				o->v.floor_bps = o->implied_bps;
			vi[nv] = i;
			v[nv++] = o->v;
		}
	}
	if (!nc && !nv)
		return;
	hci_policy_step(&pp, &d->ps, c, nc, v, nv, &dec);
	for (size_t k = 0; k < nc; k++)
		d->o[ci[k]].c = c[k];
	for (size_t k = 0; k < nv; k++) {
		struct ostate *o = &d->o[vi[k]];
		bool changed = v[k].cap_iops != o->v.cap_iops || v[k].cap_bps != o->v.cap_bps;
		const struct hci_tqmp *q = qmp_for(s, o->origin);
		struct hci_limit l, w;
		char err[512];
		double wi, wb;
		int rc;

		o->v = v[k];
		if (!changed && !o->unsynced) {
			rewrite_if_silent(s, d, o);
			continue;
		}
		o->silent_ms = 0;
		/* per direction: the cap is each direction's ceiling */
		wi = o->v.cap_iops;
		wb = o->v.cap_bps;
		if (o->v.floor_iops > 0 && wi > 0 && wi <= o->v.floor_iops * 1.001)
			wi = o->v.floor_iops * FLOOR_HEADROOM;
		if (o->v.floor_bps > 0 && wb > 0 && wb <= o->v.floor_bps * 1.001)
			wb = o->v.floor_bps * FLOOR_HEADROOM;
		l = (struct hci_limit){ .riops = wi, .wiops = wi, .rbps = wb, .wbps = wb };
		o->asked = l;
		rc = q ? hci_enf_set_qmp(&s->enf, q->socket, q->drive, &l, &w, err, sizeof(err)) :
			 hci_enf_set(&s->enf, o->cgpath, d->dev, &l, &w, err, sizeof(err));
		o->unsynced = rc != 0;
		if (!rc)
			o->in_force = w;
		if (rc && q) {
			/* the VM may be starting or restarting: try again */
			fprintf(stderr, "hcithrottle: %s on %s: %s; will retry\n", o->origin,
				d->name, err);
			continue;
		}
		if (rc == -ENOENT) {
			fprintf(stderr, "hcithrottle: %s on %s: %s; forgetting it\n",
				o->origin, d->name, err);
			o->gone = true;
			continue;
		}
		if (rc)
			fprintf(stderr, "hcithrottle: %s on %s: %s\n", o->origin, d->name, err);
		s->decisions++;
		fmt_limit(err, sizeof(err), rc ? NULL : &w);
		fprintf(stderr, "hcithrottle: %s %s %s: iops cap %.0f, bps cap %.0f; in force: %s"
			"%s%s (%s)\n", d->name, dec.action == HCI_POL_CAP ? "cap" : "lift",
			o->origin, o->v.cap_iops, o->v.cap_bps, err, q ? " [qmp]" : "",
			s->enf.dry_run ? " [not written]" : "", dec.reason);
		log_row(s, d, o, dec.action == HCI_POL_CAP ? "cap" : "lift", dec.reason);
	}
}

static void log_measures(struct svc *s)
{
	double t = (double)(hci_now_ns() - s->t0) / 1e9;

	if (!s->mlog)
		return;
	for (int k = 0; k < s->ndevs; k++)
		for (int i = 0; i < s->devs[k].n; i++) {
			const struct ostate *o = &s->devs[k].o[i];

			const struct hci_limit *l = &o->in_force;

			fprintf(s->mlog, "%.3f,%s,%s,%s,%.0f,%.0f,%.1f,%.2f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f\n",
				t, s->devs[k].name, o->origin,
				o->gone ? "gone" : o->vm ? "vm" : o->container ? "container" : "other",
				o->iops, o->bps, o->p99_us, o->inflight, o->v.cap_iops, o->v.cap_bps,
				l->riops, l->wiops, l->rbps, l->wbps);
		}
	fflush(s->mlog);
}

/* ---- status ---- */

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
	if (!qmp_for(s, o->origin) && !o->gone && o->cgpath[0] && strcmp(o->cgpath, "/") &&
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
static void write_status(struct svc *s)
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
		backend_names[s->conf.backend], s->o.dry_run ? " (dry run)" : "", s->intervals,
		s->decisions, s->rewrites);
	fprintf(f, "%-8s %-28s %-9s %10s %12s %10s %8s %10s %10s %12s %12s\n", "DEVICE",
		"ORIGIN", "ROLE", "IOPS", "BYTES/S", "P99(us)", "INFLIGHT", "R_IOPS", "W_IOPS",
		"R_BPS", "W_BPS");
	for (int k = 0; k < s->ndevs; k++)
		for (int i = 0; i < s->devs[k].n; i++)
			status_row(s, f, &s->devs[k], &s->devs[k].o[i]);
	for (int i = 0; i < s->nunc; i++)
		fprintf(f, "note: %s cannot be capped: its VMM runs in the root cgroup "
			"(backend = %s)\n", s->unc[i].origin, backend_names[s->conf.backend]);
	fclose(f);
	rename(tmp, path);
}

/* ---- commands ---- */

static int load_conf(struct svc *s)
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
	char path[64], cmd[200] = "";
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	f = fopen(path, "r");
	if (f) {
		n = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
	}
	cmd[n] = '\0';
	for (size_t i = 0; i + 1 < n; i++)
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
static int take_lock(struct svc *s)
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
static int recover(struct svc *s, bool starting)
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

/* Each configured device, or exit 2 with the config line that names it. */
static int open_devices(struct svc *s)
{
	char err[512], path[300];

	for (int i = 0; i < s->conf.ndevices; i++) {
		struct tdev *d = &s->devs[s->ndevs];

		if (hci_dev_from_name(s->conf.devices[i], &d->dev, err, sizeof(err))) {
			hci_errorf("%s:%d: device %s: %s", s->o.config, s->conf.device_line[i],
				   s->conf.devices[i], err);
			return -EINVAL;
		}
		hci_dev_name(d->dev, d->name, sizeof(d->name));
		/*
		 * A dm or md device is limited as itself: blk-throttle acts where a
		 * bio is submitted, bio-based devices included, so a cap on it
		 * covers everything above it and its member disks keep no rule.
		 */
		snprintf(path, sizeof(path), "/sys/block/%s/dm", d->name);
		if (!access(path, F_OK) || (snprintf(path, sizeof(path), "/sys/block/%s/md",
						     d->name), !access(path, F_OK)))
			fprintf(stderr, "hcithrottle: %s is a %s device: it is limited itself, "
				"not its member disks\n", d->name,
				strstr(path, "/dm") ? "device-mapper" : "md");
		s->ndevs++;
	}
	return 0;
}

/* The decision log appends across runs: a "start" row marks where each run
 * begins (time_s counts from it). */
static int open_logs(struct svc *s)
{
	if (s->conf.log_path[0]) {
		char when[32];
		time_t now = time(NULL);
		struct tm tm;

		s->log = fopen(s->conf.log_path, "a");
		if (!s->log) {
			hci_errorf("cannot open decision log %s: %s", s->conf.log_path,
				   strerror(errno));
			return -1;
		}
		if (ftell(s->log) == 0)
			fputs("time_s,device,action,origin,iops,bps,p99_us,cap_iops,cap_bps,reason\n",
			      s->log);
		gmtime_r(&now, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(s->log, "0.000,,start,,0,0,0.0,0,0,\"hcithrottle pid %d started %s, "
			"interval %u ms, backend %s%s\"\n", getpid(), when, s->conf.interval_ms,
			backend_names[s->conf.backend], s->o.dry_run ? " (dry run)" : "");
		fflush(s->log);
	}
	if (s->o.measure_log) {
		s->mlog = fopen(s->o.measure_log, "w");
		if (!s->mlog) {
			hci_errorf("cannot write %s: %s", s->o.measure_log, strerror(errno));
			return -1;
		}
		fputs("time_s,device,origin,role,iops,bps,p99_us,inflight,cap_iops,cap_bps,"
		      "limit_riops,limit_wiops,limit_rbps,limit_wbps\n",
		      s->mlog);
	}
	return 0;
}

/* SIGHUP: the new configuration, or the old one if the new has an error. */
static void reload_conf(struct svc *s)
{
	struct hci_tconf old = s->conf;
	char err[512];

	memset(&s->conf, 0, sizeof(s->conf));
	if (hci_tconf_load(s->o.config, &s->conf, err, sizeof(err))) {
		fprintf(stderr, "hcithrottle: reload failed, keeping the old configuration: %s\n",
			err);
		hci_tconf_free(&s->conf);
		s->conf = old;
	} else {
		hci_tconf_free(&old);
		fprintf(stderr, "hcithrottle: configuration reloaded\n");
	}
}

/* The control loop, until a signal or --duration. */
static void serve(struct svc *s)
{
	__u64 next, deadline = 0;

	s->t0 = hci_now_ns();
	next = s->t0 + (__u64)s->conf.interval_ms * 1000000ULL;
	if (s->o.duration > 0)
		deadline = s->t0 + (__u64)(s->o.duration * 1e9);
	fprintf(stderr, "hcithrottle: running: %d device(s), interval %u ms, %s%s%s\n", s->ndevs,
		s->conf.interval_ms,
		s->conf.backend == HCI_BACKEND_NONE ? "backend none (measure and decide only)" :
		s->cg.v1 ? "cgroup v1 blkio.throttle" : "cgroup v2 io.max",
		s->conf.backend == HCI_BACKEND_QMP ? ", QMP for the VMs it names" : "",
		s->o.dry_run ? " (dry run: nothing is written)" : "");
	measure(s, 1);		/* the baseline snapshot */
	while (!hci_exiting) {
		__u64 now = hci_now_ns();
		struct timespec nap;

		if (deadline && now >= deadline)
			break;
		if (now < next) {
			__u64 w = next - now;

			nap.tv_sec = (time_t)(w / 1000000000ULL);
			nap.tv_nsec = (long)(w % 1000000000ULL);
			nanosleep(&nap, NULL);
			continue;
		}
		if (reload) {
			reload = 0;
			reload_conf(s);
		}
		ring_buffer__consume(s->t.rb);	/* cgroup changes first */
		if (measure(s, (double)s->conf.interval_ms / 1000.0) == 0) {
			for (int k = 0; k < s->ndevs; k++)
				decide(s, &s->devs[k]);
			log_measures(s);
		}
		s->intervals++;
		if (!s->o.dry_run)
			write_status(s);
		next += (__u64)s->conf.interval_ms * 1000000ULL;
		if (next < hci_now_ns())
			next = hci_now_ns() + (__u64)s->conf.interval_ms * 1000000ULL;
	}
}

static int cmd_run(struct svc *s)
{
	char err[512], path[300];
	int ret = 1, n;

	if (load_conf(s))
		return 2;
	/* a dry run writes nothing, so it needs no lock */
	if (!s->o.dry_run && take_lock(s))
		return 1;
	if (hci_cgroups_init(&s->cg, err, sizeof(err))) {
		hci_errorf("%s", err);
		return 1;
	}
	if (open_devices(s)) {
		ret = 2;
		goto out;
	}
	/* backend = none: measure and decide, write nothing */
	if (hci_enf_init(&s->enf, s->cg.root, s->cg.v1, s->conf.state_path,
			 s->o.dry_run || s->conf.backend == HCI_BACKEND_NONE, err, sizeof(err))) {
		hci_errorf("%s", err);
		goto out;
	}
	/* a dry run holds no lock: the state file may be a running daemon's */
	if (s->o.dry_run && !access(s->conf.state_path, F_OK))
		fprintf(stderr, "hcithrottle: dry run: %s is left for 'hcithrottle reset' or a "
			"real run to restore\n", s->conf.state_path);
	else if (!s->o.dry_run && recover(s, true))
		goto out;
	if (!s->o.dry_run) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/pid", s->dir);
		f = fopen(path, "w");
		if (!f) {
			hci_errorf("cannot write %s: %s", path, strerror(errno));
			goto out;
		}
		fprintf(f, "%d\n", getpid());
		fclose(f);
	}
	if (open_logs(s))
		goto out;
	{
		struct hci_tracer_opts to = {
			.slots = 16384, .max_keys = 4096, .rb_kib = 256, .verbose = s->o.verbose,
			.cgroups = true,
		};

		if (hci_tracer_start(&s->t, &to, on_event, s))
			goto out;
	}
	scan_uncappable(s);
	serve(s);
	ret = 0;
out:
	n = hci_enf_restore(&s->enf);
	if (n) {
		fprintf(stderr, "hcithrottle: %d limits could not be restored; the state file %s "
			"keeps them for 'hcithrottle reset'\n", n, s->conf.state_path);
		ret = 1;
	} else if (s->enf.writes) {
		fprintf(stderr, "hcithrottle: original limits restored\n");
	}
	if (!s->o.dry_run && s->dir[0]) {
		snprintf(path, sizeof(path), "%s/pid", s->dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/status", s->dir);
		unlink(path);
	}
	if (s->log)
		fclose(s->log);
	if (s->mlog)
		fclose(s->mlog);
	hci_tracer_stop(&s->t);
	hci_snap_free(&s->prev);
	hci_enf_free(&s->enf);
	hci_cgroups_free(&s->cg);
	return ret;
}

static int cmd_status(struct svc *s)
{
	char path[300], line[512], who[256];
	pid_t pid;
	FILE *f;

	if (load_conf(s))
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
static int cmd_reset(struct svc *s)
{
	char err[512];
	int ret;

	if (load_conf(s))
		return 2;
	if (take_lock(s))
		return 1;
	/* the io controller's mount: lines for anything else are refused */
	if (hci_cgroups_init(&s->cg, err, sizeof(err))) {
		hci_errorf("%s", err);
		return 1;
	}
	ret = recover(s, false) ? 1 : 0;
	hci_cgroups_free(&s->cg);
	return ret;
}

/* ---- arguments ---- */

const char *argp_program_version = "hcithrottle 0.1.0 (config v1, decision log csv v1)";
const char *argp_program_bug_address = "https://github.com/hcikit/hcikit/issues";

static const char doc[] =
"Keep containers fast when VMs contend for the same SSD: cap the VMs' I/O\n"
"in the cgroup io controller while a container misses its target.\n"
"\n"
"USAGE: hcithrottle run|status|reset [OPTION...]\n"
"\n"
"  run      the service, in the foreground (SIGHUP reloads the config;\n"
"           SIGINT/SIGTERM restore the original limits and exit)\n"
"  status   the origins, their measured I/O and the limits in force\n"
"  reset    remove every limit hcithrottle set (after a crash)\n"
"\n"
"'hcithrottle COMMAND --help' describes one command.\n"
"\n"
"EXAMPLES:\n"
"    hcithrottle run -c /etc/hcikit/hcithrottle.conf\n"
"    hcithrottle run --dry-run -v        # decide and log, write nothing\n"
"    hcithrottle status\n"
"    hcithrottle reset\n"
"\v"
"The configuration file and the decision log are described in\n"
"docs/hcithrottle.md. Exit status: 0 on success, 1 on errors, 2 on bad\n"
"arguments or configuration.";

static const char run_doc[] =
"Run the service in the foreground: every interval, measure each origin's\n"
"I/O, decide the VMs' caps and write them, under the limits the VMs' cgroups\n"
"(or QEMU drives) already had. SIGHUP reloads the configuration;\n"
"SIGINT/SIGTERM put the original limits back and exit. One run per host\n"
"(a lock in the state directory). Limits a killed run left are restored\n"
"first.\n"
"\n"
"EXAMPLES:\n"
"    hcithrottle run -c /etc/hcikit/hcithrottle.conf\n"
"    hcithrottle run --dry-run -v --duration 30\n"
"\v"
"Exit status: 0 after a signal or --duration, 1 on errors (limits that\n"
"could not be restored stay in the state file), 2 on bad arguments or\n"
"configuration (FILE:LINE: message).";

static const char status_doc[] =
"Print whether hcithrottle runs (and which process holds its lock), its\n"
"origins with their I/O and the limits in force, as the kernel has them,\n"
"and the original limits saved in the state file.\n"
"\n"
"EXAMPLE:\n"
"    hcithrottle status -c /etc/hcikit/hcithrottle.conf";

static const char reset_doc[] =
"Put back the original limits a killed run left in the state file, then\n"
"remove it. Every valid line is restored; a line that is not one\n"
"hcithrottle writes is reported with its FILE:LINE and kept in the file.\n"
"Refused while hcithrottle runs (it says which process holds the lock).\n"
"\n"
"EXAMPLE:\n"
"    hcithrottle reset -c /etc/hcikit/hcithrottle.conf\n"
"\v"
"Exit status: 0 when every line was restored, 1 otherwise, 2 on bad\n"
"arguments or configuration.";

enum { OPT_DRY = 0x100, OPT_DURATION, OPT_MLOG };

#define OPT_CONFIG { "config", 'c', "FILE", 0, "Configuration file (default " DEFAULT_CONFIG ")", 0 }
#define OPT_VERBOSE { "verbose", 'v', NULL, 0, "More messages (-vv: libbpf debug)", 0 }
#define OPT_HELP { NULL, 'h', NULL, OPTION_HIDDEN, "Give this help list", -1 }

static const struct argp_option options[] = {
	OPT_CONFIG,
	{ "dry-run", OPT_DRY, NULL, 0, "run: compute and log decisions, write no limit", 0 },
	{ "duration", OPT_DURATION, "SECONDS", 0, "run: stop after this many seconds", 0 },
	{ "measure-log", OPT_MLOG, "FILE", 0,
	  "run: write every interval's measurements, per origin, as CSV", 0 },
	OPT_VERBOSE,
	OPT_HELP,
	{ 0 },
};

static const struct argp_option run_options[] = {
	OPT_CONFIG,
	{ "dry-run", OPT_DRY, NULL, 0, "Compute and log decisions, write no limit", 0 },
	{ "duration", OPT_DURATION, "SECONDS", 0, "Stop after this many seconds", 0 },
	{ "measure-log", OPT_MLOG, "FILE", 0,
	  "Write every interval's measurements, per origin, as CSV", 0 },
	OPT_VERBOSE,
	OPT_HELP,
	{ 0 },
};

static const struct argp_option cmd_options[] = {	/* status, reset */
	OPT_CONFIG,
	OPT_VERBOSE,
	OPT_HELP,
	{ 0 },
};

static bool is_command(const char *a)
{
	return !strcmp(a, "run") || !strcmp(a, "status") || !strcmp(a, "reset");
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;
	char *end;

	switch (key) {
	case 'c': o->config = arg; break;
	case OPT_DRY: o->dry_run = true; break;
	case OPT_MLOG: o->measure_log = arg; break;
	case 'v': o->verbose++; break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case OPT_DURATION:
		errno = 0;
		o->duration = strtod(arg, &end);
		if (errno || end == arg || *end || !isfinite(o->duration) || o->duration <= 0)
			argp_error(state, "invalid --duration '%s': want seconds > 0", arg);
		break;
	case ARGP_KEY_ARG:
		if (o->cmd)
			argp_error(state, "unexpected argument '%s'", arg);
		if (!is_command(arg))
			argp_error(state, "unknown command '%s': want run, status or reset", arg);
		o->cmd = arg;
		break;
	case ARGP_KEY_END:
		if (!o->cmd)
			argp_error(state, "a command is needed: run, status or reset");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/*
 * The command word, found before argp runs (argp handles --help as soon as
 * it sees it, wherever it is): each command then parses with its own options
 * and help, under the name "hcithrottle COMMAND". Returns its index, or 0.
 */
static int find_command(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return i + 1 < argc && is_command(argv[i + 1]) ? i + 1 : 0;
		if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config") ||
		    !strcmp(argv[i], "--duration") || !strcmp(argv[i], "--measure-log")) {
			i++;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1])
			continue;
		return is_command(argv[i]) ? i : 0;
	}
	return 0;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	struct argp argp = { .options = options, .parser = parse_opt, .doc = doc,
			     .args_doc = "run|status|reset" };
	char name[64], *args[argc + 1];
	int ci = find_command(argc, argv), n = 0;

	if (!ci) {
		argp_parse(&argp, argc, argv, 0, NULL, o);	/* exits 2 on bad arguments */
		return;
	}
	o->cmd = argv[ci];
	snprintf(name, sizeof(name), "hcithrottle %s", argv[ci]);
	args[n++] = name;
	for (int i = 1; i < argc; i++)
		if (i != ci)
			args[n++] = argv[i];
	args[n] = NULL;
	argp.args_doc = NULL;
	argp.options = !strcmp(o->cmd, "run") ? run_options : cmd_options;
	argp.doc = !strcmp(o->cmd, "run") ? run_doc :
		   !strcmp(o->cmd, "status") ? status_doc : reset_doc;
	argp_parse(&argp, n, args, 0, NULL, o);
}

int main(int argc, char **argv)
{
	static struct svc s;

	s.o.config = DEFAULT_CONFIG;
	s.lock_fd = -1;
	argp_err_exit_status = 2;
	parse_args(argc, argv, &s.o);
	hci_set_verbosity(s.o.verbose);
	hci_stop_on_signals();
	signal(SIGHUP, on_hup);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(s.o.cmd, "run"))
		return cmd_run(&s);
	if (!strcmp(s.o.cmd, "status"))
		return cmd_status(&s);
	return cmd_reset(&s);
}
