/* SoftmaxWithLoss (Caffe's SoftmaxWithLossLayer): softmax over `axis`
 * (softmax_param.axis, default 1), then the mean negative log-likelihood of
 * the labelled class.
 *
 * bottom 0: scores, outer x C x inner where C = shape[axis];
 * bottom 1: labels, outer * inner float-coded integers in [0, C) (any shape
 *           with that count);
 * top 0:    the loss, a scalar: -sum log max(p[label], FLT_MIN) / normalizer;
 * top 1:    (optional) the probabilities, shape of bottom 0. As in Caffe, no
 *           gradient flows back from this top.
 * loss_param: ignore_label (those positions add nothing, gradient 0),
 *   normalization VALID (default) / FULL / BATCH_SIZE / NONE, or the legacy
 *   normalize bool (true VALID, false BATCH_SIZE).
 * Gradient: dscores = (p - onehot(label)) * loss_weight / normalizer.
 *
 * Before each forward every label must be an integer in [0, C) or the
 * ignore_label: anything else (NaN, 12 of 10 classes, 2.5) stops the forward
 * with an error naming the row and value (labels.h). A label count that does
 * not match the scores fails in reshape. forward/backward only loop; buffers are sized in reshape.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "loss_common.h"

typedef CliffClassLoss SoftmaxLossState;

static int sml_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                     int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)top, (void)nt;
    SoftmaxLossState *s = calloc(1, sizeof *s);
    if (!s) return cliff_error_set(err, "out of memory");
    cliff_class_loss_init(s, l->param);
    l->priv = s;
    return 0;
}

static int sml_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                       int nt, CliffError *err)
{
    (void)nb;
    const Cliff__SoftmaxParameter *p = l->param->softmax_param;
    return cliff_class_loss_reshape(l->priv, bottom, top, nt, p ? p->axis : 1,
                                    "softmax_param.axis", err);
}

static int sml_check(const CliffLayer *l, CliffTensor *const *bottom, int nb, CliffError *err)
{
    (void)nb;
    return cliff_class_loss_check(l, l->priv, bottom, err);
}

static void sml_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt)
{
    (void)nb;
    SoftmaxLossState *s = l->priv;
    const size_t C = s->C, inner = s->inner, dim = C * inner;
    const float *label = bottom[1]->data, *p = s->prob.data;
    double loss = 0;
    long valid = 0;
    cliff_class_loss_softmax(s, bottom[0]->data);
    for (size_t i = 0; i < s->outer; i++)
        for (size_t j = 0; j < inner; j++) {
            int lab = cliff_label_int(label[i * inner + j]);
            if (cliff_class_loss_ignores(s, lab)) continue;
            lab = cliff_label_clamp(lab, (int)C);
            loss -= log(fmax(p[i * dim + (size_t)lab * inner + j], FLT_MIN));
            valid++;
        }
    cliff_class_loss_output(s, loss, valid, top, nt);
}

static void sml_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                         const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt;
    SoftmaxLossState *s = l->priv;
    cliff_loss_zero_diffs(bottom, nb, propagate_down, 1); /* labels get no gradient */
    if (!propagate_down[0]) return;
    const size_t C = s->C, inner = s->inner, dim = C * inner;
    const float *label = bottom[1]->data, *p = s->prob.data;
    float *dx = bottom[0]->diff;
    const long valid = cliff_class_loss_valid(s, label);
    const float w = (float)(top[0]->diff[0] / cliff_loss_normalizer(s->mode, s->outer, inner,
                                                                     valid));
    const size_t count = bottom[0]->count;
    for (size_t k = 0; k < count; k++) dx[k] = p[k] * w;
    for (size_t i = 0; i < s->outer; i++)
        for (size_t j = 0; j < inner; j++) {
            int lab = cliff_label_int(label[i * inner + j]);
            if (cliff_class_loss_ignores(s, lab)) {
                for (size_t c = 0; c < C; c++) dx[i * dim + c * inner + j] = 0.0f;
                continue;
            }
            lab = cliff_label_clamp(lab, (int)C);
            dx[i * dim + (size_t)lab * inner + j] -= w;
        }
}

static void sml_destroy(CliffLayer *l)
{
    SoftmaxLossState *s = l->priv;
    if (!s) return;
    cliff_class_loss_free(s);
    free(s);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_SoftmaxWithLoss = {
    .type = "SoftmaxWithLoss",
    .min_bottoms = 2, .max_bottoms = 2, .min_tops = 1, .max_tops = 2,
    .is_loss = 1,
    .label_bottoms = 1u << 1,
    .setup = sml_setup,
    .reshape = sml_reshape,
    .check_bottoms = sml_check,
    .forward = sml_forward,
    .backward = sml_backward,
    .destroy = sml_destroy,
};
