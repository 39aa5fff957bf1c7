#!/usr/bin/env python3
"""PyTorch twin of bench/nets/cifar10_quick_solver.prototxt (Caffe's cifar10_quick
on random data): the same layers and geometry, fillers, lr_mults and solver (SGD,
lr 0.001 fixed, momentum 0.9, weight decay 0.004, bias lr_mult 2, decay_mult 1), on
one random batch of 100 3x32x32 gaussian images with label 3, generated once.

conv 32 5x5 pad 2 -> maxpool 3/2 -> relu -> conv 32 5x5 pad 2 -> relu -> avepool 3/2
-> conv 64 5x5 pad 2 -> relu -> avepool 3/2 -> ip 64 -> ip 10 -> softmax loss.
Caffe's pooling rounds the output size up: ceil_mode=True (32 -> 16 -> 8 -> 4).
See torch_twin.py for the loop and the RESULT line.
"""
import torch.nn.functional as F

import torch_twin as tw

a = tw.args(__doc__.splitlines()[0], iters=50, warmup=5)
G, C = tw.gaussian, tw.constant
P = {"conv1.w": (G(0.0001, 32, 3, 5, 5), 1, 1), "conv1.b": (C(0, 32), 2, 1),
     "conv2.w": (G(0.01, 32, 32, 5, 5), 1, 1), "conv2.b": (C(0, 32), 2, 1),
     "conv3.w": (G(0.01, 64, 32, 5, 5), 1, 1), "conv3.b": (C(0, 64), 2, 1),
     "ip1.w": (G(0.1, 64, 1024), 1, 1), "ip1.b": (C(0, 64), 2, 1),
     "ip2.w": (G(0.1, 10, 64), 1, 1), "ip2.b": (C(0, 10), 2, 1)}
W = {k: t for k, (t, _, _) in P.items()}


def forward(x, training):
    h = F.conv2d(x, W["conv1.w"], W["conv1.b"], padding=2)
    h = F.relu(F.max_pool2d(h, 3, 2, ceil_mode=True))
    h = F.relu(F.conv2d(h, W["conv2.w"], W["conv2.b"], padding=2))
    h = F.avg_pool2d(h, 3, 2, ceil_mode=True)
    h = F.relu(F.conv2d(h, W["conv3.w"], W["conv3.b"], padding=2))
    h = F.avg_pool2d(h, 3, 2, ceil_mode=True)
    h = F.linear(h.flatten(1), W["ip1.w"], W["ip1.b"])
    return F.linear(h, W["ip2.w"], W["ip2.b"])


x = G(1.0, 100, 3, 32, 32)
y = C(3, 100).long()
tw.run(a, "cifar10_quick", P, forward, x, y, base_lr=0.001, momentum=0.9,
       weight_decay=0.004, lr_at=lambda it: 0.001)
