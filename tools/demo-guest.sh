#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The cross-layer demo (docs/guest.md): boots the test guest (QEMU, TCG) on a
# raw image on ext4 on a loop-device SSD, runs "hcitrace guest" inside it and
# fio at QD1 (4 KiB random reads and writes, direct I/O), joins the guest's
# stream on the host with --guest-channel --breakdown, and draws the plots.
# Output: the report on stdout; CSV, JSON and PNG files in $DEMO_OUT
# (default build/demo-guest). Everything else is removed on any exit.
#   N=2000 QD=1 ENGINE=psync AIO=threads tools/demo-guest.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$here/../build}
export HCITRACE=${HCITRACE:-$OUT/hcitrace}
DEMO_OUT=${DEMO_OUT:-$OUT/demo-guest}
N=${N:-2000}
QD=${QD:-1}
ENGINE=${ENGINE:-psync}
AIO=${AIO:-threads}
[ "$(id -u)" = 0 ] || { echo "Error: the demo needs root (BPF, loop devices)" >&2; exit 1; }
# the test suite's fixtures: loop SSD, guest image, QEMU driver, teardown
. "$here/../tests/lib.sh"
. "$here/../tests/vm/lib-vm.sh"
need_vm >/dev/null
mkdir -p "$DEMO_OUT"
vm_image 80 >/dev/null
VM_CHAN=$TMP/hci.sock
rc=1
hook() {
	case $1 in
	ready)
		start_tracer "$DEMO_OUT/report.txt" "$TMP/err" -d "$disk" --guest-channel "$VM_CHAN" \
			--breakdown --csv "$DEMO_OUT/demo.csv" --json "$DEMO_OUT/demo.json" ||
			{ cat "$TMP/err" >&2; exit 1; }
		tracer=$TRACER ;;
	result)
		kill -INT "$tracer"
		wait "$tracer"
		rc=$? ;;
	esac
}
echo "booting the guest; fio: $N x 4 KiB random read/write, QD$QD ($ENGINE), QEMU aio=$AIO" >&2
vm_run hcidemo q35 "$AIO" hook hci.n="$N" hci.rw=randrw hci.qd="$QD" hci.engine="$ENGINE" \
	hci.trace=1 >/dev/null
[ "$rc" = 0 ] || { echo "Error: hcitrace failed:" >&2; cat "$TMP/err" >&2; exit 1; }
cat "$DEMO_OUT/report.txt"
"$here/hci-plot" "$DEMO_OUT/demo.csv" "$DEMO_OUT" >/dev/null
echo
echo "files: $DEMO_OUT/demo.{csv,join.csv,volumes.csv,breakdown.csv,json}"
echo "plots: $DEMO_OUT/breakdown.png $DEMO_OUT/latency.png"
