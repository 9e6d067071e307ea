/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The guest -> host trace stream (docs/formats.md, "Guest wire format").
 *
 * A stream of frames, each a 16-byte header and a payload of at most
 * HCI_WIRE_MAX_PAYLOAD bytes. All integers are little-endian. The host
 * treats every byte as untrusted: a frame is delivered only when its magic,
 * version, type, length (exact for the type) and CRC-32C all check, and its
 * records are then validated field by field before use. Nothing in a record
 * is ever used as an address or an index without a bounds check.
 */
#ifndef HCI_WIRE_H
#define HCI_WIRE_H

#include <stddef.h>
#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the wire format is little-endian; add byte swapping for this target"
#endif

#define HCI_WIRE_MAGIC 0x57494348u	/* "HCIW" as bytes */
#define HCI_WIRE_VERSION 1
#define HCI_WIRE_HDR 16
#define HCI_WIRE_MAX_PAYLOAD 4096
#define HCI_WIRE_MAX_FRAME (HCI_WIRE_HDR + HCI_WIRE_MAX_PAYLOAD)

struct hci_wire_hdr {
	uint32_t magic;
	uint8_t version;
	uint8_t type;		/* enum hci_wire_type */
	uint16_t len;		/* payload bytes */
	uint32_t seq;		/* frame number in this stream, from 0 */
	uint32_t crc;		/* CRC-32C of header bytes 4..11, then the payload */
};
_Static_assert(sizeof(struct hci_wire_hdr) == HCI_WIRE_HDR, "wire header layout");

enum hci_wire_type {
	HCI_WT_HELLO = 1,	/* who the guest is; sent first, then every second */
	HCI_WT_DISK = 2,	/* one guest disk; sent with each HELLO */
	HCI_WT_SYNC = 3,	/* guest clock and stream counters, every 100 ms */
	HCI_WT_REQ = 4,		/* 1..64 completed guest block requests */
	HCI_WT_APP = 5,		/* 1..64 application reads/writes */
	HCI_WT_BYE = 6,		/* the guest tracer stops */
	HCI_WT_MAX = HCI_WT_BYE,
};

struct hci_w_hello {
	uint64_t mono_ns;	/* guest CLOCK_MONOTONIC when sent */
	uint64_t real_ns;	/* guest CLOCK_REALTIME when sent */
	uint32_t ncpus;
	uint32_t flags;		/* HCI_WF_* */
	char release[64];	/* guest uname -r, NUL-padded (not trusted to be) */
	char host[64];		/* guest hostname */
};
_Static_assert(sizeof(struct hci_w_hello) == 152, "hello layout");

#define HCI_WF_APP (1u << 0)	/* application I/O is traced (APP records) */
#define HCI_WF_TSC (1u << 1)	/* SYNC.tsc is the guest's TSC */

struct hci_w_disk {
	uint32_t dev;		/* guest dev_t, HCI_DEV_MKDEV encoding */
	uint32_t lbs;		/* logical block size */
	uint64_t bytes;		/* capacity */
	char name[32];		/* e.g. "vda" */
	char serial[32];	/* virtio-blk serial, "" if none */
};
_Static_assert(sizeof(struct hci_w_disk) == 80, "disk layout");

struct hci_w_sync {
	uint64_t mono_ns;	/* guest CLOCK_MONOTONIC just before the write */
	uint64_t tsc;		/* guest TSC read next to mono_ns (HCI_WF_TSC) */
	uint64_t reqs;		/* REQ records produced so far */
	uint64_t apps;		/* APP records produced so far */
	uint64_t dropped;	/* records the guest could not send (channel full) */
	uint64_t bpf_lost;	/* the guest tracer's own incomplete-event counters */
};
_Static_assert(sizeof(struct hci_w_sync) == 48, "sync layout");

struct hci_w_req {
	uint32_t dev;
	uint32_t flags;		/* HCI_HAVE_*, HCI_BIO_BASED */
	uint32_t op;		/* enum hci_op */
	uint32_t bytes;
	uint64_t sector;	/* 512-byte sectors */
	uint64_t ts_q, ts_g, ts_i, ts_d, ts_c;	/* guest CLOCK_MONOTONIC ns, 0 = absent */
};
_Static_assert(sizeof(struct hci_w_req) == 64, "req layout");

struct hci_w_app {
	uint32_t tgid;
	uint32_t op;		/* HCI_OP_READ or HCI_OP_WRITE */
	uint32_t dev;		/* file system dev (or the block device's rdev) */
	uint32_t pad;
	uint64_t ino;
	uint64_t off;		/* file offset of the first byte */
	uint64_t bytes;		/* bytes the call returned */
	uint64_t ts;		/* guest CLOCK_MONOTONIC at return */
	char comm[16];
};
_Static_assert(sizeof(struct hci_w_app) == 64, "app layout");

struct hci_w_bye {
	uint64_t mono_ns;
};
_Static_assert(sizeof(struct hci_w_bye) == 8, "bye layout");

#define HCI_WIRE_MAX_RECS (HCI_WIRE_MAX_PAYLOAD / 64)

/* What a host paid for a bad stream; nothing else is spent on it. */
struct hci_wire_stats {
	uint64_t frames;	/* valid frames delivered */
	uint64_t records;	/* records in them */
	uint64_t bytes;		/* bytes fed */
	uint64_t skipped;	/* bytes dropped while looking for a frame */
	uint64_t bad_version;
	uint64_t bad_type;
	uint64_t bad_length;	/* oversized, or wrong for its type */
	uint64_t bad_crc;
	uint64_t seq_gaps;	/* frames missing by sequence number */
	uint64_t restarts;	/* streams that started over (seq 0 HELLO) */
};

struct hci_wire_parser {
	uint8_t buf[HCI_WIRE_MAX_FRAME];
	size_t start;		/* first byte not yet consumed */
	size_t have;		/* end of the bytes held */
	uint32_t next_seq;
	int synced;		/* next_seq is known */
	struct hci_wire_stats st;
};

/* One record of a delivered frame: REQ/APP frames give one call per record. */
typedef void (*hci_wire_cb)(void *ctx, unsigned int type, uint32_t seq,
			    const void *rec, size_t len);

uint32_t hci_crc32c(uint32_t crc, const void *data, size_t n);
size_t hci_wire_rec_size(unsigned int type);
void hci_wire_init(struct hci_wire_parser *p);
/* Consumes all n bytes; memory use is the parser itself, whatever comes in. */
void hci_wire_feed(struct hci_wire_parser *p, const void *data, size_t n,
		   hci_wire_cb cb, void *ctx);
/*
 * Encodes one frame of nrec records into out (cap bytes). Returns the frame's
 * size, or 0 if it does not fit or the type/record count is not allowed.
 */
size_t hci_wire_frame(void *out, size_t cap, unsigned int type, uint32_t seq,
		      const void *recs, size_t nrec);

#endif
