#!/bin/bash
# Bad input gets a one-line error and a non-zero exit; --help has examples.
. "$(dirname "$0")/../lib.sh"
need_root

# expect_err DESC WANT_RC PATTERN ARGS...
expect_err() {
	local d=$1 want=$2 pat=$3 rc; shift 3
	"$HCITRACE" "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?
	if [ "$rc" = "$want" ] && grep -qE "$pat" "$TMP/err"; then
		ok "$d"
	else
		not_ok "$d"; diag "rc=$rc (want $want)" "$(cat "$TMP/err")"
	fi
}

"$HCITRACE" --help >"$TMP/help" 2>&1; rc=$?
is "--help exits 0" "$rc" 0
check "--help has examples" grep -q 'EXAMPLES' "$TMP/help"
check "--help has section headers" grep -q 'Filters:' "$TMP/help"
"$HCITRACE" --version >"$TMP/v" 2>&1
check "--version names the format versions" grep -q 'csv v1, json v1' "$TMP/v"

expect_err "unknown option" 2 'unrecognized option' --bogus
expect_err "interval must be a number" 2 "invalid interval 'abc'" abc
expect_err "interval must be > 0" 2 "invalid interval '0'" 0
expect_err "count must be a number" 2 "invalid count 'x'" 1 x
expect_err "too many positionals" 2 "unexpected argument" 1 2 3
expect_err "bad --duration" 2 "invalid --duration" --duration -3
expect_err "bad --duration text" 2 "invalid --duration" --duration 5s
expect_err "bad --origin class" 2 "invalid --origin" --origin pets
expect_err "bad --origin empty name" 2 "invalid --origin" --origin vm:
expect_err "bad --rule" 2 "PATTERN=CLASS" --rule nonsense
expect_err "bad --rule class" 2 "unknown class 'alien'" --rule '/x=alien'
expect_err "--slots not a power of two" 2 "invalid --slots" --slots 1000
printf '/ok=host\n/bad=nope\n' > "$TMP/rules"
expect_err "rules file error names file:line" 2 "$TMP/rules:2: .*unknown class" --rules "$TMP/rules"
expect_err "missing rules file" 2 "cannot open rules file" --rules "$TMP/nope"
expect_err "-- without a command" 2 "must be followed by a command" --
expect_err "missing disk" 1 "no such disk 'nosuchdisk0'" -d nosuchdisk0
expect_err "missing cgroup" 1 "no such cgroup '/no/such/group'" -c /no/such/group
expect_err "unwritable CSV" 1 "cannot write" --csv /proc/nope/x.csv --duration 1

done_testing
