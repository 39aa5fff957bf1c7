/* Images for the data layers: PNG and JPEG decoded from memory (libpng,
 * libjpeg-turbo), bilinear resize, and encoding back to PNG or JPEG, each
 * behaving as the OpenCV calls Caffe makes (cv::imdecode / cv::imread with
 * IMREAD_COLOR, IMREAD_GRAYSCALE or IMREAD_ANYCOLOR, cv::resize with
 * INTER_LINEAR, cv::imencode with its default settings).
 *
 * A decoded image is C x H x W uint8, planes in OpenCV's channel order:
 * C = 3 holds the B, G and R planes (in that order), C = 1 one gray plane,
 * exactly the layout of a Caffe Datum made from a cv::Mat.
 *
 * Decoding follows OpenCV's decoders, so the pixels are the ones Caffe sees:
 *   - the format is told by the first bytes (PNG signature, JPEG SOI), never by
 *     a file name; anything else is "unsupported";
 *   - color (3): gray is replicated to B = G = R; alpha is dropped (not
 *     composited); palettes are expanded; 16-bit samples keep their high byte;
 *     CMYK JPEGs are converted with OpenCV's formula (image_jpeg.c);
 *   - gray (1): PNG through libpng's rgb-to-gray with OpenCV's coefficients
 *     (0.299, 0.587), JPEG through libjpeg's own conversion (the Y plane);
 *   - as stored (0, IMREAD_ANYCOLOR): 3 channels when the file has more than
 *     one (color, gray+alpha, palette, CMYK), else 1;
 *   - EXIF orientation is NOT applied (OpenCV >= 3.1's imread rotates JPEGs
 *     by it; see README "ImageData").
 * Errors (not an image, truncated, corrupt, unsupported, too large) fill err
 * and return -1; the libraries' own error handlers, which print and exit, are
 * replaced (setjmp/longjmp), and their warnings are not printed. A JPEG whose
 * data ends early is an error (OpenCV warns and returns gray rows). */
#ifndef CLIFF_IMAGE_CODEC_H
#define CLIFF_IMAGE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "proto/error.h"

typedef struct CliffImage {
    int channels, height, width; /* channels 1 (gray) or 3 (B, G, R) */
    uint8_t *px;                 /* channels x height x width, malloc'd */
} CliffImage;

typedef enum { CLIFF_IMAGE_PNG, CLIFF_IMAGE_JPEG } CliffImageFormat;

/* Images larger than this many pixels are refused before any allocation. */
#define CLIFF_IMAGE_MAX_PIXELS ((size_t)1 << 27)

/* Decodes the len bytes at buf; channels 3 (IMREAD_COLOR), 1
 * (IMREAD_GRAYSCALE) or 0 (IMREAD_ANYCOLOR). 0, or -1 with err filled and
 * *out zeroed. Messages say what is wrong, not where: callers prefix the file
 * name or record key. */
int cliff_image_decode(const void *buf, size_t len, int channels, CliffImage *out,
                       CliffError *err);
/* The same with a smaller pixel bound (the fuzz targets keep allocations small). */
int cliff_image_decode_bounded(const void *buf, size_t len, int channels, size_t max_pixels,
                               CliffImage *out, CliffError *err);
/* Reads and decodes the file at path; errors name the path. */
int cliff_image_read(const char *path, int channels, CliffImage *out, CliffError *err);

/* out <- in resized to height x width (both >= 1) as cv::resize INTER_LINEAR
 * on uint8 (image_resize.c states the arithmetic). out is allocated. */
int cliff_image_resize(const CliffImage *in, int height, int width, CliffImage *out,
                       CliffError *err);

/* Encodes img as PNG or JPEG into a malloc'd buffer (*out, *len), with
 * cv::imencode's defaults: JPEG quality 95, 4:2:0; PNG with the SUB filter at
 * zlib's fastest level and RLE strategy. */
int cliff_image_encode(const CliffImage *img, CliffImageFormat fmt, uint8_t **out, size_t *len,
                       CliffError *err);
/* Caffe's encode_type names ("png", "jpg", "jpeg"; any case); -1 with err for others. */
int cliff_image_format_parse(const char *name, CliffImageFormat *fmt, CliffError *err);

void cliff_image_free(CliffImage *img);

/* Internal: one decoder per format (image_png.c, image_jpeg.c), called by
 * cliff_image_decode_bounded after the signature check; and the bound check
 * plus allocation they share. */
int cliff_png_decode(const uint8_t *buf, size_t len, int channels, size_t max_pixels,
                     CliffImage *out, CliffError *err);
int cliff_jpeg_decode(const uint8_t *buf, size_t len, int channels, size_t max_pixels,
                      CliffImage *out, CliffError *err);
int cliff_png_encode(const CliffImage *img, uint8_t **out, size_t *len, CliffError *err);
int cliff_jpeg_encode(const CliffImage *img, uint8_t **out, size_t *len, CliffError *err);
int cliff_image_alloc(CliffImage *img, int channels, size_t height, size_t width,
                      size_t max_pixels, CliffError *err);

#endif
