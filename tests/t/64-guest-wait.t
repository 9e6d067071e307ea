#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# --guest-channel with "-- COMMAND" where the command boots the VM (issue 11,
# item 15): the host side waits for the VM and its socket, says that it is
# waiting, then traces; before, it refused to start ("no VM named ... is
# running"). The VM is a stand-in: a process run as qemu-system-x86_64 (so
# its comm is a VMM's) with "-name NAME" on its command line, which starts
# listening on the chardev socket only after a delay, as a booting QEMU
# does. Cases: --vm NAME with the channel, the channel alone (its VM found
# from the socket), --vm NAME alone; and the command ending before the VM
# is there (an error, rc 1, nothing traced); without a command, the errors
# stay immediate.
. "$(dirname "$0")/../lib.sh"
need_root
command -v python3 >/dev/null || skip_all "needs python3"
py=$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')

img=/dev/shm/hcitest-tb-$$.img
truncate -s 16M "$img"
LOOP=$(losetup -f --show --direct-io=on "$img") || { not_ok "loop device"; done_testing; exit 1; }
on_exit "losetup -d $LOOP; rm -f $img"
disk=$(basename "$LOOP")
VM=hcitest-tb-vm$$
SOCK=$TMP/chan.sock

ln -s "$py" "$TMP/qemu-system-x86_64"
cat > "$TMP/fakevm.py" <<'EOF'
# listen on the socket after -delay seconds, hold connections, exit after -life
import socket, sys, time, os
a = sys.argv[1:]
path, delay, life = a[a.index("-chardev") + 1], float(a[a.index("-delay") + 1]), float(a[a.index("-life") + 1])
time.sleep(delay)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(4)
s.settimeout(0.1)
conns, end = [], time.time() + life
while time.time() < end:
    try:
        conns.append(s.accept()[0])
    except socket.timeout:
        pass
os.unlink(path)
sys.exit(3)
EOF
# vm DELAY LIFE: the command that "boots" the VM; it exits with status 3
vm() { echo "$TMP/qemu-system-x86_64" "$TMP/fakevm.py" -name "$VM" -chardev "$SOCK" -delay "$1" -life "$2"; }

# booted NAME ARGS...: hcitrace with a command that boots the VM in 1.5 s; it
# runs 5 s more (longer than loading the BPF programs takes, so it is named)
booted() {
	local what=$1; shift
	rm -f "$SOCK"
	"$HCITRACE" -d "$disk" "$@" --json "$TMP/g.json" -- $(vm 1.5 5) >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	is "$what: the command's exit status" "$rc" 3
	check "$what: says it waits" grep -q "^hcitrace: waiting for .*(the command starts" "$TMP/err"
	check "$what: then traces" grep -q "^hcitrace: the VM is there; tracing starts" "$TMP/err"
	check "$what: no error" sh -c "! grep -q '^Error' '$TMP/err'"
	[ "$rc" = 3 ] || diag "$(cat "$TMP/err")"
}
booted "--vm NAME --guest-channel" --vm "$VM" --guest-channel "$SOCK"
check "--vm NAME --guest-channel: the guest stream is the VM's" \
	jqt --arg o "vm:$VM" '.guests[0].origin == $o and .guests[0].channel != null' "$TMP/g.json"
booted "--guest-channel alone" --guest-channel "$SOCK"
check "--guest-channel alone: its VM found from the socket" \
	jqt --arg o "vm:$VM" '.guests[0].origin == $o' "$TMP/g.json"
booted "--vm NAME alone" --vm "$VM"
check "--vm NAME alone: the VM is named" jqt --arg n "$VM" '[.vms[].origin] | index("vm:" + $n) != null' \
	"$TMP/g.json"

# the command ends and no VM came: an error, and nothing traced
rm -f "$SOCK"
"$HCITRACE" -d "$disk" --vm "$VM" --guest-channel "$SOCK" -- sleep 0.5 >"$TMP/out" 2>"$TMP/err"
is "no VM before the command ended: exit status 1" "$?" 1
check "no VM before the command ended: says so" \
	grep -q "^Error: the command ended before the VM was there" "$TMP/err"

# without a command nothing will start the VM: the errors stay immediate
"$HCITRACE" -d "$disk" --vm "$VM" --guest-channel "$SOCK" >"$TMP/out" 2>"$TMP/err"
is "no command, no VM: exit status 1" "$?" 1
check "no command, no VM: no VM named ..." grep -q "no VM named '$VM'" "$TMP/err"
check "no command, no VM: does not wait" sh -c "! grep -q 'waiting' '$TMP/err'"
done_testing
