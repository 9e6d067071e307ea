#!/bin/sh
# Unit tests for lib/core/cmd.c, built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_cmd"
