#!/bin/sh
# Unit tests for include/hci_stages.h (the stage rules BPF and user space share), built with ASan/UBSan.
exec "${OUT:-$(dirname "$0")/../../build}/asan/test_stages"
