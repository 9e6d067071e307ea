// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Feature calibration. The build machines have no kprobes and fentry fails,
 * so hcitrace stands on tracepoints only: tp_btf where the kernel has BTF for
 * the tracepoint, raw_tp otherwise. v5.11 dropped the request_queue argument
 * of the block tracepoints; we count the prototype's parameters, as
 * libbpf-tools does, instead of looking at version numbers.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "features.h"

static int proto_nargs(const struct btf *btf, const char *typedef_name)
{
	const struct btf_type *t;
	int id = btf__find_by_name_kind(btf, typedef_name, BTF_KIND_TYPEDEF);

	if (id < 0)
		return -1;
	t = btf__type_by_id(btf, id);
	t = btf__type_by_id(btf, t->type);		/* pointer */
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(btf, t->type);		/* func proto */
	if (!t || !btf_is_func_proto(t))
		return -1;
	return btf_vlen(t);
}

/* does struct @type have a member @member? */
static bool has_member(const struct btf *btf, const char *type, const char *member)
{
	int id = btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	const struct btf_member *m = t ? btf_members(t) : NULL;

	for (int i = 0; t && i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(btf, m[i].name_off), member))
			return true;
	return false;
}

/* does enum @type have a value @name? */
static bool has_enum_value(const struct btf *btf, const char *type, const char *name)
{
	int id = btf__find_by_name_kind(btf, type, BTF_KIND_ENUM);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	const struct btf_enum *e = t ? btf_enum(t) : NULL;

	for (int i = 0; t && i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(btf, e[i].name_off), name))
			return true;
	return false;
}

/*
 * HCI_FEATURES_OFF=NAME[,NAME...] makes a feature look missing, so that the
 * tests run the fallback a kernel without it takes (docs/testing.md).
 */
static const struct {
	const char *name;
	size_t off;
} switchable[] = {
	{ "syscall_regs", offsetof(struct hci_features, syscall_regs) },
	{ "rdonly_cast", offsetof(struct hci_features, rdonly_cast) },
	{ "bpf_loop", offsetof(struct hci_features, bpf_loop) },
	{ "uring_worker", offsetof(struct hci_features, uring_worker) },
};

static void features_off(struct hci_features *f, const char *list)
{
	size_t l;

	for (const char *p = list; p && *p; p += l + (p[l] == ',')) {
		l = strcspn(p, ",");
		for (size_t i = 0; i < sizeof(switchable) / sizeof(switchable[0]); i++)
			if (strlen(switchable[i].name) == l && !strncmp(p, switchable[i].name, l))
				*(bool *)((char *)f + switchable[i].off) = false;
	}
}

/*
 * The io_uring tracepoints the VMM layer follows a request by, and how this
 * kernel passes it. v6.1 (Debian 12's kernel) names the SQE's tracepoint
 * io_uring_submit_sqe, later kernels io_uring_submit_req; both pass the
 * request first, where some older ones pass (ctx, req, ...), seen here by
 * io_uring_file_get's count of arguments (untested: no such kernel is at
 * hand). The SQE's fd is read from the request's cqe.fd (vmm_uring.bpf.c),
 * which kernels before io_kiocb had a cqe lack: there the layer is not
 * loaded. An io-wq worker is linked to the request it runs through its
 * task's worker_private (v5.17), the worker's struct io_worker, whose
 * cur_work is embedded in that request: in every worker, whatever the
 * kernel's order of file assignment and punt, and with no program of its
 * own. Read through BTF (bpf_get_current_task_btf, v5.11).
 */
static void uring_probe(const struct btf *btf, struct hci_features *f)
{
	int complete = proto_nargs(btf, "btf_trace_io_uring_complete");
	int file_get = proto_nargs(btf, "btf_trace_io_uring_file_get");
	bool submit_req = proto_nargs(btf, "btf_trace_io_uring_submit_req") > 0;
	bool submit_sqe = proto_nargs(btf, "btf_trace_io_uring_submit_sqe") > 0;

	/* the first argument is the "void *__data" of the tracepoint */
	f->uring_cqe_ptr = complete == 4;
	f->uring_ctx_first = file_get == 5;
	f->uring_submit_sqe = !submit_req && submit_sqe;
	f->uring = complete > 0 && (file_get == 3 || file_get == 5) &&
		   (submit_req || submit_sqe) &&
		   proto_nargs(btf, "btf_trace_io_uring_queue_async_work") > 0 &&
		   has_member(btf, "io_kiocb", "cqe");
	f->uring_worker = f->uring && has_member(btf, "task_struct", "worker_private") &&
			  has_member(btf, "io_worker", "cur_work") &&
			  has_member(btf, "io_kiocb", "work") &&
			  has_enum_value(btf, "bpf_func_id", "BPF_FUNC_get_current_task_btf");
}

void hci_probe_features(struct hci_features *f)
{
	struct btf *btf;
	int n;

	f->btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	f->tracefs = access("/sys/kernel/tracing/events/block", F_OK) == 0 ||
		     access("/sys/kernel/debug/tracing/events/block", F_OK) == 0;
	f->tp_btf = false;
	f->single_arg = true;
	btf = f->btf ? btf__load_vmlinux_btf() : NULL;
	if (!btf)
		return;
	/* the first argument is the "void *__data" of the tracepoint */
	n = proto_nargs(btf, "btf_trace_block_rq_issue");
	if (n > 0) {
		f->tp_btf = true;
		f->single_arg = n == 2;
	}
	n = proto_nargs(btf, "btf_trace_kvm_exit");
	f->kvm = n > 0 || access("/sys/kernel/tracing/events/kvm", F_OK) == 0;
	f->kvm_exit_reason_arg = n == 4;
	uring_probe(btf, f);
	f->rq_start_time = has_member(btf, "request", "start_time_ns");
	f->rq_io_start_time = has_member(btf, "request", "io_start_time_ns");
	/*
	 * v5.15 gave every tracing program bpf_task_pt_regs: a syscall's exit
	 * can read the arguments its entry saw, and no entry program is needed
	 * to keep them. The helper's task argument comes from
	 * bpf_get_current_task_btf (v5.11).
	 */
	f->syscall_regs = has_enum_value(btf, "bpf_func_id", "BPF_FUNC_task_pt_regs") &&
			  has_enum_value(btf, "bpf_func_id", "BPF_FUNC_get_current_task_btf");
	/*
	 * v6.2's kfunc bpf_rdonly_cast types a kernel address by its BTF, so
	 * that the VMM layer reads an image's file and inode with plain loads
	 * instead of a bpf_probe_read each, and io_uring's requests too
	 * (vmm_kread.bpf.c).
	 */
	f->rdonly_cast = btf__find_by_name_kind(btf, "bpf_rdonly_cast", BTF_KIND_FUNC) > 0;
	/*
	 * v5.17's bpf_loop lets a VM's eventfd read (QEMU aio=native) take
	 * just the requests that completed since its last one; without it,
	 * each such read walks every request followed (vmm_aio.bpf.c).
	 */
	f->bpf_loop = has_enum_value(btf, "bpf_func_id", "BPF_FUNC_loop");
	btf__free(btf);
	features_off(f, getenv("HCI_FEATURES_OFF"));
}

void hci_features_print(FILE *out, const struct hci_features *f, bool use_tp_btf, bool vmm)
{
	fprintf(out, "features: kernel BTF %s, tp_btf %s, block tracepoint args %s, tracefs %s\n",
		f->btf ? "yes" : "no", f->tp_btf ? "yes" : "no",
		f->single_arg ? "v5.11+ (no queue arg)" : "pre-v5.11 (queue arg)",
		f->tracefs ? "mounted" : "not mounted");
	fprintf(out, "KVM tracepoints: %s\n", f->kvm ? "yes" : "no (KVM stages will be absent)");
	if (f->uring)
		fprintf(out, "io_uring tracepoints: yes (%s, arguments (%s...))%s\n",
			f->uring_submit_sqe ? "io_uring_submit_sqe" : "io_uring_submit_req",
			f->uring_ctx_first ? "ctx, req, " : "req, ",
			!vmm ? "" : f->uring_worker ? "; io-wq workers by their current work" :
			"; io-wq workers by io_uring_file_get only");
	else
		fprintf(out, "io_uring tracepoints: no (io_uring requests' VMM stages "
			"will be absent)\n");
	fprintf(out, "syscall arguments at exit: %s\n", f->syscall_regs ?
		"yes (bpf_task_pt_regs)" : "no (kept by entry programs)");
	fprintf(out, "kernel objects by BTF cast: %s\n", f->rdonly_cast ?
		"yes (bpf_rdonly_cast)" : "no (bpf_probe_read)");
	fprintf(out, "aio eventfd reaps: %s\n", f->bpf_loop ?
		"what completed since the last (bpf_loop)" : "a walk of every request");
	fprintf(out, "probes: %s on block_bio_queue, block_getrq, block_rq_insert, "
		"block_rq_issue, block_rq_complete, block_bio_complete, "
		"block_bio_{back,front}merge, block_split, block_rq_requeue, block_rq_merge\n",
		use_tp_btf ? "tp_btf" : "raw_tp");
}
