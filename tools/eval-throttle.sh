#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# make eval-throttle: the research's contention experiment, with and without
# hcithrottle (docs/bench.md). On one loop-device test SSD, a "container"
# cgroup runs fio 4 KiB random reads at QD1 and a "vm" cgroup runs them at
# QD16 (the VM's I/O as the host sees it: its own cgroup):
#   1. the container alone
#   2. the container contended by the VM
#   3. the same contention with hcithrottle running (cgroup backend)
# For each: the container's and the VM's IOPS and p99 (fio); for 3 also the
# reaction time (contention onset -> first limit written -> container p99
# back under its target), the VM's lowest measured rate against its floor,
# and the agent's CPU use. Prints a markdown table.
#   RUNTIME=10 ROUNDS=3 tools/eval-throttle.sh   (KEEP=DIR keeps each round's logs)
# VM=qemu: the VM is a real QEMU guest (TCG, the test harness's) whose fio
# (QD16) reads its virtio disk, a raw image on ext4 on the test SSD; the
# container reads a file on the same ext4. QEMU stays in the root cgroup and
# hcithrottle caps it with the QMP backend (block_set_io_throttle); the VM's
# IOPS and p99 are the guest fio's own.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export OUT=${OUT:-$here/../build}
. "$here/../tests/lib.sh"
need_root
RUNTIME=${RUNTIME:-10}
ROUNDS=${ROUNDS:-3}
VM=${VM:-cgroup}
HCITHROTTLE=${HCITHROTTLE:-$OUT/hcithrottle}
[ -d "$BLKIO" ] || { echo "Error: needs cgroup v1 blkio (this host's io controller)" >&2; exit 1; }

if [ "$VM" = qemu ]; then
	. "$here/../tests/vm/lib-vm.sh"
	FLOOR=${FLOOR:-1000}
	VM_TIMEOUT=$(( RUNTIME + 120 ))
	VMDIR=$VMDIR "$here/../tests/vm/build-guest.sh" >&2 || exit 1
	vm_image 160 >/dev/null
	CTFILE=$TMP/mnt/ct.dat
	dd if=/dev/urandom of="$CTFILE" bs=1M count=32 status=none
	sync
	export VM_QMP=$TMP/qmp.sock
elif [ "$VM" = cgroup ]; then
	FLOOR=${FLOOR:-2000}
	setup_loop 1024 >/dev/null
	CTFILE=$dev
	make_cgroup hcieval-vm
	VMCG=$CG
else
	echo "Error: VM=$VM: want cgroup or qemu" >&2
	exit 2
fi
make_cgroup hcieval-ct
CTCG=$CG

# fio_json CG QD SECONDS OUT [FILE]: 4k random reads, JSON result in OUT
fio_json() {
	local engine=psync
	[ "$2" -gt 1 ] && engine=libaio
	in_cgroup "$1" fio --name=j --filename="${5:-$dev}" --direct=1 --rw=randread --bs=4k \
		--runtime="$3" --time_based --ioengine=$engine --iodepth="$2" \
		--output-format=json > "$4" 2>/dev/null
}
# vm_phase CASE CT: the VM for RUNTIME seconds, with the container at the same
# time if CT=1; the VM's IOPS and p99 go to R[CASE_vm], R[CASE_vm_p99]
vm_phase() {
	if [ "$VM" = cgroup ]; then
		fio_json "$VMCG" 16 "$RUNTIME" "$TMP/vm.json" & local v=$!
		[ "$2" = 1 ] && fio_json "$CTCG" 1 "$RUNTIME" "$TMP/ct.json"
		wait $v
		R[$1_vm]+=" $(iops_of "$TMP/vm.json")"; R[$1_vm_p99]+=" $(p99_of "$TMP/vm.json")"
		return
	fi
	CT=$2
	rm -f "$TMP/hcieval.iops" "$TMP/hcieval.fio"
	vm_run hcieval q35 threads eval_hook hci.rw=randread hci.qd=16 hci.engine=libaio \
		hci.runtime="$RUNTIME" hci.iolog=1
	[ "$VM_RC" = 0 ] || { echo "Error: the guest's fio failed: $(tail -5 "$TMP/hcieval.console")" >&2; exit 1; }
	R[$1_vm]+=" $(awk '{ s += $2; n++ } END { printf "%d", n ? s / n : 0 }' "$TMP/hcieval.iops")"
	R[$1_vm_p99]+=" $(sed -n 's/.*p99=\([0-9]*\).*/\1/p' "$TMP/hcieval.fio")"
}
eval_hook() {
	case $1 in
	ready) [ "$CT" = 1 ] && { fio_json "$CTCG" 1 "$RUNTIME" "$TMP/ct.json" "$CTFILE" & CTPID=$!; } ;;
	result) [ "$CT" = 1 ] && wait $CTPID ;;
	esac
}
get() { jq -r "$1" "$2"; }
iops_of() { get '.jobs[0].read.iops | floor' "$1"; }
p99_of() { get '.jobs[0].read.clat_ns.percentile["99.000000"] / 1000 | floor' "$1"; }

declare -A R
for ((r = 1; r <= ROUNDS; r++)); do
	# 1. alone
	fio_json "$CTCG" 1 "$RUNTIME" "$TMP/solo.json" "$CTFILE"
	solo=$(iops_of "$TMP/solo.json")
	solo_p99=$(p99_of "$TMP/solo.json")
	R[solo_ct]+=" $solo"; R[solo_ct_p99]+=" $solo_p99"
	vm_phase solo 0

	# 2. contended
	vm_phase cont 1
	R[cont_ct]+=" $(iops_of "$TMP/ct.json")"; R[cont_ct_p99]+=" $(p99_of "$TMP/ct.json")"

	# 3. contended, with hcithrottle: target 90% of this round's solo IOPS
	cat > "$TMP/t.conf" <<EOF
device = $disk
interval = 100ms
rule = /hcieval-ct=container:db
container = container:db min_iops=$(( solo * 95 / 100 ))
vm = vm:* floor_iops=$FLOOR
state = $TMP/run/state
log = $TMP/decisions.csv
EOF
	if [ "$VM" = qemu ]; then
		printf 'backend = qmp\nqmp = vm:hcieval %s d0\n' "$VM_QMP" >> "$TMP/t.conf"
	else
		echo "rule = /hcieval-vm=vm:evalvm" >> "$TMP/t.conf"
	fi
	rm -f "$TMP/decisions.csv"
	"$HCITHROTTLE" run -c "$TMP/t.conf" --measure-log "$TMP/measure.csv" 2> "$TMP/d.err" &
	d=$!
	on_exit "kill $d 2>/dev/null"
	for _ in $(seq 600); do grep -q 'hcithrottle: running' "$TMP/d.err" && break; sleep 0.05; done
	sleep 1
	ticks0=$(awk '{ print $14 + $15 }' "/proc/$d/stat")
	w0=$(date +%s%N)
	vm_phase thr 1
	ticks1=$(awk '{ print $14 + $15 }' "/proc/$d/stat")
	w1=$(date +%s%N)
	kill -TERM $d
	wait $d
	R[thr_ct]+=" $(iops_of "$TMP/ct.json")"; R[thr_ct_p99]+=" $(p99_of "$TMP/ct.json")"
	# over the wall time of the phase (with VM=qemu it includes the boot)
	R[cpu]+=" $(awk -v t=$((ticks1 - ticks0)) -v hz="$(getconf CLK_TCK)" \
		-v s="$(( (w1 - w0) / 1000000 ))" 'BEGIN { printf "%.2f", t / hz / (s / 1000) * 100 }')"
	# reaction, from the agent's own per-interval log (one clock):
	# onset = the first interval that saw both active (contention began
	# within the interval before it); limit = the first cap row; recovered =
	# the first interval after it with the container at >= 90% of solo IOPS
	read -r onset limit rec minvm <<<"$(awk -F, -v tgt=$(( solo * 90 / 100 )) -v floor="$FLOOR" '
		FNR == 1 { next }
		FILENAME ~ /decisions/ { if ($3 == "cap" && lim == "") lim = $1; next }
		!($1 in seen) { seen[$1] = 1; ts[++n] = $1 }
		$4 == "vm" { vm[$1] = $5; cap[$1] = $9 }
		$4 == "container" { ct[$1] = $5 }
		END {
			# the log is in time order
			for (i = 1; i <= n; i++) { t = ts[i]
				if (on == "" && ct[t] > 0 && vm[t] > 0) on = t
				if (lim != "" && t + 0 > lim + 0 && r == "" && ct[t] >= tgt) r = t
				# the VM rate over each 1 s (10 intervals) while capped
				if (on != "" && cap[t] > 0 && vm[t] > 0) { w += vm[t]; k++ }
				if (k == 10) { if (mv == "" || w / 10 < mv) mv = w / 10; w = k = 0 }
			}
			printf "%s %s %s %s\n", on == "" ? "-" : on, lim == "" ? "-" : lim,
				r == "" ? "-" : r, mv == "" ? "-" : int(mv)
		}' "$TMP/decisions.csv" "$TMP/measure.csv")"
	R[t_limit]+=" $(awk -v a="$onset" -v b="$limit" 'BEGIN { printf "%.0f", b == "-" ? -1 : (b - a) * 1000 }')"
	R[t_rec]+=" $(awk -v a="$onset" -v b="$rec" 'BEGIN { printf "%.0f", b == "-" ? -1 : (b - a) * 1000 }')"
	R[minvm]+=" $([ "$minvm" = - ] && echo 0 || echo "$minvm")"
	R[caps]+=" $(grep -c ',cap,' "$TMP/decisions.csv")"
	if [ -n "${KEEP:-}" ]; then
		cp "$TMP/measure.csv" "$KEEP/measure-$r.csv"
		cp "$TMP/decisions.csv" "$KEEP/decisions-$r.csv"
	fi
	echo "  round $r done" >&2
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
m() { echo "${R[$1]}" | median; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f%%", b ? a / b * 100 : 0 }'; }

echo "Contention on $disk (loop test SSD, direct I/O), $ROUNDS rounds x ${RUNTIME}s, medians."
if [ "$VM" = qemu ]; then
	echo "Container: 4 KiB random reads, QD1, on a file. VM: a QEMU guest (TCG) doing the same"
	echo "at QD16 on its virtio disk (a raw image on the same ext4); capped over QMP."
else
	echo "Container: 4 KiB random reads, QD1. VM: the same at QD16, in its own cgroup."
fi
echo
echo "| case | container IOPS | of solo | container p99 (us) | VM IOPS | VM p99 (us) |"
echo "|------|---------------:|--------:|-------------------:|--------:|------------:|"
echo "| alone | $(m solo_ct) | 100% | $(m solo_ct_p99) | $(m solo_vm) (VM alone) | $(m solo_vm_p99) |"
echo "| contended | $(m cont_ct) | $(pct "$(m cont_ct)" "$(m solo_ct)") | $(m cont_ct_p99) | $(m cont_vm) | $(m cont_vm_p99) |"
echo "| contended + hcithrottle | $(m thr_ct) | $(pct "$(m thr_ct)" "$(m solo_ct)") | $(m thr_ct_p99) | $(m thr_vm) | $(m thr_vm_p99) |"
echo
echo "- reaction: first limit written $(m t_limit) ms after the first interval that saw the"
echo "  contention (interval 100 ms: contention began at most one interval before that);"
echo "  container back at >= 90% of its solo IOPS $(m t_rec) ms after it (-1: never)"
echo "- VM floor $FLOOR IOPS: lowest VM rate over 1 s while capped $(m minvm) IOPS"
echo "- agent CPU: $(m cpu)% of one core; caps written per run: $(m caps)"
echo
for k in solo_ct solo_ct_p99 cont_ct cont_ct_p99 thr_ct thr_ct_p99 solo_vm cont_vm thr_vm \
	 t_limit t_rec minvm cpu caps; do
	echo "- $k:${R[$k]}"
done
