#!/bin/sh
# Unit tests for lib/host/resolver.c and procs.c, built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_resolver"
