#!/bin/sh
# Unit tests for throttle/qmp_reply.c and qmp.c's state text, built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_qmp_reply"
