// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Guest stream framing: encoder (guest side) and resynchronising parser (host
 * side). Pure code on byte buffers: the fuzz target drives hci_wire_feed().
 *
 * The parser holds at most one frame, read from p->start on. Anything that is not a valid frame at
 * the current position costs one byte and a counter, then the search for the
 * next magic goes on, so a guest that corrupts, truncates or floods the
 * stream loses its own records and nothing more.
 */
#include <string.h>
#include "hci_wire.h"

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;	/* Castagnoli, reflected */
		crc_table[i] = c;
	}
}

uint32_t hci_crc32c(uint32_t crc, const void *data, size_t n)
{
	const uint8_t *p = data;

	if (!crc_table[1])
		crc_init();
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

size_t hci_wire_rec_size(unsigned int type)
{
	switch (type) {
	case HCI_WT_HELLO: return sizeof(struct hci_w_hello);
	case HCI_WT_DISK: return sizeof(struct hci_w_disk);
	case HCI_WT_SYNC: return sizeof(struct hci_w_sync);
	case HCI_WT_REQ: return sizeof(struct hci_w_req);
	case HCI_WT_APP: return sizeof(struct hci_w_app);
	case HCI_WT_BYE: return sizeof(struct hci_w_bye);
	}
	return 0;
}

static int is_array(unsigned int type)
{
	return type == HCI_WT_REQ || type == HCI_WT_APP;
}

static uint32_t frame_crc(const uint8_t *hdr, const uint8_t *payload, size_t len)
{
	return hci_crc32c(hci_crc32c(0, hdr + 4, 8), payload, len);
}

size_t hci_wire_frame(void *out, size_t cap, unsigned int type, uint32_t seq,
		      const void *recs, size_t nrec)
{
	size_t rs = hci_wire_rec_size(type), len = rs * nrec;
	struct hci_wire_hdr h;
	uint8_t *o = out;

	/* nrec is bounded before rs * nrec is trusted: that product can wrap */
	if (!rs || !nrec || (nrec > 1 && !is_array(type)) || nrec > HCI_WIRE_MAX_PAYLOAD / rs ||
	    len > HCI_WIRE_MAX_PAYLOAD || HCI_WIRE_HDR + len > cap)
		return 0;
	h.magic = HCI_WIRE_MAGIC;
	h.version = HCI_WIRE_VERSION;
	h.type = (uint8_t)type;
	h.len = (uint16_t)len;
	h.seq = seq;
	h.crc = 0;
	memcpy(o, &h, sizeof(h));
	memcpy(o + HCI_WIRE_HDR, recs, len);
	h.crc = frame_crc(o, o + HCI_WIRE_HDR, len);
	memcpy(o, &h, sizeof(h));
	return HCI_WIRE_HDR + len;
}

void hci_wire_init(struct hci_wire_parser *p)
{
	memset(p, 0, sizeof(*p));
}

static void drop(struct hci_wire_parser *p, size_t n)
{
	p->start += n;
	if (p->start == p->have)
		p->start = p->have = 0;
}

/* Skip to the next possible magic; counts what was skipped. */
static void resync(struct hci_wire_parser *p)
{
	const uint8_t m0 = HCI_WIRE_MAGIC & 0xff;
	const uint8_t *q = memchr(p->buf + p->start + 1, m0, p->have - p->start - 1);
	size_t i = q ? (size_t)(q - (p->buf + p->start)) : p->have - p->start;

	p->st.skipped += i;
	drop(p, i);
}

static void deliver(struct hci_wire_parser *p, const struct hci_wire_hdr *h,
		    hci_wire_cb cb, void *ctx)
{
	size_t rs = hci_wire_rec_size(h->type);
	const uint8_t *pl = p->buf + p->start + HCI_WIRE_HDR;
	/* records are copied to aligned storage: the buffer offset is not */
	union {
		struct hci_w_hello hello;
		struct hci_w_req req;
		uint64_t align;
	} rec;

	if (h->seq == 0 && h->type == HCI_WT_HELLO && p->synced && p->next_seq)
		p->st.restarts++;
	else if (p->synced && h->seq != p->next_seq && h->seq - p->next_seq < 0x80000000u)
		p->st.seq_gaps += h->seq - p->next_seq;
	p->next_seq = h->seq + 1;
	p->synced = 1;
	p->st.frames++;
	for (size_t off = 0; off + rs <= h->len; off += rs) {
		memcpy(&rec, pl + off, rs);
		p->st.records++;
		if (cb)
			cb(ctx, h->type, h->seq, &rec, rs);
	}
}

/* Try to take one frame off the front. 0: need more bytes; 1: progress. */
static int step(struct hci_wire_parser *p, hci_wire_cb cb, void *ctx)
{
	const uint8_t *f = p->buf + p->start;
	size_t avail = p->have - p->start;
	struct hci_wire_hdr h;
	size_t rs;
	uint32_t magic;

	if (avail < sizeof(magic))
		return 0;
	memcpy(&magic, f, sizeof(magic));
	if (magic != HCI_WIRE_MAGIC) {
		resync(p);
		return 1;
	}
	if (avail < HCI_WIRE_HDR)
		return 0;
	memcpy(&h, f, sizeof(h));
	rs = hci_wire_rec_size(h.type);
	if (h.version != HCI_WIRE_VERSION) {
		p->st.bad_version++;
		resync(p);
		return 1;
	}
	if (!rs) {
		p->st.bad_type++;
		resync(p);
		return 1;
	}
	if (h.len > HCI_WIRE_MAX_PAYLOAD || !h.len || h.len % rs ||
	    (!is_array(h.type) && h.len != rs)) {
		p->st.bad_length++;
		resync(p);
		return 1;
	}
	if (avail < HCI_WIRE_HDR + (size_t)h.len)
		return 0;
	if (frame_crc(f, f + HCI_WIRE_HDR, h.len) != h.crc) {
		p->st.bad_crc++;
		resync(p);
		return 1;
	}
	deliver(p, &h, cb, ctx);
	drop(p, HCI_WIRE_HDR + h.len);
	return 1;
}

void hci_wire_feed(struct hci_wire_parser *p, const void *data, size_t n,
		   hci_wire_cb cb, void *ctx)
{
	const uint8_t *d = data;

	p->st.bytes += n;
	while (n) {
		size_t take;

		if (p->start) {
			/* at most one frame's worth moves per chunk taken */
			memmove(p->buf, p->buf + p->start, p->have - p->start);
			p->have -= p->start;
			p->start = 0;
		}
		take = sizeof(p->buf) - p->have;

		if (take > n)
			take = n;
		memcpy(p->buf + p->have, d, take);
		p->have += take;
		d += take;
		n -= take;
		while (step(p, cb, ctx))
			;
	}
}
