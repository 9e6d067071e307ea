// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Writes the seed corpus of tests/fuzz/fuzz_wire.c: small guest streams,
 * valid and broken, that start the fuzzer past the magic and the CRC.
 * The output is the same on every run. From the top of the repository:
 *
 *   cc -std=c11 -Wall -Wextra -Werror -Iinclude tests/fuzz/gen-corpus.c lib/wire/wire.c \
 *      -o /tmp/gen-corpus && /tmp/gen-corpus tests/fuzz/corpus/wire
 *
 * then commit the changed files (git status tests/fuzz/corpus/wire).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "hci_wire.h"

static const char *dir;
static uint8_t buf[16 * HCI_WIRE_MAX_FRAME];
static size_t len;

static void put(const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "gen-corpus: cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	len = 0;
}

static void frame(unsigned int type, uint32_t seq, const void *recs, size_t nrec)
{
	size_t n = hci_wire_frame(buf + len, sizeof(buf) - len, type, seq, recs, nrec);

	if (!n) {
		fprintf(stderr, "gen-corpus: cannot encode type %u x%zu\n", type, nrec);
		exit(1);
	}
	len += n;
}

static void bytes(const void *p, size_t n)
{
	memcpy(buf + len, p, n);
	len += n;
}

int main(int argc, char **argv)
{
	struct hci_w_hello hello = {
		.mono_ns = 12345678901ull, .real_ns = 1700000000123456789ull, .ncpus = 4,
		.flags = HCI_WF_APP | HCI_WF_TSC, .release = "6.1.0-27-cloud-amd64",
		.host = "guest1",
	};
	struct hci_w_disk disk = {
		.dev = (254u << 20) | 0, .lbs = 512, .bytes = 1ull << 30, .name = "vda",
		.serial = "hcitest0",
	};
	struct hci_w_sync sync = {
		.mono_ns = 12445678901ull, .tsc = 987654321012ull, .reqs = 63, .apps = 2,
	};
	struct hci_w_bye bye = { .mono_ns = 13345678901ull };
	struct hci_w_req req[63], req64[64];
	struct hci_w_app app[2] = {
		{ .tgid = 321, .op = 0, .dev = 254u << 20, .ino = 12, .off = 4096, .bytes = 4096,
		  .ts = 12400000000ull, .comm = "fio" },
		{ .tgid = 321, .op = 1, .dev = 254u << 20, .ino = 12, .off = 8192, .bytes = 512,
		  .ts = 12400100000ull, .comm = "fio" },
	};
	static const uint8_t junk[] = "\x00\xffHCI\x01HHCIX garbage \x48\x43\x49\x57\x02 more";
	size_t at;

	dir = argc > 1 ? argv[1] : "tests/fuzz/corpus/wire";
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "gen-corpus: cannot create %s: %s\n", dir, strerror(errno));
		return 1;
	}
	for (unsigned int i = 0; i < 63; i++)
		req[i] = (struct hci_w_req){
			.dev = 254u << 20, .flags = 0x3f, .op = i % 2, .bytes = 4096,
			.sector = 8ull * i, .ts_q = 12300000000ull + 1000 * i,
			.ts_g = 12300000100ull + 1000 * i, .ts_i = 12300000200ull + 1000 * i,
			.ts_d = 12300000300ull + 1000 * i, .ts_c = 12300090000ull + 1000 * i,
		};
	memcpy(req64, req, sizeof(req));
	req64[63] = req[62];

	/* each type, alone */
	frame(HCI_WT_HELLO, 0, &hello, 1);
	put("hello");
	frame(HCI_WT_DISK, 1, &disk, 1);
	put("disk");
	frame(HCI_WT_SYNC, 2, &sync, 1);
	put("sync");
	frame(HCI_WT_REQ, 3, req, 1);
	put("req1");
	frame(HCI_WT_REQ, 3, req, 63);
	put("req63");
	frame(HCI_WT_APP, 4, app, 2);
	put("app2");
	frame(HCI_WT_BYE, 5, &bye, 1);
	put("bye");

	/*
	 * two frames of the largest size, 4112 bytes, each exactly the parser's
	 * buffer; over 4096 bytes, this seed also raises libFuzzer's -max_len
	 */
	frame(HCI_WT_REQ, 0, req64, 64);
	frame(HCI_WT_APP, 1, req64, 64);
	put("max-frames");

	/* a whole short session */
	frame(HCI_WT_HELLO, 0, &hello, 1);
	frame(HCI_WT_DISK, 1, &disk, 1);
	frame(HCI_WT_REQ, 2, req, 3);
	frame(HCI_WT_APP, 3, app, 2);
	frame(HCI_WT_SYNC, 4, &sync, 1);
	frame(HCI_WT_BYE, 5, &bye, 1);
	put("session");

	/* near-miss magics, then a frame */
	bytes(junk, sizeof(junk) - 1);
	frame(HCI_WT_SYNC, 7, &sync, 1);
	put("garbage-then-frame");

	/* a REQ frame 10 bytes short */
	frame(HCI_WT_REQ, 0, req, 4);
	len -= 10;
	put("truncated");

	/* one payload bit flipped, then a good frame */
	frame(HCI_WT_REQ, 0, req, 2);
	buf[HCI_WIRE_HDR + 70] ^= 0x10;
	frame(HCI_WT_BYE, 1, &bye, 1);
	put("bad-crc");

	/* version 2, then a good frame */
	frame(HCI_WT_HELLO, 0, &hello, 1);
	buf[4] = 2;
	frame(HCI_WT_BYE, 1, &bye, 1);
	put("bad-version");

	/* type 9 and a REQ length of 65, then a good frame */
	frame(HCI_WT_SYNC, 0, &sync, 1);
	buf[5] = 9;
	at = len;
	frame(HCI_WT_REQ, 1, req, 1);
	buf[at + 6] = 65;
	frame(HCI_WT_BYE, 2, &bye, 1);
	put("bad-type-length");

	/* seq 0, 1, 5, then a restart */
	frame(HCI_WT_HELLO, 0, &hello, 1);
	frame(HCI_WT_SYNC, 1, &sync, 1);
	frame(HCI_WT_SYNC, 5, &sync, 1);
	frame(HCI_WT_HELLO, 0, &hello, 1);
	put("seq-gap-restart");

	/*
	 * The fuzz target cuts each input in two where the first byte says
	 * (after byte * size / 256 + 1 bytes): here 7 bytes into the header of
	 * the frame that follows a stale copy of a header, which swallows it.
	 */
	bytes("\x00", 1);
	frame(HCI_WT_SYNC, 0, &sync, 1);
	bytes(buf + 1, 30);
	at = len;
	frame(HCI_WT_REQ, 1, req, 2);
	for (unsigned int b = 0; b < 256; b++)
		if (b * len / 256 + 1 == at + 7)
			buf[0] = (uint8_t)b;
	put("split-in-header");
	return 0;
}
