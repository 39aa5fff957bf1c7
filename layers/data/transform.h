/* Caffe's transform_param (its DataTransformer), shared by the image data layers
 * (Data, ImageData).
 *
 * For one image of C x H x W pixels (uint8 or float, any memory layout: CHW as
 * in a Datum, HWC as a decoded image), the output is C x h x w floats with
 *   out[c][y][x'] = (in[c][h_off + y][w_off + x] - mean(c, h_off + y, w_off + x)) * scale
 * where x' = w - 1 - x when the image is mirrored, else x, and
 *   - crop_size 0: h = H, w = W, offsets 0; crop_size k: h = w = k, offsets drawn
 *     uniformly in [0, H - k] and [0, W - k] in TRAIN, (H - k) / 2 and (W - k) / 2
 *     in TEST (center crop);
 *   - mirror: a fair coin per image, in every phase (as Caffe: TEST flips too);
 *   - mean: mean_file's C x H x W image read at the crop's SOURCE position (the
 *     mean of the uncropped image, so its shape must be the input's), or
 *     mean_value[c] (one value serves every channel), or 0.
 * Draw order per image, as Caffe's: the mirror coin first (only when mirror),
 * then h_off, then w_off (only with crop_size in TRAIN); Rand(n) is
 * cliff_rng_below(rng, n).
 * force_color / force_gray choose how an ENCODED image is decoded (3 or 1
 * channels; neither: as stored); on raw pixels they do nothing (Caffe logs an
 * error and goes on; cliff goes on silently). Both set is an error. */
#ifndef CLIFF_DATA_TRANSFORM_H
#define CLIFF_DATA_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>

#include "cliff.pb-c.h"
#include "layers/kernels/rng.h"
#include "proto/error.h"

#define CLIFF_TRANSFORM_MAX_MEAN_VALUES 64

typedef struct CliffTransform {
    int phase;   /* CLIFF__PHASE__TRAIN or CLIFF__PHASE__TEST */
    float scale;
    int mirror;
    int crop;    /* crop_size; 0: no crop */
    float *mean; /* mean_file's mean_c x mean_h x mean_w floats (owned), or NULL */
    int mean_c, mean_h, mean_w;
    char *mean_file; /* its path, for errors (owned), or NULL */
    int nmean_values;
    float mean_values[CLIFF_TRANSFORM_MAX_MEAN_VALUES];
    int decode_channels; /* encoded images: 3 (force_color), 1 (force_gray), 0 (as stored) */
} CliffTransform;

/* One source image: exactly one of u8 / f32 is set; pixel (c, y, x) is at
 * element c * stride_c + y * stride_y + x * stride_x.
 * CHW: strides (H*W, W, 1). HWC: strides (1, W*C, C). */
typedef struct CliffImageView {
    int channels, height, width;
    const uint8_t *u8;
    const float *f32;
    size_t stride_c, stride_y, stride_x;
} CliffImageView;

/* Views of packed CHW (a Datum's layout) and HWC (a decoded image) pixels. */
CliffImageView cliff_image_chw_u8(const uint8_t *px, int c, int h, int w);
CliffImageView cliff_image_chw_f32(const float *px, int c, int h, int w);
CliffImageView cliff_image_hwc_u8(const uint8_t *px, int c, int h, int w);

/* Reads p (NULL: the defaults, no transform) for `phase`; loads mean_file (a
 * BlobProto, Caffe's .binaryproto). Errors: mean_file together with mean_value,
 * force_color together with force_gray, crop_size above 2^31-1 (config
 * errors), a missing or unreadable mean file (marked CLIFF_ERR_DATA). On
 * error *t needs no free. */
int cliff_transform_init(CliffTransform *t, const Cliff__TransformationParameter *p, int phase,
                         CliffError *err);
void cliff_transform_free(CliffTransform *t);

/* Output shape (out[0..2] = C, h, w) of a C x H x W input, after checking that
 * the transform applies to it: crop_size <= H and W, the mean file's shape is
 * C x H x W, mean_value has 1 or C values; a refusal is marked CLIFF_ERR_DATA
 * (the data does not fit). Call once per new input shape;
 * cliff_transform_apply trusts it. */
int cliff_transform_check(const CliffTransform *t, int c, int h, int w, int out[3],
                          CliffError *err);

/* The mirror coin and crop offsets for an image of H x W pixels, drawn from
 * rng as stated above (what cliff_transform_apply draws), without the image:
 * a batch passed over draws the same. */
void cliff_transform_draw(const CliffTransform *t, int H, int W, CliffRng *rng, int *mirror,
                          int *h_off, int *w_off);

/* Writes the C x h x w output of `in` (which passed cliff_transform_check),
 * drawing the mirror coin and crop offsets from rng as stated above. */
void cliff_transform_apply(const CliffTransform *t, const CliffImageView *in, CliffRng *rng,
                           float *out);

/* Reads a BlobProto file (a mean image) as C x H x W floats: legacy
 * num/channels/height/width with num 1, or a shape of (1, C, H, W) or (C, H, W);
 * float or double values, exactly C*H*W of them. *out is malloc'd. */
int cliff_read_mean_file(const char *path, float **out, int *c, int *h, int *w, CliffError *err);

#endif
