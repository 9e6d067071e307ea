// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcitrace's KVM table: the KVM events and VM exits (by reason) of each VM,
 * from the kvm_counts and kvm_exits snapshots, with "per VMM request" taken
 * from the report's VMM rows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "hcitrace.skel.h"
#include "core/hist.h"
#include "trace.h"

/* One VM exit count, as the kvm_exits map holds it. */
struct exit_ent {
	struct hci_exit_key k;
	__u64 v;
};

static int exit_cmp(const void *x, const void *y)
{
	const struct hci_exit_key *a = x, *b = y;

	return a->reason < b->reason ? -1 : a->reason > b->reason;
}

/* The exits snapshot, sorted by reason: reasons in a stable order. */
static struct exit_ent *sorted_exits(const struct hci_snap *exits)
{
	struct exit_ent *ev = malloc(exits->n * sizeof(*ev) + 1);

	if (!ev)
		return NULL;
	for (size_t i = 0; i < exits->n; i++) {
		memcpy(&ev[i].k, exits->keys + i * exits->ksz, sizeof(ev[i].k));
		ev[i].v = exits->vals[i];
	}
	qsort(ev, exits->n, sizeof(*ev), exit_cmp);
	return ev;
}

/* The row of the VM behind @tgid, added (with its VMM requests) if new. */
static struct hci_kvm_row *kvm_row_of(struct trace_run *tr, const struct hci_report *r,
				      struct hci_kvm_row **rows, size_t *n, __u32 tgid)
{
	struct hci_kvm_row *k = NULL, *nr;

	for (size_t j = 0; j < *n; j++)
		if (!strcmp((*rows)[j].origin, hci_vm_origin(&tr->res, tgid)))
			k = &(*rows)[j];
	if (k)
		return k;
	nr = realloc(*rows, (*n + 1) * sizeof(**rows));
	if (!nr)
		return NULL;
	*rows = nr;
	k = &nr[(*n)++];
	memset(k, 0, sizeof(*k));
	snprintf(k->origin, sizeof(k->origin), "%s", hci_vm_origin(&tr->res, tgid));
	for (size_t e = 0; e < r->n; e++)
		if (r->rows[e].layer == HCI_LAYER_VMM && !strcmp(r->rows[e].origin, k->origin))
			k->vmm_ios += r->rows[e].vm.ios;
	return k;
}

/* @v exits for @reason; past 64 reasons, only the total counts them. */
static void add_exits(struct hci_kvm_row *k, __u32 reason, __u64 v)
{
	size_t e;

	k->exits_total += v;
	for (e = 0; e < k->nexits && k->reasons[e] != reason; e++)
		;
	if (e == k->nexits && k->nexits < 64)
		k->reasons[k->nexits++] = reason;
	if (e < 64)
		k->exits[e] += v;
}

/* Every VM's counts, then its exits, into *rows (*n of them). */
static int fill_rows(struct trace_run *tr, const struct hci_report *r,
		     const struct hci_snap *counts, const struct hci_snap *exits,
		     struct hci_kvm_row **rows, size_t *n)
{
	struct exit_ent *ev = sorted_exits(exits);

	if (!ev)
		return -ENOMEM;
	for (size_t i = 0; i < counts->n + exits->n; i++) {
		__u32 tgid = i < counts->n ? *(__u32 *)(counts->keys + i * counts->ksz) :
					     ev[i - counts->n].k.vmm_tgid;
		struct hci_kvm_row *k = kvm_row_of(tr, r, rows, n, tgid);

		if (!k) {
			free(ev);
			return -ENOMEM;
		}
		if (i < counts->n)
			hci_u64s_add(k->v.c, &counts->vals[i * HCI_NKVM], HCI_NKVM);
		else
			add_exits(k, ev[i - counts->n].k.reason, ev[i - counts->n].v);
	}
	free(ev);
	return 0;
}

/* KVM events and exits per VM, with "per VMM request" from the report. */
int kvm_rows(struct trace_run *tr, const struct hci_report *r, struct hci_kvm_row **out,
	     size_t *nout)
{
	struct hci_snap counts = {}, exits = {};
	struct hci_kvm_row *rows = NULL;
	size_t n = 0;
	int err;

	*out = NULL;
	*nout = 0;
	if (!tr->env.vmm)
		return 0;
	err = hci_snapshot(&tr->t, tr->t.skel->maps.kvm_counts, &counts);
	if (!err)
		err = hci_snapshot(&tr->t, tr->t.skel->maps.kvm_exits, &exits);
	if (!err)
		err = fill_rows(tr, r, &counts, &exits, &rows, &n);
	if (err)
		goto out;
	if (tr->env.origin) {
		size_t w = 0;

		for (size_t i = 0; i < n; i++)
			if (hci_origin_matches(rows[i].origin, tr->env.origin))
				rows[w++] = rows[i];
		n = w;
	}
	*out = rows;
	*nout = n;
	rows = NULL;
out:
	free(rows);
	hci_snap_free(&counts);
	hci_snap_free(&exits);
	return err;
}
