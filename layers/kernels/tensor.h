/* CliffTensor: Caffe's Blob. An N-d float array with a gradient ("diff") of
 * the same shape. Either it owns its storage (activations) or it is a view
 * into the net's parameter and gradient slabs (parameters).
 *
 * Layout is row-major (C order), axis 0 outermost: for N x C x H x W the
 * element (n,c,h,w) is at ((n*C + c)*H + h)*W + w.
 */
#ifndef CLIFF_TENSOR_H
#define CLIFF_TENSOR_H

#include <stddef.h>

#include "proto/error.h"

#define CLIFF_MAX_AXES 32 /* Caffe's kMaxBlobAxes */

typedef struct CliffTensor {
    int num_axes;
    int shape[CLIFF_MAX_AXES];
    size_t count;    /* product of shape; 1 for a scalar (num_axes == 0) */
    float *data;     /* count floats */
    float *diff;     /* count floats */
    size_t capacity; /* floats allocated in data and in diff when owned */
    int owns;        /* 1: data/diff are malloc'd here; 0: a view */
} CliffTensor;

/* An empty owning tensor (count 0, no storage). */
void cliff_tensor_init(CliffTensor *t);
/* Frees owned storage; leaves an empty tensor. */
void cliff_tensor_free(CliffTensor *t);

/* Sets the shape; an owning tensor grows its storage (zero-filled) when count
 * exceeds capacity and never shrinks it. A view may only be reshaped to the same
 * count. Fails on negative dims, too many axes or size overflow. */
int cliff_tensor_reshape(CliffTensor *t, int num_axes, const int *shape, CliffError *err);
/* Same shape as other. */
int cliff_tensor_reshape_like(CliffTensor *t, const CliffTensor *other, CliffError *err);

/* Product of shape[start..end). */
size_t cliff_tensor_count_range(const CliffTensor *t, int start, int end);
/* Maps a possibly negative axis index to [0, num_axes); -1 with err when out of
 * range. */
int cliff_tensor_axis(const CliffTensor *t, int axis, CliffError *err);
/* Shape as text "64x1x28x28" ("scalar" for no axes) into buf; returns buf. */
const char *cliff_tensor_shape_str(const CliffTensor *t, char *buf, size_t len);
/* Shapes equal? */
int cliff_tensor_same_shape(const CliffTensor *a, const CliffTensor *b);

#endif
