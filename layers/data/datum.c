/* Datum records to pixel views (contract in datum.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "datum.h"
#include "image_codec.h"

/* Encoded records decode through the image codec (C x H x W, B G R planes). */
static int decode_encoded(CliffDatum *d, int decode_channels, size_t max_pixels,
                          CliffError *err)
{
    CliffImage img;
    if (cliff_image_decode_bounded(d->msg->data.data, d->msg->data.len, decode_channels,
                                   max_pixels, &img, err))
        return cliff_error_prefix(err, "encoded Datum: ");
    d->decoded = img.px;
    d->view = cliff_image_chw_u8(img.px, img.channels, img.height, img.width);
    return 0;
}

int cliff_datum_parse(const void *value, size_t n, int decode_channels, CliffDatum *d,
                      CliffError *err)
{
    return cliff_datum_parse_bounded(value, n, decode_channels, CLIFF_IMAGE_MAX_PIXELS, d, err);
}

int cliff_datum_parse_bounded(const void *value, size_t n, int decode_channels,
                              size_t max_pixels, CliffDatum *d, CliffError *err)
{
    memset(d, 0, sizeof *d);
    Cliff__Datum *m = cliff__datum__unpack(NULL, n, value);
    if (!m) return cliff_error_set(err, "the %zu-byte value is not a Datum", n);
    d->msg = m;
    d->label = m->label;
    if (m->encoded) {
        d->encoded = 1;
        if (!m->has_data || m->data.len == 0) {
            cliff_datum_free(d);
            return cliff_error_set(err, "encoded Datum without image bytes");
        }
        if (decode_encoded(d, decode_channels, max_pixels, err)) {
            cliff_datum_free(d);
            return -1;
        }
        return 0;
    }
    long long c = m->channels, h = m->height, w = m->width;
    if (c < 1 || h < 1 || w < 1 || c * h * w > INT_MAX) {
        cliff_datum_free(d);
        return cliff_error_set(err, "Datum of %lld x %lld x %lld (channels, height, width "
                               "must be >= 1, at most 2^31-1 values)", c, h, w);
    }
    size_t count = (size_t)(c * h * w);
    if (m->data.len > 0) {
        if (m->data.len != count) {
            /* the message reads m: set it before the Datum is freed */
            cliff_error_set(err, "Datum of %lld x %lld x %lld holds %zu bytes of data "
                            "(%zu expected)", c, h, w, m->data.len, count);
            cliff_datum_free(d);
            return -1;
        }
        d->view = cliff_image_chw_u8(m->data.data, (int)c, (int)h, (int)w);
    } else {
        if (m->n_float_data != count) {
            cliff_error_set(err, "Datum of %lld x %lld x %lld holds %zu float_data "
                            "values and no data (%zu expected)", c, h, w, m->n_float_data, count);
            cliff_datum_free(d);
            return -1;
        }
        d->view = cliff_image_chw_f32(m->float_data, (int)c, (int)h, (int)w);
    }
    return 0;
}

void cliff_datum_free(CliffDatum *d)
{
    if (d->msg) cliff__datum__free_unpacked(d->msg, NULL);
    free(d->decoded);
    memset(d, 0, sizeof *d);
}
