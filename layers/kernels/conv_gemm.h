/* Convolution and Deconvolution products on the matrix engine (gemm.h), with
 * the column matrix packed straight from the images (conv_pack.h) and a
 * workspace whose size does not grow with the batch.
 *
 * Two sides of a convolution: the IMAGE side X (num x Ci x H x W; im2col
 * reads it, col2im writes it) and the COLUMN side Y (num x Co x P, P = oh*ow).
 * In G groups: Mg = Co/G column-side channels and K = Ci/G*kh*kw column rows
 * a group; the weights are G blocks [Mg x K] one after the other
 * (Convolution: M x C/G x kh x kw, X = bottom; Deconvolution: C x M/G x kh x kw,
 * X = top). Per image n and group g:
 *   im2col product   Y_n,g  = W_g col(X_n,g)        conv forward, deconv dx
 *   col2im product   X_n,g  = col2im(W_g^T Y_n,g)   deconv forward, conv dx
 *   weight gradient  dW_g  += Y_n,g col(X_n,g)^T    both
 *
 * Images are taken nb at a time (nb*P about one column block of the engine,
 * nb = 1 when P is large): one product covers the nb images, its output in a
 * per-thread scratch [Mg x nb*P] copied out (nb > 1) or written straight into
 * the NCHW tensor with the engine's ldc (nb = 1). The col2im product runs in
 * blocks of at most DCOLS columns: W_g^T times the block of Y into a scratch
 * [K x DCOLS], then col2im of the block.
 *
 * Threads (fork_join.h): chunks of nb images go to the fork-join, each chunk's
 * products then run serially on its thread; with a single chunk the engine
 * splits the product itself. Weight gradients are summed in `wgroups` groups
 * of chunks fixed by the shapes alone (up to 16, fewer for big weights:
 * conv_gemm.c, wgroups_for): group q takes chunks [q*nchunks/wgroups,
 * (q+1)*nchunks/wgroups); group 0 adds into dW, every other into its own sum
 * (from zero), added to dW in group order after the join. The bias sums the
 * same way, in double, each image's channel as 16 lane sums (row_sum). Every
 * result is therefore the same bits on any thread count.
 *
 * The weights are packed for the engine once per call (cliff_gemm_pack_a),
 * not once per image.
 *
 * Workspace (cliff_convg_workspace_bytes): threads x max(Mg*nb*P, K*DCOLS)
 * floats, plus (wgroups - 1) weight-gradient sums, the packed weights and
 * wgroups bias sums. */
#ifndef CLIFF_CONV_GEMM_H
#define CLIFF_CONV_GEMM_H

#include <stddef.h>

#include "conv_pack.h"

typedef struct CliffConvGemm {
    CliffConvGeom g;    /* one group's image side; a 1x1 stride-1 unpadded
                           geometry is rewritten as one row of H*W */
    CliffConvRows rows; /* of g */
    int num, groups;
    int Ci, Co;         /* channels of the image and column sides, all groups */
    int Mg, K, P, HW;   /* per group; columns and pixels per image */
    int pointwise;      /* 1x1, stride 1, no pad: col(X_n,g) is X_n,g itself */
    int nb, nchunks;    /* images per product; ceil(num / nb) */
    int wgroups;        /* weight-gradient groups of chunks */
    int threads;
    size_t part;        /* floats of one thread's scratch */
    size_t wpack_group; /* floats of one group's packed weights (either orientation) */
    float *buf;         /* threads x part, then (wgroups - 1) x G*Mg*K sums, then the
                           weights packed for the engine (G x wpack_group) */
    size_t cap;
    double *dbsum;      /* wgroups x Co bias sums */
    size_t dbcap;
} CliffConvGemm;

/* g: the image side over ALL channels (channels = Ci, height, width, kernel,
 * stride, pad, dilation, out_h, out_w set). Keeps buffers that are big enough.
 * 0, or -1 with err (out of memory). */
int cliff_convg_plan(CliffConvGemm *pl, const CliffConvGeom *g, int groups, int Co, int num,
                     CliffError *err);
void cliff_convg_free(CliffConvGemm *pl);
size_t cliff_convg_workspace_bytes(const CliffConvGemm *pl);

/* y (num x Co x P) = the im2col product of x (num x Ci x H x W), + bias[co]
 * when bias != NULL. y is overwritten. */
void cliff_convg_im2col(CliffConvGemm *pl, const float *w, const float *x, const float *bias,
                        float *y);
/* x (num x Ci x H x W) = the col2im product of y, + bias[ci] when bias != NULL.
 * x is overwritten. */
void cliff_convg_col2im(CliffConvGemm *pl, const float *w, const float *y, const float *bias,
                        float *x);

enum { CLIFF_CONVG_NO_DATA, CLIFF_CONVG_DATA_COL2IM, CLIFF_CONVG_DATA_IM2COL };
/* One backward pass: dw += the weight gradient of y (column side) against x
 * (image side) when dw != NULL; db[co] += the sums of y's channels when
 * db != NULL; and, by data: COL2IM: dout (image side) = the col2im product of
 * y (Convolution's dx); IM2COL: dout (column side) = the im2col product of x
 * (Deconvolution's dx). */
void cliff_convg_backward(CliffConvGemm *pl, const float *w, const float *y, const float *x,
                          float *dw, float *db, int data, float *dout);

#endif
