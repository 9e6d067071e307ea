// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kvm.bpf.c: the guest's side of a VM's I/O, as KVM sees it.
 *
 * What it observes. A virtio guest tells its device about new requests with
 * a notify (an MMIO or PIO write that exits to KVM), and learns of finished
 * ones from an interrupt (MSI, GSI, or an injected virtual IRQ). These
 * events fire in the VMM's own threads (vCPU threads for exits, notifies and
 * injections; the thread writing an irqfd for MSI/GSI injection), so the
 * current tgid is the VM. VM exits are counted per VM and hardware reason.
 *
 * What it hands on. A notify is kept in kvm_states until the VMM's next
 * submit takes it (N2V, in the VMM files); a VMM completion arms kvm_states
 * (vmm.bpf.c), and the next interrupt closes V2I here, into the VM's
 * histogram. Counts go to kvm_counts and kvm_exits.
 *
 * Handlers take scalars, so that the raw_tp programs can be driven with
 * BPF_PROG_TEST_RUN and synthetic arguments (tests/bpf/test_kvm_bpf.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hci_vmm.bpf.h"

static __always_inline __u32 kvm_vm(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (!targ_vmm)
		return 0;
	if (targ_vm_tgid)
		return tgid == targ_vm_tgid ? tgid : 0;
	return vmm_tgid_of_current(false);
}

static __always_inline void kvm_count(__u32 tgid, int which)
{
	const struct hci_kvm_val zero = {};
	struct hci_kvm_val *c = lookup_or_insert(&kvm_counts, &tgid, &zero);
	__u32 key = 0, *active = bpf_map_lookup_elem(&kvm_active, &key);

	/* from now on the VMM programs keep kvm_states (hci_vmm.bpf.h) */
	if (active && !*active)
		*active = 1;
	if (!c)
		return;
	if (which >= 0 && which < HCI_NKVM)
		c->c[which]++;
}

static __always_inline int kvm_on_notify(__u32 which)
{
	__u32 tgid = kvm_vm();
	struct kvm_state fresh = {}, *st;

	if (!tgid)
		return 0;
	kvm_count(tgid, which);
	st = bpf_map_lookup_elem(&kvm_states, &tgid);
	if (!st) {
		fresh.t_notify = bpf_ktime_get_ns();
		bpf_map_update_elem(&kvm_states, &tgid, &fresh, BPF_NOEXIST);
		return 0;
	}
	if (!st->t_notify)
		st->t_notify = bpf_ktime_get_ns();
	return 0;
}

static __always_inline int kvm_on_irq(__u32 which)
{
	__u32 tgid = kvm_vm();
	struct hci_vmm_val *v;
	struct kvm_state *st;
	__u64 now, t;

	if (!tgid)
		return 0;
	kvm_count(tgid, which);
	st = bpf_map_lookup_elem(&kvm_states, &tgid);
	if (!st || !st->t_vdone)
		return 0;
	now = bpf_ktime_get_ns();
	t = st->t_vdone;
	st->t_vdone = 0;
	v = vhist_get(tgid, st->vdone_dev, st->vdone_op);
	if (v)
		stage_add(v, HCI_V2I, t, now);
	return 0;
}

/*
 * The hardware exit reason lives in the vendor's vCPU structure, which
 * embeds struct kvm_vcpu first. Known: VMX and SVM; others count as unknown.
 */
struct vcpu_vmx___hci {
	union {
		__u32 full;
		struct {
			__u16 basic;
		};
	} exit_reason;
} __attribute__((preserve_access_index));

struct vmcb_control_area___hci {
	__u64 exit_code;
} __attribute__((preserve_access_index));

struct vmcb___hci {
	struct vmcb_control_area___hci control;
} __attribute__((preserve_access_index));

struct vcpu_svm___hci {
	struct vmcb___hci *vmcb;
} __attribute__((preserve_access_index));

static __always_inline __u32 kvm_exit_reason(void *vcpu)
{
	if (!vcpu)
		return HCI_EXIT_UNKNOWN;
	if (bpf_core_type_exists(struct vcpu_vmx___hci))
		return BPF_CORE_READ((struct vcpu_vmx___hci *)vcpu, exit_reason.basic);
	if (bpf_core_type_exists(struct vcpu_svm___hci))
		return (__u32)BPF_CORE_READ((struct vcpu_svm___hci *)vcpu, vmcb, control.exit_code);
	return HCI_EXIT_UNKNOWN;
}

static __always_inline int kvm_exit_count(struct hci_exit_key *k)
{
	__u64 one = 1, *c;

	c = bpf_map_lookup_elem(&kvm_exits, k);
	if (c)
		(*c)++;
	else if (bpf_map_update_elem(&kvm_exits, k, &one, BPF_NOEXIST))
		count(HCI_CNT_VHIST_FULL);
	return 0;
}

static __always_inline int kvm_on_exit(void *vcpu)
{
	struct hci_exit_key k = {};

	k.vmm_tgid = kvm_vm();
	if (!k.vmm_tgid)
		return 0;
	k.reason = kvm_exit_reason(vcpu);
	return kvm_exit_count(&k);
}

/* raw_tp only: kvm events are not on the block hot path, and raw_tp
 * programs can be test-run; args are read from the u64 context */
SEC("raw_tp/kvm_fast_mmio")
int BPF_PROG(hci_kvm_fast_mmio_raw) { return kvm_on_notify(HCI_KVM_NOTIFY); }

/* kvm_mmio(type, len, gpa, val): only writes can be notifies */
SEC("raw_tp/kvm_mmio")
int BPF_PROG(hci_kvm_mmio_raw)
{
	return (int)ctx[0] == 1 /* KVM_TRACE_MMIO_WRITE */ ? kvm_on_notify(HCI_KVM_MMIO) : 0;
}

/* kvm_pio(rw, port, size, count, data): rw 1 is an out (a legacy notify) */
SEC("raw_tp/kvm_pio")
int BPF_PROG(hci_kvm_pio_raw)
{
	return (int)ctx[0] == 1 ? kvm_on_notify(HCI_KVM_PIO) : 0;
}

SEC("raw_tp/kvm_msi_set_irq")
int BPF_PROG(hci_kvm_msi_set_irq_raw) { return kvm_on_irq(HCI_KVM_MSI); }

/* kvm_set_irq(gsi, level, source): only raising the line injects */
SEC("raw_tp/kvm_set_irq")
int BPF_PROG(hci_kvm_set_irq_raw)
{
	return (int)ctx[1] ? kvm_on_irq(HCI_KVM_IRQ) : 0;
}

SEC("raw_tp/kvm_inj_virq")
int BPF_PROG(hci_kvm_inj_virq_raw)
{
	__u32 tgid = kvm_vm();

	if (tgid)
		kvm_count(tgid, HCI_KVM_INJ);
	return 0;
}

SEC("raw_tp/kvm_exit")
int BPF_PROG(hci_kvm_exit_raw)
{
	struct hci_exit_key k = {};

	if (!targ_kvm_exit_reason_arg)
		return kvm_on_exit((void *)ctx[0]);
	k.vmm_tgid = kvm_vm();
	if (!k.vmm_tgid)
		return 0;
	k.reason = (__u32)ctx[0];
	return kvm_exit_count(&k);
}
