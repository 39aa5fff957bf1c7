/* Forward checks of the shape layer cases (Flatten, Reshape, Concat, Slice,
 * Split, Crop, Filter, BatchReindex, Im2col): the top recomputed from its
 * definition and compared exactly (these layers only move values). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vision_checks.h"

/* ---- shape layers: values by definition ---- */

/* top is a copy of bottom[0] with the given shape */
static int vcheck_copy(const CliffTensor *b, const CliffTensor *t, int n, const int *shape,
                      char *why, size_t len)
{
    if (vc_expect_shape(t, "top", n, shape, why, len)) return -1;
    return vc_expect_values(t, "top", b->data, b->count, why, len);
}

int vcheck_flatten_default(CliffLayer *l, CliffTensor *const *b, int nb,
                                 CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    static const int shape[2] = {2, 24};
    return vcheck_copy(b[0], t[0], 2, shape, why, len);
}

int vcheck_flatten_range(CliffLayer *l, CliffTensor *const *b, int nb,
                               CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    static const int shape[3] = {2, 12, 2};
    return vcheck_copy(b[0], t[0], 3, shape, why, len);
}

int vcheck_reshape_inferred(CliffLayer *l, CliffTensor *const *b, int nb,
                                  CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    static const int shape[3] = {2, 6, 2};
    return vcheck_copy(b[0], t[0], 3, shape, why, len);
}

int vcheck_reshape_axis(CliffLayer *l, CliffTensor *const *b, int nb,
                              CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    static const int shape[4] = {2, 3, 1, 4};
    return vcheck_copy(b[0], t[0], 4, shape, why, len);
}

int vcheck_reshape_scalar_axes(CliffLayer *l, CliffTensor *const *b, int nb,
                                     CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    static const int shape[2] = {3, 4}; /* 3x1x4 with axis 1 num_axes 1 and no dims */
    return vcheck_copy(b[0], t[0], 2, shape, why, len);
}

/* Concat along axis a of 3-axis bottoms: top[i][j][k] from the bottom owning j. */
static int vcheck_concat3(CliffTensor *const *b, int nb, const CliffTensor *t, int axis, char *why,
                         size_t len)
{
    int shape[3] = {b[0]->shape[0], b[0]->shape[1], b[0]->shape[2]};
    shape[axis] = 0;
    for (int i = 0; i < nb; i++) shape[axis] += b[i]->shape[axis];
    if (vc_expect_shape(t, "top", 3, shape, why, len)) return -1;
    for (int i = 0; i < shape[0]; i++)
        for (int j = 0; j < shape[1]; j++)
            for (int k = 0; k < shape[2]; k++) {
                int idx[3] = {i, j, k}, s = 0;
                while (idx[axis] >= b[s]->shape[axis]) idx[axis] -= b[s++]->shape[axis];
                const CliffTensor *src = b[s];
                float want = src->data[(idx[0] * src->shape[1] + idx[1]) * src->shape[2] + idx[2]];
                float got = t->data[(i * shape[1] + j) * shape[2] + k];
                if (got != want)
                    return grad_fail(why, len, "top[%d][%d][%d] = %g, expected %g (bottom %d)", i, j, k,
                                 got, want, s);
            }
    return 0;
}

int vcheck_concat_axis1(CliffLayer *l, CliffTensor *const *b, int nb,
                              CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nt;
    return vcheck_concat3(b, nb, t[0], 1, why, len);
}

int vcheck_concat_axis0(CliffLayer *l, CliffTensor *const *b, int nb,
                              CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nt;
    return vcheck_concat3(b, nb, t[0], 0, why, len);
}

int vcheck_concat_axis2(CliffLayer *l, CliffTensor *const *b, int nb,
                              CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nt;
    return vcheck_concat3(b, nb, t[0], 2, why, len);
}

/* Slice is Concat read backwards: tops concatenated along axis give the bottom. */
static int vcheck_slice3(const CliffTensor *b, CliffTensor *const *t, int nt, int axis,
                        const int *sizes, char *why, size_t len)
{
    for (int k = 0; k < nt; k++)
        if (t[k]->num_axes != 3 || t[k]->shape[axis] != sizes[k])
            return grad_fail(why, len, "top %d has extent %d on axis %d, expected %d", k,
                         t[k]->num_axes == 3 ? t[k]->shape[axis] : -1, axis, sizes[k]);
    return vcheck_concat3(t, nt, b, axis, why, len);
}

int vcheck_slice_points(CliffLayer *l, CliffTensor *const *b, int nb,
                              CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb;
    static const int sizes[3] = {1, 3, 2};
    return vcheck_slice3(b[0], t, nt, 1, sizes, why, len);
}

int vcheck_slice_equal(CliffLayer *l, CliffTensor *const *b, int nb,
                             CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb;
    static const int sizes[2] = {2, 2};
    return vcheck_slice3(b[0], t, nt, 0, sizes, why, len);
}

int vcheck_split(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                       int nt, char *why, size_t len)
{
    (void)l, (void)nb;
    for (int k = 0; k < nt; k++)
        if (vcheck_copy(b[0], t[k], b[0]->num_axes, b[0]->shape, why, len)) return -1;
    return 0;
}

/* Crop: top[n][c][h][w] = bottom[n][c + oc][h + oh][w + ow]. */
static int vcheck_crop4(CliffTensor *const *b, const CliffTensor *t, const int *off, char *why,
                       size_t len)
{
    const CliffTensor *x = b[0], *ref = b[1];
    int shape[4];
    for (int i = 0; i < 4; i++) shape[i] = off[i] < 0 ? x->shape[i] : ref->shape[i];
    if (vc_expect_shape(t, "top", 4, shape, why, len)) return -1;
    for (int n = 0; n < shape[0]; n++)
        for (int c = 0; c < shape[1]; c++)
            for (int h = 0; h < shape[2]; h++)
                for (int w = 0; w < shape[3]; w++) {
                    int sn = n + (off[0] > 0 ? off[0] : 0), sc = c + (off[1] > 0 ? off[1] : 0);
                    int sh = h + (off[2] > 0 ? off[2] : 0), sw = w + (off[3] > 0 ? off[3] : 0);
                    float want = x->data[((sn * x->shape[1] + sc) * x->shape[2] + sh) * x->shape[3] + sw];
                    float got = t->data[((n * shape[1] + c) * shape[2] + h) * shape[3] + w];
                    if (got != want)
                        return grad_fail(why, len, "top[%d][%d][%d][%d] = %g, expected %g", n, c, h, w,
                                     got, want);
                }
    return 0;
}

int vcheck_crop_axis2(CliffLayer *l, CliffTensor *const *b, int nb,
                            CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    static const int off[4] = {-1, -1, 1, 1}; /* -1: axis kept */
    return vcheck_crop4(b, t[0], off, why, len);
}

int vcheck_crop_axis1(CliffLayer *l, CliffTensor *const *b, int nb,
                            CliffTensor *const *t, int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    static const int off[4] = {-1, 1, 2, 0};
    return vcheck_crop4(b, t[0], off, why, len);
}

/* ---- Filter / BatchReindex: by definition ---- */

int vcheck_filter(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
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
                return grad_fail(why, len, "top %d has only %d items", k, t[k]->shape[0]);
            if (memcmp(t[k]->data + (size_t)kept * dim, b[k]->data + (size_t)n * dim,
                       dim * sizeof(float)))
                return grad_fail(why, len, "top %d item %d is not bottom item %d", k, kept, n);
        }
        kept++;
    }
    if (!kept || !dropped)
        return grad_fail(why, len, "selector keeps %d of %d items: pick a seed/shape that tests both",
                     kept, sel->shape[0]);
    for (int k = 0; k < nt; k++)
        if (t[k]->shape[0] != kept)
            return grad_fail(why, len, "top %d has %d items, expected %d", k, t[k]->shape[0], kept);
    return 0;
}

int vcheck_reindex(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                         int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    const CliffTensor *x = b[0], *ix = b[1];
    size_t dim = x->count / (size_t)x->shape[0];
    int seen[64] = {0}, repeats = 0;
    if (t[0]->shape[0] != ix->shape[0])
        return grad_fail(why, len, "top has %d items, expected %d", t[0]->shape[0], ix->shape[0]);
    for (int k = 0; k < ix->shape[0]; k++) {
        int i = (int)ix->data[k];
        if (i >= 0 && i < 64 && seen[i]++) repeats++;
        if (memcmp(t[0]->data + (size_t)k * dim, x->data + (size_t)i * dim, dim * sizeof(float)))
            return grad_fail(why, len, "top item %d is not bottom item %d", k, i);
    }
    if (!repeats)
        return grad_fail(why, len, "no repeated index: the case should test gradient accumulation");
    return 0;
}

/* Im2col: top[n][(c*kh + ki)*kw + kj][oy][ox] = bottom[n][c][iy][ix] or 0 (definition). */
int vcheck_im2col(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t,
                        int nt, char *why, size_t len)
{
    (void)l, (void)nb, (void)nt;
    const int kh = 3, kw = 2, sh = 2, sw = 1, ph = 1, pw = 0; /* as in the case below */
    const CliffTensor *x = b[0];
    const int N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    const int oh = (H + 2 * ph - kh) / sh + 1, ow = (W + 2 * pw - kw) / sw + 1;
    const int shape[4] = {N, C * kh * kw, oh, ow};
    if (vc_expect_shape(t[0], "top", 4, shape, why, len)) return -1;
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
                                return grad_fail(why, len, "top[%d][%d][%d][%d] = %g, expected %g", n,
                                             r, oy, ox, got, want);
                        }
    return 0;
}

