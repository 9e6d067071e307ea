#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The VM row of make bench: guest fio 4k randread IOPS at QD1 and QD32
# (q35, virtio-blk, aio=threads, cache=none, raw image on ext4 on the loop
# test SSD), without a tracer, with host "hcitrace --vmm", and joined (host
# "hcitrace --guest-channel" + "hcitrace guest --app" in the guest; and
# the same without --app),
# interleaved round by round; medians. Also the host tracer's own CPU time
# per guest I/O (utime + stime from /proc), which is what the join costs. The guest runs under TCG here, so absolute IOPS are low:
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
ticks=0
hook() {
	case $1 in
	ready)
		case $mode in
		hcitrace) start_tracer "$TMP/b.out" "$TMP/b.err" --vmm ;;
		joined | noapp) start_tracer "$TMP/b.out" "$TMP/b.err" --guest-channel "$VM_CHAN" ;;
		esac ;;
	result | done)
		if [ -n "${TRACER:-}" ]; then
			# CPU time so far (utime + stime, clock ticks), before the summary
			ticks=$(awk '{ print $14 + $15 }' "/proc/$TRACER/stat" 2>/dev/null || echo 0)
			kill -INT "$TRACER" 2>/dev/null && wait "$TRACER"
		fi
		TRACER="" ;;
	esac
}
hz=$(getconf CLK_TCK)
declare -A runs cpus
for ((r = 0; r < VM_ROUNDS; r++)); do
	for qd in 1 32; do
		engine=psync
		[ "$qd" -gt 1 ] && engine=libaio
		order="none hcitrace joined noapp"
		[ $((r % 4)) = 1 ] && order="hcitrace joined noapp none"
		[ $((r % 4)) = 2 ] && order="joined noapp none hcitrace"
		[ $((r % 4)) = 3 ] && order="noapp none hcitrace joined"
		for m in $order; do
			mode=$m
			ticks=0
			VM_CHAN=""
			trace=""
			if [ "$m" = joined ] || [ "$m" = noapp ]; then
				VM_CHAN=$TMP/bench.sock
				trace=hci.trace=1
				[ "$m" = noapp ] && trace=hci.trace=noapp
			fi
			vm_run "hcibench-$r-$qd-$m" q35 threads hook hci.rw=randread hci.qd=$qd \
				hci.engine=$engine hci.runtime=$VM_RUNTIME $trace
			iops=$(( ${VM_IOS:-0} / VM_RUNTIME ))
			runs[$m,$qd]="${runs[$m,$qd]:-} $iops"
			cpu=$(awk -v t="$ticks" -v hz="$hz" -v n="${VM_IOS:-0}" \
				'BEGIN { printf "%.1f", n ? t / hz * 1e6 / n : 0 }')
			cpus[$m,$qd]="${cpus[$m,$qd]:-} $cpu"
			printf '  vm round %d qd%-2d %-9s %6d IOPS  tracer %s us CPU/IO\n' $((r + 1)) \
				"$qd" "$m" "$iops" "$cpu" >&2
		done
	done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo
echo "VM row (guest fio 4k randread, TCG guest, $VM_ROUNDS rounds x ${VM_RUNTIME}s, medians):"
echo
echo "| QD | tracing | guest IOPS | overhead | host tracer CPU us per I/O |"
echo "|---:|---------|-----------:|---------:|---------------------------:|"
name() { case $1 in none) echo none ;; hcitrace) echo "host hcitrace --vmm" ;;
	joined) echo "joined: hcitrace guest --app + host --guest-channel" ;;
	noapp) echo "joined, guest without --app" ;; esac; }
for qd in 1 32; do
	base=$(echo "${runs[none,$qd]}" | median)
	for m in none hcitrace joined noapp; do
		v=$(echo "${runs[$m,$qd]}" | median)
		ov=$(awk -v b="$base" -v v="$v" 'BEGIN { printf "%.2f%%", b ? (b - v) / b * 100 : 0 }')
		c=$(echo "${cpus[$m,$qd]}" | median)
		[ "$m" = none ] && ov="-" && c="-"
		echo "| $qd | $(name $m) | $v | $ov | $c |"
	done
done
echo
for qd in 1 32; do for m in none hcitrace joined noapp; do
	echo "- vm qd$qd $m: IOPS${runs[$m,$qd]}; tracer CPU us/IO${cpus[$m,$qd]}"
done; done
