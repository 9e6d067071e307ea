// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The record file's writer (record.h). At 250K requests a second the cost
 * is in the per-event path, so that path is a key lookup that nearly
 * always hits the last key, a 44-byte copy into a 1 MiB buffer, and one
 * write(2) per MiB. A write that fails is kept as the writer's error and
 * said at close: the file is then cut short, never silently.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "record.h"
#include "record_read.h"

#define BUF_BYTES (1u << 20)
#define KEY_SLOTS (1u << 17)	/* twice the keys a file can name: short probes */

struct key_slot {
	__u64 cgid;
	__u32 vmm_tgid, dev;
	__u16 kind, idx;
	bool used;
};

struct hci_rec_writer {
	int fd;
	int err;		/* first write error, -errno */
	char *path;
	__u8 *buf;
	size_t used;
	__u64 nrec;
	__u64 flushed_ns;	/* hci_rec_writer_tick's last flush */
	hci_rec_namer namer;
	void *ctx;
	unsigned int nkeys;
	struct key_slot *last;	/* the key the last request had */
	struct key_slot slots[KEY_SLOTS];
};

static void flush_buf(struct hci_rec_writer *w)
{
	size_t done = 0;

	while (done < w->used && !w->err) {
		ssize_t n = write(w->fd, w->buf + done, w->used - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			w->err = n < 0 ? -errno : -EIO;
		else
			done += (size_t)n;
	}
	w->used = 0;
}

/* Room for @len bytes in the buffer; the record is copied there by the caller */
static void *room(struct hci_rec_writer *w, size_t len)
{
	void *p;

	if (w->used + len > BUF_BYTES)
		flush_buf(w);
	p = w->buf + w->used;
	w->used += len;
	w->nrec++;
	return p;
}

static void put(struct hci_rec_writer *w, const void *rec, size_t len)
{
	memcpy(room(w, len), rec, len);
}

static __u64 key_hash(unsigned int kind, __u64 cgid, __u32 tgid, __u32 dev)
{
	__u64 h = cgid * 0x9e3779b97f4a7c15ULL ^ ((__u64)tgid << 32 | dev) * 0xc2b2ae3d27d4eb4fULL;

	return (h ^ (h >> 29) ^ kind) & (KEY_SLOTS - 1);
}

/* Names a new key in the file: HCI_REC_KEY, with its two names */
static void write_key(struct hci_rec_writer *w, const struct key_slot *s)
{
	char origin[HCI_REC_NAME_MAX], dev[HCI_REC_NAME_MAX];
	struct hci_rec_key k = {
		.h.type = HCI_REC_KEY, .idx = s->idx, .kind = s->kind,
		.vmm_tgid = s->vmm_tgid, .dev = s->dev, .cgid = s->cgid,
	};
	size_t lo, ld;
	__u8 *p;

	origin[0] = dev[0] = '\0';
	w->namer(w->ctx, s->kind, s->cgid, s->vmm_tgid, s->dev, origin, sizeof(origin), dev,
		 sizeof(dev));
	origin[sizeof(origin) - 1] = dev[sizeof(dev) - 1] = '\0';
	lo = strlen(origin) + 1;
	ld = strlen(dev) + 1;
	k.h.len = (__u16)(sizeof(k) + lo + ld);
	p = room(w, k.h.len);
	memcpy(p, &k, sizeof(k));
	memcpy(p + sizeof(k), origin, lo);
	memcpy(p + sizeof(k) + lo, dev, ld);
}

/* The index of a key, named in the file when first seen; KEY_NONE when full */
static __u16 key_of(struct hci_rec_writer *w, unsigned int kind, __u64 cgid, __u32 tgid,
		    __u32 dev)
{
	struct key_slot *s = w->last;

	if (s && s->cgid == cgid && s->vmm_tgid == tgid && s->dev == dev && s->kind == kind)
		return s->idx;
	for (__u64 h = key_hash(kind, cgid, tgid, dev);; h = (h + 1) & (KEY_SLOTS - 1)) {
		s = &w->slots[h];
		if (!s->used)
			break;
		if (s->cgid == cgid && s->vmm_tgid == tgid && s->dev == dev && s->kind == kind) {
			w->last = s;
			return s->idx;
		}
	}
	if (w->nkeys >= HCI_REC_KEY_NONE)
		return HCI_REC_KEY_NONE;
	*s = (struct key_slot){ .cgid = cgid, .vmm_tgid = tgid, .dev = dev, .kind = (__u16)kind,
				.idx = (__u16)w->nkeys++, .used = true };
	write_key(w, s);
	w->last = s;
	return s->idx;
}

void hci_rec_write_req(struct hci_rec_writer *w, const struct hci_event *e)
{
	__u16 key = key_of(w, HCI_REC_KEY_BLOCK, e->cgid, e->vmm_tgid, e->dev);
	struct hci_rec_req *r;

	/* encoded in place: a request that does not fit takes its room back */
	r = room(w, sizeof(*r));
	if (hci_rec_req_encode(e, key, r))
		return;
	w->used -= sizeof(*r);
	w->nrec--;
	struct hci_rec_req_raw *raw = room(w, sizeof(*raw));

	raw->h.type = HCI_REC_REQ_RAW;
	raw->h.len = sizeof(*raw);
	raw->key = key;
	raw->pad = 0;
	memcpy(raw->e, e, sizeof(raw->e));
}

void hci_rec_write_vreq(struct hci_rec_writer *w, const struct hci_vevent *e)
{
	struct hci_rec_vreq r = {
		.h = { HCI_REC_VREQ, sizeof(r) },
		.key = key_of(w, HCI_REC_KEY_VMM, 0, e->vmm_tgid, e->dev),
	};

	memcpy(&r.e, e, sizeof(*e));
	put(w, &r, sizeof(r));
}

void hci_rec_write_lost(struct hci_rec_writer *w, unsigned int counter, __u64 ns, __u64 count)
{
	struct hci_rec_lost r = {
		.h = { HCI_REC_LOST, sizeof(r) }, .counter = counter, .ns = ns, .count = count,
	};

	if (count)
		put(w, &r, sizeof(r));
}

void hci_rec_write_chan(struct hci_rec_writer *w, unsigned int idx, bool live, __u32 vm_tgid,
			const char *path, const char *origin)
{
	size_t lp = strnlen(path, 4095) + 1, lo = strnlen(origin, 255) + 1;
	struct hci_rec_chan c = {
		.h = { HCI_REC_CHAN, (__u16)(sizeof(c) + lp + lo) },
		.idx = (__u16)idx, .live = live, .vm_tgid = vm_tgid,
	};
	__u8 *p = room(w, c.h.len);

	memcpy(p, &c, sizeof(c));
	memcpy(p + sizeof(c), path, lp - 1);
	p[sizeof(c) + lp - 1] = '\0';
	memcpy(p + sizeof(c) + lp, origin, lo - 1);
	p[sizeof(c) + lp + lo - 1] = '\0';
}

void hci_rec_write_chan_data(struct hci_rec_writer *w, unsigned int idx, __u64 recv_ns,
			     const void *bytes, size_t len)
{
	const size_t max = HCI_REC_MAX_LEN - sizeof(struct hci_rec_chan_data);

	/* one read, in as many records as it takes, all with its receipt time */
	while (len) {
		size_t n = len < max ? len : max;
		struct hci_rec_chan_data d = {
			.h = { HCI_REC_CHAN_DATA, (__u16)(sizeof(d) + n) },
			.idx = (__u16)idx, .recv_ns = recv_ns,
		};
		__u8 *p = room(w, d.h.len);

		memcpy(p, &d, sizeof(d));
		memcpy(p + sizeof(d), bytes, n);
		bytes = (const __u8 *)bytes + n;
		len -= n;
	}
}

void hci_rec_write_hist(struct hci_rec_writer *w, unsigned int kind, __u64 cgid,
			__u32 vmm_tgid, __u32 dev, __u32 op, const void *val)
{
	size_t vlen = kind == HCI_REC_KEY_BLOCK ? sizeof(struct hci_hist_val)
						: sizeof(struct hci_vmm_val);
	struct hci_rec_hist h = {
		.h = { HCI_REC_HIST, (__u16)(sizeof(h) + vlen) },
		.key = key_of(w, kind, cgid, vmm_tgid, dev), .op = (__u16)op,
	};
	__u8 *p;

	if (h.key == HCI_REC_KEY_NONE)
		return;	/* a histogram names its key, or is worth nothing */
	p = room(w, h.h.len);
	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), val, vlen);
}

void hci_rec_writer_set_start(struct hci_rec_writer *w, __u64 t0_ns, __u64 t0_real_ns)
{
	const __u64 t[2] = { t0_ns, t0_real_ns };

	_Static_assert(offsetof(struct hci_rec_file, t0_real_ns) ==
		       offsetof(struct hci_rec_file, t0_ns) + 8, "start times side by side");
	if (pwrite(w->fd, t, sizeof(t), offsetof(struct hci_rec_file, t0_ns)) != sizeof(t) &&
	    !w->err)
		w->err = -EIO;
}

void hci_rec_write_vm(struct hci_rec_writer *w, __u32 pid, bool more_images, const char *comm,
		      const char *name, const char *drives)
{
	size_t ln = strnlen(name, 1023) + 1, ld = strnlen(drives, 4095) + 1;
	struct hci_rec_vm v = {
		.h = { HCI_REC_VM, (__u16)(sizeof(v) + ln + ld) },
		.pid = pid, .more_images = more_images,
	};
	__u8 *p;

	strncpy(v.comm, comm, sizeof(v.comm) - 1);
	p = room(w, v.h.len);
	memcpy(p, &v, sizeof(v));
	memcpy(p + sizeof(v), name, ln - 1);
	p[sizeof(v) + ln - 1] = '\0';
	memcpy(p + sizeof(v) + ln, drives, ld - 1);
	p[sizeof(v) + ln + ld - 1] = '\0';
}

void hci_rec_write_image(struct hci_rec_writer *w, const struct hci_rec_image *im,
			 const void *map, const char *path)
{
	size_t lp = strnlen(path, 4095) + 1, lm = (size_t)im->nmap * 24;
	struct hci_rec_image r = *im;
	__u8 *p;

	if (im->nmap > 1024)
		return;	/* more than any image keeps (HCI_IMAGE_EXTENTS) */
	r.h.type = HCI_REC_IMAGE;
	r.h.len = (__u16)(sizeof(r) + lm + lp);
	p = room(w, r.h.len);
	memcpy(p, &r, sizeof(r));
	memcpy(p + sizeof(r), map, lm);
	memcpy(p + sizeof(r) + lm, path, lp - 1);
	p[sizeof(r) + lm + lp - 1] = '\0';
}

void hci_rec_writer_tick(struct hci_rec_writer *w, __u64 now)
{
	if (now - w->flushed_ns < 1000000000ULL)
		return;
	w->flushed_ns = now;
	flush_buf(w);
}

__u64 hci_rec_written(const struct hci_rec_writer *w)
{
	return w->nrec;
}

int hci_rec_writer_open(struct hci_rec_writer **out, const char *path, struct hci_rec_file *hdr,
			const char *opts, hci_rec_namer namer, void *ctx, char *err,
			size_t errlen)
{
	struct hci_rec_writer *w = calloc(1, sizeof(*w));
	size_t olen = strlen(opts) + 1;

	*out = NULL;
	if (!w || !(w->buf = malloc(BUF_BYTES)) || !(w->path = strdup(path))) {
		if (w)
			free(w->buf);
		free(w);
		return hci_rec_fail(err, errlen, -ENOMEM, "out of memory");
	}
	if (olen > 4096)
		olen = 4096;
	w->namer = namer;
	w->ctx = ctx;
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		int e = -errno;

		free(w->buf);
		free(w->path);
		free(w);
		return hci_rec_fail(err, errlen, e, "cannot create %s: %s", path, strerror(-e));
	}
	memcpy(hdr->magic, HCI_REC_MAGIC, sizeof(hdr->magic));
	hdr->version = HCI_REC_VERSION;
	hdr->bom = HCI_REC_BOM;
	hdr->clock = HCI_REC_CLOCK_MONOTONIC;
	hdr->opts_len = (__u32)olen;
	hdr->hdr_len = (__u16)(sizeof(*hdr) + olen);
	memcpy(w->buf, hdr, sizeof(*hdr));
	memcpy(w->buf + sizeof(*hdr), opts, olen - 1);
	w->buf[sizeof(*hdr) + olen - 1] = '\0';
	w->used = sizeof(*hdr) + olen;
	/* the header on disk at once: a run killed early still names itself */
	flush_buf(w);
	*out = w;
	return 0;
}

int hci_rec_writer_close(struct hci_rec_writer *w, const __u64 *counters, __u64 end_ns,
			 char *err, size_t errlen)
{
	int e;

	if (!w)
		return 0;
	if (counters) {
		struct hci_rec_trailer t = {
			.h = { HCI_REC_TRAILER, sizeof(t) },
			.ncounters = HCI_REC_NCOUNTERS, .end_ns = end_ns, .nrecords = w->nrec,
		};

		memcpy(t.counters, counters, sizeof(t.counters));
		put(w, &t, sizeof(t));
	}
	flush_buf(w);
	if (close(w->fd) && !w->err)
		w->err = -errno;
	e = w->err;
	if (e)
		hci_rec_fail(err, errlen, e, "writing %s: %s (the record file is cut short)", w->path,
		     strerror(-e));
	free(w->buf);
	free(w->path);
	free(w);
	return e;
}
