// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The guest -> host wire format: CRC, encoder, resynchronising parser. */
#include <stdint.h>
#include <stdlib.h>
#include "tap.h"
#include "hci_wire.h"

#define MAX_GOT 512
#define MAX_REC 152		/* the largest record, HELLO */

/* What the parser delivered, in order. */
struct got {
	size_t n;
	unsigned int type[MAX_GOT];
	uint32_t seq[MAX_GOT];
	size_t len[MAX_GOT];
	uint8_t rec[MAX_GOT][MAX_REC];
};

static void on_rec(void *ctx, unsigned int type, uint32_t seq, const void *rec, size_t len)
{
	struct got *g = ctx;

	if (g->n >= MAX_GOT || len > MAX_REC) {
		g->n++;
		return;
	}
	g->type[g->n] = type;
	g->seq[g->n] = seq;
	g->len[g->n] = len;
	memcpy(g->rec[g->n], rec, len);
	g->n++;
}

/* xorshift64: a fixed, portable byte source */
static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t xs64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill(void *p, size_t n)
{
	uint8_t *b = p;

	while (n--)
		*b++ = (uint8_t)xs64();
}

/* What one encoded frame was made of, for checking what comes out. */
struct sent {
	unsigned int type;
	uint32_t seq;
	size_t nrec;
	const uint8_t *recs;
};

/* Frames in sent[] appended to out at *len; returns 0 if one was refused. */
static int encode(uint8_t *out, size_t cap, size_t *len, const struct sent *s, size_t ns)
{
	for (size_t i = 0; i < ns; i++) {
		size_t n = hci_wire_frame(out + *len, cap - *len, s[i].type, s[i].seq,
					  s[i].recs, s[i].nrec);

		if (n != HCI_WIRE_HDR + s[i].nrec * hci_wire_rec_size(s[i].type))
			return 0;
		*len += n;
	}
	return 1;
}

/* Records in g are exactly those of sent[], in order, byte for byte. */
static int matches(const struct got *g, const struct sent *s, size_t ns)
{
	size_t k = 0;

	for (size_t i = 0; i < ns; i++) {
		size_t rs = hci_wire_rec_size(s[i].type);

		for (size_t r = 0; r < s[i].nrec; r++, k++) {
			if (k >= g->n || k >= MAX_GOT || g->type[k] != s[i].type ||
			    g->seq[k] != s[i].seq || g->len[k] != rs ||
			    memcmp(g->rec[k], s[i].recs + r * rs, rs))
				return 0;
		}
	}
	return k == g->n;
}

static int no_errors(const struct hci_wire_stats *st)
{
	return !st->skipped && !st->bad_version && !st->bad_type && !st->bad_length &&
	       !st->bad_crc && !st->seq_gaps && !st->restarts;
}

/* A header with any fields and CRC 0: for frames refused before their CRC is. */
static void put_hdr(uint8_t *o, uint8_t version, uint8_t type, uint16_t len, uint32_t seq)
{
	struct hci_wire_hdr h = {
		.magic = HCI_WIRE_MAGIC, .version = version, .type = type, .len = len, .seq = seq,
	};

	memcpy(o, &h, sizeof(h));
}

static size_t frame1(uint8_t *o, unsigned int type, uint32_t seq, const void *rec)
{
	return hci_wire_frame(o, HCI_WIRE_MAX_FRAME, type, seq, rec, 1);
}

static struct got g1, g2;
static uint8_t recs[HCI_WIRE_MAX_PAYLOAD + 256];
static uint8_t stream[8 * HCI_WIRE_MAX_FRAME];

static void test_crc(void)
{
	is_int(hci_crc32c(0, "123456789", 9), 0xE3069283u, "CRC-32C of \"123456789\" is 0xE3069283");
	is_int(hci_crc32c(hci_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u,
	       "CRC-32C continues across calls");
	is_int(hci_crc32c(0, "", 0), 0, "CRC-32C of nothing is 0");
	is_int(hci_wire_rec_size(HCI_WT_HELLO), 152, "HELLO record is 152 bytes");
	is_int(hci_wire_rec_size(HCI_WT_REQ), 64, "REQ record is 64 bytes");
	is_int(hci_wire_rec_size(0) + hci_wire_rec_size(HCI_WT_MAX + 1), 0,
	       "types 0 and MAX+1 have no record size");
}

static void test_roundtrip(void)
{
	static const struct { unsigned int type; size_t nrec; const char *name; } t[] = {
		{HCI_WT_HELLO, 1, "HELLO"}, {HCI_WT_DISK, 1, "DISK"}, {HCI_WT_SYNC, 1, "SYNC"},
		{HCI_WT_REQ, 1, "REQ x1"}, {HCI_WT_REQ, 63, "REQ x63"},
		{HCI_WT_REQ, 64, "REQ x64"}, {HCI_WT_APP, 1, "APP x1"},
		{HCI_WT_APP, 17, "APP x17"}, {HCI_WT_BYE, 1, "BYE"},
	};
	const size_t nt = sizeof(t) / sizeof(t[0]);
	struct sent s[sizeof(t) / sizeof(t[0])];
	struct hci_wire_parser *p = malloc(sizeof(*p));
	struct hci_wire_hdr h;
	size_t len = 0, nrec = 0, off = 0;
	int ok_hdr = 1, bad_crc = 0;

	fill(recs, sizeof(recs));
	for (size_t i = 0; i < nt; i++) {
		s[i] = (struct sent){ t[i].type, (uint32_t)i, t[i].nrec, recs + 8 * i };
		nrec += t[i].nrec;
	}
	ok(encode(stream, sizeof(stream), &len, s, nt), "every type encodes (REQ/APP up to 64 records)");

	/* the header on the wire, field by field */
	for (size_t i = 0; i < nt && off + HCI_WIRE_HDR <= len; i++) {
		memcpy(&h, stream + off, sizeof(h));
		if (memcmp(stream + off, "HCIW", 4) || h.version != 1 || h.type != t[i].type ||
		    h.len != t[i].nrec * hci_wire_rec_size(t[i].type) || h.seq != i)
			ok_hdr = 0;
		if (h.crc != hci_crc32c(hci_crc32c(0, stream + off + 4, 8),
					stream + off + HCI_WIRE_HDR, h.len))
			bad_crc++;
		off += HCI_WIRE_HDR + h.len;
	}
	ok(ok_hdr && off == len, "headers: \"HCIW\", version 1, type, len, seq");
	is_int(bad_crc, 0, "CRC-32C covers header bytes 4..11, then the payload");

	for (size_t i = 0; i < nt; i++) {
		struct hci_wire_parser q;
		uint8_t one[HCI_WIRE_MAX_FRAME];
		size_t n = hci_wire_frame(one, sizeof(one), s[i].type, s[i].seq, s[i].recs, s[i].nrec);

		memset(&g1, 0, sizeof(g1));
		hci_wire_init(&q);
		hci_wire_feed(&q, one, n, on_rec, &g1);
		ok(matches(&g1, &s[i], 1) && q.st.frames == 1 && q.st.records == t[i].nrec &&
		   no_errors(&q.st), "%s: round trip, records byte-identical with type and seq",
		   t[i].name);
	}

	memset(&g1, 0, sizeof(g1));
	hci_wire_init(p);
	hci_wire_feed(p, stream, len, on_rec, &g1);
	ok(matches(&g1, s, nt), "a stream of all of them: every record, in order, byte-identical");
	is_int(p->st.frames, nt, "stats.frames counts them");
	is_int(p->st.records, nrec, "stats.records counts their records");
	is_int(p->st.bytes, len, "stats.bytes counts what was fed");
	ok(no_errors(&p->st), "nothing skipped, no error counted");
	is_int(p->have - p->start, 0, "nothing held once the last frame is complete");

	/* one byte at a time: same records, same stats */
	memset(&g2, 0, sizeof(g2));
	hci_wire_init(p);
	for (size_t i = 0; i < len; i++)
		hci_wire_feed(p, stream + i, 1, on_rec, &g2);
	ok(matches(&g2, s, nt), "fed one byte at a time: the same records");
	is_int(p->st.frames, nt, "fed one byte at a time: the same frame count");
	is_int(p->st.bytes, len, "fed one byte at a time: every byte counted");
	ok(no_errors(&p->st), "fed one byte at a time: no error counted");

	/* no callback: the same accounting */
	hci_wire_init(p);
	hci_wire_feed(p, stream, len, NULL, NULL);
	is_int(p->st.records, nrec, "a NULL callback still parses and counts");
	free(p);
}

static void test_encoder_refuses(void)
{
	uint8_t out[2 * HCI_WIRE_MAX_FRAME];
	size_t n;

	is_int(hci_wire_frame(out, sizeof(out), HCI_WT_REQ, 0, recs, 0), 0, "refuses 0 records");
	is_int(hci_wire_frame(out, sizeof(out), HCI_WT_HELLO, 0, recs, 2) +
	       hci_wire_frame(out, sizeof(out), HCI_WT_DISK, 0, recs, 2) +
	       hci_wire_frame(out, sizeof(out), HCI_WT_SYNC, 0, recs, 2) +
	       hci_wire_frame(out, sizeof(out), HCI_WT_BYE, 0, recs, 2), 0,
	       "refuses 2 records of HELLO, DISK, SYNC, BYE");
	is_int(hci_wire_frame(out, sizeof(out), HCI_WT_REQ, 0, recs, HCI_WIRE_MAX_RECS),
	       HCI_WIRE_MAX_FRAME, "accepts 64 REQ records: a 4096-byte payload, the maximum");
	is_int(hci_wire_frame(out, sizeof(out), HCI_WT_REQ, 0, recs, HCI_WIRE_MAX_RECS + 1), 0,
	       "refuses 65 REQ records: payload over 4096 bytes");
	is_int(hci_wire_frame(out, sizeof(out), HCI_WT_APP, 0, recs, HCI_WIRE_MAX_RECS + 1), 0,
	       "refuses 65 APP records");
	is_int(hci_wire_frame(out, sizeof(out), HCI_WT_REQ, 0, recs, SIZE_MAX / 64 + 2), 0,
	       "refuses a record count whose byte size wraps around");
	n = hci_wire_frame(out, sizeof(out), HCI_WT_SYNC, 0, recs, 1);
	is_int(n, HCI_WIRE_HDR + 48, "a SYNC frame is 64 bytes");
	is_int(hci_wire_frame(out, n - 1, HCI_WT_SYNC, 0, recs, 1), 0, "refuses a buffer 1 byte short");
	is_int(hci_wire_frame(out, HCI_WIRE_HDR, HCI_WT_BYE, 0, recs, 1), 0,
	       "refuses a buffer with room for the header only");
	is_int(hci_wire_frame(out, n, HCI_WT_SYNC, 0, recs, 1), n,
	       "accepts a buffer of exactly the frame");
	is_int(hci_wire_frame(out, sizeof(out), 0, 0, recs, 1) +
	       hci_wire_frame(out, sizeof(out), HCI_WT_MAX + 1, 0, recs, 1) +
	       hci_wire_frame(out, sizeof(out), 255, 0, recs, 1), 0, "refuses unknown types 0, 7, 255");
}

static void test_garbage(void)
{
	struct hci_wire_parser p;
	uint8_t bye[8] = {1, 2, 3, 4, 5, 6, 7, 8}, garbage[1000];
	struct sent s = { HCI_WT_BYE, 0, 1, bye };
	size_t len, n;

	/* no 0x48 ('H') except the near-misses placed below */
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (uint8_t)(i * 7 % 256) == 'H' ? 0 : (uint8_t)(i * 7);
	memcpy(garbage + 100, "HCIX", 4);
	memcpy(garbage + 300, "HCI", 3);
	memcpy(garbage + 500, "HHCIW", 5);
	memcpy(garbage + sizeof(garbage) - 3, "HCI", 3);	/* runs into the real magic */
	memcpy(stream, garbage, sizeof(garbage));
	len = sizeof(garbage) + frame1(stream + sizeof(garbage), HCI_WT_BYE, 0, bye);

	memset(&g1, 0, sizeof(g1));
	hci_wire_init(&p);
	hci_wire_feed(&p, stream, len, on_rec, &g1);
	ok(matches(&g1, &s, 1), "a frame after 1000 bytes of garbage is delivered");
	is_int(p.st.skipped, sizeof(garbage), "exactly the 1000 garbage bytes are counted as skipped");

	memset(&g2, 0, sizeof(g2));
	hci_wire_init(&p);
	for (size_t i = 0; i < len; i += n) {
		n = len - i < 7 ? len - i : 7;
		hci_wire_feed(&p, stream + i, n, on_rec, &g2);
	}
	ok(matches(&g2, &s, 1) && p.st.skipped == sizeof(garbage),
	   "the same in 7-byte pieces, the near-miss magics split across them");
}

static void test_bad_frames(void)
{
	struct hci_wire_parser p;
	uint8_t req[3][64], sync[48];
	struct sent s[3];
	size_t len = 0, fa, fb;

	fill(req, sizeof(req));
	fill(sync, sizeof(sync));
	for (int i = 0; i < 3; i++)
		s[i] = (struct sent){ HCI_WT_REQ, (uint32_t)i, 1, req[i] };

	/* A, B with one payload byte flipped, C */
	fa = frame1(stream, HCI_WT_REQ, 0, req[0]);
	fb = frame1(stream + fa, HCI_WT_REQ, 1, req[1]);
	stream[fa + HCI_WIRE_HDR + 10] ^= 0x20;
	len = fa + fb + frame1(stream + fa + fb, HCI_WT_REQ, 2, req[2]);
	memset(&g1, 0, sizeof(g1));
	hci_wire_init(&p);
	hci_wire_feed(&p, stream, len, on_rec, &g1);
	is_int(p.st.bad_crc, 1, "a flipped payload byte: bad_crc counted");
	ok(g1.n == 2 && matches(&g1, (struct sent[]){ s[0], s[2] }, 2),
	   "the frames before and after it are delivered, not the bad one");
	is_int(p.st.skipped, fb, "exactly the bad frame's bytes are skipped");
	is_int(p.st.seq_gaps, 1, "the lost frame shows as a sequence gap");

	/* a flipped header byte under the CRC (seq) */
	fa = frame1(stream, HCI_WT_SYNC, 7, sync);
	stream[9] ^= 1;
	len = fa + frame1(stream + fa, HCI_WT_REQ, 8, req[0]);
	memset(&g1, 0, sizeof(g1));
	hci_wire_init(&p);
	hci_wire_feed(&p, stream, len, on_rec, &g1);
	ok(p.st.bad_crc == 1 && g1.n == 1 && g1.type[0] == HCI_WT_REQ && g1.seq[0] == 8,
	   "a flipped seq bit fails the CRC; the next frame is delivered");

	/* version 0 over an otherwise valid frame, between two good ones */
	len = frame1(stream, HCI_WT_SYNC, 1, sync);
	len += frame1(stream + len, HCI_WT_SYNC, 2, sync);
	stream[len - 64 + 4] = 0;
	len += frame1(stream + len, HCI_WT_REQ, 3, req[0]);
	memset(&g1, 0, sizeof(g1));
	hci_wire_init(&p);
	hci_wire_feed(&p, stream, len, on_rec, &g1);
	is_int(p.st.bad_version, 1, "version 0 in a valid frame: bad_version counted");
	ok(g1.n == 2 && g1.seq[0] == 1 && g1.seq[1] == 3 && p.st.skipped == 64,
	   "the good frames around it are delivered, its 64 bytes skipped");
}

/* One bad header, then a good frame: the header alone is counted and skipped. */
static void test_bad_headers(void)
{
	static const struct {
		uint8_t version, type;
		uint16_t len;
		int which;	/* 0 version, 1 type, 2 length */
		const char *what;
	} t[] = {
		{2, HCI_WT_SYNC, 48, 0, "version 2"},
		{0, HCI_WT_SYNC, 48, 0, "version 0"},
		{255, HCI_WT_REQ, 64, 0, "version 255"},
		{1, 0, 48, 1, "type 0"},
		{1, HCI_WT_MAX + 1, 8, 1, "type 7"},
		{1, 200, 64, 1, "type 200"},
		{1, HCI_WT_REQ, 65, 2, "REQ len 65, not a multiple of 64"},
		{1, HCI_WT_APP, 100, 2, "APP len 100, not a multiple of 64"},
		{1, HCI_WT_HELLO, 2 * 152, 2, "HELLO len 304, two records of a single type"},
		{1, HCI_WT_BYE, 16, 2, "BYE len 16, two records of a single type"},
		{1, HCI_WT_SYNC, 40, 2, "SYNC len 40, short of its record"},
		{1, HCI_WT_APP, 0xFFFF, 2, "APP len 0xFFFF"},
		{1, HCI_WT_REQ, HCI_WIRE_MAX_PAYLOAD + 64, 2, "REQ len 4160, 65 records"},
		{1, HCI_WT_SYNC, 0, 2, "SYNC len 0"},
		{1, HCI_WT_REQ, 0, 2, "REQ len 0"},
	};
	struct hci_wire_parser p;
	uint8_t req[64];

	fill(req, sizeof(req));
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t want[3] = {0}, got[3];
		size_t len = HCI_WIRE_HDR;

		put_hdr(stream, t[i].version, t[i].type, t[i].len, 0);
		len += frame1(stream + len, HCI_WT_REQ, 1, req);
		memset(&g1, 0, sizeof(g1));
		hci_wire_init(&p);
		hci_wire_feed(&p, stream, len, on_rec, &g1);
		want[t[i].which] = 1;
		got[0] = p.st.bad_version;
		got[1] = p.st.bad_type;
		got[2] = p.st.bad_length;
		ok(!memcmp(got, want, sizeof(got)) && !p.st.bad_crc && p.st.skipped == HCI_WIRE_HDR &&
		   g1.n == 1 && g1.seq[0] == 1 && p.st.frames == 1,
		   "%s: counted as bad %s, 16 bytes skipped, the next frame delivered", t[i].what,
		   (const char *[]){ "version", "type", "length" }[t[i].which]);
	}
}

static void test_truncated(void)
{
	struct hci_wire_parser p;
	uint8_t req[63 * 64];
	size_t n;

	fill(req, sizeof(req));
	n = hci_wire_frame(stream, sizeof(stream), HCI_WT_REQ, 0, req, 63);
	memset(&g1, 0, sizeof(g1));
	hci_wire_init(&p);
	hci_wire_feed(&p, stream, n - 1, on_rec, &g1);
	ok(g1.n == 0 && p.st.frames == 0 && p.st.records == 0,
	   "a 63-record frame 1 byte short delivers nothing");
	ok(!p.st.skipped && !p.st.bad_crc && !p.st.bad_length, "and counts nothing as bad: it waits");
	is_int(p.have - p.start, n - 1, "the partial frame is held");
	hci_wire_feed(&p, stream + n - 1, 1, on_rec, &g1);
	is_int(g1.n, 63, "its last byte completes it: 63 records");

	memset(&g1, 0, sizeof(g1));
	hci_wire_init(&p);
	hci_wire_feed(&p, stream, HCI_WIRE_HDR - 1, on_rec, &g1);
	ok(g1.n == 0 && no_errors(&p.st), "a header 1 byte short delivers nothing");
	hci_wire_feed(&p, "HCI", 3, on_rec, &g1);
	ok(g1.n == 0 && p.st.frames == 0 && p.st.bad_version == 0,
	   "a header completed by stray bytes waits for its payload");
}

static void test_seq(void)
{
	struct hci_wire_parser p;
	uint8_t sync[48] = {0}, hello[152] = {0};
	static const uint32_t seqs[] = {0, 1, 5};
	size_t len = 0;

	for (size_t i = 0; i < 3; i++)
		len += frame1(stream + len, HCI_WT_SYNC, seqs[i], sync);
	hci_wire_init(&p);
	hci_wire_feed(&p, stream, len, NULL, NULL);
	is_int(p.st.frames, 3, "frames 0, 1, 5 all delivered");
	is_int(p.st.seq_gaps, 3, "frames 0, 1, 5: 3 missing (2, 3, 4)");
	is_int(p.st.restarts, 0, "and no restart");

	len = frame1(stream, HCI_WT_SYNC, 3, sync);
	hci_wire_feed(&p, stream, len, NULL, NULL);
	is_int(p.st.seq_gaps, 3, "a late, older frame is no new gap");

	hci_wire_init(&p);
	len = frame1(stream, HCI_WT_SYNC, 100, sync);
	hci_wire_feed(&p, stream, len, NULL, NULL);
	is_int(p.st.seq_gaps, 0, "joining a stream at seq 100 is no gap");

	len = 0;
	len += frame1(stream + len, HCI_WT_HELLO, 0, hello);
	len += frame1(stream + len, HCI_WT_SYNC, 1, sync);
	len += frame1(stream + len, HCI_WT_SYNC, 2, sync);
	len += frame1(stream + len, HCI_WT_HELLO, 0, hello);
	len += frame1(stream + len, HCI_WT_SYNC, 1, sync);
	len += frame1(stream + len, HCI_WT_SYNC, 0, sync);	/* not a HELLO: no restart */
	hci_wire_init(&p);
	hci_wire_feed(&p, stream, len, NULL, NULL);
	is_int(p.st.frames, 6, "HELLO 0, SYNC 1, SYNC 2, HELLO 0, SYNC 1, SYNC 0: all delivered");
	is_int(p.st.restarts, 1, "a seq-0 HELLO after frames is one restart");
	is_int(p.st.seq_gaps, 0, "a restart and a backwards seq are not gaps");
}

#define FLOOD (10u << 20)
#define EVERY 100000u

/* Flood records: byte j of record k of frame seq is seq * 31 + k * len + j. */
struct fcheck {
	size_t n, bytes, bad;
	uint32_t seq;
	size_t k;
};

static void on_flood(void *ctx, unsigned int type, uint32_t seq, const void *rec, size_t len)
{
	struct fcheck *c = ctx;
	const uint8_t *b = rec;

	if (!c->n || seq != c->seq)
		c->k = 0;
	c->seq = seq;
	for (size_t j = 0; j < len; j++)
		if (b[j] != (uint8_t)(seq * 31 + c->k * len + j))
			c->bad++;
	if (type != 1 + seq % HCI_WT_MAX || len != hci_wire_rec_size(type))
		c->bad++;
	c->k++;
	c->n++;
	c->bytes += len;
}

/*
 * A valid frame every ~100 KB of buf, of every type in turn, seq 0, 1, 2, ...
 * Returns how many; adds their records, bytes and the fake headers planted.
 */
static size_t plant_frames(uint8_t *buf, size_t *nrecs, size_t *frame_bytes, size_t *nfakes)
{
	uint8_t rec[HCI_WIRE_MAX_PAYLOAD];
	size_t nframes = 0;

	for (size_t at = EVERY; at + HCI_WIRE_MAX_FRAME < FLOOD; at += EVERY + xs64() % 4096) {
		unsigned int type = 1 + nframes % HCI_WT_MAX;
		size_t nrec = type == HCI_WT_REQ || type == HCI_WT_APP ? 1 + xs64() % 64 : 1;
		size_t n;

		for (size_t i = 0; i < sizeof(rec); i++)
			rec[i] = (uint8_t)(nframes * 31 + i);
		n = hci_wire_frame(buf + at, FLOOD - at, type, (uint32_t)nframes, rec, nrec);
		if (!n)
			break;
		/*
		 * Every third one has a plausible header 100 bytes before it: its
		 * 4096-byte payload swallows the real frame, then fails its CRC.
		 */
		if (nframes % 3 == 0) {
			put_hdr(buf + at - 100, 1, HCI_WT_REQ, HCI_WIRE_MAX_PAYLOAD, 0);
			(*nfakes)++;
		}
		*frame_bytes += n;
		*nrecs += nrec;
		nframes++;
	}
	return nframes;
}

static void test_flood(void)
{
	uint8_t *buf = malloc(FLOOD);
	struct hci_wire_parser *p = malloc(sizeof(*p));
	size_t nframes = 0, nrecs = 0, frame_bytes = 0, held_bad = 0, chunks = 0, nfakes = 0;
	const size_t size0 = sizeof(*p);
	struct fcheck c = {0};
	struct hci_wire_stats first;

	if (!buf || !p) {
		ok(0, "flood: out of memory");
		free(buf);
		free(p);
		return;
	}
	rng = 0x2545F4914F6CDD1Dull;
	fill(buf, FLOOD);
	nframes = plant_frames(buf, &nrecs, &frame_bytes, &nfakes);

	hci_wire_init(p);
	for (size_t off = 0; off < FLOOD; chunks++) {
		size_t n = 1 + xs64() % 65536;

		if (n > FLOOD - off)
			n = FLOOD - off;
		hci_wire_feed(p, buf + off, n, on_flood, &c);
		off += n;
		if (p->have > sizeof(p->buf) || p->start > p->have ||
		    p->have - p->start >= HCI_WIRE_MAX_FRAME)
			held_bad++;
	}
	printf("# flood: %zu frames planted, fed in %zu chunks; skipped %llu, bad crc %llu, "
	       "version %llu, type %llu, length %llu\n", nframes, chunks,
	       (unsigned long long)p->st.skipped, (unsigned long long)p->st.bad_crc,
	       (unsigned long long)p->st.bad_version, (unsigned long long)p->st.bad_type,
	       (unsigned long long)p->st.bad_length);
	ok(nframes > 100, "flood: over 100 frames planted in 10 MB of random bytes (%zu)", nframes);
	is_int(p->st.frames, nframes, "flood: every planted frame delivered");
	is_int(p->st.records, nrecs, "flood: every planted record delivered");
	is_int(c.n, nrecs, "flood: one callback per record");
	is_int(c.bad, 0, "flood: records arrive intact, with their frame's type");
	is_int(p->st.bad_crc, nfakes, "flood: each header planted before a frame fails its CRC");
	is_int(p->st.seq_gaps + p->st.restarts, 0, "flood: no sequence gap, no restart");
	is_int(p->st.bytes, FLOOD, "flood: stats.bytes is every byte fed");
	is_int(held_bad, 0, "flood: have <= sizeof buf and less than a frame held, after every feed");
	is_int(sizeof(*p), size0, "flood: the parser is still its fixed size");
	is_int(frame_bytes, p->st.frames * HCI_WIRE_HDR + c.bytes, "flood: delivered frame bytes add up");
	is_int(p->st.skipped + frame_bytes + (p->have - p->start), FLOOD,
	       "flood: every byte is skipped, in a delivered frame, or held");

	/* the same bytes in one call give the same result */
	first = p->st;
	hci_wire_init(p);
	hci_wire_feed(p, buf, FLOOD, NULL, NULL);
	ok(!memcmp(&first, &p->st, sizeof(first)), "flood: fed in one call, identical stats");
	free(p);
	free(buf);
}

int main(void)
{
	test_crc();
	test_roundtrip();
	test_encoder_refuses();
	test_garbage();
	test_bad_frames();
	test_bad_headers();
	test_truncated();
	test_seq();
	test_flood();
	return done_testing();
}
