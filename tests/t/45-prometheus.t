#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# hcitrace --listen scraped by a real Prometheus (Debian's package, run as
# a plain process with its own storage in $TMP) while fio runs in two
# cgroups, one named with a quote and a backslash; then Prometheus's HTTP
# API is asked what it got. Last, a slowloris client against --listen
# during "hcitrace 1": the interval lines keep coming every second, and
# the server cuts the slowloris off after 10 s. Then --prom-file with
# --metrics-idle: idle series leave the file, and are back at exit.
#
# Margins. The counters Prometheus stored are compared exactly (the last
# sample is the whole run), short only by the completions the kernel did
# not show hcitrace, which it counts lost at the end. increase() over a window holding the run is
# the first sample to the last, extrapolated by Prometheus to the window's
# edges. At the start, a series appears with the I/Os done before the
# first scrape that saw it: up to 2 s of them (hcitrace refreshes its text
# every second, Prometheus scrapes it every second), which increase() adds
# back only where it can tell the counter started near zero. At the end it
# extrapolates by at most 1.1 scrape intervals at the window's average
# rate. fio runs at a fixed rate, so the margin is 2.2 s of that rate
# either way (seen: +2% to +12% of N, from the end's extrapolation).
. "$(dirname "$0")/../lib.sh"
need_root
need_prometheus

RATE_A=1000 NA=10000	# reads, in the cgroup with the odd name
RATE_B=500 NB=5000	# writes, in a cgroup a rule calls container:bravo
MARGIN_A=$((RATE_A * 22 / 10)) MARGIN_B=$((RATE_B * 22 / 10))
setup_loop 64
make_cgroup "hcitest-$$-q\"b\\s"
ca=$CG
make_cgroup "hcitest-$$-b"
cb=$CG
origin_a="host:/hcitest-$$-q\"b\\s"

# listen_addr ERRFILE: the address hcitrace says it serves
listen_addr() { grep -o 'http://[0-9.:]*/metrics' "$1" | head -1 | sed 's|http://||; s|/metrics||'; }

# q PROMQL: the first result's value of an instant query, or "none"
q() {
	curl -sf --max-time 5 "http://$PADDR/api/v1/query" --data-urlencode "query=$1" \
		${QTIME:+--data-urlencode "time=$QTIME"} |
		jq -r '.data.result[0].value[1] // "none"'
}

# pq STRING: STRING as the inside of a PromQL string literal
pq() { local s=${1//\\/\\\\}; printf '%s' "${s//\"/\\\"}"; }
sel_a="origin=\"$(pq "$origin_a")\""
sel_b='origin="container:bravo"'

# job CGROUP RW N RATE JSON: N direct 4k I/Os at RATE a second, in CGROUP
job() {
	in_cgroup "$1" fio --name=j --filename="$dev" --direct=1 --rw="$2" --bs=4k --size=32M \
		--number_ios="$3" --io_size=$(($3 * 4))k --rate_iops="$4" --ioengine=psync \
		--output-format=json --output="$5"
}
# fio_ios JSON: the I/Os fio says it did
fio_ios() { jq '[.jobs[] | .read.total_ios + .write.total_ios] | add' "$1"; }

# 1. hcitrace --listen, then Prometheus scraping it every second
start_tracer "$TMP/a.out" "$TMP/a.err" -d "$disk" --listen 127.0.0.1:0 --csv "$TMP/a.csv" \
	--json "$TMP/a.json" --rule "/hcitest-$$-b=container:bravo" ||
	{ not_ok "hcitrace --listen starts"; diag "$(cat "$TMP/a.err")"; done_testing; exit 1; }
HADDR=$(listen_addr "$TMP/a.err")
check "hcitrace says where it serves ($HADDR)" test -n "$HADDR"
start_prometheus hcitrace "$HADDR"
PADDR=$PROM_ADDR
up=none
for _ in $(seq 300); do
	up=$(q 'up{job="hcitrace"}' 2>/dev/null)
	[ "$up" = 1 ] && break
	sleep 0.1
done
is "Prometheus scrapes hcitrace: up == 1" "$up" 1
[ "$up" = 1 ] || diag "$(tail -20 "$TMP/prom.log")"

# 2. the two jobs at fixed rates, then three more scrapes
t0=$(date +%s.%N)
job "$ca" randread $NA $RATE_A "$TMP/fio_a.json" &
ja=$!
job "$cb" randwrite $NB $RATE_B "$TMP/fio_b.json" &
jb=$!
wait $ja && wait $jb
is "fio ran" "$?" 0
NA=$(fio_ios "$TMP/fio_a.json") NB=$(fio_ios "$TMP/fio_b.json")
diag "fio did $NA and $NB I/Os"
sleep 3.5
t1=$(date +%s.%N)
QTIME=$t1
win=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", b - a + 3 }')s

last_a=$(q "sum(hcitrace_block_ios_total{$sel_a})")
last_b=$(q "sum(hcitrace_block_ios_total{$sel_b})")
count_a=$(q "sum(hcitrace_block_stage_seconds_count{$sel_a,stage=\"Q2C\"})")
for o in a b; do
	if [ $o = a ]; then sel=$sel_a n=$NA m=$MARGIN_A; else sel=$sel_b n=$NB m=$MARGIN_B; fi
	inc=$(q "sum(increase(hcitrace_block_stage_seconds_count{$sel,stage=\"Q2C\"}[$win]))")
	diag "origin $o: increase(..._count[$win]) = $inc, fio did $n (margin $m)"
	check "origin $o: sum(increase(_count[$win])) within $m of fio's $n" \
		awk -v g="$inc" -v n="$n" -v m="$m" 'BEGIN { exit !(g != "none" && g >= n - m && g <= n + m) }'
done

# 3. the scrapes were clean: every one up, target healthy, no error
check "every scrape in the window up: min_over_time(up[$win]) == 1" \
	test "$(q "min_over_time(up{job=\"hcitrace\"}[$win])")" = 1
curl -sf "http://$PADDR/api/v1/targets" > "$TMP/targets.json"
check "target health up, no scrape error" \
	jqt '.data.activeTargets[0] | .health == "up" and .lastError == ""' "$TMP/targets.json" ||
	diag "$(jq -c '.data.activeTargets[0] | {health, lastError}' "$TMP/targets.json")"
check "Prometheus has the label value with \" and \\ as the cgroup has it" \
	test "$(curl -sf "http://$PADDR/api/v1/label/origin/values" | jq -r --arg o "$origin_a" 'any(.data[]; . == $o)')" = true

# 4. histogram_quantile(0.99) lies in the bucket of the CSV's p99
kill -INT "$TRACER"
wait "$TRACER"
is "hcitrace exit status" "$?" 0
# The kernel skips our completion program for about 1 in 50000
# completions (21-counts.t): such a request sits in its slot, uncounted,
# until the end, where it is counted lost (completion_not_seen). So the
# live counts may be short by what the end counts lost, and by no more.
lost=$(jq '.lost | (.completion_not_seen // 0) + .completion_without_issue' "$TMP/a.json")
[ "$lost" = 0 ] || diag "completions the kernel did not show hcitrace: $lost"
# exact LABEL GOT WANT: GOT is WANT, or short by at most $lost
exact() {
	if [ "$2" != none ] && [ "$2" -le "$3" ] && [ $(($2 + lost)) -ge "$3" ]; then ok "$1"
	else not_ok "$1"; diag "got '$2', want '$3' (lost $lost)"; fi
}
exact "Prometheus has the odd cgroup's exact count, its name intact" "$last_a" "$NA"
exact "Prometheus has container:bravo's exact count" "$last_b" "$NB"
exact "the Q2C histogram's _count agrees" "$count_a" "$NA"
# the bucket where the cumulative count first reaches 99%, from the CSV
# (a field with a quote in it is quoted, its quotes doubled)
read -r lo hi < <(O=$origin_a perl -ne '
	chomp; my @f = map { s/^"(.*)"$/$1/s; s/""/"/g; $_ } /("(?:[^"]|"")*"|[^,]*)(?:,|$)/g;
	next unless $f[0] eq $ENV{O} && $f[3] eq "Q2C";
	push @b, [@f[4, 5, 6]]; $t += $f[6];
	END { for (sort { $a->[0] <=> $b->[0] } @b) { $s += $_->[2];
		if ($s >= 0.99 * $t) { print "$_->[0] $_->[1]\n"; last } } }' "$TMP/a.csv")
p99=$(q "histogram_quantile(0.99, sum by (le) (hcitrace_block_stage_seconds_bucket{$sel_a,stage=\"Q2C\"}))")
p99r=$(q "histogram_quantile(0.99, sum by (le) (increase(hcitrace_block_stage_seconds_bucket{$sel_a,stage=\"Q2C\"}[$win])))")
diag "CSV p99 bucket [$lo, $hi) us; Prometheus p99 ${p99} s (of increase: ${p99r} s)"
check "histogram_quantile(0.99) is inside the CSV p99's bucket" \
	awk -v v="$p99" -v lo="$lo" -v hi="$hi" 'BEGIN { exit !(v != "none" && v * 1e6 >= lo - 1e-6 && v * 1e6 <= hi + 1e-6) }'

unset QTIME
kill "$PROMPID" 2>/dev/null
wait "$PROMPID" 2>/dev/null

# 5. slowloris: 4 connections sending one byte a second, during "hcitrace 1"
mkfifo "$TMP/fifo"
perl -MTime::HiRes=time -ne 'BEGIN { $| = 1 } printf "%.3f %s", time, $_' < "$TMP/fifo" > "$TMP/b.out" &
STAMP=$!
on_exit "kill $STAMP 2>/dev/null"
: > "$TMP/b.err"
"$HCITRACE" 1 -d "$disk" --listen 127.0.0.1:0 --duration 15 > "$TMP/fifo" 2> "$TMP/b.err" &
TRACER=$!
on_exit "kill -9 $TRACER 2>/dev/null"
for _ in $(seq 1200); do grep -q 'Tracing block I/O' "$TMP/b.err" && break; sleep 0.05; done
HADDR=$(listen_addr "$TMP/b.err")
perl -MIO::Socket::INET -e '
	my @s = map { IO::Socket::INET->new(PeerAddr => $ARGV[0]) or die "connect: $!" } 1 .. 4;
	my $req = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " . ("a" x 100);
	for my $c (split //, $req) { syswrite($_, $c) for @s; sleep 1 }' "$HADDR" 2>"$TMP/slow.err" &
SLOW=$!
on_exit "kill $SLOW 2>/dev/null"
fio --name=bg --filename="$dev" --direct=1 --rw=randread --bs=4k --size=32M --time_based \
	--runtime=13 --rate_iops=2000 --ioengine=psync --output=/dev/null &
FIO=$!
on_exit "kill $FIO 2>/dev/null"
sleep 4
code=$(curl -s --max-time 2 -o "$TMP/m.txt" -w '%{http_code}' "http://$HADDR/metrics")
is "beside the slowloris, GET /metrics answers 200" "$code" 200
check "and has the counters" grep -q '^hcitrace_block_ios_total{' "$TMP/m.txt"
check "the slowloris is still connected (it holds a slot, not the loop)" kill -0 "$SLOW"
# a connection has 10 s per request (lib/fmt/httpd.h): the next publish
# after them cuts the four, and the slowloris dies on its next byte
sleep 8.5
check "the slowloris was cut off after its 10 s, hcitrace still running" \
	sh -c "! kill -0 $SLOW 2>/dev/null && kill -0 $TRACER"
is "hcitrace counts the four cut" \
	"$(curl -s --max-time 2 "http://$HADDR/metrics" | awk '$1 == "hcitrace_http_connections_cut_total" { print $2 }')" 4
wait "$TRACER"
is "hcitrace 1 exit status" "$?" 0
wait "$FIO"
kill "$SLOW" 2>/dev/null
wait "$STAMP"
gaps=$(awk '$2 ~ /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]$/ { if (t) printf "%.3f ", $1 - t; t = $1 }' "$TMP/b.out")
diag "gaps between interval lines (s): $gaps"
n=$(echo "$gaps" | wc -w)
check "at least 13 intervals in 15 s ($n gaps)" test "$n" -ge 12
max=$(echo "$gaps" | tr ' ' '\n' | sort -g | tail -1)
check "max gap ${max:-?} s < 1.5 s" awk -v m="${max:-9}" 'BEGIN { exit !(m < 1.5) }'

# 6. --prom-file and --metrics-idle: a series idle for 2 s leaves the file
# (and says so in hcitrace_series), and the file at exit has it again. The
# file is rewritten every second: the first text with the 200 is at most
# 1 s after fio, and the series stays in until 2 s after that text.
start_tracer "$TMP/c.out" "$TMP/c.err" -d "$disk" --prom-file "$TMP/c.prom" --metrics-idle 2 \
	--duration 7 || { not_ok "hcitrace --prom-file starts"; diag "$(cat "$TMP/c.err")"; }
fio_n "$dev" randread 200
sleep 1.2
check "the file has the series while it has I/O" grep -q '^hcitrace_block_ios_total{.*} 200$' "$TMP/c.prom"
sleep 3.5
check "idle for 2 s: left out" sh -c "! grep -q '^hcitrace_block_ios_total{' '$TMP/c.prom'"
check "and counted idle" grep -q '^hcitrace_series{state="idle"} 1$' "$TMP/c.prom"
wait "$TRACER"
is "hcitrace --prom-file exit status" "$?" 0
check "the file at exit has the run's totals, idle series too" \
	grep -q '^hcitrace_block_ios_total{.*} 200$' "$TMP/c.prom"
check "no temporary file left" test "$(ls -A "$TMP" | grep -c '^\.c\.prom')" = 0
done_testing
