/* What the AVX-512 pooling kernels (pool_max512.c, pool_ave512.c) share: a
 * chunk of 16 output columns of one plane, horizontal stride S (1 or 2), and
 * per candidate column offset dw of its windows the lanes whose column is
 * inside the image. A row's candidates are read with plain loads of whole
 * 16-column vectors (stride 2: 32-column spans, dw and dw + 1 their even and
 * odd lanes) wherever those stay inside the plane; lanes outside the image
 * are then masked out of every update, which is exactly Caffe's clipping of
 * the window (padding, and the last window that ceil rounding cuts). Only
 * the rows whose spans would leave the plane use masked loads (slow on this
 * AMD Zen). x86-64 with GCC or Clang only; include after simd512.h. */
#ifndef CLIFF_POOL_SPAN512_H
#define CLIFF_POOL_SPAN512_H

#include "pool_plane.h"
#include "simd512.h"

enum { CLIFF_POOL_MAXKW = 32 }; /* wider windows take the scalar kernels */

/* Lanes i of [ilo, ihi) clamped to [0, n) as a mask. */
CLIFF_AVX512_INLINE __mmask16 cliff_lane_range(int ilo, int ihi, int n)
{
    if (ihi > n) ihi = n;
    if (ilo < 0) ilo = 0;
    if (ilo >= ihi) return 0;
    return (__mmask16)(cliff_first_lanes(ihi) & ~cliff_first_lanes(ilo));
}

/* Ceiling of a / b for b > 0 and any sign of a. */
static inline int cliff_div_ceil(int a, int b)
{
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

typedef struct CliffPoolSpan {
    int s0;      /* column of lane 0's dw = 0 */
    long lo, hi; /* the row-relative columns [lo, hi) a row's loads cover */
    __mmask16 lanes[CLIFF_POOL_MAXKW];
} CliffPoolSpan;

/* The chunk of n <= 16 columns from px0; kw <= CLIFF_POOL_MAXKW. */
CLIFF_AVX512_INLINE void cliff_pool_span(const CliffPoolGeom *g, int px0, int n, int S, int kw,
                                         CliffPoolSpan *sp)
{
    sp->s0 = px0 * S - g->pw;
    sp->lo = sp->s0;
    sp->hi = sp->s0 + (S == 2 ? ((kw - 1) & ~1) + 32 : kw - 1 + 16);
    for (int dw = 0; dw < kw; dw++) {
        const int s = sp->s0 + dw;
        int lo = cliff_div_ceil(-s, S), hi = cliff_div_ceil(g->W - s, S);
        lo = lo < 0 ? 0 : lo;
        hi = hi < n ? hi : n;
        sp->lanes[dw] = cliff_lane_range(lo, hi, n);
    }
}

/* Row h's loads stay inside the plane of hw floats. */
CLIFF_AVX512_INLINE int cliff_pool_row_inside(const CliffPoolSpan *sp, long row, long hw)
{
    return row + sp->lo >= 0 && row + sp->hi <= hw;
}

/* 16 floats at plane + off; positions outside the plane [0, hw) read as 0
 * and are not touched. */
CLIFF_AVX512_INLINE __m512 cliff_pool_load_clipped(const float *plane, long hw, long off)
{
    const long lo = off < 0 ? (-off < 16 ? -off : 16) : 0, hi = hw - off < 16 ? hw - off : 16;
    return _mm512_maskz_loadu_ps(cliff_lane_range((int)lo, (int)hi, 16), plane + off);
}

#endif
