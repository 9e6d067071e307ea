/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Per-object state (one bio or one request in flight) without a global hash
 * on the hot path.
 *
 * A slot lives in an ARRAY map indexed by a multiplicative hash of the
 * object's address; array lookups are inlined by the verifier, and a slot is
 * claimed with one compare-and-swap on its key. Only when two live objects
 * hash to the same slot does the second one go to a bounded hash (the
 * overflow). When both are full, the loss is counted, never silent.
 *
 * The overflow is a plain hash, not an LRU: an LRU evicts live entries
 * without telling anyone (with small tables long before it is full, since
 * it hands its free entries out to CPUs in batches), and it recycles an
 * evicted entry at once, under the pointer of a program still writing it.
 *
 * An array slot whose owner vanished without a final event (an error path
 * we do not trace) is reclaimed once it is older than HCI_SLOT_STALE_NS, and
 * counted.
 */
#ifndef HCI_SLOTS_BPF_H
#define HCI_SLOTS_BPF_H

#define HCI_SLOT_STALE_NS (30ULL * 1000 * 1000 * 1000)

static __always_inline __u32 hci_slot_idx(__u64 key, __u32 mask)
{
	/* objects are >= 64-byte aligned slab entries: drop the low bits */
	return (__u32)(((key >> 6) * 0x9E3779B97F4A7C15ULL) >> 32) & mask;
}

/*
 * @live counts the overflow's entries. It is raised before an entry is
 * added and lowered after one is deleted, so an entry that exists is always
 * counted: while it reads 0, a miss in the array is a miss, with no hash
 * lookup. That is the common case at the first sight of a request, when its
 * slot does not exist yet.
 */
static __always_inline bool hci_ovf_empty(const __u64 *live)
{
	return *(const volatile __u64 *)live == 0;
}

static __always_inline struct hci_slot *
hci_slot_find(void *arr, void *ovf, __u64 *live, __u64 key, __u32 mask)
{
	__u32 idx = hci_slot_idx(key, mask);
	struct hci_slot *s = bpf_map_lookup_elem(arr, &idx);

	if (s && s->key == key)
		return s;
	if (hci_ovf_empty(live))
		return NULL;
	return bpf_map_lookup_elem(ovf, &key);
}

/*
 * Find or create the slot for @key. *created tells the caller to fill it.
 * Returns NULL only when the array slot is taken and the overflow is full.
 */
static __always_inline struct hci_slot *
hci_slot_get(void *arr, void *ovf, __u64 *live, __u64 key, __u32 mask, __u64 now,
	     bool *created, __u64 *stale)
{
	__u32 idx = hci_slot_idx(key, mask);
	struct hci_slot *s = bpf_map_lookup_elem(arr, &idx);
	struct hci_slot fresh = {};
	__u64 old;

	*created = false;
	if (s) {
		old = __sync_val_compare_and_swap(&s->key, 0, key);
		if (old == key)
			return s;
		if (old == 0)
			goto claimed;
		if (hci_slot_stale(now, s->ts, HCI_SLOT_STALE_NS) &&
		    __sync_val_compare_and_swap(&s->key, old, key) == old) {
			(*stale)++;
			goto claimed;
		}
	}
	s = hci_ovf_empty(live) ? NULL : bpf_map_lookup_elem(ovf, &key);
	if (s)
		return s;
	fresh.key = key;
	fresh.ts = now;
	fresh.in_ovf = 1;
	__sync_fetch_and_add(live, 1);
	if (bpf_map_update_elem(ovf, &key, &fresh, BPF_NOEXIST)) {
		__sync_fetch_and_add(live, -1);
		return NULL;
	}
	*created = true;
	return bpf_map_lookup_elem(ovf, &key);

claimed:
	s->ts = 0;
	s->tq = s->tg = s->ti = s->td = 0;
	s->cgid = 0;
	s->vmm_tgid = 0;
	s->flags = 0;
	s->in_ovf = 0;
	s->bytes = 0;
	s->sector = 0;
	s->vreq_id = 0;
	s->vtid = 0;
	s->pid = 0;
	s->comm[0] = '\0';
	s->ts = now;
	*created = true;
	return s;
}

/* Release slot @s. False if it stays behind, dead (see below): put it again. */
static __always_inline bool hci_slot_put(void *ovf, __u64 *live, struct hci_slot *s)
{
	__u64 key = s->key;

	if (s->in_ovf) {
		/*
		 * A delete fails (-EBUSY) when this program interrupted
		 * another one inside the same hash bucket lock on this CPU.
		 * The entry stays, marked dead (no flags): it is not in
		 * flight, and the next user of the key starts afresh.
		 */
		if (bpf_map_delete_elem(ovf, &key)) {
			s->flags = 0;
			return false;
		}
		__sync_fetch_and_add(live, -1);
		return true;
	}
	s->ts = 0;
	s->key = 0;
	return true;
}

#endif /* HCI_SLOTS_BPF_H */
