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
		start_tracer "$TMP/$cfg.out" "$TMP/$cfg.err" -d "$disk" --vmm -p \
			--csv "$TMP/$cfg.csv" --json "$TMP/$cfg.json" ||
			diag "hcitrace did not start: $(cat "$TMP/$cfg.err")"
		tracer=$TRACER ;;
	result|done)
		[ -n "$tracer" ] && kill -INT "$tracer" && wait "$tracer"
		tracer="" ;;
	esac
}

for cfg in q35:threads:randread:1:psync microvm:threads:randwrite:1:psync \
	   q35:native:randread:8:libaio q35:io_uring:randwrite:8:libaio; do
	IFS=: read -r machine aio rw qd engine <<<"$cfg"
	cfg=${cfg//:/-}
	op=${rw#rand}
	name=hcitest-$machine-$aio
	vm_run "$name" "$machine" "$aio" hook hci.n=$N hci.rw=$rw hci.qd=$qd hci.engine=$engine
	is "$cfg: guest fio ran" "$VM_RC" 0
	is "$cfg: guest issued N" "$VM_IOS" $N
	is "$cfg: host D2C for vm:$name = guest's count" \
		"$(csv_count "$TMP/$cfg.csv" "vm:$name" "$disk" "$op" D2C)" $N
	is "$cfg: host Q2C for vm:$name" "$(csv_count "$TMP/$cfg.csv" "vm:$name" "$disk" "$op" Q2C)" $N
	[ "$VM_IOS" = $N ] || diag "$(tail -5 "$TMP/$name.console")"
	check "$cfg: discovery: the VM's image and the disk it is on" jqt --arg o "vm:$name" \
		--arg img "$IMG" --arg d "$disk" '[.vms[] | select(.origin == $o)][0] |
		 (.images | any(.path == $img and .device == $d and .extents >= 1)) and
		 (.drives | contains($img))' "$TMP/$cfg.json"
	# every aio mode: thread-pool syscalls, io_submit iocbs, io_uring SQEs
	check "$cfg: VMM requests = N, each linked to one host bio" jqt --arg o "vm:$name" \
		--arg op "$op" --argjson n $N '[.vmm[] | select(.origin == $o and .op == $op)] |
		 length == 1 and .[0].ios == $n and .[0].bios == $n and .[0].absorbed == 0 and
		 .[0].stages.VQ2C.count == $n and .[0].stages.V2V.count == $n' "$TMP/$cfg.json"
	check "$cfg: VMM stages >= 0 and V2Q + VQ2C + C2V = V2V per request" jqt \
		--arg o "vm:$name" --argjson n $N '[.requests[] | select(.layer == "vmm" and
		 .origin == $o and .op != "flush") | .stages_us] | length == $n and
		 all(.[]; .V2Q >= 0 and .VQ2C >= 0 and .C2V >= 0 and
		     ((.V2Q + .VQ2C + .C2V) - .V2V | fabs) < 0.005)' "$TMP/$cfg.json"
	is "$cfg: VMM rows in the histogram CSV" \
		"$(csv_count "$TMP/$cfg.csv" "vm:$name" "$disk" "$op" V2V)" $N
done

done_testing
