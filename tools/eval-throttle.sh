#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# make eval-throttle: the research's contention experiment, with and without
# hcithrottle (docs/bench.md), on a model SSD (tools/model-ssd: a fixed
# latency per request and a fixed capacity), where two tenants compete for
# the device, as on a real SSD, not for the CPU. A "container" cgroup runs
# fio 4 KiB random reads at QD1; the VM runs them at QD16:
#   1. the container alone, then the VM alone
#   2. both at once
#   3. both at once with hcithrottle running
#   4. the container alone again: its solo figure is the mean of 1 and 4
# For each: the container's and the VM's IOPS and p99 (fio's own); for 3 also
# the reaction time (contention onset -> first cap written -> container back
# at >= 90% of the first solo), the VM's lowest 1 s rate against its floor, and the
# agent's CPU. Prints a markdown table and writes $OUT/eval-throttle.json
# (one object per round and a "summary" of medians; docs/bench.md).
#   RUNTIME=10 ROUNDS=3 tools/eval-throttle.sh     (KEEP=DIR keeps the logs)
#   LATENCY_US=500 CAPACITY_IOPS=4000: the model SSD; FLOOR=N: the VM floor
# VM=cgroup (default): the VM is a cgroup (its I/O as the host sees it), on
#   the other half of the device; capped in blkio (cgroup backend).
# VM=qemu: the VM is a real QEMU guest (TCG, the test harness's) whose fio
#   reads its virtio disk, the model SSD itself (raw, aio=threads, cache=none);
#   the container reads another range of it. QEMU stays in the root cgroup and
#   hcithrottle caps it over QMP (block_set_io_throttle); the VM's IOPS, p99
#   and per-second rate are the guest fio's own.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export OUT=${OUT:-$here/../build}
. "$here/../tests/lib.sh"
need_root
RUNTIME=${RUNTIME:-10}
ROUNDS=${ROUNDS:-3}
VM=${VM:-cgroup}
LATENCY_US=${LATENCY_US:-500}
CAPACITY_IOPS=${CAPACITY_IOPS:-4000}
HCITHROTTLE=${HCITHROTTLE:-$OUT/hcithrottle}
JSON=${JSON:-$OUT/eval-throttle.json}
[ -d "$BLKIO" ] || { echo "Error: needs cgroup v1 blkio (this host's io controller)" >&2; exit 1; }
[ -x "$HCITHROTTLE" ] || { echo "Error: $HCITHROTTLE is missing: run 'make'" >&2; exit 1; }
for v in RUNTIME ROUNDS LATENCY_US CAPACITY_IOPS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "Error: $v=${!v}: want a positive integer" >&2; exit 2; }
done
[ "$RUNTIME" -ge 4 ] || { echo "Error: RUNTIME=$RUNTIME: want at least 4 s" >&2; exit 2; }

# the container and the VM read different halves of the 1 GiB device
CT_OFF=0
VM_OFF=512M
case $VM in
qemu)
	. "$here/../tests/vm/lib-vm.sh"
	# the TCG vCPU emulates every guest I/O on the host's two cores: beside
	# the container, a booted idle guest costs it 3% and a guest capped at
	# 260 IOPS 10% (docs/bench.md), which KVM would not; so the guest's
	# floor is low
	FLOOR=${FLOOR:-50}
	VM_TIMEOUT=$(( RUNTIME + 120 ))
	VMDIR=$VMDIR "$here/../tests/vm/build-guest.sh" >&2 || exit 1
	vm_model_ssd "$LATENCY_US" "$CAPACITY_IOPS" 1024
	CT_OFF=512M	# the guest's fio reads the first 64 MiB
	export VM_QMP=$TMP/qmp.sock ;;
cgroup)
	FLOOR=${FLOOR:-500}
	setup_model_ssd "$LATENCY_US" "$CAPACITY_IOPS" 1024
	make_cgroup hcieval-vm
	VMCG=$CG ;;
*)
	echo "Error: VM=$VM: want cgroup or qemu" >&2
	exit 2 ;;
esac
make_cgroup hcieval-ct
CTCG=$CG

# fio_json CG QD SECONDS OFFSET OUT: 4k random reads, fio's JSON in OUT
fio_json() {
	local engine=psync
	[ "$2" -gt 1 ] && engine=libaio
	in_cgroup "$1" fio --name=j --filename="$dev" --direct=1 --rw=randread --bs=4k \
		--offset="$4" --size=256M --runtime="$3" --time_based --ioengine=$engine \
		--iodepth="$2" --output-format=json > "$5" 2>/dev/null
}
get() { jq -r "$1" "$2"; }
iops_of() { get '.jobs[0].read.iops | floor' "$1"; }
p99_of() { get '.jobs[0].read.clat_ns.percentile["99.000000"] / 1000 | floor' "$1"; }

# vm_phase CASE CT: the VM for RUNTIME seconds, with the container at the same
# time if CT=1. Sets V[CASE_iops], V[CASE_p99] and, for the guest, its
# lowest per-second rate in the seconds the container ran (V[CASE_min]).
declare -A V
vm_phase() {
	if [ "$VM" = cgroup ]; then
		fio_json "$VMCG" 16 "$RUNTIME" "$VM_OFF" "$TMP/vm.json" & local v=$!
		[ "$2" = 1 ] && fio_json "$CTCG" 1 "$RUNTIME" "$CT_OFF" "$TMP/ct.json"
		wait $v
		V[$1_iops]=$(iops_of "$TMP/vm.json")
		V[$1_p99]=$(p99_of "$TMP/vm.json")
		return
	fi
	CT=$2
	rm -f "$TMP/hcieval.iops" "$TMP/hcieval.fio" "$TMP/hcieval.console"
	vm_run hcieval q35 threads eval_hook hci.rw=randread hci.qd=16 hci.engine=libaio \
		hci.runtime="$RUNTIME" hci.iolog=1
	[ "$VM_RC" = 0 ] || { echo "Error: the guest's fio failed: $(tail -5 "$TMP/hcieval.console")" >&2; exit 1; }
	V[$1_iops]=$(sed -n 's/.*iops=\([0-9]*\).*/\1/p' "$TMP/hcieval.fio")
	V[$1_p99]=$(sed -n 's/.*p99=\([0-9]*\).*/\1/p' "$TMP/hcieval.fio")
	# seconds 2..RUNTIME of the guest's fio: the first holds the time before
	# the first cap, and the container started with it
	V[$1_min]=$(awk -v end=$(( RUNTIME * 1000 )) '$1 > 1500 && $1 <= end + 500 {
		if (m == "" || $2 < m) m = $2 } END { print m == "" ? 0 : m }' "$TMP/hcieval.iops")
}
eval_hook() {
	case $1 in
	ready) [ "$CT" = 1 ] && { fio_json "$CTCG" 1 "$RUNTIME" "$CT_OFF" "$TMP/ct.json" & CTPID=$!; } ;;
	result) [ "$CT" = 1 ] && wait $CTPID ;;
	esac
}

# write_conf SOLO: container target 95% of this round's solo IOPS
write_conf() {
	cat > "$TMP/t.conf" <<EOF
device = $disk
interval = 100ms
rule = /hcieval-ct=container:db
container = container:db min_iops=$(( $1 * 95 / 100 ))
vm = vm:* floor_iops=$FLOOR
state = $TMP/run/state
log = $TMP/decisions.csv
EOF
	if [ "$VM" = qemu ]; then
		# QEMU refills its throttle bucket on every new limit, so each
		# AIMD lift lets a burst through (seen: 700 IOPS in the interval
		# after a lift from 260 to 352); 2 s of health before a lift
		# keeps those bursts rare
		printf 'backend = qmp\nqmp = vm:hcieval %s d0\nhealthy_intervals = 20\n' \
			"$VM_QMP" >> "$TMP/t.conf"
	else
		echo "rule = /hcieval-vm=vm:evalvm" >> "$TMP/t.conf"
	fi
}

# reaction SOLO: "ONSET LIMIT RECOVERED MIN_VM_1S" from the agent's own logs
# (one clock): onset = the first interval that saw both active (contention
# began within the interval before it); limit = the first cap written;
# recovered = the first interval after it with the container at >= 90% of
# solo; the VM's lowest rate over 1 s (10 intervals) while capped
reaction() {
	awk -F, -v tgt=$(( $1 * 90 / 100 )) '
		FNR == 1 || /^#/ { next }
		FILENAME ~ /decisions/ { if ($3 == "cap" && lim == "") lim = $1; next }
		!($1 in seen) { seen[$1] = 1; ts[++n] = $1 }
		$4 == "vm" { vm[$1] = $5; cap[$1] = $9 }
		$4 == "container" { ct[$1] = $5 }
		END {
			for (i = 1; i <= n; i++) { t = ts[i]
				if (on == "" && ct[t] > 0 && vm[t] > 0) on = t
				if (lim != "" && t + 0 > lim + 0 && r == "" && ct[t] >= tgt) r = t
				if (on != "" && cap[t] > 0 && vm[t] > 0) { w += vm[t]; k++ }
				if (k == 10) { if (mv == "" || w / 10 < mv) mv = w / 10; w = k = 0 }
			}
			printf "%s %s %s %s\n", on == "" ? "-" : on, lim == "" ? "-" : lim,
				r == "" ? "-" : r, mv == "" ? "-" : int(mv)
		}' "$TMP/decisions.csv" "$TMP/measure.csv"
}
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (a == "-" || b == "-") ? -1 : (b - a) * 1000 }'; }

# throttled_phase SOLO: case 3; sets V[thr_*], V[cpu], V[t_limit], V[t_rec], V[minvm], V[caps]
throttled_phase() {
	local d ticks0 ticks1 w0 w1 onset limit rec minvm
	write_conf "$1"
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
	# over the wall time of the phase (with VM=qemu it includes the boot)
	V[cpu]=$(awk -v t=$((ticks1 - ticks0)) -v hz="$(getconf CLK_TCK)" \
		-v s="$(( (w1 - w0) / 1000000 ))" 'BEGIN { printf "%.2f", t / hz / (s / 1000) * 100 }')
	read -r onset limit rec minvm <<<"$(reaction "$1")"
	V[t_limit]=$(ms_between "$onset" "$limit")
	V[t_rec]=$(ms_between "$onset" "$rec")
	# the guest's own per-second rate where there is one; else the agent's
	[ "$VM" = qemu ] && minvm=${V[thr_min]}
	V[minvm]=$([ "$minvm" = - ] && echo 0 || echo "$minvm")
	V[caps]=$(grep -c ',cap,' "$TMP/decisions.csv")
}

# round_json R: this round's figures as one JSON object (docs/bench.md)
round_json() {
	jq -n --argjson round "$1" --arg kind "$VM" \
		--argjson cs "$solo" --argjson csb "$solo_before" --argjson csa "$solo_after" \
		--argjson cc "$(iops_of "$TMP/cont.ct.json")" \
		--argjson ct "$(iops_of "$TMP/ct.json")" \
		--argjson csp "$solo_p99" --argjson ccp "$(p99_of "$TMP/cont.ct.json")" \
		--argjson ctp "$(p99_of "$TMP/ct.json")" \
		--argjson vs "${V[solo_iops]:-0}" --argjson vc "${V[cont_iops]:-0}" \
		--argjson vt "${V[thr_iops]:-0}" --argjson vsp "${V[solo_p99]:-0}" \
		--argjson vcp "${V[cont_p99]:-0}" --argjson vtp "${V[thr_p99]:-0}" \
		--argjson vmin "${V[minvm]}" --argjson floor "$FLOOR" \
		--argjson react "${V[t_limit]}" --argjson rec "${V[t_rec]}" \
		--argjson cpu "${V[cpu]}" --argjson caps "${V[caps]}" '{
		round: $round, vm_kind: $kind,
		container_solo_iops: $cs, container_solo_before_iops: $csb,
		container_solo_after_iops: $csa, container_contended_iops: $cc, container_throttled_iops: $ct,
		container_solo_p99_us: $csp, container_contended_p99_us: $ccp,
		container_throttled_p99_us: $ctp,
		vm_solo_iops: $vs, vm_contended_iops: $vc, vm_throttled_iops: $vt,
		vm_solo_p99_us: $vsp, vm_contended_p99_us: $vcp, vm_throttled_p99_us: $vtp,
		vm_min_1s_iops: $vmin, vm_floor_iops: $floor,
		reaction_ms: $react, recovery_ms: $rec, agent_cpu_pct: $cpu, caps_written: $caps }'
}

rounds=()
for ((r = 1; r <= ROUNDS; r++)); do
	fio_json "$CTCG" 1 "$RUNTIME" "$CT_OFF" "$TMP/solo.json"
	solo=$(iops_of "$TMP/solo.json")
	solo_p99=$(p99_of "$TMP/solo.json")
	vm_phase solo 0
	vm_phase cont 1
	mv "$TMP/ct.json" "$TMP/cont.ct.json"
	throttled_phase "$solo"
	# the CPU's part of a request drifts with the machine's load: a solo
	# on each side of the contended runs, averaged, cancels a drift
	fio_json "$CTCG" 1 "$RUNTIME" "$CT_OFF" "$TMP/solo2.json"
	solo_before=$solo
	solo_after=$(iops_of "$TMP/solo2.json")
	solo=$(( (solo_before + solo_after) / 2 ))
	solo_p99=$(( ($(p99_of "$TMP/solo.json") + $(p99_of "$TMP/solo2.json")) / 2 ))
	rounds+=("$(round_json "$r")")
	if [ -n "${KEEP:-}" ]; then
		cp "$TMP/measure.csv" "$KEEP/measure-$r.csv"
		cp "$TMP/decisions.csv" "$KEEP/decisions-$r.csv"
	fi
	echo "  round $r done" >&2
done

# the file: {"version": 1, "model_ssd": {...}, "rounds": [...], "summary": {medians}}
printf '%s\n' "${rounds[@]}" | jq -s --argjson lat "$LATENCY_US" --argjson cap "$CAPACITY_IOPS" \
	--argjson runtime "$RUNTIME" --arg kind "$VM" '
	def median: sort | if length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	. as $r | {
		version: 1, vm_kind: $kind, runtime_s: $runtime,
		model_ssd: { latency_us: $lat, capacity_iops: $cap },
		rounds: $r,
		summary: ($r[0] | keys_unsorted - ["round", "vm_kind"]
			| map(. as $k | { key: $k, value: ($r | map(.[$k]) | median) })
			| from_entries + { vm_kind: $kind }) }' > "$JSON.tmp" &&
	mv "$JSON.tmp" "$JSON"

s() { jq -r ".summary.$1" "$JSON"; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f%%", b ? a / b * 100 : 0 }'; }
echo "Contention on a model SSD ($LATENCY_US us per request, $CAPACITY_IOPS IOPS), $ROUNDS round(s) x ${RUNTIME}s, medians."
if [ "$VM" = qemu ]; then
	echo "Container: 4 KiB random reads, QD1. VM: a QEMU guest (TCG) doing the same at QD16"
	echo "on its virtio disk (the same device, raw); capped over QMP."
else
	echo "Container: 4 KiB random reads, QD1. VM: the same at QD16, in its own cgroup."
fi
echo
echo "| case | container IOPS | of solo | container p99 (us) | VM IOPS | VM p99 (us) |"
echo "|------|---------------:|--------:|-------------------:|--------:|------------:|"
echo "| alone | $(s container_solo_iops) | 100% | $(s container_solo_p99_us) | $(s vm_solo_iops) (VM alone) | $(s vm_solo_p99_us) |"
echo "| contended | $(s container_contended_iops) | $(pct "$(s container_contended_iops)" "$(s container_solo_iops)") | $(s container_contended_p99_us) | $(s vm_contended_iops) | $(s vm_contended_p99_us) |"
echo "| contended + hcithrottle | $(s container_throttled_iops) | $(pct "$(s container_throttled_iops)" "$(s container_solo_iops)") | $(s container_throttled_p99_us) | $(s vm_throttled_iops) | $(s vm_throttled_p99_us) |"
echo
echo "- reaction: first cap written $(s reaction_ms) ms after the first interval that saw the"
echo "  contention (interval 100 ms: contention began at most one interval before that);"
echo "  container back at >= 90% of its solo IOPS $(s recovery_ms) ms after it (-1: never)"
echo "- VM floor $FLOOR IOPS: the VM's lowest rate over 1 s while capped $(s vm_min_1s_iops) IOPS"
echo "- agent CPU: $(s agent_cpu_pct)% of one core; caps written per run: $(s caps_written)"
echo "- per round: $JSON"
# the research's figure, where gnuplot is installed (make deps installs it)
if command -v gnuplot >/dev/null; then
	"$here/hci-plot-throttle" "$JSON" "${JSON%.json}.png" | sed 's/^/- plot: /'
fi
