#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The per-interval series (hcitrace 1 --csv): a fio run whose rate changes
# midway (2000 IOPS for 4 s, then 6000 for 4 s) shows the change in
# FILE.series.csv, interval by interval; the intervals add up to the whole
# run's histogram CSV exactly (I/O counts per stage, and bucket by bucket
# in FILE.heatmap.csv); the JSON's "series" has the file's numbers; and
# tools/hci-plot draws IOPS, p99 and the heatmap as PNG.
. "$(dirname "$0")/../lib.sh"
need_root

LO=2000 HI=6000 PHASE=4
setup_loop 64
# libaio at QD8, so that the rate, not one request's latency on a busy
# machine, sets the pace (fio runs at hcitrace's nice level)
cat >"$TMP/job.fio" <<EOF
[global]
filename=$dev
direct=1
rw=randread
bs=4k
size=32M
ioengine=libaio
iodepth=8
time_based=1
runtime=$PHASE
[slow]
rate_iops=$LO
[fast]
stonewall
rate_iops=$HI
EOF

csv=$TMP/s.csv
json=$TMP/s.json
"$HCITRACE" 1 -d "$disk" --csv "$csv" --json "$json" -- fio --output=/dev/null "$TMP/job.fio" \
	>"$TMP/out" 2>"$TMP/err"
is "exit status is fio's" "$?" 0
# (the kernel skips a completion program now and then: completion_not_seen,
# counted and said, is no failure here)
check "no error" bash -c "! grep -q '^Error' '$TMP/err'" || diag "$(cat "$TMP/err")"
check "series CSV header" grep -qx \
	'interval,time_s,duration_s,origin,device,op,layer,ios,iops,bytes,bytes_per_s,stage,count,p50_us,p99_us' \
	"$TMP/s.series.csv"
check "heatmap CSV header" grep -qx \
	'interval,time_s,origin,device,op,stage,bucket_lo_us,bucket_hi_us,count' "$TMP/s.heatmap.csv"

# The reads' IOPS by interval (Q2C rows: one per origin, device and op),
# all origins together, for the intervals of at least 0.9 s (the last one
# ends with tracing and is shorter).
awk -F, -v d="$disk" 'NR > 1 && $5 == d && $6 == "read" && $12 == "Q2C" && $3 >= 0.9 {
	iops[$1] += $9; if ($1 > n) n = $1 }
	END { for (i = 1; i <= n; i++) if (i in iops) print i, iops[i] }' \
	"$TMP/s.series.csv" >"$TMP/iops"
diag "IOPS by interval: $(tr '\n' ' ' <"$TMP/iops")"
# Within 10% of each rate: the intervals wholly inside a phase (the run's
# start and the change of job fall inside one interval each). Each 4 s
# phase holds at least 3 whole intervals; ask for 2 of each.
near() { awk -v r="$1" '$2 >= 0.9 * r && $2 <= 1.1 * r { print $1 }' "$TMP/iops"; }
nlo=$(near $LO | wc -l)
nhi=$(near $HI | wc -l)
check "at least 2 intervals at $LO IOPS (within 10%): $nlo" test "$nlo" -ge 2
check "at least 2 intervals at $HI IOPS (within 10%): $nhi" test "$nhi" -ge 2
check "the $LO IOPS intervals come before the $HI IOPS ones" \
	test "$(near $LO | tail -1)" -lt "$(near $HI | head -1)"
check "no interval above $HI IOPS + 10%" awk -v r=$HI '$2 > 1.1 * r { exit 1 }' "$TMP/iops"

# The intervals add up to the whole run exactly: per origin, device, op and
# stage the I/O counts, and per bucket the heatmap's counts.
awk -F, 'NR > 1 { n[$4 "," $5 "," $6 "," $12] += $13 }
	END { for (k in n) if (n[k]) print k "," n[k] }' "$TMP/s.series.csv" | sort >"$TMP/sum.series"
awk -F, 'NR > 1 { n[$1 "," $2 "," $3 "," $4] += $7 }
	END { for (k in n) print k "," n[k] }' "$csv" | sort >"$TMP/sum.hist"
check "series: per-interval counts add up to the histogram CSV's, per stage" \
	cmp -s "$TMP/sum.series" "$TMP/sum.hist" || diff "$TMP/sum.series" "$TMP/sum.hist" | diag
check "series: the reads are there ($(grep -c ',read,Q2C,' "$TMP/sum.hist") Q2C rows)" \
	grep -q ",$disk,read,Q2C," "$TMP/sum.hist"
awk -F, 'NR > 1 { n[$3 "," $4 "," $5 "," $6 "," $7 "," $8] += $9 }
	END { for (k in n) print k "," n[k] }' "$TMP/s.heatmap.csv" | sort >"$TMP/heat.sum"
tail -n +2 "$csv" | sort >"$TMP/hist.sorted"
check "heatmap: the intervals' buckets add up to the histogram CSV, bucket by bucket" \
	cmp -s "$TMP/heat.sum" "$TMP/hist.sorted" || diff "$TMP/heat.sum" "$TMP/hist.sorted" | diag
check "heatmap: its intervals are the series file's" cmp -s \
	<(tail -n +2 "$TMP/s.heatmap.csv" | cut -d, -f1-2 | sort -u) \
	<(tail -n +2 "$TMP/s.series.csv" | cut -d, -f1-2 | sort -u)

# The JSON's "series" holds the file's numbers, row by row and in order
# (numbers compared as numbers: jq prints 2000.000 as 2000).
num3() { awk -F, -v OFS=, '{ for (i = 1; i <= NF; i++) if ($i ~ /^-?[0-9]+(\.[0-9]+)?$/)
	$i = sprintf("%.3f", $i); print }'; }
jq -r '.series[] as $i | $i.rows[] as $r | $r.stages | to_entries[] |
	[$i.interval, $i.time_s, $i.duration_s, $r.origin, $r.device, $r.op, $r.layer,
	 $r.ios, $r.iops, $r.bytes, $r.bytes_per_s, .key, .value.count,
	 (.value.p50_us // ""), (.value.p99_us // "")] | map(tostring) | join(",")' "$json" |
	num3 >"$TMP/json.rows"
tail -n +2 "$TMP/s.series.csv" | num3 >"$TMP/csv.rows"
check "JSON series: the series file's rows, same numbers ($(wc -l <"$TMP/csv.rows") rows)" \
	cmp -s "$TMP/json.rows" "$TMP/csv.rows" || diff "$TMP/json.rows" "$TMP/csv.rows" | head | diag
check "JSON series: one item per interval, numbered from 1" \
	jqt '(.series | length) >= 8 and ([.series[].interval] == [range(1; (.series | length) + 1)])' \
	"$json"
check "JSON: series is the last key, the others keep their order" \
	jqt '[keys_unsorted[]] == ["format","version","bucket_unit","requests","vms","guests","histograms",
		"vmm","kvm","lost","series"]' "$json"
check "JSON: an absent stage is null in the series, never 0" \
	jqt '[.series[].rows[].stages.I2D | select(.count == 0) | .p99_us] | all(. == null)' "$json"

# the text's p99 of an interval is the series' (the text has 1 decimal):
# the first interval with I/O (fio may take more than a second to start;
# intervals without I/O print "(no I/O)" and have no Q2C line)
s=$(awk -F, -v d="$disk" '$5 == d && $6 == "read" && $12 == "Q2C" && !n++ { print $15 }' \
	"$TMP/s.series.csv")
t=$(awk '$1 == "Q2C" && !n++ { print $5 }' "$TMP/out")
check "the first interval's Q2C p99: $s us in the series, $t printed" \
	awk -v s="$s" -v t="$t" 'BEGIN { d = s - t; exit !(s != "" && d <= 0.05 && d >= -0.05) }'

# hci-plot: the three new plots from the series, as PNG
plot() { "$(dirname "$0")/../../tools/hci-plot" "$csv" "$TMP/plot" >"$TMP/plot.out" 2>&1; }
check "hci-plot draws the series" plot || diag "$(cat "$TMP/plot.out")"
for p in iops p99 heatmap; do
	check "$p.png is a PNG" bash -c \
		"head -c 8 '$TMP/plot/$p.png' | od -An -tx1 | grep -q '89 50 4e 47'"
done

# no interval, no series: the same files as before
"$HCITRACE" -d "$disk" --csv "$TMP/n.csv" --json "$TMP/n.json" -- fio --name=n --filename="$dev" \
	--direct=1 --rw=randread --bs=4k --size=32M --number_ios=500 --output=/dev/null \
	>/dev/null 2>&1
check "without an interval: no series file" test ! -e "$TMP/n.series.csv" -a ! -e "$TMP/n.heatmap.csv"
check "without an interval: no series in the JSON" jqt 'has("series") | not' "$TMP/n.json"

done_testing
