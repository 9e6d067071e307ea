#!/bin/bash
# Two fio jobs at once in two blkio cgroups: each origin gets exactly its own
# count. A user rule renames one of them.
. "$(dirname "$0")/../lib.sh"
need_root

NA=1500
NB=2500
setup_loop 64
make_cgroup "hcitest-$$-a"
ca=$CG
make_cgroup "hcitest-$$-b"
cb=$CG
job() { echo "echo \$\$ > $1/cgroup.procs && exec fio --name=j --filename=$dev --direct=1 --rw=randrw --bs=4k --size=32M --number_ios=$2 --ioengine=libaio --iodepth=8 --output=/dev/null"; }

"$HCITRACE" -d "$disk" --csv "$TMP/o.csv" --rule "/hcitest-$$-b=container:bravo" -- \
	sh -c "sh -c '$(job "$ca" $NA)' & sh -c '$(job "$cb" $NB)' & wait" >"$TMP/out" 2>"$TMP/err"
is "exit status" "$?" 0
sum() { # origin stage: reads + writes
	echo $(( $(csv_count "$TMP/o.csv" "$1" "$disk" read "$2") + $(csv_count "$TMP/o.csv" "$1" "$disk" write "$2") ))
}
is_count "cgroup a: D2C reads+writes" "$(sum "host:/hcitest-$$-a" D2C)" $NA "$TMP/err"
is_count "cgroup a: Q2C reads+writes" "$(sum "host:/hcitest-$$-a" Q2C)" $NA "$TMP/err"
is_count "cgroup b (rule): D2C" "$(sum "container:bravo" D2C)" $NB "$TMP/err"
is_count "cgroup b (rule): Q2C" "$(sum "container:bravo" Q2C)" $NB "$TMP/err"
is "no I/O from these jobs elsewhere" \
	"$(awk -F, 'NR > 1 && $4 == "D2C" && $1 != a && $1 != b { n += $7 } END { print n + 0 }' \
	a="host:/hcitest-$$-a" b="container:bravo" "$TMP/o.csv")" 0

# --origin filters the report to one class
"$HCITRACE" -d "$disk" --origin container --rule "/hcitest-$$-b=container:bravo" \
	--csv "$TMP/f.csv" -- \
	sh -c "sh -c '$(job "$ca" 100)' & sh -c '$(job "$cb" 200)' & wait" >"$TMP/out" 2>"$TMP/err"
is "--origin container keeps only containers" \
	"$(awk -F, 'NR > 1 && $1 !~ /^container:/' "$TMP/f.csv" | wc -l)" 0
is_count "--origin container keeps bravo's I/O" \
	"$(( $(csv_count "$TMP/f.csv" container:bravo "$disk" read D2C) + $(csv_count "$TMP/f.csv" container:bravo "$disk" write D2C) ))" 200 "$TMP/err"

# a container-looking cgroup is classified without any rule
id=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
make_cgroup "hcitest-$$-docker"
cd_=$CG
make_cgroup "hcitest-$$-docker/docker-$id.scope"
"$HCITRACE" -d "$disk" --csv "$TMP/d.csv" -- sh -c "$(job "$cd_/docker-$id.scope" 300)" >"$TMP/out" 2>"$TMP/err"
is_count "docker scope -> container:<id12>" \
	"$(( $(csv_count "$TMP/d.csv" container:0123456789ab "$disk" read D2C) + $(csv_count "$TMP/d.csv" container:0123456789ab "$disk" write D2C) ))" 300 "$TMP/err"

done_testing
