// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * JSON output of the cross-layer join (docs/formats.md), on the streaming
 * writer: one object per joined request, an item of the "requests" array,
 * and one per guest channel, an item of the "guests" array, with its clock,
 * counters, stream, stages and volumes. The code that owns the array opens
 * and closes it; these write only their items.
 */
#include <inttypes.h>
#include <stdio.h>
#include "core/hist.h"
#include "join_report.h"
#include "output.h"

void hci_join_json_req(struct hci_jw *w, const char *origin, const char *disk,
		       const struct hci_jreq *q, double t_s)
{
	hci_jw_start_object(w);
	hci_jw_string_field(w, "layer", "guest");
	hci_jw_float_field(w, "time_s", "%.9f", t_s);
	hci_jw_string_field(w, "origin", origin);
	hci_jw_string_field(w, "disk", disk);
	hci_jw_string_field(w, "op", hci_op_names[q->op]);
	hci_jw_uint_field(w, "offset", q->off);
	hci_jw_uint_field(w, "bytes", q->bytes);
	hci_jw_uint_field(w, "vmm_requests", q->nvmm);
	hci_jw_float_field(w, "clock_offset_us", "%.3f", hci_jus(q->clock_off));
	hci_jw_float_field(w, "clock_uncertainty_us", "%.3f", hci_jus(q->clock_unc));
	hci_jw_name(w, "stages_us");
	hci_jw_start_object(w);
	for (int k = 0; k < HCI_NJSTAGES; k++) {
		if (q->present & (1u << k))
			hci_jw_float_field(w, hci_jstage_names[k], "%.3f", hci_jus(q->ns[k]));
		else
			hci_jw_null_field(w, hci_jstage_names[k]);
	}
	hci_jw_end_object(w);
	hci_jw_end_object(w);
}

static void json_hello(struct hci_jw *w, const struct hci_w_hello *h)
{
	hci_jw_name(w, "hello");
	if (!h) {
		hci_jw_null(w);
		return;
	}
	hci_jw_start_object(w);
	hci_jw_string_field(w, "host", h->host);
	hci_jw_string_field(w, "release", h->release);
	hci_jw_uint_field(w, "ncpus", h->ncpus);
	hci_jw_bool_field(w, "app", h->flags & HCI_WF_APP);
	hci_jw_end_object(w);
}

static void json_clock(struct hci_jw *w, const struct hci_join *j)
{
	const struct hci_jclock *ck = hci_join_clock_state(j);
	int64_t off, unc;
	bool known = hci_join_clock(j, &off, &unc);

	hci_jw_name(w, "clock");
	hci_jw_start_object(w);
	if (known)
		hci_jw_float_field(w, "offset_us", "%.3f", hci_jus(off));
	else
		hci_jw_null_field(w, "offset_us");
	if (known && unc != INT64_MAX)
		hci_jw_float_field(w, "uncertainty_us", "%.3f", hci_jus(unc));
	else
		hci_jw_null_field(w, "uncertainty_us");
	hci_jw_uint_field(w, "pairs", ck->pairs);
	hci_jw_uint_field(w, "syncs", ck->syncs);
	hci_jw_bool_field(w, "kvm_tsc", ck->tsc);
	hci_jw_end_object(w);
}

/* The join's counters, in the document's order, by their names there. */
#define COUNTER(field, name) HCI_JSON_MEMBER(struct hci_jcounters, field, name)
static const struct hci_json_member counter_members[] = {
	COUNTER(guest_reqs, "guest_requests"),
	COUNTER(guest_other, "guest_other"),
	COUNTER(app_recs, "app_records"),
	COUNTER(matched, "matched"),
	COUNTER(unmatched, "unmatched"),
	COUNTER(vmm_reqs, "vmm_requests"),
	COUNTER(vmm_unmatched, "vmm_unmatched"),
	COUNTER(vmm_unmatched_bytes, "vmm_unmatched_bytes"),
	COUNTER(guest_dropped, "guest_dropped"),
	COUNTER(guest_missing, "guest_missing"),
	COUNTER(guest_bpf_lost, "guest_bpf_lost"),
	COUNTER(guest_overflow, "guest_overflow"),
	COUNTER(vmm_overflow, "vmm_overflow"),
	COUNTER(clock_conflicts, "clock_conflicts"),
	COUNTER(inversion_cut, "inversion_cut"),
};
#undef COUNTER

static void json_counters(struct hci_jw *w, const struct hci_jcounters *c)
{
	hci_jw_name(w, "counters");
	hci_jw_start_object(w);
	hci_json_members(w, c, counter_members, HCI_JSON_NMEMBERS(counter_members));
	hci_jw_end_object(w);
}

/* The wire's counters; bad_record is the join's, reported with the stream's rejects. */
static void json_stream(struct hci_jw *w, const struct hci_wire_stats *ws, uint64_t bad_record)
{
	hci_jw_name(w, "stream");
	hci_jw_start_object(w);
	hci_jw_uint_field(w, "frames", ws->frames);
	hci_jw_uint_field(w, "records", ws->records);
	hci_jw_uint_field(w, "bytes", ws->bytes);
	hci_jw_name(w, "rejects");
	hci_jw_start_object(w);
	hci_jw_uint_field(w, "skipped_bytes", ws->skipped);
	hci_jw_uint_field(w, "bad_version", ws->bad_version);
	hci_jw_uint_field(w, "bad_type", ws->bad_type);
	hci_jw_uint_field(w, "bad_length", ws->bad_length);
	hci_jw_uint_field(w, "bad_crc", ws->bad_crc);
	hci_jw_uint_field(w, "bad_record", bad_record);
	hci_jw_uint_field(w, "seq_gaps", ws->seq_gaps);
	hci_jw_uint_field(w, "restarts", ws->restarts);
	hci_jw_end_object(w);
	hci_jw_end_object(w);
}

/* Per op with requests: their count and each present stage's summary. */
static void json_stats(struct hci_jw *w, const char *name, const struct hci_join *j, bool k4)
{
	hci_jw_name(w, name);
	hci_jw_start_object(w);
	for (uint32_t op = 0; op < HCI_NOPS; op++) {
		const struct hci_jstats *s = hci_join_stats(j, op, k4);

		if (!s->n)
			continue;
		hci_jw_name(w, hci_op_names[op]);
		hci_jw_start_object(w);
		hci_jw_uint_field(w, "requests", s->n);
		hci_jw_name(w, "stages");
		hci_jw_start_object(w);
		for (int k = 0; k < HCI_NJSTAGES; k++) {
			if (!s->count[k])
				continue;
			hci_jw_name(w, hci_jstage_names[k]);
			hci_jw_start_object(w);
			hci_jw_uint_field(w, "count", s->count[k]);
			hci_jw_float_field(w, "mean_us", "%.3f", hci_jstats_mean_us(s, k));
			hci_jw_float_field(w, "p50_us", "%.3f",
					   hci_slots_percentile_us(s->slots[k], 50));
			hci_jw_float_field(w, "p99_us", "%.3f",
					   hci_slots_percentile_us(s->slots[k], 99));
			hci_jw_end_object(w);
		}
		hci_jw_end_object(w);
		hci_jw_end_object(w);
	}
	hci_jw_end_object(w);
}

/* An interval's counts after the per-op bytes: the join's, and the host's */
#define VOLUME(field, name) HCI_JSON_MEMBER(struct hci_volrow, field, name)
static const struct hci_json_member volume_members[] = {
	VOLUME(v.guest_reqs, "guest_requests"),
	VOLUME(v.matched, "matched"),
	VOLUME(v.splits, "splits"),
	VOLUME(v.merges, "merges"),
	VOLUME(host_splits, "host_splits"),
	VOLUME(host_merges, "host_merges"),
	VOLUME(v.inversions, "inversions"),
	VOLUME(v.pairs, "pairs"),
};
#undef VOLUME

static void json_volume(struct hci_jw *w, const struct hci_volrow *r)
{
	const struct hci_jvol *v = &r->v;

	hci_jw_start_object(w);
	hci_jw_float_field(w, "time_s", "%.3f", r->t_s);
	for (uint32_t op = HCI_OP_READ; op <= HCI_OP_WRITE; op++) {
		hci_jw_name(w, hci_op_names[op]);
		hci_jw_start_object(w);
		hci_jw_uint_field(w, "app_bytes", v->app[op]);
		hci_jw_uint_field(w, "guest_bytes", v->guest[op]);
		hci_jw_uint_field(w, "vmm_bytes", v->vmm[op]);
		hci_jw_uint_field(w, "host_bytes", r->host[op]);
		hci_jw_end_object(w);
	}
	hci_json_members(w, r, volume_members, HCI_JSON_NMEMBERS(volume_members));
	hci_jw_end_object(w);
}

void hci_join_json_guest(struct hci_jw *w, const char *origin, const char *path,
			 const struct hci_join *j, const struct hci_wire_stats *ws,
			 const struct hci_volrow *vols, size_t nvols)
{
	hci_jw_start_object(w);
	hci_jw_string_field(w, "origin", origin);
	hci_jw_string_field(w, "channel", path);
	json_hello(w, hci_join_hello(j));
	json_clock(w, j);
	json_counters(w, hci_join_counters(j));
	json_stream(w, ws, hci_join_counters(j)->bad_record);
	json_stats(w, "stages", j, false);
	json_stats(w, "stages_4k", j, true);
	hci_jw_name(w, "volumes");
	hci_jw_start_array(w);
	for (size_t i = 0; i < nvols; i++)
		json_volume(w, &vols[i]);
	hci_jw_end_array(w);
	hci_jw_end_object(w);
}
