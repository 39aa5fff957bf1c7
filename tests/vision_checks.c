/* Forward checks for the vision and shape layer gradient cases.
 *
 * Where a literal is used the bottom is first set to a fixed pattern and
 * forward is run again; the literals were derived by hand or with PyTorch
 * (F.max_pool2d / F.avg_pool2d with ceil_mode=True, count_include_pad=True,
 * which follow Caffe's rules). The pattern stays in the bottom for the
 * gradient check that follows (its distinct integer values keep max pooling
 * away from ties). Other checks recompute the top from its definition.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vision_checks.h"

/* ---- helpers ---- */

int vc_close(float a, float b) { return fabsf(a - b) <= 1e-5f * fmaxf(1.0f, fabsf(b)); }

int vc_expect_shape(const CliffTensor *t, const char *what, int n, const int *shape, char *why,
                        size_t len)
{
    int ok = t->num_axes == n;
    for (int i = 0; ok && i < n; i++) ok = t->shape[i] == shape[i];
    if (ok) return 0;
    char s[128];
    return grad_fail(why, len, "%s has shape %s (%d axes), expected another", what,
                 cliff_tensor_shape_str(t, s, sizeof s), t->num_axes);
}

int vc_expect_values(const CliffTensor *t, const char *what, const float *v, size_t n,
                         char *why, size_t len)
{
    if (t->count != n) return grad_fail(why, len, "%s has %zu values, expected %zu", what, t->count, n);
    for (size_t i = 0; i < n; i++)
        if (!vc_close(t->data[i], v[i]))
            return grad_fail(why, len, "%s[%zu] = %.7g, expected %.7g", what, i, t->data[i], v[i]);
    return 0;
}

/* Sets bottom[0] to x[i] = ((i * mul) % mod) + add and runs forward again. */
void vc_reforward_pattern(CliffLayer *l, CliffTensor *const *bottom, int nb,
                              CliffTensor *const *top, int nt, int mul, int mod, int add)
{
    for (size_t i = 0; i < bottom[0]->count; i++)
        bottom[0]->data[i] = (float)((int)((i * (size_t)mul) % (size_t)mod) + add);
    l->ops->forward(l, bottom, nb, top, nt);
}

int vc_expect_elem(const CliffTensor *t, size_t i, double want, char *why, size_t len)
{
    if (fabs(t->data[i] - want) <= 1e-5 * fmax(1.0, fabs(want))) return 0;
    return grad_fail(why, len, "top[%zu] = %.7g, expected %.7g", i, t->data[i], want);
}

/* ---- Pooling literals (1x1x5x5 pattern (7i mod 25) - 12, 1x1x4x4 pattern (5i mod 16) - 8) ---- */

int vcheck_pool_max_k3s2p1(CliffLayer *l, CliffTensor *const *bottom, int nb,
                                 CliffTensor *const *top, int nt, char *why, size_t len)
{
    vc_reforward_pattern(l, bottom, nb, top, nt, 7, 25, -12);
    static const int shape[4] = {1, 1, 3, 3};
    static const float y[9] = {5, 12, 9, 8, 12, 11, 10, 10, 6};
    static const float mask[9] = {6, 7, 3, 10, 7, 14, 21, 21, 24};
    if (vc_expect_shape(top[0], "top", 4, shape, why, len) ||
        vc_expect_values(top[0], "top", y, 9, why, len))
        return -1;
    return nt > 1 ? vc_expect_values(top[1], "mask", mask, 9, why, len) : 0;
}

int vcheck_pool_ave_k3s2p1(CliffLayer *l, CliffTensor *const *bottom, int nb,
                                 CliffTensor *const *top, int nt, char *why, size_t len)
{
    vc_reforward_pattern(l, bottom, nb, top, nt, 7, 25, -12);
    static const int shape[4] = {1, 1, 3, 3};
    static const float y[9] = {-14 / 9.f, 17 / 9.f, -5 / 9.f, -6 / 9.f, -2 / 9.f,
                               -5 / 9.f,  6 / 9.f,  -3 / 9.f, -10 / 9.f};
    if (vc_expect_shape(top[0], "top", 4, shape, why, len)) return -1;
    return vc_expect_values(top[0], "top", y, 9, why, len);
}

int vcheck_pool_max_k2s2(CliffLayer *l, CliffTensor *const *bottom, int nb,
                               CliffTensor *const *top, int nt, char *why, size_t len)
{
    vc_reforward_pattern(l, bottom, nb, top, nt, 5, 16, -8);
    static const int shape[4] = {1, 1, 2, 2};
    static const float y[4] = {1, 7, 5, 3}, mask[4] = {5, 3, 9, 15};
    if (vc_expect_shape(top[0], "top", 4, shape, why, len) ||
        vc_expect_values(top[0], "top", y, 4, why, len))
        return -1;
    return nt > 1 ? vc_expect_values(top[1], "mask", mask, 4, why, len) : 0;
}

/* kernel 3 stride 2 on 4x4 without pad: ceil gives 2x2, the last windows are
 * clipped and AVE divides by the clipped size. */
int vcheck_pool_ave_k3s2_ceil(CliffLayer *l, CliffTensor *const *bottom, int nb,
                                    CliffTensor *const *top, int nt, char *why, size_t len)
{
    vc_reforward_pattern(l, bottom, nb, top, nt, 5, 16, -8);
    static const int shape[4] = {1, 1, 2, 2};
    static const float y[4] = {-7 / 9.f, 0.5f, -1.0f, -1.5f};
    if (vc_expect_shape(top[0], "top", 4, shape, why, len)) return -1;
    return vc_expect_values(top[0], "top", y, 4, why, len);
}

int vcheck_pool_max_k3s2_ceil(CliffLayer *l, CliffTensor *const *bottom, int nb,
                                    CliffTensor *const *top, int nt, char *why, size_t len)
{
    vc_reforward_pattern(l, bottom, nb, top, nt, 5, 16, -8);
    static const float y[4] = {6, 7, 5, 3};
    return vc_expect_values(top[0], "top", y, 4, why, len);
}

int vcheck_pool_floor(CliffLayer *l, CliffTensor *const *bottom, int nb,
                            CliffTensor *const *top, int nt, char *why, size_t len)
{
    vc_reforward_pattern(l, bottom, nb, top, nt, 5, 16, -8);
    static const int shape[4] = {1, 1, 1, 1};
    static const float y[1] = {6}; /* max of rows 0-2, cols 0-2 */
    if (vc_expect_shape(top[0], "top", 4, shape, why, len)) return -1;
    return vc_expect_values(top[0], "top", y, 1, why, len);
}

/* global pooling: the plane mean / max, by definition */
static int vcheck_pool_global(CliffLayer *l, CliffTensor *const *bottom, int nb,
                             CliffTensor *const *top, int nt, char *why, size_t len, int is_max)
{
    (void)l, (void)nb, (void)nt;
    const CliffTensor *b = bottom[0];
    const int planes = b->shape[0] * b->shape[1], hw = b->shape[2] * b->shape[3];
    const int shape[4] = {b->shape[0], b->shape[1], 1, 1};
    if (vc_expect_shape(top[0], "top", 4, shape, why, len)) return -1;
    for (int p = 0; p < planes; p++) {
        double acc = 0, mx = -INFINITY;
        for (int i = 0; i < hw; i++) {
            acc += b->data[p * hw + i];
            mx = fmax(mx, b->data[p * hw + i]);
        }
        float want = (float)(is_max ? mx : acc / hw);
        if (!vc_close(top[0]->data[p], want))
            return grad_fail(why, len, "plane %d: %.7g, expected %.7g", p, top[0]->data[p], want);
    }
    return 0;
}

int vcheck_pool_global_ave(CliffLayer *l, CliffTensor *const *b, int nb,
                                 CliffTensor *const *t, int nt, char *why, size_t len)
{
    return vcheck_pool_global(l, b, nb, t, nt, why, len, 0);
}

int vcheck_pool_global_max(CliffLayer *l, CliffTensor *const *b, int nb,
                                 CliffTensor *const *t, int nt, char *why, size_t len)
{
    return vcheck_pool_global(l, b, nb, t, nt, why, len, 1);
}

/* ---- ArgMax literals ---- */

/* 2 x 5, rows {3, -1, 7, 7, 0} and {-2, 4, -3, 7, -2}: ties go to the larger index */
static void argmax_set(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t, int nt)
{
    static const float x[10] = {3, -1, 7, 7, 0, -2, 4, -3, 7, -2};
    memcpy(b[0]->data, x, sizeof x);
    l->ops->forward(l, b, nb, t, nt);
}

int vcheck_argmax_top1(CliffLayer *l, CliffTensor *const *b, int nb,
                             CliffTensor *const *t, int nt, char *why, size_t len)
{
    argmax_set(l, b, nb, t, nt);
    static const int shape[3] = {2, 1, 1};
    static const float y[2] = {3, 3};
    if (vc_expect_shape(t[0], "top", 3, shape, why, len)) return -1;
    return vc_expect_values(t[0], "top", y, 2, why, len);
}

int vcheck_argmax_top3_val(CliffLayer *l, CliffTensor *const *b, int nb,
                                 CliffTensor *const *t, int nt, char *why, size_t len)
{
    argmax_set(l, b, nb, t, nt);
    static const int shape[3] = {2, 2, 3};
    /* per item: 3 indices, then their 3 values */
    static const float y[12] = {3, 2, 0, 7, 7, 3, 3, 1, 4, 7, 4, -2};
    if (vc_expect_shape(t[0], "top", 3, shape, why, len)) return -1;
    return vc_expect_values(t[0], "top", y, 12, why, len);
}

/* axis 0 of the 2 x 5 blob: per column, the row of the larger value (tie -> row 1) */
int vcheck_argmax_axis0(CliffLayer *l, CliffTensor *const *b, int nb,
                              CliffTensor *const *t, int nt, char *why, size_t len)
{
    argmax_set(l, b, nb, t, nt);
    static const int shape[2] = {1, 5};
    static const float y[5] = {0, 1, 0, 1, 0};
    if (vc_expect_shape(t[0], "top", 2, shape, why, len)) return -1;
    return vc_expect_values(t[0], "top", y, 5, why, len);
}

/* axis 1 with top_k 2 and out_max_val: the two largest values of each row */
int vcheck_argmax_axis1_val(CliffLayer *l, CliffTensor *const *b, int nb,
                                  CliffTensor *const *t, int nt, char *why, size_t len)
{
    argmax_set(l, b, nb, t, nt);
    static const int shape[2] = {2, 2};
    static const float y[4] = {7, 7, 7, 4};
    if (vc_expect_shape(t[0], "top", 2, shape, why, len)) return -1;
    return vc_expect_values(t[0], "top", y, 4, why, len);
}

/* ---- value layers: top by definition ---- */


int vcheck_eltwise_sum_coeff(CliffLayer *l, CliffTensor *const *b, int nb,
                                   CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    for (size_t i = 0; i < t[0]->count; i++)
        if (vc_expect_elem(t[0], i, b[0]->data[i] - 2.0 * b[1]->data[i] + 0.5 * b[2]->data[i], why,
                        len))
            return -1;
    return 0;
}

int vcheck_eltwise_prod(CliffLayer *l, CliffTensor *const *b, int nb,
                              CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nt;
    for (size_t i = 0; i < t[0]->count; i++) {
        double want = 1;
        for (int k = 0; k < nb; k++) want *= b[k]->data[i];
        if (vc_expect_elem(t[0], i, want, why, len)) return -1;
    }
    return 0;
}

int vcheck_eltwise_max(CliffLayer *l, CliffTensor *const *b, int nb,
                             CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nt;
    for (size_t i = 0; i < t[0]->count; i++) {
        double want = b[0]->data[i];
        for (int k = 1; k < nb; k++) want = fmax(want, b[k]->data[i]);
        if (vc_expect_elem(t[0], i, want, why, len)) return -1;
    }
    return 0;
}

/* softmax over axis a of a blob viewed as outer x C x inner */
static int vcheck_softmax_axis(const CliffTensor *b, const CliffTensor *t, int axis, char *why,
                              size_t len)
{
    size_t outer = 1, inner = 1, C = (size_t)b->shape[axis];
    for (int i = 0; i < axis; i++) outer *= (size_t)b->shape[i];
    for (int i = axis + 1; i < b->num_axes; i++) inner *= (size_t)b->shape[i];
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            double z = 0;
            for (size_t c = 0; c < C; c++) z += exp(b->data[(o * C + c) * inner + i]);
            for (size_t c = 0; c < C; c++) {
                size_t at = (o * C + c) * inner + i;
                if (vc_expect_elem(t, at, exp(b->data[at]) / z, why, len)) return -1;
            }
        }
    return 0;
}

int vcheck_softmax1(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                          int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return vcheck_softmax_axis(b[0], t[0], 1, why, len);
}

int vcheck_softmax_last(CliffLayer *l, CliffTensor *const *b, int nb,
                              CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return vcheck_softmax_axis(b[0], t[0], b[0]->num_axes - 1, why, len);
}

int vcheck_softmax0(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                          int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return vcheck_softmax_axis(b[0], t[0], 0, why, len);
}

/* Tile of a 3-axis blob along axis a: top[.., j, ..] = bottom[.., j % size, ..] */
static int vcheck_tile3(const CliffTensor *b, const CliffTensor *t, int axis, int tiles,
                       char *why, size_t len)
{
    int shape[3] = {b->shape[0], b->shape[1], b->shape[2]};
    shape[axis] *= tiles;
    if (vc_expect_shape(t, "top", 3, shape, why, len)) return -1;
    for (int i = 0; i < shape[0]; i++)
        for (int j = 0; j < shape[1]; j++)
            for (int k = 0; k < shape[2]; k++) {
                int idx[3] = {i, j, k};
                idx[axis] %= b->shape[axis];
                float want = b->data[(idx[0] * b->shape[1] + idx[1]) * b->shape[2] + idx[2]];
                if (t->data[(i * shape[1] + j) * shape[2] + k] != want)
                    return grad_fail(why, len, "top[%d][%d][%d] is not bottom[%d][%d][%d]", i, j, k,
                                 idx[0], idx[1], idx[2]);
            }
    return 0;
}

int vcheck_tile_axis1(CliffLayer *l, CliffTensor *const *b, int nb,
                            CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return vcheck_tile3(b[0], t[0], 1, 3, why, len);
}

int vcheck_tile_last(CliffLayer *l, CliffTensor *const *b, int nb,
                           CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return vcheck_tile3(b[0], t[0], 2, 2, why, len);
}

/* Reduction from axis a with op 1..4 (SUM, ASUM, SUMSQ, MEAN) and coeff. */
static int vcheck_reduction(const CliffTensor *b, const CliffTensor *t, int axis, int op,
                           double coeff, char *why, size_t len)
{
    size_t num = 1, dim = 1;
    for (int i = 0; i < axis; i++) num *= (size_t)b->shape[i];
    for (int i = axis; i < b->num_axes; i++) dim *= (size_t)b->shape[i];
    if (t->num_axes != axis || t->count != num)
        return grad_fail(why, len, "top has %d axes and %zu values, expected %d and %zu",
                     t->num_axes, t->count, axis, num);
    for (size_t n = 0; n < num; n++) {
        double acc = 0;
        for (size_t i = 0; i < dim; i++) {
            double x = b->data[n * dim + i];
            acc += op == 2 ? fabs(x) : op == 3 ? x * x : x;
        }
        if (op == 4) acc /= (double)dim;
        if (vc_expect_elem(t, n, coeff * acc, why, len)) return -1;
    }
    return 0;
}

int vcheck_red_sum(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                         int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return vcheck_reduction(b[0], t[0], 0, 1, 1.0, why, len);
}

int vcheck_red_asum(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                          int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return vcheck_reduction(b[0], t[0], 1, 2, 1.0, why, len);
}

int vcheck_red_sumsq(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                           int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return vcheck_reduction(b[0], t[0], 2, 3, -0.5, why, len);
}

int vcheck_red_mean(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                          int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return vcheck_reduction(b[0], t[0], 2, 4, 3.0, why, len);
}

/* Embed: top[i, :] = W[idx_i, :] (+ bias) */
int vcheck_embed(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                       int nt, char *why, size_t len)
{
    (void)nb, (void)nt;
    const int N = l->params[0].shape[1];
    for (size_t i = 0; i < b[0]->count; i++)
        for (int j = 0; j < N; j++) {
            double want = l->params[0].data[(size_t)b[0]->data[i] * N + j];
            if (l->nparams > 1) want += l->params[1].data[j];
            if (vc_expect_elem(t[0], i * N + j, want, why, len)) return -1;
        }
    return 0;
}

/* LRN by the definition of the header comment, for the two cases below. */
static int vcheck_lrn(const CliffTensor *b, const CliffTensor *t, int within, int size,
                     double alpha, double beta, double k, char *why, size_t len)
{
    const int N = b->shape[0], C = b->shape[1], H = b->shape[2], W = b->shape[3], pre = (size - 1) / 2;
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int h = 0; h < H; h++)
                for (int w = 0; w < W; w++) {
                    double acc = 0;
                    if (!within) {
                        for (int cc = c - pre; cc <= c + pre; cc++)
                            if (cc >= 0 && cc < C) {
                                double x = b->data[((n * C + cc) * H + h) * W + w];
                                acc += x * x;
                            }
                    } else {
                        for (int hh = h - pre; hh <= h + pre; hh++)
                            for (int ww = w - pre; ww <= w + pre; ww++)
                                if (hh >= 0 && hh < H && ww >= 0 && ww < W) {
                                    double x = b->data[((n * C + c) * H + hh) * W + ww];
                                    acc += x * x;
                                }
                    }
                    double scale = within ? 1 + alpha / (size * size) * acc : k + alpha / size * acc;
                    size_t at = ((size_t)(n * C + c) * H + h) * W + w;
                    if (vc_expect_elem(t, at, b->data[at] * pow(scale, -beta), why, len)) return -1;
                }
    return 0;
}

int vcheck_lrn_across(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                            int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return vcheck_lrn(b[0], t[0], 0, 5, 0.5, 0.75, 2.0, why, len);
}

int vcheck_lrn_defaults(CliffLayer *l, CliffTensor *const *b, int nb,
                              CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt; /* local_size 5, alpha 1, beta 0.75, k 1 */
    return vcheck_lrn(b[0], t[0], 0, 5, 1.0, 0.75, 1.0, why, len);
}

int vcheck_lrn_within(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                            int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return vcheck_lrn(b[0], t[0], 1, 3, 0.8, 0.6, 0.0, why, len);
}

