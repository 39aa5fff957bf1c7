/* Implicit im2col: op(B) sources of the matrix engine (gemm.h, CliffGemmB)
 * that pack blocks of a convolution's column matrix straight from the images,
 * and the adjoint scatter (col2im) of a block of columns.
 *
 * The column matrix of a run of `nimg` images (one group's channels each):
 *   col[K x nimg*P],  K = C*kh*kw (C: channels of the group), P = oh*ow,
 *   row r = (c*kh + ki)*kw + kj, column j = n*P + oy*ow + ox holds
 *   img_n[c][iy][ix],  iy = oy*stride_h - pad_h + ki*dilation_h,
 *                      ix = ox*stride_w - pad_w + kj*dilation_w,
 *   and 0 where (iy, ix) falls outside the H x W image.
 * img_n = img + n*istride: the caller points img at the group's first
 * channel (group offset) and gives the distance between images.
 *
 * Sources (each fills a CliffGemmB whose ctx points at a CliffConvSrc that
 * must outlive the product):
 *   cliff_conv_col_b   op(B) = col           [K x nimg*P]   (forward)
 *   cliff_conv_colT_b  op(B) = col^T         [nimg*P x K]   (weight gradient:
 *                      the reduction runs over the images' columns)
 *   cliff_conv_rows_b  op(B) = Y            [rows x nimg*P]: rows of a
 *                      column-side tensor, Y(m, n*P + p) = y[n*istride + m*P + p]
 *                      (data gradient: dy of several images as one matrix)
 * All three honour the contract of gemm.h (panels of NR columns, zeros past
 * nc) for any block, on any thread. */
#ifndef CLIFF_CONV_PACK_H
#define CLIFF_CONV_PACK_H

#include <stddef.h>

#include "gemm.h"
#include "im2col.h"

/* Per column row r (one group, K rows): where its window starts and which
 * outputs see the image. Built once per geometry (cliff_conv_rows_build). */
typedef struct CliffConvRows {
    int K;
    ptrdiff_t *off; /* c*H*W + (ki*dil_h - pad_h)*W + kj*dil_w - pad_w */
    int *ylo, *yhi; /* outputs oy in [ylo, yhi) have 0 <= iy < H */
    int *xlo, *xhi; /* outputs ox in [xlo, xhi) have 0 <= ix < W */
    int *off32;     /* off as int (vector gathers), when fits32 */
    int fits32;     /* every index within one image fits an int */
    int ylo_all, yhi_all, xlo_all, xhi_all; /* outputs (oy, ox) in these ranges see the
                                               image on every row (max of lo, min of hi) */
} CliffConvRows;

/* g: channels = C of one group, H, W, kernel, stride, pad, dilation, out_h,
 * out_w. Reuses rw's arrays when K is unchanged. 0, or -1 with err. */
int cliff_conv_rows_build(CliffConvRows *rw, const CliffConvGeom *g, CliffError *err);
void cliff_conv_rows_free(CliffConvRows *rw);

typedef struct CliffConvSrc {
    const CliffConvGeom *g;
    const CliffConvRows *rows; /* col, colT, col2im */
    const float *img;          /* image (or, for rows_b, column-side) data of image 0 */
    ptrdiff_t istride;         /* floats from one image to the next */
    int P;                     /* columns per image: g->out_h * g->out_w */
    int jbase;                 /* column j of the source is column jbase + j of the images */
} CliffConvSrc;

CliffGemmB cliff_conv_col_b(const CliffConvSrc *s);
CliffGemmB cliff_conv_colT_b(const CliffConvSrc *s);
CliffGemmB cliff_conv_rows_b(const CliffConvSrc *s);

/* The adjoint of the column matrix on columns [j0, j0 + nc) of the images of s
 * (s->jbase ignored): img_n[c][iy][ix] += dcol[r*ld + (j - j0)] for every
 * (r, j) of the block that maps inside the image. Adds; zeroing is the
 * caller's. Blocks of NR columns in order, within each the rows in increasing
 * r: the order of the additions depends on the shapes alone. */
void cliff_conv_col2im_block(const CliffConvSrc *s, const float *dcol, ptrdiff_t ld, int j0,
                             int nc, float *img);

#endif
