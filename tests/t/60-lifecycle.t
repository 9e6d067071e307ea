#!/bin/bash
# -- COMMAND returns the command's status; Ctrl-C and SIGTERM end cleanly and
# leave no BPF program attached; --duration, intervals and --per-request work.
. "$(dirname "$0")/../lib.sh"
need_root

setup_loop 64
before=$(our_progs)

"$HCITRACE" -d "$disk" -- sh -c 'exit 7' >/dev/null 2>&1
is "-- COMMAND: exit status 7 is passed through" "$?" 7
"$HCITRACE" -d "$disk" -- false >/dev/null 2>&1
is "-- false: exit status 1" "$?" 1
"$HCITRACE" -d "$disk" -- /no/such/command >/dev/null 2>"$TMP/err"
is "-- missing command: 127" "$?" 127
check "-- missing command: says why" grep -q "cannot run '/no/such/command'" "$TMP/err"

for sig in INT TERM; do
	wait_progs "$before" >/dev/null
	start_tracer "$TMP/out" "$TMP/err" -d "$disk"
	pid=$TRACER
	check "SIG$sig: programs attached while running" test "$(our_progs)" -gt "$before"
	fio_n "$dev" randread 100
	kill -$sig $pid
	wait $pid
	is "SIG$sig: clean exit 0" "$?" 0
	is "SIG$sig: no BPF program left" "$(wait_progs "$before")" "$before"
	check "SIG$sig: summary printed" grep -q "device $disk" "$TMP/out"
done

"$HCITRACE" -d "$disk" --duration 1 >"$TMP/out" 2>&1
is "--duration ends by itself" "$?" 0

"$HCITRACE" -d "$disk" 1 2 >"$TMP/out" 2>&1 &
pid=$!
sleep 0.3
fio_n "$dev" randread 500
wait $pid
is "INTERVAL COUNT ends after COUNT intervals" "$?" 0
is "two interval reports" "$(grep -cE '^[0-9]{2}:[0-9]{2}:[0-9]{2}$' "$TMP/out")" 2

N=400
"$HCITRACE" -d "$disk" -p --csv "$TMP/p.csv" --json "$TMP/p.json" -- \
	fio --name=p --filename="$dev" --direct=1 --rw=randwrite --bs=4k --size=32M \
	--number_ios=$N --ioengine=psync --output=/dev/null >"$TMP/out" 2>"$TMP/err"
is "--per-request: exit status" "$?" 0
is "--per-request: one line per request" "$(grep -c " $disk .*write" "$TMP/out")" $N
is "--per-request: CSV rows" "$(($(wc -l < "$TMP/p.requests.csv") - 1))" $N
check "--per-request: absent stages are empty, not 0" \
	awk -F, 'NR > 1 && $8 != "" { bad = 1 } END { exit bad }' "$TMP/p.requests.csv"
check "--per-request: JSON valid with $N requests" \
	jqt --argjson n $N '(.requests | length) == $n and .version == 1' "$TMP/p.json"
check "--per-request: D2C present for every request" \
	jqt 'all(.requests[]; .stages_us.D2C != null and .stages_us.I2D == null)' "$TMP/p.json"
# fio's job is a child of the fio we started, so its pid is not known here:
# every request carries one pid, fio's comm, in the text, the CSV and the JSON
check "--per-request: COMM fio and one PID on every line" awk -v d="$disk" \
	'$5 == d { n++; pid[$3] = 1; if ($2 != "fio" || $3 !~ /^[0-9]+$/) bad = 1 }
	 END { k = 0; for (p in pid) k++; exit bad || n == 0 || k != 1 }' "$TMP/out"
check "--per-request: CSV pid and comm" awk -F, \
	'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	 { if ($(c["comm"]) != "fio" || $(c["pid"]) !~ /^[0-9]+$/) bad = 1 } END { exit bad }' \
	"$TMP/p.requests.csv"
check "--per-request: JSON pid and comm" \
	jqt 'all(.requests[]; .comm == "fio" and (.pid | type) == "number" and .pid > 0)' "$TMP/p.json"

# full maps are counted, never silent: one histogram key for two (read, write)
"$HCITRACE" -d "$disk" --max-keys 1 --json "$TMP/k.json" -- fio --name=k --filename="$dev" \
	--direct=1 --rw=randrw --bs=4k --size=32M --number_ios=400 --ioengine=psync \
	--output=/dev/null >"$TMP/out" 2>"$TMP/err"
check "--max-keys 1: the dropped key is reported" grep -q 'histogram_keys_full=[1-9]' "$TMP/err"
check "--max-keys 1: JSON counts it" jqt '.lost.histogram_keys_full > 0' "$TMP/k.json"
check "--max-keys 1: ios kept + dropped = 400" jqt \
	'([.histograms[].ios] | add) + .lost.histogram_keys_full == 400' "$TMP/k.json"

# a tiny ring buffer overflows under -p: every request is printed or counted
N=3000
"$HCITRACE" -d "$disk" -p --ringbuf-kib 4 --json "$TMP/r.json" -- fio --name=r \
	--filename="$dev" --direct=1 --rw=randread --bs=4k --size=32M --number_ios=$N \
	--ioengine=libaio --iodepth=32 --output=/dev/null >"$TMP/out" 2>"$TMP/err"
printed=$(grep -c " $disk .*read" "$TMP/out")
lost=$(jq '.lost.ringbuf_full' "$TMP/r.json")
check "tiny ring buffer: losses are reported ($lost)" test "$lost" -gt 0
is "tiny ring buffer: printed + lost = $N" "$((printed + lost))" $N

is "no BPF program left at the end" "$(wait_progs "$before")" "$before"
done_testing
