#!/bin/sh
# Unit tests for throttle/config.c (hcithrottle's config file), built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_tconf"
