#!/bin/bash
# fio issues exactly N direct 4k I/Os: D2C and Q2C count exactly N for that
# disk and origin, for reads and for writes, with tp_btf and with raw_tp
# (N reported + lost: the kernel's rare skipped completion is counted lost,
# tests/lib.sh is_count).
. "$(dirname "$0")/../lib.sh"
need_root

N=2000
setup_loop 64
make_cgroup "hcitest-$$-exact"
cg=$CG
origin="host:/hcitest-$$-exact"

for variant in tp_btf raw_tp; do
	extra=()
	[ "$variant" = raw_tp ] && extra=(--raw-tp)
	for rw in randread randwrite; do
		op=${rw#rand}
		csv=$TMP/$variant-$rw.csv
		"$HCITRACE" "${extra[@]}" -d "$disk" --csv "$csv" --json "$TMP/$variant-$rw.json" \
			-- "$(command -v sh)" -c "echo \$\$ > $cg/cgroup.procs && exec fio --name=x --filename=$dev --direct=1 --rw=$rw --bs=4k --size=32M --number_ios=$N --ioengine=libaio --iodepth=16 --output=/dev/null" \
			>"$TMP/out" 2>"$TMP/err"
		rc=$?
		is "$variant $rw: exit status is fio's" "$rc" 0
		d2c=$(csv_count "$csv" "$origin" "$disk" "$op" D2C)
		is_count "$variant $rw: D2C count" "$d2c" "$N" "$TMP/err"
		is "$variant $rw: Q2C count = D2C count" "$(csv_count "$csv" "$origin" "$disk" "$op" Q2C)" "$d2c"
		is "$variant $rw: Q2G count = D2C count" "$(csv_count "$csv" "$origin" "$disk" "$op" Q2G)" "$d2c"
		# loop has no scheduler: blk-mq issues directly, so there is no insert
		is "$variant $rw: I2D absent, not zero" "$(csv_count "$csv" "$origin" "$disk" "$op" I2D)" 0
		check "$variant $rw: JSON reports I2D absent for all" \
			jqt --arg o "$origin" --argjson n "$d2c" \
			'[.histograms[] | select(.origin == $o) | .stages.I2D.absent] | add == $n' \
			"$TMP/$variant-$rw.json"
		check "$variant $rw: CSV header" \
			grep -qx 'origin,device,op,stage,bucket_lo_us,bucket_hi_us,count' "$csv"
		check "$variant $rw: nothing lost" nothing_lost "$TMP/err" || diag "$(cat "$TMP/err")"
	done
done

# -c filters on the owner cgroup: the same I/O outside it is not counted
"$HCITRACE" -d "$disk" -c "/hcitest-$$-exact" --csv "$TMP/c.csv" -- sh -c \
	"fio_out=\$(fio --name=y --filename=$dev --direct=1 --rw=randread --bs=4k --size=32M --number_ios=300 --ioengine=psync --output=/dev/null); \
	 echo \$\$ > $cg/cgroup.procs; exec fio --name=x --filename=$dev --direct=1 --rw=randread --bs=4k --size=32M --number_ios=700 --ioengine=psync --output=/dev/null" \
	>"$TMP/out" 2>"$TMP/err"
is_count "-c counts only the cgroup's I/O" "$(csv_count "$TMP/c.csv" "$origin" "$disk" read D2C)" 700 "$TMP/err"
is "-c reports no other origin" "$(awk -F, 'NR > 1 && $1 != o' o="$origin" "$TMP/c.csv" | wc -l)" 0

done_testing
