#!/bin/sh
# Unit tests for throttle/policy.c (the AIMD controller), built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_policy"
