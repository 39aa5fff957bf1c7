/* The kernels of the shifted-row convolution (layers/conv_fast_kernels.c),
 * internal to conv_fast.c. S, off and the plan are as in conv_fast.h. All
 * need AVX-512F (call them only when cliff_conv_fast_usable() said 1). */
#ifndef CLIFF_CONV_FAST_KERNELS_H
#define CLIFF_CONV_FAST_KERNELS_H

#include <stddef.h>

#include "conv_fast.h"

/* The weight-gradient tile: CLIFF_CF_WM output channels x CLIFF_CF_WR rows. */
#define CLIFF_CF_WM 5
#define CLIFF_CF_WR 5

/* S of one image. Writes up to 15 floats past the end of S (the plan's
 * per-image stride leaves 16 of slack). */
void cliff_cf_shift(const CliffConvFastPlan *pl, const float *img, float *S);
/* The adjoint of the shift: dx of one image (overwritten) from dS. */
void cliff_cf_unshift(const CliffConvFastPlan *pl, const float *dS, float *dx);
/* dw[i*K + j] += sum over nimg images and the plane of dy rows i times S rows j:
 * WM rows at moff (image stride dstride) x WR rows at soff (image stride
 * sstride); only [0, mrows) x [0, srows) are written. */
void cliff_cf_wgrad_tile(int nimg, const float *dy, size_t dstride, const int *moff,
                         const float *S, size_t sstride, const int *soff, int plane, float *dw,
                         int K, int mrows, int srows);
/* db[m] += the sum of dy over the plan's images and plane, channel m. */
void cliff_cf_bias_grad(const CliffConvFastPlan *pl, const float *dy, float *db);

#endif
