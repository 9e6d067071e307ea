#!/bin/bash
# hcithrottle on cgroup v2 (io.max), inside the Debian test guest: a "vm"
# and a "ct" cgroup with the io controller contend on the guest's virtio
# disk, a model SSD on the host (500 us, 4000 IOPS: tools/model-ssd), so
# that the vm's QD16 takes the device from the container whatever the
# machine; hcithrottle caps the vm cgroup in io.max while they run, and
# after SIGTERM no limit and no state file remain. (The host here mounts
# blkio v1: 85-throttle.t covers that path and the effect on the container;
# in a TCG guest the container also competes for the one vCPU.)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../vm/lib-vm.sh"
need_root
need_vm
vm_model_ssd 500 4000 256
hook() { :; }
vm_run hcitest-throttle q35 threads hook hci.job=throttle
c=$TMP/hcitest-throttle.console
grep 'HCI-THROTTLE' "$c" | sed 's/^/# /'
line=$(grep -m1 'HCI-THROTTLE solo=' "$c")
is "the guest ran the scenario" "$VM_RC" 0
is "hcithrottle exited 0 on SIGTERM" "$(sed -n 's/.*rc=\([0-9]*\).*/\1/p' <<<"$line")" 0
check "caps were decided" grep -qE 'HCI-THROTTLE solo=.* caps=[1-9]' "$c"
check "io.max of the vm cgroup held a limit while they contended" \
	grep -qE 'HCI-THROTTLE during=\[[0-9]+:[0-9]+ .*(riops=[0-9]+|rbps=[0-9]+)' "$c"
# about one run in four, the guest's blk-throttle (6.1) held the capped vm
# cgroup's bios with none in flight until io.max was written again
check "the vm's fio ended on time: blk-throttle held none of its bios" \
	grep -q 'HCI-THROTTLE vm_held=no' "$c"
check "after SIGTERM: no limit in io.max" \
	grep -qE 'HCI-THROTTLE after=\[([0-9]+:[0-9]+ rbps=max wbps=max riops=max wiops=max)?\]' "$c"
check "after SIGTERM: no state file" grep -q 'HCI-THROTTLE state=gone' "$c"
check "it said it restored the limits" grep -q 'original limits restored' "$c"
diag "$line"
[ -n "$line" ] || diag "$(tail -20 "$c")"
done_testing
