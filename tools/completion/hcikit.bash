# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# shellcheck shell=bash
#
# Bash completion for hcikit's programs: hcitrace (and its guest and report
# commands), hcithrottle (run, status, reset), and tools/hci-plot and
# hci-plot-throttle. Installed as completions/hcitrace, with hcithrottle a
# link to it, so that bash-completion loads it for either command.
#
# The options, and the kind of argument each takes, are read from the
# program's own --help (once per command and shell), so completion cannot
# fall behind the options. An option's argument is completed by its name in
# --help: DISK from /sys/block, CGROUP from the hierarchy hcitrace uses (the
# v1 blkio mount, else the cgroup2 mount, as lib/host/cgroups.c picks it),
# FILE and PATH as file names, CLASS[:NAME] as origin classes, PID|NAME as
# the running VMMs, NAME (the guest's port) from /sys/class/virtio-ports.
# The tests point _HCIKIT_MOUNTS and _HCIKIT_SYS at files of their own.

declare -gA _hcikit_help_cache

# _hcikit_options PROG [CMD]: "OPTION ARG" lines (ARG "-" for none) from
# PROG [CMD] --help: argp's option lines, "  -d, --disk=DISK" or "      --vmm"
_hcikit_options() {
	local key="$*" line opt arg
	if [[ -z ${_hcikit_help_cache[$key]+set} ]]; then
		_hcikit_help_cache[$key]=$(
			set -f	# "[:NAME]" is not a glob
			"$@" --help 2>&1 </dev/null |
				grep -E '^(  -[A-Za-z?](, |  |$)|      --[a-z])' |
				sed -E 's/^ +//; s/  .*//' |
				while IFS= read -r line; do
					arg=-
					[[ $line =~ =(.*)$ && $line != *'[='* ]] && arg=${BASH_REMATCH[1]}
					for opt in ${line//,/ }; do
						opt=${opt%%[=[]*}
						printf '%s %s\n' "$opt" "$arg"
					done
				done
		)
	fi
	printf '%s\n' "${_hcikit_help_cache[$key]}"
}

# _hcikit_cgroup_root: the mount point of the hierarchy with the io controller
_hcikit_cgroup_root() {
	awk '$3 == "cgroup" && ("," $4 ",") ~ /,blkio,/ { print $2; found = 1; exit }
		$3 == "cgroup2" && v2 == "" { v2 = $2 }
		END { if (!found && v2 != "") print v2 }' "${_HCIKIT_MOUNTS:-/proc/self/mounts}"
}

# _hcikit_cgroups CUR: cgroup paths relative to that root, one level at a time
_hcikit_cgroups() {
	local root cur=${1:-/} d
	root=$(_hcikit_cgroup_root)
	[[ -n $root ]] || return
	[[ $cur == /* ]] || cur=/$cur
	while IFS= read -r d; do
		[[ -n $d ]] && printf '%s\n' "${d#"$root"}"
	done < <(compgen -d -- "$root$cur")
	[[ $cur == / ]] && printf '/\n'
}

# _hcikit_vmms: the names (-name) and pids of running QEMU processes
_hcikit_vmms() {
	local p i comm
	local -a argv
	for p in "${_HCIKIT_PROC:-/proc}"/[0-9]*; do
		# a process may exit while this runs: say nothing
		read -r comm 2>/dev/null < "$p/comm" || continue
		[[ $comm == qemu* ]] || continue
		printf '%s\n' "${p##*/}"
		mapfile -d '' -t argv 2>/dev/null < "$p/cmdline" || continue
		for ((i = 0; i < ${#argv[@]} - 1; i++)); do
			[[ ${argv[i]} == -name ]] || continue
			i=$((i + 1))
			argv[i]=${argv[i]#guest=}
			printf '%s\n' "${argv[i]%%,*}"
		done
	done
}

# _hcikit_value ARG CUR: COMPREPLY for an option argument named ARG in --help
_hcikit_value() {
	local arg=$1 cur=$2 sys=${_HCIKIT_SYS:-/sys}
	case $arg in
	DISK)
		if [[ $cur == /* ]]; then
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$(ls "$sys/block" 2>/dev/null)" -- "$cur")
		fi ;;
	CGROUP)	# already matched to CUR, and names may hold spaces
		mapfile -t COMPREPLY < <(_hcikit_cgroups "$cur") ;;
	FILE | PATH)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
	'CLASS[:NAME]')
		mapfile -t COMPREPLY < <(compgen -W "vm container host" -- "$cur") ;;
	'PID|NAME')
		mapfile -t COMPREPLY < <(compgen -W "$(_hcikit_vmms)" -- "$cur") ;;
	NAME)
		mapfile -t COMPREPLY < <(compgen -W "org.hcikit.trace.0 $(cat "$sys"/class/virtio-ports/*/name 2>/dev/null)" -- "$cur") ;;
	*)
		COMPREPLY=() ;;	# numbers, durations, patterns, addresses
	esac
}

# _hcikit_complete PROG CMD FIRST: complete the word at COMP_CWORD, where
# PROG's options (CMD's, if CMD is not empty) start at word FIRST
_hcikit_complete() {
	local prog=$1 cmd=$2 first=$3 cur=${COMP_WORDS[COMP_CWORD]} prev="" opt="" pre=""
	local -a opts
	local i line arg
	for ((i = first; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -- ]]; then
			# a command to run under the tracer
			if declare -F _command_offset >/dev/null; then
				_command_offset $((i + 1))
			else
				mapfile -t COMPREPLY < <(compgen -c -- "$cur")
			fi
			return 0
		fi
	done
	((COMP_CWORD > first)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# the option whose argument this is: "--disk lo", "--disk=lo" split at
	# '=' by COMP_WORDBREAKS ("--disk" "=" "lo"), or left whole
	if [[ $cur == = ]]; then
		opt=$prev cur=""
	elif [[ $prev == = ]] && ((COMP_CWORD >= first + 2)); then
		opt=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == --*=* ]]; then
		opt=${cur%%=*} pre=$opt= cur=${cur#*=}
	else
		opt=$prev
	fi
	mapfile -t opts < <(_hcikit_options "$prog" ${cmd:+"$cmd"})
	if [[ $opt == -* ]]; then
		for line in "${opts[@]}"; do
			[[ ${line%% *} == "$opt" ]] || continue
			arg=${line#* }
			if [[ $arg != - ]]; then
				_hcikit_value "$arg" "$cur"
				[[ -n $pre ]] && COMPREPLY=("${COMPREPLY[@]/#/$pre}")
				return 0
			fi
		done
	fi
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(printf '%s\n' "${opts[@]%% *}")" -- "$cur")
		return 0
	fi
	COMPREPLY=()
	return 1
}

_hcikit_hcitrace() {
	local prog=${COMP_WORDS[0]}
	COMPREPLY=()
	if ((COMP_CWORD == 1)) && [[ ${COMP_WORDS[1]} != -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "guest report" -- "${COMP_WORDS[1]}")
		return
	fi
	case ${COMP_WORDS[1]} in
	guest) _hcikit_complete "$prog" guest 2 ;;
	report)
		_hcikit_complete "$prog" report 2 && return
		# the record file
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "${COMP_WORDS[COMP_CWORD]}") ;;
	*) _hcikit_complete "$prog" "" 1 ;;
	esac
}

_hcikit_hcithrottle() {
	local prog=${COMP_WORDS[0]} cmd="" w i
	local cmds="run status reset"
	COMPREPLY=()
	# the command word may come anywhere (hcithrottle -v run)
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		[[ " $cmds " == *" $w "* ]] && { cmd=$w; break; }
	done
	_hcikit_complete "$prog" "$cmd" 1 && return
	[[ -z $cmd ]] && mapfile -t COMPREPLY < <(compgen -W "$cmds" -- "${COMP_WORDS[COMP_CWORD]}")
}

# hci-plot FILE.csv [OUTDIR], hci-plot-throttle [FILE.json [OUT.png]]
_hcikit_plot() {
	local cur=${COMP_WORDS[COMP_CWORD]} ext
	COMPREPLY=()
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "-h --help" -- "$cur")
		return
	fi
	compopt -o filenames 2>/dev/null
	case ${COMP_WORDS[0]##*/}:$COMP_CWORD in
	hci-plot:1) ext=csv ;;
	hci-plot:2)
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return ;;
	hci-plot-throttle:1) ext=json ;;
	hci-plot-throttle:2) ext=png ;;
	*) return ;;
	esac
	mapfile -t COMPREPLY < <(compgen -d -- "$cur"; compgen -f -X "!*.$ext" -- "$cur")
}

complete -F _hcikit_hcitrace hcitrace
complete -F _hcikit_hcithrottle hcithrottle
complete -F _hcikit_plot hci-plot hci-plot-throttle
