// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcithrottle's measurement: each interval's histogram deltas turned into
 * IOPS, bytes, in-flight depth and p99 per origin and device (the origins
 * are lib/host/resolver's), and the cgroup events that retire an origin.
 */
#include <string.h>
#include "hcitrace.skel.h"
#include "hci_abi.h"
#include "host/resolver.h"
#include "throttle.h"

static struct ostate *ostate_get(struct tdev *d, const char *origin, __u64 cgid,
				 const char *cgpath)
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
	snprintf(o->cgpath, sizeof(o->cgpath), "%s", cgpath);
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
int thr_measure(struct svc *s, double secs)
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
		const struct hci_origin *ro;
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
		ro = hci_origin_lookup(&s->res, key->cgid, key->vmm_tgid);
		if (!ro || ro->cg != HCI_CG_LIVE)
			continue;	/* unknown or removed cgroup: nothing to act on */
		o = ostate_get(td, ro->name, key->cgid, ro->cgpath);
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
int thr_on_event(void *ctx, void *data, size_t size)
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
	hci_resolver_forget_cgroup(&s->res, e.cgid);
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
