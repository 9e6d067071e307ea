/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The VMM layer's hooks into the block layer: how block.bpf.c hands a bio to
 * the VMM request one layer up, and tells it when that bio completed.
 *
 * A VMM request (vmm*.bpf.c) is open while its bios are being queued: a
 * blocking syscall (vmm_inflight, by thread), an io_submit batch (aio_cursors)
 * or an io_uring request being issued (uring_cur, or an io-wq worker's
 * current work). A bio queued then is that request's; its slot keeps the
 * request's identity (vreq_id, vtid, HCI_VAIO or HCI_VURING), and its
 * completion stamps the request's host part (t_q, t_d, t_c, nbios, ncompl).
 * Bios that no VMM thread queued can still be a VM's: the lower half of a
 * stacked device (stack_pages), or the writeback of a cached image
 * (image_inodes).
 *
 * These run inside the block programs, once per bio and request when --vmm is
 * on, so they are static __always_inline: a header, not a linked file.
 */
#ifndef HCI_VMM_LINK_BPF_H
#define HCI_VMM_LINK_BPF_H

#include "hci_core.bpf.h"
#include "hci_common.bpf.h"
#include "hci_tslot.bpf.h"

/* the open blocking-syscall request of thread @tid, if any */
static __always_inline struct vio *vio_of(__u32 tid)
{
	struct vio_tslot *sl = tslot_find(&vio_slots, tid, HCI_TS_SLOTS - 1);

	return sl ? &sl->io : tslot_ovf_find(&vmm_inflight, HCI_TS_VIO, &tid);
}

/* the aio cursor of thread @tid, inside io_submit */
static __always_inline struct aio_cursor *aio_cursor_of(__u32 tid)
{
	struct aio_cursor *c = tslot_find(&cur_slots, tid, HCI_TS_CUR_SLOTS - 1);

	return c ? c : tslot_ovf_find(&aio_cursors, HCI_TS_CUR, &tid);
}

/* io_uring_enter's number on x86-64 (vmlinux/x86), as in the generic table */
#define HCI_NR_IO_URING_ENTER 426

/*
 * Is this thread's uring_cur entry the request it issues now? Where the
 * syscall's exit frees the entry (no targ_syscall_regs), always. Elsewhere
 * the entry outlives io_uring_enter (hci_io_uring_thread_exit says why),
 * and counts only while the thread is inside it: the syscall the registers
 * it saved at entry name (two helper calls, about 45 ns here). io_uring's
 * own threads (SQPOLL, and io-wq workers where io_uring_file_get links
 * them) make no syscall at all.
 */
static __always_inline bool uring_cur_live(void)
{
	struct task_struct *task;
	struct pt_regs *regs;

	if (!targ_syscall_regs)
		return true;
	task = bpf_get_current_task_btf();
	if (task->flags & HCI_PF_IO_WORKER)
		return true;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	return regs->orig_ax == HCI_NR_IO_URING_ENTER;
}

/*
 * A bio queued while this thread issues an io_uring request is that
 * request's: the submitter's (uring_cur), or an io-wq worker's current one.
 * The submitter's first bio of a request that no worker took comes inside
 * io_uring_enter: its submit has just named it, and nothing but the
 * request's own issue runs between. Only a later bio, or one of a punted
 * request, may be the thread's own after the syscall returned, and only
 * those pay for the check. (The one such bio it would take: a stray one
 * while a request without bios of its own, and not punted, is in flight,
 * as a buffered read waiting on a page another reader locked.)
 */
static __always_inline void uring_link(struct hci_slot *s, __u32 tid, __u64 now)
{
	__u64 *cur = uring_cur_of(tid), key;
	struct aio_req *r;

	key = cur ? *cur : uring_worker_req();
	if (!key)
		return;
	r = ureq_find(key);
	if (!r)
		return;
	if (cur && (r->io.nbios || r->io.punted) && !uring_cur_live())
		return;
	s->vreq_id = key;
	s->flags |= HCI_VURING;
	if (!r->io.t_q)
		r->io.t_q = now;
	r->io.nbios++;
}

static __always_inline void aio_link(struct hci_slot *s, __u32 tid, __u32 tgid, __u64 now)
{
	struct aio_cursor *c = aio_cursor_of(tid);
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
	r = aio_req_find(&k);
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
	struct vio *io = vio_of(tid);

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
		struct aio_req *r = s->flags & HCI_VAIO ? aio_req_find(&k) : ureq_find(s->vreq_id);

		if (r) {
			r->io.t_c = now;
			if (s->flags & HCI_HAVE_D)
				r->io.t_d = s->td;
			if (s->flags & HCI_VURING) {
				r->io.ncompl++;
				return;
			}
			if (aio_reapable(__sync_fetch_and_add(&r->io.ncompl, 1) + 1, r->io.nbios) &&
			    r->evfd)
				aio_done_push(&k);
		}
		return;
	}
	io = vio_of(tid);
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

static __always_inline struct stack_slot *stack_slot_of(__u64 page)
{
	/* struct page is 64 bytes: drop the low bits, then hash */
	__u32 idx = (__u32)(((page >> 6) * 0x9E3779B97F4A7C15ULL) >> 32) & (HCI_STACK_SLOTS - 1);

	return bpf_map_lookup_elem(&stack_slots, &idx);
}

/* stack_ovf_n's counter: the number of pages in stack_pages, at most */
static __always_inline __s64 *stack_ovf(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&stack_ovf_n, &zero);
}

/* the VM whose request, one layer up, carries this bio's first page */
static __always_inline __u32 stacked_owner(struct bio *bio, const bool btf)
{
	__u64 page = first_page(bio, btf);
	struct stack_slot *sl;
	struct stack_parent *p;
	__s64 *n;

	if (!page)
		return 0;
	sl = stack_slot_of(page);
	if (sl && sl->page == page)
		return sl->p.vmm_tgid;
	n = stack_ovf();
	if (!n || *n <= 0)
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
	else if (targ_dev)	/* see vmm_stack_down */
		s->vmm_tgid = writeback_owner(bio);
	else
		s->vmm_tgid = stacked_owner(bio, btf) ?: writeback_owner(bio);
}

/*
 * A VM's request was seen on its way down (@bio its first bio): its pages
 * now name the VM, for the device below. Not with -d: the device below is
 * another device, whose bios the Q program leaves out before it could look
 * (and a request of the device above is left out before it gets here), so
 * the entry would only cost an update at D and a delete at C.
 */
static __always_inline void vmm_stack_down(struct request *rq, struct bio *bio,
					   __u32 vmm_tgid, const bool btf)
{
	struct stack_parent sp = { .vmm_tgid = vmm_tgid };
	__u64 page, old;
	struct stack_slot *sl;
	__s64 *n;

	if (targ_dev)
		return;
	page = first_page(bio, btf);
	if (!page)
		return;
	sp.upper_dev = hci_disk_dev(hci_rq_disk(rq, btf), btf);
	sl = stack_slot_of(page);
	if (sl) {
		old = __sync_val_compare_and_swap(&sl->page, 0, page);
		if (old == 0 || old == page) {
			sl->p = sp;
			return;
		}
	}
	/* the entry is another live request's: the LRU takes this one */
	n = stack_ovf();
	if (n && !bpf_map_update_elem(&stack_pages, &page, &sp, BPF_ANY))
		__sync_fetch_and_add(n, 1);
}

/* the request whose first page is @page is done one layer up */
static __always_inline void stack_up_done(__u64 page)
{
	struct stack_slot *sl = stack_slot_of(page);
	__s64 *n;

	if (sl && sl->page == page) {
		__sync_val_compare_and_swap(&sl->page, page, 0);
		return;
	}
	n = stack_ovf();
	if (n && *n > 0 && !bpf_map_delete_elem(&stack_pages, &page))
		__sync_fetch_and_add(n, -1);
}

/* C: request @rq (slot @s) completed */
static __always_inline void vmm_rq_done(struct hci_slot *s, struct request *rq, __u64 now,
					const bool btf)
{
	vio_complete(s, now);
	if (s->vmm_tgid && !targ_dev) {
		/* done one layer up: its pages may now carry anything */
		__u64 page = first_page(HCI_RD(btf, rq, bio), btf);

		if (page)
			stack_up_done(page);
	}
}

#endif /* HCI_VMM_LINK_BPF_H */
