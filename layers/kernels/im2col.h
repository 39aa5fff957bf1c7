/* 2-D convolution geometry and the batched im2col / col2im shared by
 * Convolution, Deconvolution and Im2col.
 *
 * Batched column layout: for `num` images of C x H x W, the column buffer is a
 * row-major matrix [C*kh*kw] x [num*oh*ow]; row (c*kh + ki)*kw + kj, column
 * n*oh*ow + oy*ow + ox holds image n, channel c at
 *     iy = oy*stride_h - pad_h + ki*dilation_h,  ix = ox*stride_w - pad_w + kj*dilation_w
 * (0 outside the image). With num = 1 this is Caffe's per-image im2col.
 * One gemm per group over all images then produces an [M] x [num*oh*ow] matrix;
 * cliff_cm_to_nchw / cliff_nchw_to_cm convert between that "channel-major" layout
 * and N x M x (oh*ow).
 */
#ifndef CLIFF_IM2COL_H
#define CLIFF_IM2COL_H

#include <stddef.h>

#include "cliff.pb-c.h"
#include "proto/error.h"

typedef struct CliffConvGeom {
    int channels;         /* C of the image side */
    int height, width;    /* image side: H x W */
    int kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
    int out_h, out_w;     /* column side: oh x ow */
} CliffConvGeom;

/* Reads kernel/stride/pad/dilation from a ConvolutionParameter with Caffe's
 * rules (kernel_size once or once per spatial axis, or kernel_h + kernel_w;
 * the same for stride and pad; dilation repeated only). Fills the kernel_*,
 * stride_*, pad_*, dilation_* fields of g. Only 2 spatial axes are supported;
 * num_spatial is the bottom's count of spatial axes (for the messages). */
int cliff_conv_geom_read(const Cliff__ConvolutionParameter *cp, int num_spatial,
                         CliffConvGeom *g, CliffError *err);

/* Sets out_h/out_w for a convolution over height x width; fails with
 * "kernel 9x9 is larger than the padded input 8x8" when the dilated kernel does
 * not fit. */
int cliff_conv_geom_output(CliffConvGeom *g, CliffError *err);

/* img: num x C x H x W  ->  col: [C*kh*kw] x [num*oh*ow] (see above). */
void cliff_im2col(const float *img, int num, const CliffConvGeom *g, float *col);
/* The adjoint: img (overwritten) = sum of the column entries that map to each
 * pixel. */
void cliff_col2im(const float *col, int num, const CliffConvGeom *g, float *img);

/* cm: [M] x [num*plane]  ->  nchw: num x M x plane; adds bias[m] when bias != NULL. */
void cliff_cm_to_nchw(const float *cm, int num, int M, int plane, const float *bias,
                      float *nchw);
/* nchw: num x M x plane  ->  cm: [M] x [num*plane]. When bias_grad != NULL, adds
 * the sum over n and plane of channel m to bias_grad[m]. */
void cliff_nchw_to_cm(const float *nchw, int num, int M, int plane, float *cm,
                      float *bias_grad);

#endif
