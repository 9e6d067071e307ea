#!/bin/sh
# Unit tests for trace/output.c, built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_output"
