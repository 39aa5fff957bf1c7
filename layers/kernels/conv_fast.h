/* Convolution without a column buffer, on AVX-512 (layers/conv_fast.c).
 *
 * For stride_h = dilation_h = 1 (any stride_w, dilation_w, padding, groups),
 * every row of the im2col matrix is a contiguous window of a much smaller
 * "shifted" copy of the image:
 *     S[c][kj][y][ox] = img[c][y - pad_h][ox*stride_w + kj*dilation_w - pad_w]
 *                       (0 outside), y in [0, H + 2*pad_h), ox in [0, ow);
 *     col row r = (c*kh + ki)*kw + kj, column p = oy*ow + ox  is
 *     S[c][kj][oy + ki][ox] = S_flat[off[r] + p],  off[r] = ((c*kw + kj)*Hp + ki)*ow.
 * S holds C*kw*Hp*ow floats per image (LeNet conv2: 9,600 instead of the
 * 32,000 of its im2col), small enough to stay in L1/L2, and is built per image.
 * All three products run on the matrix engine (gemm.h), whose tiles read the
 * column rows straight out of S:
 *   forward   y_n[m][p]  = bias[m] + sum_r W[m][r] S_n[off[r] + p]   (NCHW out):
 *             the matrix engine (gemm.h) with op(B) the row-offset view
 *             (S_n, off) of the column matrix (cliff_gemm_rows_b)
 *   data grad dS_n[off[r] + p] += sum_m W[m][r] dy_n[m][p]: the engine's
 *             scatter-add (cliff_gemm_scatter_add, C's rows the view (dS_n,
 *             off)); then the adjoint of the shift scatters dS_n onto dx_n
 *             (overwritten)
 *   weights   dW[m][r] += sum_n sum_p dy_n[m][p] S_n[off[r] + p]: the
 *             engine's dot-product kind (cliff_gemm_dot_rows: 16-lane sums
 *             along p, images as segments), one call per block of images
 *             whose S fits L2, the blocks' sums added into dW in image order
 *             within each of the plan's image groups (conv_fast.c)
 *   bias      db[m]    += sum_n sum_p dy_n[m][p]
 * (r, m local to a group; the group's weights are rows g*Mg.. of W.)
 *
 * A layer asks cliff_conv_fast_usable() at reshape; when it says no (no
 * AVX-512 on this CPU, stride_h or dilation_h > 1, a very large image, or
 * the AVX-512 paths switched off), the layer keeps its im2col + gemm path. */
#ifndef CLIFF_CONV_FAST_H
#define CLIFF_CONV_FAST_H

#include <stddef.h>

#include "im2col.h"

/* Everything the kernels need for one geometry; built by cliff_conv_fast_plan
 * in reshape, owned by the layer. */
typedef struct CliffConvFastPlan {
    CliffConvGeom g;  /* image side = bottom; out_h/out_w set */
    int groups, M;    /* output channels over all groups */
    int num;          /* images per call */
    int Mg, K;        /* per group: output channels, column rows (C/G*kh*kw) */
    int Hp, plane;    /* padded height, oh*ow */
    size_t S_size;    /* floats of S per image */
    int nb;           /* images per block of the weight gradient */
    int ngroups;      /* groups of images whose weight gradients are summed apart */
    int parts;        /* threads (fork_join.h), one S each */
    int *off;         /* C*kh*kw offsets into S */
    int *moff;        /* Mg offsets m*plane: the rows of dy (a view) in the data gradient */
    float *buf;       /* per thread: S of nb images (dS uses the first image's); then
                         the packed weights; then a dW sum (M x K) per group but
                         the first; then the bias gradient's sums (num x M) */
    size_t buf_cap;   /* floats */
    size_t part_floats; /* floats of one thread's S */
    float *wpack, *dwsum, *bsum; /* inside buf */
} CliffConvFastPlan;

/* 1 when the fast path can run this geometry on this CPU (and AVX-512 paths
 * are allowed: cliff_avx512_allow in blas.h). */
int cliff_conv_fast_usable(const CliffConvGeom *g);

/* (Re)builds the plan for num images of geometry g (out_h/out_w set) with M
 * outputs in `groups` groups; keeps its buffers when they are big enough.
 * 0, or -1 with err (out of memory). */
int cliff_conv_fast_plan(CliffConvFastPlan *pl, const CliffConvGeom *g, int groups, int M,
                         int num, CliffError *err);
void cliff_conv_fast_plan_free(CliffConvFastPlan *pl);

/* x: num x C x H x W, w: M x K per group (Caffe's weight blob), bias: M or
 * NULL -> y: num x M x oh x ow (overwritten). */
void cliff_conv_fast_forward(CliffConvFastPlan *pl, const float *x, const float *w,
                             const float *bias, float *y);
/* dy: num x M x oh x ow. dw (M x K per group), db (M): accumulated into when
 * not NULL. dx (num x C x H x W): overwritten when not NULL. x is the forward's
 * bottom (for dw). */
void cliff_conv_fast_backward(CliffConvFastPlan *pl, const float *x, const float *w,
                              const float *dy, float *dw, float *db, float *dx);

#endif
