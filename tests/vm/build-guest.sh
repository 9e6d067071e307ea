#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Build the test guest from Debian packages: the cloud kernel (downloaded and
# unpacked, never installed on the host) and an initramfs holding busybox,
# fio with its libraries, the virtio modules and tests/vm/guest-init.
# Output: $VMDIR/vmlinuz and $VMDIR/initramfs.cpio. Reuses the slow part
# (kernel, busybox, fio) when present; the static hcitrace and hcithrottle
# ($HCITRACE_STATIC, $HCITHROTTLE_STATIC, default $OUT/*-static) are appended
# as a second cpio archive on every run, which the kernel unpacks over the
# first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
VMDIR=${VMDIR:-$here/../../build/vm}
mkdir -p "$VMDIR"
VMDIR=$(cd "$VMDIR" && pwd)
stamp=$VMDIR/.stamp-$(sha1sum "$here/guest-init" "$0" | sha1sum | cut -c1-12)
hcitrace=${HCITRACE_STATIC:-${OUT:-$here/../../build}/hcitrace-static}
hcithrottle=${HCITHROTTLE_STATIC:-${OUT:-$here/../../build}/hcithrottle-static}

# base + overlay: the overlay holds the static hcitrace when it was built
overlay() {
	local o
	o=$(mktemp -d)
	mkdir -p "$o/bin"
	[ -x "$hcitrace" ] && cp "$hcitrace" "$o/bin/hcitrace"
	[ -x "$hcithrottle" ] && cp "$hcithrottle" "$o/bin/hcithrottle"
	(cd "$o" && find . | cpio -o -H newc --quiet) > "$VMDIR/overlay.cpio"
	rm -rf "$o"
	cat "$VMDIR/initramfs-base.cpio" "$VMDIR/overlay.cpio" > "$VMDIR/initramfs.cpio.tmp"
	mv "$VMDIR/initramfs.cpio.tmp" "$VMDIR/initramfs.cpio"
}
if [ -f "$stamp" ] && [ -f "$VMDIR/vmlinuz" ] && [ -f "$VMDIR/initramfs-base.cpio" ]; then
	overlay
	exit 0
fi

pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
if [ -z "$pkg" ]; then
	apt-get update -qq
	pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ { print $2; exit }')
fi
[ -n "$pkg" ] || { echo "Error: cannot find the Debian cloud kernel package" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"	# apt-get download drops to the _apt user
(cd "$work" && apt-get download -qq "$pkg" >/dev/null)
dpkg-deb -x "$work"/"$pkg"_*.deb "$work/k"
kver=${pkg#linux-image-}
cp "$work/k/boot/vmlinuz-$kver" "$VMDIR/vmlinuz"

root=$work/root
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,lib/modules,etc}
cp "$(command -v busybox)" "$root/bin/busybox"
case $(ldd "$root/bin/busybox" 2>&1) in
*'not a dynamic'* | *'statically linked'*) ;;
*) echo "Error: busybox is not static; install busybox-static" >&2; exit 1 ;;
esac
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_mmio virtio_blk virtio_console; do
	f=$(find "$work/k/lib/modules/$kver" -name "$m.ko" | head -1)
	[ -n "$f" ] || { echo "Error: module $m missing from $pkg" >&2; exit 1; }
	cp "$f" "$root/lib/modules/"
done
# fio and the shared libraries it links, at the same paths
cp "$(command -v fio)" "$root/bin/fio"
ldd "$(command -v fio)" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
mkdir -p "$root/lib64"
cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
cp "$here/guest-init" "$root/init"
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) > "$VMDIR/initramfs-base.cpio"
rm -f "$VMDIR"/.stamp-*
touch "$stamp"
overlay
echo "guest: $pkg, initramfs $(du -h "$VMDIR/initramfs.cpio" | cut -f1)"
