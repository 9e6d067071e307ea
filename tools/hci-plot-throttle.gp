# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# gnuplot script behind tools/hci-plot-throttle. Input (from the wrapper):
#   data: "case" container_iops vm_iops container_p99_us vm_p99_us, 3 rows
# Output: out (PNG), IOPS on the left, p99 on the right.

set terminal pngcairo size 1100,540 enhanced font ",10"
set output out
set multiplot layout 1,2 title "Origin-aware throttling: a container beside a VM on one SSD\n{/*0.8 " . subtitle . "}"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key outside bottom center horizontal
set xtics nomirror
set bmargin 7

set title "IOPS (higher is better)"
set ylabel "IOPS"
set yrange [0:*]
plot data using 2:xtic(1) title "container (QD1)" lc rgb "#2a7ab0", \
     "" using 3 title "VM (QD16)" lc rgb "#c0504d"

set title "p99 latency (lower is better)"
set ylabel "p99 (us), log scale"
set logscale y
set yrange [100:*]
plot data using 4:xtic(1) title "container (QD1)" lc rgb "#2a7ab0", \
     "" using 5 title "VM (QD16)" lc rgb "#c0504d"
unset multiplot
