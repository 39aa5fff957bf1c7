/* EuclideanLoss (Caffe's EuclideanLossLayer):
 *   loss = sum (a - b)^2 / (2 N)
 * bottom 0 (a), bottom 1 (b): same count per item, N = shape[0] (both must
 * agree); top: scalar. Both bottoms get gradients:
 *   da = w (a - b) / N,  db = -w (a - b) / N,  w = loss weight (top diff).
 * Bottom 1 is the target by Caffe's convention (bottom: "pred" bottom:
 * "label"): any finite value is taken, as in Caffe, but a non-finite one is a
 * data error naming the layer, bottom, row and value (check_bottoms) rather
 * than a NaN loss. Bottom 0, the prediction, is the net's own output: a
 * non-finite value there is left to the solver's non-finite guard. */
#include <stdlib.h>

#include "loss_common.h"

typedef struct EuclideanState {
    CliffTensor diff; /* a - b of the last forward */
} EuclideanState;

static int eu_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                    int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)top, (void)nt;
    EuclideanState *s = calloc(1, sizeof *s);
    if (!s) return cliff_error_set(err, "out of memory");
    cliff_tensor_init(&s->diff);
    l->priv = s;
    return 0;
}

static int eu_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, CliffError *err)
{
    (void)nb, (void)nt;
    EuclideanState *s = l->priv;
    char a[128], b[128];
    if (cliff_loss_reshape(bottom, top, err)) return -1;
    if (bottom[0]->count != bottom[1]->count)
        return cliff_error_set(err, "inputs must have the same dimension: %s vs %s",
                               cliff_tensor_shape_str(bottom[0], a, sizeof a),
                               cliff_tensor_shape_str(bottom[1], b, sizeof b));
    return cliff_tensor_reshape_like(&s->diff, bottom[0], err);
}

static int eu_check(const CliffLayer *l, CliffTensor *const *bottom, int nb, CliffError *err)
{
    (void)nb;
    return cliff_finite_check(l, bottom, 1, NULL, "target", err);
}

static void eu_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    EuclideanState *s = l->priv;
    const float *a = bottom[0]->data, *b = bottom[1]->data;
    float *d = s->diff.data;
    double sum = 0;
    for (size_t i = 0; i < bottom[0]->count; i++) {
        d[i] = a[i] - b[i];
        sum += (double)d[i] * d[i];
    }
    const int N = bottom[0]->shape[0];
    top[0]->data[0] = N > 0 ? (float)(sum / N / 2) : 0.0f;
}

static void eu_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                        const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt, (void)nb;
    EuclideanState *s = l->priv;
    const int N = bottom[0]->shape[0];
    if (N <= 0) return;
    for (int k = 0; k < 2; k++) {
        if (!propagate_down[k]) continue;
        const float alpha = (k == 0 ? 1.0f : -1.0f) * top[0]->diff[0] / (float)N;
        float *dx = bottom[k]->diff;
        for (size_t i = 0; i < bottom[k]->count; i++) dx[i] = alpha * s->diff.data[i];
    }
}

static void eu_destroy(CliffLayer *l)
{
    EuclideanState *s = l->priv;
    if (!s) return;
    cliff_tensor_free(&s->diff);
    free(s);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_EuclideanLoss = {
    .type = "EuclideanLoss",
    .min_bottoms = 2, .max_bottoms = 2, .min_tops = 1, .max_tops = 1,
    .is_loss = 1,
    .setup = eu_setup,
    .reshape = eu_reshape,
    .check_bottoms = eu_check,
    .forward = eu_forward,
    .backward = eu_backward,
    .destroy = eu_destroy,
};
