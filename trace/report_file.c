// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcitrace report FILE: a recorded run (hcitrace --record) read back into
 * the text, CSV and JSON a live run gives. The -p lines and loss markers
 * go through events.c's row writers, the histograms are rebuilt from the
 * records (report_rebuild.c) and printed by output.c, the files opened and
 * closed by outfiles.c: only the order of it all is written here, as
 * report.c writes it for a live run.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/cmd.h"
#include "core/log.h"
#include "record_read.h"
#include "report_file.h"
#include "report_join.h"
#include "report_rebuild.h"
#include "report_vms.h"
#include "trace.h"

static const char report_doc[] =
"Read a record file written by 'hcitrace --record FILE' and print what the\n"
"live run would have: the summary (or with -p one line per request, with\n"
"the loss markers where events were lost), the histograms, --csv and --json.\n"
"The histograms are rebuilt from the records with the live run's bucket\n"
"rules; with no loss they equal the live run's. Format: docs/formats.md.\n"
"\n"
"EXAMPLES:\n"
"    hcitrace --record run.hcr -d loop0 --duration 20\n"
"    hcitrace report run.hcr                # the summary\n"
"    hcitrace report run.hcr -p --csv r.csv # every request, and CSV files\n"
"    hcitrace report run.hcr --json r.json --origin vm\n"
"\v"
"Exit status: 0 when the whole file was read; 1 when it could not be (not\n"
"a record file, a newer format, garbage at some offset) or was cut short\n"
"(a crash, kill -9): what came before is still reported; 2 on bad\n"
"arguments.";

enum { OPT_CSV = 0x100, OPT_JSON, OPT_ORIGIN, OPT_BREAKDOWN };

static const struct argp_option report_opts[] = {
	{ NULL, 0, NULL, 0, "Output:", 1 },
	{ "per-request", 'p', NULL, 0, "Print one line per request with its stages", 1 },
	{ "hist", 'H', NULL, 0, "Print log2 histograms for every stage", 1 },
	{ "csv", OPT_CSV, "FILE", 0,
	  "Write histograms as CSV (with -p, requests to FILE's .requests.csv)", 1 },
	{ "json", OPT_JSON, "FILE", 0, "Write histograms (and -p requests) as JSON", 1 },
	{ "origin", OPT_ORIGIN, "CLASS[:NAME]", 0,
	  "Report only origins of this class (vm, container, host) or name", 1 },
	{ "breakdown", OPT_BREAKDOWN, NULL, 0,
	  "With recorded guest channels: print the single-I/O breakdown", 1 },
	{ "verbose", 'v', NULL, 0, "Say what the file's header says", 1 },
	HCI_ARGP_INFO_OPTIONS,
	{ 0 },
};

struct report_args {
	struct hci_env *env;
	const char *path;
	int status;
	char *err;
	size_t errlen;
};

static error_t parse_report_opt(int key, char *arg, struct argp_state *state)
{
	struct report_args *a = state->input;

	if (hci_argp_info(key, state, &a->status))
		return 0;
	switch (key) {
	case 'p': a->env->per_request = true; break;
	case 'H': a->env->show_hist = true; break;
	case 'v': a->env->verbose++; break;
	case OPT_CSV: a->env->csv_path = arg; break;
	case OPT_JSON: a->env->json_path = arg; break;
	case OPT_BREAKDOWN: a->env->breakdown = true; break;
	case OPT_ORIGIN:
		if (!hci_origin_filter_valid(arg)) {
			snprintf(a->err, a->errlen, "invalid --origin '%s': use CLASS[:NAME], "
				 "CLASS one of vm, container, host", arg);
			return EINVAL;
		}
		a->env->origin = arg;
		break;
	case ARGP_KEY_ARG:
		if (a->path) {
			snprintf(a->err, a->errlen, "one record file only ('%s' is another)", arg);
			return EINVAL;
		}
		a->path = arg;
		break;
	case ARGP_KEY_END:
		if (!a->path && !a->status) {
			snprintf(a->err, a->errlen, "a record file is needed: hcitrace report FILE");
			return EINVAL;
		}
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* The arguments: 0 to run, HCI_PARSE_INFO, or -errno with a message */
static int parse_report(struct report_args *a, int argc, char **argv)
{
	const struct argp argp = {
		.options = report_opts, .parser = parse_report_opt, .doc = report_doc,
		.args_doc = "FILE",
	};
	error_t e;

	a->err[0] = '\0';
	e = argp_parse(&argp, argc, argv, ARGP_NO_EXIT | ARGP_NO_HELP, NULL, a);
	if (a->status)
		return a->status;
	if (e) {
		if (!a->err[0])
			snprintf(a->err, a->errlen, "invalid arguments (try hcitrace report --help)");
		return -e;
	}
	return 0;
}

static bool left_out(void *ctx, const char *origin)
{
	return origin_left_out(ctx, origin);
}


/* What reading the file gave: the lost-event counters, and how it ended */
struct replay {
	struct trace_run *tr;
	struct hci_rebuild *rb;
	__u64 counters[HCI_REC_NCOUNTERS];	/* the trailer's, or the markers' sums */
	bool trailer;
	__u64 nreq, nvreq;
	__u64 last_ns;		/* the latest time seen: the join's last poll */
	struct rvms vms;
};

/* A VMM request's -p line, with its image and sector as events.c finds them */
static void vreq_line(struct replay *rp, const struct hci_rec *rec)
{
	const struct hci_vevent *e = &rec->vreq;
	const struct hci_image *im = hci_vmm_image(rvms_find(&rp->vms, e->vmm_tgid), e->dev,
						   e->ino);
	__u64 sec;
	long long sector = -1;

	if (im && e->op != HCI_OP_FLUSH && !hci_image_sector(im, e->off, &sec))
		sector = (long long)sec;
	vreq_row(rp->tr, e, rec->key->origin, rec->key->dev_name, im ? im->path : "", sector);
}

/* One record: its -p lines, its place in the histograms, its losses */
static int replay_one(struct replay *rp, const struct hci_rec *rec)
{
	struct trace_run *tr = rp->tr;

	switch (rec->type) {
	case HCI_REC_REQ:
	case HCI_REC_REQ_RAW:
		rp->nreq++;
		if (rec->req.ts_c > rp->last_ns)
			rp->last_ns = rec->req.ts_c;
		if (tr->env.per_request && rec->req.op < HCI_NOPS &&
		    !origin_left_out(tr, rec->key->origin))
			req_row(tr, &rec->req, rec->key->origin, rec->key->dev_name);
		return hci_rebuild_req(rp->rb, rec->key, &rec->req);
	case HCI_REC_VREQ:
		rp->nvreq++;
		join_vevent(tr, &rec->vreq);
		if (rec->vreq.ts_vc > rp->last_ns)
			rp->last_ns = rec->vreq.ts_vc;
		if (tr->env.per_request && rec->vreq.op < HCI_NOPS &&
		    !origin_left_out(tr, rec->key->origin))
			vreq_line(rp, rec);
		return hci_rebuild_vreq(rp->rb, rec->key, &rec->vreq);
	case HCI_REC_LOST:
		if (!rp->trailer)
			rp->counters[rec->lost.counter] += rec->lost.count;
		mark_lost(tr, rec->lost.ns, rec->lost.count,
			  rec->lost.counter == HCI_REC_CNT_UNREAD ? "ringbuf_unread"
				  : hci_counter_names[rec->lost.counter]);
		return 0;
	case HCI_REC_HIST:
		return hci_rebuild_hist(rp->rb, rec->key, rec->hist.op, rec->hist.block,
					rec->hist.vmm);
	case HCI_REC_TRAILER:
		rp->trailer = true;
		memcpy(rp->counters, rec->trailer.counters, sizeof(rp->counters));
		if (rec->trailer.end_ns > rp->last_ns)
			rp->last_ns = rec->trailer.end_ns;
		return 0;
	case HCI_REC_CHAN:
		return rjoin_chan(tr, rec);
	case HCI_REC_CHAN_DATA:
		if (rec->data.recv_ns > rp->last_ns)
			rp->last_ns = rec->data.recv_ns;
		rjoin_data(tr, rec);
		return 0;
	default:
		return 0;	/* types of a later version */
	}
}

/* Every record in order; 0, or -errno with the message said */
static int replay_all(struct replay *rp, struct hci_rec_reader *rd, const char *path)
{
	struct hci_rec rec;
	char err[512];
	int n;

	while ((n = hci_rec_next(rd, &rec, err, sizeof(err))) > 0)
		if (replay_one(rp, &rec)) {
			hci_errorf("out of memory");
			return -ENOMEM;
		}
	if (n < 0) {
		hci_errorf("%s; reported up to there", err);
		return n;
	}
	if (hci_rec_cut_short(rd)) {
		hci_errorf("%s is cut short after %llu records (%llu bytes of a partial record; "
			   "no trailer): reported up to there, losses from its markers only", path,
			   (unsigned long long)hci_rec_count(rd),
			   (unsigned long long)hci_rec_tail_bytes(rd));
		return -EBADMSG;
	}
	return 0;
}

static void say_header(const struct hci_rec_reader *rd, const char *path)
{
	const struct hci_rec_file *h = hci_rec_header(rd);

	fprintf(stderr, "%s: record format v%u, %s on %s, ring buffer %u KiB%s, options: %s\n",
		path, h->version, h->version_str, h->host, h->rb_kib,
		h->flags & HCI_REC_F_RB_AUTO ? " (picked from the rate)" : "",
		hci_rec_options(rd));
}

/* The summary on the terminal, unless requests were printed (report.c's) */
static void print_summary(struct trace_run *tr, const struct hci_report *r,
			  const struct rvms *vms)
{
	if (tr->env.per_request)
		return;
	if (!r->n)
		printf("no block I/O traced%s\n", tr->env.origin ? " for that origin" : "");
	hci_report_print(stdout, r, tr->env.show_hist);
	rvms_print(stdout, vms);
}

/* The histogram CSV, and the JSON after its requests (report.c's order) */
static int write_files(struct trace_run *tr, const struct hci_report *r,
		       const char *const *names, const __u64 *counters)
{
	int err = write_report_csvs(tr, r);

	if (!tr->json)
		return err;
	hci_json_end_requests(&tr->jw);
	hci_json_section(&tr->jw, "vms");
	hci_jw_end_array(&tr->jw);
	guests_json(tr);
	hci_json_rows(&tr->jw, "histograms", r, HCI_LAYER_BLOCK);
	hci_json_rows(&tr->jw, "vmm", r, HCI_LAYER_VMM);
	hci_json_kvm(&tr->jw, NULL, 0);
	hci_json_lost_counters(&tr->jw, names, counters, HCI_REC_NCOUNTERS);
	if (hci_json_end(&tr->jw) == -EINVAL)
		hci_errorf("%s: the JSON document is not well formed (a bug)", tr->env.json_path);
	if (close_out(&tr->json, tr->env.json_path))
		err = -EIO;
	return err;
}

/* The file's records through the live outputs; the exit status */
static int report_file(struct trace_run *tr, struct hci_rec_reader *rd, const char *path)
{
	struct replay rp = { .tr = tr, .rb = hci_rebuild_new() };
	const char *names[HCI_REC_NCOUNTERS];
	struct hci_report r = {};
	__u64 missing = 0;
	int read_err, err;

	memcpy(names, hci_counter_names, sizeof(hci_counter_names));
	names[HCI_REC_CNT_UNREAD] = "ringbuf_unread";
	tr->t0_ns = hci_rec_header(rd)->t0_ns;
	tr->env.vmm = hci_rec_header(rd)->flags & HCI_REC_F_VMM;
	tr->env.nchannels = (int)hci_rec_header(rd)->nchans;
	tr->env.max_pending = 65536;	/* hcitrace's default */
	if (tr->env.breakdown && !tr->env.nchannels) {
		hci_errorf("--breakdown: %s recorded no guest channel", path);
		hci_rebuild_free(rp.rb);
		return 1;
	}
	if (!rp.rb || open_outputs(tr)) {
		hci_rebuild_free(rp.rb);
		return 1;
	}
	if (tr->env.per_request)
		hci_req_print_header(stdout);
	rvms_load(&rp.vms, path);
	read_err = replay_all(&rp, rd, path);
	rjoin_finish(tr, rp.last_ns);
	err = rjoin_fill(tr);
	if (!err)
		err = hci_rebuild_report(rp.rb, &r, left_out, tr, &missing);
	if (!err) {
		print_summary(tr, &r, &rp.vms);
		guests_summary(tr);
		err = write_files(tr, &r, names, rp.counters);
	}
	fflush(stdout);
	hci_report_lost_n(names, rp.counters, HCI_REC_NCOUNTERS, "hcitrace");
	guests_warn_rejected(tr);
	if (missing && tr->env.verbose)
		fprintf(stderr, "%s: %llu requests counted by BPF have no record (lost above)\n",
			path, (unsigned long long)missing);
	hci_report_free(&r);
	hci_rebuild_free(rp.rb);
	rjoin_free(tr);
	rvms_free(&rp.vms);
	return read_err || err ? 1 : 0;
}

int cmd_report(int argc, char **argv, void *ctx)
{
	struct trace_run tr = {};
	struct hci_rec_reader *rd;
	char err[512];
	struct report_args a = { .env = &tr.env, .err = err, .errlen = sizeof(err) };
	int ret;

	(void)ctx;
	argv[0] = (char *)"hcitrace report";	/* for --help and errors */
	ret = parse_report(&a, argc, argv);
	if (ret)
		return hci_parse_exit(ret, err);
	hci_set_verbosity(tr.env.verbose);
	if (hci_rec_open(a.path, &rd, err, sizeof(err))) {
		hci_errorf("%s", err);
		return 1;
	}
	if (tr.env.verbose)
		say_header(rd, a.path);
	ret = report_file(&tr, rd, a.path);
	hci_rec_close(rd);
	if (close_outputs(&tr) && !ret)
		ret = 1;
	return ret;
}
