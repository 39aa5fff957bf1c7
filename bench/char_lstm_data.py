#!/usr/bin/python3
"""Random sequence data for bench/nets/char_lstm_train.prototxt (the bench times
the char-LSTM's step, not its data): OUT_DIR/char_lstm.h5 holds, time-major for
HDF5Data read with batch_size T (README "Sequence data"),
    ids     S x N  symbol ids, uniform in [0, V)
    target  S x N  the next symbol of each stream (ids shifted by one step)
    cont    S x N  0 at step 0, else 1 (one sequence per stream over the file)
with S = 512 (8 batches of T = 64), N = 32, V = 100, seed 1; OUT_DIR/list.txt
names it (hdf5_data_param.source). Needs numpy and h5py (python3-h5py).
Usage: char_lstm_data.py OUT_DIR   (make lstm-bench-data)
"""
import os
import sys

import h5py
import numpy as np

S, N, V = 512, 32, 100
out = sys.argv[1] if len(sys.argv) > 1 else "build/bench/char_lstm"
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(1)
ids = rng.integers(0, V, size=(S + 1, N))
cont = np.ones((S, N), np.float32)
cont[0] = 0
h5 = os.path.join(out, "char_lstm.h5")
with h5py.File(h5 + ".tmp", "w") as f:
    f["ids"] = ids[:S].astype(np.float32)
    f["target"] = ids[1:].astype(np.float32)
    f["cont"] = cont
os.replace(h5 + ".tmp", h5)
with open(os.path.join(out, "list.txt"), "w") as f:
    f.write(h5 + "\n")
