#!/bin/sh
# Other readers still read cliff's HDF5 snapshots, whose arrays carry the
# Fletcher-32 checksum filter: h5py (Debian's python3-h5py) loads the weights
# and state with the values and shapes cliff wrote, h5dump dumps them, and a
# layer named "ip/bn" sits nested in ip's group as in Caffe's files.
# Usage: sh tests/snapshot_readers.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
TRAIN=$BUILD/train
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/s.prototxt" << 'NET'
net_param { name: "rd"
  layer { name: "d" type: "DummyData" top: "x" top: "y"
          dummy_data_param { shape { dim: 4 dim: 6 } shape { dim: 4 dim: 3 }
                             data_filler { type: "gaussian" std: 1 } } }
  layer { name: "ip" type: "InnerProduct" bottom: "x" top: "p"
          inner_product_param { num_output: 5 weight_filler { type: "gaussian" std: 0.1 } } }
  layer { name: "ip/bn" type: "InnerProduct" bottom: "p" top: "q"
          inner_product_param { num_output: 3 weight_filler { type: "gaussian" std: 0.1 } } }
  layer { name: "loss" type: "EuclideanLoss" bottom: "q" bottom: "y" top: "loss" } }
type: "Adam" base_lr: 0.01 lr_policy: "fixed" max_iter: 2 display: 0 random_seed: 1
NET
if ! "$TRAIN" "$tmp/s.prototxt" --set "snapshot_prefix=$tmp/r" > "$tmp/log" 2>&1; then
    echo "FAIL readers/train: $(cat "$tmp/log")"
    exit 1
fi
if h5dump "$tmp/r_iter_2.caffemodel.h5" > /dev/null 2>&1 && h5dump -p -H "$tmp/r_iter_2.caffemodel.h5" > "$tmp/dump" 2>&1 \
   && grep -q "CHECKSUM FLETCHER32" "$tmp/dump" \
   && h5dump "$tmp/r_iter_2.solverstate.h5" > /dev/null 2>&1; then
    echo "ok readers/h5dump"
else
    echo "FAIL readers/h5dump: $(head -c 400 "$tmp/dump")"
fi
PY=/usr/bin/python3
if ! "$PY" -c 'import h5py' 2> /dev/null; then
    echo "skip readers/h5py: no python3-h5py (tools/install-deps.sh installs it)"
    exit 0
fi
if "$PY" - "$tmp" > "$tmp/py.log" 2>&1 << 'PYEOF'
import sys, h5py, numpy as np
d = sys.argv[1]
with h5py.File(d + "/r_iter_2.caffemodel.h5", "r") as f:
    w, b, w2 = f["data/ip/0"][...], f["data/ip/1"][...], f["data/ip/bn/0"][...]
    assert w.shape == (5, 6) and b.shape == (5,) and w2.shape == (3, 5), (w.shape, w2.shape)
    assert f["data/ip/0"].fletcher32 and np.isfinite(w).all()
    assert sorted(k for k in f["data/ip"].keys()) == ["0", "1", "bn"]
with h5py.File(d + "/r_iter_2.solverstate.h5", "r") as f:
    assert int(f["iter"][0]) == 2
    assert f["learned_net"][()].decode().endswith("r_iter_2.caffemodel.h5")
    assert len(f["history"]) == 8 and f["history/0"].shape == (5, 6)
    assert f["cliff/type"][()].decode() == "Adam"
PYEOF
then
    echo "ok readers/h5py"
else
    echo "FAIL readers/h5py: $(tail -n 3 "$tmp/py.log")"
fi
