/* Segments of a block of column-matrix columns (conv_pack.h): runs of
 * consecutive columns with the same image n and output row oy. Shared by the
 * portable packers (conv_pack.c) and the AVX-512 ones (conv_pack512.c). */
#ifndef CLIFF_CONV_PACK_SEG_H
#define CLIFF_CONV_PACK_SEG_H

#include "conv_pack.h"

#define NR CLIFF_GEMM_NR

/* A run of columns: len columns from ox on output row oy of image n, at
 * position at of the block. */
typedef struct Seg {
    int at, len, n, oy, ox;
} Seg;

/* Cuts columns [j, j + cols) (cols <= NR) into segments; returns their count. */
static inline int segments(const CliffConvSrc *s, int j, int cols, Seg *seg)
{
    const int P = s->P, ow = s->g->out_w;
    int n = j / P, p = j - n * P, oy = p / ow, ox = p - oy * ow, ns = 0;
    for (int at = 0; at < cols;) {
        int len = ow - ox < cols - at ? ow - ox : cols - at;
        seg[ns++] = (Seg){at, len, n, oy, ox};
        at += len;
        ox += len;
        if (ox == ow) {
            ox = 0;
            if (++oy == s->g->out_h) oy = 0, n++;
        }
    }
    return ns;
}

/* Index in img of row r's element for the first column of segment sg
 * (meaningful only where the element is inside the image). */
static inline ptrdiff_t seg_index(const CliffConvSrc *s, const Seg *sg, int r)
{
    return (ptrdiff_t)sg->n * s->istride + s->rows->off[r] +
           (ptrdiff_t)sg->oy * s->g->stride_h * s->g->width + (ptrdiff_t)sg->ox * s->g->stride_w;
}

/* The part [*a, *b) of segment sg (offsets from its start) inside the image
 * for row r; empty when the row oy is outside. */
static inline void seg_valid(const CliffConvRows *rw, const Seg *sg, int r, int *a, int *b)
{
    int lo = 0, hi = 0;
    if (sg->oy >= rw->ylo[r] && sg->oy < rw->yhi[r]) {
        lo = rw->xlo[r] - sg->ox;
        hi = rw->xhi[r] - sg->ox;
        if (lo < 0) lo = 0;
        if (hi > sg->len) hi = sg->len;
        if (hi < lo) hi = lo;
    }
    *a = lo;
    *b = hi;
}

/* The AVX-512 packers (conv_pack512.c; x86-64 with GCC or Clang, call only
 * on a CPU with AVX-512F): pack_col for 2 <= stride_w <= 4, pack_colT with
 * gathers (any geometry whose indices fit an int) and pack_colT for
 * 2 <= stride_w <= 4. */
void cliff_conv_pack_col_avx512(const CliffGemmB *b, int k0, int kc, int j0, int nc, float *dst);
void cliff_conv_pack_colT_avx512(const CliffGemmB *b, int k0, int kc, int j0, int nc, float *dst);
void cliff_conv_pack_colT_strided_avx512(const CliffGemmB *b, int k0, int kc, int j0, int nc,
                                         float *dst);

#endif
