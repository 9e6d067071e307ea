#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Install what hcikit needs on Debian 12, only what is missing, and mount the
# kernel file systems the tools and tests use. Safe to run again.
set -euo pipefail

pkgs=(
	make gcc pkg-config		# user space
	clang-19 llvm-19		# BPF (clang 14 crashes on some BPF builtins)
	libbpf-dev bpftool libelf-dev zlib1g-dev
	fio util-linux jq perl kmod	# tests: I/O, losetup, JSON, prove, modprobe
	liburing-dev			# tests: a VMM thread's io_uring (tests/helpers)
	libbpf-tools procps		# bench: biolatency baseline, sysctl
	sudo				# tests: --vm NAME through wrappers (31-inputs.t)
	qemu-system-x86 busybox-static cpio e2fsprogs	# the test guest (tests/vm)
	qemu-system-common		# qemu-storage-daemon: tools/model-ssd
	libclang-rt-19-dev gnuplot-nox	# libFuzzer (wire parser), tools/hci-plot
	libmicrohttpd-dev		# --listen: the /metrics server (lib/fmt/httpd.c)
	prometheus			# tests: a real server scrapes --listen (45-prometheus.t)
	curl				# tests: /metrics and Prometheus's API (45, 46)
	mandoc bash-completion systemd	# tests: man page lint (11), completion (12), systemd-analyze (13)
	debhelper lintian dpkg-dev	# make deb (docs/install.md)
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "Error: missing packages (${missing[*]}); run 'make deps' as root" >&2
		exit 1
	fi
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ "$(id -u)" = 0 ] || exit 0
mnt() { mountpoint -q "$2" 2>/dev/null || mount -t "$1" "$1" "$2" 2>/dev/null || true; }
mnt debugfs /sys/kernel/debug
mnt tracefs /sys/kernel/tracing
mnt bpf /sys/fs/bpf
