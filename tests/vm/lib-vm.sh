# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Boot the test guest under QEMU (TCG) and drive it over its serial console.
# Source after tests/lib.sh. QEMU always runs under timeout, and is killed on
# test exit: a stuck guest (or PVM's "KVM internal error", which pauses QEMU
# instead of exiting) never outlives the test.

VM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VMDIR=${VMDIR:-$OUT/vm}
VM_TIMEOUT=${VM_TIMEOUT:-120}
VM_ACCEL=${VM_ACCEL:-tcg}
VM_CACHE=${VM_CACHE:-none}
TSC_KHZ=$(awk -F': ' '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)

# make deps installs QEMU and the guest's parts, so their absence is a
# failure, not a reason to skip
need_vm() {
	if ! command -v qemu-system-x86_64 >/dev/null ||
	   ! VMDIR=$VMDIR "$VM_LIB_DIR/build-guest.sh" >&2; then
		not_ok "build and boot the test guest (qemu-system-x86_64 and build-guest.sh)"
		done_testing
		exit 1
	fi
}

# vm_image SIZE_MB: an ext4 file system on a new loop test SSD holding a raw
# image full of data (reads of holes would never reach the device). Sets
# IMG, dev and disk.
vm_image() {
	setup_loop $(( $1 + 64 ))
	mkfs.ext4 -q -F "$dev"
	mkdir -p "$TMP/mnt"
	mount "$dev" "$TMP/mnt" && on_exit "umount $TMP/mnt"
	IMG=$TMP/mnt/disk.raw
	dd if=/dev/urandom of="$IMG" bs=1M count="$1" status=none
	sync
}

# vm_model_ssd LATENCY_US IOPS [SIZE_MB]: the guest's raw disk is a model SSD
# (tests/lib.sh setup_model_ssd), for tests whose verdict depends on
# contention: it has a capacity of its own, which a loop SSD over /dev/shm
# does not. Reads return zeros and writes are discarded, so no file system
# on it: host tenants read other ranges of the same device. Sets IMG, dev
# and disk.
vm_model_ssd() {
	setup_model_ssd "$@"
	IMG=$dev
}

# vm_image_stacked SIZE_MB: the same, one layer deeper: the image's ext4 is
# on a second loop device (direct I/O) whose backing file is on ext4 on the
# loop test SSD. Sets IMG, dev/disk (the lower SSD) and UPPER (the upper
# loop device's name). Torn down top first.
vm_image_stacked() {
	setup_loop $(( $1 + 128 ))
	mkfs.ext4 -q -F "$dev"
	mkdir -p "$TMP/lower" "$TMP/mnt"
	mount "$dev" "$TMP/lower" && on_exit "umount $TMP/lower"
	dd if=/dev/zero of="$TMP/lower/upper.img" bs=1M count=$(( $1 + 64 )) status=none
	sync
	local up
	up=$(losetup -f --show --direct-io=on "$TMP/lower/upper.img") || return 1
	on_exit "losetup -d $up"
	UPPER=$(basename "$up")
	mkfs.ext4 -q -F "$up"
	mount "$up" "$TMP/mnt" && on_exit "umount $TMP/mnt"
	IMG=$TMP/mnt/disk.raw
	dd if=/dev/urandom of="$IMG" bs=1M count="$1" status=none
	sync
}

# vm_kill NAME PID [QEMU_PID]: kill a guest's QEMU and wait until it is gone, so that
# its image's file system can be unmounted. Killing timeout(1) alone would
# orphan QEMU, so QEMU is found by its unique -name; a paused KVM guest can
# take a few seconds to die.
vm_kill() {
	local pids p
	pids=$(pgrep -f "guest=$1( |\$)")
	pids="$pids ${3:-}"
	kill -9 $pids "$2" 2>/dev/null
	# wait on the pids, not the name: an exiting process loses its cmdline
	for p in $pids; do
		for _ in $(seq 300); do
			[ -e "/proc/$p" ] || break
			sleep 0.1
		done
	done
}

# vm_run NAME MACHINE AIO HOOK [hci.k=v...]: boot, call "HOOK ready" when the
# guest waits, send "go", call "HOOK result" when fio is done in the guest
# (before shutdown: QEMU probes the image's alignment again while it quits),
# then "HOOK done" after QEMU exits. Sets VM_IOS (the guest block layer's
# count of reads + writes completed during fio), VM_RC (fio's status) and
# VM_ERR (a fatal QEMU/KVM message). VM_ACCEL picks the accelerator (tcg),
# VM_CACHE QEMU's cache mode (none). VM_CHAN=PATH gives the guest the
# virtio-serial port org.hcikit.trace.0 on a chardev socket at PATH.
# VM_QMP=PATH gives QEMU a QMP socket at PATH. HCI-IOPS lines (hci.iolog=1)
# go to $TMP/NAME.iops as "MS IOPS", the HCI-FIO line to $TMP/NAME.fio.
vm_run() {
	local name=$1 machine=$2 aio=$3 hook=$4 line dev_args append chan_args=()
	shift 4
	VM_IOS=""
	VM_RC=""
	VM_ERR=""
	append="console=ttyS0 quiet panic=-1 $*"
	case $machine in
	q35) dev_args=(-machine q35 -device virtio-blk-pci,drive=d0)
		[ -n "${VM_CHAN:-}" ] && chan_args=(-device virtio-serial-pci) ;;
	microvm)
		dev_args=(-machine microvm -device virtio-blk-device,drive=d0)
		[ -n "${VM_CHAN:-}" ] && chan_args=(-device virtio-serial-device)
		append="$append tsc=reliable tsc_early_khz=$TSC_KHZ" ;;
	esac
	if [ -n "${VM_QMP:-}" ]; then
		rm -f "$VM_QMP"
		chan_args+=(-qmp "unix:$VM_QMP,server=on,wait=off")
	fi
	if [ -n "${VM_CHAN:-}" ]; then
		rm -f "$VM_CHAN"
		chan_args+=(-chardev "socket,id=hci,path=$VM_CHAN,server=on,wait=off"
			-device virtserialport,chardev=hci,name=org.hcikit.trace.0)
	fi
	coproc QEMU { exec timeout -s KILL "$VM_TIMEOUT" qemu-system-x86_64 -accel "$VM_ACCEL" \
		-cpu max -m 512 -smp 1 -nographic -nodefaults -no-reboot -serial stdio \
		-name "guest=$name" "${dev_args[@]}" "${chan_args[@]}" -kernel "$VMDIR/vmlinuz" \
		-initrd "$VMDIR/initramfs.cpio" -append "$append" \
		-drive "file=$IMG,if=none,id=d0,format=raw,cache=$VM_CACHE,aio=$aio" 2>&1; }
	local qpid=$QEMU_PID out in
	# our own copies: bash closes the coproc's fds when it reaps QEMU, which
	# a hook's "wait" can do while we still read QEMU's last lines
	exec {out}<&"${QEMU[0]}" {in}>&"${QEMU[1]}"
	# QEMU is timeout(1)'s child: know its pid before it starts to exit
	local qemu=""
	for _ in $(seq 50); do
		qemu=$(pgrep -P "$qpid" | head -1)
		[ -n "$qemu" ] && break
		sleep 0.02
	done
	on_exit "vm_kill $name $qpid $qemu"
	while IFS= read -r -t "$VM_TIMEOUT" line <&"$out"; do
		line=${line//$'\r'/}
		echo "$line" >> "$TMP/$name.console"
		case $line in
		*HCI-READY*) "$hook" ready; echo go >&"$in" ;;
		*HCI-RESULT*)
			VM_RC=$(sed -n 's/.*rc=\([0-9]*\).*/\1/p' <<<"$line")
			VM_IOS=$(sed -n 's/.*ios=\([0-9]*\).*/\1/p' <<<"$line")
			"$hook" result ;;
		*HCI-ERROR*) diag "guest: $line" ;;
		*HCI-IOPS*) echo "${line#*HCI-IOPS }" >> "$TMP/$name.iops" ;;
		*HCI-FIO*) echo "${line#*HCI-FIO }" > "$TMP/$name.fio" ;;
		*HCI-GUEST*) diag "guest: ${line#HCI-GUEST }" ;;
		# QEMU pauses on this instead of exiting: stop waiting at once
		*"KVM internal error"* | *"failed to initialize kvm"* | *"Could not access KVM"*)
			VM_ERR=$line
			vm_kill "$name" "$qpid" "$qemu"
			break ;;
		esac
	done
	wait "$qpid" 2>/dev/null
	exec {out}<&- {in}>&-
	"$hook" done
}
