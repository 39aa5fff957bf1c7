#include "blob_shape.h"

#include <stdint.h>

int cliff_blob_shape_dims(const Cliff__BlobShape *s, int *dims, CliffError *err)
{
    if (s->n_dim > CLIFF_MAX_AXES)
        return cliff_error_set(err, "shape has %zu axes (at most %d)", s->n_dim, CLIFF_MAX_AXES);
    for (size_t i = 0; i < s->n_dim; i++) {
        if (s->dim[i] < 0 || s->dim[i] > INT32_MAX)
            return cliff_error_set(err, "shape dimension %zu is %lld", i, (long long)s->dim[i]);
        dims[i] = (int)s->dim[i];
    }
    return (int)s->n_dim;
}

int cliff_tensor_reshape_blob_shape(CliffTensor *t, const Cliff__BlobShape *s, CliffError *err)
{
    int dims[CLIFF_MAX_AXES];
    int n = cliff_blob_shape_dims(s, dims, err);
    if (n < 0) return -1;
    return cliff_tensor_reshape(t, n, dims, err);
}
