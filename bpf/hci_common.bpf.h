/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The small helpers every layer's hot path uses: count a loss, find or create
 * a map value (a histogram's, or a small one from the stack), add a stage,
 * and tell whether the current process is a VMM. They are static
 * __always_inline on purpose: the layer files are linked, not compiled
 * together, and a helper called across files would become a real BPF-to-BPF
 * call, paid on every I/O.
 */
#ifndef HCI_COMMON_BPF_H
#define HCI_COMMON_BPF_H

#include <bpf/bpf_core_read.h>
#include "hci_maps.bpf.h"
#include "hci_stages.h"

/*
 * Atomic although per-CPU: a completion in softirq can interrupt another
 * program on this CPU between its load and its store of the same counter.
 */
static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		__sync_fetch_and_add(c, 1);
}

/*
 * @key's new value in @map, a copy of @init. Another CPU may have created it
 * first (BPF_NOEXIST then fails), so it is looked up either way; NULL only
 * if the map is full.
 */
static __always_inline void *insert_lookup(void *map, const void *key, const void *init)
{
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

/* @key's value in @map, created as a copy of @init (on the stack) on first use */
static __always_inline void *lookup_or_insert(void *map, const void *key, const void *init)
{
	void *v = bpf_map_lookup_elem(map, key);

	return v ? v : insert_lookup(map, key, init);
}

/*
 * A histogram value for @key, created from @zero_map's zeroed value (too big
 * for the stack) on first use. A full map is counted as @full, never silent.
 */
static __always_inline void *lookup_or_init(void *map, void *key, void *zero_map, __u32 full)
{
	__u32 zero = 0;
	void *v, *z;

	v = bpf_map_lookup_elem(map, key);
	if (v)
		return v;
	z = bpf_map_lookup_elem(zero_map, &zero);
	if (!z)
		return NULL;
	v = insert_lookup(map, key, z);
	if (!v)
		count(full);
	return v;
}

#define stage_add(v, stage, from, to) \
	hci_span_add((v)->slots[stage], &(v)->sum_ns[stage], (from), (to))

/*
 * Field @f of @type, as type T, out of @head: a copy of the object's first
 * sizeof(head) bytes, made with one bpf_probe_read where the field lies in
 * it (the caller checks with bpf_core_field_offset and _size). The offset
 * goes through barrier_var so that the compiler cannot fold it into the
 * load: libbpf checks a relocated load's width against the field's in the
 * running kernel, and refuses the object where they differ (reading the
 * low byte of a flags word that is 8 bytes in our vmlinux.h and 4 on v6.1).
 */
#define hci_head_field(T, head, type, f) ({					\
	__u32 __off = bpf_core_field_offset(type, f);				\
	barrier_var(__off);							\
	if (__off > sizeof(head) - sizeof(T))					\
		__off = sizeof(head) - sizeof(T);				\
	*(T *)((head) + __off);							\
})

/*
 * Can this program read the current task through BTF? Every program type
 * we use can, where the kernel has bpf_get_current_task_btf (v5.11): a few
 * plain loads instead of a helper call for each pointer on the way.
 */
#define hci_task_btf(btf) \
	((btf) || bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf))

/*
 * Is the submitting process a VMM? Compares the thread-group leader's comm
 * against the known VMM names with a few word compares (comm is 16 bytes):
 * through BTF, two loads, cheaper than any map lookup, so a process that is
 * no VMM leaves at once. A VMM was announced to user space the first time
 * (vmm_seen); vmm_seen_fast remembers that by tgid, in an array, so that its
 * later calls skip the hash too.
 */
static __always_inline __u32 vmm_tgid_of_current(const bool btf)
{
	union { char c[16]; __u64 w[2]; } comm = {};
	__u64 w0, w1;
	__u32 tgid, idx, *fast;
	__u8 one = 1;

	if (hci_task_btf(btf)) {
		struct task_struct *l = bpf_get_current_task_btf()->group_leader;

		comm.w[0] = *(__u64 *)&l->comm[0];
		comm.w[1] = *(__u64 *)&l->comm[8];
	} else {
		struct task_struct *t = (void *)bpf_get_current_task();

		bpf_probe_read_kernel(&comm, sizeof(comm),
				      BPF_CORE_READ(t, group_leader)->comm);
	}
	w0 = comm.w[0];
	w1 = comm.w[1];
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (targ_vm_tgid && tgid == targ_vm_tgid)
		goto vmm;
	/* "qemu-sys" "tem-" */
	if (!(w0 == 0x7379732d756d6571ULL && (w1 & 0xffffffff) == 0x2d6d6574) &&
	    /* "firecrac" "ker\0" */
	    !(w0 == 0x6361726365726966ULL && (w1 & 0xffffffff) == 0x72656b) &&
	    /* "cloud-hy" "pervis" */
	    !(w0 == 0x79682d64756f6c63ULL && (w1 & 0xffffffffffffULL) == 0x736976726570ULL) &&
	    /* "crosvm\0" */
	    !((w0 & 0xffffffffffffffULL) == 0x6d76736f7263ULL))
		return 0;
vmm:
	idx = tgid & (HCI_SEEN_FAST - 1);
	fast = bpf_map_lookup_elem(&vmm_seen_fast, &idx);
	if (fast && *fast == tgid)
		return tgid;
	if (bpf_map_lookup_elem(&vmm_seen, &tgid)) {
		if (fast)
			*fast = tgid;
		return tgid;
	}
	if (bpf_map_update_elem(&vmm_seen, &tgid, &one, BPF_NOEXIST) == 0) {
		struct hci_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

		if (fast)
			*fast = tgid;
		if (!e) {
			/* user space still names it, from /proc, when it reports */
			count(HCI_CNT_RB_LOST);
			return tgid;
		}
		__builtin_memset(e, 0, sizeof(*e));
		e->type = HCI_EV_VMM;
		e->vmm_tgid = tgid;
		__builtin_memcpy(e->comm, comm.c, sizeof(e->comm));
		bpf_ringbuf_submit(e, 0);
	} else if (!bpf_map_lookup_elem(&vmm_seen, &tgid)) {
		count(HCI_CNT_VMM_FULL);
	}
	return tgid;
}

#endif /* HCI_COMMON_BPF_H */
