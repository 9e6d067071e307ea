#!/bin/bash
# The QMP JSON reader under libFuzzer (tests/fuzz/fuzz_qmp_reply.c) for
# FUZZ_SECONDS (10), from a copy of the seed corpus: no crash, leak or hang.
. "$(dirname "$0")/../lib.sh"
fuzz_run qmp_reply 10
done_testing
