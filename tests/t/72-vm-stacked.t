#!/bin/bash
# A stacked device: the guest's image is on ext4 on an upper loop device
# (direct I/O) whose backing file is on ext4 on the loop test SSD. Host
# hcitrace follows each VM request down both layers: N requests on the
# upper device and N on the device below are vm:<name>, although the lower
# ones are issued by the loop worker.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../vm/lib-vm.sh"
need_root
need_vm

N=300
vm_image_stacked 80
name=hcitest-stacked
tracer=""
hook() {
	case $1 in
	ready) start_tracer "$TMP/s.out" "$TMP/s.err" --vmm --csv "$TMP/s.csv" --json "$TMP/s.json" ||
		{ not_ok "hcitrace attached before the guest started"; diag "$(cat "$TMP/s.err")"; }
		tracer=$TRACER ;;
	result|done) [ -n "$tracer" ] && kill -INT "$tracer" && wait "$tracer"; tracer="" ;;
	esac
}
vm_run "$name" q35 threads hook hci.n=$N hci.rw=randread hci.qd=1 hci.engine=psync
is "guest issued N" "$VM_IOS" $N
upper=$(csv_count "$TMP/s.csv" "vm:$name" "$UPPER" read D2C)
lower=$(csv_count "$TMP/s.csv" "vm:$name" "$disk" read D2C)
is_count "upper layer ($UPPER): D2C for vm:$name" "$upper" $N "$TMP/s.err"
is_count "lower layer ($disk): D2C for vm:$name, issued by the loop worker" "$lower" $N "$TMP/s.err"
check "VMM requests = N, linked to the upper layer's bios" jqt --arg o "vm:$name" --argjson n $N \
	'[.vmm[] | select(.origin == $o and .op == "read")][0] | .ios == $n and .bios == $n' "$TMP/s.json"
[ "$upper" = $N ] && [ "$lower" = $N ] ||
	diag "rows:" "$(awk -F, '$4 == "D2C"' "$TMP/s.csv")" "$(cat "$TMP/s.err")" \
		"VMM layer:" "$(jq -c '.vmm[] | {origin, op, ios, bytes, bios, absorbed, unlinked}' "$TMP/s.json")"
done_testing
