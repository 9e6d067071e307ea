# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# gnuplot script behind tools/hci-plot for an interval run's series
# (FILE.series.csv, FILE.heatmap.csv: docs/formats.md). Inputs (from hci-plot):
#   datadir/iops.dat  blocks "origin" / interval middle (s), IOPS: one per origin
#   datadir/p99.dat   blocks "origin op device" / interval middle (s), p99 (us)
#   datadir/heat.dat  one cell per interval and log2 bucket: x, y, x from, x to,
#                     y from, y to (us), requests
#   stage, niops, np99 (blocks in iops.dat and p99.dat)
# Outputs outdir/iops.png, outdir/p99.png and outdir/heatmap.png.

set terminal pngcairo size 1000,600 enhanced font ",10"
set datafile separator whitespace

# ---- IOPS per origin over time ----
set output outdir . "/iops.png"
set title "IOPS per origin, per interval"
set xlabel "time since the start of tracing (s)"
set ylabel "I/Os per second"
set yrange [0:*]
set grid
set key outside right top vertical
set style data linespoints
plot for [i=0:niops-1] datadir . "/iops.dat" index i using 1:2 title columnheader(1) lw 2

# ---- p99 per origin over time ----
reset
set terminal pngcairo size 1000,600 enhanced font ",10"
set output outdir . "/p99.png"
set title "p99 latency of " . stage . " per origin and op, per interval (interpolated in its log2 bucket)"
set xlabel "time since the start of tracing (s)"
set ylabel "p99 (us)"
set logscale y 2
set grid
set key outside right top vertical
set style data linespoints
plot for [i=0:np99-1] datadir . "/p99.dat" index i using 1:2 title columnheader(1) lw 2

# ---- heatmap: time x log2 bucket, requests as colour ----
reset
set terminal pngcairo size 1000,600 enhanced font ",10"
set output outdir . "/heatmap.png"
set title "Latency heatmap of " . stage . ", all origins: requests per interval and log2 bucket"
set xlabel "time since the start of tracing (s)"
set ylabel "latency (us, log2 buckets)"
set cblabel "requests"
set logscale y 2
set logscale cb
set palette defined (0 "#fff5eb", 1 "#fd8d3c", 2 "#d94801", 3 "#7f2704")
set grid front
plot datadir . "/heat.dat" using 1:2:3:4:5:6:7 with boxxyerror fs solid noborder \
     lc palette notitle
