// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The record file's reader (record_read.h) and the compact request
 * encoding both sides share. Everything read is checked against its
 * type's length before it is looked at: a file is input, not trusted.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "record_read.h"

struct hci_rec_reader {
	FILE *f;
	char *name;
	struct hci_rec_file hdr;
	char *opts;
	__u8 *buf;		/* one record, HCI_REC_MAX_LEN bytes (malloc: aligned) */
	__u64 off;		/* file offset of the next record */
	__u64 nrec;
	__u64 tail;		/* bytes of a record cut off at the end */
	bool trailer, ended;
	/* index -> key, grown to the highest index defined (a file names few) */
	struct hci_rec_keyinfo **keys;
	size_t nkeys;
};

static struct hci_rec_keyinfo *key_at(const struct hci_rec_reader *rd, size_t idx)
{
	return idx < rd->nkeys ? rd->keys[idx] : NULL;
}

/* @fmt into @err; returns @code (the writer's errors too) */
int hci_rec_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

/* How many bytes fread gave; short only at the end of the file or on errors */
static size_t read_n(struct hci_rec_reader *rd, void *p, size_t n)
{
	return fread(p, 1, n, rd->f);
}

static int read_header(struct hci_rec_reader *rd, char *err, size_t errlen)
{
	struct hci_rec_file *h = &rd->hdr;
	size_t got = read_n(rd, h, sizeof(*h)), extra;

	if (got < sizeof(h->magic) || memcmp(h->magic, HCI_REC_MAGIC, sizeof(h->magic)))
		return hci_rec_fail(err, errlen, -EPROTO, "%s: not an hcitrace record file (bad magic)",
			    rd->name);
	if (got < sizeof(*h))
		return hci_rec_fail(err, errlen, -EBADMSG, "%s: cut short inside its header (%zu bytes)",
			    rd->name, got);
	/* the version first: a later one may lay the rest out otherwise */
	if (h->version > HCI_REC_VERSION || h->version == 0)
		return hci_rec_fail(err, errlen, -EPROTONOSUPPORT,
			    "%s: record format version %u; this hcitrace reads up to %u",
			    rd->name, h->version, HCI_REC_VERSION);
	if (h->bom != HCI_REC_BOM)
		return hci_rec_fail(err, errlen, -EPROTO, "%s: written with another byte order",
			    rd->name);
	if (h->hdr_len < sizeof(*h) || h->opts_len > h->hdr_len - sizeof(*h) ||
	    h->clock != HCI_REC_CLOCK_MONOTONIC)
		return hci_rec_fail(err, errlen, -EBADMSG, "%s: broken header (length %u, options %u, "
			    "clock %u)", rd->name, h->hdr_len, h->opts_len, h->clock);
	extra = h->hdr_len - sizeof(*h);
	rd->opts = calloc(1, extra + 1);
	if (!rd->opts)
		return hci_rec_fail(err, errlen, -ENOMEM, "out of memory");
	if (read_n(rd, rd->opts, extra) != extra)
		return hci_rec_fail(err, errlen, -EBADMSG, "%s: cut short inside its header", rd->name);
	h->host[sizeof(h->host) - 1] = '\0';
	h->version_str[sizeof(h->version_str) - 1] = '\0';
	rd->off = h->hdr_len;
	return 0;
}

int hci_rec_open_file(FILE *f, const char *name, struct hci_rec_reader **out, char *err,
		      size_t errlen)
{
	struct hci_rec_reader *rd = calloc(1, sizeof(*rd));
	int e;

	*out = NULL;
	if (!rd || !(rd->name = strdup(name)) || !(rd->buf = malloc(HCI_REC_MAX_LEN))) {
		if (rd)
			free(rd->name);
		free(rd);
		fclose(f);
		return hci_rec_fail(err, errlen, -ENOMEM, "out of memory");
	}
	rd->f = f;
	e = read_header(rd, err, errlen);
	if (e) {
		hci_rec_close(rd);
		return e;
	}
	*out = rd;
	return 0;
}

int hci_rec_open(const char *path, struct hci_rec_reader **out, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : fdopen(dup(0), "rb");

	*out = NULL;
	if (!f)
		return hci_rec_fail(err, errlen, -errno, "cannot open %s: %s", path, strerror(errno));
	return hci_rec_open_file(f, path, out, err, errlen);
}

const struct hci_rec_file *hci_rec_header(const struct hci_rec_reader *rd)
{
	return &rd->hdr;
}

const char *hci_rec_options(const struct hci_rec_reader *rd)
{
	return rd->opts;
}

bool hci_rec_cut_short(const struct hci_rec_reader *rd)
{
	return !rd->trailer;
}

__u64 hci_rec_tail_bytes(const struct hci_rec_reader *rd)
{
	return rd->tail;
}

__u64 hci_rec_count(const struct hci_rec_reader *rd)
{
	return rd->nrec;
}

const struct hci_rec_keyinfo *hci_rec_key(const struct hci_rec_reader *rd, unsigned int idx)
{
	return key_at(rd, idx);
}

void hci_rec_close(struct hci_rec_reader *rd)
{
	if (!rd)
		return;
	if (rd->f)
		fclose(rd->f);
	for (size_t i = 0; i < rd->nkeys; i++)
		free(rd->keys[i]);
	free(rd->keys);
	free(rd->buf);
	free(rd->opts);
	free(rd->name);
	free(rd);
}

/* ---- the compact request ---- */

static bool back_of(__u64 ts_c, __u64 ts, __u32 *back)
{
	if (!ts) {
		*back = HCI_REC_NO_POINT;
		return true;
	}
	if (ts > ts_c || ts_c - ts >= UINT32_MAX)
		return false;
	*back = (__u32)(ts_c - ts + 1);
	return true;
}

static __u64 point_of(__u64 ts_c, __u32 back)
{
	return back == HCI_REC_NO_POINT ? 0 : ts_c - (back - 1);
}

bool hci_rec_req_encode(const struct hci_event *e, __u16 key, struct hci_rec_req *r)
{
	static const char zero[sizeof(e->comm)];
	__u32 q, g, i, d;

	/* what the compact form has no room for: the submitter (-p live only) */
	if (e->type != HCI_EV_REQ || e->flags > 0xff || e->op > 0xff ||
	    memcmp(e->comm, zero, sizeof(zero)) || e->pid || e->pad)
		return false;
	r->h.type = HCI_REC_REQ;
	r->h.len = sizeof(*r);
	r->flags = (__u8)e->flags;
	r->op = (__u8)e->op;
	r->key = key;
	r->bytes = e->bytes;
	r->sector = e->sector;
	r->ts_c = e->ts_c;
	if (!back_of(e->ts_c, e->ts_q, &q) || !back_of(e->ts_c, e->ts_g, &g) ||
	    !back_of(e->ts_c, e->ts_i, &i) || !back_of(e->ts_c, e->ts_d, &d))
		return false;
	r->back_q = q;
	r->back_g = g;
	r->back_i = i;
	r->back_d = d;
	return true;
}

void hci_rec_req_decode(const struct hci_rec_req *r, struct hci_event *e)
{
	memset(e, 0, sizeof(*e));
	e->type = HCI_EV_REQ;
	e->flags = r->flags;
	e->op = r->op;
	e->bytes = r->bytes;
	e->sector = r->sector;
	e->ts_c = r->ts_c;
	e->ts_q = point_of(r->ts_c, r->back_q);
	e->ts_g = point_of(r->ts_c, r->back_g);
	e->ts_i = point_of(r->ts_c, r->back_i);
	e->ts_d = point_of(r->ts_c, r->back_d);
}


/* ---- records ---- */

/* Two NUL-terminated strings at @p, both inside @n bytes */
static bool two_strings(const char *p, size_t n, const char **a, const char **b)
{
	const char *e1 = memchr(p, '\0', n), *e2;

	if (!e1)
		return false;
	e2 = memchr(e1 + 1, '\0', n - (size_t)(e1 + 1 - p));
	if (!e2)
		return false;
	*a = p;
	*b = e1 + 1;
	return true;
}

static int bad(struct hci_rec_reader *rd, const struct hci_rec *rec, char *err, size_t errlen,
	       const char *what)
{
	return hci_rec_fail(err, errlen, -EBADMSG, "%s: bad record at offset %llu (type %u, length %zu): "
		    "%s", rd->name, (unsigned long long)rec->offset, rec->type, rec->len, what);
}

static int decode_key(struct hci_rec_reader *rd, struct hci_rec *rec, char *err, size_t errlen)
{
	const struct hci_rec_key *k = rec->raw;
	struct hci_rec_keyinfo *ki;
	const char *origin, *dev;
	size_t n = rec->len - sizeof(*k);

	if (!two_strings((const char *)rec->raw + sizeof(*k), n, &origin, &dev))
		return bad(rd, rec, err, errlen, "names not terminated");
	if (k->kind > HCI_REC_KEY_VMM || k->idx == HCI_REC_KEY_NONE)
		return bad(rd, rec, err, errlen, "unknown key kind or index");
	ki = calloc(1, sizeof(*ki) + n);
	if (!ki)
		return hci_rec_fail(err, errlen, -ENOMEM, "out of memory");
	memcpy(ki + 1, origin, n);
	*ki = (struct hci_rec_keyinfo){
		.idx = k->idx, .kind = k->kind, .cgid = k->cgid, .vmm_tgid = k->vmm_tgid,
		.dev = k->dev, .origin = (const char *)(ki + 1),
		.dev_name = (const char *)(ki + 1) + (dev - origin),
	};
	if (k->idx >= rd->nkeys) {
		size_t n = (size_t)k->idx + 1 > 2 * rd->nkeys ? (size_t)k->idx + 1 : 2 * rd->nkeys;
		struct hci_rec_keyinfo **keys = realloc(rd->keys, n * sizeof(*keys));

		if (!keys) {
			free(ki);
			return hci_rec_fail(err, errlen, -ENOMEM, "out of memory");
		}
		memset(keys + rd->nkeys, 0, (n - rd->nkeys) * sizeof(*keys));
		rd->keys = keys;
		rd->nkeys = n;
	}
	/* a key defined again replaces the old one (a writer never does this) */
	free(rd->keys[k->idx]);
	rd->keys[k->idx] = ki;
	rec->newkey = *ki;
	rec->key = ki;
	return 1;
}

/* The key a request or histogram record names: it must be defined, of @kind */
static int use_key(struct hci_rec_reader *rd, struct hci_rec *rec, __u16 idx,
		   unsigned int kind, char *err, size_t errlen)
{
	static const struct hci_rec_keyinfo none[2] = {
		{ .idx = HCI_REC_KEY_NONE, .kind = HCI_REC_KEY_BLOCK, .origin = "unknown",
		  .dev_name = "unknown" },
		{ .idx = HCI_REC_KEY_NONE, .kind = HCI_REC_KEY_VMM, .origin = "unknown",
		  .dev_name = "unknown" },
	};

	rec->key = idx == HCI_REC_KEY_NONE ? &none[kind & 1] : key_at(rd, idx);
	if (!rec->key || rec->key->kind != kind)
		return bad(rd, rec, err, errlen, "refers to a key not defined before it");
	return 1;
}

static int decode_hist(struct hci_rec_reader *rd, struct hci_rec *rec, char *err, size_t errlen)
{
	const struct hci_rec_hist *h = rec->raw;
	const __u8 *v = (const __u8 *)rec->raw + sizeof(*h);
	const struct hci_rec_keyinfo *ki = key_at(rd, h->key);
	int e = use_key(rd, rec, h->key, ki ? ki->kind : 0, err, errlen);

	if (e < 0)
		return e;
	rec->hist.op = h->op;
	/* the body is copied to an aligned place: the buffer's offset 8 is one */
	if (rec->key->kind == HCI_REC_KEY_BLOCK && rec->len == sizeof(*h) + sizeof(struct hci_hist_val))
		rec->hist.block = (const void *)v;
	else if (rec->key->kind == HCI_REC_KEY_VMM &&
		 rec->len == sizeof(*h) + sizeof(struct hci_vmm_val))
		rec->hist.vmm = (const void *)v;
	else
		return bad(rd, rec, err, errlen, "histogram of the wrong size");
	return 1;
}

/* The smallest length of each known type */
static const size_t min_len[HCI_REC_NTYPES] = {
	[HCI_REC_KEY] = sizeof(struct hci_rec_key) + 2,
	[HCI_REC_REQ] = sizeof(struct hci_rec_req),
	[HCI_REC_REQ_RAW] = sizeof(struct hci_rec_req_raw),
	[HCI_REC_VREQ] = sizeof(struct hci_rec_vreq),
	[HCI_REC_LOST] = sizeof(struct hci_rec_lost),
	[HCI_REC_CHAN] = sizeof(struct hci_rec_chan) + 2,
	[HCI_REC_CHAN_DATA] = sizeof(struct hci_rec_chan_data),
	[HCI_REC_HIST] = sizeof(struct hci_rec_hist),
	[HCI_REC_TRAILER] = sizeof(struct hci_rec_trailer),
	[HCI_REC_VM] = sizeof(struct hci_rec_vm) + 2,
	[HCI_REC_IMAGE] = sizeof(struct hci_rec_image) + 1,
};

/* HCI_REC_VM and HCI_REC_IMAGE: a VMM's names and images */
static int decode_vm(struct hci_rec_reader *rd, struct hci_rec *rec, char *err, size_t errlen)
{
	const char *p = rec->raw;

	if (rec->type == HCI_REC_VM) {
		const struct hci_rec_vm *v = rec->raw;

		if (!two_strings(p + sizeof(*v), rec->len - sizeof(*v), &rec->vm.name,
				 &rec->vm.drives))
			return bad(rd, rec, err, errlen, "names not terminated");
		rec->vm.pid = v->pid;
		rec->vm.more_images = v->more_images;
		memcpy(rec->vm.comm, v->comm, sizeof(v->comm));
		rec->vm.comm[sizeof(rec->vm.comm) - 1] = '\0';
		return 1;
	}
	const struct hci_rec_image *im = rec->raw;
	size_t maplen = (size_t)im->nmap * 24;

	if (sizeof(*im) + maplen >= rec->len ||
	    !memchr(p + sizeof(*im) + maplen, '\0', rec->len - sizeof(*im) - maplen))
		return bad(rd, rec, err, errlen, "extents or path past its end");
	rec->image.pid = im->pid;
	rec->image.dev = im->dev;
	rec->image.fd = im->fd;
	rec->image.blockdev = im->blockdev;
	rec->image.ino = im->ino;
	rec->image.size = im->size;
	rec->image.extents = (long)im->extents;
	rec->image.nmap = im->nmap;
	rec->image.map = (const __u8 *)p + sizeof(*im);
	rec->image.path = p + sizeof(*im) + maplen;
	return 1;
}

static int decode(struct hci_rec_reader *rd, struct hci_rec *rec, char *err, size_t errlen)
{
	const void *p = rec->raw;

	if (rec->type < HCI_REC_NTYPES && min_len[rec->type] && rec->len < min_len[rec->type])
		return bad(rd, rec, err, errlen, "shorter than its type");
	switch (rec->type) {
	case HCI_REC_KEY:
		return decode_key(rd, rec, err, errlen);
	case HCI_REC_REQ: {
		int e = use_key(rd, rec, ((const struct hci_rec_req *)p)->key, HCI_REC_KEY_BLOCK,
				err, errlen);

		hci_rec_req_decode(p, &rec->req);
		if (e > 0) {
			rec->req.cgid = rec->key->cgid;
			rec->req.vmm_tgid = rec->key->vmm_tgid;
			rec->req.dev = rec->key->dev;
		}
		return e;
	}
	case HCI_REC_REQ_RAW:
		memset(&rec->req, 0, sizeof(rec->req));
		memcpy(&rec->req, ((const struct hci_rec_req_raw *)p)->e, HCI_EVENT_V1_BYTES);
		return use_key(rd, rec, ((const struct hci_rec_req_raw *)p)->key,
			       HCI_REC_KEY_BLOCK, err, errlen);
	case HCI_REC_VREQ:
		memcpy(&rec->vreq, &((const struct hci_rec_vreq *)p)->e, sizeof(rec->vreq));
		return use_key(rd, rec, ((const struct hci_rec_vreq *)p)->key, HCI_REC_KEY_VMM,
			       err, errlen);
	case HCI_REC_LOST: {
		const struct hci_rec_lost *l = p;

		if (l->counter >= HCI_REC_NCOUNTERS)
			return bad(rd, rec, err, errlen, "unknown counter");
		rec->lost.counter = l->counter;
		rec->lost.ns = l->ns;
		rec->lost.count = l->count;
		return 1;
	}
	case HCI_REC_CHAN: {
		const struct hci_rec_chan *c = p;

		if (!two_strings((const char *)p + sizeof(*c), rec->len - sizeof(*c),
				 &rec->chan.path, &rec->chan.origin))
			return bad(rd, rec, err, errlen, "names not terminated");
		rec->chan.idx = c->idx;
		rec->chan.live = c->live;
		rec->chan.vm_tgid = c->vm_tgid;
		return 1;
	}
	case HCI_REC_CHAN_DATA: {
		const struct hci_rec_chan_data *d = p;

		rec->data.idx = d->idx;
		rec->data.recv_ns = d->recv_ns;
		rec->data.bytes = (const __u8 *)p + sizeof(*d);
		rec->data.len = rec->len - sizeof(*d);
		return 1;
	}
	case HCI_REC_HIST:
		return decode_hist(rd, rec, err, errlen);
	case HCI_REC_VM:
	case HCI_REC_IMAGE:
		return decode_vm(rd, rec, err, errlen);
	case HCI_REC_TRAILER:
		memcpy(&rec->trailer, p, sizeof(rec->trailer));
		if (rec->trailer.ncounters != HCI_REC_NCOUNTERS)
			return bad(rd, rec, err, errlen, "trailer with another set of counters");
		rd->trailer = true;
		return 1;
	default:
		return 1;	/* a type from a later writer: the caller skips it */
	}
}

int hci_rec_next(struct hci_rec_reader *rd, struct hci_rec *rec, char *err, size_t errlen)
{
	struct hci_rec_hdr h;
	size_t got;

	memset(rec, 0, sizeof(*rec));
	if (rd->ended)
		return 0;
	got = read_n(rd, rd->buf, sizeof(h));
	if (got < sizeof(h))
		goto end;
	memcpy(&h, rd->buf, sizeof(h));
	rec->type = h.type;
	rec->offset = rd->off;
	rec->raw = rd->buf;
	rec->len = h.len;
	if (h.len < sizeof(h))
		return bad(rd, rec, err, errlen, "length below its header's");
	if (rd->trailer)
		return bad(rd, rec, err, errlen, "a record after the trailer");
	got += read_n(rd, rd->buf + sizeof(h), h.len - sizeof(h));
	if (got < h.len)
		goto end;
	rd->off += h.len;
	rd->nrec++;
	return decode(rd, rec, err, errlen);
end:
	if (ferror(rd->f))
		return hci_rec_fail(err, errlen, -EIO, "%s: read error", rd->name);
	rd->tail = got;
	rd->ended = true;
	memset(rec, 0, sizeof(*rec));
	return 0;
}
