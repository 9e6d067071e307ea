#!/bin/sh
# Unit tests for throttle/metrics.c (hcithrottle's Prometheus text), built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_throttle_metrics"
