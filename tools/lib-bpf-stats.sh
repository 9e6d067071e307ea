# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The BPF run time of one tracer's own programs, for the benchmarks
# (tools/bench.sh, tools/bpf-ns-ab, tools/bpf-ns-vm): the programs are those
# whose fds process PID holds (prog_id in its /proc fdinfo), so that other
# tracers on the machine do not count. Needs kernel.bpf_stats_enabled=1.
# Sourced, not run.

# the prog ids process $1 holds, comma-separated
tracer_prog_ids() {
	# an fd may close while it is read: take what was read
	{ cat /proc/"$1"/fdinfo/* 2>/dev/null || true; } | awk '/^prog_id:/ { print $2 }' |
		sort -un | paste -sd,
}

# the run time (ns) of the programs that process $1 holds
bpf_ns() {
	bpftool prog show -j | jq --argjson ids "[$(tracer_prog_ids "$1")]" \
		'[.[] | select(.id as $i | $ids | index($i)) | .run_time_ns // 0] | add // 0'
}

# each program's run time (ns) and runs in process $1, as "name ns runs" lines
prog_ns() {
	bpftool prog show -j | jq -r --argjson ids "[$(tracer_prog_ids "$1")]" \
		'.[] | select(.id as $i | $ids | index($i)) | "\(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"'
}
