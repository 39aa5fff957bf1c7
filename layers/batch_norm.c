/* BatchNorm (Caffe's BatchNormLayer): per-channel normalization, no affine
 * part (Caffe pairs it with a Scale layer).
 *
 * bottom: N x C x ... (C = 1 for a 1-axis bottom); top: same shape, in place allowed.
 * params (learnable = 0, Caffe's order): 0 running mean sum [C], 1 running
 *   variance sum [C], 2 scale factor [1]; the running estimates are
 *   blob0 / blob2 and blob1 / blob2.
 * batch_norm_param: use_global_stats (default: phase == TEST),
 *   moving_average_fraction f (default 0.999), eps (default 1e-5).
 *
 * Batch statistics (use_global_stats false), over the m = N * spatial
 * elements of each channel: mean, biased variance; then, exactly as Caffe,
 *   blob2 = f blob2 + 1,  blob0 = f blob0 + mean,
 *   blob1 = f blob1 + (m / (m - 1)) var      (factor 1 when m = 1).
 * Global statistics: mean = blob0 / blob2, var = blob1 / blob2 (0 when blob2 = 0).
 * y = (x - mean) / sqrt(var + eps).
 * Gradient, batch statistics: dx = (dy - mean(dy) - y mean(dy y)) / sqrt(var + eps);
 *   global statistics: dx = dy / sqrt(var + eps).
 * forward keeps y (x_norm) because in-place layers after this one may
 * overwrite the top before backward.
 */
#include <math.h>
#include <stdlib.h>

#include "layer.h"

typedef struct BatchNormState {
    int use_global;
    float maf, eps;
    int C;
    CliffTensor mean, inv_std; /* [C] of the last forward */
    CliffTensor x_norm;        /* y of the last forward (batch statistics only) */
} BatchNormState;

static int bn_channels(const CliffTensor *b) { return b->num_axes == 1 ? 1 : b->shape[1]; }

static int bn_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                    int nt, CliffError *err)
{
    (void)nb, (void)top, (void)nt;
    const Cliff__BatchNormParameter *p = l->param->batch_norm_param;
    if (bottom[0]->num_axes < 1)
        return cliff_error_set(err, "BatchNorm needs a bottom with at least one axis");
    int C = bn_channels(bottom[0]), one = 1;
    if (C < 1) return cliff_error_set(err, "BatchNorm bottom has no channels");
    if (cliff_layer_declare_param(l, 1, &C, NULL, 0.0f, 0, err) ||
        cliff_layer_declare_param(l, 1, &C, NULL, 0.0f, 0, err) ||
        cliff_layer_declare_param(l, 1, &one, NULL, 0.0f, 0, err))
        return -1;
    BatchNormState *s = calloc(1, sizeof *s);
    if (!s) return cliff_error_set(err, "out of memory");
    s->use_global = p && p->has_use_global_stats ? p->use_global_stats
                                                 : l->phase == CLIFF__PHASE__TEST;
    s->maf = p ? p->moving_average_fraction : 0.999f;
    s->eps = p ? p->eps : 1e-5f;
    s->C = C;
    cliff_tensor_init(&s->mean);
    cliff_tensor_init(&s->inv_std);
    cliff_tensor_init(&s->x_norm);
    l->priv = s;
    return 0;
}

static int bn_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, CliffError *err)
{
    (void)nb, (void)nt;
    BatchNormState *s = l->priv;
    char buf[128];
    if (bottom[0]->num_axes < 1 || bn_channels(bottom[0]) != s->C)
        return cliff_error_set(err, "BatchNorm bottom %s must keep the %d channels it was set "
                               "up with", cliff_tensor_shape_str(bottom[0], buf, sizeof buf),
                               s->C);
    int C = s->C;
    if ((top[0] != bottom[0] && cliff_tensor_reshape_like(top[0], bottom[0], err)) ||
        cliff_tensor_reshape(&s->mean, 1, &C, err) ||
        cliff_tensor_reshape(&s->inv_std, 1, &C, err))
        return -1;
    if (!s->use_global && cliff_tensor_reshape_like(&s->x_norm, bottom[0], err)) return -1;
    return 0;
}

static void bn_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    BatchNormState *s = l->priv;
    const size_t C = (size_t)s->C, count = bottom[0]->count;
    const size_t N = bottom[0]->shape[0], S = N ? count / (N * C) : 0, m = N * S;
    const float *x = bottom[0]->data;
    float *y = top[0]->data, *mean = s->mean.data, *inv_std = s->inv_std.data;
    float *run_mean = l->params[0].data, *run_var = l->params[1].data;
    float *factor = l->params[2].data;
    if (s->use_global) {
        const float f = factor[0] == 0.0f ? 0.0f : 1.0f / factor[0];
        for (size_t c = 0; c < C; c++) {
            mean[c] = f * run_mean[c];
            inv_std[c] = (float)(1.0 / sqrt((double)(f * run_var[c]) + s->eps));
        }
    } else {
        for (size_t c = 0; c < C; c++) {
            double sum = 0, sq = 0;
            for (size_t n = 0; n < N; n++) {
                const float *xc = x + (n * C + c) * S;
                for (size_t k = 0; k < S; k++) sum += xc[k];
            }
            const double mu = m ? sum / (double)m : 0;
            for (size_t n = 0; n < N; n++) {
                const float *xc = x + (n * C + c) * S;
                for (size_t k = 0; k < S; k++) sq += ((double)xc[k] - mu) * ((double)xc[k] - mu);
            }
            const double var = m ? sq / (double)m : 0;
            mean[c] = (float)mu;
            inv_std[c] = (float)(1.0 / sqrt(var + s->eps));
            const double correction = m > 1 ? (double)m / (double)(m - 1) : 1.0;
            run_mean[c] = (float)(mu + (double)s->maf * run_mean[c]);
            run_var[c] = (float)(correction * var + (double)s->maf * run_var[c]);
        }
        factor[0] = factor[0] * s->maf + 1.0f;
    }
    for (size_t n = 0; n < N; n++)
        for (size_t c = 0; c < C; c++) {
            const float mu = mean[c], is = inv_std[c];
            const size_t off = (n * C + c) * S;
            for (size_t k = 0; k < S; k++) y[off + k] = (x[off + k] - mu) * is;
        }
    if (!s->use_global)
        for (size_t i = 0; i < count; i++) s->x_norm.data[i] = y[i];
}

static void bn_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                        const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt, (void)nb;
    BatchNormState *s = l->priv;
    if (!propagate_down[0]) return;
    const size_t C = (size_t)s->C, count = bottom[0]->count;
    const size_t N = bottom[0]->shape[0], S = N ? count / (N * C) : 0, m = N * S;
    const float *dy = top[0]->diff, *inv_std = s->inv_std.data;
    float *dx = bottom[0]->diff;
    if (s->use_global) {
        for (size_t n = 0; n < N; n++)
            for (size_t c = 0; c < C; c++) {
                const size_t off = (n * C + c) * S;
                for (size_t k = 0; k < S; k++) dx[off + k] = dy[off + k] * inv_std[c];
            }
        return;
    }
    const float *y = s->x_norm.data;
    /* Per channel: both sums first, then dx elementwise (safe when dx is dy). */
    for (size_t c = 0; c < C; c++) {
        double sum_dy = 0, sum_dyy = 0;
        for (size_t n = 0; n < N; n++) {
            const size_t off = (n * C + c) * S;
            for (size_t k = 0; k < S; k++) {
                sum_dy += dy[off + k];
                sum_dyy += (double)dy[off + k] * y[off + k];
            }
        }
        const float a = (float)(sum_dy / (double)m), b = (float)(sum_dyy / (double)m);
        const float is = inv_std[c];
        for (size_t n = 0; n < N; n++) {
            const size_t off = (n * C + c) * S;
            for (size_t k = 0; k < S; k++) dx[off + k] = (dy[off + k] - a - y[off + k] * b) * is;
        }
    }
}

static void bn_destroy(CliffLayer *l)
{
    BatchNormState *s = l->priv;
    if (!s) return;
    cliff_tensor_free(&s->mean);
    cliff_tensor_free(&s->inv_std);
    cliff_tensor_free(&s->x_norm);
    free(s);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_BatchNorm = {
    .type = "BatchNorm",
    .min_bottoms = 1, .max_bottoms = 1, .min_tops = 1, .max_tops = 1,
    .allow_in_place = 1,
    .setup = bn_setup,
    .reshape = bn_reshape,
    .forward = bn_forward,
    .backward = bn_backward,
    .destroy = bn_destroy,
};
