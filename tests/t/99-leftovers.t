#!/bin/bash
# Runs last: the tests before it must have left nothing on the machine.
. "$(dirname "$0")/../lib.sh"
need_root
is "no test loop device attached" "$(losetup -a | grep -c '/dev/shm/hcitest-')" 0
is "no model SSD's loop device attached" "$(losetup -a | grep -c '/mssd-[0-9]*/export')" 0
is "no model SSD daemon (qemu-storage-daemon) left" "$(pgrep -c '^qemu-storage-d' || true)" 0
is "no model SSD FUSE mount left" "$(grep -c ' /tmp/hcitest\.[^ ]*/mssd-[0-9]*/export fuse' /proc/mounts || true)" 0
is "no test image left in /dev/shm" "$(find /dev/shm -maxdepth 1 -name 'hcitest-*' | wc -l)" 0
is "no blkio limit left on a loop device, in any cgroup" \
	"$(find "$BLKIO" -name 'blkio.throttle.*_device' -exec grep -h '^7:' {} + | wc -l)" 0
is "no test cgroup left" "$(find "$BLKIO" -mindepth 1 -type d -name 'hcitest-*' | wc -l)" 0
is "no hcitrace BPF program left" "$(wait_progs 0)" 0
is "no QEMU left running" "$( (pgrep -f '^qemu-system'; pgrep '^qemu-system') | sort -u | wc -l)" 0
is "no test mount left" "$(grep -c ' /tmp/hcitest\.' /proc/mounts || true)" 0
is "no temp dir left" "$(find /tmp -maxdepth 1 -name 'hcitest.*' ! -path "$TMP" | wc -l)" 0
done_testing
