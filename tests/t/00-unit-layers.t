#!/bin/sh
# Unit tests for lib/bpf/layers.c (which layer a BPF program is, and when it loads), built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_layers"
