/* The AVX-512 packers of the column matrix (conv_pack.h): the same floats as
 * the portable ones in conv_pack.c (packing only copies), faster.
 *
 * Strided rows (stride_w 2..4, CaffeNet's conv1 has 4): the portable packers
 * read one float per column, a scalar load and store each (about 2 cycles a
 * float: 40% of conv1's forward). Here 16 columns of a row come from the
 * contiguous floats they span (16*stride_w, at most 4 vectors) by two
 * two-table permutes: strided16(). The forward's op(B) = col stores them as
 * one vector of a panel row; the weight gradient's op(B) = col^T needs them
 * across the panel: 16 rows' vectors are transposed in registers
 * (transpose16) and stored as 16 panel rows. */
#include "conv_pack_seg.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include "simd512.h"

#define T512 __attribute__((target("avx512f")))

/* Columns read in one strided16() call of stride sw: lane i is float i*sw of
 * the run; lanes with i*sw >= 32 come from the second pair of vectors. */
typedef struct Strided {
    int sw;
    __m512i idx;    /* i*sw (the permutes use its low 5 bits) */
    __mmask16 high; /* lanes with i*sw >= 32 */
} Strided;

T512 static Strided strided_init(int sw)
{
    Strided st = {sw, _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5,
                                                          4, 3, 2, 1, 0),
                                         _mm512_set1_epi32(sw)),
                  0};
    for (int i = 0; i < 16; i++)
        if (i * sw >= 32) st.high |= (__mmask16)(1u << i);
    return st;
}

/* Lanes [0, n) = src[i*sw] (1 <= n <= 16, sw <= 4); the other lanes are
 * undefined. Reads only [src, src + (n-1)*sw] unless whole vectors up to
 * src + 16*sw stay below end (then reads them whole: masked loads are slow on
 * AMD Zen). */
CLIFF_AVX512_INLINE __m512 strided16(const Strided *st, const float *src, int n,
                                     const float *end)
{
    const int sw = st->sw;
    __m512 v0, v1, v2, v3;
    if (src + 16 * sw <= end) { /* the common case: whole vectors, no branch on n */
        v0 = _mm512_loadu_ps(src);
        v1 = _mm512_loadu_ps(src + 16);
        if (sw == 2) return _mm512_permutex2var_ps(v0, st->idx, v1);
        v2 = _mm512_loadu_ps(src + 32);
        v3 = sw == 4 ? _mm512_loadu_ps(src + 48) : v2; /* stride 3 ends in v2 */
    } else {
        const int span = (n - 1) * sw + 1;
        v0 = cliff_load_mask(src, cliff_first_lanes(span));
        v1 = cliff_load_mask(src + 16, cliff_first_lanes(span - 16));
        v2 = cliff_load_mask(src + 32, cliff_first_lanes(span - 32));
        v3 = cliff_load_mask(src + 48, cliff_first_lanes(span - 48));
    }
    const __m512 lo = _mm512_permutex2var_ps(v0, st->idx, v1);
    return _mm512_mask_blend_ps(st->high, lo, _mm512_permutex2var_ps(v2, st->idx, v3));
}

/* End of the floats of image n's group channels: readable (the tensor holds
 * them), the bound for whole-vector reads. */
static inline const float *image_end(const CliffConvSrc *s, int n)
{
    return s->img + (ptrdiff_t)n * s->istride + (ptrdiff_t)s->g->channels * s->g->height *
                                                    s->g->width;
}

/* Whether every row of the column matrix sees the image on all of segment sg. */
static inline int seg_all_valid(const CliffConvRows *rw, const Seg *sg)
{
    return sg->oy >= rw->ylo_all && sg->oy < rw->yhi_all && sg->ox >= rw->xlo_all &&
           sg->ox + sg->len <= rw->xhi_all;
}

/* Index in img of segment sg's first column, row r's offset excluded. */
static inline ptrdiff_t seg_base(const CliffConvSrc *s, const Seg *sg)
{
    return seg_index(s, sg, 0) - s->rows->off[0];
}

/* Segment sg of rows [r0, r0 + kc) into panel rows d, d + NR, ...: the rows
 * that do not see all of it column by column as in conv_pack.c. */
T512 static void col_segment(const CliffConvSrc *s, const Strided *st, const Seg *sg, int r0,
                             int kc, float *d)
{
    const int sw = st->sw, len = sg->len, last = (len - 1) & ~15;
    const __mmask16 tail = cliff_first_lanes(len - last);
    const float *end = image_end(s, sg->n);
    if (seg_all_valid(s->rows, sg)) { /* the common case: hoisted out of the row loop */
        const float *base = s->img + seg_base(s, sg);
        const ptrdiff_t *off = s->rows->off + r0;
        for (int k = 0; k < kc; k++, d += NR) {
            const float *src = base + off[k];
            for (int i = 0; i < last; i += 16)
                _mm512_storeu_ps(d + i, strided16(st, src + (ptrdiff_t)i * sw, 16, end));
            cliff_store_prefix(d + last, strided16(st, src + (ptrdiff_t)last * sw, len - last, end),
                               tail);
        }
        return;
    }
    for (int k = 0; k < kc; k++, d += NR) {
        int a, e;
        seg_valid(s->rows, sg, r0 + k, &a, &e);
        for (int i = 0; i < a; i++) d[i] = 0.0f;
        const float *src = s->img + (seg_index(s, sg, r0 + k) + (ptrdiff_t)a * sw);
        for (int i = a; i < e; i += 16) {
            const int n = e - i < 16 ? e - i : 16;
            cliff_store_prefix(d + i, strided16(st, src + (ptrdiff_t)(i - a) * sw, n, end),
                               cliff_first_lanes(n));
        }
        for (int i = e; i < len; i++) d[i] = 0.0f;
    }
}

/* pack_col (conv_pack.c) for 2 <= stride_w <= 4: segment by segment, all rows
 * of the block. */
T512 void cliff_conv_pack_col_avx512(const CliffGemmB *b, int k0, int kc, int j0, int nc,
                                     float *dst)
{
    const CliffConvSrc *s = b->ctx;
    const Strided st = strided_init(s->g->stride_w);
    Seg seg[NR];
    for (int q = 0; q * NR < nc; q++) {
        const int cols = nc - q * NR < NR ? nc - q * NR : NR;
        const int ns = segments(s, s->jbase + j0 + q * NR, cols, seg);
        float *dq = dst + (ptrdiff_t)q * kc * NR;
        for (int t = 0; t < ns; t++) col_segment(s, &st, &seg[t], k0, kc, dq + seg[t].at);
        if (cols < NR)
            for (int k = 0; k < kc; k++)
                memset(dq + (ptrdiff_t)k * NR + cols, 0, (size_t)(NR - cols) * sizeof *dq);
    }
}

/* In place: o[i] lane j = the old r[j] lane i (a 16 x 16 transpose: 32-bit,
 * then 64-bit interleaves within 128-bit lanes, then two rounds of 128-bit
 * block shuffles). */
CLIFF_AVX512_INLINE void transpose16(__m512 *r)
{
    __m512 t[16], u[16];
    for (int p = 0; p < 8; p++) {
        t[2 * p] = _mm512_unpacklo_ps(r[2 * p], r[2 * p + 1]);
        t[2 * p + 1] = _mm512_unpackhi_ps(r[2 * p], r[2 * p + 1]);
    }
    /* u[4q + c], 128-bit lane L: column 4L + c of rows 4q .. 4q + 3 */
    for (int q = 0; q < 4; q++) {
        const __m512d a = _mm512_castps_pd(t[4 * q]), b = _mm512_castps_pd(t[4 * q + 1]),
                      c = _mm512_castps_pd(t[4 * q + 2]), d = _mm512_castps_pd(t[4 * q + 3]);
        u[4 * q] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        u[4 * q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        u[4 * q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        u[4 * q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int c = 0; c < 4; c++) {
        const __m512 A = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88),
                     B = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD),
                     C = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88),
                     D = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
        r[c] = _mm512_shuffle_f32x4(A, C, 0x88);
        r[8 + c] = _mm512_shuffle_f32x4(A, C, 0xDD);
        r[4 + c] = _mm512_shuffle_f32x4(B, D, 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(B, D, 0xDD);
    }
}

/* Lanes [0, n) of row r of the column matrix at columns [c0, c0 + n) of
 * segment sg, zeros where the row does not see the image (and elsewhere). */
T512 static __m512 colrow16(const CliffConvSrc *s, const Strided *st, const Seg *sg, int r,
                            int c0, int n)
{
    int a, e;
    seg_valid(s->rows, sg, r, &a, &e);
    const int sw = st->sw;
    const float *src = s->img + seg_index(s, sg, r);
    if (a <= c0 && c0 + n <= e)
        return strided16(st, src + (ptrdiff_t)c0 * sw, n, image_end(s, sg->n));
    _Alignas(64) float tmp[16] = {0};
    for (int i = a > c0 ? a : c0; i < e && i < c0 + n; i++) tmp[i - c0] = src[(ptrdiff_t)i * sw];
    return _mm512_load_ps(tmp);
}

/* pack_colT (conv_pack.c) for 2 <= stride_w <= 4: per segment, 16 reduction
 * steps (columns) at a time, 16 column rows' runs transposed into 16 panel
 * rows (lanes of rows past the panel's cols are zeros). */
T512 void cliff_conv_pack_colT_strided_avx512(const CliffGemmB *b, int k0, int kc, int j0,
                                              int nc, float *dst)
{
    const CliffConvSrc *s = b->ctx;
    const Strided st = strided_init(s->g->stride_w);
    const int sw = st.sw;
    Seg seg[NR];
    for (int q = 0; q * NR < nc; q++) {
        const int cols = nc - q * NR < NR ? nc - q * NR : NR, r0 = j0 + q * NR;
        float *dq = dst + (ptrdiff_t)q * kc * NR;
        for (int kk = 0; kk < kc; kk += NR) {
            const int steps = kc - kk < NR ? kc - kk : NR;
            const int ns = segments(s, s->jbase + k0 + kk, steps, seg);
            for (int t = 0; t < ns; t++) {
                const Seg *sg = &seg[t];
                const int valid = seg_all_valid(s->rows, sg);
                const float *base = s->img + seg_base(s, sg), *end = image_end(s, sg->n);
                for (int c0 = 0; c0 < sg->len; c0 += 16) {
                    const int n = sg->len - c0 < 16 ? sg->len - c0 : 16;
                    float *d = dq + (ptrdiff_t)(kk + sg->at + c0) * NR;
                    for (int v = 0; v < 4; v++) {
                        __m512 rv[16];
                        for (int i = 0; i < 16; i++) {
                            const int r = r0 + 16 * v + i;
                            rv[i] = 16 * v + i >= cols ? _mm512_setzero_ps()
                                    : valid ? strided16(&st, base + s->rows->off[r] +
                                                                 (ptrdiff_t)c0 * sw, n, end)
                                            : colrow16(s, &st, sg, r, c0, n);
                        }
                        transpose16(rv);
                        for (int i = 0; i < n; i++)
                            _mm512_storeu_ps(d + (ptrdiff_t)i * NR + 16 * v, rv[i]);
                    }
                }
            }
        }
    }
}

/* pack_colT with one masked gather per 16 column rows and reduction step: the
 * rows' tables for the panel stay in registers; a lane is live when its row
 * exists (r < j0 + nc) and sees the image at this output (oy, ox). */
T512 void cliff_conv_pack_colT_avx512(const CliffGemmB *b, int k0,
                                                                 int kc, int j0, int nc,
                                                                 float *dst)
{
    const CliffConvSrc *s = b->ctx;
    const CliffConvRows *rw = s->rows;
    const int P = s->P, ow = s->g->out_w, oh = s->g->out_h, sw = s->g->stride_w;
    const int rowstep = s->g->stride_h * s->g->width;
    for (int q = 0; q * NR < nc; q++) {
        const int cols = nc - q * NR < NR ? nc - q * NR : NR, r0 = j0 + q * NR;
        float *dq = dst + (ptrdiff_t)q * kc * NR;
        __m512i off[4], ylo[4], yhi[4], xlo[4], xhi[4];
        __mmask16 live[4];
        for (int v = 0; v < 4; v++) {
            const int r = r0 + 16 * v;
            live[v] = cliff_first_lanes(cols - 16 * v);
            off[v] = _mm512_maskz_loadu_epi32(live[v], rw->off32 + r);
            ylo[v] = _mm512_maskz_loadu_epi32(live[v], rw->ylo + r);
            yhi[v] = _mm512_maskz_loadu_epi32(live[v], rw->yhi + r);
            xlo[v] = _mm512_maskz_loadu_epi32(live[v], rw->xlo + r);
            xhi[v] = _mm512_maskz_loadu_epi32(live[v], rw->xhi + r);
        }
        const int j = s->jbase + k0;
        int n = j / P, p = j - n * P, oy = p / ow, ox = p - oy * ow;
        for (int k = 0; k < kc; k++) {
            const float *img = s->img + (ptrdiff_t)n * s->istride;
            const __m512i pos = _mm512_set1_epi32(oy * rowstep + ox * sw);
            const __m512i vy = _mm512_set1_epi32(oy), vx = _mm512_set1_epi32(ox);
            float *d = dq + (ptrdiff_t)k * NR;
            for (int v = 0; v < 4; v++) {
                __mmask16 m = _mm512_mask_cmpge_epi32_mask(live[v], vy, ylo[v]);
                m = _mm512_mask_cmplt_epi32_mask(m, vy, yhi[v]);
                m = _mm512_mask_cmpge_epi32_mask(m, vx, xlo[v]);
                m = _mm512_mask_cmplt_epi32_mask(m, vx, xhi[v]);
                const __m512 g = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m,
                                                          _mm512_add_epi32(pos, off[v]), img, 4);
                _mm512_storeu_ps(d + 16 * v, g);
            }
            if (++ox == ow) {
                ox = 0;
                if (++oy == oh) oy = 0, n++;
            }
        }
    }
}
#endif
