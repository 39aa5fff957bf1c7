/* Caffe's Datum records (proto/cliff.proto, message Datum) as images for the
 * transformer: raw uint8 pixels (`data`, C x H x W bytes), float pixels
 * (`float_data`, used when `data` is empty, as Caffe does) or an encoded PNG /
 * JPEG image (`encoded` true, decoded by layers/data/image_codec.h into C x H x W
 * with OpenCV's B, G, R plane order), plus the integer label.
 *
 * Everything in a record is checked before use, since database values can be
 * anything: a value that does not parse as a Datum, sizes below 1 or above
 * 2^31 - 1 values, a pixel count that is not C*H*W, an image that does not
 * decode. Messages say what is wrong; callers name the record (file and key). */
#ifndef CLIFF_DATA_DATUM_H
#define CLIFF_DATA_DATUM_H

#include <stddef.h>
#include <stdint.h>

#include "cliff.pb-c.h"
#include "layers/data/transform.h"
#include "proto/error.h"

typedef struct CliffDatum {
    Cliff__Datum *msg;  /* the parsed record (owned) */
    uint8_t *decoded;   /* pixels of an encoded record (owned), else NULL */
    CliffImageView view; /* the pixels, C x H x W */
    int label;
    int encoded;
} CliffDatum;

/* Parses the n bytes at value. decode_channels is the transformer's choice for
 * encoded images: 3 (force_color), 1 (force_gray), 0 (as stored). On error *d
 * needs no free. */
int cliff_datum_parse(const void *value, size_t n, int decode_channels, CliffDatum *d,
                      CliffError *err);
/* The same with encoded images bounded to max_pixels (the fuzz target keeps
 * allocations small; cliff_datum_parse bounds them by CLIFF_IMAGE_MAX_PIXELS). */
int cliff_datum_parse_bounded(const void *value, size_t n, int decode_channels,
                              size_t max_pixels, CliffDatum *d, CliffError *err);
void cliff_datum_free(CliffDatum *d);

#endif
