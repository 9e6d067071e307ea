// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cgroup.bpf.c: cgroup changes, for hcithrottle.
 *
 * What it observes. mkdir, rmdir and task attach, all three passing the
 * cgroup first.
 *
 * What it hands on. One HCI_EV_CGROUP record each, on the ring buffer, which
 * keeps the daemon's origin map current without rescanning cgroupfs: a
 * removed cgroup is forgotten at once, a new one is named before its first
 * I/O.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hci_common.bpf.h"

static __always_inline int cg_event(struct cgroup *cgrp, __u32 kind)
{
	struct hci_cgevent *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(HCI_CNT_RB_LOST);
		return 0;
	}
	e->type = HCI_EV_CGROUP;
	e->kind = kind;
	e->cgid = BPF_CORE_READ(cgrp, kn, id);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("raw_tp/cgroup_mkdir")
int hci_cg_mkdir(__u64 *ctx)
{
	return cg_event((struct cgroup *)ctx[0], HCI_CG_MKDIR);
}

SEC("raw_tp/cgroup_rmdir")
int hci_cg_rmdir(__u64 *ctx)
{
	return cg_event((struct cgroup *)ctx[0], HCI_CG_RMDIR);
}

SEC("raw_tp/cgroup_attach_task")
int hci_cg_attach_task(__u64 *ctx)
{
	return cg_event((struct cgroup *)ctx[0], HCI_CG_ATTACH);
}
