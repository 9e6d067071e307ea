// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcitrace's JSON document (docs/formats.md), on the one struct hci_jw the
 * run keeps from open_outputs to final_report: its frame (the header, the
 * "requests" array the -p streams write into, the closing brace), and the
 * sections this file's data owns: the request items, the histograms of
 * both layers, the KVM table. Every other section is written by the code
 * that owns its data (report.c "vms" and "lost", guests.c "guests").
 */
#include <string.h>
#include "core/hist.h"
#include "output.h"

void hci_json_begin(struct hci_jw *w)
{
	hci_jw_start_object(w);
	hci_jw_string_field(w, "format", "hcitrace");
	hci_jw_int_field(w, "version", HCI_JSON_VERSION);
	hci_jw_string_field(w, "bucket_unit", "log2_us");
	hci_jw_name(w, "requests");
	hci_jw_start_array(w);
	hci_jw_lines(w);
}

void hci_json_end_requests(struct hci_jw *w)
{
	hci_jw_end_array(w);
}

void hci_json_section(struct hci_jw *w, const char *name)
{
	hci_jw_break(w);
	hci_jw_name(w, name);
	hci_jw_start_array(w);
	hci_jw_lines(w);
}

void hci_json_members(struct hci_jw *w, const void *rec, const struct hci_json_member *m,
		      size_t n)
{
	for (size_t i = 0; i < n; i++) {
		__u64 v;

		memcpy(&v, (const char *)rec + m[i].off, sizeof(v));
		hci_jw_uint_field(w, m[i].name, v);
	}
}

int hci_json_end(struct hci_jw *w)
{
	hci_jw_end_object(w);
	return hci_jw_finish(w);
}

/* "stages_us" of one request: each stage's time, null when absent */
static void json_req_stages(struct hci_jw *w, const char *const *names, int n,
			    const double *us, const bool *present)
{
	hci_jw_name(w, "stages_us");
	hci_jw_start_object(w);
	for (int s = 0; s < n; s++) {
		if (present[s])
			hci_jw_float_field(w, names[s], "%.3f", us[s]);
		else
			hci_jw_null_field(w, names[s]);
	}
	hci_jw_end_object(w);
}

/* The members every request item starts with. */
static void json_req_start(struct hci_jw *w, const char *layer, double t_s,
			   const char *origin, const char *dev, __u32 op)
{
	hci_jw_start_object(w);
	hci_jw_string_field(w, "layer", layer);
	hci_jw_float_field(w, "time_s", "%.9f", t_s);
	hci_jw_string_field(w, "origin", origin);
	hci_jw_string_field(w, "device", dev);
	hci_jw_string_field(w, "op", hci_op_names[op]);
}

void hci_json_req(struct hci_jw *w, const struct hci_req *q)
{
	json_req_start(w, "block", q->t_s, q->origin, q->dev, q->op);
	hci_jw_uint_field(w, "sector", q->sector);
	hci_jw_uint_field(w, "bytes", q->bytes);
	json_req_stages(w, hci_stage_names, HCI_NSTAGES, q->us, q->present);
	if (q->pid)
		hci_jw_uint_field(w, "pid", q->pid);
	else
		hci_jw_null_field(w, "pid");
	if (q->comm && q->comm[0])
		hci_jw_string_field(w, "comm", q->comm);
	else
		hci_jw_null_field(w, "comm");
	hci_jw_end_object(w);
}

void hci_json_vreq(struct hci_jw *w, const struct hci_vreq *q)
{
	json_req_start(w, "vmm", q->t_s, q->origin, q->dev, q->op);
	hci_jw_uint_field(w, "offset", q->off);
	hci_jw_int_field(w, "ret", q->ret);
	hci_jw_uint_field(w, "bios", q->nbios);
	json_req_stages(w, hci_vstage_names, HCI_NVSTAGES, q->us, q->present);
	hci_jw_string_field(w, "image", q->image ? q->image : "");
	if (q->sector >= 0)
		hci_jw_int_field(w, "sector", q->sector);
	else
		hci_jw_null_field(w, "sector");
	hci_jw_float_field(w, "submit_s", "%.9f", q->submit_s);
	if (q->tid)
		hci_jw_uint_field(w, "tid", q->tid);
	else
		hci_jw_null_field(w, "tid");
	hci_jw_end_object(w);
}

void hci_json_lost(struct hci_jw *w, const struct hci_lost_mark *m)
{
	hci_jw_start_object(w);
	hci_jw_string_field(w, "layer", "lost");
	hci_jw_float_field(w, "time_s", "%.9f", m->t_s);
	hci_jw_uint_field(w, "events", m->count);
	hci_jw_string_field(w, "counter", m->counter);
	hci_jw_end_object(w);
}

/* One stage's histogram: its counts and the non-empty buckets. */
static void json_stage(struct hci_jw *w, const struct hci_stage_view *sv, int s)
{
	__u64 n = hci_slots_count(sv->slots[s]);

	hci_jw_name(w, sv->names[s]);
	hci_jw_start_object(w);
	hci_jw_uint_field(w, "count", n);
	hci_jw_uint_field(w, "absent", sv->ios > n ? sv->ios - n : 0);
	hci_jw_uint_field(w, "sum_ns", sv->sum_ns[s]);
	hci_jw_name(w, "buckets");
	hci_jw_start_array(w);
	for (int b = 0; b < HCI_NBUCKETS; b++) {
		if (!sv->slots[s][b])
			continue;
		hci_jw_start_object(w);
		hci_jw_uint_field(w, "lo_us", hci_bucket_lo_us(b));
		if (b == HCI_NBUCKETS - 1)
			hci_jw_null_field(w, "hi_us");
		else
			hci_jw_uint_field(w, "hi_us", hci_bucket_hi_us(b));
		hci_jw_uint_field(w, "count", sv->slots[s][b]);
		hci_jw_end_object(w);
	}
	hci_jw_end_array(w);
	hci_jw_end_object(w);
}

/* A row's counters besides its stages, by layer. */
#define BLOCK(field) HCI_JSON_MEMBER(struct hci_hist_val, field, #field)
#define VMM(field) HCI_JSON_MEMBER(struct hci_vmm_val, field, #field)
static const struct hci_json_member block_counts[] = {
	BLOCK(ios), BLOCK(bytes), BLOCK(merges), BLOCK(splits), BLOCK(requeues), BLOCK(rq_merges),
};
static const struct hci_json_member vmm_counts[] = {
	VMM(ios), VMM(bytes), VMM(bios), VMM(absorbed), VMM(absorbed_bytes), VMM(errors),
	VMM(unlinked),
};
#undef BLOCK
#undef VMM

static void json_row_counts(struct hci_jw *w, const struct hci_row *row)
{
	if (row->layer == HCI_LAYER_VMM)
		hci_json_members(w, &row->vm, vmm_counts, HCI_JSON_NMEMBERS(vmm_counts));
	else
		hci_json_members(w, &row->v, block_counts, HCI_JSON_NMEMBERS(block_counts));
}

void hci_json_rows(struct hci_jw *w, const char *section, const struct hci_report *r,
		   enum hci_layer layer)
{
	hci_json_section(w, section);
	for (size_t i = 0; i < r->n; i++) {
		const struct hci_row *row = &r->rows[i];
		struct hci_stage_view sv = hci_stage_view_of(row);

		if (row->layer != layer)
			continue;
		hci_jw_start_object(w);
		hci_jw_string_field(w, "origin", row->origin);
		hci_jw_string_field(w, "device", row->dev);
		hci_jw_string_field(w, "op", hci_op_names[row->op]);
		json_row_counts(w, row);
		hci_jw_name(w, "stages");
		hci_jw_start_object(w);
		for (int s = 0; s < sv.n; s++)
			json_stage(w, &sv, s);
		hci_jw_end_object(w);
		hci_jw_end_object(w);
	}
	hci_jw_end_array(w);
}

void hci_json_kvm(struct hci_jw *w, const struct hci_kvm_row *kvm, size_t nkvm)
{
	char rn[16];

	hci_json_section(w, "kvm");
	for (size_t i = 0; i < nkvm; i++) {
		hci_jw_start_object(w);
		hci_jw_string_field(w, "origin", kvm[i].origin);
		for (int c = 0; c < HCI_NKVM; c++)
			hci_jw_uint_field(w, hci_kvm_names[c], kvm[i].v.c[c]);
		hci_jw_uint_field(w, "vmm_ios", kvm[i].vmm_ios);
		hci_jw_uint_field(w, "exits", kvm[i].exits_total);
		hci_jw_name(w, "exits_by_reason");
		hci_jw_start_object(w);
		for (size_t e = 0; e < kvm[i].nexits; e++) {
			hci_kvm_reason_name(kvm[i].reasons[e], rn, sizeof(rn));
			hci_jw_uint_field(w, rn, kvm[i].exits[e]);
		}
		hci_jw_end_object(w);
		hci_jw_end_object(w);
	}
	hci_jw_end_array(w);
}

/* "lost": every lost-event counter, by name (a live run's and a report's) */
void hci_json_lost_counters(struct hci_jw *w, const char *const *names, const __u64 *counters, int n)
{
	hci_jw_break(w);
	hci_jw_name(w, "lost");
	hci_jw_start_object(w);
	for (int i = 0; i < n; i++)
		hci_jw_uint_field(w, names[i], counters[i]);
	hci_jw_end_object(w);
}
