#!/bin/sh
# Unit tests for lib/fmt/json_writer.c, built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_json_writer"
