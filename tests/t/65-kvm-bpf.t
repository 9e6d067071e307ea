#!/bin/sh
# KVM handlers under BPF_PROG_TEST_RUN (no kvm_* tracepoint fires here).
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_kvm_bpf"
