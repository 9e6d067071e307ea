/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The VMM layer's hooks into the block layer: how block.bpf.c hands a bio to
 * the VMM request one layer up, and tells it when that bio completed.
 *
 * A VMM request (vmm*.bpf.c) is open while its bios are being queued: a
 * blocking syscall (vmm_inflight, by thread), an io_submit batch (aio_cursors)
 * or an io_uring request being issued (uring_cur). A bio queued then is that
 * request's; its slot keeps the request's identity (vreq_id, vtid, HCI_VAIO or
 * HCI_VURING), and its completion stamps the request's host part (t_q, t_d,
 * t_c, nbios, ncompl). Bios that no VMM thread queued can still be a VM's:
 * the lower half of a stacked device (stack_pages), or the writeback of a
 * cached image (image_inodes).
 *
 * These run inside the block programs, once per bio and request when --vmm is
 * on, so they are static __always_inline: a header, not a linked file.
 */
#ifndef HCI_VMM_LINK_BPF_H
#define HCI_VMM_LINK_BPF_H

#include "hci_core.bpf.h"
#include "hci_common.bpf.h"

/* a bio queued while this thread issues an io_uring request is that request's */
static __always_inline void uring_link(struct hci_slot *s, __u32 tid, __u64 now)
{
	__u64 *req = bpf_map_lookup_elem(&uring_cur, &tid);
	struct aio_req *r;

	if (!req)
		return;
	r = bpf_map_lookup_elem(&ureqs, req);
	if (!r)
		return;
	s->vreq_id = *req;
	s->flags |= HCI_VURING;
	if (!r->io.t_q)
		r->io.t_q = now;
	r->io.nbios++;
}

static __always_inline void aio_link(struct hci_slot *s, __u32 tid, __u32 tgid, __u64 now)
{
	struct aio_cursor *c = bpf_map_lookup_elem(&aio_cursors, &tid);
	struct aio_key k = { .tgid = tgid };
	struct aio_req *r;
	__u32 i;

	if (!c) {
		uring_link(s, tid, now);
		return;
	}
	if (c->idx >= c->n || c->idx >= AIO_BATCH)
		return;
	i = c->idx;
	k.iocb = c->iocb[i];
	r = bpf_map_lookup_elem(&aio_reqs, &k);
	if (r) {
		s->vreq_id = k.iocb;
		s->vtid = tgid;
		s->flags |= HCI_VAIO;
		if (!r->io.t_q)
			r->io.t_q = now;
		r->io.nbios++;
	}
	c->acc += s->bytes;
	if (c->acc >= c->len[i]) {
		c->idx++;
		c->acc = 0;
	}
}

/*
 * A bio queued by a VMM thread while it is inside an I/O syscall belongs to
 * that VMM request: with cache=none the bio is submitted synchronously from
 * the syscall (pread/pwrite from QEMU's thread pool).
 */
static __always_inline void vio_link(struct hci_slot *s, __u64 now)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct vio *io = bpf_map_lookup_elem(&vmm_inflight, &tid);

	if (!io) {
		aio_link(s, tid, pid_tgid >> 32, now);
		return;
	}
	s->vreq_id = io->t_sub;
	s->vtid = tid;
	if (!io->t_q)
		io->t_q = now;
	io->nbios++;
}

/* A linked bio or request completed: the VMM request's host part ends here. */
static __always_inline void vio_complete(struct hci_slot *s, __u64 now)
{
	__u32 tid = s->vtid;
	struct vio *io;

	if (!s->vreq_id)
		return;
	if (s->flags & (HCI_VAIO | HCI_VURING)) {
		struct aio_key k = { .tgid = s->vtid, .iocb = s->vreq_id };
		struct aio_req *r = s->flags & HCI_VAIO ? bpf_map_lookup_elem(&aio_reqs, &k) :
							  bpf_map_lookup_elem(&ureqs, &s->vreq_id);

		if (r) {
			r->io.t_c = now;
			if (s->flags & HCI_HAVE_D)
				r->io.t_d = s->td;
			r->io.ncompl++;
		}
		return;
	}
	io = bpf_map_lookup_elem(&vmm_inflight, &tid);
	if (io && io->t_sub == s->vreq_id) {
		io->t_c = now;
		if (s->flags & HCI_HAVE_D)
			io->t_d = s->td;
		io->ncompl++;
	}
}

/*
 * A write from outside any VMM that carries a VM image's page cache is that
 * VM's writeback. The first page tells whose file it is (a bio's pages all
 * come from one file when writeback builds it).
 */
static __always_inline __u32 writeback_owner(struct bio *bio)
{
	struct image_key k = {};
	struct address_space *mapping;
	struct inode *host;
	__u32 *tgid;

	if ((BPF_CORE_READ(bio, bi_opf) & 0xff) != 1 /* REQ_OP_WRITE */)
		return 0;
	mapping = BPF_CORE_READ(bio, bi_io_vec, bv_page, mapping);
	/* anonymous and movable pages tag the low bits; they are no file's */
	if (!mapping || ((__u64)mapping & 3))
		return 0;
	host = BPF_CORE_READ(mapping, host);
	k.dev = BPF_CORE_READ(host, i_sb, s_dev);
	k.ino = BPF_CORE_READ(host, i_ino);
	tgid = bpf_map_lookup_elem(&image_inodes, &k);
	return tgid ? *tgid : 0;
}

static __always_inline __u64 first_page(struct bio *bio, const bool btf)
{
	struct bio_vec *bv = HCI_RD(btf, bio, bi_io_vec);

	return bv ? (__u64)BPF_CORE_READ(bv, bv_page) : 0;
}

/* the VM whose request, one layer up, carries this bio's first page */
static __always_inline __u32 stacked_owner(struct bio *bio, const bool btf)
{
	__u64 page = first_page(bio, btf);
	struct stack_parent *p;

	if (!page)
		return 0;
	p = bpf_map_lookup_elem(&stack_pages, &page);
	return p ? p->vmm_tgid : 0;
}

/* Q: whose VM request a new bio (slot @s, origin set) is part of, if any */
static __always_inline void vmm_link_bio(struct hci_slot *s, struct bio *bio, __u64 now,
					 const bool btf)
{
	if (s->vmm_tgid)
		vio_link(s, now);
	else
		s->vmm_tgid = stacked_owner(bio, btf) ?: writeback_owner(bio);
}

/*
 * A VM's request was seen on its way down (@bio its first bio): its pages
 * now name the VM, for the device below.
 */
static __always_inline void vmm_stack_down(struct request *rq, struct bio *bio,
					   __u32 vmm_tgid, const bool btf)
{
	struct stack_parent sp = {
		.vmm_tgid = vmm_tgid,
		.upper_dev = hci_disk_dev(hci_rq_disk(rq, btf), btf),
	};
	__u64 page = first_page(bio, btf);

	if (page)
		bpf_map_update_elem(&stack_pages, &page, &sp, BPF_ANY);
}

/* C: request @rq (slot @s) completed */
static __always_inline void vmm_rq_done(struct hci_slot *s, struct request *rq, __u64 now,
					const bool btf)
{
	vio_complete(s, now);
	if (s->vmm_tgid) {
		/* done one layer up: its pages may now carry anything */
		__u64 page = first_page(HCI_RD(btf, rq, bio), btf);

		if (page)
			bpf_map_delete_elem(&stack_pages, &page);
	}
}

#endif /* HCI_VMM_LINK_BPF_H */
