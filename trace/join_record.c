// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Per-request records of the join: the stages of one matched guest request
 * (enum hci_jstage, join.h) from its guest stamps and the VMM requests that
 * served it, the per-op statistics summed from them, and the count of
 * requests the host issued in another order than the guest did.
 */
#include <stdlib.h>
#include <string.h>
#include "hci_hist.h"
#include "join_record.h"

const char *const hci_jstage_names[HCI_NJSTAGES] = {
	[HCI_J_GUEST] = "guest",
	[HCI_J_NOTIFY] = "notify",
	[HCI_J_V2Q] = "vmm_submit",
	[HCI_J_HQ2D] = "host_queue",
	[HCI_J_HD2C] = "device",
	[HCI_J_C2V] = "vmm_complete",
	[HCI_J_VCACHED] = "vmm_cached",
	[HCI_J_IRQ] = "irq",
	[HCI_J_TOTAL] = "total",
	[HCI_J_TAX] = "tax",
};

void hci_jserved_add(struct hci_jserved *s, const struct hci_jvmm_in *v)
{
	s->vs = v->vs < s->vs ? v->vs : s->vs;
	s->vc = v->vc > s->vc ? v->vc : s->vc;
	if (v->nbios && v->hq && v->hc) {
		s->hq = v->hq < s->hq ? v->hq : s->hq;
		s->hc = v->hc > s->hc ? v->hc : s->hc;
		if (v->hd > s->hd)
			s->hd = v->hd;
		s->nbios += v->nbios;
	}
}

static void set(struct hci_jreq *q, int k, int64_t v)
{
	q->ns[k] = v;
	q->present |= 1u << k;
}

void hci_jreq_fill(struct hci_jreq *q, const struct hci_w_req *r, uint32_t nvmm,
		   const struct hci_jserved *s, int64_t off, int64_t unc)
{
	int64_t gs = (int64_t)hci_jreq_first_ts(r), gd = r->ts_d ? (int64_t)r->ts_d : gs;

	memset(q, 0, sizeof(*q));
	q->gdev = r->dev;
	q->op = r->op;
	q->off = r->sector << 9;
	q->bytes = r->bytes;
	q->nvmm = nvmm;
	q->t_start = (uint64_t)(gs + off);
	q->clock_off = off;
	q->clock_unc = unc;
	if (r->ts_d)
		set(q, HCI_J_GUEST, gd - gs);
	set(q, HCI_J_NOTIFY, (int64_t)s->vs - (gd + off));
	if (s->nbios) {
		set(q, HCI_J_V2Q, (int64_t)(s->hq - s->vs));
		if (s->hd >= s->hq && s->hd <= s->hc) {
			set(q, HCI_J_HQ2D, (int64_t)(s->hd - s->hq));
			set(q, HCI_J_HD2C, (int64_t)(s->hc - s->hd));
		} else {
			set(q, HCI_J_HD2C, (int64_t)(s->hc - s->hq));
		}
		set(q, HCI_J_C2V, (int64_t)(s->vc - s->hc));
	} else {
		set(q, HCI_J_VCACHED, (int64_t)(s->vc - s->vs));
	}
	set(q, HCI_J_IRQ, (int64_t)r->ts_c + off - (int64_t)s->vc);
	set(q, HCI_J_TOTAL, (int64_t)r->ts_c - gs);
	set(q, HCI_J_TAX, q->ns[HCI_J_TOTAL] - (s->nbios ? q->ns[HCI_J_HD2C] : 0));
}

/*
 * hci_bucket_of_ns() with the host's count-leading-zeros: the same bucket
 * (floor(log2(us)) + 1), without the binary search BPF needs. Host only.
 */
static unsigned int bucket_of_ns(int64_t ns)
{
	uint64_t us = ns > 0 ? (uint64_t)ns / 1000 : 0;
	unsigned int b;

	if (!us)
		return 0;
	b = 64u - (unsigned int)__builtin_clzll(us);
	return b < HCI_NBUCKETS ? b : HCI_NBUCKETS - 1;
}

void hci_jstats_add(struct hci_jstats *st, struct hci_jstats *also, const struct hci_jreq *q)
{
	st->n++;
	if (also)
		also->n++;
	for (int k = 0; k < HCI_NJSTAGES; k++) {
		unsigned int b;

		if (!(q->present & (1u << k)))
			continue;
		b = bucket_of_ns(q->ns[k]);
		st->count[k]++;
		st->sum_ns[k] += q->ns[k];
		st->slots[k][b]++;
		if (also) {
			also->count[k]++;
			also->sum_ns[k] += q->ns[k];
			also->slots[k][b]++;
		}
	}
}

static uint64_t merge_count(uint64_t *a, uint64_t *tmp, size_t n)
{
	size_t mid = n / 2, i = 0, k = 0, r;
	uint64_t inv;

	if (n < 2)
		return 0;
	inv = merge_count(a, tmp, mid) + merge_count(a + mid, tmp, n - mid);
	r = mid;
	while (i < mid && r < n) {
		if (a[r] < a[i]) {
			tmp[k++] = a[r++];
			inv += mid - i;
		} else {
			tmp[k++] = a[i++];
		}
	}
	while (i < mid)
		tmp[k++] = a[i++];
	while (r < n)
		tmp[k++] = a[r++];
	memcpy(a, tmp, n * sizeof(*a));
	return inv;
}

uint64_t hci_count_inversions(uint64_t *a, size_t n)
{
	uint64_t *tmp, inv;

	if (n < 2)
		return 0;
	tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		return 0;
	inv = merge_count(a, tmp, n);
	free(tmp);
	return inv;
}

/*
 * o[0..n) by guest D, stably: a stable order is the one order of its keys,
 * the one glibc's merge-sorting qsort gave here before. Bottom-up, and a
 * merge of two runs already in order is a copy: requests are joined in
 * nearly their guest D order, so most merges are.
 */
static void sort_gd(struct hci_jorder *o, struct hci_jorder *tmp, size_t n)
{
	struct hci_jorder *src = o, *dst = tmp, *t;

	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;

			if (mid == hi || src[mid - 1].gd <= src[mid].gd) {
				memcpy(dst + lo, src + lo, (hi - lo) * sizeof(*src));
				continue;
			}
			while (i < mid && j < hi)
				dst[k++] = src[j].gd < src[i].gd ? src[j++] : src[i++];
			while (i < mid)
				dst[k++] = src[i++];
			while (j < hi)
				dst[k++] = src[j++];
		}
		t = src;
		src = dst;
		dst = t;
	}
	if (src != o)
		memcpy(o, src, n * sizeof(*o));
}

bool hci_jorder_inversions(struct hci_jorder *o, size_t n, uint64_t *inv)
{
	struct hci_jorder *tmp = malloc((n + 1) * sizeof(*tmp));
	uint64_t *hd = malloc((n + 1) * sizeof(*hd));

	if (!hd || !tmp) {
		free(tmp);
		free(hd);
		return false;
	}
	sort_gd(o, tmp, n);
	for (size_t i = 0; i < n; i++)
		hd[i] = o[i].hd;
	*inv = hci_count_inversions(hd, n);
	free(tmp);
	free(hd);
	return true;
}
