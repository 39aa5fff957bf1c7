/* BlobShape messages <-> tensor shapes. */
#ifndef CLIFF_BLOB_SHAPE_H
#define CLIFF_BLOB_SHAPE_H

#include "cliff.pb-c.h"
#include "layers/kernels/tensor.h"

/* Copies s->dim into dims (CLIFF_MAX_AXES entries); returns the number of axes,
 * or -1 with err when there are too many axes or a dimension is negative or
 * above 2^31-1. */
int cliff_blob_shape_dims(const Cliff__BlobShape *s, int *dims, CliffError *err);
/* Reshapes t to s. */
int cliff_tensor_reshape_blob_shape(CliffTensor *t, const Cliff__BlobShape *s, CliffError *err);

#endif
