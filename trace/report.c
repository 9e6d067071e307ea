// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcitrace's report: rows from the histogram snapshots (per interval as
 * deltas), the native-aio requests still unreaped at the end, and the
 * final report to the terminal, the CSV files and the JSON document.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "hcitrace.skel.h"
#include "core/hist.h"
#include "core/log.h"
#include "fmt/json_writer.h"
#include "host/devices.h"
#include "hci_stages.h"
#include "series.h"
#include "trace.h"

/* Add a snapshot's rows to the report, minus @base (for interval deltas). */
static int add_rows(struct trace_run *tr, enum hci_layer layer, const struct hci_snap *sn,
		    const struct hci_snap *base, struct hci_report *r)
{
	size_t words = sn->vsz / sizeof(__u64);
	union { struct hci_hist_val h; struct hci_vmm_val v; } delta;
	char dev[32];

	for (size_t i = 0; i < sn->n; i++) {
		const void *k = sn->keys + i * sn->ksz;
		const __u64 *val = &sn->vals[i * words], *old = base ? hci_snap_find(base, k) : NULL;
		__u64 *d = (__u64 *)&delta;
		const char *origin;
		__u32 op, devno;
		bool any = false;

		if (old)
			hci_u64s_sub(d, val, old, words);
		else
			memcpy(d, val, sn->vsz);
		for (size_t w = 0; w < words; w++)
			any |= d[w] != 0;
		if (!any)
			continue;
		if (layer == HCI_LAYER_VMM) {
			const struct hci_vmm_key *vk = k;

			origin = hci_vm_origin(&tr->res, vk->vmm_tgid);
			op = vk->op;
			devno = vk->dev;
		} else {
			const struct hci_hist_key *hk = k;

			origin = hci_origin_of(&tr->res, hk->cgid, hk->vmm_tgid);
			op = hk->op;
			devno = hk->dev;
		}
		if (op >= HCI_NOPS)
			continue;
		if (origin_left_out(tr, origin))
			continue;
		hci_dev_name(devno, dev, sizeof(dev));
		if (hci_report_add(r, layer, origin, dev, op, &delta))
			return -ENOMEM;
	}
	return 0;
}

/*
 * An unreaped request's host part, by the stage rules of hci_stages.h: V2Q
 * and VQ2C, VQ2D and VD2C when the dispatch lies inside. Its VMM
 * completion was not seen, so C2V and V2V are absent.
 */
static void unreaped_stages(const struct hci_aio_req *q, struct hci_vmm_val *v)
{
	static const int stages[] = { HCI_V2Q, HCI_VQ2C, HCI_VQ2D, HCI_VD2C };
	const struct hci_vpoints p = {
		.v = q->io.t_sub, .q = q->io.t_q, .d = q->io.t_d, .c = q->io.t_c,
		.nbios = q->io.nbios,
	};

	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		__u64 from, to;

		if (!hci_vstage_present(&p, stages[i]))
			continue;
		hci_vstage_ends(&p, stages[i], &from, &to);
		hci_span_add(v->slots[stages[i]], &v->sum_ns[stages[i]], from, to);
	}
}

struct unreaped_ctx {
	struct trace_run *tr;
	struct hci_report *r;
};

/* one unreaped native-aio request @q, if the VMM could have seen it */
static int add_unreaped_one(const struct unreaped_ctx *uc, const struct hci_aio_req *q)
{
	__u32 done = q->io.ncompl & ~HCI_AIO_SUBMITTED;
	struct hci_vmm_val v;
	const char *origin;
	char dev[32];

	if (!(q->io.ncompl & HCI_AIO_SUBMITTED) || !q->io.nbios || done < q->io.nbios ||
	    q->io.op >= HCI_NOPS || !q->io.t_q || q->io.t_c < q->io.t_q)
		return 0;
	origin = hci_vm_origin(&uc->tr->res, q->tgid);
	if (origin_left_out(uc->tr, origin))
		return 0;
	memset(&v, 0, sizeof(v));
	v.ios = 1;
	v.bytes = q->len;
	v.bios = q->io.nbios;
	unreaped_stages(q, &v);
	hci_dev_name(q->io.dev, dev, sizeof(dev));
	return hci_report_add(uc->r, HCI_LAYER_VMM, origin, dev, q->io.op, &v) ? -ENOMEM : 0;
}

/* an aio_slots entry: a request while it is claimed */
static int add_unreaped_slot(const void *val, void *ctx)
{
	const struct hci_aio_slot *sl = val;

	return sl->iocb && sl->r.tgid ? add_unreaped_one(ctx, &sl->r) : 0;
}

/*
 * Native-aio requests the VMM reaped by polling its ring, with no eventfd
 * read since: their host part is known, their VMM completion is not. At the
 * end of tracing, report them with V2Q and VQ2C, and C2V/V2V absent. They
 * wait in aio_slots, or in aio_reqs where their slot was taken.
 */
static int add_unreaped(struct trace_run *tr, struct hci_report *r)
{
	int fd = bpf_map__fd(tr->t.skel->maps.aio_reqs);
	struct unreaped_ctx uc = { .tr = tr, .r = r };
	struct hci_aio_key k, next, *prev = NULL;
	struct hci_aio_req q;
	int err;

	err = hci_array_each(tr->t.skel->maps.aio_slots, add_unreaped_slot, &uc);
	if (err)
		return err;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &q))
			continue;
		err = add_unreaped_one(&uc, &q);
		if (err)
			return err;
	}
	return 0;
}

/* Both layers now, minus @base[] when given; keeps the snapshots in @cur[]. */
int build_report(struct trace_run *tr, struct hci_snap cur[2], const struct hci_snap *base,
		 struct hci_report *r)
{
	int err;

	memset(r, 0, sizeof(*r));
	err = hci_snapshot(&tr->t, tr->t.skel->maps.hists, &cur[HCI_LAYER_BLOCK]);
	if (!err)
		err = hci_snapshot(&tr->t, tr->t.skel->maps.vmm_hists, &cur[HCI_LAYER_VMM]);
	if (!err)
		err = add_rows(tr, HCI_LAYER_BLOCK, &cur[HCI_LAYER_BLOCK],
			       base ? &base[HCI_LAYER_BLOCK] : NULL, r);
	if (!err)
		err = add_rows(tr, HCI_LAYER_VMM, &cur[HCI_LAYER_VMM],
			       base ? &base[HCI_LAYER_VMM] : NULL, r);
	hci_report_sort(r);
	return err;
}

void print_interval(struct trace_run *tr)
{
	struct hci_snap cur[2] = {};
	struct hci_report r;
	char tbuf[32];
	time_t t = time(NULL);

	if (!build_report(tr, cur, tr->prev, &r)) {
		strftime(tbuf, sizeof(tbuf), "%H:%M:%S", localtime(&t));
		printf("\n%s\n", tbuf);
		if (!r.n)
			printf("  (no I/O)\n");
		hci_report_print(stdout, &r, tr->env.show_hist);
		series_interval(tr, &r);
	}
	hci_report_free(&r);
	volumes_interval(tr, true);
	fflush(stdout);
	for (int l = 0; l < 2; l++) {
		hci_snap_free(&tr->prev[l]);
		tr->prev[l] = cur[l];
	}
}

/* One item of the "vms" array: a VM seen, with its images. */
static void json_vm(struct hci_jw *w, struct trace_run *tr, const struct hci_vmm_info *vi)
{
	char dev[32];

	hci_jw_start_object(w);
	hci_jw_string_field(w, "origin", hci_vm_origin(&tr->res, (__u32)vi->pid));
	hci_jw_int_field(w, "pid", vi->pid);
	hci_jw_string_field(w, "comm", vi->comm);
	hci_jw_string_field(w, "drives", vi->drives);
	hci_jw_name(w, "images");
	hci_jw_start_array(w);
	for (int m = 0; m < vi->nimages; m++) {
		const struct hci_image *im = &vi->images[m];

		hci_dev_name(im->dev, dev, sizeof(dev));
		hci_jw_start_object(w);
		hci_jw_int_field(w, "fd", im->fd);
		hci_jw_string_field(w, "path", im->path);
		hci_jw_string_field(w, "device", dev);
		hci_jw_uint_field(w, "size", im->size);
		hci_jw_int_field(w, "extents", im->extents);
		hci_jw_bool_field(w, "blockdev", im->blockdev);
		hci_jw_end_object(w);
	}
	hci_jw_end_array(w);
	hci_jw_end_object(w);
}

/* "vms": the VMs seen, in the order they were first seen. */
static void json_vms(struct trace_run *tr)
{
	hci_json_section(&tr->jw, "vms");
	for (size_t i = 0; i < hci_resolver_nvmms(&tr->res); i++)
		json_vm(&tr->jw, tr, hci_resolver_vmm_at(&tr->res, i));
	hci_jw_end_array(&tr->jw);
}

/* The BPF side's counters, then the user side's: events left unread at stop */
#define NLOST (HCI_NCOUNTERS + 2)

/* The whole report: both layers, the requests left unreaped, the KVM table. */
static int collect_final(struct trace_run *tr, struct hci_snap cur[2], struct hci_report *r,
			 struct hci_kvm_row **kvm, size_t *nkvm)
{
	int err;

	/*
	 * Tracing has ended (stop_tracing): with the programs detached, the
	 * histograms and the in-flight aio table are read in one frozen state.
	 * Otherwise a request reaped (moved from one to the other) between the
	 * two reads would be in neither.
	 */
	err = build_report(tr, cur, NULL, r);
	if (!err && tr->env.vmm)
		err = add_unreaped(tr, r);
	if (err)
		return err;
	hci_report_sort(r);
	return kvm_rows(tr, r, kvm, nkvm);
}

/* The summary on the terminal, unless intervals or requests were printed. */
static void print_summary(struct trace_run *tr, const struct hci_report *r,
			  const struct hci_kvm_row *kvm, size_t nkvm)
{
	if (tr->env.interval || tr->env.per_request)
		return;
	if (!r->n)
		printf("no block I/O traced%s\n", tr->env.origin ? " for that origin" : "");
	hci_report_print(stdout, r, tr->env.show_hist);
	hci_kvm_print(stdout, kvm, nkvm);
	if (hci_resolver_nvmms(&tr->res))
		printf("\nVMs:\n");
	for (size_t i = 0; i < hci_resolver_nvmms(&tr->res); i++)
		hci_vmm_print(stdout, hci_resolver_vmm_at(&tr->res, i));
}

/* The histogram CSV and its breakdown side file, written and closed. */
int write_report_csvs(struct trace_run *tr, const struct hci_report *r)
{
	int err = 0;

	if (tr->hist_csv) {
		hci_csv_write_hist(tr->hist_csv, r);
		for (int i = 0; i < tr->nchans; i++)
			hci_csv_join_hist(tr->hist_csv, tr->chans[i].origin, tr->chans[i].c.j);
		if (close_out(&tr->hist_csv, tr->env.csv_path))
			err = -EIO;
	}
	if (tr->brk_csv) {
		hci_csv_breakdown_header(tr->brk_csv);
		for (int i = 0; i < tr->nchans; i++)
			hci_csv_breakdown_rows(tr->brk_csv, tr->chans[i].origin, tr->chans[i].c.j);
		if (close_out(&tr->brk_csv, "the breakdown CSV"))
			err = -EIO;
	}
	return err;
}

/* The rest of the JSON document after the -p requests, then closed. */
static int write_json(struct trace_run *tr, const struct hci_report *r,
		      const struct hci_kvm_row *kvm, size_t nkvm,
		      const char *const *lost_names, const __u64 *counters)
{
	int err;

	if (!tr->json)
		return 0;
	hci_json_end_requests(&tr->jw);
	json_vms(tr);
	guests_json(tr);
	hci_json_rows(&tr->jw, "histograms", r, HCI_LAYER_BLOCK);
	hci_json_rows(&tr->jw, "vmm", r, HCI_LAYER_VMM);
	hci_json_kvm(&tr->jw, kvm, nkvm);
	hci_json_lost_counters(&tr->jw, lost_names, counters, NLOST);
	series_json(tr);
	err = hci_json_end(&tr->jw);
	if (err == -EINVAL)
		hci_errorf("%s: the JSON document is not well formed (a bug)",
			   tr->env.json_path);
	return close_out(&tr->json, tr->env.json_path) || err ? -EIO : 0;
}

int final_report(struct trace_run *tr)
{
	const char *lost_names[NLOST];
	__u64 counters[NLOST];
	struct hci_kvm_row *kvm = NULL;
	struct hci_snap cur[2] = {};
	struct hci_report r;
	size_t nkvm = 0;
	int err;

	memcpy(lost_names, hci_counter_names, sizeof(hci_counter_names));
	lost_names[NLOST - 1] = "ringbuf_unread";
	err = collect_final(tr, cur, &r, &kvm, &nkvm);
	if (err)
		goto out;
	print_summary(tr, &r, kvm, nkvm);
	/* the guest side: the last (or only) interval of volumes, then the join */
	volumes_interval(tr, !tr->env.interval);
	guests_summary(tr);
	hci_tracer_counters(&tr->t, counters);
	counters[HCI_NCOUNTERS + 1] = tr->dr.unread;
	err = write_report_csvs(tr, &r);
	if (series_final(tr, &r))
		err = -EIO;
	if (write_json(tr, &r, kvm, nkvm, lost_names, counters))
		err = -EIO;
	fflush(stdout);
	hci_report_lost_n(lost_names, counters, NLOST, "hcitrace");
	guests_warn_rejected(tr);
out:
	free(kvm);
	hci_report_free(&r);
	hci_snap_free(&cur[0]);
	hci_snap_free(&cur[1]);
	return err;
}
