#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# hcitrace -v times its start and its stop (issue 13, goal 3): the lines a
# benchmark reads are there and hold numbers, the same number of programs
# is attached and detached, and once hcitrace has exited none of its
# programs is loaded. No bound on the times: timing goals belong to
# tools/bench.sh; here a slow machine only waits longer (up to 5 s).
. "$(dirname "$0")/../lib.sh"
need_root
command -v bpftool >/dev/null || skip_all "needs bpftool"

setup_loop 64
N='[0-9]+'
S='[0-9]+\.[0-9]{3}'
ATTACHED="^attached ($N) programs in $S s \(features $S, open $S, load $S: BTF and maps $S, programs $S; attach $S\), cpu $S s$"
LOADS="^(slowest|the) loads of $N programs \(s, verified insns\): [a-z0-9_]+ $S $N"
DETACHED="^detached ($N) programs in $S s \(links $S, grace period $S, perf events $S, ($N) left to close after exit\)$"
STOPPED="^stopped in $S s \(detach $S, final read and report $S, closing the BPF object $S\), cpu $S s$"

# prog_ids PID: the ids of the BPF programs that process holds (fds and links)
prog_ids() {
	local f
	for f in /proc/$1/fdinfo/*; do
		sed -n 's/^prog_id:[[:space:]]*//p' "$f" 2>/dev/null
	done | sort -u
}
# gone IDS...: none of these programs is loaded (waits up to 5 s)
gone() {
	local id left
	for _ in $(seq 50); do
		left=0
		for id in "$@"; do bpftool prog show id "$id" >/dev/null 2>&1 && left=1; done
		[ $left = 0 ] && return 0
		sleep 0.1
	done
	return 1
}
# lines NAME ERR: the four kinds of line, the counts they agree on
lines() {
	local name=$1 err=$2 a d
	check "$name: attached line" grep -qE "$ATTACHED" "$err" || diag "$(cat "$err")"
	check "$name: load times line" grep -qE "$LOADS" "$err"
	check "$name: detached line" grep -qE "$DETACHED" "$err"
	check "$name: stopped line" grep -qE "$STOPPED" "$err"
	a=$(sed -nE "s/$ATTACHED/\1/p" "$err")
	d=$(sed -nE "s/$DETACHED/\1/p" "$err")
	is "$name: as many programs detached as attached" "$d" "$a"
	LEFT=$(sed -nE "s/$DETACHED/\2/p" "$err")
}

# --duration: the stop comes from the loop itself
"$HCITRACE" -v -d "$disk" --duration 0.3 >/dev/null 2>"$TMP/d.err"
is "--duration -v: exit 0" "$?" 0
lines "--duration" "$TMP/d.err"
is "--duration: no perf event to close (block tracepoints are raw_tp)" "$LEFT" 0
check "without -v: no timing line" \
	sh -c "! '$HCITRACE' -d '$disk' --duration 0.3 2>&1 >/dev/null | grep -qE '^(attached|detached|stopped) '"

# --vmm, SIGINT: its syscall tracepoints are perf events
start_tracer "$TMP/out" "$TMP/v.err" -v --vmm -d "$disk" ||
	{ not_ok "--vmm: started"; diag "$(cat "$TMP/v.err")"; done_testing; exit 1; }
ids=$(prog_ids "$TRACER")
check "--vmm: its programs are seen (fdinfo)" test -n "$ids"
kill -INT "$TRACER"
wait "$TRACER"
is "--vmm SIGINT: exit 0" "$?" 0
lines "--vmm" "$TMP/v.err"
if [ -d /sys/kernel/tracing/events/syscalls ] || [ -d /sys/kernel/debug/tracing/events/syscalls ]; then
	check "--vmm: syscall tracepoints' perf events closed after exit" test "${LEFT:-0}" -gt 0
fi
# shellcheck disable=SC2086
check "--vmm: after exit no program of this run is loaded" gone $ids

done_testing
