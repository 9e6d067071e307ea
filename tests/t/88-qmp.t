#!/bin/bash
# hcithrottle's QMP client against a real QEMU (paused: -S, no guest needed)
# and against sockets that misbehave. It is driven through 'hcithrottle
# reset', which puts back what a state file says a drive had: by -drive id
# and by -device id, with the original limits (group included) exact; a VM
# that is gone counts as restored; a silent socket, a non-QMP socket and a
# bad state line are clear errors that keep the state file.
. "$(dirname "$0")/../lib.sh"
need_root
command -v qemu-system-x86_64 >/dev/null || { not_ok "qemu-system-x86_64 is installed (make deps)"; done_testing; exit 1; }
QT=$(dirname "$0")/../vm/qmp-throttle
NONE="bps=0 bps_rd=0 bps_wr=0 iops=0 iops_rd=0 iops_wr=0"
ZEROS="bps=0 bps_rd=0 bps_wr=0 iops=0 iops_rd=0 iops_wr=0 bps_max=0 bps_rd_max=0 bps_wr_max=0 iops_max=0 iops_rd_max=0 iops_wr_max=0 bps_max_length=0 bps_rd_max_length=0 bps_wr_max_length=0 iops_max_length=0 iops_rd_max_length=0 iops_wr_max_length=0 iops_size=0"

truncate -s 16M "$TMP/img" "$TMP/img1"
SOCK=$TMP/q.sock
qemu-system-x86_64 -S -nodefaults -display none -machine q35 -accel tcg \
	-drive "file=$TMP/img,if=none,id=d0,format=raw,throttling.iops-read=500" \
	-device virtio-blk-pci,drive=d0,id=vd0 \
	-drive "file=$TMP/img1,if=none,id=d1,format=raw" \
	-device virtio-blk-pci,drive=d1,id=vd1 \
	-qmp "unix:$SOCK,server=on,wait=off" > "$TMP/qemu.log" 2>&1 &
QPID=$!
on_exit "kill -9 $QPID 2>/dev/null; wait $QPID 2>/dev/null"
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
kill -0 $QPID 2>/dev/null || diag "QEMU: $(cat "$TMP/qemu.log")"
is "QEMU's drive starts with its own limit" "$("$QT" "$SOCK" d0)" \
	"bps=0 bps_rd=0 bps_wr=0 iops=0 iops_rd=500 iops_wr=0"

conf=$TMP/t.conf
printf 'device = loop0\nstate = %s\n' "$TMP/run/state" > "$conf"
mkdir -p "$TMP/run"
# state LINE...: a state file as a crashed run would leave it
state() { { echo "# hcithrottle state v1: the io limits to restore"; printf '%s\n' "$@"; } > "$TMP/run/state"; }
reset() { "$HCITHROTTLE" reset -c "$conf" > "$TMP/out" 2>&1; echo $?; }

state "$(printf 'qmp\t%s\t-\td0\t%s' "$SOCK" "$ZEROS")"
is "reset by -drive id: exit 0" "$(reset)" 0
check "it says 1 limit restored" grep -q '1 limit restored' "$TMP/out"
is "the drive's saved original (none) is back" "$("$QT" "$SOCK" d0)" "$NONE"
check "the state file is gone" test ! -e "$TMP/run/state"

state "$(printf 'qmp\t%s\t-\tvd0\tbps=0 bps_rd=0 bps_wr=2097152 iops=0 iops_rd=123 iops_wr=0 iops_rd_max=200 iops_size=8192 group=tenant a' "$SOCK")"
is "reset by -device id, with bursts and a group: exit 0" "$(reset)" 0
is "the original comes back exactly" "$("$QT" "$SOCK" d0)" \
	"bps=0 bps_rd=0 bps_wr=2097152 iops=0 iops_rd=123 iops_wr=0"
check "its group too" perl -MIO::Socket::UNIX -MJSON::PP -e '
	my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die; <$s>;
	print $s "{\"execute\":\"qmp_capabilities\"}\n"; <$s>;
	print $s "{\"execute\":\"query-block\"}\n";
	my ($d) = grep { $_->{device} eq "d0" } @{decode_json(scalar <$s>)->{return}};
	exit !($d->{inserted}{group} eq "tenant a" && $d->{inserted}{iops_rd_max} == 200 &&
	       $d->{inserted}{iops_size} == 8192)' "$SOCK"

state "$(printf 'qmp\t%s\t-\td0\t%s' "$SOCK" "$ZEROS")" \
	"$(printf 'qmp\t%s\t-\tnope\t%s' "$SOCK" "$ZEROS")" \
	"$(printf 'qmp\t%s\t-\td0\t%s' "$TMP/gone.sock" "$ZEROS")"
is "a drive or a VM that is gone counts as restored: exit 0" "$(reset)" 0
check "3 limits restored" grep -q '3 limits restored' "$TMP/out"
is "and the drive that is there is back to none" "$("$QT" "$SOCK" d0)" "$NONE"

# misbehaving sockets: silent, and not QMP
serve() {	# PATH TEXT: accept one client, send TEXT, then say nothing
	perl -MIO::Socket::UNIX -e '
		my $l = IO::Socket::UNIX->new(Local => $ARGV[0], Listen => 1) or die;
		my $c = $l->accept; $c->autoflush(1); print $c $ARGV[1]; sleep 30' "$1" "$2" &
	echo $! >> "$TMP/pids"
	for _ in $(seq 100); do [ -S "$1" ] && break; sleep 0.02; done
}
: > "$TMP/pids"
on_exit "kill \$(cat $TMP/pids) 2>/dev/null"
serve "$TMP/silent.sock" ""
state "$(printf 'qmp\t%s\t-\td0\t%s' "$TMP/silent.sock" "$ZEROS")"
t0=$(date +%s%N)
is "a silent socket: reset fails (exit 1)" "$(reset)" 1
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "after the timeout, not forever ($ms ms)" test "$ms" -lt 6000
check "the error says no reply" grep -q 'no reply within 2000 ms' "$TMP/out"
check "the state file is kept for another try" test -s "$TMP/run/state"
serve "$TMP/junk.sock" $'hello, I am not QEMU\n'
state "$(printf 'qmp\t%s\t-\td0\t%s' "$TMP/junk.sock" "$ZEROS")"
is "a socket that is not QMP: exit 1" "$(reset)" 1
check "the error says why" grep -q 'bad reply: JSON' "$TMP/out"
serve "$TMP/other.sock" $'{"hello": 1}\n'
state "$(printf 'qmp\t%s\t-\td0\t%s' "$TMP/other.sock" "$ZEROS")"
is "JSON but no QMP greeting: exit 1" "$(reset)" 1
check "the error says so" grep -q 'no QMP greeting' "$TMP/out"
state "$(printf 'qmp\trelative.sock\t-\td0\t%s' "$ZEROS")"
is "a bad state line: exit 1" "$(reset)" 1
check "the error names the line" grep -q "$TMP/run/state:2: not a state line" "$TMP/out"
state "$(printf 'qmp\t%s\t-\td0\tbps=1 nonsense=2' "$SOCK")"
is "bad saved limits: exit 1" "$(reset)" 1
rm -f "$TMP/run/state"
kill -9 $QPID
wait $QPID 2>/dev/null
done_testing
