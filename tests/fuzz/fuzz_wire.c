// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the guest stream parser (lib/wire/wire.c): the host feeds
 * it bytes a guest controls. Build and run: make build/fuzz_wire, then
 * tests/t/15-fuzz-wire.t, or docs/testing.md for longer runs.
 *
 * Each input is parsed several times, cut into chunks differently each time
 * (whole, in two at a point the first byte picks, byte by byte or in
 * input-driven pieces). The callback and the stats are checked against
 * invariants, and every chunking must give the same records and the same
 * counters: where the reads happen to end must never change what is
 * delivered or what is counted as bad.
 * Inputs of 64 bytes or more are also encoded as one REQ record, which must
 * come back exactly once and unchanged. Any violation traps.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "hci_wire.h"

#define check(c) do { if (!(c)) __builtin_trap(); } while (0)

struct run {
	const struct hci_wire_parser *p;
	uint64_t calls;		/* callbacks */
	uint64_t rec_bytes;	/* record bytes delivered */
	uint64_t hash;		/* of every (type, seq, len, record) in order */
};

static uint64_t mix(uint64_t h, const void *data, size_t n)
{
	const uint8_t *b = data;

	while (n--)
		h = (h ^ *b++) * 0x100000001B3ull;	/* FNV-1a, 64-bit */
	return h;
}

static void on_rec(void *ctx, unsigned int type, uint32_t seq, const void *rec, size_t len)
{
	struct run *r = ctx;
	const struct hci_wire_parser *p = r->p;

	check(type >= 1 && type <= HCI_WT_MAX);
	check(len != 0 && len == hci_wire_rec_size(type));
	check(rec != NULL);
	check(p->start <= p->have && p->have <= sizeof(p->buf));
	r->calls++;
	check(p->st.records == r->calls);
	check(p->st.frames >= 1 && p->st.frames <= p->st.records);
	r->rec_bytes += len;
	r->hash = mix(r->hash, &type, sizeof(type));
	r->hash = mix(r->hash, &seq, sizeof(seq));
	r->hash = mix(r->hash, &len, sizeof(len));
	r->hash = mix(r->hash, rec, len);	/* ASan checks all len bytes are readable */
}

static void check_state(const struct hci_wire_parser *p, const struct run *r, size_t fed)
{
	const struct hci_wire_stats *st = &p->st;

	check(p->start <= p->have && p->have <= sizeof(p->buf));
	/* what is held is always less than one whole frame */
	check(p->have - p->start < HCI_WIRE_MAX_FRAME);
	check(st->bytes == fed);
	check(st->records == r->calls);
	check(st->frames <= st->records);
	check(st->frames <= st->bytes / HCI_WIRE_HDR);
	/* each byte fed was skipped, delivered in a frame, or is still held */
	check(st->skipped + st->frames * HCI_WIRE_HDR + r->rec_bytes + (p->have - p->start) ==
	      st->bytes);
	check(st->bad_version + st->bad_type + st->bad_length + st->bad_crc <= st->skipped);
}

/* The size of the next piece to feed, from off on; state is the chunker's own. */
typedef size_t (*chunker)(const uint8_t *data, size_t size, size_t off, size_t *state);

/* A fresh parser fed all of data in the pieces next() gives, checked after each. */
static void parse(struct hci_wire_parser *p, struct run *r, const uint8_t *data, size_t size,
		  chunker next)
{
	size_t off = 0, state = 0;

	hci_wire_init(p);
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->hash = 0xCBF29CE484222325ull;
	while (off < size) {
		size_t n = next(data, size, off, &state);

		if (n == 0 || n > size - off)
			n = size - off;
		hci_wire_feed(p, data + off, n, on_rec, r);
		off += n;
		check_state(p, r, off);
	}
	/* an empty feed changes nothing */
	hci_wire_feed(p, data, 0, on_rec, r);
	check_state(p, r, size);
}

static size_t whole(const uint8_t *data, size_t size, size_t off, size_t *state)
{
	(void)data, (void)off, (void)state;
	return size;
}

/* two pieces, cut where the first byte says */
static size_t halves(const uint8_t *data, size_t size, size_t off, size_t *state)
{
	(void)state;
	if (off)
		return size - off;
	return (size_t)data[0] * size / 256 + 1;
}

static size_t bytes(const uint8_t *data, size_t size, size_t off, size_t *state)
{
	(void)data, (void)size, (void)off, (void)state;
	return 1;
}

/* pieces of 1..64 bytes, sizes from the input read backwards */
static size_t pieces(const uint8_t *data, size_t size, size_t off, size_t *state)
{
	(void)off;
	return 1 + data[size - 1 - (*state)++ % size] % 64;
}

/*
 * Two parses of the same bytes agree on everything but where skipping and
 * holding meet: fewer than 4 bytes at the end may be held (they could start
 * a magic) by one and already skipped by the other, which saw more at once.
 */
static int same(const struct hci_wire_parser *a, const struct run *ra,
		const struct hci_wire_parser *b, const struct run *rb)
{
	struct hci_wire_stats sa = a->st, sb = b->st;
	size_t ha = a->have - a->start, hb = b->have - b->start;
	size_t h = ha < hb ? ha : hb;

	sa.skipped = sb.skipped = 0;
	return !memcmp(&sa, &sb, sizeof(sa)) && ra->calls == rb->calls &&
	       ra->rec_bytes == rb->rec_bytes && ra->hash == rb->hash &&
	       a->st.skipped + ha == b->st.skipped + hb &&
	       (ha == hb || (ha < 4 && hb < 4)) &&
	       !memcmp(a->buf + a->have - h, b->buf + b->have - h, h);
}

/* One record, framed, must come back exactly as it went in. */
struct one {
	const uint8_t *want;
	uint32_t seq;
	int n;
};

static void on_one(void *ctx, unsigned int type, uint32_t seq, const void *rec, size_t len)
{
	struct one *o = ctx;

	check(type == HCI_WT_REQ && seq == o->seq && len == sizeof(struct hci_w_req));
	check(!memcmp(rec, o->want, len));
	o->n++;
}

static void roundtrip(struct hci_wire_parser *p, const uint8_t *data, size_t size)
{
	uint8_t frame[HCI_WIRE_HDR + sizeof(struct hci_w_req)];
	struct one o = { data, 0, 0 };
	size_t n, cut;

	memcpy(&o.seq, data + sizeof(struct hci_w_req) - sizeof(o.seq), sizeof(o.seq));
	n = hci_wire_frame(frame, sizeof(frame), HCI_WT_REQ, o.seq, data, 1);
	check(n == sizeof(frame));
	check(hci_wire_frame(frame, n - 1, HCI_WT_REQ, o.seq, data, 1) == 0);

	hci_wire_init(p);
	hci_wire_feed(p, frame, n, on_one, &o);
	check(o.n == 1);
	check(p->st.frames == 1 && p->st.records == 1 && p->st.skipped == 0);
	check(p->st.bad_crc + p->st.bad_length + p->st.bad_type + p->st.bad_version == 0);
	check(p->have == p->start);

	/* the same frame in two pieces, cut where the input says */
	cut = (size > sizeof(struct hci_w_req) ? data[sizeof(struct hci_w_req)] : data[0]) % n;
	o.n = 0;
	hci_wire_init(p);
	hci_wire_feed(p, frame, cut, on_one, &o);
	hci_wire_feed(p, frame + cut, n - cut, on_one, &o);
	check(o.n == 1 && p->st.frames == 1 && p->st.skipped == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hci_wire_parser p0, p1;
	struct run r0, r1;

	parse(&p0, &r0, data, size, whole);
	if (size) {
		parse(&p1, &r1, data, size, halves);
		check(same(&p0, &r0, &p1, &r1));
		if (size <= 4 * HCI_WIRE_MAX_FRAME)
			parse(&p1, &r1, data, size, bytes);
		else
			parse(&p1, &r1, data, size, pieces);
		check(same(&p0, &r0, &p1, &r1));
		parse(&p1, &r1, data, size, pieces);
		check(same(&p0, &r0, &p1, &r1));
	}
	if (size >= sizeof(struct hci_w_req))
		roundtrip(&p1, data, size);
	return 0;
}
