#!/bin/bash
# hcithrottle with real enforcement (cgroup v1 blkio on this host): a "vm"
# cgroup (fio QD16) and a "container" cgroup (QD1) contend on one model SSD
# (tools/model-ssd: 500 us per request, 4000 IOPS in all), where contention
# is for the device, as on a real SSD, not for the CPU. With hcithrottle
# running, the vm cgroup gets a limit in blkio.throttle.*, its rate obeys
# it over whole seconds, and the container gets its solo speed back.
# SIGTERM, SIGKILL + reset and SIGKILL + restart all leave no limit behind;
# --dry-run writes none; bad config is file:line.
#
# Margins, measured on 2-core VMs (docs/testing.md): the container alone
# does 1450-1510 IOPS, 1/(500 us + the CPU's part); beside the QD16 vm
# 250-330 (17-22% of solo), so "contended <= 50% of solo" has a margin of
# more than 2x; with the vm capped anywhere at or below 2000 IOPS the
# container is back at 99-107% of solo, so ">= 85%" leaves room for the
# intervals before the first cap and for AIMD's probing lifts. Its target
# is its whole solo rate: at 90% the daemon stopped capping where noise
# alone put the container under 85% (seen: 1110 of 1323). The CPU's
# part of a request (150-400 us) drifts with the machine's load, so the
# container's solo speed is measured on both sides of the throttled run,
# and the two are compared as medians of per-second rates.
. "$(dirname "$0")/../lib.sh"
need_root
[ -d "$BLKIO" ] || skip_all "no cgroup v1 blkio hierarchy here (the v2 path runs in the guest)"

setup_model_ssd 500 4000 1024
throttle_cgroups hcitest

# iops CG SECONDS QD [OFFSET]: fio random reads in a cgroup; prints its
# read IOPS. The vm and the container read different halves of the device.
# With IOLOG=PREFIX, fio also logs its IOPS per second to PREFIX_iops.1.log.
iops() {
	local engine=psync log=()
	[ "$3" -gt 1 ] && engine=libaio
	[ -n "${IOLOG:-}" ] && log=(--write_iops_log="$IOLOG" --log_avg_msec=1000)
	in_cgroup "$1" fio --name=t --filename="$dev" --direct=1 --rw=randread --bs=4k \
		--offset="${4:-0}" --size=256M --runtime="$2" --time_based \
		--ioengine=$engine --iodepth="$3" "${log[@]}" \
		--output-format=terse --terse-version=3 2>/dev/null | cut -d';' -f8
}
# secs_1s PREFIX...: the per-second IOPS in those logs (fio's IOLOG), in
# order; with SKIP=N, each log's first N seconds are left out.
secs_1s() {
	local p
	for p in "$@"; do tail -n +$(( ${SKIP:-0} + 1 )) "${p}_iops.1.log" | cut -d, -f2 | tr -d ' '; done
}
# median_1s PREFIX...: their median
median_1s() {
	secs_1s "$@" | sort -n |
		awk '{ v[NR] = $1 } END { if (!NR) print 0; else if (NR % 2) print v[(NR + 1) / 2];
			else printf "%d\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# quartile3_1s PREFIX...: their upper quartile (nearest rank)
quartile3_1s() {
	secs_1s "$@" | sort -n | awk '{ v[NR] = $1 } END { i = int((3 * NR + 3) / 4); print NR ? v[i] : 0 }'
}
limits() { cat "$VMCG"/blkio.throttle.{read,write}_{iops,bps}_device 2>/dev/null | grep -c "^$mm " ; }

# the contender: the "VM" at QD16 for S seconds, in the background
vm_load() {
	in_cgroup "$VMCG" fio --name=vm --filename="$dev" --direct=1 --rw=randread --bs=4k \
		--offset=512M --size=256M --runtime="$1" --time_based --ioengine=libaio \
		--iodepth=16 --output-format=terse --terse-version=3 > "$TMP/vm.out" 2>/dev/null &
	VMPID=$!
	on_exit "kill $VMPID 2>/dev/null"
}

solo=$(IOLOG=$TMP/solo1 iops "$CTCG" 3 1)
diag "container solo: $solo IOPS"
vm_load 4
sleep 0.5
cont=$(iops "$CTCG" 3 1)
wait $VMPID
diag "container contended, no hcithrottle: $cont IOPS (vm $(cut -d';' -f8 "$TMP/vm.out") IOPS)"
check "contention is real: the container contended is at most 50% of solo ($cont of $solo)" \
	test $(( ${cont:-0} * 2 )) -le "${solo:-0}"

conf=$TMP/t.conf
cat > "$conf" <<EOF
# test configuration
version = 1
interval = 100ms
backend = cgroup
device = $disk
rule = /hcitest-vm=vm:testvm
rule = /hcitest-ct=container:db
container = container:db min_iops=$solo
vm = vm:* floor_iops=200
healthy_intervals = 5
state = $TMP/run/state
log = $TMP/decisions.csv
EOF

run_daemon() { start_hcithrottle "$TMP/d.err" "$conf" "$@"; }
# contend S: the vm and the container at once, both in the background
contend() {
	vm_load "$1"
	IOLOG=$TMP/ct iops "$CTCG" "$1" 1 > "$TMP/ct.out" &
	CTPID=$!
	on_exit "kill $CTPID 2>/dev/null"
}
wait_limit() {
	for _ in $(seq 100); do [ "$(limits)" -gt 0 ] && return 0; sleep 0.05; done
	return 1
}

run_daemon --measure-log "$TMP/measure.csv" ||
	{ not_ok "hcithrottle run started"; diag "$(cat "$TMP/d.err")"; }
t0=$(date +%s%N)
contend 8
check "a limit appears in the vm cgroup's blkio.throttle files" wait_limit
diag "first limit written $(( ($(date +%s%N) - t0) / 1000000 )) ms after contention started"
sleep 2
"$HCITHROTTLE" status -c "$conf" > "$TMP/status" 2>&1
wait $CTPID
thr=$(cat "$TMP/ct.out")
wait $VMPID
vm_thr=$(cut -d';' -f8 "$TMP/vm.out")
diag "container contended, with hcithrottle: $thr IOPS (vm $vm_thr IOPS)"
[ -n "${HCI_KEEP:-}" ] && cp "$TMP/measure.csv" "$TMP/decisions.csv" "$HCI_KEEP/"
diag "$(grep -c ',cap,' "$TMP/decisions.csv") caps, $(grep -c ',lift,' "$TMP/decisions.csv") lifts logged"
solo2=$(IOLOG=$TMP/solo2 iops "$CTCG" 3 1)
diag "container solo again: $solo2 IOPS"
# Per-second medians: this machine stalls the container now and then for
# a second or so (seen: 1076 IOPS over one 3 s solo, 1403 over the next),
# which one second of six cannot move. The first second with hcithrottle
# holds the time before the first cap and AIMD's first halvings, and the
# second one the first probing lifts, so both are left out: with four
# seconds in all, two bad seconds out of four moved the median (seen once
# in eight runs: 929 of 1404).
# A stall can also last several seconds: once, with the vm held at its
# floor (260 IOPS, a fifteenth of the device), the container fell to
# 790-945 in three seconds of six, 81% of solo; in a noisy hour the solo
# seconds themselves went 1223 891 875 572 777 568 653.
# A stall only ever slows the container, so:
# - the reference is the slower of the solo runs just before and just after
#   the throttled one (per-second medians), what the machine allowed then;
# - the container must be at solo speed (>= 85%) in the upper quarter of
#   its six seconds, and at >= 70% in half of them;
# - where a stall spoils that, the contention runs once more (the daemon
#   still running) with a solo run after it, and that run is judged.
# Contended without hcithrottle the container is at 17-24% (check 1
# allows 50%), and a policy that left it contended half the time would put
# its median near 60%: both runs would fail.
# throttled_ok CT BEFORE AFTER: sets SOLO_M, THR_M, THR_Q3 from those logs;
# true if both bars are met
throttled_ok() {
	local before after

	before=$(median_1s "$2")
	after=$(median_1s "$3")
	SOLO_M=$(( before < after ? before : after ))
	THR_M=$(SKIP=2 median_1s "$1")
	THR_Q3=$(SKIP=2 quartile3_1s "$1")
	diag "per second: solo before $(secs_1s "$2" | paste -sd' ') (median $before), after $(secs_1s "$3" | paste -sd' ') (median $after); with hcithrottle $(secs_1s "$1" | paste -sd' ') (median $THR_M, upper quartile $THR_Q3)"
	[ $(( ${THR_Q3:-0} * 100 )) -ge $(( ${SOLO_M:-0} * 85 )) ] &&
		[ $(( ${THR_M:-0} * 100 )) -ge $(( ${SOLO_M:-0} * 70 )) ]
}
# the vm's seconds under the first contention, for the checks below
cp "$TMP/measure.csv" "$TMP/measure.first.csv"
if ! throttled_ok "$TMP/ct" "$TMP/solo1" "$TMP/solo2"; then
	diag "a stall, or the policy: the contention runs once more"
	mv "$TMP/ct_iops.1.log" "$TMP/ct.first_iops.1.log"
	contend 8
	wait $CTPID $VMPID
	IOLOG=$TMP/solo3 iops "$CTCG" 3 1 > /dev/null
	throttled_ok "$TMP/ct" "$TMP/solo2" "$TMP/solo3"
fi
check "with hcithrottle the container is back at >= 85% of solo (per-second upper quartile $THR_Q3 of the slower solo's $SOLO_M)" \
	test $(( ${THR_Q3:-0} * 100 )) -ge $(( ${SOLO_M:-0} * 85 ))
check "and at >= 70% of solo in half its seconds (per-second median $THR_M of $SOLO_M)" \
	test $(( ${THR_M:-0} * 100 )) -ge $(( ${SOLO_M:-0} * 70 ))
check "status shows both origins and the vm's cap" grep -q 'vm:testvm.*vm' "$TMP/status"
check "status shows the container" grep -q 'container:db' "$TMP/status"
# The VM's rate over whole seconds obeys the limits in force (the measure
# log: each row's rate is that interval's count over the 100 ms interval,
# under the read IOPS limit written by the row before, limit_riops).
# Tolerance 10% + 20 IOPS: each interval's rate was measured within 1% of
# its limit on the model SSD, and the daemon's timer makes intervals 65-135
# ms long, which one second of ten intervals averages out to a few percent.
# The first second under a limit is left out: AIMD halves the limit every
# interval there, the VM's 16 requests already at the device complete
# under it, and blk-throttle starts a new slice at each change (seen: 118%
# of the average limit in that second, 96-101% in every one after it).
check "the vm's rate over each whole second after the first obeys the limits in force (<= 110% + 20)" awk -F, '
	$3 != "vm:testvm" { next }
	{ d = $1 - t; t = $1 }
	pl > 0 && d > 0 { ios += $5 * 0.1; limios += pl * d; dur += d }
	pl <= 0 { ios = limios = dur = 0 }
	dur >= 1 && !settled { settled = 1; ios = limios = dur = 0 }
	# seconds after the vm stopped obey any limit: they do not count
	dur >= 1 && ios == 0 { limios = dur = 0 }
	dur >= 1 { n++; r = ios / dur; c = limios / dur
		printf "# a second limited to %.0f IOPS on average: %.0f IOPS\n", c, r
		if (r <= c * 1.1 + 20) ok++; ios = limios = dur = 0 }
	{ pl = $11 }
	END { exit !(n >= 2 && ok == n) }' "$TMP/measure.first.csv"
grep -E 'ORIGIN|testvm|container:db' "$TMP/status" | sed 's/^/# /'
check "the vm's rate over each 1 s while capped stays at or above its floor (200)" awk -F, \
	'$3 == "vm:testvm" && $9 > 0 && $5 > 0 { w += $5; k++ }
	 k == 10 { if (w / 10 < 200) bad = 1; w = k = 0 } END { exit bad }' "$TMP/measure.first.csv"
check "decisions are logged with a reason (CSV)" awk -F, \
	'NR > 1 && $3 == "cap" && $4 == "vm:testvm" && $10 ~ /container/ { ok = 1 } END { exit !ok }' \
	"$TMP/decisions.csv"
check "the cap never went below the vm floor (200)" awk -F, \
	'NR > 1 && $8 > 0 && $8 < 200 { bad = 1 } END { exit bad }' "$TMP/decisions.csv"
kill -TERM $DAEMON
wait $DAEMON
is "SIGTERM: exit status 0" "$?" 0
is "SIGTERM: no limit left" "$(limits)" 0
check "SIGTERM: state file removed" test ! -e "$TMP/run/state"
check "SIGTERM: says it restored" grep -q 'original limits restored' "$TMP/d.err"

# crash_with_limit: hcithrottle caps the vm, then dies by SIGKILL
crash_with_limit() {
	run_daemon
	contend 3
	wait_limit
	kill -9 $DAEMON
	wait $DAEMON 2>/dev/null
	wait $VMPID $CTPID
}

# SIGKILL: the limits stay, and the state file says what to restore
crash_with_limit
check "SIGKILL: the limit is still there (nothing could restore it)" test "$(limits)" -gt 0
check "SIGKILL: the state file remains" test -s "$TMP/run/state"
"$HCITHROTTLE" reset -c "$conf" > "$TMP/reset.out" 2>&1
is "reset: exit 0" "$?" 0
is "reset: no limit left" "$(limits)" 0
check "reset: says what it restored" grep -qE '[1-9][0-9]* limits? restored' "$TMP/reset.out"

# SIGKILL, then a new start restores first
crash_with_limit
run_daemon
check "restart after SIGKILL restores the old limits first" grep -q 'restored [1-9][0-9]* limits' "$TMP/d.err"
is "restart: no limit while nothing contends" "$(limits)" 0
kill -INT $DAEMON
wait $DAEMON
is "SIGINT: exit 0" "$?" 0

# --dry-run: decides and logs, writes nothing
rm -f "$TMP/decisions.csv"
run_daemon --dry-run
contend 3
wait $VMPID $CTPID
is "dry run: no limit written" "$(limits)" 0
check "dry run: decisions still logged" grep -q ',cap,vm:testvm' "$TMP/decisions.csv"
kill -TERM $DAEMON
wait $DAEMON

# a vanished cgroup is handled without exiting
make_cgroup hcitest-vm2
VM2=$CG
sed -i 's|^rule = /hcitest-vm=vm:testvm|rule = /hcitest-vm*=vm|' "$conf"
run_daemon
in_cgroup "$VM2" fio --name=v2 --filename="$dev" --direct=1 --rw=randread --bs=4k \
	--runtime=2 --time_based --ioengine=libaio --iodepth=16 --output=/dev/null &
v2=$!
iops "$CTCG" 2 1 > /dev/null
wait $v2
rmdir "$VM2"
vm_load 2
iops "$CTCG" 2 1 > /dev/null
wait $VMPID
check "a removed cgroup does not stop the service" kill -0 $DAEMON
check "the cgroup_rmdir tracepoint made it forget the removed cgroup at once" \
	grep -q 'cgroup /hcitest-vm2 of vm:hcitest-vm2 was removed' "$TMP/d.err"
kill -HUP $DAEMON
sleep 0.3
check "SIGHUP reloads the configuration" grep -q 'configuration reloaded' "$TMP/d.err"
kill -TERM $DAEMON
wait $DAEMON
is "after all that: exit 0" "$?" 0
is "after all that: no limit left" "$(limits)" 0

# bad input
printf 'device = %s\ninterval = 3 fortnights\n' "$disk" > "$TMP/bad.conf"
"$HCITHROTTLE" run -c "$TMP/bad.conf" > /dev/null 2> "$TMP/bad.err"
is "bad config: exit 2" "$?" 2
check "bad config: FILE:LINE in the error" grep -q "$TMP/bad.conf:2:" "$TMP/bad.err"
"$HCITHROTTLE" run -c "$TMP/nope.conf" > /dev/null 2> "$TMP/bad.err"
is "missing config: exit 2" "$?" 2
"$HCITHROTTLE" bogus > /dev/null 2> "$TMP/bad.err"
is "unknown command: exit 2" "$?" 2
"$HCITHROTTLE" --help > "$TMP/help" 2>&1
check "--help has examples" grep -q EXAMPLES "$TMP/help"

done_testing
