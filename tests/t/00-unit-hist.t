#!/bin/sh
# Unit tests for src/hist.c, built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_hist"
