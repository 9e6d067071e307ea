#!/bin/bash
# A real QEMU guest (TCG) on a raw image on ext4 on the loop test SSD:
# fio in the guest issues exactly N direct 4k I/Os through virtio-blk, and
# host hcitrace attributes exactly N requests on the loop device to
# vm:<name>, for q35/virtio-pci and microvm/virtio-mmio, and for QEMU's
# aio=threads, native and io_uring (cache=none).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../vm/lib-vm.sh"
need_root
need_vm

N=300
vm_image 80

tracer=""
hook() {
	case $1 in
	ready) # attach for the fio window only: boot I/O (partition scan) stays out
		HCI_FEATURES_OFF=$off start_tracer "$TMP/$cfg.out" "$TMP/$cfg.err" -d "$disk" --vmm -p ${slots:+--slots $slots} \
			--csv "$TMP/$cfg.csv" --json "$TMP/$cfg.json" ||
			{ not_ok "$cfg: hcitrace attached before the guest started"; diag "$(cat "$TMP/$cfg.err")"; }
		tracer=$TRACER ;;
	result|done)
		# a cached image's data reaches the disk only at writeback: force it
		[ "$VM_CACHE" = writeback ] && [ "$1" = result ] && sync
		[ -n "$tracer" ] && kill -INT "$tracer" && wait "$tracer"
		tracer="" ;;
	esac
}

# the sixth field, if any, is --slots: native aio in 64 request entries,
# so that QEMU's iocbs share entries and spill into the hash behind them
# while QEMU reuses them before its eventfd read (aio_submit_put); the
# seventh, HCI_FEATURES_OFF: that run's eventfd reads walk every request,
# as on a kernel without bpf_loop, where the other native run's take just
# what completed since the last read (aio_done)
for cfg in q35:threads:randread:1:psync microvm:threads:randwrite:1:psync \
	   q35:native:randread:8:libaio q35:native:randread:8:libaio:64:bpf_loop \
	   q35:io_uring:randwrite:8:libaio; do
	IFS=: read -r machine aio rw qd engine slots off <<<"$cfg"
	cfg=${cfg//:/-}
	op=${rw#rand}
	name=hcitest-$machine-$aio
	vm_run "$name" "$machine" "$aio" hook hci.n=$N hci.rw=$rw hci.qd=$qd hci.engine=$engine
	is "$cfg: guest fio ran" "$VM_RC" 0
	is "$cfg: guest issued N" "$VM_IOS" $N
	d2c=$(csv_count "$TMP/$cfg.csv" "vm:$name" "$disk" "$op" D2C)
	is_count "$cfg: host D2C for vm:$name = guest's count" "$d2c" $N "$TMP/$cfg.err"
	is "$cfg: host Q2C for vm:$name = D2C" "$(csv_count "$TMP/$cfg.csv" "vm:$name" "$disk" "$op" Q2C)" "$d2c"
	[ "$VM_IOS" = $N ] || diag "$(tail -5 "$TMP/$name.console")"
	[ "$d2c" = $N ] ||
		{ diag "host rows:" "$(awk -F, '$4 == "D2C"' "$TMP/$cfg.csv")" "$(cat "$TMP/$cfg.err")"
		  diag "VMM layer:" "$(jq -c '.vmm[] | {origin, op, ios, bytes, bios, absorbed,
			absorbed_bytes, errors, unlinked}' "$TMP/$cfg.json")"
		  cp "$TMP/$cfg.json" "/tmp/hci-70vm-fail-$cfg.json" 2>/dev/null; }
	check "$cfg: discovery: the VM's image and the disk it is on" jqt --arg o "vm:$name" \
		--arg img "$IMG" --arg d "$disk" '[.vms[] | select(.origin == $o)][0] |
		 (.images | any(.path == $img and .device == $d and .extents >= 1)) and
		 (.drives | contains($img))' "$TMP/$cfg.json"
	# every aio mode: thread-pool syscalls, io_submit iocbs, io_uring SQEs
	# native aio: QEMU may reap the ring by polling, with no eventfd read
	# since; such requests have their host stages but no VMM completion.
	# Most are reaped at a read (seen: all 300 both ways, once 299): vv is a floor
	vv=$N
	[ "$aio" = native ] && vv=$((N / 2))
	[ "$aio" = native ] && diag "$cfg: $(jq --arg o "vm:$name" --arg op "$op" '[.vmm[] |
		select(.origin == $o and .op == $op)][0].stages.V2V.count' "$TMP/$cfg.json") of $N reaped at an eventfd read"
	check "$cfg: VMM requests = N, each linked to one host bio" jqt --arg o "vm:$name" \
		--arg op "$op" --argjson n $N --argjson vv $vv '[.vmm[] |
		 select(.origin == $o and .op == $op)] | length == 1 and .[0].ios == $n and
		 .[0].bios == $n and .[0].absorbed == 0 and .[0].stages.VQ2C.count == $n and
		 (if $vv == $n then .[0].stages.V2V.count == $n else .[0].stages.V2V.count >= $vv end)' \
		"$TMP/$cfg.json"
	check "$cfg: per VMM request: stages >= 0, V2Q + VQ2C + C2V = V2V, VQ2D + VD2C = VQ2C" jqt \
		--arg o "vm:$name" --arg op "$op" '([.vmm[] | select(.origin == $o and .op == $op)][0]
		 .stages.V2V.count) as $seen | [.requests[] | select(.layer == "vmm" and
		 .origin == $o and .op == $op) | .stages_us] | length == $seen and
		 all(.[]; .V2Q >= 0 and .VQ2C >= 0 and .C2V >= 0 and .VQ2D >= 0 and .VD2C >= 0 and
		     ((.V2Q + .VQ2C + .C2V) - .V2V | fabs) < 0.005 and
		     ((.VQ2D + .VD2C) - .VQ2C | fabs) < 0.005)' "$TMP/$cfg.json"
	check "$cfg: each VMM request names its thread and submit time" jqt --arg o "vm:$name" \
		--arg op "$op" '[.requests[] | select(.layer == "vmm" and .origin == $o and
		 .op == $op)] | length > 0 and all(.[]; .tid > 0 and .submit_s <= .time_s and
		 (((.time_s - .submit_s) * 1e6) - .stages_us.V2V | fabs) < 1)' "$TMP/$cfg.json"
	# FIEMAP: each VMM request's image offset maps to the sector of the host
	# request it caused
	check "$cfg: image offsets map to the host requests' sectors (FIEMAP)" jqt \
		--arg o "vm:$name" --arg op "$op" --arg img "$IMG" '
		 [.requests[] | select(.layer == "block" and .origin == $o and .op == $op) |
		  .sector] as $b | [.requests[] | select(.layer == "vmm" and .origin == $o and
		  .op == $op)] as $v | ($v | length) > 0 and
		 all($v[]; .image == $img and .sector != null and (.sector as $s | $b | index($s)))' \
		"$TMP/$cfg.json"
	# the CSV's V2V count is the JSON's: N, or for native aio those reaped
	# at an eventfd read (the rest have no V2V, checked above)
	is "$cfg: VMM rows in the histogram CSV" \
		"$(csv_count "$TMP/$cfg.csv" "vm:$name" "$disk" "$op" V2V)" \
		"$(jq --arg o "vm:$name" --arg op "$op" '[.vmm[] | select(.origin == $o and
		   .op == $op)][0].stages.V2V.count' "$TMP/$cfg.json")"
done

# cache=writeback: QEMU's writes stop in the host page cache (absorbed, no
# bios); the flusher's writeback later carries exactly those pages, and is
# the VM's although a kworker issues it (charged to the root on cgroup v1)
cfg=q35-threads-randwrite-writeback
name=hcitest-q35-wb
VM_CACHE=writeback vm_run "$name" q35 threads hook hci.n=$N hci.rw=randwrite hci.qd=1 hci.engine=psync
is "$cfg: guest issued N" "$VM_IOS" $N
check "$cfg: N VMM writes, all absorbed by the host page cache" jqt --arg o "vm:$name" \
	--argjson n $N '[.vmm[] | select(.origin == $o and .op == "write")] | length == 1 and
	 .[0].ios == $n and .[0].absorbed == $n and .[0].bios == 0' "$TMP/$cfg.json"
# fio may write one 8k-aligned offset twice (blockalign rounds two 4k blocks
# together): the page cache holds one dirty page for both, so the writeback
# is 4 KiB per distinct offset the VMM wrote, and no more than 4 KiB per
# write if something wrote a page back between its two writes (a flush)
pages=$(jq --arg o "vm:$name" '[.requests[] | select(.layer == "vmm" and .origin == $o and
	.op == "write") | .offset] | unique | length' "$TMP/$cfg.json")
check "$cfg: the VMM wrote distinct pages ($pages)" test "${pages:-0}" -gt $((N / 2))
check "$cfg: the writeback is the VM's: 4 KiB per distinct page (at most per write), for vm:$name" \
	jqt --arg o "vm:$name" --arg d "$disk" --argjson b $((${pages:-0} * 4096)) \
	--argjson w $((N * 4096)) '[.histograms[] |
	 select(.origin == $o and .device == $d and .op == "write") | .bytes] | add |
	 . >= $b and . <= $w' "$TMP/$cfg.json" ||
	diag "$(jq -c '[.histograms[] | {origin, device, op, ios, bytes, merges}], .lost' "$TMP/$cfg.json")"

done_testing
