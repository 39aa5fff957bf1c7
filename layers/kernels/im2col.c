#include "im2col.h"

#include <string.h>

/* These loops are single-threaded on purpose: with the pthread OpenBLAS, an
 * OpenMP team spinning after each region competes with the BLAS threads for
 * the cores (measured: LeNet at 2 threads 3.7x slower with the default
 * OMP_WAIT_POLICY), while threading im2col gains < 1% of an iteration. The
 * gemms carry the parallelism. `omp simd` only asks for vectorization. */

/* Reads a "repeated or _h/_w" pair: the repeated field (n values) or the _h/_w
 * singular fields. dflt is used when nothing is given. */
static int read_pair(const char *what, size_t n, const uint32_t *rep, int has_h, uint32_t h,
                     int has_w, uint32_t w, int num_spatial, int dflt, int *out_h, int *out_w,
                     CliffError *err)
{
    if (has_h || has_w) {
        if (n)
            return cliff_error_set(err, "either %s or %s_h/%s_w should be specified; not both",
                                   what, what, what);
        if (!(has_h && has_w))
            return cliff_error_set(err, "%s_h and %s_w must be given together", what, what);
        *out_h = (int)h;
        *out_w = (int)w;
    } else if (n == 0) {
        *out_h = *out_w = dflt;
    } else if (n == 1) {
        *out_h = *out_w = (int)rep[0];
    } else if ((int)n == num_spatial) {
        *out_h = (int)rep[0];
        *out_w = (int)rep[1];
    } else {
        return cliff_error_set(err,
                               "%s must be specified once, or once per spatial dimension "
                               "(%s specified %zu times; %d spatial dims)",
                               what, what, n, num_spatial);
    }
    if (*out_h < 0 || *out_w < 0 || *out_h > (1 << 24) || *out_w > (1 << 24))
        return cliff_error_set(err, "%s %ux%u is out of range", what, (unsigned)*out_h,
                               (unsigned)*out_w);
    return 0;
}

int cliff_conv_geom_read(const Cliff__ConvolutionParameter *cp, int num_spatial,
                         CliffConvGeom *g, CliffError *err)
{
    if (num_spatial != 2)
        return cliff_error_set(err,
                               "only 2 spatial axes are supported; the bottom has %d spatial "
                               "axes after the channel axis",
                               num_spatial);
    if (!cp->has_kernel_h && !cp->has_kernel_w && cp->n_kernel_size == 0)
        return cliff_error_set(err, "kernel_size (or kernel_h and kernel_w) is required");
    if (read_pair("kernel", cp->n_kernel_size, cp->kernel_size, cp->has_kernel_h, cp->kernel_h,
                  cp->has_kernel_w, cp->kernel_w, num_spatial, 0, &g->kernel_h, &g->kernel_w,
                  err) ||
        read_pair("stride", cp->n_stride, cp->stride, cp->has_stride_h, cp->stride_h,
                  cp->has_stride_w, cp->stride_w, num_spatial, 1, &g->stride_h, &g->stride_w,
                  err) ||
        read_pair("pad", cp->n_pad, cp->pad, cp->has_pad_h, cp->pad_h, cp->has_pad_w,
                  cp->pad_w, num_spatial, 0, &g->pad_h, &g->pad_w, err) ||
        read_pair("dilation", cp->n_dilation, cp->dilation, 0, 0, 0, 0, num_spatial, 1,
                  &g->dilation_h, &g->dilation_w, err))
        return -1;
    if (g->kernel_h == 0 || g->kernel_w == 0)
        return cliff_error_set(err, "kernel %dx%d: filter dimensions must be nonzero",
                               g->kernel_h, g->kernel_w);
    if (g->stride_h == 0 || g->stride_w == 0)
        return cliff_error_set(err, "stride %dx%d: stride dimensions must be nonzero",
                               g->stride_h, g->stride_w);
    if (g->dilation_h == 0 || g->dilation_w == 0)
        return cliff_error_set(err, "dilation %dx%d: dilation dimensions must be nonzero",
                               g->dilation_h, g->dilation_w);
    return 0;
}

int cliff_conv_geom_output(CliffConvGeom *g, CliffError *err)
{
    long ext_h = (long)g->dilation_h * (g->kernel_h - 1) + 1;
    long ext_w = (long)g->dilation_w * (g->kernel_w - 1) + 1;
    long ph = (long)g->height + 2L * g->pad_h, pw = (long)g->width + 2L * g->pad_w;
    if (ext_h > ph || ext_w > pw) {
        if (g->dilation_h == 1 && g->dilation_w == 1)
            return cliff_error_set(err, "kernel %ldx%ld is larger than the padded input %ldx%ld",
                                   ext_h, ext_w, ph, pw);
        return cliff_error_set(err,
                               "dilated kernel %ldx%ld (kernel %dx%d, dilation %dx%d) is larger "
                               "than the padded input %ldx%ld",
                               ext_h, ext_w, g->kernel_h, g->kernel_w, g->dilation_h,
                               g->dilation_w, ph, pw);
    }
    g->out_h = (int)((ph - ext_h) / g->stride_h + 1);
    g->out_w = (int)((pw - ext_w) / g->stride_w + 1);
    return 0;
}

/* The output columns ox in [*lo, *hi) whose input column ix = ox*stride + off
 * lies inside [0, width). */
static inline void valid_range(int off, int stride, int width, int out_w, int *lo, int *hi)
{
    int l = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int h = width - off <= 0 ? 0 : (width - off + stride - 1) / stride;
    if (h > out_w) h = out_w;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* One column row (c, ki, kj) of one image: dst[oy*ow + ox] = src[iy*W + ix] or 0.
 * ylo..yhi / xlo..xhi are the output ranges whose input lies inside the plane. */
static inline void im2col_row(const float *restrict src, float *restrict dst, int W, int oh,
                              int ow, int sh, int sw, int offy, int offx, int ylo, int yhi,
                              int xlo, int xhi)
{
    if (ylo > 0) memset(dst, 0, (size_t)ylo * ow * sizeof *dst);
    for (int oy = ylo; oy < yhi; oy++) {
        const float *restrict s = src + (size_t)(oy * sh + offy) * W; /* ix = ox*sw + offx */
        float *restrict d = dst + (size_t)oy * ow;
        for (int ox = 0; ox < xlo; ox++) d[ox] = 0;
        if (sw == 1) {
            /* runs are short (often 8-24 floats): copy by fours, no memcpy call */
            const float *restrict s1 = s + xlo + offx;
            float *restrict d1 = d + xlo;
            const int n = xhi - xlo;
            int i = 0;
            for (; i + 4 <= n; i += 4) {
                float a = s1[i], b = s1[i + 1], c = s1[i + 2], e = s1[i + 3];
                d1[i] = a;
                d1[i + 1] = b;
                d1[i + 2] = c;
                d1[i + 3] = e;
            }
            for (; i < n; i++) d1[i] = s1[i];
        } else {
            for (int ox = xlo; ox < xhi; ox++) d[ox] = s[ox * sw + offx];
        }
        for (int ox = xhi; ox < ow; ox++) d[ox] = 0;
    }
    if (yhi < oh) memset(dst + (size_t)yhi * ow, 0, (size_t)(oh - yhi) * ow * sizeof *dst);
}

void cliff_im2col(const float *img, int num, const CliffConvGeom *g, float *col)
{
    const int C = g->channels, H = g->height, W = g->width;
    const int kh = g->kernel_h, kw = g->kernel_w, oh = g->out_h, ow = g->out_w;
    const int sh = g->stride_h, sw = g->stride_w;
    const size_t ohw = (size_t)oh * ow, ld = (size_t)num * ohw;
    const int rows = C * kh * kw;
    for (int r = 0; r < rows; r++) {
        const int c = r / (kh * kw), ki = (r / kw) % kh, kj = r % kw;
        const int offx = kj * g->dilation_w - g->pad_w, offy = ki * g->dilation_h - g->pad_h;
        int xlo, xhi, ylo, yhi;
        valid_range(offx, sw, W, ow, &xlo, &xhi);
        valid_range(offy, sh, H, oh, &ylo, &yhi);
        for (int n = 0; n < num; n++)
            im2col_row(img + ((size_t)n * C + c) * H * W, col + (size_t)r * ld + (size_t)n * ohw, W,
                       oh, ow, sh, sw, offy, offx, ylo, yhi, xlo, xhi);
    }
}

/* The adjoint of im2col_row: dst[iy*W + ix] += src[oy*ow + ox] over the valid ranges. */
static inline void col2im_row(const float *restrict src, float *restrict dst, int W, int ow,
                              int sh, int sw, int offy, int offx, int ylo, int yhi, int xlo,
                              int xhi)
{
    for (int oy = ylo; oy < yhi; oy++) {
        float *restrict d = dst + (size_t)(oy * sh + offy) * W; /* ix = ox*sw + offx */
        const float *restrict s = src + (size_t)oy * ow;
        if (sw == 1) {
#pragma omp simd
            for (int ox = xlo; ox < xhi; ox++) d[ox + offx] += s[ox];
        } else {
            for (int ox = xlo; ox < xhi; ox++) d[ox * sw + offx] += s[ox];
        }
    }
}

void cliff_col2im(const float *col, int num, const CliffConvGeom *g, float *img)
{
    const int C = g->channels, H = g->height, W = g->width;
    const int kh = g->kernel_h, kw = g->kernel_w, oh = g->out_h, ow = g->out_w;
    const int sh = g->stride_h, sw = g->stride_w;
    const size_t ohw = (size_t)oh * ow, ld = (size_t)num * ohw, plane = (size_t)H * W;
    /* Channel by channel; the column rows are read in order, so the walk
     * streams through col. */
    for (int c = 0; c < C; c++) {
        for (int n = 0; n < num; n++)
            memset(img + ((size_t)n * C + c) * plane, 0, plane * sizeof *img);
        for (int ki = 0; ki < kh; ki++) {
            const int offy = ki * g->dilation_h - g->pad_h;
            int ylo, yhi;
            valid_range(offy, sh, H, oh, &ylo, &yhi);
            for (int kj = 0; kj < kw; kj++) {
                const int r = (c * kh + ki) * kw + kj;
                const int offx = kj * g->dilation_w - g->pad_w;
                int xlo, xhi;
                valid_range(offx, sw, W, ow, &xlo, &xhi);
                for (int n = 0; n < num; n++)
                    col2im_row(col + (size_t)r * ld + (size_t)n * ohw,
                               img + ((size_t)n * C + c) * plane, W, ow, sh, sw, offy, offx, ylo,
                               yhi, xlo, xhi);
            }
        }
    }
}
