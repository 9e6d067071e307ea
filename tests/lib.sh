# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Shared helpers for the integration tests: TAP output, and fixtures that
# are always torn down (loop devices, cgroups, temp dirs), even on failure.

set -u
OUT=${OUT:-$(cd "$(dirname "$0")/../.." && pwd)/build}
HCITRACE=${HCITRACE:-$OUT/asan/hcitrace}
[ -x "$HCITRACE" ] || HCITRACE=$OUT/hcitrace
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

_n=0
_failed=0
TMP=$(mktemp -d /tmp/hcitest.XXXXXX)
_loops=()
_cgroups=()
_cleanups=()

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $*"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
# check DESCRIPTION COMMAND...: ok if the command succeeds; returns the
# verdict, so that "check ... || diag ..." can show what failed
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; return 1; fi; }
# is DESCRIPTION GOT WANT
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "got '$2', want '$3'"; fi
}

on_exit() { _cleanups+=("$*"); }

_teardown() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[$i]}" || true; done
	for c in "${_cgroups[@]}"; do
		# move anything left to the root before removing the group
		if [ -f "$c/cgroup.procs" ]; then
			while read -r p; do echo "$p" > "$(dirname "$c")/cgroup.procs" 2>/dev/null; done < "$c/cgroup.procs"
		fi
		rmdir "$c" 2>/dev/null || true
	done
	for l in "${_loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
	rm -f /dev/shm/hcitest-$$-*.img
	rm -rf "$TMP"
}
trap _teardown EXIT
trap 'exit 130' INT TERM

need_root() { [ "$(id -u)" = 0 ] || skip_all "needs root (BPF, loop devices, cgroups)"; }

# make_loop SIZE_MB: a request-based test SSD in /dev/shm, filled with data
# (reads of holes never reach the device). Sets LOOP to the device path.
# Not for $(...): the teardown list must be this shell's.
make_loop() {
	local img=/dev/shm/hcitest-$$-${#_loops[@]}.img
	truncate -s "${1}M" "$img"
	LOOP=$(losetup -f --show --direct-io=on "$img") || return 1
	_loops+=("$LOOP")
	dd if=/dev/zero of="$LOOP" bs=1M count="$1" oflag=direct status=none
}

# setup_loop SIZE_MB: make_loop, then set dev and disk, or end the test
setup_loop() {
	make_loop "$1" || { not_ok "loop device"; done_testing; exit 1; }
	dev=$LOOP
	disk=$(basename "$LOOP")
}

MODEL_SSD=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tools/model-ssd
_mssd=0
# setup_model_ssd LATENCY_US IOPS [SIZE_MB]: a model SSD (tools/model-ssd)
# with a fixed latency per request and a fixed capacity, for every test
# whose verdict depends on contention or on a rate: the loop SSD above is
# as fast as the CPU, so two tenants on it compete for CPU, not a device.
# Sets dev and disk, or ends the test. Its FUSE mount is under $TMP, where
# 99-leftovers.t looks for mounts left behind.
setup_model_ssd() {
	local d dir=$TMP/mssd-$_mssd
	_mssd=$((_mssd + 1))
	if ! d=$("$MODEL_SSD" up -l "$1" -i "$2" -s "${3:-1024}" -d "$dir"); then
		not_ok "model SSD (${1} us, ${2} IOPS)"
		done_testing
		exit 1
	fi
	on_exit "$MODEL_SSD down $d"
	dev=$d
	disk=$(basename "$d")
}

BLKIO=/sys/fs/cgroup/blkio
# make_cgroup NAME: a throwaway blkio (v1) cgroup; sets CG to its directory.
# Nested groups are removed before their parents.
make_cgroup() {
	CG=$BLKIO/$1
	mkdir -p "$CG" && _cgroups=("$CG" "${_cgroups[@]}")
}

# in_cgroup DIR CMD...: run a command inside a cgroup
in_cgroup() {
	local d=$1; shift
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$d" "$@"
}

# fio_n DEV RW N [extra...]: exactly N direct 4k I/Os
fio_n() {
	local dev=$1 rw=$2 n=$3; shift 3
	fio --name=hcitest --filename="$dev" --direct=1 --rw="$rw" --bs=4k \
		--size=32M --number_ios="$n" --ioengine=psync --output=/dev/null "$@"
}

# csv_count CSV ORIGIN DEVICE OP STAGE: total count of a stage's histogram
csv_count() {
	awk -F, -v o="$2" -v d="$3" -v op="$4" -v s="$5" \
		'NR > 1 && $1 == o && $2 == d && $3 == op && $4 == s { n += $7 } END { print n + 0 }' "$1"
}

# our_progs: how many of hcitrace's BPF programs are loaded right now
our_progs() {
	bpftool prog show 2>/dev/null | grep -cE 'name (block_[a-z_]+_(btf|raw))' || true
}

# wait_progs N: the kernel frees programs after an RCU grace period once
# their last fd closes; wait up to 5 s for the count to come back to N
wait_progs() {
	for _ in $(seq 50); do [ "$(our_progs)" = "$1" ] && break; sleep 0.1; done
	our_progs
}

# start_tracer OUT ERR ARGS...: hcitrace in the background, returning once
# it says it is attached (up to 60 s: a loaded machine and an ASan build can
# take a while to load 50 programs). Sets TRACER; fails if it never says so.
start_tracer() {
	local out=$1 err=$2; shift 2
	: > "$err"
	"$HCITRACE" "$@" >"$out" 2>"$err" &
	TRACER=$!
	on_exit "kill -9 $TRACER 2>/dev/null"
	for _ in $(seq 1200); do
		grep -q 'Tracing block I/O' "$err" && return 0
		kill -0 "$TRACER" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# start_hcithrottle ERRFILE CONF [ARGS...]: $HCITHROTTLE run in the
# background, returning once it says it runs (up to 30 s: an ASan build on
# a loaded machine loads slowly); sets DAEMON. Its kill and a reset of CONF
# are on the teardown list, so no limit outlives the test.
start_hcithrottle() {
	local err=$1 conf=$2
	shift 2
	: > "$err"
	"$HCITHROTTLE" run -c "$conf" "$@" > /dev/null 2> "$err" &
	DAEMON=$!
	on_exit "kill -9 $DAEMON 2>/dev/null; $HCITHROTTLE reset -c $conf >/dev/null 2>&1"
	for _ in $(seq 600); do
		grep -q 'hcithrottle: running' "$err" && return 0
		kill -0 $DAEMON 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# jqt [jq options] FILTER FILE: jq -e without printing the result; an empty
# FILE fails too (jq 1.6 runs no filter on it and exits 0)
jqt() { [ -s "${@: -1}" ] && jq -e "$@" >/dev/null; }

# fuzz_run NAME SECONDS: the libFuzzer target $OUT/fuzz_NAME for SECONDS
# (FUZZ_SECONDS overrides), from a copy of tests/fuzz/corpus/NAME (libFuzzer
# adds what it finds to its first corpus directory): exit 0, no crash, leak,
# timeout or oom input written, over 1000 executions, seeds unchanged.
fuzz_run() {
	local fuzz=$OUT/fuzz_$1 secs=${FUZZ_SECONDS:-$2} seeds before rc arts execs rate
	seeds=$(cd "$(dirname "${BASH_SOURCE[0]}")/fuzz/corpus/$1" && pwd)
	if [ ! -x "$fuzz" ]; then
		not_ok "$fuzz is built"; diag "make build/fuzz_$1"
		return 1
	fi
	before=$(cd "$seeds" && cksum -- * | sort)
	is "seed corpus present" "$([ -n "$before" ] && echo yes)" yes
	mkdir -p "$TMP/corpus" "$TMP/art"
	cp -- "$seeds"/* "$TMP/corpus/"
	"$fuzz" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
		-artifact_prefix="$TMP/art/" "$TMP/corpus" >"$TMP/log" 2>&1; rc=$?
	is "fuzz_$1 ran ${secs}s and exited 0" "$rc" 0
	arts=$(cd "$TMP/art" && ls -d crash-* leak-* timeout-* oom-* 2>/dev/null)
	is "no crash, leak, timeout or oom input written" "$arts" ""
	if [ "$rc" != 0 ] || [ -n "$arts" ]; then
		diag "$(grep -v '^#[0-9]' "$TMP/log" | tail -40)"
	fi
	execs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$TMP/log")
	rate=$(awk '/^stat::average_exec_per_sec:/ { print $2 }' "$TMP/log")
	diag "fuzz_$1: ${execs:-?} executions in ${secs}s (${rate:-?}/s), corpus $(ls "$TMP/corpus" | wc -l) inputs"
	check "more than 1000 executions" [ "${execs:-0}" -gt 1000 ]
	is "the checked-in seed corpus is unchanged" "$(cd "$seeds" && cksum -- * | sort)" "$before"
}

done_testing() {
	echo "1..$_n"
	[ "$_failed" = 0 ]
}
