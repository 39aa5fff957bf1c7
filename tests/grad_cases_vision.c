/* Gradient-check cases for the vision and shape layers (see gradcheck.h).
 *
 * Every configuration that changes the math gets a case: convolution with
 * group / pad / stride / dilation / no bias / axis / _h _w and repeated forms,
 * deconvolution, pooling MAX / AVE / global / padded / ceil / floor, both LRN
 * regions, InnerProduct transpose / axis, each Eltwise op, Softmax on several
 * axes, each Reduction op... Shapes stay tiny so the table runs in seconds.
 *
 * check_forward functions verify top values directly. Where a literal is used
 * the bottom is first set to a fixed pattern and forward is run again; the
 * literals were derived by hand or with PyTorch (F.max_pool2d / F.avg_pool2d
 * with ceil_mode=True, count_include_pad=True, which follow Caffe's rules).
 * The pattern stays in the bottom for the gradient check that follows (its
 * distinct integer values keep max pooling away from ties).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gradcheck.h"

/* ---- helpers ---- */

static int failw(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return -1;
}

static int close_to(float a, float b) { return fabsf(a - b) <= 1e-5f * fmaxf(1.0f, fabsf(b)); }

static int expect_shape(const CliffTensor *t, const char *what, int n, const int *shape, char *why,
                        size_t len)
{
    int ok = t->num_axes == n;
    for (int i = 0; ok && i < n; i++) ok = t->shape[i] == shape[i];
    if (ok) return 0;
    char s[128];
    return failw(why, len, "%s has shape %s (%d axes), expected another", what,
                 cliff_tensor_shape_str(t, s, sizeof s), t->num_axes);
}

static int expect_values(const CliffTensor *t, const char *what, const float *v, size_t n,
                         char *why, size_t len)
{
    if (t->count != n) return failw(why, len, "%s has %zu values, expected %zu", what, t->count, n);
    for (size_t i = 0; i < n; i++)
        if (!close_to(t->data[i], v[i]))
            return failw(why, len, "%s[%zu] = %.7g, expected %.7g", what, i, t->data[i], v[i]);
    return 0;
}

/* Sets bottom[0] to x[i] = ((i * mul) % mod) + add and runs forward again. */
static void reforward_pattern(CliffLayer *l, CliffTensor *const *bottom, int nb,
                              CliffTensor *const *top, int nt, int mul, int mod, int add)
{
    for (size_t i = 0; i < bottom[0]->count; i++)
        bottom[0]->data[i] = (float)((int)((i * (size_t)mul) % (size_t)mod) + add);
    l->ops->forward(l, bottom, nb, top, nt);
}

#define B4(n, c, h, w) {4, {n, c, h, w}, FILL_GAUSSIAN, 0, 0, 0}
#define B5(a, b, c, d, e) {5, {a, b, c, d, e}, FILL_GAUSSIAN, 0, 0, 0}
#define B3(a, b, c) {3, {a, b, c}, FILL_GAUSSIAN, 0, 0, 0}
#define B2(a, b) {2, {a, b}, FILL_GAUSSIAN, 0, 0, 0}
#define BPOS3(a, b, c) {3, {a, b, c}, FILL_POSITIVE, 0, 0, 0}
#define FILLERS " weight_filler { type: 'gaussian' std: 0.5 } bias_filler { type: 'gaussian' std: 0.5 }"

/* ---- Pooling literals (1x1x5x5 pattern (7i mod 25) - 12, 1x1x4x4 pattern (5i mod 16) - 8) ---- */

static int check_pool_max_k3s2p1(CliffLayer *l, CliffTensor *const *bottom, int nb,
                                 CliffTensor *const *top, int nt, char *why, size_t len)
{
    reforward_pattern(l, bottom, nb, top, nt, 7, 25, -12);
    static const int shape[4] = {1, 1, 3, 3};
    static const float y[9] = {5, 12, 9, 8, 12, 11, 10, 10, 6};
    static const float mask[9] = {6, 7, 3, 10, 7, 14, 21, 21, 24};
    if (expect_shape(top[0], "top", 4, shape, why, len) ||
        expect_values(top[0], "top", y, 9, why, len))
        return -1;
    return nt > 1 ? expect_values(top[1], "mask", mask, 9, why, len) : 0;
}

static int check_pool_ave_k3s2p1(CliffLayer *l, CliffTensor *const *bottom, int nb,
                                 CliffTensor *const *top, int nt, char *why, size_t len)
{
    reforward_pattern(l, bottom, nb, top, nt, 7, 25, -12);
    static const int shape[4] = {1, 1, 3, 3};
    static const float y[9] = {-14 / 9.f, 17 / 9.f, -5 / 9.f, -6 / 9.f, -2 / 9.f,
                               -5 / 9.f,  6 / 9.f,  -3 / 9.f, -10 / 9.f};
    if (expect_shape(top[0], "top", 4, shape, why, len)) return -1;
    return expect_values(top[0], "top", y, 9, why, len);
}

static int check_pool_max_k2s2(CliffLayer *l, CliffTensor *const *bottom, int nb,
                               CliffTensor *const *top, int nt, char *why, size_t len)
{
    reforward_pattern(l, bottom, nb, top, nt, 5, 16, -8);
    static const int shape[4] = {1, 1, 2, 2};
    static const float y[4] = {1, 7, 5, 3}, mask[4] = {5, 3, 9, 15};
    if (expect_shape(top[0], "top", 4, shape, why, len) ||
        expect_values(top[0], "top", y, 4, why, len))
        return -1;
    return nt > 1 ? expect_values(top[1], "mask", mask, 4, why, len) : 0;
}

/* kernel 3 stride 2 on 4x4 without pad: ceil gives 2x2, the last windows are
 * clipped and AVE divides by the clipped size. */
static int check_pool_ave_k3s2_ceil(CliffLayer *l, CliffTensor *const *bottom, int nb,
                                    CliffTensor *const *top, int nt, char *why, size_t len)
{
    reforward_pattern(l, bottom, nb, top, nt, 5, 16, -8);
    static const int shape[4] = {1, 1, 2, 2};
    static const float y[4] = {-7 / 9.f, 0.5f, -1.0f, -1.5f};
    if (expect_shape(top[0], "top", 4, shape, why, len)) return -1;
    return expect_values(top[0], "top", y, 4, why, len);
}

static int check_pool_max_k3s2_ceil(CliffLayer *l, CliffTensor *const *bottom, int nb,
                                    CliffTensor *const *top, int nt, char *why, size_t len)
{
    reforward_pattern(l, bottom, nb, top, nt, 5, 16, -8);
    static const float y[4] = {6, 7, 5, 3};
    return expect_values(top[0], "top", y, 4, why, len);
}

static int check_pool_floor(CliffLayer *l, CliffTensor *const *bottom, int nb,
                            CliffTensor *const *top, int nt, char *why, size_t len)
{
    reforward_pattern(l, bottom, nb, top, nt, 5, 16, -8);
    static const int shape[4] = {1, 1, 1, 1};
    static const float y[1] = {6}; /* max of rows 0-2, cols 0-2 */
    if (expect_shape(top[0], "top", 4, shape, why, len)) return -1;
    return expect_values(top[0], "top", y, 1, why, len);
}

/* global pooling: the plane mean / max, by definition */
static int check_pool_global(CliffLayer *l, CliffTensor *const *bottom, int nb,
                             CliffTensor *const *top, int nt, char *why, size_t len, int is_max)
{
    (void)l, (void)nb, (void)nt;
    const CliffTensor *b = bottom[0];
    const int planes = b->shape[0] * b->shape[1], hw = b->shape[2] * b->shape[3];
    const int shape[4] = {b->shape[0], b->shape[1], 1, 1};
    if (expect_shape(top[0], "top", 4, shape, why, len)) return -1;
    for (int p = 0; p < planes; p++) {
        double acc = 0, mx = -INFINITY;
        for (int i = 0; i < hw; i++) {
            acc += b->data[p * hw + i];
            mx = fmax(mx, b->data[p * hw + i]);
        }
        float want = (float)(is_max ? mx : acc / hw);
        if (!close_to(top[0]->data[p], want))
            return failw(why, len, "plane %d: %.7g, expected %.7g", p, top[0]->data[p], want);
    }
    return 0;
}

static int check_pool_global_ave(CliffLayer *l, CliffTensor *const *b, int nb,
                                 CliffTensor *const *t, int nt, char *why, size_t len)
{
    return check_pool_global(l, b, nb, t, nt, why, len, 0);
}

static int check_pool_global_max(CliffLayer *l, CliffTensor *const *b, int nb,
                                 CliffTensor *const *t, int nt, char *why, size_t len)
{
    return check_pool_global(l, b, nb, t, nt, why, len, 1);
}

/* ---- shape layers: values by definition ---- */

/* top is a copy of bottom[0] with the given shape */
static int check_copy(const CliffTensor *b, const CliffTensor *t, int n, const int *shape,
                      char *why, size_t len)
{
    if (expect_shape(t, "top", n, shape, why, len)) return -1;
    return expect_values(t, "top", b->data, b->count, why, len);
}

static int check_flatten_default(CliffLayer *l, CliffTensor *const *b, int nb,
                                 CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    static const int shape[2] = {2, 24};
    return check_copy(b[0], t[0], 2, shape, why, len);
}

static int check_flatten_range(CliffLayer *l, CliffTensor *const *b, int nb,
                               CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    static const int shape[3] = {2, 12, 2};
    return check_copy(b[0], t[0], 3, shape, why, len);
}

static int check_reshape_inferred(CliffLayer *l, CliffTensor *const *b, int nb,
                                  CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    static const int shape[3] = {2, 6, 2};
    return check_copy(b[0], t[0], 3, shape, why, len);
}

static int check_reshape_axis(CliffLayer *l, CliffTensor *const *b, int nb,
                              CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    static const int shape[4] = {2, 3, 1, 4};
    return check_copy(b[0], t[0], 4, shape, why, len);
}

static int check_reshape_scalar_axes(CliffLayer *l, CliffTensor *const *b, int nb,
                                     CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    static const int shape[2] = {3, 4}; /* 3x1x4 with axis 1 num_axes 1 and no dims */
    return check_copy(b[0], t[0], 2, shape, why, len);
}

/* Concat along axis a of 3-axis bottoms: top[i][j][k] from the bottom owning j. */
static int check_concat3(CliffTensor *const *b, int nb, const CliffTensor *t, int axis, char *why,
                         size_t len)
{
    int shape[3] = {b[0]->shape[0], b[0]->shape[1], b[0]->shape[2]};
    shape[axis] = 0;
    for (int i = 0; i < nb; i++) shape[axis] += b[i]->shape[axis];
    if (expect_shape(t, "top", 3, shape, why, len)) return -1;
    for (int i = 0; i < shape[0]; i++)
        for (int j = 0; j < shape[1]; j++)
            for (int k = 0; k < shape[2]; k++) {
                int idx[3] = {i, j, k}, s = 0;
                while (idx[axis] >= b[s]->shape[axis]) idx[axis] -= b[s++]->shape[axis];
                const CliffTensor *src = b[s];
                float want = src->data[(idx[0] * src->shape[1] + idx[1]) * src->shape[2] + idx[2]];
                float got = t->data[(i * shape[1] + j) * shape[2] + k];
                if (got != want)
                    return failw(why, len, "top[%d][%d][%d] = %g, expected %g (bottom %d)", i, j, k,
                                 got, want, s);
            }
    return 0;
}

static int check_concat_axis1(CliffLayer *l, CliffTensor *const *b, int nb,
                              CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nt;
    return check_concat3(b, nb, t[0], 1, why, len);
}

static int check_concat_axis0(CliffLayer *l, CliffTensor *const *b, int nb,
                              CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nt;
    return check_concat3(b, nb, t[0], 0, why, len);
}

static int check_concat_axis2(CliffLayer *l, CliffTensor *const *b, int nb,
                              CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nt;
    return check_concat3(b, nb, t[0], 2, why, len);
}

/* Slice is Concat read backwards: tops concatenated along axis give the bottom. */
static int check_slice3(const CliffTensor *b, CliffTensor *const *t, int nt, int axis,
                        const int *sizes, char *why, size_t len)
{
    for (int k = 0; k < nt; k++)
        if (t[k]->num_axes != 3 || t[k]->shape[axis] != sizes[k])
            return failw(why, len, "top %d has extent %d on axis %d, expected %d", k,
                         t[k]->num_axes == 3 ? t[k]->shape[axis] : -1, axis, sizes[k]);
    return check_concat3(t, nt, b, axis, why, len);
}

static int check_slice_points(CliffLayer *l, CliffTensor *const *b, int nb,
                              CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb;
    static const int sizes[3] = {1, 3, 2};
    return check_slice3(b[0], t, nt, 1, sizes, why, len);
}

static int check_slice_equal(CliffLayer *l, CliffTensor *const *b, int nb,
                             CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb;
    static const int sizes[2] = {2, 2};
    return check_slice3(b[0], t, nt, 0, sizes, why, len);
}

static int check_split(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                       int nt, char *why, size_t len)
{
    (void)l, (void)nb;
    for (int k = 0; k < nt; k++)
        if (check_copy(b[0], t[k], b[0]->num_axes, b[0]->shape, why, len)) return -1;
    return 0;
}

/* Crop: top[n][c][h][w] = bottom[n][c + oc][h + oh][w + ow]. */
static int check_crop4(CliffTensor *const *b, const CliffTensor *t, const int *off, char *why,
                       size_t len)
{
    const CliffTensor *x = b[0], *ref = b[1];
    int shape[4];
    for (int i = 0; i < 4; i++) shape[i] = off[i] < 0 ? x->shape[i] : ref->shape[i];
    if (expect_shape(t, "top", 4, shape, why, len)) return -1;
    for (int n = 0; n < shape[0]; n++)
        for (int c = 0; c < shape[1]; c++)
            for (int h = 0; h < shape[2]; h++)
                for (int w = 0; w < shape[3]; w++) {
                    int sn = n + (off[0] > 0 ? off[0] : 0), sc = c + (off[1] > 0 ? off[1] : 0);
                    int sh = h + (off[2] > 0 ? off[2] : 0), sw = w + (off[3] > 0 ? off[3] : 0);
                    float want = x->data[((sn * x->shape[1] + sc) * x->shape[2] + sh) * x->shape[3] + sw];
                    float got = t->data[((n * shape[1] + c) * shape[2] + h) * shape[3] + w];
                    if (got != want)
                        return failw(why, len, "top[%d][%d][%d][%d] = %g, expected %g", n, c, h, w,
                                     got, want);
                }
    return 0;
}

static int check_crop_axis2(CliffLayer *l, CliffTensor *const *b, int nb,
                            CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    static const int off[4] = {-1, -1, 1, 1}; /* -1: axis kept */
    return check_crop4(b, t[0], off, why, len);
}

static int check_crop_axis1(CliffLayer *l, CliffTensor *const *b, int nb,
                            CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    static const int off[4] = {-1, 1, 2, 0};
    return check_crop4(b, t[0], off, why, len);
}

/* ---- ArgMax literals ---- */

/* 2 x 5, rows {3, -1, 7, 7, 0} and {-2, 4, -3, 7, -2}: ties go to the larger index */
static void argmax_set(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t, int nt)
{
    static const float x[10] = {3, -1, 7, 7, 0, -2, 4, -3, 7, -2};
    memcpy(b[0]->data, x, sizeof x);
    l->ops->forward(l, b, nb, t, nt);
}

static int check_argmax_top1(CliffLayer *l, CliffTensor *const *b, int nb,
                             CliffTensor *const *t, int nt, char *why, size_t len)
{
    argmax_set(l, b, nb, t, nt);
    static const int shape[3] = {2, 1, 1};
    static const float y[2] = {3, 3};
    if (expect_shape(t[0], "top", 3, shape, why, len)) return -1;
    return expect_values(t[0], "top", y, 2, why, len);
}

static int check_argmax_top3_val(CliffLayer *l, CliffTensor *const *b, int nb,
                                 CliffTensor *const *t, int nt, char *why, size_t len)
{
    argmax_set(l, b, nb, t, nt);
    static const int shape[3] = {2, 2, 3};
    /* per item: 3 indices, then their 3 values */
    static const float y[12] = {3, 2, 0, 7, 7, 3, 3, 1, 4, 7, 4, -2};
    if (expect_shape(t[0], "top", 3, shape, why, len)) return -1;
    return expect_values(t[0], "top", y, 12, why, len);
}

/* axis 0 of the 2 x 5 blob: per column, the row of the larger value (tie -> row 1) */
static int check_argmax_axis0(CliffLayer *l, CliffTensor *const *b, int nb,
                              CliffTensor *const *t, int nt, char *why, size_t len)
{
    argmax_set(l, b, nb, t, nt);
    static const int shape[2] = {1, 5};
    static const float y[5] = {0, 1, 0, 1, 0};
    if (expect_shape(t[0], "top", 2, shape, why, len)) return -1;
    return expect_values(t[0], "top", y, 5, why, len);
}

/* axis 1 with top_k 2 and out_max_val: the two largest values of each row */
static int check_argmax_axis1_val(CliffLayer *l, CliffTensor *const *b, int nb,
                                  CliffTensor *const *t, int nt, char *why, size_t len)
{
    argmax_set(l, b, nb, t, nt);
    static const int shape[2] = {2, 2};
    static const float y[4] = {7, 7, 7, 4};
    if (expect_shape(t[0], "top", 2, shape, why, len)) return -1;
    return expect_values(t[0], "top", y, 4, why, len);
}

/* ---- Filter / BatchReindex: by definition ---- */

static int check_filter(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                        int nt, char *why, size_t len)
{
    (void)l;
    const CliffTensor *sel = b[nb - 1];
    int kept = 0, dropped = 0;
    for (int n = 0; n < sel->shape[0]; n++) {
        if (sel->data[n] == 0) {
            dropped++;
            continue;
        }
        for (int k = 0; k < nt; k++) {
            size_t dim = b[k]->count / (size_t)b[k]->shape[0];
            if (t[k]->shape[0] <= kept)
                return failw(why, len, "top %d has only %d items", k, t[k]->shape[0]);
            if (memcmp(t[k]->data + (size_t)kept * dim, b[k]->data + (size_t)n * dim,
                       dim * sizeof(float)))
                return failw(why, len, "top %d item %d is not bottom item %d", k, kept, n);
        }
        kept++;
    }
    if (!kept || !dropped)
        return failw(why, len, "selector keeps %d of %d items: pick a seed/shape that tests both",
                     kept, sel->shape[0]);
    for (int k = 0; k < nt; k++)
        if (t[k]->shape[0] != kept)
            return failw(why, len, "top %d has %d items, expected %d", k, t[k]->shape[0], kept);
    return 0;
}

static int check_reindex(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                         int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    const CliffTensor *x = b[0], *ix = b[1];
    size_t dim = x->count / (size_t)x->shape[0];
    int seen[64] = {0}, repeats = 0;
    if (t[0]->shape[0] != ix->shape[0])
        return failw(why, len, "top has %d items, expected %d", t[0]->shape[0], ix->shape[0]);
    for (int k = 0; k < ix->shape[0]; k++) {
        int i = (int)ix->data[k];
        if (i >= 0 && i < 64 && seen[i]++) repeats++;
        if (memcmp(t[0]->data + (size_t)k * dim, x->data + (size_t)i * dim, dim * sizeof(float)))
            return failw(why, len, "top item %d is not bottom item %d", k, i);
    }
    if (!repeats)
        return failw(why, len, "no repeated index: the case should test gradient accumulation");
    return 0;
}

/* Im2col: top[n][(c*kh + ki)*kw + kj][oy][ox] = bottom[n][c][iy][ix] or 0 (definition). */
static int check_im2col(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                        int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    const int kh = 3, kw = 2, sh = 2, sw = 1, ph = 1, pw = 0; /* as in the case below */
    const CliffTensor *x = b[0];
    const int N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    const int oh = (H + 2 * ph - kh) / sh + 1, ow = (W + 2 * pw - kw) / sw + 1;
    const int shape[4] = {N, C * kh * kw, oh, ow};
    if (expect_shape(t[0], "top", 4, shape, why, len)) return -1;
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int ki = 0; ki < kh; ki++)
                for (int kj = 0; kj < kw; kj++)
                    for (int oy = 0; oy < oh; oy++)
                        for (int ox = 0; ox < ow; ox++) {
                            int iy = oy * sh - ph + ki, ix = ox * sw - pw + kj;
                            float want = iy >= 0 && iy < H && ix >= 0 && ix < W
                                             ? x->data[((n * C + c) * H + iy) * W + ix]
                                             : 0.0f;
                            int r = (c * kh + ki) * kw + kj;
                            float got = t[0]->data[((n * shape[1] + r) * oh + oy) * ow + ox];
                            if (got != want)
                                return failw(why, len, "top[%d][%d][%d][%d] = %g, expected %g", n,
                                             r, oy, ox, got, want);
                        }
    return 0;
}

/* ---- value layers: top by definition ---- */

static int expect_elem(const CliffTensor *t, size_t i, double want, char *why, size_t len)
{
    if (fabs(t->data[i] - want) <= 1e-5 * fmax(1.0, fabs(want))) return 0;
    return failw(why, len, "top[%zu] = %.7g, expected %.7g", i, t->data[i], want);
}

static int check_eltwise_sum_coeff(CliffLayer *l, CliffTensor *const *b, int nb,
                                   CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    for (size_t i = 0; i < t[0]->count; i++)
        if (expect_elem(t[0], i, b[0]->data[i] - 2.0 * b[1]->data[i] + 0.5 * b[2]->data[i], why,
                        len))
            return -1;
    return 0;
}

static int check_eltwise_prod(CliffLayer *l, CliffTensor *const *b, int nb,
                              CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nt;
    for (size_t i = 0; i < t[0]->count; i++) {
        double want = 1;
        for (int k = 0; k < nb; k++) want *= b[k]->data[i];
        if (expect_elem(t[0], i, want, why, len)) return -1;
    }
    return 0;
}

static int check_eltwise_max(CliffLayer *l, CliffTensor *const *b, int nb,
                             CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nt;
    for (size_t i = 0; i < t[0]->count; i++) {
        double want = b[0]->data[i];
        for (int k = 1; k < nb; k++) want = fmax(want, b[k]->data[i]);
        if (expect_elem(t[0], i, want, why, len)) return -1;
    }
    return 0;
}

/* softmax over axis a of a blob viewed as outer x C x inner */
static int check_softmax_axis(const CliffTensor *b, const CliffTensor *t, int axis, char *why,
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
                if (expect_elem(t, at, exp(b->data[at]) / z, why, len)) return -1;
            }
        }
    return 0;
}

static int check_softmax1(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                          int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return check_softmax_axis(b[0], t[0], 1, why, len);
}

static int check_softmax_last(CliffLayer *l, CliffTensor *const *b, int nb,
                              CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return check_softmax_axis(b[0], t[0], b[0]->num_axes - 1, why, len);
}

static int check_softmax0(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                          int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return check_softmax_axis(b[0], t[0], 0, why, len);
}

/* Tile of a 3-axis blob along axis a: top[.., j, ..] = bottom[.., j % size, ..] */
static int check_tile3(const CliffTensor *b, const CliffTensor *t, int axis, int tiles,
                       char *why, size_t len)
{
    int shape[3] = {b->shape[0], b->shape[1], b->shape[2]};
    shape[axis] *= tiles;
    if (expect_shape(t, "top", 3, shape, why, len)) return -1;
    for (int i = 0; i < shape[0]; i++)
        for (int j = 0; j < shape[1]; j++)
            for (int k = 0; k < shape[2]; k++) {
                int idx[3] = {i, j, k};
                idx[axis] %= b->shape[axis];
                float want = b->data[(idx[0] * b->shape[1] + idx[1]) * b->shape[2] + idx[2]];
                if (t->data[(i * shape[1] + j) * shape[2] + k] != want)
                    return failw(why, len, "top[%d][%d][%d] is not bottom[%d][%d][%d]", i, j, k,
                                 idx[0], idx[1], idx[2]);
            }
    return 0;
}

static int check_tile_axis1(CliffLayer *l, CliffTensor *const *b, int nb,
                            CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return check_tile3(b[0], t[0], 1, 3, why, len);
}

static int check_tile_last(CliffLayer *l, CliffTensor *const *b, int nb,
                           CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return check_tile3(b[0], t[0], 2, 2, why, len);
}

/* Reduction from axis a with op 1..4 (SUM, ASUM, SUMSQ, MEAN) and coeff. */
static int check_reduction(const CliffTensor *b, const CliffTensor *t, int axis, int op,
                           double coeff, char *why, size_t len)
{
    size_t num = 1, dim = 1;
    for (int i = 0; i < axis; i++) num *= (size_t)b->shape[i];
    for (int i = axis; i < b->num_axes; i++) dim *= (size_t)b->shape[i];
    if (t->num_axes != axis || t->count != num)
        return failw(why, len, "top has %d axes and %zu values, expected %d and %zu",
                     t->num_axes, t->count, axis, num);
    for (size_t n = 0; n < num; n++) {
        double acc = 0;
        for (size_t i = 0; i < dim; i++) {
            double x = b->data[n * dim + i];
            acc += op == 2 ? fabs(x) : op == 3 ? x * x : x;
        }
        if (op == 4) acc /= (double)dim;
        if (expect_elem(t, n, coeff * acc, why, len)) return -1;
    }
    return 0;
}

static int check_red_sum(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                         int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return check_reduction(b[0], t[0], 0, 1, 1.0, why, len);
}

static int check_red_asum(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                          int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return check_reduction(b[0], t[0], 1, 2, 1.0, why, len);
}

static int check_red_sumsq(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                           int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return check_reduction(b[0], t[0], 2, 3, -0.5, why, len);
}

static int check_red_mean(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                          int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return check_reduction(b[0], t[0], 2, 4, 3.0, why, len);
}

/* Embed: top[i, :] = W[idx_i, :] (+ bias) */
static int check_embed(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                       int nt, char *why, size_t len)
{
    (void)nb, (void)nt;
    const int N = l->params[0].shape[1];
    for (size_t i = 0; i < b[0]->count; i++)
        for (int j = 0; j < N; j++) {
            double want = l->params[0].data[(size_t)b[0]->data[i] * N + j];
            if (l->nparams > 1) want += l->params[1].data[j];
            if (expect_elem(t[0], i * N + j, want, why, len)) return -1;
        }
    return 0;
}

/* LRN by the definition of the header comment, for the two cases below. */
static int check_lrn(const CliffTensor *b, const CliffTensor *t, int within, int size,
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
                    if (expect_elem(t, at, b->data[at] * pow(scale, -beta), why, len)) return -1;
                }
    return 0;
}

static int check_lrn_across(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                            int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return check_lrn(b[0], t[0], 0, 5, 0.5, 0.75, 2.0, why, len);
}

static int check_lrn_defaults(CliffLayer *l, CliffTensor *const *b, int nb,
                              CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt; /* local_size 5, alpha 1, beta 0.75, k 1 */
    return check_lrn(b[0], t[0], 0, 5, 1.0, 0.75, 1.0, why, len);
}

static int check_lrn_within(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                            int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    return check_lrn(b[0], t[0], 1, 3, 0.8, 0.6, 0.0, why, len);
}

/* ---- the table ---- */

const GradCase grad_cases_vision[] = {
    /* Convolution */
    {.name = "Convolution/basic",
     .layer = "type: 'Convolution' convolution_param { num_output: 4 kernel_size: 3" FILLERS " }",
     .nbottom = 1, .bottom = {B4(2, 3, 5, 5)}, .ntop = 1},
    {.name = "Convolution/batch1",
     .layer = "type: 'Convolution' convolution_param { num_output: 3 kernel_size: 2" FILLERS " }",
     .nbottom = 1, .bottom = {B4(1, 2, 4, 5)}, .ntop = 1},
    {.name = "Convolution/group2_pad1_stride2",
     .layer = "type: 'Convolution' convolution_param { num_output: 6 kernel_size: 3 group: 2 "
              "pad: 1 stride: 2" FILLERS " }",
     .nbottom = 1, .bottom = {B4(2, 4, 6, 5)}, .ntop = 1},
    {.name = "Convolution/dilation2",
     .layer = "type: 'Convolution' convolution_param { num_output: 2 kernel_size: 3 dilation: 2"
              FILLERS " }",
     .nbottom = 1, .bottom = {B4(2, 2, 7, 6)}, .ntop = 1},
    {.name = "Convolution/no_bias",
     .layer = "type: 'Convolution' convolution_param { num_output: 3 kernel_size: 2 bias_term: "
              "false weight_filler { type: 'gaussian' std: 0.5 } }",
     .nbottom = 1, .bottom = {B4(2, 2, 4, 4)}, .ntop = 1},
    {.name = "Convolution/hw_forms",
     .layer = "type: 'Convolution' convolution_param { num_output: 2 kernel_h: 3 kernel_w: 2 "
              "stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 0" FILLERS " }",
     .nbottom = 1, .bottom = {B4(2, 2, 5, 4)}, .ntop = 1},
    {.name = "Convolution/repeated_forms",
     .layer = "type: 'Convolution' convolution_param { num_output: 2 kernel_size: 2 kernel_size: 3 "
              "stride: 1 stride: 2 pad: 0 pad: 1 dilation: 2 dilation: 1" FILLERS " }",
     .nbottom = 1, .bottom = {B4(2, 3, 5, 6)}, .ntop = 1},
    {.name = "Convolution/axis2",
     .layer = "type: 'Convolution' convolution_param { num_output: 2 kernel_size: 2 axis: 2"
              FILLERS " }",
     .nbottom = 1, .bottom = {B5(2, 2, 3, 4, 3)}, .ntop = 1},
    {.name = "Convolution/1x1_group3",
     .layer = "type: 'Convolution' convolution_param { num_output: 3 kernel_size: 1 group: 3"
              FILLERS " }",
     .nbottom = 1, .bottom = {B4(2, 3, 3, 4)}, .ntop = 1},
    {.name = "Convolution/two_bottoms",
     .layer = "type: 'Convolution' convolution_param { num_output: 2 kernel_size: 3 pad: 1 "
              "stride: 2" FILLERS " }",
     .nbottom = 2, .bottom = {B4(2, 2, 4, 3), B4(2, 2, 4, 3)}, .ntop = 2},
    /* Deconvolution */
    {.name = "Deconvolution/basic",
     .layer = "type: 'Deconvolution' convolution_param { num_output: 2 kernel_size: 3 stride: 2 "
              "pad: 1" FILLERS " }",
     .nbottom = 1, .bottom = {B4(2, 3, 3, 3)}, .ntop = 1},
    {.name = "Deconvolution/group2_dilation2",
     .layer = "type: 'Deconvolution' convolution_param { num_output: 4 kernel_size: 2 group: 2 "
              "dilation: 2" FILLERS " }",
     .nbottom = 1, .bottom = {B4(2, 4, 3, 2)}, .ntop = 1},
    {.name = "Deconvolution/batch1_no_bias_hw",
     .layer = "type: 'Deconvolution' convolution_param { num_output: 3 kernel_h: 2 kernel_w: 3 "
              "stride_h: 2 stride_w: 1 bias_term: false weight_filler { type: 'gaussian' } }",
     .nbottom = 1, .bottom = {B4(1, 2, 3, 3)}, .ntop = 1},
    /* Im2col */
    {.name = "Im2col/k3x2_s2x1_p1x0",
     .layer = "type: 'Im2col' convolution_param { kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 "
              "pad_h: 1 pad_w: 0 }",
     .nbottom = 1, .bottom = {B4(2, 2, 5, 4)}, .ntop = 1, .check_forward = check_im2col},
    /* Pooling */
    {.name = "Pooling/max_k3s2p1_mask",
     .layer = "type: 'Pooling' pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 }",
     .nbottom = 1, .bottom = {B4(1, 1, 5, 5)}, .ntop = 2, .check_forward = check_pool_max_k3s2p1},
    {.name = "Pooling/ave_k3s2p1",
     .layer = "type: 'Pooling' pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 }",
     .nbottom = 1, .bottom = {B4(1, 1, 5, 5)}, .ntop = 1, .check_forward = check_pool_ave_k3s2p1},
    {.name = "Pooling/max_k2s2_mask",
     .layer = "type: 'Pooling' pooling_param { pool: MAX kernel_size: 2 stride: 2 }",
     .nbottom = 1, .bottom = {B4(1, 1, 4, 4)}, .ntop = 2, .check_forward = check_pool_max_k2s2},
    {.name = "Pooling/max_2x2s2_wide",
     .layer = "type: 'Pooling' pooling_param { pool: MAX kernel_size: 2 stride: 2 }",
     .nbottom = 1, .bottom = {B4(2, 2, 4, 10)}, .ntop = 1},
    {.name = "Pooling/ave_k3s2_ceil_clipped",
     .layer = "type: 'Pooling' pooling_param { pool: AVE kernel_size: 3 stride: 2 }",
     .nbottom = 1, .bottom = {B4(1, 1, 4, 4)}, .ntop = 1,
     .check_forward = check_pool_ave_k3s2_ceil},
    {.name = "Pooling/max_k3s2_ceil_clipped",
     .layer = "type: 'Pooling' pooling_param { pool: MAX kernel_size: 3 stride: 2 }",
     .nbottom = 1, .bottom = {B4(1, 1, 4, 4)}, .ntop = 1,
     .check_forward = check_pool_max_k3s2_ceil},
    {.name = "Pooling/max_floor",
     .layer = "type: 'Pooling' pooling_param { pool: MAX kernel_size: 3 stride: 2 round_mode: "
              "FLOOR }",
     .nbottom = 1, .bottom = {B4(1, 1, 4, 4)}, .ntop = 1, .check_forward = check_pool_floor},
    {.name = "Pooling/global_ave",
     .layer = "type: 'Pooling' pooling_param { pool: AVE global_pooling: true }",
     .nbottom = 1, .bottom = {B4(2, 3, 4, 5)}, .ntop = 1, .check_forward = check_pool_global_ave},
    {.name = "Pooling/global_max",
     .layer = "type: 'Pooling' pooling_param { pool: MAX global_pooling: true }",
     .nbottom = 1, .bottom = {B4(2, 2, 3, 3)}, .ntop = 1, .check_forward = check_pool_global_max},
    {.name = "Pooling/ave_hw_padded",
     .layer = "type: 'Pooling' pooling_param { pool: AVE kernel_h: 2 kernel_w: 3 stride_h: 1 "
              "stride_w: 2 pad_h: 1 pad_w: 2 }",
     .nbottom = 1, .bottom = {B4(2, 2, 4, 5)}, .ntop = 1},
    {.name = "Pooling/max_hw_padded",
     .layer = "type: 'Pooling' pooling_param { pool: MAX kernel_h: 3 kernel_w: 2 stride_h: 2 "
              "stride_w: 1 pad_h: 1 pad_w: 1 }",
     .nbottom = 1, .bottom = {B4(2, 2, 5, 4)}, .ntop = 1},
    /* LRN */
    {.name = "LRN/across_channels",
     .layer = "type: 'LRN' lrn_param { local_size: 5 alpha: 0.5 beta: 0.75 k: 2 }",
     .nbottom = 1, .bottom = {B4(2, 7, 3, 2)}, .ntop = 1, .check_forward = check_lrn_across},
    {.name = "LRN/across_channels_defaults",
     .layer = "type: 'LRN'", .nbottom = 1, .bottom = {B4(2, 3, 2, 2)}, .ntop = 1,
     .check_forward = check_lrn_defaults},
    {.name = "LRN/within_channel",
     .layer = "type: 'LRN' lrn_param { norm_region: WITHIN_CHANNEL local_size: 3 alpha: 0.8 "
              "beta: 0.6 }",
     .nbottom = 1, .bottom = {B4(2, 2, 5, 4)}, .ntop = 1, .check_forward = check_lrn_within},
    /* InnerProduct */
    {.name = "InnerProduct/basic",
     .layer = "type: 'InnerProduct' inner_product_param { num_output: 5" FILLERS " }",
     .nbottom = 1, .bottom = {B4(3, 4, 2, 2)}, .ntop = 1},
    {.name = "InnerProduct/transpose",
     .layer = "type: 'InnerProduct' inner_product_param { num_output: 4 transpose: true"
              FILLERS " }",
     .nbottom = 1, .bottom = {B3(3, 2, 3)}, .ntop = 1},
    {.name = "InnerProduct/axis2",
     .layer = "type: 'InnerProduct' inner_product_param { num_output: 3 axis: 2" FILLERS " }",
     .nbottom = 1, .bottom = {B4(2, 3, 4, 2)}, .ntop = 1},
    {.name = "InnerProduct/axis_neg1_no_bias",
     .layer = "type: 'InnerProduct' inner_product_param { num_output: 3 axis: -1 bias_term: false "
              "weight_filler { type: 'gaussian' } }",
     .nbottom = 1, .bottom = {B3(2, 3, 4)}, .ntop = 1},
    /* Flatten / Reshape */
    {.name = "Flatten/default",
     .layer = "type: 'Flatten'", .nbottom = 1, .bottom = {B4(2, 3, 4, 2)}, .ntop = 1,
     .check_forward = check_flatten_default},
    {.name = "Flatten/axis1_end2",
     .layer = "type: 'Flatten' flatten_param { axis: 1 end_axis: 2 }", .nbottom = 1,
     .bottom = {B4(2, 3, 4, 2)}, .ntop = 1, .check_forward = check_flatten_range},
    {.name = "Reshape/zero_and_inferred",
     .layer = "type: 'Reshape' reshape_param { shape { dim: 0 dim: -1 dim: 2 } }", .nbottom = 1,
     .bottom = {B3(2, 3, 4)}, .ntop = 1, .check_forward = check_reshape_inferred},
    {.name = "Reshape/axis_num_axes",
     .layer = "type: 'Reshape' reshape_param { shape { dim: 3 dim: 1 } axis: 1 num_axes: 1 }",
     .nbottom = 1, .bottom = {B3(2, 3, 4)}, .ntop = 1, .check_forward = check_reshape_axis},
    {.name = "Reshape/drop_axis",
     .layer = "type: 'Reshape' reshape_param { shape { } axis: 1 num_axes: 1 }", .nbottom = 1,
     .bottom = {B3(3, 1, 4)}, .ntop = 1, .check_forward = check_reshape_scalar_axes},
    /* Concat / Slice / Split */
    {.name = "Concat/axis1",
     .layer = "type: 'Concat'", .nbottom = 3, .bottom = {B3(2, 3, 2), B3(2, 1, 2), B3(2, 2, 2)},
     .ntop = 1, .check_forward = check_concat_axis1},
    {.name = "Concat/concat_dim0",
     .layer = "type: 'Concat' concat_param { concat_dim: 0 }", .nbottom = 2,
     .bottom = {B3(1, 2, 3), B3(2, 2, 3)}, .ntop = 1, .check_forward = check_concat_axis0},
    {.name = "Concat/axis_neg1",
     .layer = "type: 'Concat' concat_param { axis: -1 }", .nbottom = 2,
     .bottom = {B3(2, 2, 3), B3(2, 2, 1)}, .ntop = 1, .check_forward = check_concat_axis2},
    {.name = "Slice/points",
     .layer = "type: 'Slice' slice_param { slice_point: 1 slice_point: 4 }", .nbottom = 1,
     .bottom = {B3(2, 6, 2)}, .ntop = 3, .check_forward = check_slice_points},
    {.name = "Slice/slice_dim0_equal",
     .layer = "type: 'Slice' slice_param { slice_dim: 0 }", .nbottom = 1, .bottom = {B3(4, 3, 2)},
     .ntop = 2, .check_forward = check_slice_equal},
    {.name = "Split/three",
     .layer = "type: 'Split'", .nbottom = 1, .bottom = {B3(2, 3, 2)}, .ntop = 3,
     .check_forward = check_split},
    /* Eltwise */
    {.name = "Eltwise/sum",
     .layer = "type: 'Eltwise'", .nbottom = 2, .bottom = {B3(2, 3, 2), B3(2, 3, 2)}, .ntop = 1},
    {.name = "Eltwise/sum_coeff",
     .layer = "type: 'Eltwise' eltwise_param { operation: SUM coeff: 1 coeff: -2 coeff: 0.5 }",
     .nbottom = 3, .bottom = {B3(2, 3, 2), B3(2, 3, 2), B3(2, 3, 2)}, .ntop = 1,
     .check_forward = check_eltwise_sum_coeff},
    {.name = "Eltwise/prod",
     .layer = "type: 'Eltwise' eltwise_param { operation: PROD }", .nbottom = 3,
     .bottom = {B3(2, 3, 2), B3(2, 3, 2), B3(2, 3, 2)}, .ntop = 1,
     .check_forward = check_eltwise_prod},
    {.name = "Eltwise/prod_unstable",
     .layer = "type: 'Eltwise' eltwise_param { operation: PROD stable_prod_grad: false }",
     .nbottom = 2, .bottom = {BPOS3(2, 3, 2), BPOS3(2, 3, 2)}, .ntop = 1},
    {.name = "Eltwise/max",
     .layer = "type: 'Eltwise' eltwise_param { operation: MAX }", .nbottom = 3,
     .bottom = {B3(2, 3, 2), B3(2, 3, 2), B3(2, 3, 2)}, .ntop = 1,
     .check_forward = check_eltwise_max},
    /* Softmax */
    {.name = "Softmax/axis1",
     .layer = "type: 'Softmax'", .nbottom = 1, .bottom = {B4(2, 5, 2, 2)}, .ntop = 1,
     .check_forward = check_softmax1},
    {.name = "Softmax/axis_neg1",
     .layer = "type: 'Softmax' softmax_param { axis: -1 }", .nbottom = 1, .bottom = {B3(2, 3, 4)},
     .ntop = 1, .check_forward = check_softmax_last},
    {.name = "Softmax/axis0",
     .layer = "type: 'Softmax' softmax_param { axis: 0 }", .nbottom = 1, .bottom = {B2(4, 3)},
     .ntop = 1, .check_forward = check_softmax0},
    /* Tile */
    {.name = "Tile/axis1",
     .layer = "type: 'Tile' tile_param { tiles: 3 }", .nbottom = 1, .bottom = {B3(2, 3, 2)},
     .ntop = 1, .check_forward = check_tile_axis1},
    {.name = "Tile/axis_neg1",
     .layer = "type: 'Tile' tile_param { axis: -1 tiles: 2 }", .nbottom = 1,
     .bottom = {B3(2, 2, 3)}, .ntop = 1, .check_forward = check_tile_last},
    /* Crop */
    {.name = "Crop/axis2_offset1",
     .layer = "type: 'Crop' crop_param { offset: 1 }", .nbottom = 2,
     .bottom = {B4(2, 3, 6, 5), {4, {2, 3, 3, 3}, FILL_GAUSSIAN, 0, 0, 1}}, .ntop = 1,
     .check_forward = check_crop_axis2},
    {.name = "Crop/axis1_per_axis_offsets",
     .layer = "type: 'Crop' crop_param { axis: 1 offset: 1 offset: 2 offset: 0 }", .nbottom = 2,
     .bottom = {B4(2, 4, 5, 3), {4, {1, 2, 2, 3}, FILL_GAUSSIAN, 0, 0, 1}}, .ntop = 1,
     .check_forward = check_crop_axis1},
    /* Reduction */
    {.name = "Reduction/sum_all",
     .layer = "type: 'Reduction'", .nbottom = 1, .bottom = {B3(2, 3, 2)}, .ntop = 1,
     .check_forward = check_red_sum},
    {.name = "Reduction/asum_axis1",
     .layer = "type: 'Reduction' reduction_param { operation: ASUM axis: 1 }", .nbottom = 1,
     .bottom = {B3(2, 3, 2)}, .ntop = 1, .check_forward = check_red_asum},
    {.name = "Reduction/sumsq_axis_neg1_coeff",
     .layer = "type: 'Reduction' reduction_param { operation: SUMSQ axis: -1 coeff: -0.5 }",
     .nbottom = 1, .bottom = {B3(2, 3, 2)}, .ntop = 1, .check_forward = check_red_sumsq},
    {.name = "Reduction/mean_axis2_coeff",
     .layer = "type: 'Reduction' reduction_param { operation: MEAN axis: 2 coeff: 3 }",
     .nbottom = 1, .bottom = {B4(2, 2, 3, 2)}, .ntop = 1, .check_forward = check_red_mean},
    /* ArgMax (forward only) */
    {.name = "ArgMax/top1",
     .layer = "type: 'ArgMax'", .nbottom = 1, .bottom = {B2(2, 5)}, .ntop = 1, .forward_only = 1,
     .check_forward = check_argmax_top1},
    {.name = "ArgMax/top3_out_max_val",
     .layer = "type: 'ArgMax' argmax_param { top_k: 3 out_max_val: true }", .nbottom = 1,
     .bottom = {B2(2, 5)}, .ntop = 1, .forward_only = 1, .check_forward = check_argmax_top3_val},
    {.name = "ArgMax/axis0",
     .layer = "type: 'ArgMax' argmax_param { axis: 0 }", .nbottom = 1, .bottom = {B2(2, 5)},
     .ntop = 1, .forward_only = 1, .check_forward = check_argmax_axis0},
    {.name = "ArgMax/axis1_top2_val",
     .layer = "type: 'ArgMax' argmax_param { axis: 1 top_k: 2 out_max_val: true }", .nbottom = 1,
     .bottom = {B2(2, 5)}, .ntop = 1, .forward_only = 1, .check_forward = check_argmax_axis1_val},
    /* Silence */
    {.name = "Silence/two_bottoms",
     .layer = "type: 'Silence'", .nbottom = 2, .bottom = {B2(2, 3), B3(1, 2, 2)}, .ntop = 0},
    /* Filter: selector of labels in {0, 1} */
    {.name = "Filter/two_blobs",
     .layer = "type: 'Filter'", .nbottom = 3,
     .bottom = {B2(6, 3), B3(6, 2, 2), {2, {6, 1}, FILL_LABELS, 2, 0, 1}}, .ntop = 2,
     .check_forward = check_filter},
    /* BatchReindex: 7 indices into 4 items (repeats accumulate) */
    {.name = "BatchReindex/repeats",
     .layer = "type: 'BatchReindex'", .nbottom = 2,
     .bottom = {B3(4, 2, 2), {1, {7}, FILL_LABELS, 4, 0, 1}}, .ntop = 1,
     .check_forward = check_reindex},
    /* Embed */
    {.name = "Embed/basic",
     .layer = "type: 'Embed' embed_param { num_output: 4 input_dim: 5" FILLERS " }",
     .nbottom = 1, .bottom = {{2, {2, 3}, FILL_LABELS, 5, 0, 1}}, .ntop = 1,
     .check_forward = check_embed},
    {.name = "Embed/no_bias",
     .layer = "type: 'Embed' embed_param { num_output: 3 input_dim: 4 bias_term: false "
              "weight_filler { type: 'gaussian' } }",
     .nbottom = 1, .bottom = {{1, {5}, FILL_LABELS, 4, 0, 1}}, .ntop = 1,
     .check_forward = check_embed},
    {0},
};
