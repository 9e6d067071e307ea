#!/bin/sh
# Unit tests for trace/join*.c on hand-built cases (splits, validation, clock, JSON), with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_join_cases"
