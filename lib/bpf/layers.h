/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Which layer of the BPF object a program belongs to, from its name, and
 * whether this run loads it. The table and its convention are in layers.c.
 */
#ifndef HCI_LAYERS_H
#define HCI_LAYERS_H
#include <stdbool.h>

struct hci_tracer_opts;
struct hci_features;

enum hci_bpf_layer {
	HCI_BPF_BLOCK,		/* block.bpf.c */
	HCI_BPF_VMM,		/* vmm.bpf.c, vmm_aio.bpf.c, and vmm_uring.bpf.c's syscall exit */
	HCI_BPF_URING,		/* vmm_uring.bpf.c's io_uring tracepoints */
	HCI_BPF_KVM,		/* kvm.bpf.c */
	HCI_BPF_APP,		/* app.bpf.c */
	HCI_BPF_CGROUP,		/* cgroup.bpf.c */
};

struct hci_prog_layer {
	const char *prefix;	/* every program name of the layer starts with it */
	enum hci_bpf_layer layer;
	bool optional;		/* a kernel without its tracepoints loses only its stages */
	bool tracefs;		/* syscall tracepoints: attaching them needs tracefs */
};

/* the layer of program @name (the block layer if no prefix matches) */
const struct hci_prog_layer *hci_prog_layer_of(const char *name);

/*
 * Does this run load program @name? The optional layers cost nothing unless
 * asked for; of the block layer's tp_btf/raw_tp pair, only the variant in use
 * (@use_btf) loads.
 */
bool hci_prog_wanted(const char *name, const struct hci_tracer_opts *o,
		     const struct hci_features *feat, bool use_btf);
#endif
