/* MVN (Caffe's MVNLayer): mean-variance normalization of each row.
 *
 * bottom: N x C x ... ; top: same shape (in place allowed).
 * Rows: each (n, c) slice (count / (N C) elements), or each n when
 * across_channels (count / N elements).
 * mvn_param: normalize_variance (default true), across_channels (default
 *   false), eps (default 1e-9), added to the standard deviation (Caffe puts
 *   it outside the square root here, unlike BatchNorm).
 *   y = (x - mean) / (sqrt(var) + eps), var biased; without
 *   normalize_variance y = x - mean.
 * Gradient, as Caffe computes it (exact up to the eps term):
 *   dx = (dy - mean(dy) - y mean(dy y)) / (sqrt(var) + eps), or dy - mean(dy).
 * Per row both sums are taken before dx is written, so in place is safe.
 * backward reads y from the top, as Caffe does.
 */
#include <math.h>
#include <stdlib.h>

#include "layer.h"

typedef struct MVNState {
    int normalize_variance, across_channels;
    float eps;
    size_t rows, dim;
    CliffTensor inv_std; /* [rows] of the last forward */
} MVNState;

static int mvn_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                     int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)top, (void)nt;
    const Cliff__MVNParameter *p = l->param->mvn_param;
    MVNState *s = calloc(1, sizeof *s);
    if (!s) return cliff_error_set(err, "out of memory");
    s->normalize_variance = p ? p->normalize_variance : 1;
    s->across_channels = p ? p->across_channels : 0;
    s->eps = p ? p->eps : 1e-9f;
    cliff_tensor_init(&s->inv_std);
    l->priv = s;
    return 0;
}

static int mvn_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)nt;
    MVNState *s = l->priv;
    const CliffTensor *x = bottom[0];
    if (x->num_axes < 1) return cliff_error_set(err, "MVN needs a bottom with at least one axis");
    size_t N = (size_t)x->shape[0], C = x->num_axes >= 2 ? (size_t)x->shape[1] : 1;
    s->rows = s->across_channels ? N : N * C;
    s->dim = s->rows ? x->count / s->rows : 0;
    int rows = (int)s->rows;
    if (top[0] != bottom[0] && cliff_tensor_reshape_like(top[0], x, err)) return -1;
    return cliff_tensor_reshape(&s->inv_std, 1, &rows, err);
}

static void mvn_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    MVNState *s = l->priv;
    const size_t dim = s->dim;
    for (size_t r = 0; r < s->rows; r++) {
        const float *x = bottom[0]->data + r * dim;
        float *y = top[0]->data + r * dim;
        double sum = 0;
        for (size_t k = 0; k < dim; k++) sum += x[k];
        const float mean = (float)(sum / (double)dim);
        float is = 1.0f;
        if (s->normalize_variance) {
            double sq = 0;
            for (size_t k = 0; k < dim; k++) sq += ((double)x[k] - mean) * ((double)x[k] - mean);
            is = (float)(1.0 / (sqrt(sq / (double)dim) + s->eps));
        }
        s->inv_std.data[r] = is;
        for (size_t k = 0; k < dim; k++) y[k] = (x[k] - mean) * is;
    }
}

static void mvn_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                         const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt, (void)nb;
    MVNState *s = l->priv;
    if (!propagate_down[0]) return;
    const size_t dim = s->dim;
    for (size_t r = 0; r < s->rows; r++) {
        const float *y = top[0]->data + r * dim, *dy = top[0]->diff + r * dim;
        float *dx = bottom[0]->diff + r * dim;
        double sum_dy = 0, sum_dyy = 0;
        for (size_t k = 0; k < dim; k++) {
            sum_dy += dy[k];
            sum_dyy += (double)dy[k] * y[k];
        }
        const float a = (float)(sum_dy / (double)dim);
        if (s->normalize_variance) {
            const float b = (float)(sum_dyy / (double)dim), is = s->inv_std.data[r];
            for (size_t k = 0; k < dim; k++) dx[k] = (dy[k] - a - y[k] * b) * is;
        } else {
            for (size_t k = 0; k < dim; k++) dx[k] = dy[k] - a;
        }
    }
}

static void mvn_destroy(CliffLayer *l)
{
    MVNState *s = l->priv;
    if (!s) return;
    cliff_tensor_free(&s->inv_std);
    free(s);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_MVN = {
    .type = "MVN",
    .min_bottoms = 1, .max_bottoms = 1, .min_tops = 1, .max_tops = 1,
    .allow_in_place = 1,
    .setup = mvn_setup,
    .reshape = mvn_reshape,
    .forward = mvn_forward,
    .backward = mvn_backward,
    .destroy = mvn_destroy,
};
