// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The program-name convention (lib/bpf/layers.c): each program's layer, and
 * which programs a run loads. */
#include "tap.h"
#include "bpf/features.h"
#include "bpf/tracer.h"
#include "bpf/layers.h"

int main(void)
{
	struct hci_tracer_opts o = { 0 };
	struct hci_features f = { .kvm = true, .uring = false };

	is_int(hci_prog_layer_of("hci_block_rq_complete_btf")->layer, HCI_BPF_BLOCK, "hci_block_ is the block layer");
	is_int(hci_prog_layer_of("hci_sys_enter_pread64")->layer, HCI_BPF_VMM, "hci_sys_ is the VMM layer");
	is_int(hci_prog_layer_of("hci_sys_exit_io_uring_enter")->layer, HCI_BPF_VMM,
	       "io_uring's syscall exit loads with the VMM layer");
	is_int(hci_prog_layer_of("hci_io_uring_complete_raw")->layer, HCI_BPF_URING, "io_uring_");
	is_int(hci_prog_layer_of("hci_kvm_exit_raw")->layer, HCI_BPF_KVM, "kvm_");
	is_int(hci_prog_layer_of("hci_app_enter_read")->layer, HCI_BPF_APP, "app_");
	is_int(hci_prog_layer_of("hci_cg_mkdir")->layer, HCI_BPF_CGROUP, "cg_");
	ok(hci_prog_layer_of("hci_kvm_pio_raw")->optional && hci_prog_layer_of("hci_io_uring_file_get_raw")->optional &&
	   !hci_prog_layer_of("hci_sys_enter_fsync")->optional, "only kvm_ and io_uring_ are optional");
	ok(hci_prog_layer_of("hci_app_exit_write")->tracefs && hci_prog_layer_of("hci_sys_exit_fsync")->tracefs &&
	   !hci_prog_layer_of("hci_cg_rmdir")->tracefs, "syscall tracepoints need tracefs");

	ok(hci_prog_wanted("hci_block_getrq_btf", &o, &f, true) && !hci_prog_wanted("hci_block_getrq_raw", &o, &f, true),
	   "tp_btf: only the _btf variant");
	ok(!hci_prog_wanted("hci_block_getrq_btf", &o, &f, false) && hci_prog_wanted("hci_block_getrq_raw", &o, &f, false),
	   "raw_tp: only the _raw variant");
	ok(!hci_prog_wanted("hci_sys_enter_pread64", &o, &f, true) && !hci_prog_wanted("hci_kvm_exit_raw", &o, &f, true) &&
	   !hci_prog_wanted("hci_app_enter_read", &o, &f, true) && !hci_prog_wanted("hci_cg_mkdir", &o, &f, true),
	   "optional layers stay unloaded unless asked for");
	o.vmm = true;
	ok(hci_prog_wanted("hci_sys_enter_pread64", &o, &f, true) && hci_prog_wanted("hci_kvm_exit_raw", &o, &f, true) &&
	   !hci_prog_wanted("hci_io_uring_complete_raw", &o, &f, true),
	   "--vmm: syscalls, and KVM and io_uring where the kernel has them");
	o.app = o.cgroups = true;
	ok(hci_prog_wanted("hci_app_enter_read", &o, &f, true) && hci_prog_wanted("hci_cg_mkdir", &o, &f, true),
	   "--app and cgroup events load their layers");
	f.kernel_g = true;
	ok(!hci_prog_wanted("hci_block_getrq_btf", &o, &f, true) && !hci_prog_wanted("hci_block_getrq_raw", &o, &f, false) &&
	   hci_prog_wanted("hci_block_rq_issue_btf", &o, &f, true),
	   "G from the kernel's stamp: block_getrq alone stays unloaded");
	f.kernel_d = true;
	ok(!hci_prog_wanted("hci_block_rq_issue_btf", &o, &f, true) &&
	   !hci_prog_wanted("hci_block_rq_issue_raw", &o, &f, false) &&
	   hci_prog_wanted("hci_block_rq_insert_btf", &o, &f, true) &&
	   hci_prog_wanted("hci_block_rq_complete_btf", &o, &f, true),
	   "D from the kernel's stamp: block_rq_issue alone stays unloaded");
	f.uring = true;
	ok(hci_prog_wanted("hci_io_uring_submit_req_raw", &o, &f, true) &&
	   !hci_prog_wanted("hci_io_uring_submit_sqe_raw", &o, &f, true) &&
	   hci_prog_wanted("hci_io_uring_file_get_raw", &o, &f, true),
	   "io_uring: the SQE by io_uring_submit_req");
	ok(hci_prog_wanted("hci_sys_exit_io_uring_enter", &o, &f, true) &&
	   !hci_prog_wanted("hci_io_uring_thread_exit", &o, &f, true),
	   "io_uring: the submitter's request ends at io_uring_enter's exit");
	f.syscall_regs = true;
	ok(!hci_prog_wanted("hci_sys_exit_io_uring_enter", &o, &f, true) &&
	   hci_prog_wanted("hci_io_uring_thread_exit", &o, &f, true),
	   "... or, with the saved registers, at its thread's exit");
	f.uring = false;
	ok(!hci_prog_wanted("hci_sys_exit_io_uring_enter", &o, &f, true) &&
	   !hci_prog_wanted("hci_io_uring_thread_exit", &o, &f, true),
	   "no io_uring tracepoints: neither");
	f.uring = f.uring_submit_sqe = true;
	ok(!hci_prog_wanted("hci_io_uring_submit_req_raw", &o, &f, true) &&
	   hci_prog_wanted("hci_io_uring_submit_sqe_raw", &o, &f, true),
	   "v6.1: the SQE by io_uring_submit_sqe");
	o.vmm = false;
	ok(!hci_prog_wanted("hci_io_uring_submit_sqe_raw", &o, &f, true) &&
	   !hci_prog_wanted("hci_io_uring_file_get_raw", &o, &f, true),
	   "without --vmm, none of io_uring's");
	return done_testing();
}
