// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The program-name convention of the BPF object, written down once.
 *
 * A program's name says its layer by prefix, and the layer says when it
 * loads. The prefixes follow the bpf/ files: block_ (block.bpf.c, named
 * after the tracepoint, with a _btf or _raw suffix for the two variants),
 * kvm_ (kvm.bpf.c), app_ (app.bpf.c), cg_ (cgroup.bpf.c), io_uring_
 * (vmm_uring.bpf.c) and sys_ for the VMM layer's syscall tracepoints
 * (vmm.bpf.c, vmm_aio.bpf.c, and sys_exit_io_uring_enter in
 * vmm_uring.bpf.c). The VMM's are sys_ rather than vmm_ because the names are
 * visible in bpftool and tests drive them by name (tests/bpf/test_kvm_bpf.c
 * runs sys_enter_pread64). A new program takes its file's prefix; a new
 * layer, a new row here.
 */
#include <string.h>
#include "features.h"
#include "tracer.h"
#include "layers.h"

static const struct hci_prog_layer layers[] = {
	{ "block_", HCI_BPF_BLOCK, false, false },
	{ "sys_", HCI_BPF_VMM, false, true },
	{ "io_uring_", HCI_BPF_URING, true, false },
	{ "kvm_", HCI_BPF_KVM, true, false },
	{ "app_", HCI_BPF_APP, false, true },
	{ "cg_", HCI_BPF_CGROUP, false, false },
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
	case HCI_BPF_VMM: return o->vmm;
	case HCI_BPF_URING: return o->vmm && feat->uring;
	case HCI_BPF_KVM: return o->vmm && feat->kvm;
	case HCI_BPF_APP: return o->app;
	case HCI_BPF_CGROUP: return o->cgroups;
	default: return is_btf == use_btf;
	}
}
