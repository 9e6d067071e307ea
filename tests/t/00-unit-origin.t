#!/bin/sh
# Unit tests for lib/host/origin.c, built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_origin"
