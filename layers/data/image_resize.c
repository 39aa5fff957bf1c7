/* Bilinear resize of uint8 planes as cv::resize(INTER_LINEAR) computes it on
 * uint8 images (its generic fixed-point path), which is what Caffe's
 * new_height / new_width and convert_imageset's resize_* run.
 *
 * Pixel centres are aligned: destination column x samples the source at
 *   f = (x + 0.5) * (W_in / W_out) - 0.5    (float, from a double product)
 *   s = floor(f), a = f - s;
 * f < 0 is clamped to s = 0, a = 0; s >= W_in - 1 to s = W_in - 1, a = 0.
 * The weights are 11-bit fixed point, each rounded on its own (nearest, ties
 * to even): (round((1 - a) * 2048), round(a * 2048)). Columns first: each
 * source row becomes int sums S = p[s] * w0 + p[s + 1] * w1 (22-bit scale
 * after the rows); then rows: out = (S0 * v0 + S1 * v1 + 2^21) >> 22.
 * OpenCV's SIMD version of the row step rounds in two stages and can differ
 * from this by 1 on some pixels (README "ImageData"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image_codec.h"

#define COEF_BITS 11
#define COEF_ONE (1 << COEF_BITS)

/* Source index (s[i], s[i] + step[i]) and weights (w[2i], w[2i+1]) of each of
 * the n_out destination positions along an axis of n_in pixels. */
static void axis_coefs(int n_in, int n_out, int *s, int *step, short *w)
{
    double scale = 1.0 / ((double)n_out / n_in); /* cv::resize's 1 / inv_scale */
    for (int i = 0; i < n_out; i++) {
        float f = (float)((i + 0.5) * scale - 0.5);
        int si = (int)floorf(f);
        f -= (float)si;
        if (si < 0) si = 0, f = 0;
        if (si >= n_in - 1) si = n_in - 1, f = 0;
        s[i] = si;
        step[i] = si < n_in - 1 ? 1 : 0; /* f == 0 there: the second tap is unused */
        w[2 * i] = (short)lrintf((1.f - f) * COEF_ONE);
        w[2 * i + 1] = (short)lrintf(f * COEF_ONE);
    }
}

int cliff_image_resize(const CliffImage *in, int height, int width, CliffImage *out,
                       CliffError *err)
{
    memset(out, 0, sizeof *out);
    if (height < 1 || width < 1)
        return cliff_error_set(err, "cannot resize to %d x %d", height, width);
    if (cliff_image_alloc(out, in->channels, (size_t)height, (size_t)width,
                          CLIFF_IMAGE_MAX_PIXELS, err))
        return -1;
    int W = in->width, H = in->height;
    int *xs = malloc((size_t)width * 2 * sizeof *xs), *ys = malloc((size_t)height * 2 * sizeof *ys);
    short *xw = malloc((size_t)width * 2 * sizeof *xw), *yw = malloc((size_t)height * 2 * sizeof *yw);
    int *rows = malloc((size_t)width * 2 * sizeof *rows); /* two column-resized rows */
    if (!xs || !ys || !xw || !yw || !rows) {
        free(xs), free(ys), free(xw), free(yw), free(rows);
        cliff_image_free(out);
        return cliff_error_set(err, "out of memory resizing to %d x %d", height, width);
    }
    axis_coefs(W, width, xs, xs + width, xw);
    axis_coefs(H, height, ys, ys + height, yw);
    for (int c = 0; c < in->channels; c++) {
        const uint8_t *src = in->px + (size_t)c * H * W;
        uint8_t *dst = out->px + (size_t)c * height * width;
        for (int y = 0; y < height; y++) {
            /* rows ys[y] and ys[y] + step, resized along x */
            for (int k = 0; k < 2; k++) {
                const uint8_t *p = src + (size_t)(ys[y] + k * ys[height + y]) * W;
                int *r = rows + k * width;
                for (int x = 0; x < width; x++) {
                    const uint8_t *q = p + xs[x];
                    r[x] = q[0] * xw[2 * x] + q[xs[width + x]] * xw[2 * x + 1];
                }
            }
            int v0 = yw[2 * y], v1 = yw[2 * y + 1];
            uint8_t *o = dst + (size_t)y * width;
            for (int x = 0; x < width; x++) {
                int v = (rows[x] * v0 + rows[width + x] * v1 + (1 << (2 * COEF_BITS - 1))) >>
                        (2 * COEF_BITS);
                o[x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }
    free(xs), free(ys), free(xw), free(yw), free(rows);
    return 0;
}
