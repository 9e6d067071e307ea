/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reading an hcitrace record file (include/hci_record.h), one record at a
 * time, each decoded to the ring buffer's own structs, so that code which
 * takes live events takes recorded ones unchanged.
 *
 *	struct hci_rec_reader *rd;
 *	struct hci_rec rec;
 *	char err[256];
 *	int n;
 *
 *	if (hci_rec_open(path, &rd, err, sizeof(err)))
 *		fail(err);			// not a record file, newer version...
 *	while ((n = hci_rec_next(rd, &rec, err, sizeof(err))) > 0) {
 *		switch (rec.type) {
 *		case HCI_REC_REQ:  use(&rec.req);  break;	// also REQ_RAW
 *		case HCI_REC_VREQ: use(&rec.vreq); break;	// VMM requests
 *		case HCI_REC_CHAN: rec.chan: a guest channel, idx, VM, path
 *		case HCI_REC_CHAN_DATA: rec.data: channel rec.data.idx's bytes
 *			(rec.data.bytes, rec.data.len) read at rec.data.recv_ns;
 *			fed in order to hci_wire_feed they are the guest stream
 *		default: break;		// a type this caller does not need
 *		}
 *	}
 *	if (n < 0) fail(err);			// garbage: what and where
 *	if (hci_rec_cut_short(rd)) warn;	// no trailer: crash, kill -9
 *	hci_rec_close(rd);
 *
 * The guest channel chunks are HCI_REC_CHAN_DATA; the VMM request records
 * are HCI_REC_VREQ (rec.vreq is the struct hci_vevent the BPF side sent).
 * Unknown record types come back with their type and raw body, to skip.
 * Pointers in a record (names, bytes) are valid until the next call.
 * Keys are resolved by the reader: rec.req's key names its origin.
 */
#ifndef HCI_RECORD_READ_H
#define HCI_RECORD_READ_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "hci_record.h"

/* A key as a HCI_REC_KEY record defined it */
struct hci_rec_keyinfo {
	unsigned int idx;
	unsigned int kind;	/* HCI_REC_KEY_* */
	__u64 cgid;
	__u32 vmm_tgid;
	__u32 dev;
	const char *origin;	/* as resolved on the recording host */
	const char *dev_name;
};

struct hci_rec {
	unsigned int type;	/* enum hci_rec_type, or one this reader does not know */
	__u64 offset;		/* where in the file the record starts */
	const void *raw;	/* the record's bytes as in the file, header included */
	size_t len;
	/* the key a REQ, REQ_RAW, VREQ or HIST record refers to */
	const struct hci_rec_keyinfo *key;
	union {
		struct hci_rec_keyinfo newkey;	/* HCI_REC_KEY */
		struct hci_event req;		/* HCI_REC_REQ, HCI_REC_REQ_RAW */
		struct hci_vevent vreq;		/* HCI_REC_VREQ */
		struct {
			unsigned int counter;	/* enum hci_counter or HCI_REC_CNT_UNREAD */
			__u64 ns, count;
		} lost;				/* HCI_REC_LOST */
		struct {
			unsigned int idx;
			bool live;
			__u32 vm_tgid;
			const char *path, *origin;
		} chan;				/* HCI_REC_CHAN */
		struct {
			unsigned int idx;
			__u64 recv_ns;
			const __u8 *bytes;
			size_t len;
		} data;				/* HCI_REC_CHAN_DATA */
		struct {
			unsigned int op;	/* enum hci_op */
			const struct hci_hist_val *block;	/* one of the two */
			const struct hci_vmm_val *vmm;
		} hist;				/* HCI_REC_HIST */
		struct hci_rec_trailer trailer;	/* HCI_REC_TRAILER */
		struct {
			__u32 pid;
			bool more_images;
			char comm[16];
			const char *name, *drives;
		} vm;				/* HCI_REC_VM */
		struct {
			__u32 pid, dev;
			int fd;
			bool blockdev;
			__u64 ino, size;
			long extents;
			unsigned int nmap;
			const __u8 *map;	/* nmap x 3 __u64 (unaligned: memcpy) */
			const char *path;
		} image;			/* HCI_REC_IMAGE */
	};
};

struct hci_rec_reader;

/*
 * Opens @path ("-" is stdin) and reads its header. 0, or -errno with a
 * one-line message: -ENOENT etc., -EPROTO (not a record file: the magic),
 * -EPROTONOSUPPORT (a newer version), -EBADMSG (a broken header).
 */
int hci_rec_open(const char *path, struct hci_rec_reader **out, char *err, size_t errlen);
/* The same on an open stream, which the reader then owns (fmemopen in tests). */
int hci_rec_open_file(FILE *f, const char *name, struct hci_rec_reader **out, char *err,
		      size_t errlen);
/* The header, and its options string */
const struct hci_rec_file *hci_rec_header(const struct hci_rec_reader *rd);
const char *hci_rec_options(const struct hci_rec_reader *rd);
/*
 * The next record: 1 when @rec holds one, 0 at the end of the file (a
 * record cut off at the end is the end: see hci_rec_cut_short), -EBADMSG
 * with a one-line message for garbage (a length below its type's, a key
 * not defined, a record after the trailer), -EIO on a read error.
 */
int hci_rec_next(struct hci_rec_reader *rd, struct hci_rec *rec, char *err, size_t errlen);
/* After the end: true when the trailer was never reached */
bool hci_rec_cut_short(const struct hci_rec_reader *rd);
/* After the end: the bytes after the last whole record (0 when none) */
__u64 hci_rec_tail_bytes(const struct hci_rec_reader *rd);
/* Records read so far, and the key table (index -> key, NULL if undefined) */
__u64 hci_rec_count(const struct hci_rec_reader *rd);
const struct hci_rec_keyinfo *hci_rec_key(const struct hci_rec_reader *rd, unsigned int idx);
void hci_rec_close(struct hci_rec_reader *rd);

/* Decoding one compact request body into the ring's event (record.c writes it) */
void hci_rec_req_decode(const struct hci_rec_req *r, struct hci_event *e);
/* ... and encoding: false when it does not fit (then write HCI_REC_REQ_RAW) */
bool hci_rec_req_encode(const struct hci_event *e, __u16 key, struct hci_rec_req *r);
/* @fmt into @err (errlen bytes); returns @code. For the writer's errors too. */
int hci_rec_fail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#endif
