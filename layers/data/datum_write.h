/* Caffe's Datum records as Caffe's tools write them (the reader is datum.h):
 *   raw image (convert_imageset without -encoded, Caffe's CVMatToDatum):
 *     channels, height, width, data = C x H x W bytes (B, G, R planes), label,
 *     encoded = false (present);
 *   encoded image (convert_imageset -encoded): data = PNG or JPEG bytes, label,
 *     encoded = true; no channels, height, width (Caffe leaves them unset);
 *   MNIST (convert_mnist_data): channels 1, height, width, data, label (no
 *     encoded field).
 * Fields are packed in field-number order, as Caffe's C++ protobuf does, so the
 * bytes are the ones Caffe's tools write for the same pixels. */
#ifndef CLIFF_DATA_DATUM_WRITE_H
#define CLIFF_DATA_DATUM_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/error.h"

typedef enum { CLIFF_DATUM_RAW, CLIFF_DATUM_ENCODED, CLIFF_DATUM_MNIST } CliffDatumKind;

/* Packs one Datum into *out (malloc'd, *len bytes). For ENCODED, px holds n
 * image bytes and c, h, w are ignored; otherwise px holds c * h * w pixels. */
int cliff_datum_pack(CliffDatumKind kind, int c, int h, int w, const uint8_t *px, size_t n,
                     int label, uint8_t **out, size_t *len, CliffError *err);

#endif
