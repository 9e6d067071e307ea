#!/bin/sh
# Unit tests for trace/join_replay.c (the join fed offline: exact counts, copies, compression).
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_join_replay"
