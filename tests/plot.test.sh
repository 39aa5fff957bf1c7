#!/bin/sh
# tools/cliff-plot.sh draws a metrics CSV (train rows, test rows, a skipped
# non-finite iteration) to a PNG; bad arguments fail with status 2.
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
{
    echo "kind,iter,loss,smoothed_loss,lr,grad_norm,clip_scale,skipped,seconds,output,value"
    for i in 0 1 2 3 4 5 6 7 8 9; do
        echo "train,$i,$((10 - i)).5,$((10 - i)),0.01,$((i * i + 1)).25,0.5,0,0.$i,,"
    done
    echo "train,10,nan,1,0.01,inf,1,1,1.0,,"
    echo "test,5,,,,,,,0.5,test0/accuracy,0.75"
    echo "test,5,,,,,,,0.5,test0/loss,0.9"
} > "$d/m.csv"
# the same run with a gradient report (train --grad-report) every 5 iterations
{
    cat "$d/m.csv"
    for i in 0 5; do
        echo "grad_norm,$i,,,,,,,0.$i,conv1/0,$((i + 2)).5,,"
        echo "weight_norm,$i,,,,,,,0.$i,conv1/0,3,,"
        echo "grad_norm,$i,,,,,,,0.$i,ip/1,0.$((i + 1)),,"
    done
} > "$d/g.csv"
if sh tools/cliff-plot.sh "$d/g.csv" "$d/g.png" > "$d/log" 2>&1 && [ -s "$d/g.png" ] &&
   [ "$(python3 -c 'import struct,sys; print(struct.unpack(">I", open(sys.argv[1],"rb").read()[20:24])[0])' "$d/g.png")" = 1150 ]; then
    echo "ok plot_png_per_blob_gradient_panel"
else
    echo "FAIL plot_png_per_blob_gradient_panel: $(cat "$d/log")"
fi
if sh tools/cliff-plot.sh "$d/m.csv" "$d/out.png" 2 > "$d/log" 2>&1 &&
   [ "$(head -c 8 "$d/out.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; then
    echo "ok plot_png"
else
    echo "FAIL plot_png: $(cat "$d/log")"
fi
sh tools/cliff-plot.sh "$d/m.csv" "$d/none.png" >/dev/null 2>&1
[ -s "$d/none.png" ] && echo "ok plot_png_without_clip" || echo "FAIL plot_png_without_clip"
sh tools/cliff-plot.sh "$d/m.csv" > /dev/null 2>&1
[ $? -eq 2 ] && echo "ok plot_usage" || echo "FAIL plot_usage: expected status 2"
sh tools/cliff-plot.sh "$d/missing.csv" "$d/x.png" > /dev/null 2>&1
[ $? -eq 1 ] && echo "ok plot_missing_file" || echo "FAIL plot_missing_file: expected status 1"
