#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The man pages (docs/man/): mandoc -T lint clean; each page's option list
# is the one the live --help prints, its examples are --help's, and
# hcithrottle.conf(5) lists the keys throttle/config.c reads. Both sides
# are extracted mechanically, so an option added to a program and not to
# its page (or the reverse) fails here, with the difference.
. "$(dirname "$0")/../lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
MAN=$SRC/docs/man
command -v mandoc >/dev/null || skip_all "mandoc is missing (make deps installs it)"
export LC_ALL=C

# lint PAGE: mandoc's messages down to style, but the cross-references it
# cannot resolve on this machine (btt(1), biosnoop(8) are not installed)
lint() {
	mandoc -T lint -W style "$1" 2>&1 |
		grep -v -e 'referenced manual not found' -e 'mandoc.db'
}

# help_opts CMD...: the option column of CMD --help, as "-d, --disk=DISK",
# sorted. argp indents an option line by 2 ("  -d, --disk") or 6 ("      --vmm");
# descriptions ("-name)" included) start at column 29, examples at 4 or 8.
help_opts() {
	"$@" --help 2>&1 | grep -E '^(  -[A-Za-z?](, |  |$)|      --[a-z])' |
		sed -E 's/^ +//; s/  .*//' | sort
}

# man_opts PAGE SECTION: the .It Fl tags under .Sh SECTION, written as
# --help writes them ("Fl d , Fl \-disk Ns = Ns Ar DISK" -> "-d, --disk=DISK")
man_opts() {
	awk -v s=".Sh $2" '$0 == s { on = 1; next } /^\.Sh / { on = 0 }
		on && /^\.It Fl / { print }' "$1" |
		sed -E 's/^\.It //; s/ Ns Op (.) Ns Ar ([^ ]+)/[\1\2]/g;
			s/ Ns (.) Ns Ar /\1/g; s/Fl \\-/--/g; s/Fl /-/g; s/ , /, /g' | sort
}

# same DESC FILE_A FILE_B: equal lists, or the difference (- page, + program)
same() {
	if diff -q "$2" "$3" >/dev/null; then
		ok "$1"
	else
		not_ok "$1"
		diag "$(diff "$2" "$3" | grep '^[<>]' | sed 's/^</page:   /; s/^>/program:/')"
	fi
}

# help_examples CMD...: the example commands of CMD --help, comments cut
# (an example continued with a backslash is one command)
help_examples() {
	"$@" --help 2>&1 | awk '/^EXAMPLES?:/ { on = 1; next } on && /^$/ { exit }
		on && cont { sub(/^ +/, ""); line = line " " $0 }
		on && !cont && /^    hci/ { sub(/^ +/, ""); line = $0 }
		on && line != "" { cont = sub(/ *\\$/, "", line)
			if (!cont) { sub(/ +#.*/, "", line); gsub(/  +/, " ", line); print line; line = "" } }'
}

# render PAGE: the page as text, spaces squeezed, for finding examples in it
# (a literal line continued with a backslash joined, as help_examples does)
render() {
	mandoc -T ascii "$1" | col -b | expand | sed -E ':a; /\\$/ { N; s/ *\\\n */ /; ba }' |
		sed -E 's/^ +//; s/  +/ /g'
}

for p in hcitrace.8 hcithrottle.8 hcithrottle.conf.5; do
	check "$p exists" test -s "$MAN/$p" || continue
	out=$(lint "$MAN/$p")
	is "$p: mandoc -T lint -W style is clean" "$out" ""
	for s in NAME SYNOPSIS DESCRIPTION FILES EXAMPLES 'SEE ALSO'; do
		check "$p has $s" grep -qx ".Sh $s" "$MAN/$p"
	done
done
for p in hcitrace.8 hcithrottle.8; do
	for s in OPTIONS 'EXIT STATUS' SIGNALS; do
		check "$p has $s" grep -qx ".Sh $s" "$MAN/$p"
	done
done

# PAGE SECTION | the command whose --help that section lists
while IFS='|' read -r page sect cmd; do
	man_opts "$MAN/$page" "$sect" > "$TMP/man"
	help_opts $cmd > "$TMP/help"
	check "$page $sect: --help lists options" test -s "$TMP/help"
	same "$page $sect = ${cmd##*/} --help ($(wc -l < "$TMP/help") options)" \
		"$TMP/man" "$TMP/help"
done <<EOF
hcitrace.8|OPTIONS|$HCITRACE
hcitrace.8|GUEST MODE|$HCITRACE guest
hcitrace.8|REPORT MODE|$HCITRACE report
hcithrottle.8|OPTIONS|$HCITHROTTLE
EOF

# hcithrottle --help lists every option of its commands, and only those
for c in run status reset; do help_opts "$HCITHROTTLE" $c; done | sort -u > "$TMP/cmds"
help_opts "$HCITHROTTLE" > "$TMP/top"
same "hcithrottle --help = its commands' --help together" "$TMP/top" "$TMP/cmds"

# every example of every --help is in the page
while IFS='|' read -r page cmd; do
	render "$MAN/$page" > "$TMP/text"
	n=0 miss=()
	while read -r ex; do
		n=$((n + 1))
		grep -qxF -- "$ex" "$TMP/text" || miss+=("$ex")
	done < <(help_examples $cmd)
	check "${cmd##*/} --help has examples" test "$n" -gt 0
	is "$page has the $n examples of ${cmd##*/} --help" "${miss[*]:-}" ""
done <<EOF
hcitrace.8|$HCITRACE
hcitrace.8|$HCITRACE guest
hcitrace.8|$HCITRACE report
hcithrottle.8|$HCITHROTTLE
hcithrottle.8|$HCITHROTTLE run
hcithrottle.8|$HCITHROTTLE status
hcithrottle.8|$HCITHROTTLE reset
EOF

# hcithrottle.conf(5) "Keys" = the key table of throttle/config.c
awk '/^\.Ss Keys$/ { on = 1; next } /^\.(Ss|Sh) / { on = 0 }
	on && /^\.It Cm / { print $3 }' "$MAN/hcithrottle.conf.5" | sort > "$TMP/man"
sed -n '/key_names\[[A-Z_]*\] *=/,/^};/p' "$SRC/throttle/config.c" |
	grep -oE '= "[a-z_]+"' | grep -oE '[a-z_]+' | sort > "$TMP/keys"
check "throttle/config.c has a key table" test -s "$TMP/keys"
same "hcithrottle.conf.5 Keys = throttle/config.c's keys ($(wc -l < "$TMP/keys"))" \
	"$TMP/man" "$TMP/keys"

# the example configuration parses: status reads the file and exits 2 on
# any FILE:LINE error
"$HCITHROTTLE" status -c "$SRC/tools/hcithrottle.conf.example" >/dev/null 2>"$TMP/err"
rc=$?
is "tools/hcithrottle.conf.example parses (status rc)" "$rc" 0
[ "$rc" = 0 ] || diag "$(cat "$TMP/err")"
# and so does it with its commented-out keys in force
sed -E 's/^#(listen|prom_file) = /\1 = /' "$SRC/tools/hcithrottle.conf.example" > "$TMP/all.conf"
"$HCITHROTTLE" status -c "$TMP/all.conf" >/dev/null 2>"$TMP/err"
rc=$?
is "the example with listen and prom_file parses" "$rc" 0
[ "$rc" = 0 ] || diag "$(cat "$TMP/err")"

echo "1..$_n"
exit $((_failed > 0))
