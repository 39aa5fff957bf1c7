#!/bin/sh
# The Data layer (LMDB) under MPI (layers/data_layer.c, solver/dist.c):
#   data_two_vs_one  2 ranks at batch 4 == 1 rank at batch 8 after 20
#                 iterations, through crop and mirror draws and epoch wraps (a
#                 rank passes over the other ranks' records without decoding
#                 them);
#   data_resume_exact  that run resumed from its iteration-10 snapshot ends
#                 with the same bits as the uninterrupted run;
#   dbbad1        a record only rank 1's batch holds (another shape): every
#                 rank stops at iteration 0, one error line in the combined
#                 output (rank 1's, naming the key), exit 3, no snapshot;
#   dbbad0        the same record in rank 0's batch (batch 2): rank 0 reports
#                 it, rank 1 (which passes over it unread) stops silently;
#   dbtest        the same record in rank 0's test net: rank 0 reports it,
#                 rank 1 stops at that iteration's reduction, both exit 3.
# Usage: sh tests/mpi_data.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
TRAIN=$BUILD/train
SUITE=mpi_data
. tests/report.sh
. tests/mpi_common.sh
prefix() { echo "snapshot_prefix=\"$tmp/$1\""; }
"$BUILD/stripes_images" --out "$tmp/img" --count 40 --size 8 --seed 3 > /dev/null ||
    fail setup "stripes_images failed"
# Data (LMDB): 2 ranks at batch 4 == 1 rank at batch 8, through crop and
# mirror draws (a rank passes over the others' records without decoding them,
# drawing what their transform would draw) and a wrap every 5 iterations.
# bad.lmdb: record 5 is 10 x 10 (the others 8 x 8), a record only the rank
# whose batch holds it meets.
"$BUILD/stripes_images" --out "$tmp/big" --count 1 --size 10 --seed 4 > /dev/null &&
    cp "$tmp/big/00000.png" "$tmp/img/big.png" &&
    awk 'NR == 6 { print "big.png 1"; next } { print }' "$tmp/img/list.txt" > "$tmp/badlist.txt" &&
    "$BUILD/convert_imageset" -backend lmdb "$tmp/img/" "$tmp/img/list.txt" "$tmp/good.lmdb" \
        > /dev/null &&
    "$BUILD/convert_imageset" -backend lmdb "$tmp/img/" "$tmp/badlist.txt" "$tmp/bad.lmdb" \
        > /dev/null || fail data_setup "convert_imageset failed"
cat > "$tmp/db_solver.prototxt" << EOF
net_param {
  layer { name: "d" type: "Data" top: "data" top: "label"
          data_param { source: "$tmp/good.lmdb" backend: LMDB batch_size: 8 }
          transform_param { scale: 0.00390625 mirror: true crop_size: 6 } }
  layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
          inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }
  layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
}
base_lr: 0.1 momentum: 0.9 lr_policy: "fixed" display: 1 max_iter: 20
clip_gradients: 0.5 random_seed: 7 snapshot_after_train: true
EOF
dbatch() { echo "net_param.layer[0].data_param.batch_size=$1"; }
# Sections (tests/report.sh: CLIFF_TEST_ONLY=NAME runs one): data, dbbad1,
# dbbad0, dbtest.
if section data; then
"$TRAIN" "$tmp/db_solver.prototxt" --set "$(dbatch 8)" --set "$(prefix db1)" \
    > "$tmp/db1.log" 2>&1 || fail data_one "exit $?: $(tail -3 "$tmp/db1.log")"
mpi 2 "$tmp/db_solver.prototxt" --set "$(dbatch 4)" --set "$(prefix db2)" --set snapshot=10 \
    > "$tmp/db2.log" 2>&1 || fail data_two "exit $?: $(tail -5 "$tmp/db2.log")"
close data_two_vs_one "$tmp/db1_iter_20.caffemodel.h5" "$tmp/db2_iter_20.caffemodel.h5" 2
mpi 2 "$tmp/db_solver.prototxt" --set "$(dbatch 4)" --set "$(prefix dbres)" \
    --resume "$tmp/db2_iter_10.solverstate.h5" > "$tmp/dbres.log" 2>&1 ||
    fail data_resume "exit $?: $(tail -5 "$tmp/dbres.log")"
same data_resume_exact "$tmp/db2_iter_20" "$tmp/dbres_iter_20"
fi

# Record 5 is in batch 1 (records 4..7), rank 1's at iteration 0: rank 1 alone
# reports it (rank 0 logs only that it stops), every rank exits 3 (bad data).
if section dbbad1; then
mpi 2 "$tmp/db_solver.prototxt" --set "$(dbatch 4)" --set "$(prefix dbbad1)" \
    --set "net_param.layer[0].data_param.source=\"$tmp/bad.lmdb\"" > "$tmp/dbbad1.log" 2>&1
one_error dbbad1 3 $? "$tmp/dbbad1.log" "^rank 1: error: iteration 0, .*key '00000005_big.png'"
check dbbad1_once "the bad key named $(grep -c big.png "$tmp/dbbad1.log") times" \
    test "$(grep -c big.png "$tmp/dbbad1.log")" -eq 1
fi
# At batch 2 record 5 is in batch 2 (records 4, 5), rank 0's at iteration 1;
# rank 1 passes over it unread and stops silently.
if section dbbad0; then
mpi 2 "$tmp/db_solver.prototxt" --set "$(dbatch 2)" --set "$(prefix dbbad0)" \
    --set "net_param.layer[0].data_param.source=\"$tmp/bad.lmdb\"" > "$tmp/dbbad0.log" 2>&1
one_error dbbad0 3 $? "$tmp/dbbad0.log" "^rank 0: error: iteration 1, .*key '00000005_big.png'"
fi

# A bad record met by rank 0's test net (rank 0 tests alone, at the top of an
# iteration): rank 1, waiting in that iteration's reduction, learns of it
# there; rank 0 alone reports it, both exit 3.
if section dbtest; then
cat > "$tmp/dbtest_solver.prototxt" << EOF
net_param {
  layer { name: "d" type: "Data" top: "data" top: "label" include { phase: TRAIN }
          data_param { source: "$tmp/good.lmdb" backend: LMDB batch_size: 4 }
          transform_param { scale: 0.00390625 crop_size: 6 } }
  layer { name: "t" type: "Data" top: "data" top: "label" include { phase: TEST }
          data_param { source: "$tmp/bad.lmdb" backend: LMDB batch_size: 4 }
          transform_param { scale: 0.00390625 crop_size: 6 } }
  layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
          inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }
  layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
}
base_lr: 0.1 lr_policy: "fixed" display: 1 max_iter: 20 test_iter: 3 test_interval: 10
random_seed: 7 snapshot_after_train: true snapshot_prefix: "$tmp/dbtest"
EOF
mpi 2 "$tmp/dbtest_solver.prototxt" > "$tmp/dbtest.log" 2>&1
one_error dbtest 3 $? "$tmp/dbtest.log" "^rank 0: error: .*test net.*key '00000005_big.png'"
fi
