"""Shared part of the PyTorch twins of the bench nets (cifar10_quick_torch.py,
caffenet_torch.py): the command line, Caffe's SGD solver and the timed loop.

A twin gives its parameters (name -> (tensor, lr_mult, decay_mult)), a forward
function of (x, training) -> logits, and a random batch; run() trains on that one
batch, generated once before the loop (cliff's DummyData refills it at every step,
so cliff's figure includes the fill and the twin's does not).

Solver (Caffe's SGD): lr = policy(it);
    v = momentum * v + lr * lr_mult * (g + weight_decay * decay_mult * w);  w -= v.
Prints one line "RESULT net N iters I warmup W batch B threads T params P train_s S
iter_per_s R fwd_s F bwd_s B": R = I / S over the I iterations after W untimed
warm-up ones; F and B are the forward (with the loss) and backward parts of S.
Run with OMP_NUM_THREADS set to --threads (else PyTorch takes a second core).
"""
import argparse
import time

import torch
import torch.nn.functional as F


def args(description, iters, warmup, batch=None):
    """The command line; with batch given, also --batch (default batch)."""
    p = argparse.ArgumentParser(description=description)
    if batch is not None:
        p.add_argument("--batch", type=int, default=batch, help="images per batch")
    p.add_argument("--iters", type=int, default=iters, help="timed iterations")
    p.add_argument("--warmup", type=int, default=warmup, help="untimed iterations first")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--display", type=int, default=0, help="print the loss every N (0: never)")
    p.add_argument("--channels-last", action="store_true",
                   help="images and convolution weights in NHWC (torch.channels_last)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    return a


def gaussian(std, *shape):
    return torch.randn(*shape) * std


def constant(value, *shape):
    return torch.full(shape, float(value))


def run(a, name, params, forward, x, y, base_lr, momentum, weight_decay, lr_at):
    """Trains on (x, y) for a.warmup + a.iters steps; prints the RESULT line."""
    if a.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
        for t, _, _ in params.values():
            if t.dim() == 4:
                t.data = t.data.contiguous(memory_format=torch.channels_last)
    for t, _, _ in params.values():
        t.requires_grad_(True)
    hist = {k: torch.zeros_like(t) for k, (t, _, _) in params.items()}
    nparams = sum(t.numel() for t, _, _ in params.values())
    t_train = t_fwd = t_bwd = 0.0
    for it in range(a.warmup + a.iters):
        t0 = time.perf_counter()
        loss = F.cross_entropy(forward(x, True), y)
        t1 = time.perf_counter()
        for t, _, _ in params.values():
            t.grad = None
        loss.backward()
        t2 = time.perf_counter()
        lr = lr_at(it)
        with torch.no_grad():
            for k, (t, lr_mult, decay_mult) in params.items():
                g = t.grad.add(t, alpha=weight_decay * decay_mult) if decay_mult else t.grad
                hist[k].mul_(momentum).add_(g, alpha=lr * lr_mult)
                t.sub_(hist[k])
        if it >= a.warmup:
            t_train += time.perf_counter() - t0
            t_fwd += t1 - t0
            t_bwd += t2 - t1
        if a.display and it % a.display == 0:
            print(f"iter {it} loss {loss.item():.4f} lr {lr:.6g}", flush=True)
    print(f"RESULT net {name} iters {a.iters} warmup {a.warmup} batch {x.shape[0]} "
          f"threads {a.threads} channels_last {int(a.channels_last)} params {nparams} train_s {t_train:.3f} "
          f"iter_per_s {a.iters / t_train:.3f} fwd_s {t_fwd:.3f} bwd_s {t_bwd:.3f}", flush=True)
