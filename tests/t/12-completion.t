#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Bash completion (tools/completion/hcikit.bash), sourced into this shell and
# driven as bash drives it: COMP_WORDS and COMP_CWORD set, the registered
# function called, COMPREPLY checked. Options against the live --help,
# commands against the programs' command tables, disks against /sys/block,
# cgroups in the mounted hierarchies (v1 blkio and cgroup2) and in made-up
# ones, VMMs in a made-up /proc.
. "$(dirname "$0")/../lib.sh"
need_root
SRC=$(cd "$(dirname "$0")/../.." && pwd)
export LC_ALL=C

# shellcheck source=../../tools/completion/hcikit.bash
. "$SRC/tools/completion/hcikit.bash" 2>"$TMP/src.err"
is "the completion sources without a message" "$(cat "$TMP/src.err")" ""
registered() { complete -p "$1" >/dev/null 2>&1; }
for c in hcitrace hcithrottle hci-plot hci-plot-throttle; do
	check "complete -p $c is registered" registered "$c"
done

# comp WORD...: what completing the last WORD offers, sorted, one per line
# (the first WORD is the program as typed: its path, or a name)
comp() {
	local f
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	f=$(complete -p "$(basename "$1")" | sed -E 's/.*-F ([^ ]+) .*/\1/')
	"$f" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}"
	printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort
}
list() { printf '%s\n' "$@" | sort; }
# long_opts CMD...: the long options of CMD --help, sorted
long_opts() {
	"$@" --help 2>&1 | grep -E '^(  -[A-Za-z?](, |  |$)|      --[a-z])' |
		grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}
T=$HCITRACE H=$HCITHROTTLE

# commands: the programs' own tables
want=$(sed -n '/trace_cmds\[\] *=/,/^};/p' "$SRC/trace/main.c" | grep -oE '\{ "[a-z]+"' |
	grep -oE '[a-z]+' | sort)
is "hcitrace <TAB>: the commands of trace/main.c" "$(comp "$T" "")" "$want"
is "hcitrace g<TAB>: guest" "$(comp "$T" g)" "guest"
want=$(sed -n '/commands\[\] *=/,/^};/p' "$SRC/throttle/main.c" | grep -oE '\{ "[a-z]+"' |
	grep -oE '[a-z]+' | sort)
is "hcithrottle <TAB>: the commands of throttle/main.c" "$(comp "$H" "")" "$want"
is "hcithrottle -v r<TAB>: the command after an option" "$(comp "$H" -v r)" "$(list reset run)"
is "hcithrottle run <TAB>: no second command" "$(comp "$H" run "")" ""

# options: the live --help of each command
is "hcitrace --<TAB>: hcitrace --help's long options" "$(comp "$T" --)" "$(long_opts "$T")"
is "hcitrace guest --<TAB>: its own" "$(comp "$T" guest --)" "$(long_opts "$T" guest)"
is "hcitrace report --<TAB>: its own" "$(comp "$T" report --)" "$(long_opts "$T" report)"
for c in run status reset; do
	is "hcithrottle $c --<TAB>: its own" "$(comp "$H" $c --)" "$(long_opts "$H" $c)"
done
is "hcithrottle --<TAB> before a command: the top help's" "$(comp "$H" --)" "$(long_opts "$H")"
check "hcitrace -<TAB> offers -d and -H" bash -c 'grep -qx -- -d <<<"$1" && grep -qx -- -H <<<"$1"' _ "$(comp "$T" -)"
is "hcitrace --ma<TAB>" "$(comp "$T" --ma)" "$(list --max-keys --max-pending)"
is "hcithrottle run --d<TAB>" "$(comp "$H" run --d)" "$(list --dry-run --duration)"
is "hcithrottle status --d<TAB>: status has neither" "$(comp "$H" status --d)" ""

# disks: /sys/block, in every form an option's argument takes
disks=$(ls /sys/block | sort)
is "hcitrace -d <TAB>: /sys/block" "$(comp "$T" -d "")" "$disks"
is "hcitrace --disk <TAB>: /sys/block" "$(comp "$T" --disk "")" "$disks"
lo=$(ls /sys/block | grep '^lo' | sort)
is "hcitrace --disk=lo<TAB> (split at =)" "$(comp "$T" --disk = lo)" "$lo"
is "hcitrace --disk=<TAB> (split at =)" "$(comp "$T" --disk =)" "$disks"
is "hcitrace --disk=lo<TAB> (one word)" "$(comp "$T" --disk=lo)" "$(sed 's/^/--disk=/' <<<"$lo")"
is "hcitrace guest -d <TAB>: /sys/block" "$(comp "$T" guest -d "")" "$disks"
mkdir -p "$TMP/sys/block/nvme0n1" "$TMP/sys/block/sda" "$TMP/sys/class/virtio-ports/vport0p1"
echo org.example.other > "$TMP/sys/class/virtio-ports/vport0p1/name"
is "hcitrace -d <TAB> on another sysfs" "$(_HCIKIT_SYS=$TMP/sys comp "$T" -d "")" "$(list nvme0n1 sda)"
check "hcitrace -d /dev/lo<TAB>: device paths" bash -c '[ -n "$1" ] && ! grep -qv "^/dev/lo" <<<"$1"' _ "$(comp "$T" -d /dev/lo)"
is "hcitrace guest --port <TAB>: the ports" "$(_HCIKIT_SYS=$TMP/sys comp "$T" guest --port "")" \
	"$(list org.example.other org.hcikit.trace.0)"

# cgroups: the hierarchy hcitrace takes -c paths in (v1 blkio here)
root=$(_hcikit_cgroup_root)
check "a cgroup hierarchy is found ($root)" test -d "$root"
name=hcitest-comp-$$
mkdir "$root/$name" "$root/$name/child" && _cgroups=("$root/$name/child" "$root/$name" "${_cgroups[@]}")
is "hcitrace -c /hcitest-comp<TAB>: a new cgroup" "$(comp "$T" -c /hcitest-comp-$$)" "/$name"
is "hcitrace -c /$name/<TAB>: its child" "$(comp "$T" -c "/$name/")" "/$name/child"
is "hcitrace --cgroup=/$name/c<TAB> (split at =)" "$(comp "$T" --cgroup = "/$name/c")" "/$name/child"
check "hcitrace -c <TAB>: the root and the new cgroup" bash -c 'grep -qx / <<<"$1" && grep -qx "/$2" <<<"$1"' _ "$(comp "$T" -c "")" "$name"
# the mounted cgroup2 hierarchy, as hcitrace takes it where no v1 blkio is mounted
v2=$(awk '$3 == "cgroup2" { print; exit }' /proc/self/mounts)
if [ -n "$v2" ]; then
	echo "$v2" > "$TMP/mounts.v2"
	v2root=$(awk '{ print $2 }' "$TMP/mounts.v2")
	mkdir "$v2root/$name" && _cgroups=("$v2root/$name" "${_cgroups[@]}")
	is "cgroup2 only: the root is its mount" "$(_HCIKIT_MOUNTS=$TMP/mounts.v2 _hcikit_cgroup_root)" "$v2root"
	is "cgroup2 only: hcitrace -c /hcitest-comp<TAB>" \
		"$(_HCIKIT_MOUNTS=$TMP/mounts.v2 comp "$T" -c /hcitest-comp-$$)" "/$name"
else
	ok "# SKIP no cgroup2 mount"
	ok "# SKIP no cgroup2 mount"
fi
# a made-up cgroup2 host (v1 blkio before it would win)
mkdir -p "$TMP/cg2/machine.slice/machine-qemu.scope" "$TMP/cg2/tenants"
printf 'cgroup2 %s cgroup2 rw 0 0\ncgroup %s cgroup rw,blkio 0 0\n' "$TMP/cg2" "$TMP/nope" > "$TMP/mounts"
is "the first hierarchy with the io controller" "$(_HCIKIT_MOUNTS=$TMP/mounts _hcikit_cgroup_root)" "$TMP/nope"
printf 'cgroup2 %s cgroup2 rw 0 0\ncgroup /x cgroup rw,cpu 0 0\n' "$TMP/cg2" > "$TMP/mounts"
is "made-up cgroup2: -c <TAB>" "$(_HCIKIT_MOUNTS=$TMP/mounts comp "$T" -c "")" \
	"$(list / /machine.slice /tenants)"
is "made-up cgroup2: -c /machine.slice/<TAB>" \
	"$(_HCIKIT_MOUNTS=$TMP/mounts comp "$T" -c /machine.slice/)" "/machine.slice/machine-qemu.scope"

# other arguments
is "hcitrace --origin <TAB>: the classes" "$(comp "$T" --origin "")" "$(list container host vm)"
is "hcitrace report --origin v<TAB>" "$(comp "$T" report --origin v)" "vm"
mkdir -p "$TMP/proc/4242" "$TMP/proc/4243"
echo qemu-system-x86 > "$TMP/proc/4242/comm"
printf 'qemu-system-x86_64\0-name\0guest=web1,debug-threads=on\0-m\0512\0' > "$TMP/proc/4242/cmdline"
echo fio > "$TMP/proc/4243/comm"
printf 'fio\0-name\0notavm\0' > "$TMP/proc/4243/cmdline"
is "hcitrace --vm <TAB>: VMM pids and -names" "$(_HCIKIT_PROC=$TMP/proc comp "$T" --vm "")" "$(list 4242 web1)"
touch "$TMP/out.csv" "$TMP/out.json" "$TMP/run.hcr"
is "hcitrace --csv $TMP/out.c<TAB>: files" "$(comp "$T" --csv "$TMP/out.c")" "$TMP/out.csv"
is "hcitrace --record=$TMP/ru<TAB> (split at =)" "$(comp "$T" --record = "$TMP/ru")" "$TMP/run.hcr"
is "hcitrace report $TMP/ru<TAB>: the record file" "$(comp "$T" report "$TMP/ru")" "$TMP/run.hcr"
is "hcitrace --duration <TAB>: nothing to offer" "$(comp "$T" --duration "")" ""
is "hcitrace report --json <TAB> is a file, not an option" "$(comp "$T" report --json "$TMP/out.j")" "$TMP/out.json"
is "hcithrottle run -c $TMP/out.c<TAB>: files" "$(comp "$H" run -c "$TMP/out.c")" "$TMP/out.csv"
is "hcithrottle --config <TAB> before the command" "$(comp "$H" --config "$TMP/out.c")" "$TMP/out.csv"
check "hcitrace -- fi<TAB>: commands" bash -c 'grep -qx fio <<<"$1"' _ "$(comp "$T" -d loop0 -- fi)"
check "hcitrace guest -- fi<TAB>: commands" bash -c 'grep -qx fio <<<"$1"' _ "$(comp "$T" guest -- fi)"
is "hci-plot $TMP/out<TAB>: the CSV" "$(comp hci-plot "$TMP/out")" "$TMP/out.csv"
is "hci-plot-throttle $TMP/out<TAB>: the JSON" "$(comp hci-plot-throttle "$TMP/out")" "$TMP/out.json"

# with bash-completion's own loader, as an interactive shell has it
bc=/usr/share/bash-completion/bash_completion
if [ -r "$bc" ]; then
	got=$(bash -c '. "$1"; . "$2"; COMP_WORDS=("$3" -- fi); COMP_CWORD=2
		COMP_LINE="$3 -- fi"; COMP_POINT=${#COMP_LINE}; _hcikit_hcitrace
		printf "%s\n" "${COMPREPLY[@]}"' _ "$bc" "$SRC/tools/completion/hcikit.bash" "$T" 2>&1)
	check "with bash-completion loaded, -- fi<TAB> completes commands" grep -qx fio <<<"$got" ||
		diag "$got"
else
	ok "# SKIP bash-completion is not installed"
fi

echo "1..$_n"
exit $((_failed > 0))
