#!/bin/bash
# The join replayed from a recording of the test guest: host hcitrace
# --guest-channel --record records a guest fio run (a fixed number of I/Os,
# 4k randrw QD32), then hci-join-replay feeds the file through the join
# offline. Checks, all exact: the replay joins exactly what the live run
# joined (joined, unmatched, guest and VMM requests, VMM requests left
# unclaimed), every guest request is joined or counted unmatched, a stream
# fed three times counts three times as much with nothing refused, the
# same stream compressed in time to 100K requests/s still accounts for
# every request, and two replays of one file join the same (one digest).
# Speed is make bench's (tools/join-replay.sh), not this test's.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../vm/lib-vm.sh"
need_root
need_vm
REPLAY=$OUT/hci-join-replay
[ -x "$REPLAY" ] || { not_ok "$REPLAY is built"; done_testing; exit 1; }

vm_image 80
VM_CHAN=$TMP/chan.sock
rec=$TMP/join.hcr
json=$TMP/join.json
N=2000

tracer=""
hook() {
	case $1 in
	ready)
		start_tracer "$TMP/t.out" "$TMP/t.err" -d "$disk" --guest-channel "$VM_CHAN" \
			--record "$rec" --json "$json" ||
			{ not_ok "hcitrace --record attached"; diag "$(cat "$TMP/t.err")"; }
		tracer=$TRACER ;;
	result | done)
		if [ -n "$tracer" ]; then
			kill -INT "$tracer"
			wait "$tracer"
			echo $? > "$TMP/t.rc"
		fi
		tracer="" ;;
	esac
}
vm_run hcitest-join-replay q35 threads hook hci.n=$N hci.rw=randrw hci.qd=32 \
	hci.engine=libaio hci.trace=1
is "guest fio ran" "$VM_RC" 0
is "host hcitrace exit status" "$(cat "$TMP/t.rc" 2>/dev/null)" 0
check "the recording was written" test -s "$rec"

# key=value of one line, by key
val() { grep -o "\b$1=[0-9.]*" <<<"$2" | cut -d= -f2; }
live() { jq -r ".guests[0].counters.$1" "$json"; }

once=$("$REPLAY" "$rec")
is "replayed once: exit status" "$?" 0
diag "live: $(jq -c '.guests[0].counters' "$json")" "replay: $once"
for k in joined:matched unmatched:unmatched guest_reqs:guest_requests \
	vmm_reqs:vmm_requests vmm_unmatched:vmm_unmatched; do
	is "replayed once: ${k%%:*} is the live run's ${k#*:}" "$(val "${k%%:*}" "$once")" \
		"$(live "${k#*:}")"
done
g=$(val guest_reqs "$once")
check "guest requests >= fio's $VM_IOS I/Os" test "$g" -ge "${VM_IOS:-0}"
is "every guest request joined or counted unmatched" \
	$(( $(val joined "$once") + $(val unmatched "$once") )) "$g"
is "nothing refused (bad records, clock conflicts)" \
	$(( $(val bad_record "$once") + $(val clock_conflicts "$once") )) 0

three=$("$REPLAY" -k 3 "$rec")
diag "3 copies: $three"
is "3 copies: 3x the guest requests" "$(val guest_reqs "$three")" $((3 * g))
is "3 copies: 3x the VMM requests" "$(val vmm_reqs "$three")" $((3 * $(val vmm_reqs "$once")))
is "3 copies: each joined or counted unmatched" \
	$(( $(val joined "$three") + $(val unmatched "$three") )) $((3 * g))
is "3 copies: one stream, nothing refused" \
	$(( $(val bad_record "$three") + $(val clock_conflicts "$three") )) 0

fast=$("$REPLAY" --rate 100000 -k 2 "$rec")
diag "compressed: $fast"
check "compressed to 100K requests/s (factor > 1)" \
	awk -v x="$(val compressed "$fast")" 'BEGIN { exit !(x > 1) }'
is "compressed: each guest request joined or counted unmatched" \
	$(( $(val joined "$fast") + $(val unmatched "$fast") )) $((2 * g))
check "compressed: >= 99% still joined" \
	test $(( $(val joined "$fast") * 100 )) -ge $(( 2 * g * 99 ))

d1=$("$REPLAY" --digest "$rec" | sed -n 's/^digest=//p')
d2=$("$REPLAY" --digest "$rec" | sed -n 's/^digest=//p')
check "two replays of one file join the same (digest $d1)" test -n "$d1" -a "$d1" = "$d2"

done_testing
