/* Split (Caffe's SplitLayer): copies one bottom to every top; backward sums the
 * tops' gradients into the bottom. The net inserts it where one blob feeds
 * several layers. (Caffe shares the data instead of copying; the values are the
 * same.) */
#include <string.h>

#include "vision_util.h"

static int split_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb;
    for (int t = 0; t < nt; t++)
        if (top[t] == bottom[0])
            return cliff_error_set(err, "Split top '%s' must not be its bottom",
                                   cliff_tname(l, t));
    return 0;
}

static int split_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt, CliffError *err)
{
    (void)l, (void)nb;
    for (int t = 0; t < nt; t++)
        if (cliff_tensor_reshape_like(top[t], bottom[0], err)) return -1;
    return 0;
}

static void split_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                          CliffTensor *const *top, int nt)
{
    (void)l, (void)nb;
    for (int t = 0; t < nt; t++)
        memcpy(top[t]->data, bottom[0]->data, bottom[0]->count * sizeof(float));
}

static void split_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                           const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)l, (void)nb;
    if (!propagate_down[0]) return;
    const size_t n = bottom[0]->count;
    float *dx = bottom[0]->diff;
    if (nt == 0) {
        memset(dx, 0, n * sizeof *dx);
        return;
    }
    memcpy(dx, top[0]->diff, n * sizeof *dx);
    for (int t = 1; t < nt; t++) {
        const float *d = top[t]->diff;
        for (size_t i = 0; i < n; i++) dx[i] += d[i];
    }
}

const CliffLayerOps cliff_ops_Split = {
    .type = "Split",
    .min_bottoms = 1,
    .max_bottoms = 1,
    .min_tops = 1,
    .max_tops = CLIFF_ANY,
    .setup = split_setup,
    .reshape = split_reshape,
    .forward = split_forward,
    .backward = split_backward,
};
