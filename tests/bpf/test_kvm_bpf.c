// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The KVM handlers, on this machine where no kvm_* tracepoint fires (TCG,
 * PVM): load the real programs, drive the raw_tp ones with
 * BPF_PROG_TEST_RUN and synthetic arguments, and issue real preads as the
 * "VMM" (this process, via targ_vm_tgid) so that the syscall side runs too.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "hcitrace.skel.h"
#include "hci_abi.h"
#include "tap.h"

static struct hcitrace *skel;
static int ncpus;

static int run(struct bpf_program *prog, __u64 a0, __u64 a1, __u64 a2, __u64 a3)
{
	__u64 args[5] = { a0, a1, a2, a3, 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = args, .ctx_size_in = sizeof(args));

	return bpf_prog_test_run_opts(bpf_program__fd(prog), &o);
}

static __u64 kvm_count(int which)
{
	__u32 tgid = getpid();
	struct hci_kvm_val v[ncpus];
	__u64 n = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.kvm_counts), &tgid, v))
		return 0;
	for (int c = 0; c < ncpus; c++)
		n += v[c].c[which];
	return n;
}

/* the VMM-layer summary of this process's reads, summed over CPUs */
static int vmm_read(struct hci_vmm_val *out)
{
	int fd = bpf_map__fd(skel->maps.vmm_hists);
	struct hci_vmm_key k, *prev = NULL;
	struct hci_vmm_val *v = calloc(ncpus, sizeof(*v));
	int found = 0;

	memset(out, 0, sizeof(*out));
	while (v && !bpf_map_get_next_key(fd, prev, &k)) {
		prev = &k;
		if (k.vmm_tgid != (__u32)getpid() || k.op != HCI_OP_READ ||
		    bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (int c = 0; c < ncpus; c++) {
			__u64 *d = (__u64 *)out, *s = (__u64 *)&v[c];

			for (size_t w = 0; w < sizeof(*out) / 8; w++)
				d[w] += s[w];
		}
		found = 1;
	}
	free(v);
	return found;
}

static __u64 stage_count(const struct hci_vmm_val *v, int s)
{
	__u64 n = 0;

	for (int b = 0; b < HCI_NBUCKETS; b++)
		n += v->slots[s][b];
	return n;
}

static __u64 exits(__u32 reason)
{
	struct hci_exit_key k = { .vmm_tgid = getpid(), .reason = reason };
	__u64 v[ncpus], n = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.kvm_exits), &k, v))
		return 0;
	for (int c = 0; c < ncpus; c++)
		n += v[c];
	return n;
}

static int kvm_state(__u64 *t_notify, __u64 *t_vdone)
{
	__u32 tgid = getpid();
	struct { __u64 t_notify, t_vdone; __u32 dev, op; } st;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.kvm_states), &tgid, &st))
		return -1;
	*t_notify = st.t_notify;
	*t_vdone = st.t_vdone;
	return 0;
}

int main(void)
{
	struct bpf_program *prog;
	struct bpf_link *l1, *l2;
	struct hci_vmm_val v;
	__u64 tn = 0, tv = 0;
	char path[] = "/tmp/hcikvmXXXXXX", buf[4096] = "x";
	int fd, st;
	pid_t child;

	ncpus = libbpf_num_possible_cpus();
	skel = hcitrace__open();
	ok(skel != NULL, "open skeleton");
	if (!skel)
		return done_testing();
	skel->rodata->targ_vmm = true;
	skel->rodata->targ_vm_tgid = getpid();
	bpf_object__for_each_program(prog, skel->obj) {
		const char *n = bpf_program__name(prog);

		bpf_program__set_autoload(prog, !strncmp(n, "hci_kvm_", 8) ||
					  !strcmp(n, "hci_sys_enter_pread64") ||
					  !strcmp(n, "hci_sys_exit_pread64"));
	}
	ok(hcitrace__load(skel) == 0, "load the KVM raw_tp and pread programs");
	l1 = bpf_program__attach(skel->progs.hci_sys_enter_pread64);
	l2 = bpf_program__attach(skel->progs.hci_sys_exit_pread64);
	ok(l1 && l2, "attach the pread64 syscall tracepoints");

	ok(run(skel->progs.hci_kvm_fast_mmio_raw, 0xfe003000, 0, 0, 0) == 0, "test-run kvm_fast_mmio");
	is_int(kvm_count(HCI_KVM_NOTIFY), 1, "a notify is counted for the VM");
	ok(!kvm_state(&tn, &tv) && tn, "the notify waits for a VMM submit");

	fd = mkstemp(path);
	ok(fd >= 0 && write(fd, buf, sizeof(buf)) == sizeof(buf), "scratch image");
	ok(pread(fd, buf, sizeof(buf), 0) == sizeof(buf), "VMM request 1 (pread)");
	ok(vmm_read(&v) && v.ios == 1, "the pread is a VMM request of this VM");
	is_int(stage_count(&v, HCI_N2V), 1, "N2V: notify -> submit measured");
	is_int(stage_count(&v, HCI_V2V), 1, "V2V measured");
	is_int(v.absorbed, 1, "page-cache read: absorbed, no host bio");
	is_int(stage_count(&v, HCI_V2Q), 0, "absorbed: V2Q absent");
	ok(!kvm_state(&tn, &tv) && !tn && tv, "notify taken; completion waits for an irq");
	ok(pread(fd, buf, sizeof(buf), 0) == sizeof(buf), "VMM request 2 (no notify before it)");
	vmm_read(&v);
	is_int(v.ios, 2, "two VMM requests");
	is_int(stage_count(&v, HCI_N2V), 1, "a notify answers one submit only");

	ok(run(skel->progs.hci_kvm_msi_set_irq_raw, 0xfee00000, 0x4021, 0, 0) == 0, "test-run kvm_msi_set_irq");
	vmm_read(&v);
	is_int(stage_count(&v, HCI_V2I), 1, "V2I: completion -> interrupt measured");
	run(skel->progs.hci_kvm_msi_set_irq_raw, 0xfee00000, 0x4021, 0, 0);
	vmm_read(&v);
	is_int(stage_count(&v, HCI_V2I), 1, "an interrupt with nothing pending adds no V2I");
	is_int(kvm_count(HCI_KVM_MSI), 2, "both MSIs counted");

	run(skel->progs.hci_kvm_set_irq_raw, 5, 0, 0, 0);
	is_int(kvm_count(HCI_KVM_IRQ), 0, "kvm_set_irq lowering a line is no injection");
	run(skel->progs.hci_kvm_set_irq_raw, 5, 1, 0, 0);
	is_int(kvm_count(HCI_KVM_IRQ), 1, "kvm_set_irq raising a line is");
	run(skel->progs.hci_kvm_mmio_raw, 0 /* read */, 4, 0xfe000000, 0);
	is_int(kvm_count(HCI_KVM_MMIO), 0, "an MMIO read is not a notify");
	run(skel->progs.hci_kvm_mmio_raw, 1 /* write */, 2, 0xfe003000, 0);
	is_int(kvm_count(HCI_KVM_MMIO), 1, "an MMIO write is");
	run(skel->progs.hci_kvm_pio_raw, 0, 0xc050, 2, 1);
	is_int(kvm_count(HCI_KVM_PIO), 0, "a PIO in is not a notify");
	run(skel->progs.hci_kvm_pio_raw, 1, 0xc050, 2, 1);
	is_int(kvm_count(HCI_KVM_PIO), 1, "a PIO out is (legacy virtio-pci notify)");
	run(skel->progs.hci_kvm_inj_virq_raw, 33, 0, 0, 0);
	is_int(kvm_count(HCI_KVM_INJ), 1, "kvm_inj_virq counted");
	run(skel->progs.hci_kvm_exit_raw, 0, 0, 0, 0);
	run(skel->progs.hci_kvm_exit_raw, 0, 0, 0, 0);
	is_int(exits(HCI_EXIT_UNKNOWN), 2, "exits counted per VM and reason (unknown vendor here)");

	child = fork();
	if (child == 0) {
		run(skel->progs.hci_kvm_fast_mmio_raw, 0xfe003000, 0, 0, 0);
		_exit(0);
	}
	waitpid(child, &st, 0);
	is_int(kvm_count(HCI_KVM_NOTIFY), 1, "another process's KVM events are not this VM's");

	close(fd);
	unlink(path);
	bpf_link__destroy(l1);
	bpf_link__destroy(l2);
	hcitrace__destroy(skel);
	return done_testing();
}
