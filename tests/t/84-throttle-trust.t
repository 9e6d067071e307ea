#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# hcithrottle never weakens or erases an operator's limits (cgroup v1 here;
# 89-throttle-v2-limits.t does io.max in the guest), and its state file,
# lock, config errors, status and help can be trusted (issue 11, items
# 1-7 and 17's hcithrottle parts).
#
# The "vm" cgroup is capped deterministically, without relying on
# contention: the container's min_iops can never be met, so while both do
# I/O the vm is capped down to its floor (500 IOPS, written 650 with the
# floor's headroom), and once the container stops the cap is lifted
# (increase = 1: one step). The operator's own limits on the vm cgroup are
# set per direction (read, write) and kind (IOPS, bytes), some below
# hcithrottle's cap and some above, and swapped in a second run, so every
# kind is seen both ways. A sampler reads the four files every 20 ms while
# hcithrottle runs. No assertion here depends on a rate or a time beyond
# "the cap appeared within 5 s", so a noisy 2-core VM cannot fail it.
. "$(dirname "$0")/../lib.sh"
need_root
[ -d "$BLKIO" ] || skip_all "no cgroup v1 blkio hierarchy here (the v2 path runs in the guest)"
H=$HCITHROTTLE

# our own loop image, named for this engineer's tests
IMG=/dev/shm/hcitest-ta-$$.img
truncate -s 256M "$IMG"
on_exit "rm -f $IMG"
dev=$(losetup -f --show --direct-io=on "$IMG") || { not_ok "loop device"; done_testing; exit 1; }
_loops+=("$dev")
dd if=/dev/zero of="$dev" bs=1M count=256 oflag=direct status=none
disk=$(basename "$dev")
throttle_cgroups hcitest-ta
FILES="read_iops write_iops read_bps write_bps"
# leave no limit on our device in our cgroups, whatever happens
on_exit "for f in $FILES; do echo '$mm 0' > $VMCG/blkio.throttle.\${f}_device; done 2>/dev/null"

# lim KIND: the vm cgroup's value of blkio.throttle.KIND_device on our
# device, "" if it has no rule
lim() {	# (builtins only: the truncation loop below calls it thousands of times)
	local a b
	while read -r a b; do [ "$a" = "$mm" ] && { echo "$b"; return; }; done < "$VMCG/blkio.throttle.$1_device"
}
all_lims() { for f in $FILES; do printf '%s=%s ' "$f" "$(lim "$f")"; done; }
set_lims() {	# RIOPS WIOPS RBPS WBPS (0 = none)
	local v=("$@") i=0
	for f in $FILES; do echo "$mm ${v[$i]}" > "$VMCG/blkio.throttle.${f}_device"; i=$((i + 1)); done
}

conf=$TMP/t.conf
write_conf() {
	cat > "$conf" <<EOF
version = 1
interval = 100ms
device = $disk
rule = /hcitest-ta-vm=vm:tavm
rule = /hcitest-ta-ct=container:tact
container = container:tact min_iops=100000000
vm = vm:* floor_iops=500
increase = 1
healthy_intervals = 2
state = $TMP/run/state
log = $TMP/decisions.csv
EOF
}
write_conf

# load CG SECONDS [RW]: 4k direct I/O at QD4 in a cgroup, in the background
load() {
	in_cgroup "$1" fio --name=t --filename="$dev" --direct=1 --rw="${3:-randread}" --bs=4k \
		--size=128M --runtime="$2" --time_based --ioengine=libaio --iodepth=4 \
		--output=/dev/null 2>/dev/null &
	LOADPID=$!
	on_exit "kill $LOADPID 2>/dev/null"
}
run_daemon() {	# ERRFILE ARGS...
	local e=$1
	shift
	start_hcithrottle "$e" "$conf" "$@"
}
# wait_for SECONDS CMD...: poll every 50 ms until CMD succeeds
wait_for() {
	local n=$(( $1 * 20 )); shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 0.05; done
	return 1
}
# args_of "read_iops=1 write_iops=2 ...": "1 2 ..." (for set_lims)
args_of() { sed 's/[a-z_]*=\([0-9]*\) */\1 /g' <<<"$1"; }
val_of() { sed -n "s/.*$2=\([0-9]*\).*/\1/p" <<<"$1"; }	# LIMS KIND
capped_now() { all_lims | grep -q "write_iops=650 "; }	# our cap in force
state_saved() { [ "$(grep -vc '^#' "$TMP/run/state" 2>/dev/null)" = 4 ]; }
sampler() {	# OUTFILE: the four values every 20 ms until killed
	# one write per line, so a kill never leaves half a sample
	while :; do l=$(all_lims); echo "$l"; sleep 0.02; done > "$1" 2>/dev/null &
	SAMPLER=$!
	on_exit "kill $SAMPLER 2>/dev/null"
}

# ---- items 1 and 2: the operator's limits are ceilings, and come back ----
# one_run NAME RIOPS WIOPS RBPS WBPS: the operator's limits, a capped phase,
# a lifted phase, SIGTERM; every sample and the end checked against them
one_run() {
	local name=$1; shift
	local want=("$@") orig
	set_lims "$@"
	orig=$(all_lims)
	# the decision log appends across runs: only this run's rows count
	local from=$(( $(cat "$TMP/decisions.csv" 2>/dev/null | wc -l) + 1 ))
	new_rows() { tail -n "+$from" "$TMP/decisions.csv" | grep -q "$1"; }
	run_daemon "$TMP/$name.err" || { not_ok "$name: hcithrottle run started"; diag "$(cat "$TMP/$name.err")"; return; }
	sampler "$TMP/$name.samples"
	load "$VMCG" 8
	local vmload=$LOADPID
	load "$CTCG" 3
	local ctload=$LOADPID
	check "$name: a cap is written while the container misses" \
		wait_for 5 new_rows ',cap,vm:tavm'
	changed() { [ "$(all_lims)" != "$orig" ]; }
	wait_for 3 changed
	sleep 0.5
	"$H" status -c "$conf" > "$TMP/$name.status" 2>&1
	local during
	during=$(all_lims)
	wait $ctload
	check "$name: the cap is lifted once the container stops" \
		wait_for 5 new_rows ',lift,vm:tavm'
	sleep 0.3
	"$H" status -c "$conf" > "$TMP/$name.status2" 2>&1
	is "$name: status, after the lift, shows the operator's limits as the kernel has them" \
		"$(awk '$2 == "vm:tavm" { print $8, $9, $10, $11 }' "$TMP/$name.status2")" \
		"$(for f in $FILES; do printf '%s ' "$(val_of "$orig" $f)"; done | sed 's/ $//')"
	sleep 0.5
	is "$name: after the lift, while it runs: exactly the operator's limits" "$(all_lims)" "$orig"
	kill $vmload 2>/dev/null
	wait $vmload 2>/dev/null
	kill -TERM $DAEMON
	wait $DAEMON
	is "$name: SIGTERM: exit 0" "$?" 0
	kill $SAMPLER
	wait $SAMPLER 2>/dev/null
	is "$name: after SIGTERM: exactly the operator's limits" "$(all_lims)" "$orig"
	diag "$name: operator: $orig" "$name: while capped: $during"
	# every sample, every kind: present, and at most the operator's value;
	# hcithrottle's own cap (650 IOPS) in the kinds the operator left above it
	check "$name: while it ran, no operator limit was ever raised or removed ($(wc -l < "$TMP/$name.samples") samples)" \
		awk -v w="${want[*]}" 'BEGIN { split(w, o, " ") }
			{ for (k = 1; k <= 4; k++) { split($k, kv, "="); v = kv[2]
				if (o[k] > 0 && (v == "" || v + 0 > o[k] + 0)) { print "sample " NR ": " $0; bad = 1 } } }
			END { exit bad }' "$TMP/$name.samples"
	local k=0 f v
	for f in $FILES; do
		v=$(sed -n "s/.*$f=\([0-9]*\).*/\1/p" <<<"$during")
		case $f in
		*iops) ours=650 ;;
		*bps) ours=$(( 650 * 4096 )) ;;
		esac
		if [ "${want[$k]}" -gt 0 ] && [ "${want[$k]}" -le "$ours" ]; then
			is "$name: while capped, $f stays the operator's ${want[$k]} (below the cap $ours)" "$v" "${want[$k]}"
		else
			check "$name: while capped, $f is hcithrottle's cap, below the operator's ${want[$k]}" \
				test -n "$v" -a "$v" -lt "${want[$k]}" -a "$v" -gt 0
		fi
		k=$((k + 1))
	done
	# item 7: status shows what the kernel has, not the policy's cap
	local row
	row=$(awk '$2 == "vm:tavm" && $3 == "vm"' "$TMP/$name.status")
	is "$name: status lists vm:tavm once" "$(grep -c 'vm:tavm' "$TMP/$name.status")" 1
	is "$name: status shows the limits in force, as the kernel has them" \
		"$(awk '{ print $8, $9, $10, $11 }' <<<"$row")" \
		"$(for f in $FILES; do v=$(sed -n "s/.*$f=\([0-9]*\).*/\1/p" <<<"$during"); printf '%s ' "${v:--}"; done | sed 's/ $//')"
}
# below the cap: read IOPS and write bytes; above it: write IOPS, read bytes
one_run mixed-a 300 5000 99999999 1000000
# and the other way round
one_run mixed-b 5000 200 1000000 99999999
check "the decision log marks each run's start" \
	test "$(grep -c '^0.000,,start,,.*hcithrottle pid [0-9]* started' "$TMP/decisions.csv")" = 2

# ---- SIGKILL, then reset or a new run: back exactly ----
set_lims 300 5000 99999999 1000000
orig=$(all_lims)
kill_capped() {
	run_daemon "$TMP/k.err" || return 1
	load "$VMCG" 3; local v=$LOADPID
	load "$CTCG" 3; local c=$LOADPID
	wait_for 5 capped_now
	local r=$?
	# the cap goes in one kind at a time, each saved first: kill once the
	# state file holds all four, not between two of them
	wait_for 5 state_saved
	kill -9 $DAEMON
	wait $DAEMON 2>/dev/null
	wait $v $c
	return $r
}
check "SIGKILL while capped: the cap is in force" kill_capped
check "SIGKILL: the state file stays" test -s "$TMP/run/state"
"$H" reset -c "$conf" > "$TMP/reset.out" 2>&1
is "SIGKILL + reset: exit 0" "$?" 0
is "SIGKILL + reset: exactly the operator's limits" "$(all_lims)" "$orig"
# SIGKILL, then a dry run (no lock: the state file may be another run's)
# leaves it all alone; a run with backend = none (it writes nothing of its
# own) still restores what the killed run left
kill_capped
caps=$(all_lims)
"$H" run -c "$conf" --dry-run --duration 0.5 > /dev/null 2> "$TMP/dry.err"
is "SIGKILL + a dry run: the state file and the caps stay" "$(test -s "$TMP/run/state" && all_lims)" "$caps"
check "SIGKILL + a dry run: it says so" grep -q "dry run: $TMP/run/state is left for" "$TMP/dry.err"
sed 's/^state = /backend = none\nstate = /' "$conf" > "$TMP/none.conf"
"$H" run -c "$TMP/none.conf" --duration 0.5 > /dev/null 2> "$TMP/none.err"
is "SIGKILL + a run with backend = none: exactly the operator's limits" "$(all_lims)" "$orig"
check "SIGKILL + a run with backend = none: it says it restored" grep -q 'restored 4 limits left by a previous run' "$TMP/none.err"
kill_capped
run_daemon "$TMP/k2.err"
check "SIGKILL + run: it restores first" grep -q 'restored 4 limits left by a previous run' "$TMP/k2.err"
is "SIGKILL + run: exactly the operator's limits" "$(all_lims)" "$orig"
# ---- item 3: pid and status files in the state directory ----
check "the pid file is in the state directory" test "$(cat "$TMP/run/pid" 2>/dev/null)" = "$DAEMON"
check "the status file is in the state directory" wait_for 3 test -s "$TMP/run/status"
# ---- item 4: one daemon per host, and reset says who holds the lock ----
"$H" run -c "$conf" > /dev/null 2> "$TMP/second.err"
is "a second run: exit 1" "$?" 1
check "a second run says which process holds the lock" \
	grep -q "Error: pid $DAEMON (.*hcithrottle run -c $conf) holds the hcithrottle lock" "$TMP/second.err"
"$H" reset -c "$conf" > /dev/null 2> "$TMP/reset2.err"
is "reset while it runs: exit 1" "$?" 1
check "reset says which process holds the lock" grep -q "pid $DAEMON (.*hcithrottle run" "$TMP/reset2.err"
"$H" status -c "$conf" > "$TMP/st.out" 2>&1
check "status names the holder" grep -q "lock held by pid $DAEMON" "$TMP/st.out"
kill -TERM $DAEMON
wait $DAEMON
check "after exit: the pid and status files are gone" test ! -e "$TMP/run/pid" -a ! -e "$TMP/run/status"
is "after SIGTERM: exactly the operator's limits" "$(all_lims)" "$orig"
# two runs started together: exactly one wins, every time
for try in 1 2 3; do
	: > "$TMP/r1.err"; : > "$TMP/r2.err"
	"$H" run -c "$conf" --duration 1 > /dev/null 2> "$TMP/r1.err" & p1=$!
	"$H" run -c "$conf" --duration 1 > /dev/null 2> "$TMP/r2.err" & p2=$!
	on_exit "kill -9 $p1 $p2 2>/dev/null"
	wait $p1; r1=$?
	wait $p2; r2=$?
	is "two runs at once ($try): one exits 0, the other 1" "$(printf '%s\n' $r1 $r2 | sort | tr '\n' ' ')" "0 1 "
	check "two runs at once ($try): the loser names the winner" \
		grep -qh "Error: pid \($p1\|$p2\) (.*hcithrottle run.*) holds the hcithrottle lock" "$TMP/r1.err" "$TMP/r2.err"
done

# ---- item 5: the state file ----
# a complete state file from a real run, then SIGKILL
kill_capped
cp "$TMP/run/state" "$TMP/state.full"
capped=$(all_lims)
diag "state file of a killed run:" "$(cat "$TMP/state.full")"
is "the killed run's state file has a header and 4 lines" "$(grep -vc '^#' "$TMP/state.full")" 4
# hand-edited lines: each bad one reported and kept, every valid one restored
root_before=$(cat "$BLKIO"/blkio.throttle.read_iops_device)
# a reset that wrongly took the root lines below would cap the whole host:
# whatever happens, the root gets no limit on this device that it had not
grep -q "^$mm " <<<"$root_before" ||
	on_exit "echo '$mm 0' > $BLKIO/blkio.throttle.read_iops_device"
{
	cat "$TMP/state.full"
	printf 'v1\t%s\t%s\tblkio.throttle.read_iops_device\t12345\n' "$BLKIO" "$mm"	# the root cgroup
	printf 'v1\t%s/\t%s\tblkio.throttle.read_iops_device\t12345\n' "$BLKIO" "$mm"	# the root, with a slash
	printf 'v1\t/tmp\t%s\tblkio.throttle.read_iops_device\t1\n' "$mm"			# outside the mount
	printf 'v1\t%s/hcitest-ta-vm/../..\t%s\tblkio.throttle.read_iops_device\t1\n' "$BLKIO" "$mm"
	printf 'v1\t%s\t%s\tcgroup.procs\t1\n' "$VMCG" "$mm"				# not a limits file
	printf 'v1\t%s\t%s\tblkio.throttle.read_iops_device\t12abc\n' "$VMCG" "$mm"	# not a number
	printf 'v2\t%s\t%s\tio.max\tmax\n' "$VMCG" "$mm"				# v2 on a v1 host
	printf 'v1\t%s\t7:0x\tblkio.throttle.read_iops_device\t1\n' "$VMCG"		# bad device
	printf 'v1\t%s\t%s\tblkio.throttle.read_iops_device\t1\textra\n' "$VMCG" "$mm"	# a sixth field
	printf 'just some words\n'
	printf 'v1\t%s\t%s\tblkio.throttle.write_iops_device\t7\n' "$VMCG" "$mm"	# another original
} > "$TMP/run/state"
nbad=12	# the 11 lines above, and line 3 (write_iops), which the last one contradicts
"$H" reset -c "$conf" > "$TMP/edit.out" 2> "$TMP/edit.err"
is "hand-edited state: reset exits 1" "$?" 1
# write_iops has two originals: neither is trusted, the cap stays
is "hand-edited state: every valid line restored" "$(all_lims)" "$(sed 's/write_iops=[0-9]*/write_iops=650/' <<<"$orig")"
check "hand-edited state: it says 3 limits restored" grep -q '3 limits restored' "$TMP/edit.out"
is "hand-edited state: each bad line reported with FILE:LINE" \
	"$(grep -c "^Error: $TMP/run/state:[0-9]*: " "$TMP/edit.err")" "$nbad"
for l in 3 $(seq 6 16); do
	check "hand-edited state: line $l is reported" grep -q "^Error: $TMP/run/state:$l: " "$TMP/edit.err"
done
is "hand-edited state: the bad lines, and only they, are kept in the file" \
	"$(grep -vc '^#' "$TMP/run/state")" "$nbad"
is "the root cgroup got no limit" "$(cat "$BLKIO"/blkio.throttle.read_iops_device)" "$root_before"
check "a run refuses to start over a state file with bad lines" \
	sh -c "! '$H' run -c '$conf' --duration 1 2>'$TMP/refuse.err'"
check "and says why" grep -q 'could not be restored (above) and are kept there' "$TMP/refuse.err"
is "and restores none of the two originals of write_iops" "$(lim write_iops)" 650
rm -f "$TMP/run/state"
set_lims $(args_of "$orig")

# the state file is only ever replaced whole: a temporary file, fsync'd,
# renamed over it, then the directory fsync'd (so the rename survives a
# power cut); the state file itself is never opened for writing. Watched
# with strace over a run that caps (its first save) and is stopped.
# LeakSanitizer cannot run under ptrace and aborts the program at exit
# there: the other runs of this file check for leaks.
if command -v strace > /dev/null; then
	ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 \
	strace -f -qq -e trace=openat,fsync,rename,renameat,renameat2 -o "$TMP/strace" \
		"$H" run -c "$conf" --duration 6 > /dev/null 2> "$TMP/st.err" &
	sp=$!
	on_exit "kill $sp 2>/dev/null"
	wait_for 30 grep -q 'hcithrottle: running' "$TMP/st.err"
	load "$VMCG" 3; v=$LOADPID
	load "$CTCG" 3; c=$LOADPID
	wait $v $c
	wait $sp
	is "strace: the run exits 0" "$?" 0
	check "strace: the run saved its state" grep -q "rename(\"$TMP/run/state.tmp\", \"$TMP/run/state\") = 0" "$TMP/strace"
	check "strace: written to a temporary file, fsync'd, renamed, the directory fsync'd" \
		awk -v st="\"$TMP/run/state\"" -v tmp="\"$TMP/run/state.tmp\"" -v dir="\"$TMP/run\"" '
		{ sub(/^[0-9]+ +/, "") }
		/^openat\(/ && index($0, st ",") && $0 !~ /O_RDONLY/ { print "opened for writing: " $0; bad = 1 }
		/^openat\(/ && index($0, tmp ",") { fd = $NF; synced = 0 }
		/^fsync\(/ { f = $0; sub(/^fsync\(/, "", f); sub(/\).*/, "", f); if (f == fd) synced = 1; if (f == dfd && renamed) { dsynced++; renamed = 0 } }
		/^rename/ && index($0, tmp ", " st) { if (!synced) { print "renamed unsynced: " $0; bad = 1 } n++; renamed = 1 }
		/^openat\(/ && index($0, dir ",") && /O_DIRECTORY/ { dfd = $NF }
		END { if (!n || dsynced < n) { print n " renames, " dsynced " directory fsyncs"; bad = 1 } exit bad }' "$TMP/strace"
	is "after the strace run: exactly the operator's limits" "$(all_lims)" "$orig"
fi

# truncated at every byte offset: the complete lines restored, the cut
# one reported and left alone (never restored with a cut value). end[i] is
# the offset just past line i's newline; kind[i] the limit it restores.
mapfile -t end < <(awk '{ n += length($0) + 1; print n }' "$TMP/state.full")
mapfile -t kind < <(awk -F'\t' '{ k = $4; sub(/^blkio.throttle./, "", k); sub(/_device$/, "", k); print ($1 ~ /^#/) ? "#" : k }' "$TMP/state.full")
size=$(stat -c %s "$TMP/state.full")
declare -A O C
for f in $FILES; do O[$f]=$(val_of "$orig" $f); C[$f]=$(val_of "$capped" $f); done
capped_args=$(args_of "$capped")
bad_off=""
for ((off = 0; off <= size; off++)); do
	set_lims $capped_args
	head -c "$off" "$TMP/state.full" > "$TMP/run/state"
	"$H" reset -c "$conf" > /dev/null 2> "$TMP/trunc.err"
	rc=$?
	declare -A V=()
	want_rc=0 start=0
	for i in "${!end[@]}"; do
		if [ "$off" -ge "${end[$i]}" ] && [ "${kind[$i]}" != "#" ]; then
			V[${kind[$i]}]=1	# complete: restored
		elif [ "$off" -gt "$start" ] && [ "$off" -lt "${end[$i]}" ] && [ "${kind[$i]}" != "#" ]; then
			want_rc=1	# cut inside this line
		fi
		start=${end[$i]}
	done
	exp=""
	for f in $FILES; do exp+="$f=$([ -n "${V[$f]:-}" ] && echo "${O[$f]}" || echo "${C[$f]}") "; done
	if [ "$(all_lims)" != "$exp" ] || [ "$rc" != "$want_rc" ]; then
		bad_off+=" $off(rc=$rc want $want_rc: $(all_lims) want $exp)"
	fi
	rm -f "$TMP/run/state"
done
is "a state file cut at each of its $((size + 1)) byte offsets: complete lines restored, a cut line reported and left" "$bad_off" ""
set_lims $(args_of "$orig")

# ---- item 6: config errors are FILE:LINE, exit 2 ----
bad_conf() {	# DESCRIPTION LINENO TEXT...: that config fails at that line
	local d=$1 l=$2; shift 2
	printf '%s\n' "$@" > "$TMP/bad.conf"
	# a config taken by mistake would run: stop it after 10 s
	timeout -s TERM 10 "$H" run -c "$TMP/bad.conf" > /dev/null 2> "$TMP/bad.err"
	is "$d: exit 2" "$?" 2
	check "$d: $TMP/bad.conf:$l: in the error" grep -q "^Error: $TMP/bad.conf:$l: " "$TMP/bad.err"
}
bad_conf "device = nosuchdev" 3 "state = $TMP/run/state" "device = $disk" "device = nosuchdev"
bad_conf "device = /dev/null (not a disk)" 2 "state = $TMP/run/state" "device = /dev/null"
bad_conf "interval = 100 (no unit)" 2 "device = $disk" "interval = 100"
bad_conf "a duplicate container line" 3 "device = $disk" "container = container:db p99=1ms" \
	"container = container:db min_iops=5"
bad_conf "a container line after a catch-all" 3 "device = $disk" "container = container:* p99=1ms" \
	"container = container:db min_iops=5"
bad_conf "a duplicate vm line" 4 "device = $disk" "vm = vm:a floor_iops=1" "# x" "vm = vm:a floor_iops=2"

# ---- item 7: a recreated cgroup is one row with its own originals; a VM
# that cannot be capped says so ----
# a "VMM" (fio named qemu-system-x86_64) in the root cgroup, running before
# hcithrottle starts and doing I/O while it runs
cp "$(command -v fio)" "$TMP/qemu-system-x86_64"
"$TMP/qemu-system-x86_64" --name tarootvm --filename="$dev" --direct=1 --rw=randread --bs=4k \
	--size=128M --runtime=30 --time_based --ioengine=psync --rate_iops=200 --output=/dev/null &
qpid=$!
on_exit "kill $qpid 2>/dev/null"
run_daemon "$TMP/r.err"
said=$(grep -n "vm:tarootvm cannot be capped: its VMM runs in the root cgroup" "$TMP/r.err" | cut -d: -f1)
check "a VMM in the root cgroup: said at start" \
	test -n "$said" -a "${said:-9999}" -lt "$(grep -n 'hcithrottle: running' "$TMP/r.err" | cut -d: -f1)"
load "$VMCG" 3; v=$LOADPID
load "$CTCG" 3; c=$LOADPID
check "the first vm cgroup is capped" wait_for 5 capped_now
wait $v $c
rmdir "$VMCG"
mkdir "$VMCG"
# the operator makes it again, with other limits of its own
set_lims 400 4000 77777777 2000000
orig2=$(all_lims)
load "$VMCG" 3; v=$LOADPID
load "$CTCG" 3; c=$LOADPID
check "the recreated vm cgroup is capped" wait_for 5 capped_now
"$H" status -c "$conf" > "$TMP/r.status" 2>&1
wait $v $c
kill $qpid
wait $qpid 2>/dev/null
sleep 0.3
check "the removed cgroup is forgotten" grep -q 'cgroup /hcitest-ta-vm of vm:tavm was removed' "$TMP/r.err"
is "status lists the recreated cgroup's origin once" "$(grep -c ' vm:tavm ' "$TMP/r.status")" 1
check "the root-cgroup VMM's I/O was measured" grep -q ' vm:tarootvm ' "$TMP/r.status"
is "a VMM in the root cgroup: said once, though its I/O was seen" "$(grep -c "vm:tarootvm cannot be capped: its VMM runs in the root cgroup" "$TMP/r.err")" 1
check "and in status" grep -q "^note: vm:tarootvm cannot be capped" "$TMP/r.status"
kill -TERM $DAEMON
wait $DAEMON
is "after all that: exit 0" "$?" 0
is "the recreated cgroup gets its own originals back, exactly" "$(all_lims)" "$orig2"
diag "$(grep -E 'ORIGIN|vm:|note' "$TMP/r.status")"

# ---- item 17: help ----
"$H" '-?' > "$TMP/help.q"
"$H" -h > "$TMP/help.h"; rh=$?
is "-h: exit 0" "$rh" 0
is "-h prints what -? prints" "$(cat "$TMP/help.h")" "$(cat "$TMP/help.q")"
for c in run status reset; do
	"$H" "$c" --help > "$TMP/help.$c"; r=$?
	is "$c --help: exit 0" "$r" 0
	check "$c --help is its own (Usage: hcithrottle $c)" grep -q "^Usage: hcithrottle $c " "$TMP/help.$c"
	"$H" "$c" -h > "$TMP/help.$c.h"
	is "$c -h prints what $c --help prints" "$(cat "$TMP/help.$c.h")" "$(cat "$TMP/help.$c")"
done
check "the three commands' help texts differ" \
	test "$(cat "$TMP"/help.run "$TMP"/help.status "$TMP"/help.reset | sort -u | grep -c '^Usage')" = 3
check "only run --help lists --dry-run" sh -c "grep -q -- --dry-run '$TMP/help.run' && ! grep -q -- --dry-run '$TMP/help.status'"
"$H" --usage > "$TMP/usage"
is "--usage: exit 0" "$?" 0
check "--usage prints a usage line" grep -q '^Usage: hcithrottle' "$TMP/usage"
is "-V: exit 0" "$("$H" -V > /dev/null; echo $?)" 0
check "--version names it" sh -c "'$H' --version | grep -q '^hcithrottle [0-9]'"
done_testing
