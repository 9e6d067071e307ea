#!/bin/sh
# Unit tests for trace/join.c (guest/VMM join, clock offset), built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_join"
