#!/bin/sh
# Unit tests for trace/options.c, built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_env"
