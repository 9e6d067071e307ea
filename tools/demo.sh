#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The built-in demo: a model SSD (tools/model-ssd: 500 us per request, 4000
# IOPS in all, so the two tenants really share one device's capacity), two
# short fio jobs in two throwaway cgroups, hcitrace attached for their
# lifetime. Prints the per-origin breakdown: the QD1 "db" job waits behind
# the QD16 "batch" job in the device's queue (its D2C and Q2C grow far past
# the 500 us of one request). Writes a CSV.
# Leaves nothing behind: the device, its daemon and the cgroups go on any exit.
set -euo pipefail
OUT=${OUT:-$(cd "$(dirname "$0")/.." && pwd)/build}
HCITRACE=${HCITRACE:-$OUT/hcitrace}
CSV=${CSV:-$OUT/demo.csv}
[ "$(id -u)" = 0 ] || { echo "Error: the demo needs root (BPF, loop devices, cgroups)" >&2; exit 1; }

MODEL_SSD=$(cd "$(dirname "$0")" && pwd)/model-ssd
dev=""
groups=()
cleanup() {
	for g in "${groups[@]}"; do rmdir "$g" 2>/dev/null || true; done
	[ -n "$dev" ] && "$MODEL_SSD" down "$dev"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if mountpoint -q /sys/fs/cgroup/blkio; then
	root=/sys/fs/cgroup/blkio	# cgroup v1: the io controller is blkio
else
	root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
fi
[ -n "$root" ] || { echo "Error: no blkio or cgroup2 hierarchy mounted" >&2; exit 1; }

dev=$("$MODEL_SSD" up -l 500 -i 4000 -s 256)
for g in hcikit-demo-db hcikit-demo-batch; do
	mkdir "$root/$g"
	groups+=("$root/$g")
done
echo "model SSD: $dev (500 us per request, 4000 IOPS; tools/model-ssd); cgroups: ${groups[*]}"
echo "running: 4k random reads at QD1 in hcikit-demo-db, 64k writes at QD16 in hcikit-demo-batch"
job() { # cgroup fio-args...
	local g=$1; shift
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$g" \
		fio --filename="$dev" --direct=1 --ioengine=libaio --time_based --runtime=3 \
		--size=128M --output=/dev/null "$@"
}
export -f job
export dev
"$HCITRACE" -d "$(basename "$dev")" --csv "$CSV" -- bash -c "
	job ${groups[0]} --name=db --rw=randread --bs=4k --iodepth=1 &
	job ${groups[1]} --name=batch --rw=randwrite --bs=64k --iodepth=16 --offset=128M &
	wait"
echo
echo "histograms written to $CSV ($(($(wc -l < "$CSV") - 1)) rows; format: docs/formats.md)"
