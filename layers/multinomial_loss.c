/* MultinomialLogisticLoss (Caffe's MultinomialLogisticLossLayer): the
 * negative log-likelihood of probabilities that are already normalized.
 * bottom 0: probabilities N x D (any shape; D = count / N); bottom 1: N labels
 * in [0, D) (float-coded integers, checked before each forward: labels.h);
 * top: scalar.
 *   loss = -sum_n log max(p[n, label_n], 1e-20) / N
 *   dp[n, d] = d == label_n ? -w / (N max(p, 1e-20)) : 0    (w = loss weight)
 */
#include <math.h>

#include "loss_common.h"

#define LOG_THRESHOLD 1e-20f /* Caffe's kLOG_THRESHOLD */

static int mll_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt, CliffError *err)
{
    (void)l, (void)nb, (void)nt;
    char a[128], b[128];
    if (cliff_loss_reshape(bottom, top, err)) return -1;
    if (bottom[1]->count != (size_t)bottom[0]->shape[0])
        return cliff_error_set(err, "need one label per item: probabilities %s, labels %s",
                               cliff_tensor_shape_str(bottom[0], a, sizeof a),
                               cliff_tensor_shape_str(bottom[1], b, sizeof b));
    if (bottom[0]->shape[0] > 0 && bottom[0]->count == 0)
        return cliff_error_set(err, "probabilities %s have no classes",
                               cliff_tensor_shape_str(bottom[0], a, sizeof a));
    return 0;
}

static int mll_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                     int nt, CliffError *err)
{
    (void)l, (void)bottom, (void)nb, (void)top, (void)nt, (void)err;
    return 0;
}

static int mll_check(const CliffLayer *l, CliffTensor *const *bottom, int nb, CliffError *err)
{
    (void)nb;
    const size_t N = (size_t)bottom[0]->shape[0];
    return cliff_index_check(l, bottom, 1, N ? (long)(bottom[0]->count / N) : 0, NULL, "label",
                             err);
}

static void mll_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt)
{
    (void)l, (void)nb, (void)nt;
    const size_t N = (size_t)bottom[0]->shape[0], D = N ? bottom[0]->count / N : 0;
    const float *p = bottom[0]->data, *label = bottom[1]->data;
    double loss = 0;
    for (size_t n = 0; n < N; n++) {
        const size_t lab = (size_t)cliff_label_clamp(cliff_label_int(label[n]), (int)D);
        loss -= log(fmaxf(p[n * D + lab], LOG_THRESHOLD));
    }
    top[0]->data[0] = N ? (float)(loss / (double)N) : 0.0f;
}

static void mll_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                         const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)l, (void)nt;
    cliff_loss_zero_diffs(bottom, nb, propagate_down, 1);
    if (!propagate_down[0]) return;
    const size_t N = (size_t)bottom[0]->shape[0], D = N ? bottom[0]->count / N : 0;
    const float *p = bottom[0]->data, *label = bottom[1]->data;
    float *dx = bottom[0]->diff;
    for (size_t i = 0; i < bottom[0]->count; i++) dx[i] = 0.0f;
    if (!N) return;
    const float scale = -top[0]->diff[0] / (float)N;
    for (size_t n = 0; n < N; n++) {
        const size_t lab = (size_t)cliff_label_clamp(cliff_label_int(label[n]), (int)D);
        dx[n * D + lab] = scale / fmaxf(p[n * D + lab], LOG_THRESHOLD);
    }
}

const CliffLayerOps cliff_ops_MultinomialLogisticLoss = {
    .type = "MultinomialLogisticLoss",
    .min_bottoms = 2, .max_bottoms = 2, .min_tops = 1, .max_tops = 1,
    .is_loss = 1,
    .label_bottoms = 1u << 1,
    .setup = mll_setup,
    .reshape = mll_reshape,
    .check_bottoms = mll_check,
    .forward = mll_forward,
    .backward = mll_backward,
};
