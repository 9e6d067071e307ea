// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A join replay (join_replay.h) from an "hcitrace --record" file: one guest
 * channel's bytes by their receipt times, and the VMM requests of that
 * channel's VM, taken as events.c takes them live. The file is read with
 * record_read.h, the one reader of the format.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "hci_wire.h"
#include "join_replay.h"
#include "record_read.h"

/* events.c's join_vevent: the VMM requests the join is given, as it gets them */
static bool vevent_in(const struct hci_vevent *e, struct hci_jvmm_in *v)
{
	if (e->op >= HCI_NOPS || e->ret < 0 || !e->ts_v || e->ts_vc < e->ts_v)
		return false;
	*v = (struct hci_jvmm_in){
		.vs = e->ts_v, .vc = e->ts_vc, .hq = e->ts_q, .hd = e->ts_d, .hc = e->ts_c,
		.off = e->off, .ino = e->ino, .dev = e->dev, .op = e->op, .nbios = e->nbios,
	};
	v->len = e->op == HCI_OP_FLUSH ? 0 : (__u64)e->ret;
	return true;
}

struct loader {
	struct hci_jreplay *rp;
	struct hci_wire_parser *p;
	unsigned int chan;
	bool have_chan;
	__u32 vm_tgid;
};

static int take(struct loader *l, const struct hci_rec *rec)
{
	struct hci_jvmm_in v;

	switch (rec->type) {
	case HCI_REC_CHAN:
		if (rec->chan.idx != l->chan)
			return 0;
		if (l->have_chan) {
			/* written again on a reconnect: a new stream, parsed from scratch */
			hci_wire_init(l->p);
			if (!hci_jrp_add_restart(l->rp))
				return -ENOMEM;
		}
		l->have_chan = true;
		l->vm_tgid = rec->chan.vm_tgid;
		l->rp->live = rec->chan.live;
		return 0;
	case HCI_REC_CHAN_DATA:
		if (!l->have_chan || rec->data.idx != l->chan)
			return 0;
		return hci_jrp_add_bytes(l->rp, l->p, rec->data.recv_ns, rec->data.bytes,
					 rec->data.len) ? 0 : -ENOMEM;
	case HCI_REC_VREQ:
		if (!l->have_chan || rec->vreq.vmm_tgid != l->vm_tgid || !vevent_in(&rec->vreq, &v))
			return 0;
		return hci_jrp_add_vmm(l->rp, v.vc, &v) ? 0 : -ENOMEM;
	}
	return 0;
}

bool hci_jrp_load(struct hci_jreplay *rp, const char *path, unsigned int chan, char *err,
		  size_t errlen)
{
	struct loader l = { .rp = rp, .chan = chan, .p = malloc(sizeof(*l.p)) };
	struct hci_rec_reader *rd;
	struct hci_rec rec;
	int n = 0, r;

	if (!l.p) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	hci_wire_init(l.p);
	if (hci_rec_open(path, &rd, err, errlen)) {
		free(l.p);
		return false;
	}
	while ((r = hci_rec_next(rd, &rec, err, errlen)) > 0 && !(n = take(&l, &rec)))
		;
	if (r < 0)
		n = r;	/* garbage in the file: err says what and where */
	else if (n == -ENOMEM)
		snprintf(err, errlen, "out of memory reading %s", path);
	else if (!n && !l.have_chan)
		snprintf(err, errlen, "%s: no guest channel %u (was it recorded with "
			 "--guest-channel?)", path, chan);
	else if (!n && hci_rec_cut_short(rd))
		fprintf(stderr, "Warning: %s was cut short (no trailer): replaying what is "
			"there\n", path);
	hci_rec_close(rd);
	free(l.p);
	return !n && l.have_chan;
}
