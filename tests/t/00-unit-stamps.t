#!/bin/sh
# Unit tests for lib/bpf/stamps.c (when the kernel's request stamps stand for G and D), built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_stamps"
