// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The program-name convention of the BPF object, written down once.
 *
 * Every program's name starts with hci_, so that bpftool prog show (and any
 * operator's listing of loaded programs) says whose it is; the kernel keeps
 * the first 15 characters (hci_block_rq_co), bpftool prints the whole name
 * from BTF. After hci_, the name says its layer by prefix, and the layer says
 * when it loads. The prefixes follow the bpf/ files: block_ (block.bpf.c,
 * named after the tracepoint, with a _btf or _raw suffix for the two
 * variants), kvm_ (kvm.bpf.c), app_ (app.bpf.c), cg_ (cgroup.bpf.c),
 * io_uring_ (vmm_uring.bpf.c) and sys_ for the VMM layer's syscall
 * tracepoints (vmm.bpf.c, vmm_aio.bpf.c, and hci_sys_exit_io_uring_enter in
 * vmm_uring.bpf.c). The VMM's are sys_ rather than vmm_ because tests drive
 * them by name (tests/bpf/test_kvm_bpf.c runs hci_sys_enter_pread64). A new
 * program takes its file's prefix; a new layer, a new row here.
 */
#include <string.h>
#include "features.h"
#include "tracer.h"
#include "layers.h"

static const struct hci_prog_layer layers[] = {
	{ "hci_block_", HCI_BPF_BLOCK, false, false },
	{ "hci_sys_", HCI_BPF_VMM, false, true },
	{ "hci_io_uring_", HCI_BPF_URING, true, false },
	{ "hci_kvm_", HCI_BPF_KVM, true, false },
	{ "hci_app_", HCI_BPF_APP, false, true },
	{ "hci_cg_", HCI_BPF_CGROUP, false, false },
};

const struct hci_prog_layer *hci_prog_layer_of(const char *name)
{
	for (size_t i = 0; i < sizeof(layers) / sizeof(layers[0]); i++)
		if (!strncmp(name, layers[i].prefix, strlen(layers[i].prefix)))
			return &layers[i];
	return &layers[0];
}

bool hci_prog_wanted(const char *name, const struct hci_tracer_opts *o,
		     const struct hci_features *feat, bool use_btf)
{
	size_t l = strlen(name);
	bool is_btf = l > 4 && !strcmp(name + l - 4, "_btf");

	switch (hci_prog_layer_of(name)->layer) {
	case HCI_BPF_VMM:
		/* its exit reads the events buffer from the saved registers */
		if (feat->syscall_regs && !strcmp(name, "hci_sys_enter_io_getevents"))
			return false;
		/* the submitter's io_uring request: see hci_io_uring_thread_exit */
		if (!strcmp(name, "hci_sys_exit_io_uring_enter"))
			return o->vmm && feat->uring && !feat->syscall_regs;
		return o->vmm;
	case HCI_BPF_URING:
		if (!o->vmm || !feat->uring)
			return false;
		/* one of the two names the SQE's tracepoint has had */
		if (!strcmp(name, "hci_io_uring_submit_sqe_raw"))
			return feat->uring_submit_sqe;
		if (!strcmp(name, "hci_io_uring_submit_req_raw"))
			return !feat->uring_submit_sqe;
		/* frees what io_uring_enter's exit frees where that is loaded */
		if (!strcmp(name, "hci_io_uring_thread_exit"))
			return feat->syscall_regs;
		return true;
	case HCI_BPF_KVM: return o->vmm && feat->kvm;
	case HCI_BPF_APP: return o->app;
	case HCI_BPF_CGROUP: return o->cgroups;
	default:
		if (feat->kernel_g && !strncmp(name, "hci_block_getrq_", 16))
			return false;
		if (feat->kernel_d && !strncmp(name, "hci_block_rq_issue_", 19))
			return false;
		return is_btf == use_btf;
	}
}
