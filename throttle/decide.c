// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcithrottle's decisions: each interval, per device, the measured origins
 * go to the AIMD controller (policy.c) and the VMs' new caps to the backend
 * (enforce.c), each logged with its reason; the VMs that cannot be capped
 * are said once; the measure log gets every origin.
 */
#include <errno.h>
#include <string.h>
#include "host/procs.h"
#include "host/vmm.h"
#include "throttle.h"

/*
 * A cap at the floor is written with headroom: blk-throttle delivers 75-85%
 * of a low IOPS limit to a deep queue (measured on loop devices, v1), and
 * the floor is what the VM must get, not what the file says.
 */
#define FLOOR_HEADROOM 1.3

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

const char *const thr_backend_names[] = {
	[HCI_BACKEND_CGROUP] = "cgroup", [HCI_BACKEND_QMP] = "qmp", [HCI_BACKEND_NONE] = "none",
};

/* The QMP socket and drive that cap this VM, if the backend is qmp. */
const struct hci_tqmp *thr_qmp_for(const struct svc *s, const char *origin)
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
	return thr_qmp_for(s, o->origin) || (o->cgpath[0] && strcmp(o->cgpath, "/"));
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
		"own%s\n", origin, thr_backend_names[s->conf.backend],
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

/* One process at start: a VMM in the root cgroup, named, that no qmp line caps. */
static int check_cappable(const struct hci_proc *p, void *ctx)
{
	struct svc *s = ctx;
	const struct hci_vmm_info *vi;
	char cg[512], origin[HCI_ORIGIN_MAX];

	if (!hci_is_vmm_comm(p->comm) || !proc_io_cgroup(s, p->pid, cg, sizeof(cg)) ||
	    strcmp(cg, "/"))
		return 0;
	/* a VMM gone since (no comm when the resolver looked) has no name */
	vi = hci_resolver_vmm(&s->res, (__u32)p->pid);
	if (!vi || !vi->comm[0])
		return 0;
	snprintf(origin, sizeof(origin), "vm:%s", vi->name);
	if (!thr_qmp_for(s, origin))
		say_uncappable(s, origin, p->pid);
	return 0;
}

/* At start: every VMM process now in the root cgroup that no qmp line caps. */
void thr_scan_uncappable(struct svc *s)
{
	if (s->conf.backend != HCI_BACKEND_NONE)
		hci_procs_each(HCI_PROC_COMM, check_cappable, s);
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
	    thr_qmp_for(s, o->origin)) {
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

/* The controller's view of one VM: its load, and a bandwidth floor implied
 * by its IOPS floor. */
static void vm_input(struct ostate *o)
{
	o->v.iops = o->iops;
	o->v.bps = o->bps;
	/*
	 * An IOPS floor implies a bandwidth floor at the VM's mean request
	 * size: otherwise the bandwidth cap, which has no floor of its own,
	 * keeps halving and starves the VM.
	 */
	if (o->v.floor_iops > 0 && o->iops > 0) {
		double implied = o->v.floor_iops * (o->bps / o->iops);

		if (implied > o->implied_bps)
			o->implied_bps = implied;
	}
	if (o->implied_bps > o->v.floor_bps)
		o->v.floor_bps = o->implied_bps;
}

/* The policy's inputs on one device: its containers and cappable VMs, with
 * where each came from (ci, vi: indexes into d->o). */
struct pol_inputs {
	struct hci_pol_container c[MAX_ORIGINS];
	struct hci_pol_vm v[MAX_ORIGINS];
	int ci[MAX_ORIGINS], vi[MAX_ORIGINS];
	size_t nc, nv;
};

static void gather_inputs(struct svc *s, struct tdev *d, struct pol_inputs *in)
{
	in->nc = in->nv = 0;
	for (int i = 0; i < d->n; i++) {
		struct ostate *o = &d->o[i];

		if (o->gone)
			continue;
		if (o->container) {
			o->c.p99_us = o->p99_us;
			o->c.iops = o->iops;
			in->ci[in->nc] = i;
			in->c[in->nc++] = o->c;
		} else if (o->vm && !cappable(s, o)) {
			say_uncappable(s, o->origin, 0);
		} else if (o->vm) {
			vm_input(o);
			in->vi[in->nv] = i;
			in->v[in->nv++] = o->v;
		}
	}
}

/* The limit to write for a VM's caps: per direction, the cap is each
 * direction's ceiling; a cap at its floor gets the headroom. */
static struct hci_limit limit_for(const struct hci_pol_vm *v)
{
	double wi = v->cap_iops, wb = v->cap_bps;

	if (v->floor_iops > 0 && wi > 0 && wi <= v->floor_iops * 1.001)
		wi = v->floor_iops * FLOOR_HEADROOM;
	if (v->floor_bps > 0 && wb > 0 && wb <= v->floor_bps * 1.001)
		wb = v->floor_bps * FLOOR_HEADROOM;
	return (struct hci_limit){ .riops = wi, .wiops = wi, .rbps = wb, .wbps = wb };
}

/* Write a VM's new caps (or its old ones again, after a failed write), and
 * say and log what is in force. */
static void enforce_vm(struct svc *s, struct tdev *d, struct ostate *o,
		       const struct hci_pol_decision *dec)
{
	const struct hci_tqmp *q = thr_qmp_for(s, o->origin);
	struct hci_limit l, w;
	char err[512];
	int rc;

	o->silent_ms = 0;
	l = limit_for(&o->v);
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
		return;
	}
	if (rc == -ENOENT) {
		fprintf(stderr, "hcithrottle: %s on %s: %s; forgetting it\n",
			o->origin, d->name, err);
		o->gone = true;
		return;
	}
	if (rc)
		fprintf(stderr, "hcithrottle: %s on %s: %s\n", o->origin, d->name, err);
	s->decisions++;
	fmt_limit(err, sizeof(err), rc ? NULL : &w);
	fprintf(stderr, "hcithrottle: %s %s %s: iops cap %.0f, bps cap %.0f; in force: %s"
		"%s%s (%s)\n", d->name, dec->action == HCI_POL_CAP ? "cap" : "lift",
		o->origin, o->v.cap_iops, o->v.cap_bps, err, q ? " [qmp]" : "",
		s->enf.dry_run ? " [not written]" : "", dec->reason);
	log_row(s, d, o, dec->action == HCI_POL_CAP ? "cap" : "lift", dec->reason);
	thr_metrics_decision(s, d, o, dec);
}

void thr_decide(struct svc *s, struct tdev *d)
{
	struct hci_pol_params pp = {
		.decrease = s->conf.decrease, .increase = s->conf.increase,
		.healthy_intervals = s->conf.healthy_intervals, .baseline_alpha = 0.2,
	};
	struct pol_inputs in;
	struct hci_pol_decision dec;

	gather_inputs(s, d, &in);
	if (!in.nc && !in.nv)
		return;
	hci_policy_step(&pp, &d->ps, in.c, in.nc, in.v, in.nv, &dec);
	for (size_t k = 0; k < in.nc; k++)
		d->o[in.ci[k]].c = in.c[k];
	for (size_t k = 0; k < in.nv; k++) {
		struct ostate *o = &d->o[in.vi[k]];
		bool changed = in.v[k].cap_iops != o->v.cap_iops ||
			       in.v[k].cap_bps != o->v.cap_bps;

		o->v = in.v[k];
		if (!changed && !o->unsynced)
			rewrite_if_silent(s, d, o);
		else
			enforce_vm(s, d, o, &dec);
	}
}

void thr_log_measures(struct svc *s)
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
