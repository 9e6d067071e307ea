/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Per-thread state of the VMM layer without a hash update and a delete on
 * every call.
 *
 * A VMM thread's open state (a blocking syscall's request, an io_submit
 * cursor, an io_getevents buffer, the io_uring request it issues) lives
 * from a syscall's entry to its exit, and every I/O opens and closes it
 * once. Kept in a hash by thread, that is an update and a delete per I/O,
 * the dearest map operations there are (a lock, a free-list pop and push),
 * and a lookup on every exit of every process's syscall.
 *
 * So each kind has an ARRAY indexed by the thread id (tids of live threads
 * are dense and distinct: the low bits spread them), where a thread claims
 * its entry with a compare-and-swap on the entry's first word (the owner's
 * tid, 0 = free) and frees it with a store: an array lookup the verifier
 * inlines, and no allocation. Only a thread whose entry another live
 * thread holds falls back to the old hash by tid, and a per-kind count of
 * the hash's entries lets everyone else skip that lookup while it is empty.
 * The count only goes up on an insert and down on a delete that both
 * succeeded, so it is never below the number of entries.
 *
 * An entry stays claimed only while its thread is inside the syscall, as
 * the hash entry did before, with one exception: an io_uring submitter's
 * (uring_slots) stays until the thread exits where uring_link can tell
 * whether the thread is inside io_uring_enter (uring_cur_live). Reading an
 * entry requires owner == tid, so a thread never sees another's.
 */
#ifndef HCI_TSLOT_BPF_H
#define HCI_TSLOT_BPF_H

#include "hci_maps.bpf.h"
#include "hci_slots.bpf.h"

static __always_inline __u32 *tslot_at(void *arr, __u32 tid, __u32 mask)
{
	__u32 idx = tid & mask;

	return bpf_map_lookup_elem(arr, &idx);
}

/* @tid's entry in @arr, if it holds it */
static __always_inline void *tslot_find(void *arr, __u32 tid, __u32 mask)
{
	__u32 *s = tslot_at(arr, tid, mask);

	return s && *s == tid ? s : NULL;
}

/* @tid's entry in @arr, claimed now or before; NULL if another thread's */
static __always_inline void *tslot_claim(void *arr, __u32 tid, __u32 mask)
{
	__u32 *s = tslot_at(arr, tid, mask), old;

	if (!s)
		return NULL;
	old = __sync_val_compare_and_swap(s, 0, tid);
	return old == 0 || old == tid ? s : NULL;
}

/* only the owner frees its entry */
static __always_inline void tslot_release(void *s)
{
	*(volatile __u32 *)s = 0;
}

static __always_inline __s64 *tslot_ovf_n(__u32 kind)
{
	return bpf_map_lookup_elem(&tslot_ovf, &kind);
}

/* may the overflow hash of @kind hold anything? */
static __always_inline bool tslot_ovf_used(__u32 kind)
{
	__s64 *n = tslot_ovf_n(kind);

	return n && *n > 0;
}

/* @key's value in the overflow hash @map of @kind, if it may be there */
static __always_inline void *tslot_ovf_find(void *map, __u32 kind, void *key)
{
	return tslot_ovf_used(kind) ? bpf_map_lookup_elem(map, key) : NULL;
}

/* store @val under @key in the overflow hash; false if it is full */
static __always_inline bool tslot_ovf_put(void *map, __u32 kind, void *key, void *val)
{
	__s64 *n = tslot_ovf_n(kind);

	if (!n)
		return false;
	if (bpf_map_lookup_elem(map, key))
		return !bpf_map_update_elem(map, key, val, BPF_EXIST);
	if (bpf_map_update_elem(map, key, val, BPF_NOEXIST))
		return false;
	__sync_fetch_and_add(n, 1);
	return true;
}

static __always_inline void tslot_ovf_del(void *map, __u32 kind, void *key)
{
	__s64 *n = tslot_ovf_n(kind);

	if (n && *n > 0 && !bpf_map_delete_elem(map, key))
		__sync_fetch_and_add(n, -1);
}

/*
 * io_uring requests (ureqs) the same way, by their io_kiocb's address: an
 * entry is claimed at submit and freed at the CQE, which may run on another
 * CPU, so the claim is a compare-and-swap on the 64-bit key.
 */
static __always_inline struct ureq_slot *ureq_slot_at(__u64 key)
{
	/* io_kiocbs are slab objects too: the block slots' address hash */
	__u32 idx = hci_slot_idx(key, HCI_UREQ_SLOTS - 1);

	return bpf_map_lookup_elem(&ureq_slots, &idx);
}

/* request @key's state, if we follow it */
static __always_inline struct aio_req *ureq_find(__u64 key)
{
	struct ureq_slot *sl = ureq_slot_at(key);

	if (sl && sl->key == key)
		return &sl->r;
	return tslot_ovf_find(&ureqs, HCI_TS_UREQ, &key);
}

/* the io_uring request thread @tid issues, if any */
static __always_inline __u64 *uring_cur_of(__u32 tid)
{
	struct u64_tslot *sl = tslot_find(&uring_slots, tid, HCI_TS_SLOTS - 1);

	return sl ? &sl->v : tslot_ovf_find(&uring_cur, HCI_TS_URING, &tid);
}

/* task flag of io_uring's own threads: io-wq workers and the SQPOLL thread */
#define HCI_PF_IO_WORKER 0x00000010

/*
 * The io_uring request this thread runs as an io-wq worker, or 0 if it is
 * none. A worker's task names its struct io_worker (worker_private, NULL in
 * the SQPOLL thread), whose cur_work is embedded in the request being run:
 * so every bio a worker queues is found its request, whether the kernel
 * assigned the file there or in the submitter (v6.1), and whether the work
 * is a punt or a retry. targ_uring_worker (lib/bpf/features.c) says the
 * kernel has all of that, and bpf_get_current_task_btf.
 */
static __always_inline __u64 uring_worker_req(void)
{
	struct task_struct *task;
	struct io_wq_work *work;
	void *worker;

	if (!targ_uring_worker)
		return 0;
	task = bpf_get_current_task_btf();
	if (!(task->flags & HCI_PF_IO_WORKER))
		return 0;
	worker = task->worker_private;
	if (!worker)
		return 0;
	work = BPF_CORE_READ((struct io_worker *)worker, cur_work);
	if (!work)
		return 0;
	return (__u64)work - bpf_core_field_offset(struct io_kiocb, work);
}

/*
 * Native-aio requests by (VM, iocb) the same way: claimed at io_submit,
 * freed when the VMM reaps them (io_getevents, the eventfd read, the
 * iocb's reuse, or io_submit refusing it), which may be on another CPU.
 */
static __always_inline struct aio_slot *aio_slot_at(__u32 tgid, __u64 iocb)
{
	/* iocbs are 8-byte aligned user addresses; two VMs may share one */
	__u64 h = ((iocb >> 3) ^ ((__u64)tgid << 40)) * 0x9E3779B97F4A7C15ULL;
	__u32 idx = (__u32)(h >> 32) & targ_aio_mask;

	return bpf_map_lookup_elem(&aio_slots, &idx);
}

static __always_inline bool aio_slot_is(const struct aio_slot *sl, const struct aio_key *k)
{
	return sl && sl->iocb == k->iocb && sl->r.tgid == k->tgid;
}

/* request @k's state, if we follow it */
static __always_inline struct aio_req *aio_req_find(struct aio_key *k)
{
	struct aio_slot *sl = aio_slot_at(k->tgid, k->iocb);

	if (aio_slot_is(sl, k))
		return &sl->r;
	return tslot_ovf_find(&aio_reqs, HCI_TS_AIO, k);
}

/* stop following request @k */
static __always_inline void aio_req_del(struct aio_key *k)
{
	struct aio_slot *sl = aio_slot_at(k->tgid, k->iocb);

	if (aio_slot_is(sl, k)) {
		sl->r.tgid = 0;
		__sync_val_compare_and_swap(&sl->iocb, k->iocb, 0);
		return;
	}
	tslot_ovf_del(&aio_reqs, HCI_TS_AIO, k);
}

/* may request @r be reaped: io_submit took it and all its bios completed */
static __always_inline bool aio_reapable(__u32 ncompl, __u32 nbios)
{
	return (ncompl & HCI_AIO_SUBMITTED) && (ncompl & ~HCI_AIO_SUBMITTED) >= nbios;
}

/*
 * Request @k has just become reapable, and an eventfd read will see it:
 * hand it to aio_done (hci_maps.bpf.h). Its two ends race (the last bio's
 * completion on one CPU, io_submit's exit on another); each changes ncompl
 * with an atomic that returns the old value, so exactly one of them finds
 * the request reapable by its own change and pushes.
 */
static __always_inline void aio_done_push(const struct aio_key *k)
{
	struct aio_done_ent *d;
	__u64 pos;
	__u32 idx;

	if (!targ_bpf_loop)	/* no reader takes the ring: reads walk every request */
		return;
	pos = __sync_fetch_and_add(&aio_done_head, 1);
	idx = (__u32)pos & (HCI_AIO_DONE - 1);
	d = bpf_map_lookup_elem(&aio_done, &idx);
	if (!d)
		return;
	d->iocb = k->iocb;
	d->tgid = k->tgid;
	/* last, and an exchange: a reader that sees seq sees the rest */
	__sync_lock_test_and_set(&d->seq, pos + 1);
}

#endif /* HCI_TSLOT_BPF_H */
