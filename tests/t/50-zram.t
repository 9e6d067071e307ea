#!/bin/bash
# zram is bio-based: no request, so only Q2C (block_bio_queue to
# block_bio_complete), with exact counts; the request stages are absent.
. "$(dirname "$0")/../lib.sh"
need_root

N=1000
Z=/sys/block/zram0
[ -e "$Z" ] || modprobe zram num_devices=1 2>/dev/null
[ -e "$Z" ] || skip_all "no zram device on this kernel (/sys/block/zram0 missing)"
size=$(cat "$Z/disksize")
if [ "$size" = 0 ]; then
	echo 64M > "$Z/disksize" || skip_all "cannot size zram0"
	on_exit "echo 1 > $Z/reset"
elif grep -q '^/dev/zram0 ' /proc/mounts /proc/swaps; then
	skip_all "zram0 is in use by this machine"
fi
dd if=/dev/zero of=/dev/zram0 bs=1M count=32 oflag=direct status=none

for rw in randread randwrite; do
	op=${rw#rand}
	"$HCITRACE" -d zram0 --csv "$TMP/$rw.csv" --json "$TMP/$rw.json" -- fio --name=z \
		--filename=/dev/zram0 --direct=1 --rw=$rw --bs=4k --size=32M --number_ios=$N \
		--ioengine=psync --output=/dev/null >"$TMP/out" 2>"$TMP/err"
	is "zram $rw: exit status" "$?" 0
	q2c=$(csv_count "$TMP/$rw.csv" host:/ zram0 "$op" Q2C)
	is_count "zram $rw: Q2C count" "$q2c" $N "$TMP/err"
	is "zram $rw: no D2C rows (absent)" "$(awk -F, '$2 == "zram0" && $4 == "D2C"' "$TMP/$rw.csv" | wc -l)" 0
	check "zram $rw: JSON D2C absent for every I/O" jqt --argjson n "$q2c" \
		'[.histograms[] | select(.device == "zram0") | .stages.D2C.absent] | add == $n' "$TMP/$rw.json"
done

done_testing
