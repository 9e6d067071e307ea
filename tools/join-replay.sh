#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The join replay row of make bench (issue 13, goal 5): the cross-layer
# join's host-side CPU per joined request at 100K+ requests per second.
#
# Boots the test guest once (TCG, q35, aio=threads, cache=none, a raw image
# on ext4 on the loop test SSD), records JR_RUNTIME seconds of joined fio
# load (4k randrw QD32, "hcitrace guest" inside) with host "hcitrace
# --guest-channel SOCK --record FILE", then feeds the recording through the
# join with hci-join-replay: once as recorded, whose counts must be the live
# run's; then compressed in time to JR_RATE guest requests per second (the
# TCG guest makes a few thousand; the join then holds as many requests as a
# VM that fast would make it hold) and repeated, each copy later in both
# clocks, until at least JR_MIN guest requests, at full speed. stdout: that
# replay's one line; the rest goes to stderr. Exit status 1 when the guest
# or the recording failed, or when the replay's counts are not the live
# run's.
#
#   OUT=build JR_RUNTIME=5 JR_RATE=100000 JR_MIN=1000000 tools/join-replay.sh
#   JR_KEEP=run.hcr ...     also keep the recording (and run.json, the live JSON)
set -u
here=$(cd "$(dirname "$0")" && pwd)
export OUT=${OUT:-$here/../build}
# the fixtures (loop SSD, mount, QEMU, tracer) are torn down on any exit
. "$here/../tests/lib.sh"
. "$here/../tests/vm/lib-vm.sh"
JR_RUNTIME=${JR_RUNTIME:-5}
JR_MIN=${JR_MIN:-1000000}
JR_RATE=${JR_RATE:-100000}
HCITRACE=${JR_HCITRACE:-$OUT/hcitrace}
REPLAY=$OUT/hci-join-replay
rec=$TMP/join.hcr
json=$TMP/join.json
for b in "$HCITRACE" "$REPLAY"; do
	[ -x "$b" ] || { echo "Error: $b is missing: run make first" >&2; exit 1; }
done
VMDIR=$VMDIR "$here/../tests/vm/build-guest.sh" >&2 ||
	{ echo "Error: cannot build the guest" >&2; exit 1; }
vm_image 80
VM_CHAN=$TMP/join.sock

tracer=""
hook() {
	case $1 in
	ready)
		if start_tracer "$TMP/join.out" "$TMP/join.err" -d "$disk" \
			--guest-channel "$VM_CHAN" --record "$rec" --json "$json"; then
			tracer=$TRACER
		else
			echo "Error: host hcitrace did not attach: $(cat "$TMP/join.err")" >&2
		fi ;;
	result | done)
		if [ -n "$tracer" ]; then
			kill -INT "$tracer" 2>/dev/null
			wait "$tracer"
			echo $? > "$TMP/join.rc"
		fi
		tracer="" ;;
	esac
}
# stdout is the one line: the guest's diagnostics go to stderr
vm_run hcijoinreplay q35 threads hook hci.rw=randrw hci.qd=32 hci.engine=libaio \
	hci.runtime="$JR_RUNTIME" hci.trace=1 >&2
if [ "${VM_RC:-}" != 0 ] || [ "$(cat "$TMP/join.rc" 2>/dev/null)" != 0 ] || [ ! -s "$rec" ]; then
	echo "Error: the guest run or its recording failed (fio rc=${VM_RC:-none}, hcitrace rc=$(cat \
		"$TMP/join.rc" 2>/dev/null || echo none)${VM_ERR:+, $VM_ERR})" >&2
	tail -5 "$TMP/join.err" "$TMP/hcijoinreplay.console" >&2 2>/dev/null
	exit 1
fi
if [ -n "${JR_KEEP:-}" ]; then
	cp "$rec" "$JR_KEEP"
	cp "$json" "${JR_KEEP%.*}.json"
fi
live=$(jq -r '.guests[0].counters | "joined=\(.matched) unmatched=\(.unmatched)" +
	" guest_reqs=\(.guest_requests) vmm_reqs=\(.vmm_requests)"' "$json")
once=$("$REPLAY" "$rec") || exit 1
echo "join replay: live run $live; its recording replayed once: ${once%% repeats=*}" >&2
echo "join replay: recording $(stat -c %s "$rec") bytes, $JR_RUNTIME s of guest fio" >&2
for k in joined unmatched guest_reqs vmm_reqs; do
	a=$(grep -o "\b$k=[0-9]*" <<<"$live")
	b=$(grep -o "\b$k=[0-9]*" <<<"$once")
	if [ "$a" != "$b" ]; then
		echo "Error: the replay's $b is not the live run's $a" >&2
		exit 1
	fi
done
"$REPLAY" --rate "$JR_RATE" --min-requests "$JR_MIN" "$rec"
