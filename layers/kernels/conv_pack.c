/* Implicit im2col packers and the block col2im (contracts in conv_pack.h).
 *
 * A block of columns is walked as segments: runs of consecutive columns with
 * the same image n and output row oy (ox .. ox + len). Within a segment a
 * column row r reads img_n at off[r] + oy*stride_h*W + ox*stride_w, one
 * element per column (contiguous when stride_w = 1), with zeros for the
 * outputs outside [xlo[r], xhi[r]) or a row oy outside [ylo[r], yhi[r]). */
#include "conv_pack.h"

#include <stdlib.h>
#include <string.h>

#include "conv_pack_seg.h"

void cliff_conv_rows_free(CliffConvRows *rw)
{
    free(rw->off);
    free(rw->ylo);
    memset(rw, 0, sizeof *rw);
}

/* The outputs o in [*lo, *hi) with 0 <= o*stride + off < size, o < out. */
static void valid_range(int off, int stride, int size, int out, int *lo, int *hi)
{
    int l = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int h = size - off <= 0 ? 0 : (size - off + stride - 1) / stride;
    if (h > out) h = out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

int cliff_conv_rows_build(CliffConvRows *rw, const CliffConvGeom *g, CliffError *err)
{
    const int khw = g->kernel_h * g->kernel_w, K = g->channels * khw;
    if (K != rw->K || !rw->off) {
        cliff_conv_rows_free(rw);
        rw->off = malloc((size_t)(K ? K : 1) * sizeof *rw->off);
        rw->ylo = malloc((size_t)(K ? K : 1) * 5 * sizeof *rw->ylo);
        if (!rw->off || !rw->ylo) {
            cliff_conv_rows_free(rw);
            return cliff_error_set(err, "out of memory for the convolution row tables");
        }
        rw->K = K;
    }
    rw->yhi = rw->ylo + K;
    rw->xlo = rw->yhi + K;
    rw->xhi = rw->xlo + K;
    rw->off32 = rw->xhi + K;
    const ptrdiff_t HW = (ptrdiff_t)g->height * g->width;
    /* indices relative to an image stay within +-(C*H*W + H*W) */
    rw->fits32 = (double)g->channels * (double)HW + 2.0 * (double)HW < 1e9;
    for (int r = 0; r < K; r++) {
        const int c = r / khw, ki = r / g->kernel_w % g->kernel_h, kj = r % g->kernel_w;
        const int offy = ki * g->dilation_h - g->pad_h, offx = kj * g->dilation_w - g->pad_w;
        rw->off[r] = c * HW + (ptrdiff_t)offy * g->width + offx;
        rw->off32[r] = rw->fits32 ? (int)rw->off[r] : 0;
        valid_range(offy, g->stride_h, g->height, g->out_h, &rw->ylo[r], &rw->yhi[r]);
        valid_range(offx, g->stride_w, g->width, g->out_w, &rw->xlo[r], &rw->xhi[r]);
    }
    rw->ylo_all = rw->xlo_all = 0;
    rw->yhi_all = g->out_h;
    rw->xhi_all = g->out_w;
    for (int r = 0; r < K; r++) {
        if (rw->ylo[r] > rw->ylo_all) rw->ylo_all = rw->ylo[r];
        if (rw->yhi[r] < rw->yhi_all) rw->yhi_all = rw->yhi[r];
        if (rw->xlo[r] > rw->xlo_all) rw->xlo_all = rw->xlo[r];
        if (rw->xhi[r] < rw->xhi_all) rw->xhi_all = rw->xhi[r];
    }
    return 0;
}

static void pack_col(const CliffGemmB *b, int k0, int kc, int j0, int nc, float *dst)
{
    const CliffConvSrc *s = b->ctx;
    const int sw = s->g->stride_w;
    Seg seg[NR];
    for (int q = 0; q * NR < nc; q++) {
        const int cols = nc - q * NR < NR ? nc - q * NR : NR;
        const int ns = segments(s, s->jbase + j0 + q * NR, cols, seg);
        for (int k = 0; k < kc; k++) {
            const int r = k0 + k;
            float *d = dst + ((ptrdiff_t)q * kc + k) * NR;
            for (int t = 0; t < ns; t++) {
                const Seg *sg = &seg[t];
                float *ds = d + sg->at;
                int a, e;
                seg_valid(s->rows, sg, r, &a, &e);
                for (int i = 0; i < a; i++) ds[i] = 0.0f;
                if (e > a) {
                    const float *src = s->img + (seg_index(s, sg, r) + (ptrdiff_t)a * sw);
                    if (sw == 1)
                        memcpy(ds + a, src, (size_t)(e - a) * sizeof *ds);
                    else
                        for (int i = a; i < e; i++) ds[i] = src[(ptrdiff_t)(i - a) * sw];
                }
                for (int i = e; i < sg->len; i++) ds[i] = 0.0f;
            }
            for (int i = cols; i < NR; i++) d[i] = 0.0f;
        }
    }
}

/* op(B) = col^T: reduction steps k are columns of the images, the NR columns
 * of a panel are column rows r. Segments of the reduction range, then each r
 * of the panel writes its run down the panel (stride NR). */
static void pack_colT(const CliffGemmB *b, int k0, int kc, int j0, int nc, float *dst)
{
    const CliffConvSrc *s = b->ctx;
    const int sw = s->g->stride_w;
    Seg seg[NR];
    for (int q = 0; q * NR < nc; q++) {
        const int cols = nc - q * NR < NR ? nc - q * NR : NR, r0 = j0 + q * NR;
        float *dq = dst + (ptrdiff_t)q * kc * NR;
        for (int kk = 0; kk < kc; kk += NR) {
            const int steps = kc - kk < NR ? kc - kk : NR;
            const int ns = segments(s, s->jbase + k0 + kk, steps, seg);
            for (int t = 0; t < ns; t++) {
                const Seg *sg = &seg[t];
                float *ds = dq + (ptrdiff_t)(kk + sg->at) * NR;
                for (int jj = 0; jj < cols; jj++) {
                    int a, e;
                    seg_valid(s->rows, sg, r0 + jj, &a, &e);
                    float *d = ds + jj;
                    for (int i = 0; i < a; i++) d[(ptrdiff_t)i * NR] = 0.0f;
                    if (e > a) {
                        const float *src = s->img + (seg_index(s, sg, r0 + jj) + (ptrdiff_t)a * sw);
                        for (int i = a; i < e; i++)
                            d[(ptrdiff_t)i * NR] = src[(ptrdiff_t)(i - a) * sw];
                    }
                    for (int i = e; i < sg->len; i++) d[(ptrdiff_t)i * NR] = 0.0f;
                }
                if (cols < NR)
                    for (int i = 0; i < sg->len; i++)
                        memset(ds + (ptrdiff_t)i * NR + cols, 0, (size_t)(NR - cols) * sizeof *ds);
            }
        }
    }
}

/* op(B) = rows of a column-side tensor over several images: segments are runs
 * within one image (the geometry's rows do not matter). */
static void pack_rows(const CliffGemmB *b, int k0, int kc, int j0, int nc, float *dst)
{
    const CliffConvSrc *s = b->ctx;
    const int P = s->P;
    for (int q = 0; q * NR < nc; q++) {
        const int cols = nc - q * NR < NR ? nc - q * NR : NR;
        const int j = s->jbase + j0 + q * NR;
        for (int k = 0; k < kc; k++) {
            float *d = dst + ((ptrdiff_t)q * kc + k) * NR;
            int n = j / P, p = j - n * P;
            for (int at = 0; at < cols;) {
                const int len = P - p < cols - at ? P - p : cols - at;
                memcpy(d + at, s->img + (ptrdiff_t)n * s->istride + (ptrdiff_t)(k0 + k) * P + p,
                       (size_t)len * sizeof *d);
                at += len;
                n++;
                p = 0;
            }
            for (int i = cols; i < NR; i++) d[i] = 0.0f;
        }
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_PACK512 1
#else
#define HAVE_PACK512 0
#endif

/* Whether the AVX-512 packers for strided rows apply (conv_pack512.c). */
static int strided512(const CliffConvSrc *s)
{
    return HAVE_PACK512 && s->g->stride_w >= 2 && s->g->stride_w <= 4 &&
           cliff_gemm_isa() == CLIFF_ISA_AVX512;
}

CliffGemmB cliff_conv_col_b(const CliffConvSrc *s)
{
    CliffGemmB b = {.pack = pack_col, .ctx = s};
#if HAVE_PACK512
    if (strided512(s)) b.pack = cliff_conv_pack_col_avx512;
#endif
    return b;
}

CliffGemmB cliff_conv_colT_b(const CliffConvSrc *s)
{
    CliffGemmB b = {.pack = pack_colT, .ctx = s};
#if HAVE_PACK512
    if (strided512(s))
        b.pack = cliff_conv_pack_colT_strided_avx512;
    else if (s->rows->fits32 && cliff_gemm_isa() == CLIFF_ISA_AVX512)
        b.pack = cliff_conv_pack_colT_avx512;
#endif
    return b;
}

CliffGemmB cliff_conv_rows_b(const CliffConvSrc *s)
{
    CliffGemmB b = {.pack = pack_rows, .ctx = s};
    return b;
}

void cliff_conv_col2im_block(const CliffConvSrc *s, const float *dcol, ptrdiff_t ld, int j0,
                             int nc, float *img)
{
    const int sw = s->g->stride_w;
    Seg seg[NR];
    for (int c0 = 0; c0 < nc; c0 += NR) {
        const int cols = nc - c0 < NR ? nc - c0 : NR;
        const int ns = segments(s, j0 + c0, cols, seg);
        for (int r = 0; r < s->rows->K; r++) {
            const float *src = dcol + (ptrdiff_t)r * ld + c0;
            for (int t = 0; t < ns; t++) {
                const Seg *sg = &seg[t];
                int a, e;
                seg_valid(s->rows, sg, r, &a, &e);
                if (e <= a) continue;
                float *d = img + (seg_index(s, sg, r) + (ptrdiff_t)a * sw);
                const float *ss = src + sg->at + a;
                if (sw == 1)
                    for (int i = 0; i < e - a; i++) d[i] += ss[i];
                else
                    for (int i = 0; i < e - a; i++) d[(ptrdiff_t)i * sw] += ss[i];
            }
        }
    }
}
