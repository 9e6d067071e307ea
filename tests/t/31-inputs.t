#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The inputs users give as they have them (issue 11, items 12-14), traced
# for real: -d through chains of links to the disk, --vm NAME for a VMM
# started under wrappers, and a rules file aligned with spaces and tabs.
# Counts are exact: fio issues exactly N direct 4k I/Os.
. "$(dirname "$0")/../lib.sh"
need_root

N=1000
img=/dev/shm/hcitest-tc-$$.img
truncate -s 64M "$img" && LOOP=$(losetup -f --show --direct-io=on "$img") ||
	{ not_ok "loop device"; done_testing; exit 1; }
_loops+=("$LOOP")
on_exit "rm -f $img"
dev=$LOOP
disk=$(basename "$LOOP")
dd if=/dev/zero of="$dev" bs=1M count=64 oflag=direct status=none
FIO="fio --name=x --filename=$dev --direct=1 --bs=4k --size=32M --ioengine=psync --output=/dev/null"

# disk_count CSV DEVICE OP STAGE: a stage's count over every origin
disk_count() {
	awk -F, -v d="$2" -v op="$3" -v s="$4" \
		'NR > 1 && $2 == d && $3 == op && $4 == s { n += $7 } END { print n + 0 }' "$1"
}

# -d through links: absolute to the node, then relative hops, as udev lays
# out /dev/disk/by-id; and a bare name that sysfs does not know but that
# is a link in the current directory
mkdir -p "$TMP/dev/disk/by-id"
ln -s "$dev" "$TMP/dev/node"
ln -s ../../node "$TMP/dev/disk/by-id/hcitest-tc-disk"
ln -s dev/disk/by-id/hcitest-tc-disk "$TMP/chain"
trace_d() { # DISK CSV: N reads through -d DISK
	# shellcheck disable=SC2086
	"$HCITRACE" -d "$1" --csv "$2" -- $FIO --rw=randread --number_ios=$N >"$TMP/out" 2>"$TMP/err"
}
trace_d "$TMP/chain" "$TMP/chain.csv"
is "-d through 3 links: exit 0" "$?" 0
grep -q Error "$TMP/err" && diag "$(cat "$TMP/err")"
is "-d through 3 links: all $N reads of $disk" "$(disk_count "$TMP/chain.csv" "$disk" read D2C)" $N
(cd "$TMP/dev/disk/by-id" && trace_d hcitest-tc-disk "$TMP/bare.csv")
is "-d a bare link name here: exit 0" "$?" 0
is "-d a bare link name here: all $N reads of $disk" \
	"$(disk_count "$TMP/bare.csv" "$disk" read D2C)" $N

# --vm NAME under wrappers: fio named qemu-system-x86_64 stands in for the
# VMM (--thread: one process, as QEMU is), at a low rate until killed.
# tests/unit/test_vmm.c resolves 20 kinds of wrapper; here one of each
# class goes through hcitrace: fork, nested forks, ptrace, exec.
cp "$(command -v fio)" "$TMP/qemu-system-x86_64"
vmm_pid() { # NAME: the pid of the VMM (comm qemu-system-x86) carrying -name NAME
	local p
	for p in $(pgrep -x qemu-system-x86); do
		grep -qzx -- "$1" "/proc/$p/cmdline" 2>/dev/null && echo "$p"
	done
}
carriers() { # NAME: processes whose command line has NAME as a word (not grep)
	local f n=0
	for f in $(grep -lzx -- "$1" /proc/[0-9]*/cmdline 2>/dev/null); do
		[ "$(cat "${f%cmdline}comm" 2>/dev/null)" = grep ] || n=$((n + 1))
	done
	echo $n
}
vm_under() { # NAME WRAPPER...: start the VMM under WRAPPER, wait for it
	local name=$1 i; shift
	"$@" "$TMP/qemu-system-x86_64" -name "$name" --thread --filename="$dev" --direct=1 \
		--rw=randread --bs=4k --size=32M --ioengine=psync --rate_iops=300 \
		--time_based --runtime=50 --output=/dev/null </dev/null >/dev/null 2>&1 &
	WRAPPER=$!
	on_exit "kill -9 $WRAPPER 2>/dev/null"
	VMM=
	for i in $(seq 100); do
		VMM=$(vmm_pid "$name")
		[ -n "$VMM" ] && break
		sleep 0.1
	done
	on_exit "kill -9 ${VMM:-0} 2>/dev/null"
}
sudo_kind="sudo timeout 60"
if ! command -v sudo >/dev/null; then
	sudo_kind="timeout 60 timeout 55"
	diag "no sudo here: a nested timeout stands in for sudo's fork"
fi
kinds=("timeout 60" "$sudo_kind" "strace -f -qq -o /dev/null" "nohup")
for i in "${!kinds[@]}"; do
	kind=${kinds[$i]}
	name=hcitest-tc-$$-vm$i
	# shellcheck disable=SC2086
	vm_under "$name" $kind
	n=$(carriers "$name")
	"$HCITRACE" --vm "$name" -d "$disk" --duration 1 --json "$TMP/vm$i.json" \
		>"$TMP/out" 2>"$TMP/err"
	rc=$?
	is "--vm under '$kind' ($n processes carry the name): exit 0" "$rc" 0
	[ "$rc" = 0 ] || diag "$(cat "$TMP/err")"
	check "--vm under '$kind': the VMM (pid ${VMM:-none}) is the VM traced, its I/O is there" \
		jqt --argjson pid "${VMM:-0}" --arg o "vm:$name" \
		'(.vms | length == 1 and .[0].pid == $pid and .[0].origin == $o) and
		 ([.vmm[] | select(.origin == $o) | .ios] | add > 0)' "$TMP/vm$i.json"
	kill -9 "${VMM:-0}" "$WRAPPER" 2>/dev/null
	wait "$WRAPPER" 2>/dev/null
done

# a rules file aligned with spaces and tabs, as docs/hcitrace.md shows it:
# each rule matches, so each tenant's I/O is counted under its own origin
make_cgroup "hcitest-tc-$$-tenants"
make_cgroup "hcitest-tc-$$-tenants/t1"
t1=$CG
make_cgroup "hcitest-tc-$$-db"
db=$CG
make_cgroup "hcitest-tc-$$-bk"
bk=$CG
printf '# aligned\n/hcitest-tc-%s-tenants/*           = container\n' $$ > "$TMP/rules"
printf '/hcitest-tc-%s-db\t=\tcontainer : db   # tabs\n' $$ >> "$TMP/rules"
{
	echo '#!/bin/sh'
	# shellcheck disable=SC2016
	echo 'run_in() { cg=$1; shift; sh -c '"'"'echo $$ > "$0/cgroup.procs" && exec "$@"'"'"' "$cg" "$@"; }'
	echo "run_in $t1 $FIO --rw=randread --number_ios=300 &&"
	echo "run_in $db $FIO --rw=randwrite --number_ios=200 &&"
	echo "run_in $bk $FIO --rw=randread --number_ios=100"
} > "$TMP/tenants.sh"
chmod +x "$TMP/tenants.sh"
"$HCITRACE" -d "$disk" --rules "$TMP/rules" --rule " /hcitest-tc-$$-bk =host:backup " \
	--csv "$TMP/rules.csv" -- "$TMP/tenants.sh" >"$TMP/out" 2>"$TMP/err"
rc=$?
is "spaced rules: exit 0" "$rc" 0
[ "$rc" = 0 ] || diag "$(cat "$TMP/err")"
is_count "'/...tenants/*           = container' matches t1" \
	"$(csv_count "$TMP/rules.csv" container:t1 "$disk" read D2C)" 300 "$TMP/err"
is_count "'/...db<TAB>=<TAB>container : db' matches, named db" \
	"$(csv_count "$TMP/rules.csv" container:db "$disk" write D2C)" 200 "$TMP/err"
is_count "--rule ' /...bk =host:backup ' matches" \
	"$(csv_count "$TMP/rules.csv" host:backup "$disk" read D2C)" 100 "$TMP/err"

done_testing
