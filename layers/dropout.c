/* Dropout (Caffe's DropoutLayer, with the scale_train switch of Caffe's forks).
 *
 * bottom, top: any shape, same shape; in place allowed.
 * dropout_param: dropout_ratio p in [0, 1) (default 0.5), scale_train (default true).
 * TRAIN: each element is kept with probability 1 - p (mask drawn from l->rng
 *        with cliff_rng_bernoulli, one draw per element in order) and
 *        y = x * mask * (scale_train ? 1 / (1 - p) : 1).
 * TEST:  y = x when scale_train, else y = x * (1 - p).
 * Backward multiplies dy by the same factor (the mask times the scale in TRAIN).
 *
 * The mask is stored as the per-element factor (0 or the scale), so forward
 * and backward are one multiply per element; it is sized in reshape.
 */
#include <stdlib.h>

#include "layer.h"

typedef struct DropoutState {
    float keep;        /* 1 - p */
    float train_scale; /* factor of kept elements in TRAIN */
    float test_scale;  /* factor of every element in TEST */
    CliffTensor mask;  /* TRAIN: 0 or train_scale per element */
} DropoutState;

static int dropout_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)top, (void)nt;
    const Cliff__DropoutParameter *p = l->param->dropout_param;
    float ratio = p ? p->dropout_ratio : 0.5f;
    int scale_train = p ? p->scale_train : 1;
    if (!(ratio >= 0.0f && ratio < 1.0f))
        return cliff_error_set(err, "dropout_param.dropout_ratio must be in [0, 1), got %g",
                               ratio);
    DropoutState *s = calloc(1, sizeof *s);
    if (!s) return cliff_error_set(err, "out of memory");
    s->keep = 1.0f - ratio;
    s->train_scale = scale_train ? 1.0f / s->keep : 1.0f;
    s->test_scale = scale_train ? 1.0f : s->keep;
    cliff_tensor_init(&s->mask);
    l->priv = s;
    return 0;
}

static int dropout_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                           CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)nt;
    DropoutState *s = l->priv;
    if (top[0] != bottom[0] && cliff_tensor_reshape_like(top[0], bottom[0], err)) return -1;
    if (l->phase == CLIFF__PHASE__TRAIN && cliff_tensor_reshape_like(&s->mask, bottom[0], err))
        return -1;
    return 0;
}

static void dropout_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                            CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    DropoutState *s = l->priv;
    const float *x = bottom[0]->data;
    float *y = top[0]->data;
    const size_t n = bottom[0]->count;
    if (l->phase == CLIFF__PHASE__TRAIN) {
        float *m = s->mask.data;
        const float keep = s->keep, scale = s->train_scale;
        /* Branch-free: the kept/dropped pattern is random. */
        for (size_t i = 0; i < n; i++) m[i] = scale * (float)cliff_rng_bernoulli(l->rng, keep);
#pragma omp simd
        for (size_t i = 0; i < n; i++) y[i] = x[i] * m[i];
    } else {
        const float scale = s->test_scale;
        if (scale == 1.0f) {
            if (y != x)
                for (size_t i = 0; i < n; i++) y[i] = x[i];
        } else {
#pragma omp simd
            for (size_t i = 0; i < n; i++) y[i] = x[i] * scale;
        }
    }
}

static void dropout_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                             const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt, (void)nb;
    DropoutState *s = l->priv;
    if (!propagate_down[0]) return;
    const float *dy = top[0]->diff;
    float *dx = bottom[0]->diff;
    const size_t n = bottom[0]->count;
    if (l->phase == CLIFF__PHASE__TRAIN) {
        const float *m = s->mask.data;
#pragma omp simd
        for (size_t i = 0; i < n; i++) dx[i] = dy[i] * m[i];
    } else {
        const float scale = s->test_scale;
        for (size_t i = 0; i < n; i++) dx[i] = dy[i] * scale;
    }
}

static void dropout_destroy(CliffLayer *l)
{
    DropoutState *s = l->priv;
    if (!s) return;
    cliff_tensor_free(&s->mask);
    free(s);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_Dropout = {
    .type = "Dropout",
    .min_bottoms = 1, .max_bottoms = 1, .min_tops = 1, .max_tops = 1,
    .allow_in_place = 1,
    .setup = dropout_setup,
    .reshape = dropout_reshape,
    .forward = dropout_forward,
    .backward = dropout_backward,
    .destroy = dropout_destroy,
};
