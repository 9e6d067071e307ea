/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The hcitrace record file (hcitrace --record FILE, read back by hcitrace
 * report FILE), format version 1; docs/formats.md says it in prose.
 *
 * Why a file of its own and not the BPF events as they come: the live -p
 * text path cannot keep up at NVMe rates, and a record kept for later must
 * name everything without the host it came from. So the file is a header,
 * then records, each with a small common header (type, length) so that a
 * reader skips the types it does not know, then a trailer:
 *
 *   struct hci_rec_file  magic, version, header length, clock, start times,
 *                        host, hcitrace version, the options that shaped it
 *   records              struct hci_rec_hdr + body, back to back, no padding
 *   HCI_REC_TRAILER      the final BPF counters; its absence means the file
 *                        was cut short (crash, kill -9, disk full)
 *
 * Compact where it pays: a block request is 44 bytes, not the ring's 96.
 * Its origin and disk are one 16-bit index into a HCI_REC_KEY record,
 * written once when first seen (cgroup id, VMM tgid, dev, and their names
 * as resolved on the host: origin and disk name); its stage points are
 * 32-bit distances back from its completion. A request whose points do not
 * fit (a stage over 4.29 s, a stamp a hair after its completion from
 * another CPU) is written whole as HCI_REC_REQ_RAW; none is ever dropped.
 *
 * Little-endian, native x86_64 layouts; every struct's size is pinned.
 */
#ifndef HCI_RECORD_H
#define HCI_RECORD_H

#include "hci_abi.h"

#define HCI_REC_MAGIC "HCIREC\r\n"	/* 8 bytes; \r\n catches text-mode copies */
#define HCI_REC_VERSION 1
#define HCI_REC_BOM 0x01020304u		/* reads 0x04030201 on the wrong byte order */

enum hci_rec_clock {
	HCI_REC_CLOCK_MONOTONIC = 1,	/* every *_ns in the file */
};

/* struct hci_rec_file.flags: how the trace was run */
#define HCI_REC_F_PER_REQUEST	(1u << 0)	/* -p was given too */
#define HCI_REC_F_VMM		(1u << 1)	/* --vmm: VMM requests recorded */
#define HCI_REC_F_RAW_TP	(1u << 2)
#define HCI_REC_F_RB_AUTO	(1u << 3)	/* ring size picked by the tool */

/*
 * The file header. hdr_len is its whole length, options string included;
 * records start there. A reader takes the fields it knows and skips the
 * rest, so later versions may grow it.
 */
struct hci_rec_file {
	char magic[8];		/* HCI_REC_MAGIC */
	__u16 version;		/* HCI_REC_VERSION */
	__u16 hdr_len;		/* sizeof(struct hci_rec_file) + opts_len */
	__u32 bom;		/* HCI_REC_BOM */
	__u32 clock;		/* enum hci_rec_clock */
	__u32 flags;		/* HCI_REC_F_* */
	__u64 t0_ns;		/* start of tracing, CLOCK_MONOTONIC */
	__u64 t0_real_ns;	/* CLOCK_REALTIME at the same moment */
	__u32 ncpus;
	__u32 rb_kib;		/* the BPF ring buffer's size */
	__u32 dev;		/* -d filter (HCI_DEV_MKDEV), 0 = all disks */
	__u32 vm_tgid;		/* --vm / channel VM, 0 = all */
	__u64 cgid;		/* -c filter, 0 = all */
	__u32 nchans;		/* --guest-channel streams */
	__u32 opts_len;		/* bytes of options after this struct, NUL included */
	char host[64];		/* uname nodename */
	char version_str[64];	/* argp_program_version */
	/* then: the command line's options, one NUL-terminated string */
};
_Static_assert(sizeof(struct hci_rec_file) == 200, "record file header layout");

enum hci_rec_type {
	HCI_REC_KEY = 1,	/* a new origin x disk index (naming) */
	HCI_REC_REQ = 2,	/* one block request, compact */
	HCI_REC_REQ_RAW = 3,	/* one block request, the BPF event whole */
	HCI_REC_VREQ = 4,	/* one VMM request (--vmm), the BPF event whole */
	HCI_REC_LOST = 5,	/* a loss, in place */
	HCI_REC_CHAN = 6,	/* a guest channel: opened (path, VM, origin) */
	HCI_REC_CHAN_DATA = 7,	/* a guest channel's bytes, with their receipt time */
	HCI_REC_HIST = 8,	/* a final BPF histogram value (what records lack) */
	HCI_REC_TRAILER = 9,	/* the end: final counters */
	HCI_REC_VM = 10,	/* a VMM process seen (naming: its name, drives) */
	HCI_REC_IMAGE = 11,	/* one of its open images, with its first extents */
	HCI_REC_NTYPES,
};

/* Every record starts so; len counts the header too (at least 4). */
struct hci_rec_hdr {
	__u16 type;		/* enum hci_rec_type */
	__u16 len;
};
_Static_assert(sizeof(struct hci_rec_hdr) == 4, "record header layout");

#define HCI_REC_MAX_LEN 65535u
/* A key index for requests past the 65535th origin x disk: not named */
#define HCI_REC_KEY_NONE 0xffffu
#define HCI_REC_NAME_MAX 256	/* origin and disk names, NUL included */

/* HCI_REC_KEY kinds */
#define HCI_REC_KEY_BLOCK 0	/* block requests: cgid, vmm_tgid, dev */
#define HCI_REC_KEY_VMM 1	/* VMM requests: vmm_tgid, dev */

/*
 * HCI_REC_KEY: index @idx names (kind, cgid, vmm_tgid, dev) from here on.
 * The body ends with two NUL-terminated strings: the origin as resolved
 * on the host (vm:NAME, container:ID, host:PATH) and the disk's name.
 */
struct hci_rec_key {
	struct hci_rec_hdr h;
	__u16 idx;
	__u16 kind;		/* HCI_REC_KEY_* */
	__u32 vmm_tgid;
	__u32 dev;
	__u64 cgid;
	/* then: origin "\0" disk "\0" */
} __attribute__((packed));
_Static_assert(sizeof(struct hci_rec_key) == 24, "key record layout");

#define HCI_REC_NO_POINT 0u	/* a back distance of 0: the point was not seen */

/*
 * HCI_REC_REQ: a block request. back_x = ts_c - ts_x + 1 for the points
 * Q G I D, HCI_REC_NO_POINT where the request has no such point (its
 * HCI_HAVE_* flag is clear, or its stamp is 0).
 */
struct hci_rec_req {
	struct hci_rec_hdr h;
	__u8 flags;		/* HCI_HAVE_*, HCI_BIO_BASED */
	__u8 op;		/* enum hci_op */
	__u16 key;		/* a HCI_REC_KEY_BLOCK index */
	__u32 bytes;
	__u64 sector;
	__u64 ts_c;
	__u32 back_q, back_g, back_i, back_d;
} __attribute__((packed));
_Static_assert(sizeof(struct hci_rec_req) == 44, "request record layout");

/*
 * HCI_REC_REQ_RAW: key index, then the ring's struct hci_event as version 1
 * laid it out: its first HCI_EVENT_V1_BYTES (everything before pid, which a
 * record does not keep).
 */
struct hci_rec_req_raw {
	struct hci_rec_hdr h;
	__u16 key;
	__u16 pad;
	unsigned char e[HCI_EVENT_V1_BYTES];
} __attribute__((packed));
_Static_assert(__builtin_offsetof(struct hci_event, pid) == HCI_EVENT_V1_BYTES,
	       "a raw request record is the event up to pid");
_Static_assert(sizeof(struct hci_rec_req_raw) == 104, "raw request record layout");

/* HCI_REC_VREQ: key index (HCI_REC_KEY_VMM), then the ring's struct hci_vevent. */
struct hci_rec_vreq {
	struct hci_rec_hdr h;
	__u16 key;
	__u16 pad;
	struct hci_vevent e;
} __attribute__((packed));
_Static_assert(sizeof(struct hci_rec_vreq) == 96, "VMM request record layout");

/*
 * HCI_REC_LOST: @count events of counter @counter were lost at @ns, after
 * the record before. Counters are enum hci_counter (HCI_CNT_RB_LOST is
 * "ringbuf_full"), or HCI_REC_CNT_UNREAD: left in the ring at stop.
 */
#define HCI_REC_CNT_UNREAD (HCI_NCOUNTERS + 1)
#define HCI_REC_NCOUNTERS (HCI_NCOUNTERS + 2)	/* as the live "lost" object */

struct hci_rec_lost {
	struct hci_rec_hdr h;
	__u32 counter;
	__u64 ns;
	__u64 count;
} __attribute__((packed));
_Static_assert(sizeof(struct hci_rec_lost) == 24, "loss record layout");

/*
 * HCI_REC_CHAN: guest channel @idx is (the order of --guest-channel),
 * read for VM @vm_tgid. Then: path "\0" origin "\0".
 */
struct hci_rec_chan {
	struct hci_rec_hdr h;
	__u16 idx;
	__u8 live;		/* socket/FIFO/device: receipt times bound the clock */
	__u8 pad;
	__u32 vm_tgid;
	/* then: path "\0" origin "\0" */
} __attribute__((packed));
_Static_assert(sizeof(struct hci_rec_chan) == 12, "channel record layout");

/* HCI_REC_CHAN_DATA: bytes read from channel @idx at @recv_ns, as read. */
struct hci_rec_chan_data {
	struct hci_rec_hdr h;
	__u16 idx;
	__u16 pad;
	__u64 recv_ns;
	/* then: the bytes (h.len - sizeof(this)) */
} __attribute__((packed));
_Static_assert(sizeof(struct hci_rec_chan_data) == 16, "channel data record layout");

/*
 * HCI_REC_HIST: key @key's final BPF histogram value for @op, written at the end.
 * Records carry what a request's own stamps say; merges, splits, requeues
 * and rq_merges are per-origin counts the ring never carries. They come
 * from here, and the rest of it lets a reader check its own sums.
 * Then: struct hci_hist_val (HCI_REC_KEY_BLOCK) or struct hci_vmm_val.
 */
struct hci_rec_hist {
	struct hci_rec_hdr h;
	__u16 key;
	__u16 op;		/* enum hci_op: the BPF map's key has it */
} __attribute__((packed));
_Static_assert(sizeof(struct hci_rec_hist) == 8, "hist record layout");

/* HCI_REC_TRAILER: the last record; the live "lost" object's counters. */
struct hci_rec_trailer {
	struct hci_rec_hdr h;
	__u32 ncounters;	/* HCI_REC_NCOUNTERS */
	__u64 end_ns;		/* end of tracing, CLOCK_MONOTONIC */
	__u64 nrecords;		/* records before this one */
	__u64 counters[HCI_REC_NCOUNTERS];
} __attribute__((packed));
_Static_assert(sizeof(struct hci_rec_trailer) == 24 + 8 * HCI_REC_NCOUNTERS,
	       "trailer layout");

/*
 * HCI_REC_VM: a VMM process as the live run knew it at the end (its VM
 * list, "vms"). Then: name "\0" drives "\0". Its images follow.
 */
struct hci_rec_vm {
	struct hci_rec_hdr h;
	__u32 pid;
	__u8 more_images;	/* it had more open images than were listed */
	__u8 pad[3];
	char comm[16];
} __attribute__((packed));
_Static_assert(sizeof(struct hci_rec_vm) == 28, "VM record layout");

/*
 * HCI_REC_IMAGE: an image file VMM @pid had open, so that a VMM request's
 * (dev, ino) names its image and its offset a sector of the disk. Then:
 * nmap extents (logical, physical, length: 3 x __u64 each), path "\0".
 */
struct hci_rec_image {
	struct hci_rec_hdr h;
	__u32 pid;
	__s32 fd;
	__u32 dev;
	__u8 blockdev;
	__u8 pad;
	__u16 nmap;		/* extents that follow (the first ones) */
	__u64 ino;
	__u64 size;
	__s64 extents;		/* FIEMAP extents in all, -1 if unknown */
} __attribute__((packed));
_Static_assert(sizeof(struct hci_rec_image) == 44, "image record layout");

#endif /* HCI_RECORD_H */
