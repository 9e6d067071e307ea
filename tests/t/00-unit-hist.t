#!/bin/sh
# Unit tests for lib/core/hist.c, built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_hist"
