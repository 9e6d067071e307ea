#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# make bench: what tracing costs at NVMe rates (issue 13), in one table.
#
# Workloads, fio 4k randread on the loop test SSD (a loop device over
# /dev/shm, --direct-io=on):
#   host QD32, host QD1     fio libaio, as a host process
#   VMM threads / aio / io_uring
#                           fio copied to a file named qemu-system-x86_64,
#                           so that hcitrace --vmm takes it for a VMM:
#                           psync QD1 x 4 jobs, libaio QD32, io_uring QD32
# Tracers: none, biolatency -d DEV (Debian's libbpf-tools); on the host
# workloads hcitrace -d DEV, on the VMM workloads hcitrace -d DEV --vmm (and
# with VMM_PLAIN=1 plain hcitrace too: about a minute more, which takes
# the default run over 15 minutes on the 2-core VM).
#
# Every configuration runs once per round, the order rotating each round
# (only figures from one run, interleaved, compare here). The table holds
# medians over the rounds; a ratio is the median of the per-round ratios.
# kernel.bpf_stats_enabled=1 stays on for every run, none included, so all
# tracers pay the same for the statistics. BPF ns per I/O: the run_time_ns
# of the tracer's own programs (the prog ids in its /proc fdinfo), delta
# over the fio run, / fio's I/Os. CPU ns per I/O: all CPUs' busy time
# (/proc/stat) over the fio run / I/Os. Attach: exec to the tracer's
# "Tracing..." line; detach: SIGINT to its exit.
#
# Then the VMM workloads again, IOPS_ROUNDS rounds with
# kernel.bpf_stats_enabled=0, for IOPS only: with the statistics on, every
# program run pays two more clock reads, which a tracer's IOPS cost then
# includes (biolatency's was -23% to +5% that way).
#
# Then: hcitrace --record's loss count (RECORD_RUNTIME s of host QD32), the
# join replay (tools/join-replay.sh, if present) and the TCG guest row
# (tools/bench-vm.sh; VM_ROUNDS=0 skips it).
#
#   ROUNDS=5 RUNTIME=3 IOPS_ROUNDS=5 RECORD_RUNTIME=20 VM_ROUNDS=3 VM_RUNTIME=5 make bench
#   QD1=0: no host QD1 workload; VMM_PLAIN=1: plain hcitrace on the VMM
#   workloads too; IOPS_ROUNDS=0: no IOPS rounds; RECORD_RUNTIME=0: no
#   --record row.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$here/../build}
HCITRACE=${HCITRACE:-$OUT/hcitrace}
ROUNDS=${ROUNDS:-5}
RUNTIME=${RUNTIME:-3}
IOPS_ROUNDS=${IOPS_ROUNDS:-5}
RECORD_RUNTIME=${RECORD_RUNTIME:-20}
VM_ROUNDS=${VM_ROUNDS:-3}
VM_RUNTIME=${VM_RUNTIME:-5}
QD1=${QD1:-1}
VMM_PLAIN=${VMM_PLAIN:-0}
REPORT=${REPORT:-$OUT/bench.md}
export VM_ROUNDS VM_RUNTIME
[ "$(id -u)" = 0 ] || { echo "Error: the benchmark needs root" >&2; exit 1; }
for c in biolatency fio bpftool jq stdbuf; do
	command -v $c >/dev/null || { echo "Error: $c missing; run 'make deps'" >&2; exit 1; }
done
[ -x "$HCITRACE" ] || { echo "Error: no $HCITRACE; run 'make' first" >&2; exit 1; }

img=/dev/shm/hcikit-bench-$$.img	# the loop SSD's backing file
work=$(mktemp -d /tmp/hcikit-bench.XXXXXX)	# fio's VMM copy, the FIFO, the record
dev="" tpid="" rpid=""
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	set +e	# undo everything, whatever fails
	if [ -n "$tpid" ]; then kill -INT "$tpid" 2>/dev/null; wait "$tpid" 2>/dev/null; fi
	if [ -n "$rpid" ]; then kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null; fi
	sysctl -qw kernel.bpf_stats_enabled="$stats_was"
	[ -n "$dev" ] && losetup -d "$dev" 2>/dev/null
	rm -rf "$img" "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the configurations ----
workloads=(host32)
[ "$QD1" != 0 ] && workloads+=(host1)
workloads+=(threads aio uring)
tracers_of() {
	case $1 in
	host*) echo none biolatency hcitrace ;;
	*) echo none biolatency vmm; if [ "$VMM_PLAIN" != 0 ]; then echo hcitrace; fi ;;
	esac
}
wl_name() {
	case $1 in
	host32) echo "host, libaio QD32" ;;
	host1) echo "host, libaio QD1" ;;
	threads) echo "VMM threads (psync QD1 x 4 jobs)" ;;
	aio) echo "VMM native aio (libaio QD32)" ;;
	uring) echo "VMM io_uring (QD32)" ;;
	esac
}
tr_name() { case $1 in vmm) echo "hcitrace --vmm" ;; *) echo "$1" ;; esac; }
nconf=0
for w in "${workloads[@]}"; do for t in $(tracers_of "$w"); do nconf=$((nconf + 1)); done; done

# The expected duration (s), part by part as the closing line prints them
# (a default run, 2026-12-03: main 286 s, iops 169, record 22, join 22, VM
# row 296, QEMU paths 34): fio time plus each tracer's attach, detach and
# settling (tenths of a second), and the guest boots (about 6 s each).
expect_s() {
	local d=0 w t
	for w in "${workloads[@]}"; do
		for t in $(tracers_of "$w"); do
			case $t in none) d=$((d + 5)) ;; biolatency) d=$((d + 6)) ;;
			hcitrace) d=$((d + 8)) ;; vmm) d=$((d + 12)) ;; esac
			d=$((d + RUNTIME * 10))
		done
	done
	d=$((d * ROUNDS / 10 + 15))
	# the IOPS rounds: none, biolatency and --vmm on the three VMM workloads
	d=$((d + IOPS_ROUNDS * 3 * (23 + 3 * RUNTIME * 10) / 10))
	[ "$RECORD_RUNTIME" != 0 ] && d=$((d + RECORD_RUNTIME + 2))
	[ -x "$here/join-replay.sh" ] && d=$((d + 25))	# a guest boot, 5 s of fio, 1M replayed
	# the guest row: 8 boots a round (2 QDs x 4 modes), and building the guest
	[ "$VM_ROUNDS" != 0 ] && d=$((d + VM_ROUNDS * 8 * (VM_RUNTIME + 6) + 30))
	# QEMU's own VMM paths (tools/bpf-ns-vm): 3 boots of 5 s of fio
	[ "$VM_ROUNDS" != 0 ] && [ -x "$here/bpf-ns-vm" ] && d=$((d + 3 * 12))
	echo "$d"
}

# ---- the device and the VMM ----
truncate -s 1G "$img"
dev=$(losetup -f --show --direct-io=on "$img")
dd if=/dev/zero of="$dev" bs=1M count=1024 oflag=direct status=none
disk=$(basename "$dev")
cp "$(command -v fio)" "$work/qemu-system-x86_64"
mkfifo "$work/fifo"
sysctl -qw kernel.bpf_stats_enabled=1

# fio_run WORKLOAD SECONDS: sets IOS (reads done) and IOPS
fio_run() {
	local bin=fio eng=(--ioengine=libaio --iodepth=32) out
	case $1 in
	host1) eng=(--ioengine=libaio --iodepth=1) ;;
	threads) bin=$work/qemu-system-x86_64 eng=(--ioengine=psync --iodepth=1 --numjobs=4) ;;
	aio) bin=$work/qemu-system-x86_64 ;;
	uring) bin=$work/qemu-system-x86_64 eng=(--ioengine=io_uring --iodepth=32) ;;
	esac
	out=$("$bin" --name=bench --filename="$dev" --direct=1 --rw=randread --bs=4k \
		"${eng[@]}" --runtime="$2" --time_based --group_reporting \
		--output-format=json 2>/dev/null | jq -r '.jobs[0].read | "\(.total_ios) \(.iops | floor)"') ||
		true
	read -r IOS IOPS <<< "$out"
	if [ -z "${IOS:-}" ] || [ "$IOS" = 0 ]; then
		echo "Error: fio ($1: ${eng[*]}) did no I/O on $dev; run it by hand to see why" >&2
		exit 1
	fi
}

# The tracer's stdout and stderr go through a FIFO to a reader that stamps
# the "Tracing..." line (biolatency prints it to stdout, hence stdbuf -oL).
stamp_ready() {
	local l
	while IFS= read -r l; do
		printf '%s\n' "$l"
		case $l in Tracing*) [ -e "$work/ready" ] || echo "$EPOCHREALTIME" > "$work/ready" ;; esac
	done
}
# start_tracer NAME [ARG...]: sets tpid and ATTACH (s); 1 if it did not start
start_tracer() {
	local t=$1 t0 i cmd
	shift
	case $t in
	biolatency) cmd=(stdbuf -oL biolatency -d "$disk") ;;
	hcitrace) cmd=("$HCITRACE" -d "$disk") ;;
	vmm) cmd=("$HCITRACE" -d "$disk" --vmm) ;;
	esac
	rm -f "$work/ready"
	stamp_ready < "$work/fifo" > "$work/tracer.log" &
	rpid=$!
	t0=$EPOCHREALTIME
	"${cmd[@]}" "$@" > "$work/fifo" 2>&1 &
	tpid=$!
	for ((i = 0; i < 3000; i++)); do
		[ -s "$work/ready" ] && break
		kill -0 "$tpid" 2>/dev/null || break
		sleep 0.01
	done
	if [ ! -s "$work/ready" ]; then
		echo "Error: ${cmd[*]} $* did not start:" >&2
		kill -INT "$tpid" 2>/dev/null; wait "$tpid" || true; wait "$rpid" || true
		tpid="" rpid=""
		sed 's/^/  /' "$work/tracer.log" >&2
		return 1
	fi
	ATTACH=$(awk -v a="$t0" -v b="$(cat "$work/ready")" 'BEGIN { printf "%.3f", b - a }')
}
# stop_tracer: SIGINT, wait for the exit; sets DETACH (s) and TICKS, the
# tracer's CPU time (utime + stime, clock ticks) until the signal
stop_tracer() {
	local t0 rc=0
	TICKS=$(awk '{ print $14 + $15 }' "/proc/$tpid/stat" 2>/dev/null || echo 0)
	t0=$EPOCHREALTIME
	if ! kill -INT "$tpid" 2>/dev/null; then
		echo "Error: the tracer ended before it was stopped:" >&2
		tail -5 "$work/tracer.log" >&2
		exit 1
	fi
	wait "$tpid" || rc=$?
	DETACH=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
	wait "$rpid" || true
	tpid="" rpid=""
	[ "$rc" = 0 ] || { echo "Warning: the tracer exited with $rc:" >&2; tail -5 "$work/tracer.log" >&2; }
}
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
# bpf_ns PID: the run time (ns) of its programs
. "$here/lib-bpf-stats.sh"

declare -A iops cpu bpf att det
# run_conf WORKLOAD TRACER ROUND: one fio run under one tracer, figures kept
run_conf() {
	local w=$1 t=$2 r=$3 n0=0 n1=0 b0 b1 ns=-
	ATTACH=- DETACH=-
	# others on this machine may switch the statistics off (tools/bpf-ns-ab)
	sysctl -qw kernel.bpf_stats_enabled=1
	if [ "$t" != none ]; then
		start_tracer "$t" || return 1
		n0=$(bpf_ns "$tpid")
	fi
	b0=$(busy)
	fio_run "$w" "$RUNTIME"
	b1=$(busy)
	if [ "$t" != none ]; then
		n1=$(bpf_ns "$tpid")
		stop_tracer
		ns=$(((n1 - n0) / (IOS > 0 ? IOS : 1)))
		if [ "$(sysctl -n kernel.bpf_stats_enabled)" != 1 ]; then
			echo "Warning: bpf_stats went off during the run; its BPF figure is left out" >&2
			ns=-
		fi
	fi
	sleep 0.3	# the kernel frees the programs before the next run
	iops[$w,$t,$r]=$IOPS
	cpu[$w,$t,$r]=$(awk -v d=$((b1 - b0)) -v hz="$(getconf CLK_TCK)" -v n="$IOS" \
		'BEGIN { printf "%d", n ? d / hz * 1e9 / n : 0 }')
	bpf[$w,$t,$r]=$ns att[$w,$t,$r]=$ATTACH det[$w,$t,$r]=$DETACH
	printf '  round %d %-7s %-10s %7d IOPS %6d CPU ns/IO %5s BPF ns/IO  attach %s s detach %s s\n' \
		"$r" "$w" "$t" "$IOPS" "${cpu[$w,$t,$r]}" "$ns" "$ATTACH" "$DETACH"
}

declare -A iops_off
iops_workloads=(threads aio uring)
iops_tracers() { echo none biolatency vmm; }
# iops_conf WORKLOAD TRACER ROUND: the same fio run with the statistics off,
# for its IOPS alone
iops_conf() {
	local w=$1 t=$2 r=$3
	sysctl -qw kernel.bpf_stats_enabled=0
	if [ "$t" != none ]; then
		start_tracer "$t" || return 1
	fi
	fio_run "$w" "$RUNTIME"
	if [ "$t" != none ]; then
		stop_tracer
	fi
	sleep 0.3
	iops_off[$w,$t,$r]=$IOPS
	printf '  IOPS round %d %-7s %-10s %7d IOPS (bpf_stats off)\n' "$r" "$w" "$t" "$IOPS"
}

# ---- the --record row ----
# Every read the device completed (its stat counter) against the reads in
# the recording (report's histograms are rebuilt from the records), the
# lost counters, and the writer's CPU.
REC="n/a (RECORD_RUNTIME=0)"
record_row() {
	local rd0 rd1 f=$work/bench.hcr core
	if ! "$HCITRACE" --help 2>/dev/null | grep -c -- '--record' >/dev/null; then
		REC="n/a (this hcitrace has no --record)"
		return 0
	fi
	echo "record: hcitrace -d $disk --record FILE, ${RECORD_RUNTIME}s of host libaio QD32"
	rd0=$(awk '{ print $1 }' "/sys/block/$disk/stat")
	start_tracer hcitrace --record "$f" || { REC="n/a (hcitrace --record did not start)"; return 0; }
	fio_run host32 "$RECORD_RUNTIME"
	stop_tracer
	rd1=$(awk '{ print $1 }' "/sys/block/$disk/stat")
	if ! "$HCITRACE" report "$f" --json "$work/rec.json" > "$work/rec.txt" 2>&1; then
		REC="n/a (hcitrace report failed: $(tail -1 "$work/rec.txt"))"
		return 0
	fi
	core=$(awk -v t="$TICKS" -v hz="$(getconf CLK_TCK)" -v s="$RECORD_RUNTIME" \
		'BEGIN { printf "%.0f", t / hz / s * 100 }')
	REC=$(jq -r --arg dev "$disk" --argjson reads $((rd1 - rd0)) --argjson iops "$IOPS" \
		--argjson mib $(($(stat -c %s "$f") >> 20)) --arg core "$core" '
		([.histograms[] | select(.device == $dev and .op == "read") | .ios] | add // 0) as $rec |
		([.lost | to_entries[] | select(.value > 0) | "\(.key)=\(.value)"] | join(" ")) as $nz |
		"\($rec) reads recorded of \($reads) the device completed (\($iops) IOPS); lost: " +
		(if $nz == "" then "none (every counter 0)" else $nz + " (all other counters 0)" end) +
		"; file \($mib) MiB; hcitrace \($core)% of one core"' "$work/rec.json")
	rm -f "$f"
}

# ---- the join replay ----
JOIN="n/a (no tools/join-replay.sh)"
join_row() {
	local line
	[ -x "$here/join-replay.sh" ] || return 0
	echo "join replay: tools/join-replay.sh"
	if line=$(OUT=$OUT "$here/join-replay.sh" 2> "$work/join.err" | grep 'joined=' | tail -1) &&
	   [ -n "$line" ]; then
		JOIN=$line
		grep '^join replay:' "$work/join.err" | sed 's/^/  /' || true
	else
		JOIN="n/a (tools/join-replay.sh failed: $(tail -1 "$work/join.err"))"
	fi
}

# the figures of the replay's line that the table shows
join_short() {
	local k v out=""
	case $JOIN in n/a*) echo "$JOIN"; return 0 ;; esac
	for k in cpu_ns_per_req maxrss_kib joined requests_per_s; do
		v=$(grep -o "\b$k=[^ ]*" <<< "$JOIN" || true)
		[ -n "$v" ] && out="$out${out:+ }$v"
	done
	echo "$out"
}

# ---- the run ----
est=$(expect_s)
cat <<EOF
bench: $ROUNDS rounds x $nconf configurations x ${RUNTIME}s, interleaved, order rotating;
  fio 4k randread on $dev (loop over /dev/shm, direct-io), kernel $(uname -r), $(nproc) CPUs
  workloads (fio --rw=randread --bs=4k --direct=1):
    host32   fio --ioengine=libaio --iodepth=32
    host1    fio --ioengine=libaio --iodepth=1 $([ "$QD1" != 0 ] || echo "(off: QD1=0)")
    threads  qemu-system-x86_64 (fio's copy) --ioengine=psync --iodepth=1 --numjobs=4
    aio      qemu-system-x86_64 (fio's copy) --ioengine=libaio --iodepth=32
    uring    qemu-system-x86_64 (fio's copy) --ioengine=io_uring --iodepth=32
  tracers: none; biolatency -d $disk; on host workloads hcitrace -d $disk;
    on VMM workloads hcitrace -d $disk --vmm$([ "$VMM_PLAIN" != 0 ] && echo " and hcitrace -d $disk" ||
	echo " (VMM_PLAIN=1: plain hcitrace too)")
  kernel.bpf_stats_enabled=1 for every run; then $IOPS_ROUNDS rounds of the VMM workloads with it
  off (IOPS only), --record (${RECORD_RUNTIME}s), join replay,
  the TCG guest row and QEMU's three VMM paths (VM_ROUNDS=$VM_ROUNDS)
  expected duration: about $(((est + 59) / 60)) min
EOF
# interleave N CONF TRACERS WORKLOAD...: N rounds of CONF WORKLOAD TRACER
# ROUND for every workload and each tracer the function TRACERS names for
# it, both orders rotating each round
interleave() {
	local n=$1 conf=$2 tracers=$3 r i j nw w ts
	shift 3
	nw=$#
	local wls=("$@")
	for ((r = 1; r <= n; r++)); do
		for ((i = 0; i < nw; i++)); do
			w=${wls[$(((i + r) % nw))]}
			read -r -a ts <<< "$("$tracers" "$w" | paste -sd' ')"
			for ((j = 0; j < ${#ts[@]}; j++)); do
				"$conf" "$w" "${ts[$(((j + r) % ${#ts[@]}))]}" "$r"
			done
		done
	done
}
t_start=$SECONDS
# part NAME: the seconds since the last part, for the closing line (what
# expect_s estimates, part by part)
parts="" t_part=$SECONDS
part() {
	parts="$parts${parts:+, }$1 $((SECONDS - t_part)) s"
	t_part=$SECONDS
}
interleave "$ROUNDS" run_conf tracers_of "${workloads[@]}"
part main
interleave "$IOPS_ROUNDS" iops_conf iops_tracers "${iops_workloads[@]}"
part iops
sysctl -qw kernel.bpf_stats_enabled=1
[ "$RECORD_RUNTIME" != 0 ] && record_row
part record
join_row
part join
sysctl -qw kernel.bpf_stats_enabled="$stats_was"

# ---- the report ----
# summ: "median min max" of the numbers on stdin ("-" skipped)
summ() {
	awk '$1 != "-" && $1 != ""' | sort -g | awk '{ a[NR] = $1 } END { if (!NR) { print "- - -"; exit }
		m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		print m, a[1], a[NR] }'
}
# per_round ARRAY W T [ROUNDS]: that figure, one line per round
per_round() {
	local -n arr=$1
	local r
	for ((r = 1; r <= ${4:-$ROUNDS}; r++)); do echo "${arr[$2,$3,$r]:--}"; done
}
# ratio ARRAY W T BASE: median over rounds of T's figure / BASE's, "x.xx"
ratio() {
	local -n arr=$1
	local r
	for ((r = 1; r <= ROUNDS; r++)); do
		awk -v a="${arr[$2,$3,$r]}" -v b="${arr[$2,$4,$r]}" \
			'BEGIN { if (a == "-" || b == "-" || !b) print "-"; else printf "%.3f\n", a / b }'
	done | summ | awk '{ print ($1 == "-") ? "-" : sprintf("%.2f", $1) }'
}
# cost W T [ARRAY ROUNDS]: the IOPS cost of T against none, median of the
# rounds' percentages (iops over ROUNDS rounds unless told)
cost() {
	local -n arr=${3:-iops}
	local r
	for ((r = 1; r <= ${4:-$ROUNDS}; r++)); do
		awk -v a="${arr[$1,$2,$r]}" -v b="${arr[$1,none,$r]}" \
			'BEGIN { printf "%.2f\n", b ? (a - b) / b * 100 : 0 }'
	done | summ | awk '{ printf "%+.1f%% (%+.1f%% to %+.1f%%)", $1, $2, $3 }'
}
med() { per_round "$@" | summ | awk '{ if ($1 == "-") print "-"; else printf "%d\n", $1 }'; }
{
	echo "## Tracing cost at NVMe rates"
	echo
	echo "fio 4k randread on the loop SSD ($disk over /dev/shm, direct-io), kernel $(uname -r)," \
		"$(nproc) CPUs; $ROUNDS interleaved rounds x ${RUNTIME}s, medians; ratios are" \
		"medians of per-round ratios. kernel.bpf_stats_enabled=1 in every run (the same" \
		"for all tracers; IOPS costs include it)."
	echo
	echo "| workload | tracer | BPF ns/IO | x biolatency | CPU ns/IO | x biolatency | IOPS | x biolatency | IOPS vs none |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
	for w in "${workloads[@]}"; do
		for t in $(tracers_of "$w"); do
			b=$(med bpf "$w" "$t") rb=- rc=- ri=- c=-
			if [ "$t" != none ]; then
				rb=$(ratio bpf "$w" "$t" biolatency)
				rc=$(ratio cpu "$w" "$t" biolatency)
				ri=$(ratio iops "$w" "$t" biolatency)
				c=$(cost "$w" "$t")
			fi
			[ "$t" = biolatency ] && rb=1.00 rc=1.00 ri=1.00
			echo "| $(wl_name "$w") | $(tr_name "$t") | $b | $rb | $(med cpu "$w" "$t") | $rc |" \
				"$(med iops "$w" "$t") | $ri | $c |"
		done
	done
	echo
	if [ "$IOPS_ROUNDS" != 0 ]; then
		echo "IOPS with kernel.bpf_stats_enabled=0 ($IOPS_ROUNDS more interleaved rounds x ${RUNTIME}s," \
			"order rotating): each tracer's own IOPS cost, without the statistics' clock reads;" \
			"the cost is the median of the per-round percentages against none (lowest to highest)."
		echo
		echo "| workload | tracer | IOPS | IOPS vs none |"
		echo "|---|---|---:|---:|"
		for w in "${iops_workloads[@]}"; do
			for t in $(iops_tracers "$w"); do
				c=-
				[ "$t" != none ] && c=$(cost "$w" "$t" iops_off "$IOPS_ROUNDS")
				echo "| $(wl_name "$w") | $(tr_name "$t") |" \
					"$(med iops_off "$w" "$t" "$IOPS_ROUNDS") | $c |"
			done
		done
		echo
	fi
	echo "Noise: IOPS with no tracer, lowest to highest round:" \
		"$(for w in "${workloads[@]}"; do per_round iops "$w" none | summ |
			awk -v w="$w" '{ printf "%s %d-%d; ", w, $2, $3 }'; done | sed 's/; $//')."
	echo
	echo "Attach (exec to \"Tracing...\") and detach (SIGINT to exit), seconds, over all" \
		"workloads and rounds:"
	echo
	echo "| tracer | attach median | attach min-max | detach median | detach min-max | runs |"
	echo "|---|---:|---:|---:|---:|---:|"
	for t in biolatency hcitrace vmm; do
		for k in att det; do
			for w in "${workloads[@]}"; do per_round $k "$w" "$t"; done | summ > "$work/$k"
		done
		read -r am amin amax < "$work/att"
		read -r dm dmin dmax < "$work/det"
		n=$(for w in "${workloads[@]}"; do per_round att "$w" "$t"; done | grep -c '^[0-9]' || true)
		[ "$n" = 0 ] && continue
		printf '| %s | %.3f | %.3f-%.3f | %.3f | %.3f-%.3f | %d |\n' "$(tr_name $t)" \
			"$am" "$amin" "$amax" "$dm" "$dmin" "$dmax" "$n"
	done
	echo
	echo "| figure | result |"
	echo "|---|---|"
	echo "| hcitrace -d DEV --record, ${RECORD_RUNTIME}s host libaio QD32 | $REC |"
	echo "| join replay (tools/join-replay.sh) | $(join_short) |"
	echo
	echo "Join replay, its whole line: $JOIN"
	echo
	echo "All runs, by round (IOPS / CPU ns per I/O / BPF ns per I/O / attach s / detach s):"
	echo
	for w in "${workloads[@]}"; do
		for t in $(tracers_of "$w"); do
			printf -- '- %s %s:' "$w" "$t"
			for ((r = 1; r <= ROUNDS; r++)); do
				printf ' %s/%s/%s/%s/%s' "${iops[$w,$t,$r]}" "${cpu[$w,$t,$r]}" \
					"${bpf[$w,$t,$r]}" "${att[$w,$t,$r]}" "${det[$w,$t,$r]}"
			done
			echo
		done
	done
} > "$REPORT"
# the VM row: guest IOPS with and without host hcitrace --vmm
if [ "$VM_ROUNDS" != 0 ]; then
	OUT=$OUT "$here/bench-vm.sh" >> "$REPORT" ||
		echo "VM row failed; see the messages above" >> "$REPORT"
fi
part "VM row"
# QEMU's own three VMM paths under host hcitrace --vmm, where the fio rows
# above stand in for QEMU: native aio reaps through an eventfd read there
if [ "$VM_ROUNDS" != 0 ] && [ -x "$here/bpf-ns-vm" ]; then
	{
		echo
		echo "QEMU's VMM paths (tools/bpf-ns-vm: TCG guest, fio 4k randread libaio QD32, 5 s each; BPF ns per guest I/O by program):"
		echo
		echo '```'
		OUT=$OUT "$here/bpf-ns-vm" "$HCITRACE" || echo "bpf-ns-vm failed; see the messages above"
		echo '```'
	} >> "$REPORT"
fi
part "QEMU paths"
echo
cat "$REPORT"
echo
echo "took $(((SECONDS - t_start) / 60)) min $(((SECONDS - t_start) % 60)) s (expected about $(((est + 59) / 60)) min: $parts);" \
	"report written to $REPORT"
