#!/bin/sh
# Unit tests for trace/series.c, built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_series"
