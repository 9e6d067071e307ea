#!/bin/sh
# Unit tests for lib/fmt/prom.c, promfile.c, httpd.c, built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_prom"
