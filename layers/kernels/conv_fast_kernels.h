/* The kernels of the shifted-row convolution (layers/conv_fast_kernels.c),
 * internal to conv_fast.c. S, off and the plan are as in conv_fast.h. All
 * need AVX-512F (call them only when cliff_conv_fast_usable() said 1). */
#ifndef CLIFF_CONV_FAST_KERNELS_H
#define CLIFF_CONV_FAST_KERNELS_H

#include <stddef.h>

#include "conv_fast.h"

/* S of one image. Writes up to 15 floats past the end of S (the plan's
 * per-image stride leaves 16 of slack). */
void cliff_cf_shift(const CliffConvFastPlan *pl, const float *img, float *S);
/* The adjoint of the shift: dx of one image (overwritten) from dS. */
void cliff_cf_unshift(const CliffConvFastPlan *pl, const float *dS, float *dx);
/* out[i] = the sum of row i of dy (rows of plane floats, consecutive) for
 * i < rows: 16 lanes, then the reduction of _mm512_reduce_add_ps. */
void cliff_cf_row_sums(const float *dy, int rows, int plane, float *out);
/* db[m] += the sum of dy over the plan's images and plane, channel m: per
 * image the row sum above, added over the images in order in double. */
void cliff_cf_bias_grad(const CliffConvFastPlan *pl, const float *dy, float *db);

#endif
