#!/bin/bash
# The G and D points from the kernel's request stamps (rq->start_time_ns,
# rq->io_start_time_ns) instead of the block_getrq and block_rq_issue
# programs, and their fallbacks (lib/bpf/stamps.c): each gives every stage
# exactly when it happened, with exact counts. On the loop SSD with iostats
# and wbt on and no scheduler (both stamps: neither program loaded), with
# iostats off (block_getrq loaded), with wbt off (block_rq_issue loaded), and
# with mq-deadline (an I point, so G2I and I2D besides G2D; block_rq_issue
# loaded); on zram (bio-based: no G or D at all, only Q2C), with either.
. "$(dirname "$0")/../lib.sh"
need_root

N=2000
setup_loop 64
q=/sys/block/$disk/queue
on_exit "echo $(cat "$q/iostats") > $q/iostats; echo none > $q/scheduler;
	echo $(cat "$q/wbt_lat_usec") > $q/wbt_lat_usec"
echo none > "$q/scheduler"

# the names of the BPF programs process $1 holds
prog_names() {
	local ids
	ids=$(grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{ print $2 }' | sort -un |
		jq -s -c .)
	bpftool prog show -j | jq -r --argjson ids "$ids" '.[] | select(.id as $i | $ids | index($i)) | .name'
}

# run_case NAME: N direct 4k random reads at QD16 under hcitrace -v; leaves
# $TMP/NAME.csv, .json, .err and .progs (its programs, read while it runs)
run_case() {
	local name=$1
	start_tracer "$TMP/$name.out" "$TMP/$name.err" -v -d "$disk" --csv "$TMP/$name.csv" \
		--json "$TMP/$name.json" || { not_ok "$name: hcitrace attached"; return 1; }
	prog_names "$TRACER" > "$TMP/$name.progs"
	fio_n "$dev" randread "$N" --ioengine=libaio --iodepth=16
	kill -INT "$TRACER"
	wait "$TRACER"
}

# stages NAME STAGE...: each stage counts exactly N reads on the disk
stages() {
	local name=$1 s
	shift
	for s in "$@"; do
		is_count "$name: $s counts every read" "$(csv_count "$TMP/$name.csv" host:/ "$disk" read "$s")" \
			"$N" "$TMP/$name.err"
	done
}

absent() {
	local name=$1 s
	shift
	for s in "$@"; do
		check "$name: $s absent for every read" jqt --arg d "$disk" \
			--argjson n "$(csv_count "$TMP/$name.csv" host:/ "$disk" read Q2C)" \
			"[.histograms[] | select(.device == \$d and .op == \"read\") | .stages.$s.absent] | add == \$n" \
			"$TMP/$name.json"
	done
}

echo 1 > "$q/iostats"
run_case stamp
check "iostats on: G from the kernel's stamp" grep -q "G point: the kernel's request stamp" "$TMP/stamp.err"
check "wbt on, no scheduler: D from the kernel's stamp" \
	grep -q "D point: the kernel's dispatch stamp" "$TMP/stamp.err"
check "both stamps: neither block_getrq nor block_rq_issue is loaded" \
	bash -c "! grep -q -e '^hci_block_getrq' -e '^hci_block_rq_issue' '$TMP/stamp.progs'"
check "both stamps: the Q and C programs are" \
	bash -c "grep -q '^hci_block_bio_queue' '$TMP/stamp.progs' && grep -q '^hci_block_rq_complete' '$TMP/stamp.progs'"
stages stamp Q2G G2D D2C Q2C
absent stamp G2I I2D
check "both stamps: nothing lost" nothing_lost "$TMP/stamp.err"

echo 0 > "$q/iostats"
run_case fallback
check "iostats off: G from block_getrq" grep -q "G point: block_getrq: .*iostats off" "$TMP/fallback.err"
check "iostats off: block_getrq is loaded" grep -q '^hci_block_getrq' "$TMP/fallback.progs"
check "iostats off: D still from the kernel's stamp" \
	grep -q "D point: the kernel's dispatch stamp" "$TMP/fallback.err"
stages fallback Q2G G2D D2C Q2C
absent fallback G2I I2D
check "iostats off: nothing lost" nothing_lost "$TMP/fallback.err"
echo 1 > "$q/iostats"

wbt0=$(cat "$q/wbt_lat_usec")
echo 0 > "$q/wbt_lat_usec"
run_case nowbt
check "wbt off: D from block_rq_issue" grep -q "D point: block_rq_issue: .*wbt_lat_usec 0" "$TMP/nowbt.err"
check "wbt off: block_rq_issue is loaded" grep -q '^hci_block_rq_issue' "$TMP/nowbt.progs"
stages nowbt Q2G G2D D2C Q2C
absent nowbt G2I I2D
check "wbt off: nothing lost" nothing_lost "$TMP/nowbt.err"
echo "$wbt0" > "$q/wbt_lat_usec"

# a scheduler inserts every request: I is there, between G and D
echo 1 > "$q/iostats"
echo mq-deadline > "$q/scheduler"
run_case sched
check "mq-deadline: G from the kernel's stamp" grep -q "G point: the kernel's request stamp" "$TMP/sched.err"
check "mq-deadline: D from block_rq_issue" grep -q "D point: block_rq_issue: .*scheduler" "$TMP/sched.err"
stages sched Q2G G2I I2D G2D D2C Q2C
echo none > "$q/scheduler"

Z=/sys/block/zram0
[ -e "$Z" ] || modprobe zram num_devices=1 2>/dev/null
if [ -e "$Z" ] && [ "$(cat "$Z/disksize")" = 0 ]; then
	echo 64M > "$Z/disksize"
	on_exit "echo 1 > $Z/reset"
	dd if=/dev/zero of=/dev/zram0 bs=1M count=32 oflag=direct status=none
	disk=zram0 dev=/dev/zram0
	run_case zram
	check "zram: bio-based disks do not need block_getrq" \
		grep -q "G point: the kernel's request stamp" "$TMP/zram.err"
	check "zram: nor block_rq_issue" grep -q "D point: the kernel's dispatch stamp" "$TMP/zram.err"
	stages zram Q2C
	absent zram Q2G G2D D2C
else
	diag "zram0 missing or in use: its cases did not run"
fi

done_testing
