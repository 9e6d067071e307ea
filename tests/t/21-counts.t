#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Exact counts: the requests hcitrace reports plus the requests it reports
# lost equal what the device's own stat file counted, in every run. Also
# with tables too small for the load, and with -c filtering.
#
# Why 12 runs: the kernel skips our completion program for about 1 in
# 50000 completions without counting a recursion miss (seen on 6.18, loop
# device); before hcitrace counted those, about half of such runs came up
# short with every loss counter at 0, so 12 runs would all pass with that
# bug about once in 4096 suites. (20 runs took 110-170 s of the suite.)
. "$(dirname "$0")/../lib.sh"
need_root

N=100000
RUNS=${HCI_COUNT_RUNS:-12}
setup_loop 64
make_cgroup "hcitest-tb2-$$-counts"
cg=$CG

# reads and writes completed, as the block layer counts them
completed() { awk '{ print $1 + $5 }' "/sys/block/$disk/stat"; }

# fio_load ENGINE DEPTH JOBS: N direct 4k random reads in all, looping over
# the 32M range as often as it takes (fio_n stops at the end of the range)
fio_load() {
	fio --name=hcitest --filename="$dev" --direct=1 --rw=randread --bs=4k --size=32M \
		--number_ios=$((N / $3)) --io_size=$((N * 4 / $3))k --ioengine="$1" \
		--iodepth="$2" --numjobs="$3" --group_reporting --output=/dev/null
}

# requests reported, requests reported lost (a completion not counted in a
# histogram: never seen, seen without its issue, or no histogram key left).
# A request whose issue found the slot table full is still reported at its
# completion, and counted there as queue_event_missing; if the kernel then
# skips our completion program for it (completion_not_seen's cause), nothing
# is left of it but its slot_table_full at Q. Every request here is issued
# under the tracer, so those are slot_table_full - queue_event_missing.
reported() { jq '[.histograms[] | .ios] | add // 0' "$1"; }
lost() {
	jq '.lost | (.completion_not_seen // 0) + .completion_without_issue +
		.histogram_keys_full + ([.slot_table_full - .queue_event_missing, 0] | max)' "$1"
}

# traced_run NAME ENGINE DEPTH JOBS [hcitrace options]: sets GOT (reported +
# lost) and WANT (the stat counter's difference) for one traced fio run
traced_run() {
	local name=$1 engine=$2 depth=$3 jobs=$4 before after
	shift 4
	before=$(completed)
	"$HCITRACE" -d "$disk" --json "$TMP/$name.json" "$@" -- \
		bash -c "$(declare -f fio_load); N=$N dev=$dev fio_load $engine $depth $jobs" \
		>/dev/null 2>"$TMP/$name.err"
	RC=$?
	after=$(completed)
	WANT=$((after - before))
	GOT=$(($(reported "$TMP/$name.json") + $(lost "$TMP/$name.json")))
}

# 1. default tables, QD1 (psync) and QD16 x 2 (libaio) alternating
bad=0
for i in $(seq "$RUNS"); do
	if [ $((i % 2)) = 1 ]; then set -- psync 1 1; else set -- libaio 16 2; fi
	traced_run "run$i" "$@"
	if [ "$RC" != 0 ] || [ "$GOT" != "$WANT" ]; then
		bad=$((bad + 1))
		diag "run $i ($1 QD$2 x$3): rc $RC, reported + lost $GOT, device $WANT," \
			"$(jq -c '.lost' "$TMP/run$i.json")"
	fi
	[ "$WANT" = "$N" ] || diag "run $i: the device counted $WANT, not $N"
done
is "$RUNS runs of $N I/Os: reported + lost = the device's count, every time" "$bad" 0

# 2. a table far too small for 4 jobs at QD32 (64 slots for about 128
# requests in flight) and a 4 KiB ring buffer with -p: losses are expected,
# and every one is counted. No slot can be 30 s old in a run of a few
# seconds, so none may be reclaimed as stale (a live one would be stolen),
# and every completion without its issue is one whose issue found the table
# full (nothing may vanish from the overflow without a count).
for i in 1 2 3; do
	traced_run "small$i" libaio 32 4 --slots 64 --ringbuf-kib 4 -p
	j=$TMP/small$i.json
	is "small tables $i: exit status" "$RC" 0
	is "small tables $i: reported + lost = the device's count" "$GOT" "$WANT"
	is "small tables $i: no live slot reclaimed as stale" \
		"$(jq '.lost.stale_slots_reclaimed' "$j")" 0
	check "small tables $i: each completion without issue found the table full" \
		jqt '.lost.completion_without_issue <= .lost.slot_table_full' "$j"
	check "small tables $i: the ring buffer's losses are counted" \
		jqt '.lost.ringbuf_full > 0' "$j"
	diag "small tables $i: $(jq -c '.lost | with_entries(select(.value != 0))' "$j")"
done

# 3. -c: another cgroup's requests on the same disk are not this trace's
# losses (they were counted as completions without issue)
before=$(completed)
"$HCITRACE" -d "$disk" -c "/hcitest-tb2-$$-counts" --json "$TMP/c.json" -- sh -c \
	"fio --name=y --filename=$dev --direct=1 --rw=randread --bs=4k --size=32M --number_ios=3000 --ioengine=psync --output=/dev/null; \
	 echo \$\$ > $cg/cgroup.procs; exec fio --name=x --filename=$dev --direct=1 --rw=randread --bs=4k --size=32M --number_ios=7000 --ioengine=psync --output=/dev/null" \
	>/dev/null 2>"$TMP/c.err"
after=$(completed)
is "-c: the device saw both cgroups' requests" "$((after - before))" 10000
is "-c: the cgroup's requests reported + lost" "$(($(reported "$TMP/c.json") + $(lost "$TMP/c.json")))" 7000
is "-c: no completion without issue from the other cgroup" \
	"$(jq '.lost.completion_without_issue' "$TMP/c.json")" 0

done_testing
