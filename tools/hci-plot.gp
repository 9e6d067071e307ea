# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# gnuplot script behind tools/hci-plot. Inputs (from hci-plot):
#   datadir/breakdown.dat  label, then mean us of the 8 stages guest..irq
#   datadir/latency.dat    blocks "name" / bucket_lo_us count, one per series
# Outputs outdir/breakdown.png and outdir/latency.png.

set terminal pngcairo size 1000,600 enhanced font ",10"
set datafile separator whitespace

# ---- stacked breakdown bar per VM and op ----
set output outdir . "/breakdown.png"
set title "Where a guest I/O spends its time (mean per stage, guest Q -> guest C)"
set ylabel "microseconds"
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.6
set key outside right top vertical
set grid ytics
set yrange [0:*]
set xtics nomirror
set bmargin 6
plot datadir . "/breakdown.dat" using 2:xtic(1) title "guest block (Q->D)", \
     "" using 3 title "notify + VMM pickup", \
     "" using 4 title "VMM submit -> host Q", \
     "" using 5 title "host block (Q->D)", \
     "" using 6 title "device (D->C)", \
     "" using 7 title "host C -> VMM", \
     "" using 8 title "VMM (page cache)", \
     "" using 9 title "interrupt + guest completion"

# ---- latency histograms ----
reset
set terminal pngcairo size 1000,600 enhanced font ",10"
set output outdir . "/latency.png"
set title "Latency histograms: guest total vs host device time (log2 buckets)"
set xlabel "latency, lower bucket bound (us)"
set ylabel "requests"
set logscale x 2
set grid
set key outside right top vertical
set style data linespoints
plot for [i=0:nseries-1] datadir . "/latency.dat" index i using 1:2 title columnheader(1) lw 2
