#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Tracing overhead: fio 4k randread IOPS on the loop test SSD at QD1 and QD32
# with no tracer, with hcitrace and with biolatency (Debian's libbpf-tools),
# in one run with the configurations interleaved round by round (the order
# rotates each round), reporting the median of ROUNDS runs. A second pass with
# kernel.bpf_stats_enabled=1 gives the BPF run time per I/O of each tool.
#
#   ROUNDS=7 RUNTIME=5 VM_ROUNDS=3 VM_RUNTIME=5 make bench   (VM_ROUNDS=0: no VM row)
set -euo pipefail
OUT=${OUT:-$(cd "$(dirname "$0")/.." && pwd)/build}
HCITRACE=${HCITRACE:-$OUT/hcitrace}
ROUNDS=${ROUNDS:-7}
RUNTIME=${RUNTIME:-5}
REPORT=${REPORT:-$OUT/bench.md}
[ "$(id -u)" = 0 ] || { echo "Error: the benchmark needs root" >&2; exit 1; }
command -v biolatency >/dev/null || { echo "Error: biolatency missing; run 'make deps'" >&2; exit 1; }

img=/dev/shm/hcikit-bench-$$.img
dev=""
tracer=""
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	[ -n "$tracer" ] && kill -INT "$tracer" 2>/dev/null && wait "$tracer" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$stats_was"
	[ -n "$dev" ] && losetup -d "$dev" 2>/dev/null
	rm -f "$img" "${tmp_iops:-}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

truncate -s 1G "$img"
dev=$(losetup -f --show --direct-io=on "$img")
dd if=/dev/zero of="$dev" bs=1M count=1024 oflag=direct status=none
disk=$(basename "$dev")

nprogs() { bpftool prog show 2>/dev/null | grep -cE "name ($1)" || true; }
start_tracer() {
	case $1 in
	none) tracer="" ;;
	hcitrace)
		"$HCITRACE" >/dev/null 2>&1 & tracer=$!
		for _ in $(seq 100); do [ "$(nprogs 'block_rq_complete_(btf|raw)')" -gt 0 ] && break; sleep 0.05; done ;;
	biolatency)
		biolatency >/dev/null 2>&1 & tracer=$!
		for _ in $(seq 100); do [ "$(nprogs 'block_rq_complete')" -gt 0 ] && break; sleep 0.05; done ;;
	esac
}
stop_tracer() {
	[ -n "$tracer" ] || return 0
	kill -INT "$tracer"; wait "$tracer" || true; tracer=""
	# let the kernel free the programs before the next configuration
	for _ in $(seq 100); do [ "$(nprogs 'block_rq_complete')" = 0 ] && break; sleep 0.05; done
}
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
# fio_iops QD: prints IOPS; sets CPU_NS, all CPUs' busy time per I/O
fio_iops() {
	local b0 b1 iops
	b0=$(busy)
	iops=$(fio --name=bench --filename="$dev" --direct=1 --rw=randread --bs=4k \
		--ioengine=libaio --iodepth="$1" --runtime="$RUNTIME" --time_based \
		--output-format=terse --terse-version=3 2>/dev/null | awk -F';' '{ print $8 }')
	b1=$(busy)
	CPU_NS=$(awk -v d=$((b1 - b0)) -v hz="$(getconf CLK_TCK)" -v n=$((iops * RUNTIME)) \
		'BEGIN { printf "%d", n ? d / hz * 1e9 / n : 0 }')
	echo "$iops"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

tools=(none hcitrace biolatency)
declare -A runs cpu
tmp_iops=$(mktemp)
echo "bench: $ROUNDS rounds x ${RUNTIME}s, fio 4k randread on $dev, kernel $(uname -r)"
for ((r = 0; r < ROUNDS; r++)); do
	for qd in 1 32; do
		for ((i = 0; i < ${#tools[@]}; i++)); do
			t=${tools[$(((i + r) % ${#tools[@]}))]}
			start_tracer "$t"
			fio_iops "$qd" > "$tmp_iops"
			iops=$(cat "$tmp_iops")
			stop_tracer
			runs[$t,$qd]="${runs[$t,$qd]:-} $iops"
			cpu[$t,$qd]="${cpu[$t,$qd]:-} $CPU_NS"
			printf '  round %d qd%-2d %-10s %8d IOPS %6d CPU ns/IO\n' "$((r + 1))" "$qd" "$t" "$iops" "$CPU_NS"
		done
	done
done

# BPF time per I/O: run time of every program of the tool / I/Os completed
sysctl -qw kernel.bpf_stats_enabled=1
declare -A nsper detail
for t in hcitrace biolatency; do
	start_tracer "$t"
	fio_iops 32 > "$tmp_iops"
	ios=$(( $(cat "$tmp_iops") * RUNTIME ))
	pat='^block_'
	detail[$t]=$(bpftool -j prog show | jq -r --arg p "$pat" \
		'.[] | select(.name | test($p)) | select(.run_cnt != null and .run_cnt > 0) |
		 "\(.name)=\((.run_time_ns / .run_cnt) | floor)ns"' | paste -sd' ')
	total=$(bpftool -j prog show | jq --arg p "$pat" \
		'[.[] | select(.name | test($p)) | .run_time_ns // 0] | add')
	nsper[$t]=$(( total / (ios > 0 ? ios : 1) ))
	stop_tracer
done
sysctl -qw kernel.bpf_stats_enabled="$stats_was"

{
	echo "| QD | tool | median IOPS | IOPS overhead | median CPU ns/I/O | CPU overhead | BPF ns per I/O |"
	echo "|---:|------|-----------:|--------------:|------------------:|-------------:|---------------:|"
	for qd in 1 32; do
		base=$(echo ${runs[none,$qd]} | tr ' ' '\n' | median)
		cbase=$(echo ${cpu[none,$qd]} | tr ' ' '\n' | median)
		for t in "${tools[@]}"; do
			m=$(echo ${runs[$t,$qd]} | tr ' ' '\n' | median)
			c=$(echo ${cpu[$t,$qd]} | tr ' ' '\n' | median)
			ov=$(awk -v b="$base" -v m="$m" 'BEGIN { printf "%.2f%%", (b - m) / b * 100 }')
			cov=$(awk -v b="$cbase" -v m="$c" 'BEGIN { printf "%+.2f%%", (m - b) / b * 100 }')
			ns="-"
			[ "$t" != none ] && ns=${nsper[$t]}
			[ "$t" = none ] && ov="-" && cov="-"
			echo "| $qd | $t | $m | $ov | $c | $cov | $ns |"
		done
	done
	echo
	echo "Per-program BPF ns per event (QD32, bpf_stats):"
	echo
	for t in hcitrace biolatency; do echo "- $t: ${detail[$t]}"; done
	echo
	echo "All runs (IOPS):"
	echo
	for qd in 1 32; do for t in "${tools[@]}"; do echo "- qd$qd $t:${runs[$t,$qd]}"; done; done
	echo
	echo "All runs (CPU ns per I/O, all CPUs' busy time / I/Os):"
	echo
	for qd in 1 32; do for t in "${tools[@]}"; do echo "- qd$qd $t:${cpu[$t,$qd]}"; done; done
} > "$REPORT"
# the VM row: guest IOPS with and without host hcitrace --vmm
if [ "${VM_ROUNDS:-3}" != 0 ]; then
	OUT=$OUT "$(dirname "$0")/bench-vm.sh" >> "$REPORT" ||
		echo "VM row failed; see the messages above" >> "$REPORT"
fi
echo
cat "$REPORT"
echo
echo "report written to $REPORT"
