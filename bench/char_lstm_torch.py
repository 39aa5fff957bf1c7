#!/usr/bin/env python3
"""PyTorch twin of bench/nets/char_lstm_solver.prototxt (the char-LSTM step): the
same layers, sizes, fillers, solver and clipping, on random ids made once.

nn.Embedding (100 -> 256, no bias, as cliff's Embed with bias_term false) ->
nn.LSTM (2 layers of 256) -> nn.Linear (256 -> 100) -> cross entropy over every
(step, stream); T = 64 steps x N = 32 streams, time-major as cliff. Truncated BPTT
as cliff's LSTM without expose_hidden: the final (h, c) of a batch start the next,
detached; every 8th batch starts from zeros (cliff's data has cont 0 at step 0 of
its 512 steps, i.e. every 8 batches). Fillers: uniform +-0.08, biases 0.

Biases: Caffe's LSTM has one bias per layer (b_c, 4H); PyTorch's two (b_ih, b_hh)
that are only ever summed. b_hh is held at zero and frozen (requires_grad False,
not counted), so the trained model and the parameter count are cliff's exactly
(1,101,924), while PyTorch still runs its usual fused kernel (bias=False would drop
both biases).

Solver: Caffe's SGD, lr 0.01 fixed, momentum 0.9, no weight decay; before the
update the gradients are scaled by clip / ||g|| when their global L2 norm ||g||
exceeds clip_gradients 5 (torch.nn.utils.clip_grad_norm_, which divides by
||g|| + 1e-6: a relative 2e-7 of no consequence here);
    v = momentum * v + lr * g;  w -= v.
Prints torch_twin.py's RESULT line; run with OMP_NUM_THREADS set to --threads.
"""
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import torch_twin as tw

T, N, V, H, RESET = 64, 32, 100, 256, 8
LR, MOMENTUM, CLIP = 0.01, 0.9, 5.0

a = tw.args(__doc__.splitlines()[0], iters=50, warmup=5)
embed = nn.Embedding(V, H)
lstm = nn.LSTM(H, H, num_layers=2)
ip = nn.Linear(H, V)
with torch.no_grad():
    for m in (embed, lstm, ip):
        for name, p in m.named_parameters():
            if name.startswith("bias"):
                p.zero_()
            else:
                p.uniform_(-0.08, 0.08)
    for k in range(2):
        getattr(lstm, f"bias_hh_l{k}").requires_grad_(False)
params = [p for m in (embed, lstm, ip) for p in m.parameters() if p.requires_grad]
nparams = sum(p.numel() for p in params)
hist = [torch.zeros_like(p) for p in params]

# Random ids and next-symbol targets for RESET batches, made once.
ids = torch.randint(0, V, (RESET * T + 1, N))
batches = [(ids[b * T:(b + 1) * T], ids[b * T + 1:(b + 1) * T + 1].reshape(-1))
           for b in range(RESET)]

state = None
t_train = 0.0
for it in range(a.warmup + a.iters):
    x, y = batches[it % RESET]
    t0 = time.perf_counter()
    if it % RESET == 0:
        state = None  # cont 0: a new sequence in every stream
    out, (h, c) = lstm(embed(x), state)
    state = (h.detach(), c.detach())
    loss = F.cross_entropy(ip(out).reshape(T * N, V), y)
    for p in params:
        p.grad = None
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, CLIP)
    with torch.no_grad():
        for p, v in zip(params, hist):
            v.mul_(MOMENTUM).add_(p.grad, alpha=LR)
            p.sub_(v)
    if it >= a.warmup:
        t_train += time.perf_counter() - t0
    if a.display and it % a.display == 0:
        print(f"iter {it} loss {loss.item():.4f}", flush=True)
print(f"RESULT net char_lstm iters {a.iters} warmup {a.warmup} batch {N} threads {a.threads} "
      f"channels_last 0 params {nparams} train_s {t_train:.3f} iter_per_s {a.iters / t_train:.3f}",
      flush=True)
