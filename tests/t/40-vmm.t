#!/bin/bash
# A process started as a VMM (a copy of fio named qemu-system-x86_64) is
# classified vm:<name> from its -name, or vm:<pid> without one, even in the
# root cgroup, and even though it submits from worker threads.
. "$(dirname "$0")/../lib.sh"
need_root

N=1200
setup_loop 64
cp "$(command -v fio)" "$TMP/qemu-system-x86_64"

# fio parses single-dash long options, so "-name guest=..." is what QEMU's
# command line looks like to hcitrace; --thread keeps jobs in one process.
"$HCITRACE" -d "$disk" --csv "$TMP/v.csv" -- "$TMP/qemu-system-x86_64" -name vmtest \
	--thread --filename="$dev" --direct=1 --rw=randread --bs=4k --size=32M \
	--number_ios=$N --ioengine=libaio --iodepth=4 --output=/dev/null >"$TMP/out" 2>"$TMP/err"
is "exit status" "$?" 0
is_count "vm:vmtest D2C" "$(csv_count "$TMP/v.csv" vm:vmtest "$disk" read D2C)" $N "$TMP/err"
is_count "vm:vmtest Q2C" "$(csv_count "$TMP/v.csv" vm:vmtest "$disk" read Q2C)" $N "$TMP/err"

# without -name the VM is named by its pid; fio's job is a forked process
"$HCITRACE" -d "$disk" --csv "$TMP/p.csv" -- "$TMP/qemu-system-x86_64" --name=job \
	--filename="$dev" --direct=1 --rw=randwrite --bs=4k --size=32M \
	--number_ios=$N --ioengine=psync --output=/dev/null >"$TMP/out" 2>"$TMP/err"
vm=$(awk -F, 'NR > 1 && $1 ~ /^vm:[0-9]+$/ && $4 == "D2C" { print $1; exit }' "$TMP/p.csv")
check "unnamed VMM is vm:<pid>" test -n "$vm"
is_count "vm:<pid> D2C" "$(csv_count "$TMP/p.csv" "$vm" "$disk" write D2C)" $N "$TMP/err"

# the same binary under its own name is not a VM
"$HCITRACE" -d "$disk" --csv "$TMP/h.csv" -- fio --name=job --filename="$dev" --direct=1 \
	--rw=randread --bs=4k --size=32M --number_ios=100 --ioengine=psync --output=/dev/null \
	>"$TMP/out" 2>"$TMP/err"
is "plain fio is not vm:" "$(grep -c '^vm:' "$TMP/h.csv")" 0

# --vmm on the host: fio under a VMM's name stands in for the VMM, the loop
# device is its (block device) image
vmm_fio() { # engine extra...
	local engine=$1; shift
	"$HCITRACE" -v -d "$disk" --vmm --json "$TMP/e.json" -- "$TMP/qemu-system-x86_64" -name vmmtest \
		--thread --filename="$dev" --direct=1 --rw=randread --bs=4k --size=32M \
		--number_ios=$N --ioengine="$engine" --iodepth=4 --output=/dev/null "$@" \
		>"$TMP/out" 2>"$TMP/err"
}
# the VMM row, with the completions the kernel ran no program for (about
# 1 in 30000 on 6.18, docs/testing.md): such a request has no host
# completion, so VD2C is short by at most that count, and at most 3
vmm_row='.lost.completion_not_seen as $l |
	 [.vmm[] | select(.origin == "vm:vmmtest" and .op == "read")][0] | . + {unseen: $l}'
vd2c_all='.unseen <= 3 and .stages.VD2C.count + .unseen >= $n and .stages.VD2C.count <= $n'

# libaio reaps with the io_getevents syscall (QEMU reads its ring instead).
# io_getevents' exit reads its events buffer from the registers the
# syscall saved (bpf_task_pt_regs); a kernel without that keeps it in the
# entry program: the same counts either way
declare -A progs
for how in regs entry; do
	off=; [ $how = entry ] && off=syscall_regs
	HCI_FEATURES_OFF=$off "$HCITRACE" -v -d "$disk" --vmm --json "$TMP/e.json" -- \
		"$TMP/qemu-system-x86_64" -name vmmtest --thread --filename="$dev" --direct=1 \
		--rw=randread --bs=4k --size=32M --number_ios=$N --ioengine=libaio --iodepth=4 \
		--output=/dev/null >"$TMP/out" 2>"$TMP/err"
	want="yes (bpf_task_pt_regs)"; [ $how = entry ] && want="no (kept by entry programs)"
	check "libaio, events buffer from the $how: -v says $want" \
		grep -qF "syscall arguments at exit: $want" "$TMP/err"
	check "libaio, events buffer from the $how: N requests, all completed by io_getevents" \
		jqt --argjson n $N "$vmm_row"' | .ios == $n and .bios == $n and
		 .stages.V2V.count == $n and '"$vd2c_all" "$TMP/e.json" ||
		diag "$(cat "$TMP/err")" "$(jq -c "$vmm_row" "$TMP/e.json")"
	progs[$how]=$(sed -n 's/^attached \([0-9]*\) programs.*/\1/p' "$TMP/err")
done
is "without the registers, one more program (sys_enter_io_getevents)" \
	"${progs[entry]:-0}" $(( ${progs[regs]:-0} + 1 ))

# the same at QD32 with a 64-entry request table (--slots 64): about 8 of
# the 32 requests in flight share an entry at any time, so the hash behind
# the table (aio_reqs) holds requests all along, and none may be lost
"$HCITRACE" -d "$disk" --vmm --slots 64 --json "$TMP/e.json" -- "$TMP/qemu-system-x86_64" \
	-name vmmtest --thread --filename="$dev" --direct=1 --rw=randread --bs=4k --size=32M \
	--number_ios=$N --ioengine=libaio --iodepth=32 --output=/dev/null >"$TMP/out" 2>"$TMP/err"
check "libaio, QD32 in 64 slots: N VMM requests, N bios, every one reaped" jqt --argjson n $N \
	"$vmm_row"' | .ios == $n and .bios == $n and .stages.V2V.count == $n and
	 '"$vd2c_all" "$TMP/e.json" || diag "$(cat "$TMP/err")" "$(jq -c "$vmm_row" "$TMP/e.json")"

# io_uring inline: each SQE's bios are its own
vmm_fio io_uring
check "io_uring: N VMM requests, N bios, completed by their CQE" jqt --argjson n $N \
	"$vmm_row"' | .ios == $n and .bios == $n and .stages.V2V.count == $n' "$TMP/e.json"

# io_uring punted to io-wq workers: the worker queues the bios of the
# request it runs, found by its current work (the task's io_worker), or on
# a kernel that does not name that, by io_uring_file_get in the worker
# (6.18 assigns the file there): linked either way
for how in worker file_get; do
	off=; [ $how = file_get ] && off=uring_worker
	HCI_FEATURES_OFF=$off vmm_fio io_uring --force_async=1
	want="io-wq workers by their current work"
	[ $how = file_get ] && want="io-wq workers by io_uring_file_get only"
	check "io_uring via io-wq, by $how: -v says so" grep -qF "$want" "$TMP/err"
	check "io_uring via io-wq, by $how: N VMM requests, each linked to its bio in the worker" \
		jqt --argjson n $N "$vmm_row"' | .ios == $n and .bios == $n and .unlinked == 0 and
		 .absorbed == 0 and '"$vd2c_all" "$TMP/e.json" ||
		diag "$(jq -c "$vmm_row" "$TMP/e.json")"
	is_count "io_uring via io-wq, by $how: the worker's bios are still vm:vmmtest" \
		"$(jq --arg d "$disk" '[.histograms[] | select(.origin == "vm:vmmtest" and
		 .device == $d and .op == "read") | .stages.D2C.count] | add' "$TMP/e.json")" $N "$TMP/err"
done

# A submitter's io_uring request is its own only while the thread is in
# io_uring_enter. uring_then_read (tests/helpers) submits M 4 KiB reads of
# a model SSD through io_uring, one at a time, and while each is in flight
# (50 ms, against well under 1 ms for the rest of a round) reads 128 KiB of
# the loop device through the page cache with read(): the readahead bios
# that thread queues then are the VM's, and no request's. Where the kernel
# keeps a syscall's registers, io_uring_enter's exit is not traced: the
# thread's entry in uring_slots stays while it lives, and its exit frees
# it; without them (syscall_regs off) the syscall's exit frees it.
plain_dev=$dev plain_disk=$disk
setup_model_ssd 50000 1000 64
slow_dev=$dev slow_disk=$disk
dev=$plain_dev disk=$plain_disk
cp "$OUT/uring_then_read" "$TMP/qemu-system-uring"
uring_held() { # TID: uring_slots entries thread TID holds (0 or 1)
	bpftool map dump name uring_slots -j | jq --argjson t "$1" '[.[] | select(.formatted.value.tid == $t)] | length'
}
M=20
for how in regs exit; do
	off=; [ $how = exit ] && off=syscall_regs
	blockdev --flushbufs "$plain_dev"
	HCI_FEATURES_OFF=$off start_tracer "$TMP/u.out" "$TMP/u.err" --vmm --json "$TMP/u.json" ||
		not_ok "uring then read, $how: hcitrace attached"
	rm -f "$TMP/go"
	mkfifo "$TMP/go"
	"$TMP/qemu-system-uring" "$slow_dev" "$plain_dev" $M < "$TMP/go" > "$TMP/h.out" 2>&1 &
	hpid=$!
	on_exit "kill $hpid 2>/dev/null"
	exec 9> "$TMP/go"
	for _ in $(seq 200); do grep -q ready "$TMP/h.out" && break; sleep 0.05; done
	held=$(uring_held $hpid)
	exec 9>&-
	wait $hpid
	is "uring then read, $how: the helper read all it asked for" "$?" 0 || diag "$(cat "$TMP/h.out")"
	after=$(uring_held $hpid)
	kill -INT "$TRACER"
	wait "$TRACER"
	# the effect needs read() inside the request's 50 ms: seen in every round
	check "uring then read, $how: read() ran while the request was in flight, in most rounds" \
		test "$(sed -n 's/^ready overlapped=//p' "$TMP/h.out")" -ge $((M / 2)) ||
		diag "$(cat "$TMP/h.out")"
	row=$(jq -c --arg o "vm:$hpid" --arg d "$slow_disk" '[.vmm[] | select(.origin == $o and
		.device == $d and .op == "read")][0] | {ios, bios}' "$TMP/u.json")
	is "uring then read, $how: M requests, each with its one bio, none of read()'s" \
		"$row" "{\"ios\":$M,\"bios\":$M}"
	check "uring then read, $how: read()'s bios are the VM's all the same" test \
		"$(jq --arg o "vm:$hpid" --arg d "$plain_disk" '[.histograms[] | select(.origin == $o and
		 .device == $d and .op == "read") | .stages.Q2C.count] | add // 0' "$TMP/u.json")" -ge $M
	want=1; [ $how = exit ] && want=0
	is "uring then read, $how: the thread's entry while it lives after io_uring_enter" "$held" $want
	is "uring then read, $how: no entry once the thread exited" "$after" 0
done

# Which image a request names: the fd's file and inode, read through BTF
# casts (bpf_rdonly_cast) or, on a kernel without them, a bpf_probe_read
# each. Two images at once, the loop device itself (its dev is the inode's
# i_rdev) and a raw file on ext4 on a second one (its file system's s_dev):
# every request names its own disk, the same either way.
make_loop 64 || not_ok "second loop device"
mkfs.ext4 -q -F "$LOOP"
mkdir -p "$TMP/mnt"
mount "$LOOP" "$TMP/mnt" && on_exit "umount $TMP/mnt"
img=$TMP/mnt/disk.raw
dd if=/dev/urandom of="$img" bs=1M count=16 status=none
sync
M=300
declare -A rows
for how in cast read; do
	off=; [ $how = read ] && off=rdonly_cast
	for engine in libaio io_uring; do
		job=(--direct=1 --rw=randread --bs=4k --size=16M --number_ios=$M --ioengine=$engine
		     --iodepth=4)
		# "-name vmmtest" is fio's first job too: each job gets the options
		HCI_FEATURES_OFF=$off "$HCITRACE" -v --vmm -p --json "$TMP/i.json" -- \
			"$TMP/qemu-system-x86_64" --thread --output=/dev/null -name vmmtest \
			--filename="$dev" "${job[@]}" --name=b --filename="$img" "${job[@]}" \
			>"$TMP/out" 2>"$TMP/err"
		want="yes (bpf_rdonly_cast)"; [ $how = read ] && want="no (bpf_probe_read)"
		check "images by $how, $engine: -v says $want" \
			grep -qF "kernel objects by BTF cast: $want" "$TMP/err"
		# io_uring's SQE fields (opcode, fd, offset) are read the same way
		rows[$how]=$(jq -r --arg a "$disk" --arg b "$(basename "$LOOP")" '[.requests[] |
			select(.layer == "vmm" and .origin == "vm:vmmtest" and .op == "read" and
			       .ret == 4096 and (.device == $a or .device == $b)) | .device] |
			group_by(.) | map("\(.[0]) \(length)") | .[]' "$TMP/i.json")
		is "images by $how, $engine: $M reads on each image, each with its disk" \
			"${rows[$how]}" "$disk $M
$(basename "$LOOP") $M"
		# random 4 KiB reads of 16 MiB: their offsets, aligned, inside, mostly distinct
		check "images by $how, $engine: each request's offset" jqt '[.requests[] |
			select(.layer == "vmm" and .origin == "vm:vmmtest" and .ret == 4096)] |
			all(.[]; .offset % 4096 == 0 and .offset < 16777216) and
			([.[] | "\(.device) \(.offset)"] | unique | length) > 300' "$TMP/i.json"
	done
done

done_testing
