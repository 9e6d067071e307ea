#!/bin/sh
# Unit tests for lib/wire/wire.c (the guest stream), built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_wire"
