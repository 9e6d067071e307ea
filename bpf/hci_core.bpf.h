/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * CO-RE accessors for the block layer, so one object loads on old and new
 * kernels. Every kernel difference is resolved at load time with
 * bpf_core_field_exists(), never with #if on kernel versions.
 *
 * Each accessor takes a compile-time "btf" flag. tp_btf programs get typed
 * kernel pointers and read fields with plain loads (the verifier turns them
 * into fault-safe PROBE_MEM loads); raw_tp programs get untyped numbers and
 * must go through bpf_probe_read_kernel (BPF_CORE_READ). A helper call per
 * field costs about as much as the rest of a handler, hence the split.
 */
#ifndef HCI_CORE_BPF_H
#define HCI_CORE_BPF_H

#include <bpf/bpf_core_read.h>
#include "hci_abi.h"

/* one field, either way */
#define HCI_RD(btf, p, field) ((btf) ? (p)->field : BPF_CORE_READ(p, field))

/*
 * v5.12 (commit 309dca309fc3 "block: store a block_device pointer in struct
 * bio") replaced bio->bi_disk with bio->bi_bdev.
 */
struct bio___old {
	struct gendisk *bi_disk;
} __attribute__((preserve_access_index));

/*
 * v5.16 (commit f3fa33acca9f "block: remove the ->rq_disk field in struct
 * request") made rq->q->disk the only way to the disk.
 */
struct request___old {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline __u32 hci_disk_dev(struct gendisk *disk, const bool btf)
{
	if (!disk)
		return 0;
	return HCI_DEV_MKDEV(HCI_RD(btf, disk, major), HCI_RD(btf, disk, first_minor));
}

static __always_inline struct gendisk *hci_bio_disk(struct bio *bio, const bool btf)
{
	if (bpf_core_field_exists(bio->bi_bdev)) {
		if (btf)
			return bio->bi_bdev->bd_disk;
		return BPF_CORE_READ(bio, bi_bdev, bd_disk);
	}
	return BPF_CORE_READ((struct bio___old *)bio, bi_disk);
}

static __always_inline struct gendisk *hci_rq_disk(struct request *rq, const bool btf)
{
	if (bpf_core_field_exists(((struct request___old *)rq)->rq_disk))
		return BPF_CORE_READ((struct request___old *)rq, rq_disk);
	if (btf)
		return rq->q->disk;
	return BPF_CORE_READ(rq, q, disk);
}

/*
 * The owner cgroup of a bio: the blkcg it is charged to. Read at submission,
 * where bi_blkg is set; buffered writeback by kworkers is charged to the
 * page owner here too (on cgroup v2). 0 if the bio has no blkg.
 */
static __always_inline __u64 hci_bio_cgid(struct bio *bio, const bool btf)
{
	if (!bio)
		return 0;
	if (btf) {
		struct blkcg_gq *blkg = bio->bi_blkg;

		return blkg ? blkg->blkcg->css.cgroup->kn->id : 0;
	}
	return BPF_CORE_READ(bio, bi_blkg, blkcg, css.cgroup, kn, id);
}

/* REQ_OP_* sits in the low 8 bits of bi_opf/cmd_flags since v4.10. */
static __always_inline __u32 hci_op_of(__u32 opf)
{
	switch (opf & 0xff) {
	case 0: return HCI_OP_READ;
	case 1: return HCI_OP_WRITE;
	case 2: return HCI_OP_FLUSH;
	case 3: return HCI_OP_DISCARD;
	default: return HCI_OP_OTHER;
	}
}

#endif /* HCI_CORE_BPF_H */
