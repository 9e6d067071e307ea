// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hci-join-replay: the cross-layer join's host-side cost, offline. A guest
 * stream and its VMM requests (a --record file, or a synthetic VM) go
 * through the same join hcitrace runs live (trace/join_replay.h), at full
 * speed, and one line says what was joined and what it cost per request:
 * CPU from getrusage around the feeding only, peak RSS, and the bytes the
 * join itself holds. docs/bench.md has the figures.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "core/cmd.h"
#include "trace/join_replay.h"

const char *argp_program_version = "hci-join-replay 0.2.0 (guest wire v1)";

struct env {
	const char *file;
	struct hci_jsynth synth;
	unsigned long repeats;
	unsigned long long min_reqs;
	double rate;
	unsigned int chan;
	size_t max_pending;
	bool digest;
	double speedup;
	int status;
	char err[256];
};

enum {
	OPT_SYNTH = 0x100, OPT_IOPS, OPT_IMAGE, OPT_SEED, OPT_MIN, OPT_MAX_PENDING, OPT_CHAN,
	OPT_DIGEST, OPT_RATE,
};

static const struct argp_option opts[] = {
	{ NULL, 0, NULL, 0, "Input (a FILE, or a synthetic VM):", 1 },
	{ "channel", OPT_CHAN, "I", 0, "FILE's guest channel I, in --guest-channel order (0)", 1 },
	{ "synthetic", OPT_SYNTH, "N", 0, "A synthetic VM's N guest requests instead of a FILE", 1 },
	{ "iops", OPT_IOPS, "R", 0, "Its guest requests per second (100000)", 1 },
	{ "image-mib", OPT_IMAGE, "MIB", 0, "Its image size: offsets repeat over it (80)", 1 },
	{ "seed", OPT_SEED, "S", 0, "Its random seed", 1 },
	{ NULL, 0, NULL, 0, "Replay:", 2 },
	{ "repeat", 'k', "K", 0, "Feed the stream K times, each copy later in time (1)", 2 },
	{ "min-requests", OPT_MIN, "N", 0,
	  "Repeat until at least N guest requests were fed (sets K)", 2 },
	{ "rate", OPT_RATE, "R", 0,
	  "Compress FILE in time to R guest requests per second (a VM that fast)", 2 },
	{ "max-pending", OPT_MAX_PENDING, "N", 0, "The join's --max-pending (65536)", 2 },
	{ "digest", OPT_DIGEST, NULL, 0,
	  "Also a digest of every joined request (timed too): equal digests, equal joins", 2 },
	HCI_ARGP_INFO_OPTIONS,
	{ 0 },
};

static const char doc[] =
	"Replay a guest stream and its VMM requests through hcitrace's join, offline.\n"
	"\n"
	"FILE is an \"hcitrace --record\" file of a run with --guest-channel. The\n"
	"output is one line of key=value pairs: joined, unmatched, guest_reqs,\n"
	"vmm_reqs, vmm_unmatched, bad_record, overflow, clock_conflicts, repeats,\n"
	"shift_ms (how much later each copy is), compressed (--rate's factor),\n"
	"requests_per_s (guest requests\n"
	"per second of wall time), cpu_ns_per_req (user + system CPU per joined\n"
	"request), maxrss_kib (peak RSS) and join_bytes (what the join holds).\n"
	"\n"
	"Examples:\n"
	"  hci-join-replay --rate 100000 --min-requests 1000000 run.hcr\n"
	"  hci-join-replay --synthetic 500000 --iops 100000 --image-mib 80"
	"\v"
	"Each copy of a repeated stream is shifted by the stream's length, in the\n"
	"guest's and the host's clock alike, with frame numbers and the guest's\n"
	"counters carried on: one continuous stream for the join.";

static int num(const char *arg, unsigned long long lo, unsigned long long hi,
	       unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(arg, &end, 0);
	return errno || end == arg || *end || *v < lo || *v > hi || *arg == '-' ? -EINVAL : 0;
}

static const char *opt_name(int key)
{
	for (const struct argp_option *o = opts; o->name || o->doc; o++)
		if (o->key == key && o->name)
			return o->name;
	return "?";
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct env *e = state->input;
	unsigned long long v = 0;
	int r = 0;

	if (hci_argp_info(key, state, &e->status))
		return 0;
	switch (key) {
	case OPT_SYNTH:
		r = num(arg, 1, 100000000, &v);
		e->synth.n = (size_t)v;
		break;
	case OPT_IOPS:
		r = num(arg, 1, 10000000, &v);
		e->synth.iops = (double)v;
		break;
	case OPT_IMAGE:
		r = num(arg, 1, 1 << 20, &v);
		e->synth.image_mib = v;
		break;
	case OPT_SEED:
		r = num(arg, 0, UINT64_MAX, &v);
		e->synth.seed = v;
		break;
	case OPT_CHAN:
		r = num(arg, 0, 65535, &v);
		e->chan = (unsigned int)v;
		break;
	case 'k':
		r = num(arg, 1, 100000, &v);
		e->repeats = (unsigned long)v;
		break;
	case OPT_MIN:
		r = num(arg, 1, 1000000000, &v);
		e->min_reqs = v;
		break;
	case OPT_MAX_PENDING:
		r = num(arg, 16, 16777216, &v);
		e->max_pending = (size_t)v;
		break;
	case OPT_RATE:
		r = num(arg, 1, 100000000, &v);
		e->rate = (double)v;
		break;
	case OPT_DIGEST:
		e->digest = true;
		break;
	case ARGP_KEY_ARG:
		if (e->file)
			return ARGP_ERR_UNKNOWN;
		e->file = arg;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	if (r)
		snprintf(e->err, sizeof(e->err), "invalid value '%s' for --%s", arg, opt_name(key));
	return r ? EINVAL : 0;
}

static int parse(int argc, char **argv, struct env *e)
{
	static const struct argp argp = { opts, parse_opt, "FILE | --synthetic N", doc };
	int r;

	*e = (struct env){ .repeats = 1, .max_pending = 65536, .speedup = 1,
			   .synth = { .iops = 100000, .image_mib = 80 } };
	r = argp_parse(&argp, argc, argv, ARGP_NO_EXIT | ARGP_NO_HELP, NULL, e);
	if (e->status)
		return e->status;
	if (r)
		return -EINVAL;	/* said: by argp (an unknown option), or in e->err */
	if (!e->file == !e->synth.n) {
		snprintf(e->err, sizeof(e->err), "give a FILE or --synthetic N (not both)");
		return -EINVAL;
	}
	return 0;
}

/* FNV-1a over the fields of each joined request, in the order they were joined */
static void fnv(uint64_t *h, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		*h = (*h ^ (v & 0xff)) * 0x100000001b3ULL;
}

static void digest_req(void *ctx, const struct hci_jreq *q)
{
	uint64_t *h = ctx;

	fnv(h, q->gdev);
	fnv(h, q->op);
	fnv(h, q->off);
	fnv(h, q->bytes);
	fnv(h, q->nvmm);
	fnv(h, q->t_start);
	for (int k = 0; k < HCI_NJSTAGES; k++)
		fnv(h, (uint64_t)q->ns[k]);
	fnv(h, q->present);
	fnv(h, (uint64_t)q->clock_off);
	fnv(h, (uint64_t)q->clock_unc);
}

/* The counters too: a join that differs in what it left unmatched differs here */
static uint64_t digest_end(uint64_t h, const struct hci_jrp_result *r)
{
	const uint64_t *c = (const uint64_t *)&r->cnt;

	for (size_t i = 0; i < sizeof(r->cnt) / sizeof(*c); i++)
		fnv(&h, c[i]);
	fnv(&h, (uint64_t)r->clock.lo);
	fnv(&h, (uint64_t)r->clock.hi);
	fnv(&h, r->clock.pairs);
	for (size_t i = 0; i < sizeof(r->vol) / sizeof(uint64_t); i++)
		fnv(&h, ((const uint64_t *)&r->vol)[i]);
	for (int op = 0; op < HCI_NOPS; op++)
		for (int four_k = 0; four_k < 2; four_k++) {
			const struct hci_jstats *st = four_k ? &r->st4k[op] : &r->st[op];

			fnv(&h, st->n);
			for (int k = 0; k < HCI_NJSTAGES; k++) {
				fnv(&h, st->count[k]);
				fnv(&h, (uint64_t)st->sum_ns[k]);
				for (int b = 0; b < HCI_NBUCKETS; b++)
					fnv(&h, st->slots[k][b]);
			}
		}
	return h;
}

static void print_result(const struct hci_jrp_result *r, double speedup)
{
	const struct hci_jcounters *c = &r->cnt;
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	printf("joined=%llu unmatched=%llu guest_reqs=%llu vmm_reqs=%llu vmm_unmatched=%llu "
	       "bad_record=%llu overflow=%llu clock_conflicts=%llu repeats=%u shift_ms=%.1f "
	       "compressed=%.1f requests_per_s=%.0f cpu_ns_per_req=%.0f maxrss_kib=%ld join_bytes=%zu\n",
	       (unsigned long long)c->matched, (unsigned long long)c->unmatched,
	       (unsigned long long)c->guest_reqs, (unsigned long long)c->vmm_reqs,
	       (unsigned long long)c->vmm_unmatched, (unsigned long long)c->bad_record,
	       (unsigned long long)(c->guest_overflow + c->vmm_overflow),
	       (unsigned long long)c->clock_conflicts, r->repeats, (double)r->shift_ns / 1e6,
	       speedup,
	       r->wall_s > 0 ? (double)c->guest_reqs / r->wall_s : 0,
	       c->matched ? r->cpu_s * 1e9 / (double)c->matched : 0, ru.ru_maxrss,
	       r->join_bytes);
}

int main(int argc, char **argv)
{
	struct hci_jrp_result res;
	struct hci_jreplay rp;
	struct env e;
	int r = parse(argc, argv, &e);
	uint64_t h = 0xcbf29ce484222325ULL;
	bool ok;

	if (r)
		return hci_parse_exit(r, e.err);
	hci_jrp_init(&rp);
	if (e.file)
		ok = hci_jrp_load(&rp, e.file, e.chan, e.err, sizeof(e.err));
	else if (!(ok = hci_jsynth_build(&rp, &e.synth)))
		snprintf(e.err, sizeof(e.err), "out of memory for %zu synthetic requests",
			 e.synth.n);
	if (!ok) {
		fprintf(stderr, "Error: %s\n", e.err);
		hci_jrp_free(&rp);
		return 1;
	}
	if (e.rate)
		e.speedup = hci_jrp_compress(&rp, e.rate);
	if (e.min_reqs && rp.reqs)
		e.repeats = (unsigned long)((e.min_reqs + rp.reqs - 1) / rp.reqs);
	ok = hci_jrp_run(&rp, e.max_pending, (unsigned int)e.repeats,
			 e.digest ? digest_req : NULL, &h, &res);
	hci_jrp_free(&rp);
	if (!ok) {
		fprintf(stderr, "Error: out of memory for the replay\n");
		return 1;
	}
	print_result(&res, e.speedup);
	if (e.digest)
		printf("digest=%016llx\n", (unsigned long long)digest_end(h, &res));
	return 0;
}
