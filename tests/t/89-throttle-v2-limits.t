#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The operator's own io.max limits on cgroup v2 (inside the Debian test
# guest: the host mounts blkio v1, where 84-throttle-trust.t runs): a "vm"
# cgroup has limits of its own, read IOPS and bytes below hcithrottle's cap
# and write above it (set A), then the other way round (set B). hcithrottle
# caps it deterministically (the container's min_iops can never be met),
# lifts the cap when the container stops, and is stopped by SIGTERM, by
# SIGKILL + reset and by SIGKILL + a new run. Checked: every io.max value
# sampled every 50 ms while it ran is present and at most the operator's,
# the kinds below the cap keep the operator's value while capped, and after
# a lift and every exit io.max is exactly the operator's. No assertion
# depends on a rate or a time (TCG guest), only on "a cap within 30 s".
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../vm/lib-vm.sh"
need_root
need_vm
# the guest's disk: a raw file of data on tmpfs (no O_DIRECT there: the
# page cache's speed does not matter to this test)
IMG=/dev/shm/hcitest-ta-$$-guest.raw
on_exit "rm -f $IMG"
dd if=/dev/urandom of="$IMG" bs=1M count=80 status=none
VM_CACHE=writeback
VM_TIMEOUT=${VM_TIMEOUT_LIMITS:-300}
hook() { :; }
vm_run hcitest-ta-limits q35 threads hook hci.job=limits
c=$TMP/hcitest-ta-limits.console
grep 'HCI-LIMITS' "$c" | sed 's/^/# /'
is "the guest ran the scenario" "$VM_RC" 0
[ -n "$(grep -m1 'HCI-LIMITS termB=' "$c")" ] || diag "$(tail -30 "$c")"

# get NAME: the io.max value of line NAME=[...]
get() { sed -n "s/.*HCI-LIMITS.* $1=\[\([^]]*\)\].*/\1/p; s/.*HCI-LIMITS $1=\[\([^]]*\)\].*/\1/p" "$c" | head -1; }
key() { sed -n "s/.*$2=\([0-9a-z]*\).*/\1/p" <<<"$1"; }	# VALUE KEY
KEYS="rbps wbps riops wiops"
# within SAMPLE ORIG: each key present, and at most the operator's
within() {
	local k s o
	for k in $KEYS; do
		s=$(key "$1" $k); o=$(key "$2" $k)
		[ -n "$s" ] || return 1
		[ "$o" = max ] && continue
		[ "$s" != max ] && [ "$s" -le "$o" ] || return 1
	done
}
# capped_right CAPPED ORIG: below the cap the operator's value stays; above
# it hcithrottle's cap (lower) is in force
capped_right() {
	local k s o ours
	for k in $KEYS; do
		s=$(key "$1" $k); o=$(key "$2" $k)
		case $k in *iops) ours=65 ;; *) ours=266240 ;; esac	# floor 50 x 1.3, x 4 KiB
		if [ "$o" -le "$ours" ]; then
			[ "$s" = "$o" ] || { diag "$k: $s, want the operator's $o"; return 1; }
		else
			[ "$s" != max ] && [ "$s" -lt "$o" ] || { diag "$k: $s, want below $o"; return 1; }
		fi
	done
}
A=$(get origA)
B=$(get origB)
is "set A is in io.max" "$A" "rbps=100000 wbps=99999999 riops=30 wiops=5000"
is "set B is in io.max" "$B" "rbps=99999999 wbps=100000 riops=5000 wiops=30"
check "A, while capped: the kinds below the cap keep the operator's value, the others are capped" \
	capped_right "$(get cappedA)" "$A"
is "A, after the lift, while it runs: exactly the operator's" "$(get liftedA)" "$A"
is "A, after SIGTERM: exactly the operator's" "$(get termA)" "$A"
check "A: SIGTERM exit 0" grep -q 'HCI-LIMITS termA=.* rc=0' "$c"
check "B, while capped: the kinds below the cap keep the operator's value, the others are capped" \
	capped_right "$(get cappedB)" "$B"
is "B, SIGKILL + reset: exactly the operator's" "$(get resetB)" "$B"
check "B: reset exit 0, 1 limit restored" grep -q 'HCI-LIMITS resetB=.* rc=0 hcithrottle: 1 limit restored' "$c"
check "B, SIGKILL again while capped" capped_right "$(get cappedB2)" "$B"
is "B, SIGKILL + run: exactly the operator's, at start" "$(get rerunB)" "$B"
check "B: the new run says it restored first" grep -q 'HCI-LIMITS rerunB=.*restored 1 limits left by a previous run' "$c"
is "B, after SIGTERM: exactly the operator's" "$(get termB)" "$B"
for set in A B; do
	line=$(grep -m1 "HCI-LIMITS samples$set=" "$c")
	n=$(sed -n "s/.*samples$set=\([0-9]*\).*/\1/p" <<<"$line")
	check "$set: io.max sampled while it ran (${n:-0} samples)" test "${n:-0}" -gt 20
	bad=""
	while read -r v; do
		within "$v" "$(get orig$set)" || bad+=" [$v]"
	done < <(sed -n "s/.*distinct$set=//p" <<<"$line" | grep -o '\[[^]]*\]' | tr -d '[]')
	is "$set: no sampled io.max ever raised or removed an operator limit" "$bad" ""
done
done_testing
