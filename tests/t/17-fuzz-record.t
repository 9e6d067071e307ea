#!/bin/bash
# The record file reader under libFuzzer (tests/fuzz/fuzz_record.c) for
# FUZZ_SECONDS (30), from a copy of the seed corpus: no crash, leak or hang.
. "$(dirname "$0")/../lib.sh"
fuzz_run record 30
done_testing
