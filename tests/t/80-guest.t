#!/bin/bash
# The cross-layer join on a real guest: "hcitrace guest" runs inside a QEMU
# guest (TCG) and streams its block layer over virtio-serial; host hcitrace
# --guest-channel joins each guest request to the VMM request it caused and
# to its host bios. Checks: >= 99% matched at QD1 and QD32, reads and writes
# (cache=none); every matched request's stages are >= 0 within the reported
# clock uncertainty and sum to the guest-observed total; buffered app writes
# are accounted for at the app and guest block layers with their
# amplification; a guest that floods the channel with garbage and truncated
# frames costs reject counters, and the valid records are still joined.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../vm/lib-vm.sh"
need_root
need_vm

vm_image 80
VM_CHAN=$TMP/chan.sock

tracer=""
hook() {
	case $1 in
	ready)
		start_tracer "$TMP/$cfg.out" "$TMP/$cfg.err" -d "$disk" --guest-channel "$VM_CHAN" \
			--breakdown --csv "$TMP/$cfg.csv" --json "$TMP/$cfg.json" ${INTERVAL:-} ||
			{ not_ok "$cfg: hcitrace attached"; diag "$(cat "$TMP/$cfg.err")"; }
		tracer=$TRACER ;;
	result|done)
		if [ -n "$tracer" ]; then
			kill -INT "$tracer"
			wait "$tracer"
			echo $? > "$TMP/$cfg.rc"
		fi
		tracer="" ;;
	esac
}

# every matched request: stages >= -uncertainty; present stages sum to total;
# tax = total - device. Prints the offending rows, if any.
stage_check() {
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	function v(n) { return $(col[n "_us"]) }
	function has(n) { return $(col[n "_us"]) != "" }
	{
		u = $(col["clock_uncertainty_us"]) + 0.002; sum = 0
		split("guest notify vmm_submit host_queue device vmm_complete vmm_cached irq", st, " ")
		for (k in st) if (has(st[k])) {
			if (v(st[k]) < -u) { print "negative " st[k] ": " $0; bad++ }
			sum += v(st[k])
		}
		if ((sum - v("total")) > 0.01 || (v("total") - sum) > 0.01) { print "sum: " $0; bad++ }
		dev = has("device") ? v("device") : 0
		if ((v("total") - dev - v("tax")) > 0.002 || (v("tax") - v("total") + dev) > 0.002) {
			print "tax: " $0; bad++
		}
		n++
	}
	END { if (!n) print "no joined requests"; exit (bad || !n) }' "$1"
}

for cfg in qd1:threads:1:psync qd32:io_uring:32:libaio; do
	IFS=: read -r cfg aio qd engine <<<"$cfg"
	N=$(( qd == 1 ? 600 : 1500 ))
	# QD32 also runs in interval mode: volumes per interval add up
	INTERVAL=""
	[ "$qd" = 32 ] && INTERVAL=1
	vm_run "hcitest-join-$cfg" q35 "$aio" hook hci.n=$N hci.rw=randrw hci.qd=$qd \
		hci.engine=$engine hci.trace=1
	is "$cfg: guest fio ran" "$VM_RC" 0
	is "$cfg: host hcitrace exit status" "$(cat "$TMP/$cfg.rc" 2>/dev/null)" 0
	j=$TMP/$cfg.json
	check "$cfg: the guest's stream arrived whole (no rejects, gaps or drops)" jqt \
		'.guests[0] | .stream.frames > 0 and ([.stream.rejects[]] | add) == 0 and
		 .counters.guest_dropped == 0 and .counters.guest_missing == 0' "$j"
	check "$cfg: guest requests >= fio's $N, reads and writes" jqt --argjson n "$VM_IOS" \
		'.guests[0] | .counters.guest_requests >= $n and .stages.read.requests > 0 and
		 .stages.write.requests > 0' "$j"
	check "$cfg: >= 99% of guest requests matched to VMM requests" jqt \
		'.guests[0].counters | .matched >= 0.99 * .guest_requests' "$j"
	jq -c '.guests[0].counters' "$j" | sed 's/^/# /'
	jq -c '{host_lost: .lost | with_entries(select(.value != 0))}' "$j" | sed 's/^/# /'
	# cache=none: every matched request reached the host device
	check "$cfg: >= 99% of matched requests have host block stages" awk -F, \
		'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		 { n++; if ($(c["device_us"]) != "" && $(c["vmm_submit_us"]) != "") d++ }
		 END { exit !(n > 0 && d >= 0.99 * n) }' "$TMP/$cfg.join.csv"
	check "$cfg: clock offset known, uncertainty below 10 ms" jqt \
		'.guests[0].clock | .offset_us != null and .uncertainty_us != null and
		 .uncertainty_us < 10000 and .pairs > 0' "$j"
	jq -c '.guests[0].clock' "$j" | sed 's/^/# /'
	out=$(stage_check "$TMP/$cfg.join.csv")
	is "$cfg: stages >= 0 within the uncertainty, sum to the guest total" "$?" 0
	[ -n "$out" ] && diag "$(head -5 <<<"$out")"
	# over the run: an interval boundary can fall between a request's VMM
	# completion and its guest record's arrival. The VMM requests no guest
	# record claimed (the guest's own I/O before its tracer started, or one
	# its tracer lost) are in the VMM volumes and nowhere else: counted in
	# vmm_unmatched_bytes (at most: one that arrives as tracing ends is
	# counted unclaimed but after the last volumes). A host request the host
	# tracer lost (the kernel skips a completion program now and then, about
	# 1 in 50000) is in its loss counters: each at most one 4 KiB request
	# (fio bs=4k, blockalign=8k: no merges; the guest's stray I/O is smaller)
	check "$cfg: volumes: guest bytes <= VMM bytes <= guest + unclaimed VMM bytes, host bytes + lost >= VMM bytes" jqt \
		'([.lost | to_entries[] | .value] | add) as $lost |
		 .guests[0].counters.vmm_unmatched_bytes as $extra |
		 [.guests[0].volumes[]] as $v | [["read", "write"][] | . as $op |
		 {g: ([$v[][$op].guest_bytes] | add), m: ([$v[][$op].vmm_bytes] | add),
		  h: ([$v[][$op].host_bytes] | add)}] as $t |
		 all($t[]; .g > 0 and .m >= .g and .h + 4096 * $lost >= .m) and
		 ([$t[].m] | add) <= ([$t[].g] | add) + $extra' "$j" || {
		diag "$(jq -c '[.guests[0].volumes[]] as $v | ["read", "write"] | map(. as $op |
			{op: $op, guest: ([$v[][$op].guest_bytes] | add), vmm: ([$v[][$op].vmm_bytes] | add),
			 host: ([$v[][$op].host_bytes] | add)})' "$j")"
		diag "$(jq -c '[.histograms[] | {origin, device, op, ios, bytes}], .lost,
			.guests[0].counters' "$j")"
	}
	if [ -n "$INTERVAL" ]; then
		check "$cfg: volumes per interval: >= 2 intervals, requests add up to the total" \
			jqt '.guests[0] | (.volumes | length) >= 2 and
			 ([.volumes[].guest_requests] | add) == .counters.guest_requests' "$j"
		check "$cfg: volumes CSV: one 'all' row per interval" awk -F, -v n="$(jq \
			'.guests[0].volumes | length' "$j")" '$3 == "all" { k++ } END { exit k != n }' \
			"$TMP/$cfg.volumes.csv"
	fi
	check "$cfg: reordering measured over the matched requests" jqt \
		'[.guests[0].volumes[] | .pairs] | add > 0' "$j"
	check "$cfg: --breakdown prints the single-I/O picture for reads and writes" grep -q \
		'^  controller -> SSD' "$TMP/$cfg.out"
	check "$cfg: breakdown CSV has both ops at 4k" awk -F, \
		'$3 == "4k" && $4 == "total" { ops[$2] = 1 } END { exit !(ops["read"] && ops["write"]) }' \
		"$TMP/$cfg.breakdown.csv"
	check "$cfg: guest stage histograms in the histogram CSV" grep -q \
		",guest,read,guest.total," "$TMP/$cfg.csv"
	check "$cfg: plots: stacked breakdown and histograms as PNG" \
		"$(dirname "$0")/../../tools/hci-plot" "$TMP/$cfg.csv" "$TMP/plot-$cfg"
	for p in breakdown latency; do
		check "$cfg: $p.png is a PNG" bash -c \
			"head -c 8 '$TMP/plot-$cfg/$p.png' | od -An -tx1 | grep -q '89 50 4e 47'"
	done
done

# buffered app writes: 4096 writes of 1000 bytes through the guest page cache
cfg=buffered
INTERVAL=""
vm_run hcitest-join-buffered q35 threads hook hci.job=buffered hci.trace=1
is "$cfg: guest dd ran" "$VM_RC" 0
j=$TMP/$cfg.json
check "$cfg: app layer: exactly the 4096000 bytes dd wrote" jqt \
	'[.guests[0].volumes[].write.app_bytes] | add == 4096000' "$j"
check "$cfg: guest block layer wrote them back (whole pages, <= 1 MiB more)" jqt \
	'[.guests[0].volumes[].write.guest_bytes] | add | . >= 4096000 and . <= 4096000 + 1048576' "$j"
check "$cfg: amplification guest/app reported for writes" awk -F, \
	'$3 == "write" && $4 > 0 { if ($8 + 0 > 0.99 && $8 + 0 < 1.3) ok = 1 } END { exit !ok }' \
	"$TMP/$cfg.volumes.csv"
grep ',write,' "$TMP/$cfg.volumes.csv" | sed 's/^/# /'
check "$cfg: >= 99% of the writeback requests matched" jqt \
	'.guests[0].counters | .guest_requests > 0 and .matched >= 0.99 * .guest_requests' "$j"

# an untrusted guest: garbage, truncated frames and a flood on the same port
cfg=garbage
vm_run hcitest-join-garbage q35 threads hook hci.n=3000 hci.rw=randread hci.qd=1 \
	hci.engine=psync hci.trace=1 hci.garbage=1
is "$cfg: guest fio ran" "$VM_RC" 0
is "$cfg: host hcitrace survived and exited 0" "$(cat "$TMP/$cfg.rc" 2>/dev/null)" 0
j=$TMP/$cfg.json
check "$cfg: the flood and the garbage were skipped and counted" jqt \
	'.guests[0].stream.rejects | .skipped_bytes >= 1000000' "$j"
jq -c '.guests[0].stream' "$j" | sed 's/^/# /'
check "$cfg: rejects reported on stderr" grep -q "guest stream vm:.*rejected" "$TMP/$cfg.err"
check "$cfg: valid records still joined (>= 90% of fio's I/Os)" jqt --argjson n "$VM_IOS" \
	'.guests[0].counters.matched >= 0.9 * $n' "$j"
jq -c '.guests[0].counters' "$j" | sed 's/^/# /'

done_testing
