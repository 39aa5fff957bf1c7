#!/usr/bin/python3
"""Writes tests/golden/lenet_golden.h5: the expected loss and parameter
gradients of tests/nets/lenet_golden.prototxt on fixed weights and a fixed
batch, computed independently of cliff with NumPy in float64.

The net (Caffe semantics, row-major N x C x H x W):
  data 4x1x28x28 -> conv1 (6, 5x5, stride 1) 4x6x24x24 -> max pool 2x2/2 4x6x12x12
  -> conv2 (12, 5x5) 4x12x8x8 -> max pool 2x2/2 4x12x4x4 -> ip1 (40) 4x40
  -> ReLU -> ip2 (10) 4x10 -> SoftmaxWithLoss (normalization VALID: mean over
  the 4 samples) -> loss.
Parameter shapes as Caffe declares them: convolution weights O x C x kh x kw,
biases O; InnerProduct weights N_out x K_in (top = bottom . W^T + b), biases N_out.

File layout (all float32 except the expected values, float64):
  /data 4x1x28x28, /label 4           the batch
  /params/<layer>/<i>                 the weights loaded into the net
  /expected/loss                      scalar
  /expected/grad/<layer>/<i>          d loss / d params/<layer>/<i>
  attributes on /: seed, pool_margin, relu_margin (see below)

The weights and data are float32 (what cliff computes with); the reference
computes in float64 from those float32 values. Max pooling and ReLU are not
differentiable at ties / zero: a float32 run could pick a different branch than
the float64 reference if two pooled values (or a ReLU input and 0) were closer
than float32 rounding. The script therefore redraws until every pooling window's
largest value beats the runner-up, and every ReLU input is away from 0, by at
least MARGIN = 1e-4 times the largest magnitude of that activation (recorded as
attributes); float32 rounding errors are ~1e-6 of that magnitude.

Second part, /full: configs/lenet_train_test.prototxt's real widths
(tests/nets/lenet_full_golden.prototxt: 20 / 50 / 500 outputs, 431080
parameters) on the same batch. Its weights and gradients are too large to store,
so the weights come from a formula both sides evaluate bit for bit (hash_u01
below and its C twin in tests/test_lenet_golden.c):
  u = lowbias32(i + seed * 0x9E3779B9 + blob * 0x85EBCA6B mod 2^32) / 2^32,
  w = float32((2u - 1) * scale), scale = sqrt(3 / fan_in) for weights, 0.1 for
  biases (blob = index in Caffe's parameter order conv1/0, conv1/1, ... ip2/1),
and the expected gradients are stored as statistics plus samples:
  /full/seed                    the formula's seed (chosen for the margins)
  /full/expected/loss           scalar
  /full/expected/stats          8 x 5 per blob: max |g|, sum |g|, sqrt(sum g^2),
                                sum s_i g_i with s_i = +-1 (sign_of below), and the
                                sum of the float32 weights (checks the formula)
  /full/expected/sample         S x 3 rows (blob, element index, d loss / d w):
                                every element of blobs up to SAMPLES elements,
                                else SAMPLES of them including the largest.

Run from the repository root: /usr/bin/python3 tests/golden/make_lenet_golden.py
(needs numpy and h5py; the test itself only reads the committed .h5 file).
"""
import os
import sys

import h5py
import numpy as np

BATCH = 4
C1, C2, H1, CLASSES = 6, 12, 40, 10
K = 5
MARGIN = 1e-4
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lenet_golden.h5")


def conv_forward(x, w, b):
    """x N x C x H x W, w O x C x k x k, stride 1, no pad: N x O x (H-k+1) x (W-k+1)."""
    n, c, h, wd = x.shape
    o, _, k, _ = w.shape
    ho, wo = h - k + 1, wd - k + 1
    y = np.zeros((n, o, ho, wo))
    for a in range(k):
        for bb in range(k):
            y += np.einsum("oc,ncij->noij", w[:, :, a, bb], x[:, :, a:a + ho, bb:bb + wo])
    return y + b[None, :, None, None]


def conv_backward(x, w, dy):
    """Gradients of conv_forward: (dx, dw, db)."""
    o, _, k, _ = w.shape
    ho, wo = dy.shape[2], dy.shape[3]
    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    for a in range(k):
        for bb in range(k):
            patch = x[:, :, a:a + ho, bb:bb + wo]
            dw[:, :, a, bb] = np.einsum("noij,ncij->oc", dy, patch)
            dx[:, :, a:a + ho, bb:bb + wo] += np.einsum("oc,noij->ncij", w[:, :, a, bb], dy)
    return dx, dw, dy.sum(axis=(0, 2, 3))


def pool_forward(x):
    """Max pooling 2x2 stride 2 on even H, W: (y, argmax mask, smallest gap).

    The gap is the difference between the largest and second largest value of
    each window (the minimum over all windows)."""
    n, c, h, w = x.shape
    win = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(
        n, c, h // 2, w // 2, 4)
    y = win.max(axis=-1)
    srt = np.sort(win, axis=-1)
    gap = (srt[..., 3] - srt[..., 2]).min()
    mask = win == y[..., None]  # exactly one True per window (gap > 0)
    return y, mask, gap


def pool_backward(mask, dy, shape):
    n, c, h, w = shape
    dwin = mask * dy[..., None]
    return dwin.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(shape)


def forward_backward(x, label, p):
    """Loss and gradients of every parameter (float64), plus the margins."""
    n = x.shape[0]
    c1 = conv_forward(x, p["conv1/0"], p["conv1/1"])
    p1, m1, gap1 = pool_forward(c1)
    c2 = conv_forward(p1, p["conv2/0"], p["conv2/1"])
    p2, m2, gap2 = pool_forward(c2)
    flat = p2.reshape(n, -1)
    z1 = flat @ p["ip1/0"].T + p["ip1/1"]
    a1 = np.maximum(z1, 0)
    z2 = a1 @ p["ip2/0"].T + p["ip2/1"]
    z2s = z2 - z2.max(axis=1, keepdims=True)
    prob = np.exp(z2s) / np.exp(z2s).sum(axis=1, keepdims=True)
    lab = label.astype(int)
    loss = -np.log(prob[np.arange(n), lab]).mean()

    g = {}
    dz2 = prob.copy()
    dz2[np.arange(n), lab] -= 1
    dz2 /= n
    g["ip2/0"] = dz2.T @ a1
    g["ip2/1"] = dz2.sum(axis=0)
    da1 = dz2 @ p["ip2/0"]
    dz1 = da1 * (z1 > 0)
    g["ip1/0"] = dz1.T @ flat
    g["ip1/1"] = dz1.sum(axis=0)
    dp2 = (dz1 @ p["ip1/0"]).reshape(p2.shape)
    dc2 = pool_backward(m2, dp2, c2.shape)
    dp1, g["conv2/0"], g["conv2/1"] = conv_backward(p1, p["conv2/0"], dc2)
    dc1 = pool_backward(m1, dp1, c1.shape)
    _, g["conv1/0"], g["conv1/1"] = conv_backward(x, p["conv1/0"], dc1)

    pool_margin = min(gap1 / np.abs(c1).max(), gap2 / np.abs(c2).max())
    relu_margin = np.abs(z1).min() / np.abs(z1).max()
    return loss, g, pool_margin, relu_margin


def draw(seed):
    """Weights like Caffe's xavier filler (uniform +-sqrt(3 / fan_in)), small
    nonzero biases, pixels in [0, 1) like Fashion-MNIST / 256, all float32."""
    rng = np.random.default_rng(seed)

    def uni(shape, scale):
        return rng.uniform(-scale, scale, size=shape).astype(np.float32)

    p = {
        "conv1/0": uni((C1, 1, K, K), np.sqrt(3.0 / (1 * K * K))),
        "conv1/1": uni((C1,), 0.1),
        "conv2/0": uni((C2, C1, K, K), np.sqrt(3.0 / (C1 * K * K))),
        "conv2/1": uni((C2,), 0.1),
        "ip1/0": uni((H1, C2 * 4 * 4), np.sqrt(3.0 / (C2 * 16))),
        "ip1/1": uni((H1,), 0.1),
        "ip2/0": uni((CLASSES, H1), np.sqrt(3.0 / H1)),
        "ip2/1": uni((CLASSES,), 0.1),
    }
    x = rng.uniform(0, 1, size=(BATCH, 1, 28, 28)).astype(np.float32)
    label = np.array([3, 0, 7, 9], dtype=np.float32)
    return x, label, p


FULL_BLOBS = [  # name, shape, fan_in (0: a bias)
    ("conv1/0", (20, 1, K, K), 1 * K * K), ("conv1/1", (20,), 0),
    ("conv2/0", (50, 20, K, K), 20 * K * K), ("conv2/1", (50,), 0),
    ("ip1/0", (500, 800), 800), ("ip1/1", (500,), 0),
    ("ip2/0", (CLASSES, 500), 500), ("ip2/1", (CLASSES,), 0),
]
FULL_POOL_MARGIN, FULL_RELU_MARGIN = 2e-5, 1e-4  # ~20x float32 error at these widths
SAMPLES = 200
MASK = np.uint64(0xFFFFFFFF)


def lowbias32(x):
    """Chris Wellons' 32-bit integer hash, on uint64 arrays holding 32-bit values."""
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & MASK
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & MASK
    x ^= x >> np.uint64(16)
    return x


def hash_u01(n, blob, seed):
    """n values in [0, 1), exact in float64."""
    offset = np.uint64((seed * 0x9E3779B9 + blob * 0x85EBCA6B) & 0xFFFFFFFF)
    x = (np.arange(n, dtype=np.uint64) + offset) & MASK
    return lowbias32(x).astype(np.float64) / 2.0 ** 32


def sign_of(n, blob):
    """+-1 per element: the top bit of lowbias32(i + 0x68E31DA4 * (blob + 1))."""
    offset = np.uint64((0x68E31DA4 * (blob + 1)) & 0xFFFFFFFF)
    x = lowbias32((np.arange(n, dtype=np.uint64) + offset) & MASK)
    return np.where(x >> np.uint64(31), 1.0, -1.0)


def full_weights(seed):
    p = {}
    for b, (name, shape, fan_in) in enumerate(FULL_BLOBS):
        scale = np.sqrt(3.0 / fan_in) if fan_in else 0.1
        u = hash_u01(int(np.prod(shape)), b, seed)
        p[name] = ((2 * u - 1) * scale).astype(np.float32).reshape(shape)
    return p


def write_full(f, x, label):
    """The /full part: picks a seed with safe margins, stores stats and samples."""
    for seed in range(1, 1000):
        p = full_weights(seed)
        loss, g, pool_margin, relu_margin = forward_backward(
            x.astype(np.float64), label, {k: v.astype(np.float64) for k, v in p.items()})
        if pool_margin >= FULL_POOL_MARGIN and relu_margin >= FULL_RELU_MARGIN:
            break
    else:
        sys.exit("no seed gives the margins for the full-width net")
    rng = np.random.default_rng(seed)
    stats, rows = [], []
    for b, (name, _, _) in enumerate(FULL_BLOBS):
        v = g[name].ravel()
        stats.append([np.abs(v).max(), np.abs(v).sum(), np.sqrt((v * v).sum()),
                      (sign_of(v.size, b) * v).sum(), p[name].astype(np.float64).sum()])
        if v.size <= SAMPLES:
            idx = np.arange(v.size)
        else:
            idx = rng.choice(v.size, SAMPLES - 1, replace=False)
            idx = np.unique(np.append(idx, np.abs(v).argmax()))
        rows += [[b, i, v[i]] for i in idx]
    f.create_dataset("full/seed", data=np.int64(seed))
    f.create_dataset("full/expected/loss", data=np.float64(loss))
    f.create_dataset("full/expected/stats", data=np.array(stats, dtype=np.float64))
    f.create_dataset("full/expected/sample", data=np.array(rows, dtype=np.float64))
    f["full"].attrs["pool_margin"] = pool_margin
    f["full"].attrs["relu_margin"] = relu_margin
    return seed, loss, pool_margin, relu_margin


def main():
    for seed in range(1, 1000):
        x, label, p = draw(seed)
        p64 = {k: v.astype(np.float64) for k, v in p.items()}
        loss, g, pool_margin, relu_margin = forward_backward(x.astype(np.float64), label, p64)
        if pool_margin >= MARGIN and relu_margin >= MARGIN:
            break
    else:
        sys.exit("no seed gives the margins")
    with h5py.File(OUT, "w", track_order=True) as f:
        f.attrs["seed"] = seed
        f.attrs["pool_margin"] = pool_margin
        f.attrs["relu_margin"] = relu_margin
        f.create_dataset("data", data=x)
        f.create_dataset("label", data=label)
        for name, v in p.items():
            f.create_dataset("params/" + name, data=v)
        f.create_dataset("expected/loss", data=np.float64(loss))
        for name, v in g.items():
            f.create_dataset("expected/grad/" + name, data=v.astype(np.float64))
        full = write_full(f, x, label)
    print("seed %d, loss %.9f, pool margin %.2e, relu margin %.2e, %d bytes -> %s"
          % (seed, loss, pool_margin, relu_margin, os.path.getsize(OUT), OUT))
    print("full-width net: seed %d, loss %.9f, pool margin %.2e, relu margin %.2e" % full)


if __name__ == "__main__":
    main()
