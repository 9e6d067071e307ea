#!/bin/bash
# The guest stream parser under libFuzzer (tests/fuzz/fuzz_wire.c) for
# FUZZ_SECONDS (30), from a copy of the seed corpus: no crash, leak or hang.
. "$(dirname "$0")/../lib.sh"
fuzz_run wire 30
done_testing
