#!/usr/bin/env python3
"""PyTorch twin of bench/nets/caffenet_solver.prototxt (Caffe's CaffeNet on random
data): the same layers and geometry, fillers, lr_mults, decay_mults and solver (SGD,
lr 0.01 x 0.1^floor(it / 100000), momentum 0.9, weight decay 0.0005; biases lr_mult
2, decay_mult 0), on one random batch of --batch (default 64) 3x227x227 gaussian
images with label 3, generated once. With --batch 256 it is the twin of
configs/caffe_caffenet_solver.prototxt's training net (Caffe's own batch; cliff
reads that one from LMDB through the Data layer, this one does not read data).

conv1 96 11x11/4 -> relu -> maxpool 3/2 -> LRN 5 (alpha 1e-4, beta 0.75)
-> conv2 256 5x5 pad 2 group 2 -> relu -> maxpool -> LRN -> conv3 384 3x3 pad 1
-> relu -> conv4 384 3x3 pad 1 group 2 -> relu -> conv5 256 3x3 pad 1 group 2
-> relu -> maxpool -> fc6 4096 -> relu -> dropout 0.5 -> fc7 4096 -> relu
-> dropout 0.5 -> fc8 1000 -> softmax loss. Caffe's pooling rounds up
(ceil_mode=True: 55 -> 27 -> 13 -> 6); Caffe's LRN scales alpha by 1/local_size,
as F.local_response_norm does. See torch_twin.py for the loop and the RESULT line.
"""
import torch.nn.functional as F

import torch_twin as tw

a = tw.args(__doc__.splitlines()[0], iters=5, warmup=2, batch=64)
G, C = tw.gaussian, tw.constant
P = {"conv1.w": (G(0.01, 96, 3, 11, 11), 1, 1), "conv1.b": (C(0, 96), 2, 0),
     "conv2.w": (G(0.01, 256, 48, 5, 5), 1, 1), "conv2.b": (C(1, 256), 2, 0),
     "conv3.w": (G(0.01, 384, 256, 3, 3), 1, 1), "conv3.b": (C(0, 384), 2, 0),
     "conv4.w": (G(0.01, 384, 192, 3, 3), 1, 1), "conv4.b": (C(1, 384), 2, 0),
     "conv5.w": (G(0.01, 256, 192, 3, 3), 1, 1), "conv5.b": (C(1, 256), 2, 0),
     "fc6.w": (G(0.005, 4096, 9216), 1, 1), "fc6.b": (C(1, 4096), 2, 0),
     "fc7.w": (G(0.005, 4096, 4096), 1, 1), "fc7.b": (C(1, 4096), 2, 0),
     "fc8.w": (G(0.01, 1000, 4096), 1, 1), "fc8.b": (C(0, 1000), 2, 0)}
W = {k: t for k, (t, _, _) in P.items()}


def conv(h, name, **kw):
    return F.relu(F.conv2d(h, W[name + ".w"], W[name + ".b"], **kw))


def pool_norm(h):
    h = F.max_pool2d(h, 3, 2, ceil_mode=True)
    return F.local_response_norm(h, 5, alpha=1e-4, beta=0.75, k=1.0)


def forward(x, training):
    h = pool_norm(conv(x, "conv1", stride=4))
    h = pool_norm(conv(h, "conv2", padding=2, groups=2))
    h = conv(h, "conv3", padding=1)
    h = conv(h, "conv4", padding=1, groups=2)
    h = F.max_pool2d(conv(h, "conv5", padding=1, groups=2), 3, 2, ceil_mode=True)
    h = F.dropout(F.relu(F.linear(h.flatten(1), W["fc6.w"], W["fc6.b"])), 0.5, training)
    h = F.dropout(F.relu(F.linear(h, W["fc7.w"], W["fc7.b"])), 0.5, training)
    return F.linear(h, W["fc8.w"], W["fc8.b"])


x = G(1.0, a.batch, 3, 227, 227)
y = C(3, a.batch).long()
tw.run(a, "caffenet", P, forward, x, y, base_lr=0.01, momentum=0.9, weight_decay=0.0005,
       lr_at=lambda it: 0.01 * 0.1 ** (it // 100000))
