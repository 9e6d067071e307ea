#!/bin/bash
# The QMP JSON reader under libFuzzer (tests/fuzz/fuzz_json.c) for
# FUZZ_SECONDS (10), from a copy of the seed corpus: no crash, leak or hang.
. "$(dirname "$0")/../lib.sh"

FUZZ=$OUT/fuzz_json
SEEDS=$(cd "$(dirname "$0")/../fuzz/corpus/json" && pwd)
secs=${FUZZ_SECONDS:-10}

if [ ! -x "$FUZZ" ]; then
	not_ok "$FUZZ is built"; diag "make build/fuzz_json"
	done_testing; exit 1
fi
before=$(cd "$SEEDS" && cksum -- * | sort)
is "seed corpus present" "$([ -n "$before" ] && echo yes)" yes

# libFuzzer adds the inputs it finds to its first corpus directory: a copy
mkdir -p "$TMP/corpus" "$TMP/art"
cp -- "$SEEDS"/* "$TMP/corpus/"
"$FUZZ" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
	-artifact_prefix="$TMP/art/" "$TMP/corpus" >"$TMP/log" 2>&1; rc=$?
is "fuzz_json ran ${secs}s and exited 0" "$rc" 0
arts=$(cd "$TMP/art" && ls -d crash-* leak-* timeout-* oom-* 2>/dev/null)
is "no crash, leak, timeout or oom input written" "$arts" ""
if [ "$rc" != 0 ] || [ -n "$arts" ]; then
	diag "$(grep -v '^#[0-9]' "$TMP/log" | tail -40)"
fi

execs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$TMP/log")
rate=$(awk '/^stat::average_exec_per_sec:/ { print $2 }' "$TMP/log")
diag "fuzz_json: ${execs:-?} executions in ${secs}s (${rate:-?}/s), corpus $(ls "$TMP/corpus" | wc -l) inputs"
check "more than 1000 executions" [ "${execs:-0}" -gt 1000 ]
is "the checked-in seed corpus is unchanged" "$(cd "$SEEDS" && cksum -- * | sort)" "$before"

done_testing
