#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The VM row of make bench: guest fio 4k randread IOPS at QD1 and QD32
# (q35, virtio-blk, aio=threads, cache=none, raw image on ext4 on the loop
# test SSD), without and with host "hcitrace --vmm", interleaved round by
# round; medians. The guest runs under TCG here, so absolute IOPS are low:
# compare the two columns, not the numbers with real hardware.
#
#   VM_ROUNDS=3 VM_RUNTIME=5 tools/bench-vm.sh >> report
set -u
here=$(cd "$(dirname "$0")" && pwd)
export OUT=${OUT:-$here/../build}
# the test fixtures (loop SSD, mount, QEMU) are torn down on any exit
. "$here/../tests/lib.sh"
. "$here/../tests/vm/lib-vm.sh"
VM_ROUNDS=${VM_ROUNDS:-3}
VM_RUNTIME=${VM_RUNTIME:-5}
HCITRACE=$OUT/hcitrace
VMDIR=$VMDIR "$here/../tests/vm/build-guest.sh" >&2 || { echo "Error: cannot build the guest" >&2; exit 1; }
vm_image 80

mode=none
hook() {
	case $1 in
	ready) [ "$mode" = hcitrace ] && start_tracer "$TMP/b.out" "$TMP/b.err" --vmm ;;
	result | done) [ -n "${TRACER:-}" ] && kill -INT "$TRACER" 2>/dev/null && wait "$TRACER"; TRACER="" ;;
	esac
}
declare -A runs
for ((r = 0; r < VM_ROUNDS; r++)); do
	for qd in 1 32; do
		engine=psync
		[ "$qd" -gt 1 ] && engine=libaio
		for m in none hcitrace; do
			[ $((r % 2)) = 1 ] && m=$([ "$m" = none ] && echo hcitrace || echo none)
			mode=$m
			vm_run "hcibench-$r-$qd-$m" q35 threads hook hci.rw=randread hci.qd=$qd \
				hci.engine=$engine hci.runtime=$VM_RUNTIME
			iops=$(( ${VM_IOS:-0} / VM_RUNTIME ))
			runs[$m,$qd]="${runs[$m,$qd]:-} $iops"
			printf '  vm round %d qd%-2d %-9s %6d IOPS\n' $((r + 1)) "$qd" "$m" "$iops" >&2
		done
	done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo
echo "VM row (guest fio 4k randread, TCG guest, $VM_ROUNDS rounds x ${VM_RUNTIME}s, medians):"
echo
echo "| QD | host tracer | guest IOPS | overhead |"
echo "|---:|-------------|-----------:|---------:|"
for qd in 1 32; do
	base=$(echo "${runs[none,$qd]}" | median)
	for m in none hcitrace; do
		v=$(echo "${runs[$m,$qd]}" | median)
		ov=$(awk -v b="$base" -v v="$v" 'BEGIN { printf "%.2f%%", b ? (b - v) / b * 100 : 0 }')
		[ "$m" = none ] && ov="-"
		echo "| $qd | $([ "$m" = none ] && echo none || echo "hcitrace --vmm") | $v | $ov |"
	done
done
echo
for qd in 1 32; do for m in none hcitrace; do echo "- vm qd$qd $m:${runs[$m,$qd]}"; done; done
