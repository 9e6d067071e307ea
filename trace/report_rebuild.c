// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Histograms from records (report_rebuild.h). Each key and op gets the
 * same value struct the BPF map holds, filled the way block.bpf.c
 * (on_rq_complete, on_bio_complete) and vmm.bpf.c (vio_account) fill it,
 * so that a run with no loss rebuilds to exactly the live histograms.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "hci_stages.h"
#include "core/hist.h"
#include "report_rebuild.h"

/* One key's values, by op: rebuilt from records, and BPF's final ones */
struct acc {
	const struct hci_rec_keyinfo *k;
	struct hci_hist_val *block[HCI_NOPS], *block_bpf[HCI_NOPS];
	struct hci_vmm_val *vmm[HCI_NOPS], *vmm_bpf[HCI_NOPS];
};

struct hci_rebuild {
	struct acc *keys[65536];
};

struct hci_rebuild *hci_rebuild_new(void)
{
	return calloc(1, sizeof(struct hci_rebuild));
}

static struct acc *acc_of(struct hci_rebuild *rb, const struct hci_rec_keyinfo *k)
{
	struct acc *a = rb->keys[k->idx & 0xffff];

	if (!a) {
		a = calloc(1, sizeof(*a));
		rb->keys[k->idx & 0xffff] = a;
	}
	if (a)
		a->k = k;
	return a;
}

/* *@slot, allocated on first use */
static void *val_of(void **slot, size_t size)
{
	if (!*slot)
		*slot = calloc(1, size);
	return *slot;
}

int hci_rebuild_req(struct hci_rebuild *rb, const struct hci_rec_keyinfo *k,
		    const struct hci_event *e)
{
	struct acc *a = acc_of(rb, k);
	const __u64 ts[HCI_NPOINTS] = { e->ts_q, e->ts_g, e->ts_i, e->ts_d, e->ts_c };
	struct hci_hist_val *v;

	if (e->op >= HCI_NOPS)
		return 0;
	v = a ? val_of((void **)&a->block[e->op], sizeof(*v)) : NULL;
	if (!v)
		return -ENOMEM;
	v->ios++;
	v->bytes += e->bytes;
	/* a bio-based disk has only its bio's Q and C */
	if (e->flags & HCI_BIO_BASED) {
		hci_span_add(v->slots[HCI_Q2C], &v->sum_ns[HCI_Q2C], e->ts_q, e->ts_c);
		return 0;
	}
	for (int st = 0; st < HCI_NSTAGES; st++)
		if (hci_stage_present(e->flags, st))
			hci_span_add(v->slots[st], &v->sum_ns[st], ts[hci_stage_from(st)],
				     ts[hci_stage_to(st)]);
	return 0;
}

int hci_rebuild_vreq(struct hci_rebuild *rb, const struct hci_rec_keyinfo *k,
		     const struct hci_vevent *e)
{
	struct acc *a = acc_of(rb, k);
	const struct hci_vpoints p = {
		.v = e->ts_v, .q = e->ts_q, .d = e->ts_d, .c = e->ts_c, .vc = e->ts_vc,
		.nbios = e->nbios,
	};
	struct hci_vmm_val *v;
	__u64 from, to;

	if (e->op >= HCI_NOPS)
		return 0;
	v = a ? val_of((void **)&a->vmm[e->op], sizeof(*v)) : NULL;
	if (!v)
		return -ENOMEM;
	v->ios++;
	if (e->ret < 0)
		v->errors++;
	else
		v->bytes += (__u64)e->ret;
	v->bios += e->nbios;
	for (int st = 0; st < HCI_NVSTAGES; st++) {
		if (st == HCI_N2V || !hci_vstage_present(&p, st))
			continue;
		hci_vstage_ends(&p, st, &from, &to);
		hci_span_add(v->slots[st], &v->sum_ns[st], from, to);
	}
	return 0;
}

int hci_rebuild_hist(struct hci_rebuild *rb, const struct hci_rec_keyinfo *k, unsigned int op,
		     const struct hci_hist_val *block, const struct hci_vmm_val *vmm)
{
	struct acc *a = acc_of(rb, k);
	void *v;

	if (op >= HCI_NOPS)
		return 0;
	if (!a)
		return -ENOMEM;
	if (block) {
		v = val_of((void **)&a->block_bpf[op], sizeof(*block));
		if (v)
			hci_u64s_add(v, (const __u64 *)block, sizeof(*block) / 8);
	} else {
		v = val_of((void **)&a->vmm_bpf[op], sizeof(*vmm));
		if (v)
			hci_u64s_add(v, (const __u64 *)vmm, sizeof(*vmm) / 8);
	}
	return v ? 0 : -ENOMEM;
}

/* Block: what records lack, from BPF's value; returns the requests unrecorded */
static __u64 block_extra(struct hci_hist_val *v, const struct hci_hist_val *bpf)
{
	v->merges = bpf->merges;
	v->splits = bpf->splits;
	v->requeues = bpf->requeues;
	v->rq_merges = bpf->rq_merges;
	return bpf->ios > v->ios ? bpf->ios - v->ios : 0;
}

/* VMM: the same; a request with no bio was absorbed or unlinked, which
 * only BPF knew (an io_uring request punted to a worker) */
static __u64 vmm_extra(struct hci_vmm_val *v, const struct hci_vmm_val *bpf)
{
	memcpy(v->slots[HCI_N2V], bpf->slots[HCI_N2V], sizeof(v->slots[HCI_N2V]));
	v->sum_ns[HCI_N2V] = bpf->sum_ns[HCI_N2V];
	v->absorbed = bpf->absorbed;
	v->absorbed_bytes = bpf->absorbed_bytes;
	v->unlinked = bpf->unlinked;
	return bpf->ios > v->ios ? bpf->ios - v->ios : 0;
}

/* A value all zero is no row, as in the live report */
static bool all_zero(const void *v, size_t size)
{
	const __u64 *w = v;

	for (size_t i = 0; i < size / 8; i++)
		if (w[i])
			return false;
	return true;
}

/* One key's rows: rebuilt, with BPF's extras where it has them */
static int key_rows(struct acc *a, struct hci_report *r, __u64 *missing)
{
	const size_t bsz = sizeof(struct hci_hist_val), vsz = sizeof(struct hci_vmm_val);

	for (__u32 op = 0; op < HCI_NOPS; op++) {
		if (a->block_bpf[op] && val_of((void **)&a->block[op], bsz))
			*missing += block_extra(a->block[op], a->block_bpf[op]);
		if (a->vmm_bpf[op] && val_of((void **)&a->vmm[op], vsz))
			*missing += vmm_extra(a->vmm[op], a->vmm_bpf[op]);
		if (a->block[op] && !all_zero(a->block[op], bsz) &&
		    hci_report_add(r, HCI_LAYER_BLOCK, a->k->origin, a->k->dev_name, op,
				   a->block[op]))
			return -ENOMEM;
		if (a->vmm[op] && !all_zero(a->vmm[op], vsz) &&
		    hci_report_add(r, HCI_LAYER_VMM, a->k->origin, a->k->dev_name, op, a->vmm[op]))
			return -ENOMEM;
	}
	return 0;
}

int hci_rebuild_report(struct hci_rebuild *rb, struct hci_report *r,
		       bool (*left_out)(void *ctx, const char *origin), void *ctx,
		       __u64 *missing)
{
	memset(r, 0, sizeof(*r));
	*missing = 0;
	for (size_t i = 0; i < 65536; i++) {
		struct acc *a = rb->keys[i];

		if (!a || (left_out && left_out(ctx, a->k->origin)))
			continue;
		if (key_rows(a, r, missing))
			return -ENOMEM;
	}
	hci_report_sort(r);
	return 0;
}

void hci_rebuild_free(struct hci_rebuild *rb)
{
	if (!rb)
		return;
	for (size_t i = 0; i < 65536; i++) {
		struct acc *a = rb->keys[i];

		if (!a)
			continue;
		for (int op = 0; op < HCI_NOPS; op++) {
			free(a->block[op]);
			free(a->block_bpf[op]);
			free(a->vmm[op]);
			free(a->vmm_bpf[op]);
		}
		free(a);
	}
	free(rb);
}
