/* Packing Datum records (contract in datum_write.h). */
#include <stdlib.h>

#include "cliff.pb-c.h"
#include "datum_write.h"

int cliff_datum_pack(CliffDatumKind kind, int c, int h, int w, const uint8_t *px, size_t n,
                     int label, uint8_t **out, size_t *len, CliffError *err)
{
    Cliff__Datum d = CLIFF__DATUM__INIT;
    *out = NULL;
    *len = 0;
    if (kind != CLIFF_DATUM_ENCODED) {
        if (c < 1 || h < 1 || w < 1 || (size_t)c * (size_t)h * (size_t)w != n)
            return cliff_error_set(err, "a Datum of %d x %d x %d cannot hold %zu bytes", c, h,
                                   w, n);
        d.has_channels = d.has_height = d.has_width = 1;
        d.channels = c;
        d.height = h;
        d.width = w;
    }
    d.has_data = 1;
    d.data.data = (uint8_t *)px;
    d.data.len = n;
    d.has_label = 1;
    d.label = label;
    if (kind != CLIFF_DATUM_MNIST) {
        d.has_encoded = 1;
        d.encoded = kind == CLIFF_DATUM_ENCODED;
    }
    size_t size = cliff__datum__get_packed_size(&d);
    if (!(*out = malloc(size ? size : 1))) return cliff_error_set(err, "out of memory");
    *len = cliff__datum__pack(&d, *out);
    return 0;
}
