// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Terminal and CSV output of the cross-layer join (docs/formats.md): the
 * per-request lines, the per-VM summary, the single-I/O breakdown, the layer
 * volumes. Its JSON is join_json.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "core/hist.h"
#include "join_report.h"
#include "output.h"

void hci_jreq_print_header(FILE *f)
{
	fprintf(f, "%-12s %-16s %-5s %-5s %12s %7s", "TIME(s)", "ORIGIN", "DISK", "OP",
		"OFFSET", "BYTES");
	for (int k = 0; k < HCI_NJSTAGES; k++)
		fprintf(f, " %12s", hci_jstage_names[k]);
	fputc('\n', f);
}

void hci_jreq_print(FILE *f, const char *origin, const char *disk, const struct hci_jreq *q,
		    double t_s)
{
	fprintf(f, "%-12.6f %-16s %-5s %-5s %12" PRIu64 " %7u", t_s, origin, disk,
		hci_op_names[q->op], q->off, q->bytes);
	for (int k = 0; k < HCI_NJSTAGES; k++) {
		if (q->present & (1u << k))
			fprintf(f, " %12.1f", hci_jus(q->ns[k]));
		else
			fprintf(f, " %12s", "-");
	}
	fputc('\n', f);
}

void hci_csv_join_header(FILE *f)
{
	fputs("time_s,origin,disk,op,offset,bytes,vmm_requests,clock_offset_us,"
	      "clock_uncertainty_us", f);
	for (int k = 0; k < HCI_NJSTAGES; k++)
		fprintf(f, ",%s_us", hci_jstage_names[k]);
	fputc('\n', f);
}

void hci_csv_join_row(FILE *f, const char *origin, const char *disk,
		      const struct hci_jreq *q, double t_s)
{
	fprintf(f, "%.9f,", t_s);
	hci_csv_field(f, origin);
	fputc(',', f);
	hci_csv_field(f, disk);
	fprintf(f, ",%s,%" PRIu64 ",%u,%u,%.3f,%.3f", hci_op_names[q->op], q->off, q->bytes,
		q->nvmm, hci_jus(q->clock_off), hci_jus(q->clock_unc));
	for (int k = 0; k < HCI_NJSTAGES; k++) {
		if (q->present & (1u << k))
			fprintf(f, ",%.3f", hci_jus(q->ns[k]));
		else
			fputc(',', f);
	}
	fputc('\n', f);
}

static void stage_table(FILE *f, const struct hci_jstats *s, const char *op)
{
	fprintf(f, "  %-5s %-13s %9s %10s %10s %10s\n", op, "stage", "count", "avg(us)",
		"p50(us)", "p99(us)");
	for (int k = 0; k < HCI_NJSTAGES; k++) {
		if (!s->count[k])
			continue;
		fprintf(f, "  %-5s %-13s %9" PRIu64 " %10.1f %10.1f %10.1f\n", "",
			hci_jstage_names[k], s->count[k], hci_jstats_mean_us(s, k),
			hci_slots_percentile_us(s->slots[k], 50),
			hci_slots_percentile_us(s->slots[k], 99));
	}
}

static void print_unc(FILE *f, int64_t unc)
{
	if (unc == INT64_MAX)
		fputs("unbounded", f);
	else
		fprintf(f, "%.1f us", hci_jus(unc));
}

void hci_join_summary(FILE *f, const char *origin, const char *path,
		      const struct hci_join *j, const struct hci_wire_stats *ws)
{
	const struct hci_jcounters *c = hci_join_counters(j);
	const struct hci_jclock *ck = hci_join_clock_state(j);
	const struct hci_w_hello *h = hci_join_hello(j);
	int64_t off, unc;

	fprintf(f, "\nguest %s (channel %s)", origin, path);
	if (h)
		fprintf(f, ": host name %s, kernel %s", h->host, h->release);
	fputc('\n', f);
	if (hci_join_clock(j, &off, &unc)) {
		fprintf(f, "  clock: host - guest = %.1f us +/- ", hci_jus(off));
		print_unc(f, unc);
		fprintf(f, " (%" PRIu64 " causal pairs, %" PRIu64 " syncs%s)\n", ck->pairs,
			ck->syncs, ck->tsc ? ", KVM TSC offset" : "");
	} else {
		fputs("  clock: unknown (no guest records)\n", f);
	}
	fprintf(f, "  requests: guest %" PRIu64 ", matched %" PRIu64 " (%.2f%%), unmatched %"
		PRIu64 "; VMM %" PRIu64 ", no guest request %" PRIu64 "\n", c->guest_reqs,
		c->matched, c->guest_reqs ? 100.0 * (double)c->matched / (double)c->guest_reqs : 0,
		c->unmatched, c->vmm_reqs, c->vmm_unmatched);
	fprintf(f, "  stream: %" PRIu64 " frames, %" PRIu64 " bytes; rejected: skipped_bytes=%"
		PRIu64 " bad_crc=%" PRIu64 " bad_length=%" PRIu64 " bad_type=%" PRIu64
		" bad_version=%" PRIu64 " bad_record=%" PRIu64 " seq_gaps=%" PRIu64 "\n",
		ws->frames, ws->bytes, ws->skipped, ws->bad_crc, ws->bad_length, ws->bad_type,
		ws->bad_version, c->bad_record, ws->seq_gaps);
	if (c->guest_dropped || c->guest_missing || c->guest_bpf_lost || c->guest_overflow ||
	    c->vmm_overflow || c->clock_conflicts || c->inversion_cut)
		fprintf(f, "  lost: guest_dropped=%" PRIu64 " guest_missing=%" PRIu64
			" guest_bpf_lost=%" PRIu64 " guest_overflow=%" PRIu64 " vmm_overflow=%"
			PRIu64 " clock_conflicts=%" PRIu64 " inversion_cut=%" PRIu64 "\n",
			c->guest_dropped, c->guest_missing, c->guest_bpf_lost, c->guest_overflow,
			c->vmm_overflow, c->clock_conflicts, c->inversion_cut);
	for (uint32_t op = 0; op < HCI_NOPS; op++) {
		const struct hci_jstats *s = hci_join_stats(j, op, false);

		if (s->n)
			stage_table(f, s, hci_op_names[op]);
	}
}

/* The research's single-I/O picture: 4 KiB requests, mean per stage. */
void hci_breakdown_print(FILE *f, const char *origin, const struct hci_join *j)
{
	static const struct {
		int stage;
		const char *label;
	} rows[] = {
		{ -1, "guest -> controller" },
		{ HCI_J_GUEST, "  guest block layer (Q->D)" },
		{ HCI_J_NOTIFY, "  notify, VM exit, VMM pickup" },
		{ -1, "controller -> SSD" },
		{ HCI_J_V2Q, "  VMM submit -> host queue" },
		{ HCI_J_HQ2D, "  host block layer (Q->D)" },
		{ HCI_J_HD2C, "  device (D->C)" },
		{ HCI_J_C2V, "  host completion -> VMM" },
		{ HCI_J_VCACHED, "  VMM, host page cache" },
		{ -1, "controller -> guest" },
		{ HCI_J_IRQ, "  interrupt, guest completion" },
		{ HCI_J_TOTAL, "total (guest Q->C)" },
		{ HCI_J_TAX, "virtualization tax" },
	};
	const struct hci_jstats *r = hci_join_stats(j, HCI_OP_READ, true);
	const struct hci_jstats *w = hci_join_stats(j, HCI_OP_WRITE, true);

	fprintf(f, "\nsingle-I/O breakdown, %s, 4 KiB requests (mean us; reads %" PRIu64
		", writes %" PRIu64 ")\n", origin, r->n, w->n);
	fprintf(f, "  %-34s %10s %10s\n", "", "read", "write");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int k = rows[i].stage;

		if (k < 0) {
			fprintf(f, "  %s\n", rows[i].label);
			continue;
		}
		if (!r->count[k] && !w->count[k])
			continue;
		fprintf(f, "  %-34s", rows[i].label);
		if (r->count[k])
			fprintf(f, " %10.1f", hci_jstats_mean_us(r, k));
		else
			fprintf(f, " %10s", "-");
		if (w->count[k])
			fprintf(f, " %10.1f", hci_jstats_mean_us(w, k));
		else
			fprintf(f, " %10s", "-");
		fputc('\n', f);
	}
}

static void ratio(FILE *f, uint64_t a, uint64_t b, bool csv)
{
	if (csv) {
		if (b)
			fprintf(f, ",%.4f", (double)a / (double)b);
		else
			fputc(',', f);
	} else if (b) {
		fprintf(f, " %8.3f", (double)a / (double)b);
	} else {
		fprintf(f, " %8s", "-");
	}
}

void hci_vol_print(FILE *f, const struct hci_volrow *r)
{
	const struct hci_jvol *v = &r->v;

	fprintf(f, "\nlayer volumes, %s (bytes; ratios: guest/app vmm/guest host/vmm host/app)\n",
		r->origin);
	fprintf(f, "  %-5s %12s %12s %12s %12s %8s %8s %8s %8s\n", "op", "app", "guest",
		"vmm", "host", "g/app", "v/g", "h/v", "h/app");
	for (uint32_t op = HCI_OP_READ; op <= HCI_OP_WRITE; op++) {
		fprintf(f, "  %-5s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64,
			hci_op_names[op], v->app[op], v->guest[op], v->vmm[op], r->host[op]);
		ratio(f, v->guest[op], v->app[op], false);
		ratio(f, v->vmm[op], v->guest[op], false);
		ratio(f, r->host[op], v->vmm[op], false);
		ratio(f, r->host[op], v->app[op], false);
		fputc('\n', f);
	}
	fprintf(f, "  guest requests %" PRIu64 ", matched %" PRIu64 ", split guest->VMM %" PRIu64
		", merged guest->VMM %" PRIu64 ", host splits %" PRIu64 ", host merges %" PRIu64
		"\n", v->guest_reqs, v->matched, v->splits, v->merges, r->host_splits,
		r->host_merges);
	fprintf(f, "  reordering guest D vs host D: %" PRIu64 " inversions in %" PRIu64
		" pairs (%.4f%%)\n", v->inversions, v->pairs,
		v->pairs ? 100.0 * (double)v->inversions / (double)v->pairs : 0);
}

void hci_csv_vol_header(FILE *f)
{
	fputs("time_s,origin,op,app_bytes,guest_bytes,vmm_bytes,host_bytes,guest_per_app,"
	      "vmm_per_guest,host_per_vmm,host_per_app,guest_requests,matched,splits,merges,"
	      "host_splits,host_merges,inversions,pairs\n", f);
}

static void vol_row(FILE *f, const struct hci_volrow *r, const char *op, uint64_t app,
		    uint64_t guest, uint64_t vmm, uint64_t host, bool all)
{
	const struct hci_jvol *v = &r->v;

	fprintf(f, "%.3f,", r->t_s);
	hci_csv_field(f, r->origin);
	fprintf(f, ",%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, op, app, guest, vmm, host);
	ratio(f, guest, app, true);
	ratio(f, vmm, guest, true);
	ratio(f, host, vmm, true);
	ratio(f, host, app, true);
	if (all)
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			",%" PRIu64 ",%" PRIu64 "\n", v->guest_reqs, v->matched, v->splits,
			v->merges, r->host_splits, r->host_merges, v->inversions, v->pairs);
	else
		fputs(",,,,,,,,\n", f);
}

void hci_csv_vol_rows(FILE *f, const struct hci_volrow *r)
{
	const struct hci_jvol *v = &r->v;
	uint64_t t[4] = { 0 };

	for (uint32_t op = HCI_OP_READ; op <= HCI_OP_WRITE; op++) {
		vol_row(f, r, hci_op_names[op], v->app[op], v->guest[op], v->vmm[op],
			r->host[op], false);
		t[0] += v->app[op];
		t[1] += v->guest[op];
		t[2] += v->vmm[op];
		t[3] += r->host[op];
	}
	vol_row(f, r, "all", t[0], t[1], t[2], t[3], true);
}

void hci_csv_breakdown_header(FILE *f)
{
	fputs("origin,op,size,stage,count,mean_us,p50_us,p99_us\n", f);
}

void hci_csv_breakdown_rows(FILE *f, const char *origin, const struct hci_join *j)
{
	for (int k4 = 0; k4 < 2; k4++) {
		for (uint32_t op = 0; op < HCI_NOPS; op++) {
			const struct hci_jstats *s = hci_join_stats(j, op, k4);

			for (int k = 0; s->n && k < HCI_NJSTAGES; k++) {
				if (!s->count[k])
					continue;
				hci_csv_field(f, origin);
				fprintf(f, ",%s,%s,%s,%" PRIu64 ",%.3f,%.3f,%.3f\n",
					hci_op_names[op], k4 ? "4k" : "all",
					hci_jstage_names[k], s->count[k], hci_jstats_mean_us(s, k),
					hci_slots_percentile_us(s->slots[k], 50),
					hci_slots_percentile_us(s->slots[k], 99));
			}
		}
	}
}

/* Rows in the histogram CSV's own schema: stage "guest.<stage>", device "guest". */
void hci_csv_join_hist(FILE *f, const char *origin, const struct hci_join *j)
{
	for (uint32_t op = 0; op < HCI_NOPS; op++) {
		const struct hci_jstats *s = hci_join_stats(j, op, false);

		for (int k = 0; s->n && k < HCI_NJSTAGES; k++) {
			if (!s->count[k])
				continue;
			for (int b = 0; b < HCI_NBUCKETS; b++) {
				if (!s->slots[k][b])
					continue;
				hci_csv_hist_row(f, origin, "guest", op, "guest.",
						 hci_jstage_names[k], b, s->slots[k][b]);
			}
		}
	}
}
