#!/bin/sh
# Unit tests for lib/host/devices.c (disk names, paths and links), built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_devs"
