#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# make install DESTDIR=... PREFIX=...: exactly the files it should, with
# their modes, working (the programs run, the pages render, the completion
# loads through its link, the example config parses, systemd-analyze
# verify passes on the unit, whose paths follow PREFIX); make uninstall
# with the same variables removes every one of them and nothing else.
# The binaries are the suite's, installed as they are ($OUT, never rebuilt).
. "$(dirname "$0")/../lib.sh"
need_root
SRC=$(cd "$(dirname "$0")/../.." && pwd)
for b in hcitrace hcitrace-static hcithrottle; do
	[ -x "$OUT/$b" ] || skip_all "$OUT/$b is not built (make all)"
done
export LC_ALL=C

# mk TARGET VAR=VALUE...: make in the source tree with the suite's binaries,
# which make must take as they are (-o), whatever their sources' times, and
# none of the variables of a make test that runs this
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$SRC" --no-print-directory \
		O="$OUT" -o "$OUT/hcitrace" \
		-o "$OUT/hcitrace-static" -o "$OUT/hcithrottle" "$@"
}
# files DIR: every file and link under DIR, relative to it
files() { (cd "$1" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort); }
quiet() { "$@" >/dev/null 2>&1; }

D=$TMP/root
mk install DESTDIR="$D" PREFIX=/usr >"$TMP/out" 2>&1
rc=$?
is "make install DESTDIR PREFIX=/usr: rc" "$rc" 0
[ "$rc" = 0 ] || diag "$(tail -20 "$TMP/out")"

docs="README.md formats.md guest.md hcithrottle.md hcitrace.md"
for f in monitoring monitoring-throttle install; do
	[ -f "$SRC/docs/$f.md" ] && docs="$docs $f.md"
done
want=$( {
	printf '%s\n' usr/sbin/hcitrace usr/sbin/hcithrottle usr/lib/hcikit/hcitrace-static \
		usr/share/man/man8/hcitrace.8 usr/share/man/man8/hcithrottle.8 \
		usr/share/man/man5/hcithrottle.conf.5 usr/lib/systemd/system/hcithrottle.service \
		usr/share/bash-completion/completions/hcitrace \
		usr/share/bash-completion/completions/hcithrottle \
		usr/share/doc/hcikit/examples/hcithrottle.conf
	for f in $docs; do echo "usr/share/doc/hcikit/$f"; done
} | sort)
got=$(files "$D")
is "the installed files" "$got" "$want"
[ "$got" = "$want" ] || diag "$(diff <(echo "$want") <(echo "$got"))"

is "programs are 755" "$(stat -c %a "$D"/usr/sbin/* "$D"/usr/lib/hcikit/hcitrace-static | sort -u)" 755
is "pages, unit, completion, docs are 644" \
	"$(find "$D" -type f ! -path '*/sbin/*' ! -path '*/lib/hcikit/*' -printf '%m\n' | sort -u)" 644
check "the installed hcitrace runs" quiet "$D/usr/sbin/hcitrace" --version
check "the installed hcithrottle runs" quiet "$D/usr/sbin/hcithrottle" --version
check "the static hcitrace is static" bash -c '! ldd "$1" >/dev/null 2>&1' _ "$D/usr/lib/hcikit/hcitrace-static"
for p in man8/hcitrace.8 man8/hcithrottle.8 man5/hcithrottle.conf.5; do
	mandoc -T ascii "$D/usr/share/man/$p" 2>&1 | col -b >"$TMP/man"
	check "the installed $p renders" grep -q '^NAME' "$TMP/man" || diag "$(head -5 "$TMP/man")"
done
c=$D/usr/share/bash-completion/completions
is "completion: hcithrottle links to hcitrace" "$(readlink "$c/hcithrottle")" hcitrace
is "completion: loading it by either name registers both" \
	"$(bash -c '. "$1"; complete -p hcitrace hcithrottle' _ "$c/hcithrottle" 2>&1)" \
	"$(printf 'complete -F _hcikit_hcitrace hcitrace\ncomplete -F _hcikit_hcithrottle hcithrottle')"
"$D/usr/sbin/hcithrottle" status -c "$D/usr/share/doc/hcikit/examples/hcithrottle.conf" >/dev/null 2>"$TMP/err"
rc=$?
is "the example config parses (hcithrottle status -c: rc)" "$rc" 0
[ "$rc" = 0 ] || diag "$(cat "$TMP/err")"

# the unit: its programs where PREFIX put them, and systemd's own check
u=$D/usr/lib/systemd/system/hcithrottle.service
is "unit: ExecStart in SBINDIR" "$(grep '^ExecStart=' "$u")" \
	"ExecStart=/usr/sbin/hcithrottle run -c /etc/hcikit/hcithrottle.conf"
is "unit: ExecStartPre in SBINDIR" "$(grep '^ExecStartPre=' "$u")" \
	"ExecStartPre=/usr/sbin/hcithrottle reset -c /etc/hcikit/hcithrottle.conf"
check "unit: Documentation is an installed file" \
	test -f "$D$(sed -n 's|^Documentation=file://||p' "$u")"
if command -v systemd-analyze >/dev/null; then
	# verify checks that each command exists: point them into DESTDIR
	mkdir "$TMP/unit"
	sed "s|/usr/sbin/|$D/usr/sbin/|g" "$u" > "$TMP/unit/hcithrottle.service"
	out=$(systemd-analyze verify "$TMP/unit/hcithrottle.service" 2>&1)
	rc=$?
	is "systemd-analyze verify on the installed unit: rc" "$rc" 0
	is "systemd-analyze verify: no message" "$out" ""
else
	ok "# SKIP systemd-analyze is missing"
	ok "# SKIP systemd-analyze is missing"
fi

# uninstall takes exactly its own files
mkdir -p "$D/usr/sbin" && echo other > "$D/usr/sbin/other-tool"
mk uninstall DESTDIR="$D" PREFIX=/usr >"$TMP/out" 2>&1
is "make uninstall: rc" "$?" 0
is "after uninstall only the foreign file is left" "$(files "$D")" "usr/sbin/other-tool"
rm "$D/usr/sbin/other-tool"
is "after uninstall: no file, only empty directories" "$(files "$D")" ""
check "no hcikit directory is left" bash -c '! find "$1" -name hcikit | grep -q .' _ "$D"
mk uninstall DESTDIR="$D" PREFIX=/usr >"$TMP/out" 2>&1
is "make uninstall again: rc" "$?" 0

# the default PREFIX, /usr/local: the unit follows it
D=$TMP/root2
mk install DESTDIR="$D" >"$TMP/out" 2>&1
is "make install DESTDIR (PREFIX /usr/local): rc" "$?" 0
check "programs in /usr/local/sbin" test -x "$D/usr/local/sbin/hcitrace" -a -x "$D/usr/local/sbin/hcithrottle"
check "completion under /usr/local/share" test -f "$D/usr/local/share/bash-completion/completions/hcitrace"
is "unit: ExecStart in /usr/local/sbin" \
	"$(grep '^ExecStart=' "$D/usr/local/lib/systemd/system/hcithrottle.service")" \
	"ExecStart=/usr/local/sbin/hcithrottle run -c /etc/hcikit/hcithrottle.conf"
check "nothing outside PREFIX" bash -c '[ "$(ls -A "$1")" = usr ] && [ "$(ls -A "$1/usr")" = local ]' _ "$D"
mk uninstall DESTDIR="$D" >"$TMP/out" 2>&1
is "make uninstall (PREFIX /usr/local): no file left" "$(files "$D")" ""

echo "1..$_n"
exit $((_failed > 0))
