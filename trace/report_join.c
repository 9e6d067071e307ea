// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcitrace report: the guest join of a recorded run, run again. A live run
 * records each guest channel (HCI_REC_CHAN), the bytes of each read with
 * their receipt time (HCI_REC_CHAN_DATA) and the VMM requests (VREQ), all
 * in the order it handled them; fed back in that order through the same
 * parser and join (channel.c, join.c, events.c's join_vevent) they join
 * as they did live, and guests.c's guest_joined, summaries and JSON take the result.
 * What is not recorded: the KVM TSC offset (debugfs, live only), so the
 * clock comes from causality alone, and the per-interval volumes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "report_join.h"
#include "trace.h"

/* The channels' paths: the record's strings last only until the next record */
static char *paths[HCI_MAX_CHANNELS];

int rjoin_chan(struct trace_run *tr, const struct hci_rec *rec)
{
	unsigned int i = rec->chan.idx;
	struct guest_chan *g;

	if (i >= HCI_MAX_CHANNELS)
		return 0;	/* not one hcitrace could have written: left out */
	if (!tr->chans) {
		tr->chans = calloc(HCI_MAX_CHANNELS, sizeof(*tr->chans));
		if (!tr->chans)
			return -ENOMEM;
	}
	g = &tr->chans[i];
	if (g->c.j) {
		/* a reconnect: the stream starts over, as channel.c does it */
		hci_wire_init(g->c.p);
		return 0;
	}
	paths[i] = strdup(rec->chan.path);
	if (!paths[i] || hci_chan_replay_open(&g->c, paths[i], rec->chan.vm_tgid, rec->chan.live,
					      (size_t)tr->env.max_pending, guest_joined, g))
		return -ENOMEM;
	g->tr = tr;
	g->polled_fd = -1;
	snprintf(g->origin, sizeof(g->origin), "%s", rec->chan.origin);
	if ((int)i >= tr->nchans)
		tr->nchans = (int)i + 1;
	return 0;
}

void rjoin_data(struct trace_run *tr, const struct hci_rec *rec)
{
	struct guest_chan *g;

	if (!tr->chans || rec->data.idx >= HCI_MAX_CHANNELS)
		return;
	g = &tr->chans[rec->data.idx];
	if (!g->c.j)
		return;	/* bytes of a channel never announced: garbage, left out */
	hci_chan_replay_feed(&g->c, rec->data.bytes, rec->data.len, rec->data.recv_ns);
	hci_join_poll(g->c.j, rec->data.recv_ns, false);
}

void rjoin_finish(struct trace_run *tr, __u64 end_ns)
{
	for (int i = 0; i < tr->nchans; i++)
		if (tr->chans[i].c.j)
			hci_join_poll(tr->chans[i].c.j, end_ns, true);
}

/* Channels left empty (an index never announced) get a join of their own,
 * so that guests.c's loops find one in every slot */
int rjoin_fill(struct trace_run *tr)
{
	for (int i = 0; i < tr->nchans; i++) {
		struct guest_chan *g = &tr->chans[i];

		if (g->c.j)
			continue;
		if (hci_chan_replay_open(&g->c, "", 0, false, 1, guest_joined, g))
			return -ENOMEM;
		g->tr = tr;
		snprintf(g->origin, sizeof(g->origin), "unknown");
	}
	return 0;
}

void rjoin_free(struct trace_run *tr)
{
	for (int i = 0; i < tr->nchans; i++)
		hci_chan_close(&tr->chans[i].c);
	free(tr->chans);
	tr->chans = NULL;
	tr->nchans = 0;
	for (int i = 0; i < HCI_MAX_CHANNELS; i++) {
		free(paths[i]);
		paths[i] = NULL;
	}
}
