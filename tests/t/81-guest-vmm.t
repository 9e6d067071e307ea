#!/bin/bash
# hcitrace --vmm on an older kernel than the host's: the test guest's own
# (Debian 12's v6.1), with fio copied as qemu-system-x86_64 inside it. That
# kernel lacks bpf_rdonly_cast, names the io_uring SQE tracepoint
# io_uring_submit_sqe and assigns a punted request's file in the submitter
# (so io-wq workers are found by their current work only), and lays out
# io_kiocb's flags in 4 bytes, not 8: CO-RE and the run-time checks in
# lib/bpf/features.c must carry the VMM layer there. Checks, for psync,
# libaio QD32 and io_uring QD32 (inline and through io-wq): hcitrace
# attaches and exits 0, and every one of the N reads is a VMM request with
# its bio, completed at the VMM (V2V) and linked to the device (VD2C);
# and where io-wq workers are not found by their current work, io-wq's
# requests unlinked.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../vm/lib-vm.sh"
need_root
need_vm

vm_image 80
N=300
hook() { :; }
vm_run hcitest-vmm q35 threads hook hci.job=vmm hci.n=$N
c=$TMP/hcitest-vmm.console
is "guest job ran" "$VM_RC" 0

# the guest's kernel: what -v said of it
err() { sed -n "s/.*HCI-VMMERR $1 //p" "$c"; }
# CASE: its JSON report, from its one console line, into $TMP/CASE.json
case_json() { sed -n "s/.*HCI-VMMJSON $1 //p" "$c" | tr -d '\r' > "$TMP/$1.json"; }
check "the guest's kernel has no bpf_rdonly_cast: -v says so" \
	grep -qF "kernel objects by BTF cast: no (bpf_probe_read)" <(err psync)
check "the guest's kernel has io_uring_submit_sqe, io-wq workers' current work: -v says so" \
	grep -qF "io_uring tracepoints: yes (io_uring_submit_sqe, arguments (req, ...)); io-wq workers by their current work" <(err io_uring)

# the completions the kernel ran no program for, as in 40-vmm
vmm_row='.lost.completion_not_seen as $l |
	 [.vmm[] | select(.origin == "vm:vmmtest" and .device == "vda" and .op == "read")][0] | . + {unseen: $l}'
for name in psync libaio io_uring io_uring-wq; do
	case_json "$name"
	check "$name: hcitrace --vmm attached and exited 0" \
		grep -q "HCI-VMM $name rc=0" "$c" || diag "$(err "$name" | tail -20)"
	check "$name: N VMM requests, N bios, each completed and linked to its bio" \
		jqt --argjson n $N "$vmm_row"' | .ios == $n and .bios == $n and
		 .unlinked == 0 and .absorbed == 0 and .stages.V2V.count == $n and
		 .unseen <= 3 and .stages.VD2C.count + .unseen >= $n' "$TMP/$name.json" ||
		diag "$(jq -c "$vmm_row" "$TMP/$name.json" 2>&1 | head -c 2000)"
done

# without the workers' current work (HCI_FEATURES_OFF=uring_worker, as on a
# kernel that does not name it), only io_uring_file_get could link v6.1's
# io-wq workers, and it fires in the submitter there: every request is
# still counted, as unlinked
name=io_uring-wq-fileget
case_json "$name"
check "io-wq by io_uring_file_get only: -v says so" \
	grep -qF "io-wq workers by io_uring_file_get only" <(err $name)
check "io-wq by io_uring_file_get only: N VMM requests, completed, all unlinked" \
	jqt --argjson n $N "$vmm_row"' | .ios == $n and .stages.V2V.count == $n and
	 .unlinked == $n and .bios == 0' "$TMP/$name.json" ||
	diag "$(jq -c "$vmm_row" "$TMP/$name.json" 2>&1 | head -c 2000)"
done_testing
