// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The record file (trace/record.c writes, trace/record_read.c reads):
 * events round-trip exactly, compact or whole; keys are named once; a file
 * cut anywhere reads up to its last whole record and says it was cut; bad
 * files get their one-line errors.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "tap.h"
#include "trace/record.h"
#include "trace/record_read.h"

static char path[64];
static int named;

static void namer(void *ctx, unsigned int kind, __u64 cgid, __u32 tgid, __u32 dev,
		  char *origin, size_t olen, char *dname, size_t dlen)
{
	(void)ctx;
	named++;
	snprintf(origin, olen, "%s:%llu/%u", kind ? "vm" : "host", (unsigned long long)cgid, tgid);
	snprintf(dname, dlen, "loop%u", dev & 0xff);
}

static __u64 rnd(void)
{
	return ((__u64)rand() << 31) ^ (__u64)rand();
}

static void random_req(struct hci_event *e, int i)
{
	__u64 c = 1000000000ULL + rnd() % (1ULL << 40);

	*e = (struct hci_event){ .type = HCI_EV_REQ, .flags = (__u32)rand() & 0x1f,
				 .cgid = 1 + (__u64)(i % 3), .vmm_tgid = i % 5 == 0 ? 77 : 0,
				 .dev = HCI_DEV_MKDEV(7, i % 2), .op = (__u32)i % HCI_NOPS,
				 .bytes = 4096, .sector = rnd(), .ts_c = c };
	e->ts_q = rand() % 4 ? c - rnd() % 100000 : 0;
	e->ts_g = rand() % 4 ? c - rnd() % 100000 : 0;
	e->ts_d = rand() % 4 ? c - rnd() % 100000 : 0;
	/* some do not fit the compact form: a stage over 4.29 s, a stamp after C */
	e->ts_i = i % 7 == 0 ? c - 5000000000ULL : i % 11 == 0 ? c + 3 : 0;
}

static struct hci_rec_file hdr0 = { .t0_ns = 1000, .t0_real_ns = 2000, .ncpus = 2,
				    .host = "testhost", .version_str = "hcitrace test" };

/* N requests, a VMM request, a loss, a channel, its bytes, a histogram */
static void write_file(int n, struct hci_event *ev, bool trailer)
{
	struct hci_rec_writer *w;
	struct hci_rec_file hdr = hdr0;
	struct hci_vevent v = { .type = HCI_EV_VREQ, .vmm_tgid = 77, .dev = 9, .ret = 4096,
				.ts_v = 5, .ts_vc = 9 };
	struct hci_hist_val hv = { .ios = 3, .merges = 2 };
	__u64 counters[HCI_REC_NCOUNTERS] = { [HCI_CNT_RB_LOST] = 4 };
	char err[256];

	ok(!hci_rec_writer_open(&w, path, &hdr, "--record x -d loop0", namer, NULL, err,
				sizeof(err)), "writer opens %s", path);
	for (int i = 0; i < n; i++)
		hci_rec_write_req(w, &ev[i]);
	hci_rec_write_vreq(w, &v);
	hci_rec_write_lost(w, HCI_CNT_RB_LOST, 123, 4);
	hci_rec_write_chan(w, 0, true, 77, "/run/g.sock", "vm:g");
	hci_rec_write_chan_data(w, 0, 456, "abcdef", 6);
	hci_rec_write_hist(w, HCI_REC_KEY_BLOCK, 1, 0, HCI_DEV_MKDEV(7, 0), HCI_OP_READ, &hv);
	ok(!hci_rec_writer_close(w, trailer ? counters : NULL, 999, err, sizeof(err)),
	   "writer closes");
}

/* Reads the file back: the number of requests, 1 if other records matched */
static int read_back(const struct hci_event *ev, int n, bool *cut, int *err_out)
{
	struct hci_rec_reader *rd;
	struct hci_rec rec;
	char err[256];
	int r, nreq = 0, same = 0, others = 0;

	*err_out = hci_rec_open(path, &rd, err, sizeof(err));
	if (*err_out)
		return -1;
	while ((r = hci_rec_next(rd, &rec, err, sizeof(err))) > 0) {
		if (rec.type == HCI_REC_REQ || rec.type == HCI_REC_REQ_RAW) {
			struct hci_event e = ev[nreq];

			memset(e.comm, 0, sizeof(e.comm));
			same += nreq < n && !memcmp(&rec.req, &e, sizeof(e)) &&
				rec.key->cgid == e.cgid && rec.key->dev == e.dev &&
				rec.key->vmm_tgid == e.vmm_tgid;
			nreq++;
		}
		others += rec.type == HCI_REC_VREQ && rec.vreq.vmm_tgid == 77 &&
			  !strcmp(rec.key->origin, "vm:0/77");
		others += rec.type == HCI_REC_LOST && rec.lost.count == 4 && rec.lost.ns == 123;
		others += rec.type == HCI_REC_CHAN_DATA && rec.data.len == 6 &&
			  !memcmp(rec.data.bytes, "abcdef", 6);
		others += rec.type == HCI_REC_CHAN && !strcmp(rec.chan.origin, "vm:g");
		others += rec.type == HCI_REC_HIST && rec.hist.block && rec.hist.block->merges == 2;
		others += rec.type == HCI_REC_TRAILER && rec.trailer.counters[HCI_CNT_RB_LOST] == 4;
	}
	*err_out = r;
	*cut = hci_rec_cut_short(rd);
	hci_rec_close(rd);
	if (n && same != nreq)
		return -2;
	return others >= 5 ? nreq : -3 - others;
}

static void test_round_trip(void)
{
	struct hci_event ev[500];
	int e;
	bool cut;

	for (int i = 0; i < 500; i++)
		random_req(&ev[i], i);
	named = 0;
	write_file(500, ev, true);
	is_int(read_back(ev, 500, &cut, &e), 500, "500 requests read back exactly");
	is_int(e, 0, "... to a clean end");
	ok(!cut, "... with the trailer");
	is_int(named, 3 * 2 * 2 + 1, "each key named once (12 block, 1 VMM)");
}

/* Every cut of a file reads without error up to its last whole record */
static void test_cuts(void)
{
	struct hci_event ev[20];
	static __u8 file[16384];
	size_t size;
	int bad = 0, noted = 0;
	FILE *f;

	for (int i = 0; i < 20; i++)
		random_req(&ev[i], i);
	write_file(20, ev, true);
	f = fopen(path, "rb");
	size = fread(file, 1, sizeof(file), f);
	fclose(f);
	for (size_t cut_at = sizeof(struct hci_rec_file) + 20; cut_at < size; cut_at++) {
		struct hci_rec_reader *rd;
		struct hci_rec rec;
		char err[256];
		int r;

		if (hci_rec_open_file(fmemopen(file, cut_at, "rb"), "mem", &rd, err, sizeof(err))) {
			bad++;
			continue;
		}
		while ((r = hci_rec_next(rd, &rec, err, sizeof(err))) > 0)
			;
		if (r && !bad++)
			printf("# cut at %zu: %s\n", cut_at, err);
		noted += hci_rec_cut_short(rd);
		hci_rec_close(rd);
	}
	is_int(bad, 0, "every cut reads to its last whole record");
	is_int(noted, size - sizeof(struct hci_rec_file) - 20, "... and says it was cut");
}

static int open_err(const void *bytes, size_t n, char *err, size_t errlen)
{
	struct hci_rec_reader *rd;
	struct hci_rec rec;
	FILE *f = fmemopen((void *)bytes, n, "rb");
	int r = hci_rec_open_file(f, "mem", &rd, err, errlen);

	if (r)
		return r;
	while ((r = hci_rec_next(rd, &rec, err, errlen)) > 0)
		;
	hci_rec_close(rd);
	return r;
}

static void test_bad(void)
{
	struct hci_rec_file h = hdr0;
	__u8 buf[512];
	char err[256];

	memset(buf, 0, sizeof(buf));
	memcpy(buf, "not a record file at all", 24);
	is_int(open_err(buf, 100, err, sizeof(err)), -EPROTO, "bad magic: %s", err);
	memcpy(h.magic, HCI_REC_MAGIC, 8);
	h.version = HCI_REC_VERSION + 1;
	h.bom = HCI_REC_BOM;
	h.clock = HCI_REC_CLOCK_MONOTONIC;
	h.hdr_len = sizeof(h);
	memcpy(buf, &h, sizeof(h));
	is_int(open_err(buf, sizeof(h), err, sizeof(err)), -EPROTONOSUPPORT, "newer: %s", err);
	h.version = HCI_REC_VERSION;
	memcpy(buf, &h, sizeof(h));
	is_int(open_err(buf, sizeof(h) - 1, err, sizeof(err)), -EBADMSG, "cut header: %s", err);
	/* a record of length 2, and a request naming a key never defined */
	memcpy(buf + sizeof(h), "\x02\x00\x02\x00", 4);
	is_int(open_err(buf, sizeof(h) + 4, err, sizeof(err)), -EBADMSG, "length 2: %s", err);
	memset(buf + sizeof(h), 0, sizeof(struct hci_rec_req));
	buf[sizeof(h)] = HCI_REC_REQ;
	buf[sizeof(h) + 2] = sizeof(struct hci_rec_req);
	is_int(open_err(buf, sizeof(h) + sizeof(struct hci_rec_req), err, sizeof(err)), -EBADMSG,
	       "undefined key: %s", err);
	/* an unknown type is skipped */
	buf[sizeof(h)] = 200;
	is_int(open_err(buf, sizeof(h) + sizeof(struct hci_rec_req), err, sizeof(err)), 0,
	       "an unknown type is skipped");
}

int main(void)
{
	snprintf(path, sizeof(path), "/tmp/test_record.%d", (int)getpid());
	test_round_trip();
	test_cuts();
	test_bad();
	unlink(path);
	return done_testing();
}
