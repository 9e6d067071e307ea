// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Output in three forms with one bucket schema (log2 us): terminal tables and
 * histograms, CSV (one row per non-empty bucket) and JSON (output_json.c).
 * A stage that did not happen for a request is absent: it adds nothing to
 * the stage's histogram and counts in "absent"; it is never written as a
 * zero.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/hist.h"
#include "hci_stages.h"
#include "output.h"
#include "core/vec.h"

int hci_report_add(struct hci_report *r, enum hci_layer layer, const char *origin,
		   const char *dev, __u32 op, const void *v)
{
	size_t words = layer == HCI_LAYER_VMM ? sizeof(struct hci_vmm_val) / 8 :
						 sizeof(struct hci_hist_val) / 8;
	struct hci_row *row, *rows;

	for (size_t i = 0; i < r->n; i++) {
		row = &r->rows[i];
		if (row->layer == layer && row->op == op && !strcmp(row->origin, origin) &&
		    !strcmp(row->dev, dev)) {
			hci_u64s_add((__u64 *)&row->v, v, words);
			return 0;
		}
	}
	rows = hci_vec_grow(r->rows, &r->cap, r->n, sizeof(*rows), 16);
	if (!rows)
		return -ENOMEM;
	r->rows = rows;
	row = &rows[r->n++];
	memset(row, 0, sizeof(*row));
	snprintf(row->origin, sizeof(row->origin), "%s", origin);
	snprintf(row->dev, sizeof(row->dev), "%s", dev);
	row->op = op;
	row->layer = layer;
	memcpy(&row->v, v, words * 8);
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct hci_row *x = a, *y = b;
	int c = strcmp(x->origin, y->origin);

	if (c)
		return c;
	if (x->layer != y->layer)
		return (int)y->layer - (int)x->layer;	/* VMM layer first */
	c = strcmp(x->dev, y->dev);
	if (c)
		return c;
	return (int)x->op - (int)y->op;
}

void hci_report_sort(struct hci_report *r)
{
	if (r->n)
		qsort(r->rows, r->n, sizeof(*r->rows), row_cmp);
}

void hci_report_free(struct hci_report *r)
{
	free(r->rows);
	memset(r, 0, sizeof(*r));
}

struct hci_stage_view hci_stage_view_of(const struct hci_row *row)
{
	if (row->layer == HCI_LAYER_VMM)
		return (struct hci_stage_view){ HCI_NVSTAGES, hci_vstage_names, row->vm.slots,
						row->vm.sum_ns, row->vm.ios };
	return (struct hci_stage_view){ HCI_NSTAGES, hci_stage_names, row->v.slots,
					row->v.sum_ns, row->v.ios };
}

static void print_stages(FILE *f, const struct hci_stage_view *sv)
{
	fprintf(f, "  %-5s %10s %10s %10s %10s %10s\n",
		"stage", "count", "avg(us)", "p50(us)", "p99(us)", "absent");
	for (int s = 0; s < sv->n; s++) {
		__u64 n = hci_slots_count(sv->slots[s]);
		__u64 absent = sv->ios > n ? sv->ios - n : 0;

		if (!n) {
			fprintf(f, "  %-5s %10s %10s %10s %10s %10llu\n", sv->names[s],
				"absent", "-", "-", "-", (unsigned long long)absent);
			continue;
		}
		fprintf(f, "  %-5s %10llu %10.1f %10.1f %10.1f %10llu\n", sv->names[s],
			(unsigned long long)n, (double)sv->sum_ns[s] / (double)n / 1000.0,
			hci_slots_percentile_us(sv->slots[s], 50),
			hci_slots_percentile_us(sv->slots[s], 99), (unsigned long long)absent);
	}
}

void hci_report_print(FILE *f, const struct hci_report *r, bool show_hist)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct hci_row *row = &r->rows[i];
		struct hci_stage_view sv = hci_stage_view_of(row);

		if (row->layer == HCI_LAYER_VMM) {
			const struct hci_vmm_val *v = &row->vm;

			fprintf(f, "\norigin %s  VMM requests on %s  op %s  ios %llu  bytes %llu\n",
				row->origin, row->dev, hci_op_names[row->op],
				(unsigned long long)v->ios, (unsigned long long)v->bytes);
			fprintf(f, "  host bios %llu  absorbed %llu (%llu bytes)  errors %llu"
				"  unlinked %llu\n",
				(unsigned long long)v->bios, (unsigned long long)v->absorbed,
				(unsigned long long)v->absorbed_bytes,
				(unsigned long long)v->errors, (unsigned long long)v->unlinked);
		} else {
			const struct hci_hist_val *v = &row->v;

			fprintf(f, "\norigin %s  device %s  op %s  ios %llu  bytes %llu\n",
				row->origin, row->dev, hci_op_names[row->op],
				(unsigned long long)v->ios, (unsigned long long)v->bytes);
			if (v->merges || v->splits || v->requeues || v->rq_merges)
				fprintf(f, "  merges %llu  splits %llu  requeues %llu  rq-merges %llu\n",
					(unsigned long long)v->merges,
					(unsigned long long)v->splits,
					(unsigned long long)v->requeues,
					(unsigned long long)v->rq_merges);
		}
		print_stages(f, &sv);
		if (!show_hist)
			continue;
		for (int s = 0; s < sv.n; s++) {
			if (!hci_slots_count(sv.slots[s]))
				continue;
			fprintf(f, "\n  %s %s %s %s\n", row->origin, row->dev,
				hci_op_names[row->op], sv.names[s]);
			hci_slots_print(f, sv.slots[s], "usecs");
		}
	}
}

/* the stage rules BPF applies at completion (hci_stages.h), on one record */
void hci_req_stages(const struct hci_event *e, double *us, bool *present)
{
	const __u64 ts[HCI_NPOINTS] = { e->ts_q, e->ts_g, e->ts_i, e->ts_d, e->ts_c };

	for (int s = 0; s < HCI_NSTAGES; s++) {
		present[s] = hci_stage_present(e->flags, s);
		us[s] = present[s] ? (double)hci_span_ns(ts[hci_stage_from(s)],
							  ts[hci_stage_to(s)]) / 1000.0 : 0;
	}
}

void hci_req_print_header(FILE *f)
{
	fprintf(f, "%-11s %-16s %7s %-24s %-8s %-5s %12s %7s", "TIME(s)", "COMM", "PID",
		"ORIGIN", "DISK", "OP", "SECTOR", "BYTES");
	for (int s = 0; s < HCI_NSTAGES; s++)
		fprintf(f, " %8s", hci_stage_names[s]);
	fprintf(f, "  (us)\n");
}

void hci_req_print(FILE *f, const struct hci_req *q)
{
	char pid[12] = "-";

	if (q->pid)
		snprintf(pid, sizeof(pid), "%u", q->pid);
	fprintf(f, "%-11.6f %-16s %7s %-24s %-8s %-5s %12llu %7u", q->t_s,
		q->comm && q->comm[0] ? q->comm : "-", pid, q->origin, q->dev,
		hci_op_names[q->op], (unsigned long long)q->sector, q->bytes);
	for (int s = 0; s < HCI_NSTAGES; s++) {
		if (q->present[s])
			fprintf(f, " %8.1f", q->us[s]);
		else
			fprintf(f, " %8s", "-");
	}
	fputc('\n', f);
}

/* RFC 4180: quote fields holding a comma, quote or line break. */
void hci_csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void hci_csv_hist_row(FILE *f, const char *origin, const char *dev, __u32 op,
		      const char *stage_prefix, const char *stage, int bucket, __u64 count)
{
	hci_csv_field(f, origin);
	fputc(',', f);
	hci_csv_field(f, dev);
	fprintf(f, ",%s,%s%s,%llu,", hci_op_names[op], stage_prefix, stage,
		(unsigned long long)hci_bucket_lo_us(bucket));
	if (bucket == HCI_NBUCKETS - 1)
		fputs("inf", f);
	else
		fprintf(f, "%llu", (unsigned long long)hci_bucket_hi_us(bucket));
	fprintf(f, ",%llu\n", (unsigned long long)count);
}

void hci_csv_write_hist(FILE *f, const struct hci_report *r)
{
	fputs("origin,device,op,stage,bucket_lo_us,bucket_hi_us,count\n", f);
	for (size_t i = 0; i < r->n; i++) {
		const struct hci_row *row = &r->rows[i];
		struct hci_stage_view sv = hci_stage_view_of(row);

		for (int s = 0; s < sv.n; s++) {
			for (int b = 0; b < HCI_NBUCKETS; b++) {
				if (!sv.slots[s][b])
					continue;
				hci_csv_hist_row(f, row->origin, row->dev, row->op, "",
						 sv.names[s], b, sv.slots[s][b]);
			}
		}
	}
}

/* A request CSV's header: its leading columns, one per stage, the rest. */
static void csv_req_header(FILE *f, const char *lead, const char *const *stages, int n,
			   const char *tail)
{
	fputs(lead, f);
	for (int s = 0; s < n; s++)
		fprintf(f, ",%s_us", stages[s]);
	fputs(tail, f);
}

/* The columns every request row starts with: time, origin, device, op. */
static void csv_req_start(FILE *f, double t_s, const char *origin, const char *dev, __u32 op)
{
	fprintf(f, "%.9f,", t_s);
	hci_csv_field(f, origin);
	fputc(',', f);
	hci_csv_field(f, dev);
	fprintf(f, ",%s", hci_op_names[op]);
}

static void csv_req_stages(FILE *f, const double *us, const bool *present, int n)
{
	for (int s = 0; s < n; s++) {
		if (present[s])
			fprintf(f, ",%.3f", us[s]);
		else
			fputc(',', f);	/* absent: empty, never 0 */
	}
}

void hci_csv_req_header(FILE *f)
{
	csv_req_header(f, "time_s,origin,device,op,sector,bytes", hci_stage_names, HCI_NSTAGES,
		       ",lost,lost_counter,pid,comm\n");
}

void hci_csv_req_row(FILE *f, const struct hci_req *q)
{
	csv_req_start(f, q->t_s, q->origin, q->dev, q->op);
	fprintf(f, ",%llu,%u", (unsigned long long)q->sector, q->bytes);
	csv_req_stages(f, q->us, q->present, HCI_NSTAGES);
	fputs(",,", f);	/* lost, lost_counter: a request row is no loss */
	if (q->pid)
		fprintf(f, ",%u,", q->pid);
	else
		fputs(",,", f);
	hci_csv_field(f, q->comm ? q->comm : "");
	fputc('\n', f);
}

/* The marker's own columns; every other one is empty (not a request). */
static void csv_lost_row(FILE *f, const struct hci_lost_mark *m, int empty_after_op,
			 const char *tail)
{
	fprintf(f, "%.9f,,,lost", m->t_s);
	for (int i = 0; i < empty_after_op; i++)
		fputc(',', f);
	fprintf(f, ",%llu,", (unsigned long long)m->count);
	hci_csv_field(f, m->counter);
	fputs(tail, f);
}

void hci_csv_req_lost_row(FILE *f, const struct hci_lost_mark *m)
{
	/* sector, bytes, stages; then pid, comm */
	csv_lost_row(f, m, 2 + HCI_NSTAGES, ",,\n");
}

void hci_lost_print(FILE *f, const struct hci_lost_mark *m)
{
	fprintf(f, "%-11.6f LOST %llu events here (%s): see docs/hcitrace.md, Lost events\n",
		m->t_s, (unsigned long long)m->count, m->counter);
}

const char *const hci_kvm_names[HCI_NKVM] = {
	[HCI_KVM_NOTIFY] = "notify", [HCI_KVM_MMIO] = "mmio_writes",
	[HCI_KVM_PIO] = "pio_outs", [HCI_KVM_MSI] = "msi", [HCI_KVM_IRQ] = "irq",
	[HCI_KVM_INJ] = "injected",
};

void hci_kvm_reason_name(__u32 r, char *buf, size_t len)
{
	if (r == HCI_EXIT_UNKNOWN)
		snprintf(buf, len, "unknown");
	else
		snprintf(buf, len, "%u", r);
}

void hci_kvm_print(FILE *f, const struct hci_kvm_row *k, size_t n)
{
	char rn[16];

	for (size_t i = 0; i < n; i++) {
		fprintf(f, "\norigin %s  KVM events", k[i].origin);
		for (int c = 0; c < HCI_NKVM; c++)
			fprintf(f, "  %s %llu", hci_kvm_names[c], (unsigned long long)k[i].v.c[c]);
		fprintf(f, "\n  VM exits %llu", (unsigned long long)k[i].exits_total);
		if (k[i].vmm_ios)
			fprintf(f, " (%.2f per VMM request)",
				(double)k[i].exits_total / (double)k[i].vmm_ios);
		fputs(", by reason:", f);
		for (size_t e = 0; e < k[i].nexits; e++) {
			hci_kvm_reason_name(k[i].reasons[e], rn, sizeof(rn));
			fprintf(f, " %s=%llu", rn, (unsigned long long)k[i].exits[e]);
			if (k[i].vmm_ios)
				fprintf(f, " (%.2f/io)", (double)k[i].exits[e] / (double)k[i].vmm_ios);
		}
		fputc('\n', f);
	}
}

/*
 * The stage rules BPF applies in vio_finish (hci_stages.h), on one record.
 * N2V and V2I are per-VM events, not carried by the request record: the
 * record has no notify time (n = 0), and V2I is never one request's.
 */
void hci_vreq_stages(const struct hci_vevent *e, double *us, bool *present)
{
	const struct hci_vpoints p = {
		.v = e->ts_v, .q = e->ts_q, .d = e->ts_d, .c = e->ts_c, .vc = e->ts_vc,
		.nbios = e->nbios,
	};
	__u64 from, to;

	for (int s = 0; s < HCI_NVSTAGES; s++) {
		present[s] = hci_vstage_present(&p, s);
		hci_vstage_ends(&p, s, &from, &to);
		us[s] = present[s] ? (double)hci_span_ns(from, to) / 1000.0 : 0;
	}
}

void hci_vreq_print(FILE *f, const struct hci_vreq *q)
{
	fprintf(f, "%-11.6f %-24s %-8s vmm-%-5s off %llu ret %d bios %u", q->t_s, q->origin,
		q->dev, hci_op_names[q->op], (unsigned long long)q->off, q->ret, q->nbios);
	if (q->sector >= 0)
		fprintf(f, " sector %lld", q->sector);
	if (q->tid)
		fprintf(f, " tid %u", q->tid);
	for (int s = 0; s < HCI_NVSTAGES; s++) {
		if (q->present[s])
			fprintf(f, " %s=%.1f", hci_vstage_names[s], q->us[s]);
		else
			fprintf(f, " %s=-", hci_vstage_names[s]);
	}
	fputc('\n', f);
}

void hci_csv_vreq_header(FILE *f)
{
	csv_req_header(f, "time_s,origin,device,op,offset,ret,bios", hci_vstage_names,
		       HCI_NVSTAGES, ",image,sector,tid,submit_s,lost,lost_counter\n");
}

void hci_csv_vreq_lost_row(FILE *f, const struct hci_lost_mark *m)
{
	/* offset, ret, bios, the stages, image, sector, tid, submit_s */
	csv_lost_row(f, m, 3 + HCI_NVSTAGES + 4, "\n");
}

void hci_csv_vreq_row(FILE *f, const struct hci_vreq *q)
{
	csv_req_start(f, q->t_s, q->origin, q->dev, q->op);
	fprintf(f, ",%llu,%d,%u", (unsigned long long)q->off, q->ret, q->nbios);
	csv_req_stages(f, q->us, q->present, HCI_NVSTAGES);
	fputc(',', f);
	hci_csv_field(f, q->image ? q->image : "");
	if (q->sector >= 0)
		fprintf(f, ",%lld", q->sector);
	else
		fputc(',', f);
	if (q->tid)
		fprintf(f, ",%u,%.9f,,\n", q->tid, q->submit_s);
	else
		fprintf(f, ",,%.9f,,\n", q->submit_s);
}
