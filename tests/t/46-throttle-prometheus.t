#!/bin/bash
# hcithrottle --listen, scraped by a real Prometheus (Debian's binary, its
# own TSDB in $TMP, scrape_interval 1s) during a contention run like
# 85-throttle.t's: a "vm" cgroup at QD16 and a "container" at QD1 on one
# model SSD (500 us, 4000 IOPS). The test polls the vm cgroup's read IOPS
# limit (blkio v1, as on this host) every 20 ms and then asks Prometheus's
# HTTP API: the cap gauge was > 0 while capped and each scraped value is one
# the cgroup held within the scrape's edge; the decisions counter grew; the
# target is up with no scrape error. --prom-file is checked at exit.
#
# The edge: a scrape at time t reads the text of the last decision interval
# before t (100 ms here), whose caps are the ones the kernel has from then
# until the next write; the poll sees the file every ~20 ms. So a scraped
# value must appear in the poll during [t - 600 ms, t + 300 ms]: one
# interval and the poll's step, with room for a loaded machine that delays
# the loop or the poll by a few intervals; Prometheus stamps a scrape when
# it starts it, before the text is read, hence the 300 ms after.
. "$(dirname "$0")/../lib.sh"
need_root
[ -d "$BLKIO" ] || skip_all "no cgroup v1 blkio hierarchy here (the v2 path runs in the guest)"
need_prometheus

setup_model_ssd 500 4000 1024
throttle_cgroups hcitest46

# api PATH [curl args]: Prometheus's HTTP API, JSON on stdout
api() { local p=$1; shift; curl -sf --max-time 5 "http://$PROM_ADDR/api/v1/$p" "$@"; }
# query PROMQL [TIME]: an instant query's result array
query() {
	api query --data-urlencode "query=$1" ${2:+--data-urlencode "time=$2"} | jq -c '.data.result'
}

mkdir -p "$TMP/textfile"
conf=$TMP/t.conf
cat > "$conf" <<EOF
version = 1
interval = 100ms
backend = cgroup
device = $disk
rule = /hcitest46-vm=vm:testvm
rule = /hcitest46-ct=container:db
container = container:db min_iops=800
vm = vm:* floor_iops=200
healthy_intervals = 5
state = $TMP/run/state
log = $TMP/decisions.csv
EOF

start_hcithrottle "$TMP/d.err" "$conf" --listen 127.0.0.1:0 \
	--prom-file "$TMP/textfile/hcithrottle.prom" ||
	{ not_ok "hcithrottle run started"; diag "$(cat "$TMP/d.err")"; done_testing; exit 1; }
ok "hcithrottle run --listen started"
where=$(sed -n 's|.*metrics on http://\([^/]*\)/metrics.*|\1|p' "$TMP/d.err")
diag "hcithrottle serves http://$where/metrics"
check "it says where it listens, on localhost" grep -q '^127\.0\.0\.1:[1-9][0-9]*$' <<<"$where"

start_prometheus hcithrottle "$where"
target_up() {
	for _ in $(seq 150); do
		[ "$(api targets | jq -r '.data.activeTargets[0].health' 2>/dev/null)" = up ] &&
			return 0
		sleep 0.1
	done
	return 1
}
check "Prometheus scrapes hcithrottle: target up" target_up ||
	diag "$(tail -5 "$TMP/prom.log")" "$(api targets)"

# poll_cap: the vm cgroup's read IOPS limit, "epoch_seconds value" every
# ~20 ms (a cap can last one 100 ms interval), with builtins only: the
# time as the file is read, and a read timeout on a pipe that never has
# data as the sleep
poll_cap() {
	local line v nap
	exec {nap}<> <(:)
	while :; do
		v=0
		while read -r line; do
			[ "${line%% *}" = "$mm" ] && v=${line#* }
		done < "$VMCG/blkio.throttle.read_iops_device"
		echo "$EPOCHREALTIME $v"
		read -r -t 0.02 -u "$nap" || true
	done
}
poll_cap > "$TMP/cap.log" &
POLL=$!
on_exit "kill $POLL 2>/dev/null"

t_start=$EPOCHREALTIME
in_cgroup "$VMCG" fio --name=vm --filename="$dev" --direct=1 --rw=randread --bs=4k \
	--offset=512M --size=256M --runtime=8 --time_based --ioengine=libaio --iodepth=16 \
	--output=/dev/null 2>/dev/null &
VMPID=$!
on_exit "kill $VMPID 2>/dev/null"
in_cgroup "$CTCG" fio --name=ct --filename="$dev" --direct=1 --rw=randread --bs=4k \
	--size=256M --runtime=8 --time_based --ioengine=psync --output=/dev/null 2>/dev/null &
CTPID=$!
on_exit "kill $CTPID 2>/dev/null"
wait $VMPID $CTPID
t_end=$EPOCHREALTIME
sleep 2.5		# two more scrapes: the last interval's text is in
kill $POLL
wait $POLL 2>/dev/null
ncaps=$(awk '$2 > 0' "$TMP/cap.log" | wc -l)
diag "cgroup polled $(wc -l < "$TMP/cap.log") times, $ncaps with a limit; $(grep -c \
	',cap,vm:testvm' "$TMP/decisions.csv") caps and $(grep -c ',lift,vm:testvm' \
	"$TMP/decisions.csv") lifts logged"
check "the vm was capped in its cgroup during contention" test "$ncaps" -gt 0

# every scraped sample of the cap gauge during the run, "epoch value" lines
range=$(awk -v a="$EPOCHREALTIME" -v b="$t_start" 'BEGIN { printf "%d", a - b + 5 }')
query "hcithrottle_cap_iops{job=\"hcithrottle\",origin=\"vm:testvm\",op=\"read\",device=\"$disk\"}[${range}s]" |
	jq -r '.[0].values[]? | "\(.[0]) \(.[1])"' > "$TMP/scraped.log"
nscraped=$(wc -l < "$TMP/scraped.log")
npos=$(awk '$2 > 0' "$TMP/scraped.log" | wc -l)
diag "Prometheus holds $nscraped samples of the cap gauge, $npos of them > 0"
check "the cap gauge was > 0 during the capped phase" test "$npos" -gt 0
# each scraped value against what the cgroup held around its timestamp
check "each scraped cap equals the cgroup's limit within the scrape's edge" awk '
	NR == FNR { pt[++np] = $1; pv[np] = $2; next }
	$1 >= ts && $1 <= te {
		n++; hit = 0
		for (i = 1; i <= np; i++)
			if (pt[i] >= $1 - 0.6 && pt[i] <= $1 + 0.3 && pv[i] == $2) { hit = 1; break }
		if (hit) ok++
		else printf "# scraped %s at %.3f: not in the cgroup within the edge\n", $2, $1
	}
	END { printf "# %d scraped samples during contention, %d matched\n", n, ok
	      exit !(n >= 3 && ok == n) }' "$TMP/cap.log" ts="$t_start" te="$t_end" "$TMP/scraped.log"

# the decisions counter: absent or lower before, higher at the end
dec_q="sum(hcithrottle_decisions_total{job=\"hcithrottle\",origin=\"vm:testvm\",kind=\"cap\"})"
before=$(query "$dec_q" "$t_start" | jq -r '.[0].value[1] // "0"')
after=$(query "$dec_q" | jq -r '.[0].value[1] // "0"')
logged=$(grep -c ',cap,vm:testvm' "$TMP/decisions.csv")
diag "cap decisions: $before before contention, $after at the end, $logged in the log"
check "the decisions counter increased (cap, vm:testvm)" awk -v a="$before" -v b="$after" \
	'BEGIN { exit !(b > a) }'
check "it counts no more than the decision log has" test "${after%.*}" -le "$logged"
check "the decisions carry a reason class (min_iops)" test "$(query \
	"hcithrottle_decisions_total{job=\"hcithrottle\",kind=\"cap\",reason=\"min_iops\"}" |
	jq length)" -gt 0

# the target: up, no scrape error, every sample accepted
api targets > "$TMP/targets.json"
is "target health" "$(jq -r '.data.activeTargets[0].health' "$TMP/targets.json")" up
is "no scrape error" "$(jq -r '.data.activeTargets[0].lastError' "$TMP/targets.json")" ""
is "up is 1 for the whole run" \
	"$(query "min_over_time(up{job=\"hcithrottle\"}[${range}s])" | jq -r '.[0].value[1]')" 1
samples=$(query 'scrape_samples_scraped{job="hcithrottle"}' | jq -r '.[0].value[1]')
diag "$samples samples per scrape"
# Prometheus's own counts of samples it refused (it does not scrape itself here)
curl -sf --max-time 5 "http://$PROM_ADDR/metrics" > "$TMP/prom-self.txt"
for m in prometheus_target_scrapes_sample_duplicate_timestamp_total \
	prometheus_target_scrapes_sample_out_of_order_total \
	prometheus_target_scrapes_sample_out_of_bounds_total \
	prometheus_target_scrapes_exceeded_sample_limit_total; do
	is "Prometheus: $m is 0" "$(awk -v m="$m" '$1 == m { print $2 }' "$TMP/prom-self.txt")" 0
done
check "the tracer's histograms are there (Q2C, the vm's reads)" test "$(query \
	"hcitrace_block_stage_seconds_count{job=\"hcithrottle\",origin=\"vm:testvm\",op=\"read\",stage=\"Q2C\"}" |
	jq -r '.[0].value[1] // 0')" -gt 0
p99=$(query "histogram_quantile(0.99, sum by (le) (increase(hcitrace_block_stage_seconds_bucket{job=\"hcithrottle\",origin=\"container:db\",op=\"read\",stage=\"Q2C\"}[${range}s])))" |
	jq -r '.[0].value[1] // "none"')
diag "the container's Q2C p99 over the run, from the scraped buckets: $p99 s"
check "histogram_quantile reads the buckets (0 < p99 < 1 s)" awk -v p="$p99" \
	'BEGIN { exit !(p + 0 > 0 && p + 0 < 1) }'
curl -sf --max-time 5 "http://$where/metrics" > "$TMP/metrics.txt"
check "promtool check metrics parses /metrics" sh -c \
	"promtool check metrics < '$TMP/metrics.txt' > '$TMP/lint' 2>&1 || ! grep -qiE 'error|parse' '$TMP/lint'"
[ -s "$TMP/lint" ] && diag "promtool: $(head -5 "$TMP/lint")"
is "anything but GET /metrics: 404" \
	"$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$where/")" 404

# --prom-file at exit: the caps put back, counted as restores
kill -TERM $DAEMON
wait $DAEMON
is "SIGTERM: exit 0" "$?" 0
pf=$TMP/textfile/hcithrottle.prom
check "--prom-file written" test -s "$pf"
check "--prom-file: no temporary file left" test "$(ls -A "$TMP/textfile")" = hcithrottle.prom
check "--prom-file at exit: the cap gauge is back to 0" grep -qE \
	"^hcithrottle_cap_iops\\{origin=\"vm:testvm\",origin_class=\"vm\",device=\"$disk\",op=\"read\"\\} 0\$" "$pf"
diag "at exit: $(grep -E '^hcithrottle_decisions_total\{.*kind="restore"' "$pf" || echo "no cap was in force to restore")"
check "--prom-file at exit: intervals counted" grep -qE '^hcithrottle_intervals_total [1-9]' "$pf"
check "--prom-file parses (promtool)" sh -c "promtool check metrics < '$pf' > '$TMP/lint2' 2>&1 ||
	! grep -qiE 'error|parse' '$TMP/lint2'"
is "no limit left in the vm cgroup" \
	"$(grep -c "^$mm " "$VMCG/blkio.throttle.read_iops_device")" 0
done_testing
