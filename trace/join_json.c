// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * JSON output of the cross-layer join (docs/formats.md): one object per
 * joined request in the "requests" array, and one per guest channel in the
 * "guests" array, with its clock, counters, stages and volumes.
 */
#include <inttypes.h>
#include <stdio.h>
#include "core/hist.h"
#include "join_report.h"
#include "output.h"

void hci_json_join(FILE *f, const char *origin, const char *disk, const struct hci_jreq *q,
		   double t_s, bool first)
{
	fprintf(f, "%s\n{\"layer\":\"guest\",\"time_s\":%.9f,\"origin\":", first ? "" : ",", t_s);
	hci_json_string(f, origin);
	fputs(",\"disk\":", f);
	hci_json_string(f, disk);
	fprintf(f, ",\"op\":\"%s\",\"offset\":%" PRIu64 ",\"bytes\":%u,\"vmm_requests\":%u,"
		"\"clock_offset_us\":%.3f,\"clock_uncertainty_us\":%.3f,\"stages_us\":{",
		hci_op_names[q->op], q->off, q->bytes, q->nvmm, hci_jus(q->clock_off),
		hci_jus(q->clock_unc));
	for (int k = 0; k < HCI_NJSTAGES; k++) {
		fprintf(f, "%s\"%s\":", k ? "," : "", hci_jstage_names[k]);
		if (q->present & (1u << k))
			fprintf(f, "%.3f", hci_jus(q->ns[k]));
		else
			fputs("null", f);
	}
	fputs("}}", f);
}

static void json_stats(FILE *f, const struct hci_join *j, bool k4)
{
	bool first_op = true;

	fputc('{', f);
	for (uint32_t op = 0; op < HCI_NOPS; op++) {
		const struct hci_jstats *s = hci_join_stats(j, op, k4);
		bool first = true;

		if (!s->n)
			continue;
		fprintf(f, "%s\"%s\":{\"requests\":%" PRIu64, first_op ? "" : ",",
			hci_op_names[op], s->n);
		first_op = false;
		fputs(",\"stages\":{", f);
		for (int k = 0; k < HCI_NJSTAGES; k++) {
			if (!s->count[k])
				continue;
			fprintf(f, "%s\"%s\":{\"count\":%" PRIu64 ",\"mean_us\":%.3f,"
				"\"p50_us\":%.3f,\"p99_us\":%.3f}", first ? "" : ",",
				hci_jstage_names[k], s->count[k], hci_jstats_mean_us(s, k),
				hci_slots_percentile_us(s->slots[k], 50),
				hci_slots_percentile_us(s->slots[k], 99));
			first = false;
		}
		fputs("}}", f);
	}
	fputc('}', f);
}

void hci_json_guest(FILE *f, const char *origin, const char *path, const struct hci_join *j,
		    const struct hci_wire_stats *ws, const struct hci_volrow *vols,
		    size_t nvols, bool first)
{
	const struct hci_jcounters *c = hci_join_counters(j);
	const struct hci_jclock *ck = hci_join_clock_state(j);
	const struct hci_w_hello *h = hci_join_hello(j);
	int64_t off, unc;
	bool known = hci_join_clock(j, &off, &unc);

	fprintf(f, "%s\n{\"origin\":", first ? "" : ",");
	hci_json_string(f, origin);
	fputs(",\"channel\":", f);
	hci_json_string(f, path);
	fputs(",\"hello\":", f);
	if (h) {
		fputs("{\"host\":", f);
		hci_json_string(f, h->host);
		fputs(",\"release\":", f);
		hci_json_string(f, h->release);
		fprintf(f, ",\"ncpus\":%u,\"app\":%s}", h->ncpus,
			h->flags & HCI_WF_APP ? "true" : "false");
	} else {
		fputs("null", f);
	}
	fputs(",\"clock\":{\"offset_us\":", f);
	if (known)
		fprintf(f, "%.3f", hci_jus(off));
	else
		fputs("null", f);
	fputs(",\"uncertainty_us\":", f);
	if (known && unc != INT64_MAX)
		fprintf(f, "%.3f", hci_jus(unc));
	else
		fputs("null", f);
	fprintf(f, ",\"pairs\":%" PRIu64 ",\"syncs\":%" PRIu64 ",\"kvm_tsc\":%s}", ck->pairs,
		ck->syncs, ck->tsc ? "true" : "false");
	fprintf(f, ",\"counters\":{\"guest_requests\":%" PRIu64 ",\"guest_other\":%" PRIu64
		",\"app_records\":%" PRIu64
		",\"matched\":%" PRIu64 ",\"unmatched\":%" PRIu64 ",\"vmm_requests\":%" PRIu64
		",\"vmm_unmatched\":%" PRIu64 ",\"guest_dropped\":%" PRIu64 ",\"guest_missing\":%"
		PRIu64 ",\"guest_bpf_lost\":%" PRIu64 ",\"guest_overflow\":%" PRIu64
		",\"vmm_overflow\":%" PRIu64 ",\"clock_conflicts\":%" PRIu64
		",\"inversion_cut\":%" PRIu64 "}",
		c->guest_reqs, c->guest_other, c->app_recs, c->matched, c->unmatched, c->vmm_reqs,
		c->vmm_unmatched, c->guest_dropped, c->guest_missing, c->guest_bpf_lost,
		c->guest_overflow, c->vmm_overflow, c->clock_conflicts, c->inversion_cut);
	fprintf(f, ",\"stream\":{\"frames\":%" PRIu64 ",\"records\":%" PRIu64 ",\"bytes\":%" PRIu64
		",\"rejects\":{\"skipped_bytes\":%" PRIu64 ",\"bad_version\":%" PRIu64
		",\"bad_type\":%" PRIu64 ",\"bad_length\":%" PRIu64 ",\"bad_crc\":%" PRIu64
		",\"bad_record\":%" PRIu64 ",\"seq_gaps\":%" PRIu64 ",\"restarts\":%" PRIu64 "}}",
		ws->frames, ws->records, ws->bytes, ws->skipped, ws->bad_version, ws->bad_type,
		ws->bad_length, ws->bad_crc, c->bad_record, ws->seq_gaps, ws->restarts);
	fputs(",\"stages\":", f);
	json_stats(f, j, false);
	fputs(",\"stages_4k\":", f);
	json_stats(f, j, true);
	fputs(",\"volumes\":[", f);
	for (size_t i = 0; i < nvols; i++) {
		const struct hci_volrow *r = &vols[i];
		const struct hci_jvol *v = &r->v;

		fprintf(f, "%s{\"time_s\":%.3f", i ? "," : "", r->t_s);
		for (uint32_t op = HCI_OP_READ; op <= HCI_OP_WRITE; op++)
			fprintf(f, ",\"%s\":{\"app_bytes\":%" PRIu64 ",\"guest_bytes\":%" PRIu64
				",\"vmm_bytes\":%" PRIu64 ",\"host_bytes\":%" PRIu64 "}",
				hci_op_names[op], v->app[op], v->guest[op], v->vmm[op], r->host[op]);
		fprintf(f, ",\"guest_requests\":%" PRIu64 ",\"matched\":%" PRIu64 ",\"splits\":%"
			PRIu64 ",\"merges\":%" PRIu64 ",\"host_splits\":%" PRIu64
			",\"host_merges\":%" PRIu64 ",\"inversions\":%" PRIu64 ",\"pairs\":%" PRIu64
			"}", v->guest_reqs, v->matched, v->splits, v->merges, r->host_splits,
			r->host_merges, v->inversions, v->pairs);
	}
	fputs("]}", f);
}
