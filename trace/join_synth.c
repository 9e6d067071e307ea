// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A synthetic VM for the join replay (join_replay.h), for when no recording
 * of a fast enough guest exists (the test guest runs under TCG, at a few
 * thousand IOPS): guest requests at a given rate over a small image, as
 * "hcitrace guest" would send them (REQ frames every 10 ms, SYNC every
 * 100 ms, HELLO and DISK every second), and the VMM requests they caused,
 * in host time order. The guest clock runs a fixed offset behind the
 * host's. Some requests are absorbed by the host page cache, some split
 * into two VMM requests, some are flushes: every path of the matching.
 */
#include <stdlib.h>
#include <string.h>
#include "hci_wire.h"
#include "join_replay.h"

#define US 1000ULL
#define MS 1000000ULL
#define SYNTH_OFF 5000000000ULL	/* host = guest + this */
#define SYNTH_G0 (10ULL * 1000000000ULL)	/* guest mono at the first request */
#define FLUSH_NS (10 * MS)	/* the guest sends what completed every 10 ms */
#define SYNTH_DEV HCI_DEV_MKDEV(252, 0)

struct synth_req {
	struct hci_w_req r;
	struct hci_jvmm_in v[2];
	int nv;
};

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *g, uint64_t n)
{
	g->s ^= g->s << 13;
	g->s ^= g->s >> 7;
	g->s ^= g->s << 17;
	return n ? g->s % n : 0;
}

static void vmm_times(struct rng *g, struct hci_jvmm_in *v, uint64_t vs, bool cached)
{
	v->vs = vs;
	if (cached) {
		v->vc = vs + 5 * US + rnd(g, 30 * US);
		return;
	}
	v->hq = vs + 2 * US + rnd(g, 8 * US);
	v->hd = v->hq + rnd(g, 20 * US);
	v->hc = v->hd + 50 * US + rnd(g, 250 * US);
	v->vc = v->hc + 3 * US + rnd(g, 7 * US);
	v->nbios = (uint32_t)(v->len ? (v->len + 65535) / 65536 : 1);
}

/* Request i: one in 500 a flush, one in 32 a 128 KiB read split in two. */
static void gen_req(struct rng *g, const struct hci_jsynth *s, size_t i, struct synth_req *q)
{
	uint64_t blocks = s->image_mib * 256, gq = SYNTH_G0 + (uint64_t)(i * 1e9 / s->iops);
	uint64_t gd = gq + 2 * US + rnd(g, 8 * US), vs, vc = 0;
	bool flush = i % 500 == 499, split = !flush && i % 32 == 7;
	uint32_t bytes = flush ? 0 : split ? 131072 : 4096;
	uint64_t off = flush ? 0 : split ? rnd(g, blocks / 32) * 131072 : rnd(g, blocks) * 4096;
	bool cached = !flush && rnd(g, 10) == 0;

	memset(q, 0, sizeof(*q));
	q->r = (struct hci_w_req){
		.dev = SYNTH_DEV, .flags = HCI_HAVE_Q | HCI_HAVE_D,
		.op = flush ? HCI_OP_FLUSH : rnd(g, 4) ? HCI_OP_READ : HCI_OP_WRITE,
		.bytes = bytes, .sector = off >> 9, .ts_q = gq, .ts_d = gd,
	};
	vs = gd + SYNTH_OFF + 15 * US + rnd(g, 40 * US);
	q->nv = split ? 2 : 1;
	for (int k = 0; k < q->nv; k++) {
		struct hci_jvmm_in *v = &q->v[k];

		v->op = q->r.op;
		v->off = off + (uint64_t)k * bytes / 2;
		v->len = bytes / (uint32_t)q->nv;
		v->dev = HCI_DEV_MKDEV(8, 1);
		v->ino = 12;
		vmm_times(g, v, vs + (uint64_t)k * US, cached);
		vc = v->vc > vc ? v->vc : vc;
	}
	q->r.ts_c = vc - SYNTH_OFF + 10 * US + rnd(g, 30 * US);
}

static int cmp_gc(const void *a, const void *b)
{
	const struct synth_req *x = a, *y = b;

	return x->r.ts_c < y->r.ts_c ? -1 : x->r.ts_c > y->r.ts_c;
}

struct vref {
	uint64_t vc;
	const struct hci_jvmm_in *v;
};

static int cmp_vc(const void *a, const void *b)
{
	const struct vref *x = a, *y = b;

	return x->vc < y->vc ? -1 : x->vc > y->vc;
}

/* The guest tracer's state between sends. */
struct sender {
	struct hci_jreplay *rp;
	uint32_t seq;
	uint64_t reqs, next_sync, next_hello;
	bool ok;
};

static void send(struct sender *o, uint64_t t, unsigned int type, const void *recs, size_t n)
{
	if (!hci_jrp_add_frame(o->rp, t, type, o->seq++, recs, n * hci_wire_rec_size(type)))
		o->ok = false;
}

static void send_hello(struct sender *o, uint64_t t, uint64_t gt)
{
	struct hci_w_hello h = { .mono_ns = gt, .real_ns = gt, .ncpus = 1 };
	struct hci_w_disk d = { .dev = SYNTH_DEV, .lbs = 512 };

	strcpy(h.release, "synthetic");
	strcpy(h.host, "synth");
	strcpy(d.name, "vda");
	send(o, t, HCI_WT_HELLO, &h, 1);
	send(o, t, HCI_WT_DISK, &d, 1);
}

/* One send of the guest at guest time gt: the requests done by then, SYNC, HELLO. */
static size_t send_batch(struct sender *o, uint64_t t, uint64_t gt,
			 const struct synth_req *q, size_t n, size_t i)
{
	struct hci_w_req recs[HCI_WIRE_MAX_RECS];
	size_t nr = 0;

	hci_jrp_end_read(o->rp);
	if (gt >= o->next_hello) {
		send_hello(o, t, gt);
		o->next_hello = gt + 1000 * MS;
	}
	for (; i < n && q[i].r.ts_c <= gt; i++) {
		recs[nr++] = q[i].r;
		o->reqs++;
		if (nr == HCI_WIRE_MAX_RECS) {
			send(o, t, HCI_WT_REQ, recs, nr);
			nr = 0;
		}
	}
	if (nr)
		send(o, t, HCI_WT_REQ, recs, nr);
	if (gt >= o->next_sync) {
		struct hci_w_sync y = { .mono_ns = gt, .reqs = o->reqs };

		send(o, t, HCI_WT_SYNC, &y, 1);
		o->next_sync = gt + 100 * MS;
	}
	return i;
}

/* The VMM requests, by completion, up to host time t. */
static size_t send_vmm(struct hci_jreplay *rp, const struct vref *vr, size_t nv, size_t k,
		       uint64_t t, bool *ok)
{
	for (; k < nv && vr[k].vc <= t; k++)
		if (!hci_jrp_add_vmm(rp, vr[k].vc, vr[k].v))
			*ok = false;
	return k;
}

bool hci_jsynth_build(struct hci_jreplay *rp, const struct hci_jsynth *s)
{
	struct synth_req *q = calloc(s->n + 1, sizeof(*q));
	struct vref *vr = calloc(2 * s->n + 1, sizeof(*vr));
	struct sender o = { .rp = rp, .ok = q && vr };
	struct rng g = { s->seed ? s->seed : 0x9E3779B97F4A7C15ULL };
	size_t nv = 0, i = 0, k = 0;
	uint64_t gt = SYNTH_G0;

	rp->live = true;
	o.next_sync = o.next_hello = gt;
	for (size_t r = 0; o.ok && r < s->n; r++)
		gen_req(&g, s, r, &q[r]);
	if (o.ok) {
		qsort(q, s->n, sizeof(*q), cmp_gc);
		for (size_t r = 0; r < s->n; r++)
			for (int m = 0; m < q[r].nv; m++)
				vr[nv++] = (struct vref){ q[r].v[m].vc, &q[r].v[m] };
		qsort(vr, nv, sizeof(*vr), cmp_vc);
	}
	/* sends every 10 ms until every record is out, the VMM side in between */
	while (o.ok && (i < s->n || k < nv)) {
		uint64_t t;

		gt += FLUSH_NS;
		t = gt + SYNTH_OFF + 50 * US + rnd(&g, 400 * US);
		k = send_vmm(rp, vr, nv, k, t, &o.ok);
		i = send_batch(&o, t, gt, q, s->n, i);
	}
	free(q);
	free(vr);
	return o.ok;
}
