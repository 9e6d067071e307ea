#!/bin/sh
# Unit tests for trace/join_index.c (the join's VMM index: its candidates are the definition's).
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_join_index"
