/* SigmoidCrossEntropyLoss (Caffe's SigmoidCrossEntropyLossLayer):
 *   loss = -sum_i [t_i log s(x_i) + (1 - t_i) log(1 - s(x_i))] / normalizer
 * computed stably as sum_i [max(x,0) - x t + log(1 + e^-|x|)].
 * bottom 0: scores x, any shape; bottom 1: targets t in [0, 1], same count
 * (same first dimension); top: scalar.
 * loss_param: ignore_label (targets whose integer value equals it add nothing
 *   and get gradient 0); normalization (default BATCH_SIZE here, as in Caffe;
 *   the legacy normalize bool: true VALID, false BATCH_SIZE), with
 *   outer = shape[0] and inner = count / shape[0].
 * Gradient: dx = (s(x) - t) * loss_weight / normalizer; none to the targets.
 * Targets are not range-checked (Caffe computes the formula for any value),
 * but a non-finite target is a data error naming the layer, the bottom, the
 * row and the value (check_bottoms), not a NaN loss.
 */
#include <math.h>
#include <stdlib.h>

#include "loss_common.h"

typedef struct SigmoidCEState {
    CliffLossMode mode;
    int has_ignore, ignore_label;
    size_t outer, inner;
    double normalizer; /* of the last forward */
    CliffTensor sig;   /* s(x) of the last forward */
} SigmoidCEState;

static int sce_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                     int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)top, (void)nt;
    SigmoidCEState *s = calloc(1, sizeof *s);
    if (!s) return cliff_error_set(err, "out of memory");
    s->mode = cliff_loss_mode(l->param, CLIFF__LOSS_PARAMETER__NORMALIZATION_MODE__BATCH_SIZE);
    s->has_ignore = cliff_loss_ignore_label(l->param, &s->ignore_label);
    s->normalizer = 1;
    cliff_tensor_init(&s->sig);
    l->priv = s;
    return 0;
}

static int sce_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)nt;
    SigmoidCEState *s = l->priv;
    char a[128], b[128];
    if (cliff_loss_reshape(bottom, top, err)) return -1;
    if (bottom[0]->count != bottom[1]->count)
        return cliff_error_set(err, "scores %s and targets %s must have the same count",
                               cliff_tensor_shape_str(bottom[0], a, sizeof a),
                               cliff_tensor_shape_str(bottom[1], b, sizeof b));
    s->outer = (size_t)bottom[0]->shape[0];
    s->inner = s->outer ? bottom[0]->count / s->outer : 0;
    return cliff_tensor_reshape_like(&s->sig, bottom[0], err);
}

static int sce_check(const CliffLayer *l, CliffTensor *const *bottom, int nb, CliffError *err)
{
    (void)nb;
    const SigmoidCEState *s = l->priv;
    return cliff_finite_check(l, bottom, 1, s->has_ignore ? &s->ignore_label : NULL, "target",
                              err);
}

static void sce_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    SigmoidCEState *s = l->priv;
    const float *x = bottom[0]->data, *t = bottom[1]->data;
    float *sig = s->sig.data;
    double loss = 0;
    long valid = 0;
    for (size_t i = 0; i < bottom[0]->count; i++) {
        sig[i] = 0.5f * tanhf(0.5f * x[i]) + 0.5f;
        if (s->has_ignore && cliff_label_int(t[i]) == s->ignore_label) continue;
        const double xi = x[i], pos = xi >= 0;
        loss -= xi * (t[i] - pos) - log1p(exp(xi - 2 * xi * pos));
        valid++;
    }
    s->normalizer = cliff_loss_normalizer(s->mode, s->outer, s->inner, valid);
    top[0]->data[0] = (float)(loss / s->normalizer);
}

static void sce_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                         const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt;
    SigmoidCEState *s = l->priv;
    cliff_loss_zero_diffs(bottom, nb, propagate_down, 1);
    if (!propagate_down[0]) return;
    const float *t = bottom[1]->data, *sig = s->sig.data;
    float *dx = bottom[0]->diff;
    const float w = (float)(top[0]->diff[0] / s->normalizer);
    for (size_t i = 0; i < bottom[0]->count; i++) {
        int ignored = s->has_ignore && cliff_label_int(t[i]) == s->ignore_label;
        dx[i] = ignored ? 0.0f : (sig[i] - t[i]) * w;
    }
}

static void sce_destroy(CliffLayer *l)
{
    SigmoidCEState *s = l->priv;
    if (!s) return;
    cliff_tensor_free(&s->sig);
    free(s);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_SigmoidCrossEntropyLoss = {
    .type = "SigmoidCrossEntropyLoss",
    .min_bottoms = 2, .max_bottoms = 2, .min_tops = 1, .max_tops = 1,
    .is_loss = 1,
    .label_bottoms = 1u << 1,
    .setup = sce_setup,
    .reshape = sce_reshape,
    .check_bottoms = sce_check,
    .forward = sce_forward,
    .backward = sce_backward,
    .destroy = sce_destroy,
};
