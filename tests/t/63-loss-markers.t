#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# -p says where it lost events (issue 11, item 16): a loss marker with the
# count in the -p text, the request CSV and the JSON, at the point of the
# loss. Before, one stderr line at exit said how many, not where. Checks:
#  - with a ring buffer far too small for QD32 (--ringbuf-kib 64), every
#    request of an exact fio run is printed or in a marker: printed + marked
#    = N, in each of the three streams, and the markers add up to the
#    counters (JSON "lost", stderr);
#  - markers are in place: many of them, spread through the run, each after
#    a request completed before it and before one completed after it;
#  - Ctrl-C under a load: what was still unread is marked at the end
#    (ringbuf_unread), and requests + markers = the histograms' requests.
. "$(dirname "$0")/../lib.sh"
need_root
for c in fio jq python3; do command -v $c >/dev/null || skip_all "needs $c"; done

setup_loop 128

# check_streams DIR N: the three streams of a run in DIR agree with each
# other, with the counters, and (N > 0) with the N requests fio made.
# Prints one line per finding; exits non-zero on any.
check_streams() {
	python3 - "$1" "$2" "$disk" <<-'EOF'
	import csv, json, sys, re
	d, n, disk = sys.argv[1], int(sys.argv[2]), sys.argv[3]
	bad = []
	doc = json.load(open(d + "/r.json"))
	lost = doc["lost"]
	reqs = [r for r in doc["requests"] if r["layer"] == "block"]
	marks = [r for r in doc["requests"] if r["layer"] == "lost"]
	by = {}
	for m in marks:
	    by[m["counter"]] = by.get(m["counter"], 0) + m["events"]
	for c in ("ringbuf_full", "ringbuf_unread"):
	    if by.get(c, 0) != lost[c]:
	        bad.append("JSON: %s markers %d != lost.%s %d" % (c, by.get(c, 0), c, lost[c]))
	marked = sum(by.values())
	hist = sum(h["ios"] for h in doc["histograms"] if h["device"] == disk)
	# a bio merged into a queued request makes no request of its own: two
	# of fio's random 4k reads can be adjacent while both are queued
	merged = sum(h["merges"] for h in doc["histograms"] if h["device"] == disk)
	# the kernel can skip a completion program (more often on a loaded
	# machine): such a request is counted lost, as completion_not_seen
	unseen = lost["completion_not_seen"]
	if n and hist + merged + unseen != n:
	    bad.append("histograms: %d requests + %d merged bios + %d completion_not_seen != %d"
	               % (hist, merged, unseen, n))
	if len(reqs) + marked != hist:
	    bad.append("JSON: %d requests + %d marked != %d" % (len(reqs), marked, hist))
	# in place: after a request completed before it, before one completed after
	seq = doc["requests"]
	for i, m in enumerate(seq):
	    if m["layer"] != "lost" or m["counter"] != "ringbuf_full":
	        continue
	    prev = [r for r in seq[:i] if r["layer"] == "block"][-1:]
	    nxt = next((r for r in seq[i + 1:] if r["layer"] == "block"), None)
	    if prev and prev[0]["time_s"] > m["time_s"]:
	        bad.append("marker at %.6f after a request at %.6f" % (m["time_s"], prev[0]["time_s"]))
	    if nxt and nxt["time_s"] < m["time_s"]:
	        bad.append("marker at %.6f before a request at %.6f" % (m["time_s"], nxt["time_s"]))
	with open(d + "/r.requests.csv", newline="") as f:
	    rows = list(csv.reader(f, strict=True))
	hdr, rows = rows[0], rows[1:]
	if hdr[-4:] != ["lost", "lost_counter", "pid", "comm"] or any(len(r) != len(hdr) for r in rows):
	    bad.append("CSV: header %s, or rows of another width" % hdr[-4:])
	lc = hdr.index("lost")
	creq = sum(1 for r in rows if r[3] != "lost")
	cmark = sum(int(r[lc]) for r in rows if r[3] == "lost")
	if (creq, cmark) != (len(reqs), marked):
	    bad.append("CSV: %d requests, %d marked; JSON %d, %d" % (creq, cmark, len(reqs), marked))
	treq = tmark = 0
	for line in open(d + "/out"):
	    m = re.match(r"^\S+\s+LOST (\d+) events here \((\w+)\)", line)
	    if m:
	        tmark += int(m.group(1))
	    elif re.match(r"^\d+\.\d+\s+\S+\s+\S+\s+\S+\s+" + disk + r"\s", line):
	        treq += 1
	if (treq, tmark) != (len(reqs), marked):
	    bad.append("-p text: %d requests, %d marked; JSON %d, %d" % (treq, tmark, len(reqs), marked))
	err = open(d + "/err").read()
	for c in ("ringbuf_full", "ringbuf_unread"):
	    if lost[c] and "%s=%d" % (c, lost[c]) not in err:
	        bad.append("stderr does not say %s=%d" % (c, lost[c]))
	print("requests %d, markers %d (%s), histograms %d (+ %d merged bios, %d not seen)" %
	      (len(reqs), len(marks), by, hist, merged, unseen))
	for b in bad[:10]:
	    print("BAD", b)
	sys.exit(1 if bad else 0)
	EOF
}

# --- an exact run that cannot fit: 30000 4k reads at QD32 through a 64 KiB ring
N=30000
mkdir -p "$TMP/a"
"$HCITRACE" -d "$disk" -p --ringbuf-kib 64 --json "$TMP/a/r.json" --csv "$TMP/a/r.csv" -- \
	fio --name=m --filename="$LOOP" --direct=1 --rw=randread --bs=4k --size=128M \
	--number_ios=$N --ioengine=libaio --iodepth=32 --output=/dev/null \
	>"$TMP/a/out" 2>"$TMP/a/err"
is "tiny ring: exit status" "$?" 0
out=$(check_streams "$TMP/a" $N); rc=$?
diag "$out"
is "tiny ring: printed + marked = requests, requests + merged bios = $N, in each stream; markers = counters, in place" "$rc" 0
nmarks=$(jq '[.requests[] | select(.layer == "lost")] | length' "$TMP/a/r.json")
check "tiny ring: losses are marked as they happen ($nmarks markers), not once" \
	test "$nmarks" -ge 5
check "tiny ring: the first marker comes before the last request" jqt \
	'(.requests | map(.layer)) as $l | ($l | index("lost")) as $i | $i != null and
	 $i < ($l | rindex("block"))' \
	"$TMP/a/r.json"

# --- Ctrl-C under a load: what is left unread is marked at the end
mkdir -p "$TMP/b"
fio --name=load --filename="$LOOP" --direct=1 --rw=randread --bs=4k --size=128M \
	--ioengine=libaio --iodepth=32 --time_based --runtime=30 --output=/dev/null &
LOAD=$!
on_exit "kill $LOAD 2>/dev/null; wait $LOAD 2>/dev/null"
start_tracer "$TMP/b/out" "$TMP/b/err" -d "$disk" -p --json "$TMP/b/r.json" --csv "$TMP/b/r.csv" ||
	not_ok "Ctrl-C: hcitrace attached"
sleep 2
kill -INT "$TRACER"
wait "$TRACER"
is "Ctrl-C under load: exit status" "$?" 0
kill $LOAD
wait $LOAD 2>/dev/null
out=$(check_streams "$TMP/b" 0); rc=$?
diag "$out"
is "Ctrl-C: requests + marked = the histograms' requests, in each stream" "$rc" 0
check "Ctrl-C: ringbuf_unread, if any, is the last entry of the requests" jqt \
	'.lost.ringbuf_unread as $u | $u == 0 or (.requests[-1] | .layer == "lost" and
	 .counter == "ringbuf_unread" and .events == $u)' "$TMP/b/r.json"
done_testing
