// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the record file reader (trace/record_read.c):
 * hcitrace report reads files that may be cut short, corrupted or made up.
 * Run by tests/t/17-fuzz-record.t; make build/fuzz_record builds it.
 *
 * Each input is read as a whole file and must end in a clean end or one
 * error, never a crash or a read out of bounds; every record it gives must
 * lie inside the input, in order, with a length its type allows, and a
 * request must name a key of its kind. The same input cut at a point its
 * first byte picks must read the same records up to the cut. Inputs of 96
 * bytes or more are also taken as one ring event: when the compact form
 * takes it, it must decode to the same event. Any violation traps.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "trace/record_read.h"

#define check(c) do { if (!(c)) __builtin_trap(); } while (0)

/* Reads @n bytes of @data; the records' offsets into @offs (at most @max) */
static size_t read_all(const uint8_t *data, size_t n, uint64_t *offs, size_t max, int *last)
{
	struct hci_rec_reader *rd;
	struct hci_rec rec;
	char err[256];
	FILE *f = fmemopen((void *)data, n, "rb");
	uint64_t prev_end = 0;
	size_t k = 0;
	int r;

	if (!f || n == 0) {
		if (f)
			fclose(f);
		*last = -1;
		return 0;
	}
	if (hci_rec_open_file(f, "fuzz", &rd, err, sizeof(err))) {
		check(err[0]);
		*last = -1;
		return 0;
	}
	prev_end = hci_rec_header(rd)->hdr_len;
	check(prev_end <= n);
	while ((r = hci_rec_next(rd, &rec, err, sizeof(err))) > 0) {
		check(rec.offset == prev_end && rec.len >= sizeof(struct hci_rec_hdr));
		check(rec.offset + rec.len <= n);
		check(!memcmp(rec.raw, data + rec.offset, rec.len));
		if (rec.type == HCI_REC_REQ || rec.type == HCI_REC_REQ_RAW)
			check(rec.key && rec.key->kind == HCI_REC_KEY_BLOCK && rec.key->origin);
		if (rec.type == HCI_REC_VREQ)
			check(rec.key && rec.key->kind == HCI_REC_KEY_VMM && rec.key->dev_name);
		if (rec.type == HCI_REC_CHAN_DATA)
			check(rec.data.bytes + rec.data.len == (const uint8_t *)rec.raw + rec.len);
		if (rec.type == HCI_REC_LOST)
			check(rec.lost.counter < HCI_REC_NCOUNTERS);
		prev_end = rec.offset + rec.len;
		if (k < max)
			offs[k] = rec.offset;
		k++;
	}
	check(r == 0 || err[0]);
	check(r != 0 || prev_end + hci_rec_tail_bytes(rd) == n);
	*last = r;
	hci_rec_close(rd);
	return k;
}

static void round_trip(const uint8_t *data, size_t n)
{
	struct hci_event e, back;
	struct hci_rec_req r;

	if (n < sizeof(e))
		return;
	memcpy(&e, data, sizeof(e));
	e.type = HCI_EV_REQ;
	if (!hci_rec_req_encode(&e, 0, &r))
		return;
	hci_rec_req_decode(&r, &back);
	back.cgid = e.cgid;
	back.vmm_tgid = e.vmm_tgid;
	back.dev = e.dev;
	check(!memcmp(&back, &e, sizeof(e)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t whole[4096], cut[4096];
	size_t nw, nc, at;
	int lw, lc;

	nw = read_all(data, size, whole, 4096, &lw);
	at = size ? (size_t)data[0] * size / 256 : 0;
	nc = read_all(data, at, cut, 4096, &lc);
	/* a cut file reads a prefix of the whole one's records */
	if (lw == 0 && lc >= 0) {
		check(nc <= nw);
		for (size_t i = 0; i < nc && i < 4096; i++)
			check(cut[i] == whole[i]);
	}
	round_trip(data, size);
	return 0;
}
