#!/bin/sh
# cliff-plot: draws a training run's metrics CSV (solver metrics_file) to PNG
# with gnuplot: loss and smoothed loss against iterations (top), the gradient
# norm before clipping on a log scale with the clip threshold as a line and
# skipped (non-finite) iterations marked (middle), test outputs as points; and
# when the run wrote a gradient report (debug_info / train --grad-report:
# grad_norm rows), each parameter blob's gradient norm at the display
# iterations on a log scale (bottom).
#
#   tools/cliff-plot.sh METRICS.csv OUT.png [CLIP_THRESHOLD]
#
# Needs gnuplot (Debian: gnuplot-nox). Exit status: 0 ok, 1 gnuplot failed or
# no data, 2 usage.
set -e
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 METRICS.csv OUT.png [CLIP_THRESHOLD]" >&2
    exit 2
fi
csv=$1 out=$2 clip=${3:--1}
[ -r "$csv" ] || { echo "$0: cannot read '$csv'" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "$0: gnuplot not found (apt-get install gnuplot-nox)" >&2; exit 1; }
grep -q '^train,' "$csv" || { echo "$0: '$csv' has no train rows" >&2; exit 1; }
case $clip in *[!0-9.eE+-]*|'') echo "$0: CLIP_THRESHOLD must be a number" >&2; exit 2 ;; esac
# Quote for a gnuplot string literal.
q() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
has_test=0
grep -q '^test,' "$csv" && has_test=1
# The gradient report's rows regrouped, one gnuplot data set (index) per blob
# in the order the file names them (so that each blob's points join into a
# line), and the blob names as one string of words (a name holds no space).
blobs=$(awk -F, '$1 == "grad_norm" && !seen[$10]++ { printf "%s ", $10 }' "$csv")
panels=2 height=800
per_blob=
if [ -n "$blobs" ]; then
    panels=3 height=1150
    per_blob=$(mktemp)
    trap 'rm -f "$per_blob"' EXIT
    awk -F, '$1 == "grad_norm" { if (!($10 in k)) { k[$10] = n++; } r[k[$10]] = r[k[$10]] $2 " " $11 "\n" }
             END { for (i = 0; i < n; i++) printf "%s\n\n", r[i] }' "$csv" > "$per_blob"
fi
gnuplot <<GP
set terminal pngcairo size 1000,$height noenhanced font ",10"
set output $(q "$out")
set datafile separator ","
set datafile missing "nan"
set multiplot layout $panels,1 title $(q "$(basename "$csv")")
set grid
set xlabel "iteration"
set ylabel "loss"
set key top right
tr(c) = (strcol(1) eq "train") ? column(c) : NaN
te(c) = (strcol(1) eq "test" && strstrt(strcol(10), "loss") == 0) ? column(c) : NaN
if ($has_test) {
    set y2label "test output"
    set y2tics
    plot $(q "$csv") using 2:(tr(3)) with lines lc rgb "#b0c4de" title "loss", \
         "" using 2:(tr(4)) with lines lw 2 lc rgb "#1f4e9c" title "smoothed loss", \
         "" using 2:(te(11)) axes x1y2 with points pt 7 lc rgb "#2e8b57" title "test outputs (non-loss)"
} else {
    plot $(q "$csv") using 2:(tr(3)) with lines lc rgb "#b0c4de" title "loss", \
         "" using 2:(tr(4)) with lines lw 2 lc rgb "#1f4e9c" title "smoothed loss"
}
unset y2label
unset y2tics
set logscale y
set ylabel "gradient norm (before clipping)"
sk(c) = (strcol(1) eq "train" && column(8) == 1) ? column(c) : NaN
nrm(c) = (strcol(1) eq "train" && column(6) > 0) ? column(c) : NaN
if ($clip >= 0) {
    plot $(q "$csv") using 2:(nrm(6)) with lines lc rgb "#c0392b" title "grad norm", \
         "" using 2:(sk(6) == sk(6) ? 1 : NaN) with points pt 2 lc rgb "black" title "skipped (non-finite)", \
         $clip with lines dt 2 lw 2 lc rgb "#555555" title sprintf("clip threshold %g", $clip)
} else {
    plot $(q "$csv") using 2:(nrm(6)) with lines lc rgb "#c0392b" title "grad norm", \
         "" using 2:(sk(6) == sk(6) ? 1 : NaN) with points pt 2 lc rgb "black" title "skipped (non-finite)"
}
if ($panels == 3) {
    set ylabel "gradient norm per blob"
    set key outside right
    set datafile separator whitespace
    blobs = $(q "$blobs")
    plot for [i = 1:words(blobs)] $(q "$per_blob") index (i - 1) using 1:(\$2 > 0 ? \$2 : NaN) \
        with linespoints pt 7 ps 0.5 title word(blobs, i)
}
unset multiplot
GP
[ -s "$out" ] || { echo "$0: gnuplot wrote nothing" >&2; exit 1; }
