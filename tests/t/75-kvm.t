#!/bin/bash
# Real KVM, end to end: where /dev/kvm can boot a stock guest, the notify
# (N2V) and interrupt (V2I) stages are present and VM exits are counted.
# Where it cannot (here /dev/kvm is PVM-only: a stock guest stops with "KVM
# internal error"), the test skips and says why.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../vm/lib-vm.sh"
need_root
[ -c /dev/kvm ] || skip_all "no /dev/kvm on this machine"
need_vm

N=200
vm_image 80
name=hcitest-kvm
tracer=""
hook() {
	case $1 in
	ready) start_tracer "$TMP/k.out" "$TMP/k.err" -d "$disk" --vm "$name" --json "$TMP/k.json" ||
		{ not_ok "hcitrace attached before the guest started"; diag "$(cat "$TMP/k.err")"; }
		tracer=$TRACER ;;
	result|done) [ -n "$tracer" ] && kill -INT "$tracer" && wait "$tracer"; tracer="" ;;
	esac
}
# a stock guest reaches fio in about 2 s under KVM; PVM crawls instead
VM_ACCEL=kvm VM_TIMEOUT=15 vm_run "$name" q35 threads hook hci.n=$N hci.rw=randread hci.qd=1 hci.engine=psync
if [ "$VM_IOS" != $N ]; then
	why=${VM_ERR:-$(grep -m1 -iE 'kvm|error' "$TMP/$name.console" ||
		echo "no guest result within 15 s under -accel kvm")}
	skip_all "/dev/kvm cannot run a stock guest here ($why)"
fi
is "guest fio ran under KVM" "$VM_RC" 0
check "VMM requests = N" jqt --arg o "vm:$name" --argjson n $N \
	'[.vmm[] | select(.origin == $o and .op == "read")][0].ios == $n' "$TMP/k.json"
check "notify -> VMM submit (N2V) present" jqt --arg o "vm:$name" \
	'[.vmm[] | select(.origin == $o and .op == "read")][0].stages.N2V.count > 0' "$TMP/k.json"
check "VMM completion -> interrupt (V2I) present" jqt --arg o "vm:$name" \
	'[.vmm[] | select(.origin == $o and .op == "read")][0].stages.V2I.count > 0' "$TMP/k.json"
check "VM exits counted" jqt --arg o "vm:$name" \
	'[.kvm[] | select(.origin == $o)][0].exits > 0' "$TMP/k.json"
done_testing
