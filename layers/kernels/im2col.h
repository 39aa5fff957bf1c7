/* 2-D convolution geometry (Convolution, Deconvolution, Im2col) and the
 * batched im2col / col2im of the Im2col layer.
 *
 * Batched column layout: for `num` images of C x H x W, the column buffer is a
 * row-major matrix [C*kh*kw] x [num*oh*ow]; row (c*kh + ki)*kw + kj, column
 * n*oh*ow + oy*ow + ox holds image n, channel c at
 *     iy = oy*stride_h - pad_h + ki*dilation_h,  ix = ox*stride_w - pad_w + kj*dilation_w
 * (0 outside the image). With num = 1 this is Caffe's per-image im2col (the
 * Im2col layer's). Convolution and Deconvolution never materialize it: their
 * packers read the images directly (conv_pack.h).
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

#endif
