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

# issue 11: each --help section lists its own options, none is empty
# section HEADER FILE: the long options listed under " HEADER"
section() {
	awk -v h=" $1" '$0 == h { on = 1; next } on && /^ [A-Z][^:]*:$/ { exit }
		on && /^$/ { exit } on { print }' "$2" | grep -oE -- '^ +(-[a-zA-Z], )?--[a-z-]+' |
		grep -oE -- '--[a-z-]+' | sort | tr '\n' ' '
}
is "--help: Filters: lists -c, -d and --origin" "$(section Filters: "$TMP/help")" \
	"--cgroup --disk --origin "
is "--help: VMM layer: lists the VMM options only" "$(section 'VMM layer:' "$TMP/help")" \
	"--guest-channel --vm --vmm "
empty=$(awk '/^ [A-Z][^:]*:$/ { if (h) print h; h = $0; next } h && /^  +-/ { h = "" }
	END { if (h) print h }' "$TMP/help")
is "--help: no section header without options" "$empty" ""
# what argp's own errors tell the user to try must work, for both modes
for mode in "" guest; do
	"$HCITRACE" $mode --bogus >/dev/null 2>"$TMP/try"
	tries=$(grep -o '`[^'"'"']*'"'" "$TMP/try" | tr -d '`'"'" | sed 's/^[^ ]* //')
	check "${mode:-hcitrace}: the error suggests --help and --usage" \
		test "$(echo "$tries" | grep -c -- '--help$\|--usage$')" = 2
	while read -r opt; do
		[ -n "$opt" ] || continue
		"$HCITRACE" $opt >"$TMP/tried" 2>&1; rc=$?
		check "suggested 'hcitrace $opt' exits 0 with text" test "$rc" = 0 -a -s "$TMP/tried"
	done <<<"$tries"
done
"$HCITRACE" --usage >"$TMP/u" 2>&1; rc=$?
is "--usage exits 0" "$rc" 0
check "--usage lists the options" grep -q -- '--duration=SECONDS' "$TMP/u"
"$HCITRACE" guest --version >"$TMP/gv" 2>&1; rc=$?
is "guest --version exits 0" "$rc" 0
check "guest --version names the format versions" grep -q 'guest wire v1' "$TMP/gv"
# issue 12: -V, --usage and -h answer the same way for every program and
# command (lib/core/cmd.h). info_checks NAME VERSION_RE COMMAND...
info_checks() {
	local name=$1 vre=$2
	shift 2
	"$@" -V >"$TMP/V" 2>&1
	is "$name -V exits 0" "$?" 0
	check "$name -V prints its version" grep -qE "$vre" "$TMP/V"
	"$@" --usage >"$TMP/u" 2>&1
	is "$name --usage exits 0" "$?" 0
	check "$name --usage starts 'Usage: $name '" grep -q "^Usage: $name " "$TMP/u"
	"$@" -h >"$TMP/h" 2>&1
	is "$name -h exits 0" "$?" 0
	check "$name -h lists -h, --usage and -V" \
		test "$(grep -cE -- '^ +(-h, --help|--usage|-V, --version) ' "$TMP/h")" = 3
}
info_checks hcitrace '^hcitrace [0-9]+\.[0-9]+' "$HCITRACE"
info_checks "hcitrace guest" '^hcitrace [0-9]+\.[0-9]+' "$HCITRACE" guest
info_checks "hcitrace report" '^hcitrace [0-9]+\.[0-9]+' "$HCITRACE" report
check "--version names the record format" grep -q 'record v1' "$TMP/v"

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
# issue 11: -d takes paths and links (tests/t/31-inputs.t traces through
# them); what is not a block device says what it is instead
: > "$TMP/plain"; ln -s plain "$TMP/to-plain"; ln -s nowhere "$TMP/dangling"
ln -s /dev/null "$TMP/to-null"
expect_err "-d a regular file" 1 "is a regular file, not a block device" -d "$TMP/plain"
expect_err "-d a link to a file names its end" 1 "to-plain' \(-> $TMP/plain\) is a regular file" \
	-d "$TMP/to-plain"
expect_err "-d a link to a character device" 1 "is a character device, not a block device" \
	-d "$TMP/to-null"
expect_err "-d a dangling link" 1 "is a link to nothing" -d "$TMP/dangling"
expect_err "-d a directory" 1 "is a directory, not a block device" -d "$TMP"
# issue 11: rules aligned with spaces and tabs parse (the run then stops at -d)
printf '/tenants/*           = container\n/a\t=\tvm : one\n' > "$TMP/spaced.rules"
expect_err "spaced --rule and --rules parse" 1 "no such disk" --rule '/x = host' \
	--rules "$TMP/spaced.rules" -d nosuchdisk0
expect_err "missing cgroup" 1 "no such cgroup '/no/such/group'" -c /no/such/group
expect_err "unwritable CSV" 1 "cannot write" --csv /proc/nope/x.csv --duration 1
expect_err "unwritable --record" 1 "cannot create /proc/nope/x.hcr.*nothing was traced" \
	--record /proc/nope/x.hcr --duration 1
# hcitrace report (the record file's errors are tests/t/24-record.t's)
expect_err "report: no file" 2 "a record file is needed" report
expect_err "report: two files" 2 "one record file only" report a b
expect_err "report: unknown option" 2 'unrecognized option' report --bogus
expect_err "report: bad --origin" 2 "invalid --origin" report --origin pets x
expect_err "report: missing file" 1 "cannot open $TMP/nope.hcr" report "$TMP/nope.hcr"
echo "not a record" > "$TMP/text.hcr"
expect_err "report: not a record file" 1 "not an hcitrace record file" report "$TMP/text.hcr"

# the guest side
expect_err "--breakdown needs --guest-channel" 2 "needs --guest-channel" --breakdown
expect_err "empty --guest-channel" 2 "invalid --guest-channel" --guest-channel ''
expect_err "bad --max-pending" 2 "invalid --max-pending" --max-pending 3
expect_err "--guest-channel: nobody serves it" 1 "cannot tell which VM" --guest-channel "$TMP/nope.sock"
expect_err "--guest-channel: missing file" 1 "guest channel .*nope.hci" --vm $$ --guest-channel "$TMP/nope.hci"
mkdir -p "$TMP/d"
expect_err "--guest-channel: a directory" 1 "not a socket, FIFO, device or file" --vm $$ --guest-channel "$TMP/d"
expect_err "two channels with --vm" 1 "leave --vm out" --vm $$ --guest-channel a --guest-channel b
"$HCITRACE" guest --help >"$TMP/ghelp" 2>&1; rc=$?
is "guest --help exits 0" "$rc" 0
check "guest --help has examples and names the port" grep -q 'org.hcikit.trace.0' "$TMP/ghelp"
expect_err "guest: unknown option" 2 'unrecognized option' guest --bogus
expect_err "guest: bad --port" 2 "invalid --port" guest --port a/b
expect_err "guest: bad --buffer-kib" 2 "invalid --buffer-kib" guest --buffer-kib 1
expect_err "guest: positional" 2 "unexpected argument" guest foo
expect_err "guest: no port here" 1 "no virtio-serial port named 'hci.nope'" guest --port hci.nope
mkfifo "$TMP/fifo"
expect_err "guest: a FIFO without reader" 1 "needs its reader first" guest --channel "$TMP/fifo"

# guest mode on this host, to a file: the stream parses, and its requests are
# this host's (fio on a loop device)
setup_loop 64
"$HCITRACE" guest -d "$disk" --channel "$TMP/g.hci" -- fio --name=g --filename="/dev/$disk" \
	--direct=1 --rw=randread --bs=4k --size=32M --number_ios=300 --output=/dev/null \
	>"$TMP/gout" 2>"$TMP/gerr"; rc=$?
is "guest -- fio: exit status is fio's" "$rc" 0
check "guest: reports what it sent" grep -q '^hcitrace guest: 300 requests, 0 app records' "$TMP/gerr"
[ -s "$TMP/g.hci" ] && ok "guest: wrote the stream file" || not_ok "guest: wrote the stream file"

# ... and the host reads it back: every record valid, none joined (no VM here)
"$HCITRACE" --vm $$ --guest-channel "$TMP/g.hci" --duration 1 --json "$TMP/g.json" \
	>"$TMP/hout" 2>"$TMP/herr"; rc=$?
is "host reads a stream file: exit 0" "$rc" 0
check "host reads a stream file: 300 guest requests, no rejects, none matched" jqt \
	'.guests[0] | .counters.guest_requests == 300 and .counters.matched == 0 and
	 .counters.unmatched == 300 and ([.stream.rejects[]] | add) == 0' "$TMP/g.json"

# issue 12: hcithrottle and its commands answer -V, --usage and -h the same
# way, and its argument errors keep argp's words and exit 2
for cmd in "" run status reset; do
	info_checks "hcithrottle${cmd:+ $cmd}" 'config v1, decision log csv v1' "$HCITHROTTLE" $cmd
done
"$HCITHROTTLE" bogus >/dev/null 2>"$TMP/te"; rc=$?
is "hcithrottle bogus: exit 2" "$rc" 2
is "hcithrottle bogus: argp's two lines" "$(cat "$TMP/te")" \
	"hcithrottle: unknown command 'bogus': want run, status or reset
Try \`hcithrottle --help' or \`hcithrottle --usage' for more information."
"$HCITHROTTLE" run --duration 0 >/dev/null 2>"$TMP/te"; rc=$?
is "hcithrottle run --duration 0: exit 2" "$rc" 2
check "hcithrottle run --duration 0: says why" \
	grep -q "^hcithrottle run: invalid --duration '0': want seconds > 0$" "$TMP/te"
"$HCITHROTTLE" >/dev/null 2>"$TMP/te"; rc=$?
is "hcithrottle without a command: exit 2" "$rc" 2
check "hcithrottle without a command: says which" \
	grep -q '^hcithrottle: a command is needed: run, status or reset$' "$TMP/te"

done_testing
