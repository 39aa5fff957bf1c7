/* A readable source of layer weights (an HDF5 /data tree or a binary
 * NetParameter) behind a small vtable, so the name matching and shape checks
 * of cliff_weights_read are written once. */
#ifndef CLIFF_WEIGHTS_SRC_H
#define CLIFF_WEIGHTS_SRC_H

#include <stddef.h>

#include "proto/error.h"
#include "layers/kernels/tensor.h"

typedef struct CliffWeightsSrcOps {
    /* Blobs stored for the layer: -1 when the layer is absent. */
    int (*nblobs)(void *ctx, const char *layer);
    /* 1 when blob i of layer is stored (Caffe omits blobs of weight sharers). */
    int (*has_blob)(void *ctx, const char *layer, int i);
    /* 1 when blob i's stored shape equals t's; fills `shape` with it as text. */
    int (*shape_matches)(void *ctx, const char *layer, int i, const CliffTensor *t, char *shape,
                         size_t len);
    int (*read)(void *ctx, const char *layer, int i, float *out, size_t count, CliffError *err);
    /* Calls fn for every stored layer that has at least one blob; stops on non-zero. */
    int (*each_layer)(void *ctx, int (*fn)(void *arg, const char *layer), void *arg);
    void (*close)(void *ctx);
} CliffWeightsSrcOps;

typedef struct CliffWeightsSrc {
    void *ctx;
    const char *path;
    const CliffWeightsSrcOps *ops; /* NULL once closed */
} CliffWeightsSrc;

/* Open/close per format (snapshot_h5.c, snapshot_proto.c). */
int cliff_weights_src_h5(CliffWeightsSrc *src, const char *path, CliffError *err);
int cliff_weights_src_proto(CliffWeightsSrc *src, const char *path, CliffError *err);
void cliff_weights_src_close(CliffWeightsSrc *src);

#endif
