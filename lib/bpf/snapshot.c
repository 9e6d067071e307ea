// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Snapshots of per-CPU BPF maps: read whole, summed over CPUs, found by key. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "core/hist.h"
#include "snapshot.h"
#include "tracer.h"

void hci_snap_free(struct hci_snap *sn)
{
	free(sn->keys);
	free(sn->vals);
	memset(sn, 0, sizeof(*sn));
}

/* Read a whole per-CPU map, values summed over CPUs. */
int hci_snapshot(struct hci_tracer *t, struct bpf_map *map, struct hci_snap *sn)
{
	int fd = bpf_map__fd(map);
	size_t ksz = bpf_map__key_size(map), vsz = bpf_map__value_size(map);
	size_t words = vsz / sizeof(__u64), cap = 0;
	char key[64], next[64];
	void *prev = NULL;
	__u64 *percpu;

	memset(sn, 0, sizeof(*sn));
	sn->ksz = ksz;
	sn->vsz = vsz;
	if (ksz > sizeof(key))
		return -EINVAL;
	percpu = calloc((size_t)t->ncpus, vsz);
	if (!percpu)
		return -ENOMEM;
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, ksz);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, percpu))
			continue;	/* deleted under us */
		if (sn->n == cap) {
			char *k;
			__u64 *v;

			cap = cap ? cap * 2 : 16;
			k = realloc(sn->keys, cap * ksz);
			v = k ? realloc(sn->vals, cap * vsz) : NULL;
			if (k)
				sn->keys = k;
			if (!v) {
				free(percpu);
				hci_snap_free(sn);
				return -ENOMEM;
			}
			sn->vals = v;
		}
		memcpy(sn->keys + sn->n * ksz, key, ksz);
		memset(&sn->vals[sn->n * words], 0, vsz);
		for (int c = 0; c < t->ncpus; c++)
			hci_u64s_add(&sn->vals[sn->n * words], &percpu[c * words], words);
		sn->n++;
	}
	free(percpu);
	return 0;
}

const __u64 *hci_snap_find(const struct hci_snap *sn, const void *key)
{
	for (size_t j = 0; j < sn->n; j++)
		if (!memcmp(sn->keys + j * sn->ksz, key, sn->ksz))
			return &sn->vals[j * (sn->vsz / sizeof(__u64))];
	return NULL;
}

