/* Softmax (Caffe's SoftmaxLayer) along `axis`; every other index is an
 * independent distribution. View the blob as outer x C x inner.
 *   y[o,c,i] = exp(x[o,c,i] - max_c x[o,.,i]) / sum_c exp(...)
 *   dx[o,c,i] = y[o,c,i] * (dy[o,c,i] - sum_c dy[o,c,i] * y[o,c,i])
 * Runs in place (top == bottom) safely. Scratch: two inner-sized rows. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "vision_util.h"

typedef struct Softmax {
    int axis;
    size_t outer, C, inner;
    float *scratch; /* 2 * inner: running max / sum, then dot products */
    size_t scratch_cap;
} Softmax;

static const Cliff__SoftmaxParameter softmax_defaults = CLIFF__SOFTMAX_PARAMETER__INIT;

static int softmax_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)top, (void)nt;
    return cliff_priv_alloc(l, sizeof(Softmax), err) ? 0 : -1;
}

static int softmax_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                           CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)nt;
    const Cliff__SoftmaxParameter *sp =
        l->param && l->param->softmax_param ? l->param->softmax_param : &softmax_defaults;
    Softmax *p = l->priv;
    const CliffTensor *b = bottom[0];
    p->axis = cliff_canon_axis(l, b, 0, sp->axis, "softmax axis", err);
    if (p->axis < 0) return -1;
    p->outer = cliff_tensor_count_range(b, 0, p->axis);
    p->C = (size_t)b->shape[p->axis];
    p->inner = cliff_tensor_count_range(b, p->axis + 1, b->num_axes);
    if (top[0] != bottom[0] && cliff_tensor_reshape_like(top[0], b, err)) return -1;
    return cliff_scratch_reserve(&p->scratch, &p->scratch_cap, 2 * p->inner, err);
}

static void softmax_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                            CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    const Softmax *p = l->priv;
    const size_t C = p->C, inner = p->inner;
    float *mx = p->scratch, *sum = p->scratch + inner;
    for (size_t o = 0; o < p->outer; o++) {
        const float *x = bottom[0]->data + o * C * inner;
        float *y = top[0]->data + o * C * inner;
        for (size_t i = 0; i < inner; i++) {
            mx[i] = -FLT_MAX;
            sum[i] = 0;
        }
        for (size_t c = 0; c < C; c++)
            for (size_t i = 0; i < inner; i++)
                if (x[c * inner + i] > mx[i]) mx[i] = x[c * inner + i];
        for (size_t c = 0; c < C; c++)
            for (size_t i = 0; i < inner; i++) {
                float e = expf(x[c * inner + i] - mx[i]);
                y[c * inner + i] = e;
                sum[i] += e;
            }
        for (size_t c = 0; c < C; c++)
            for (size_t i = 0; i < inner; i++) y[c * inner + i] /= sum[i];
    }
}

static void softmax_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                             const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt, (void)nb;
    if (!propagate_down[0]) return;
    const Softmax *p = l->priv;
    const size_t C = p->C, inner = p->inner;
    float *dot = p->scratch;
    for (size_t o = 0; o < p->outer; o++) {
        const float *y = top[0]->data + o * C * inner, *dy = top[0]->diff + o * C * inner;
        float *dx = bottom[0]->diff + o * C * inner;
        for (size_t i = 0; i < inner; i++) dot[i] = 0;
        for (size_t c = 0; c < C; c++)
            for (size_t i = 0; i < inner; i++) dot[i] += dy[c * inner + i] * y[c * inner + i];
        for (size_t c = 0; c < C; c++)
            for (size_t i = 0; i < inner; i++)
                dx[c * inner + i] = y[c * inner + i] * (dy[c * inner + i] - dot[i]);
    }
}

static void softmax_destroy(CliffLayer *l)
{
    Softmax *p = l->priv;
    if (!p) return;
    free(p->scratch);
    free(p);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_Softmax = {
    .type = "Softmax",
    .min_bottoms = 1,
    .max_bottoms = 1,
    .min_tops = 1,
    .max_tops = 1,
    .allow_in_place = 1,
    .setup = softmax_setup,
    .reshape = softmax_reshape,
    .forward = softmax_forward,
    .backward = softmax_backward,
    .destroy = softmax_destroy,
};
