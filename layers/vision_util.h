/* Small helpers shared by the vision and shape layers (conv, pool, ip, concat...):
 * blob names for error messages, growable scratch buffers sized in reshape,
 * and the canonical-axis rule with a message that names the blob. */
#ifndef CLIFF_VISION_UTIL_H
#define CLIFF_VISION_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "layer.h"

/* The config name of bottom i ("bottom i" when the layer has no names, as in
 * the gradient checker). */
static inline const char *cliff_bname(const CliffLayer *l, int i)
{
    if (l->param && i >= 0 && (size_t)i < l->param->n_bottom && l->param->bottom[i])
        return l->param->bottom[i];
    return "(unnamed bottom)";
}

static inline const char *cliff_tname(const CliffLayer *l, int i)
{
    if (l->param && i >= 0 && (size_t)i < l->param->n_top && l->param->top[i])
        return l->param->top[i];
    return "(unnamed top)";
}

/* Grows *buf (never shrinks) to hold n floats; 0 or -1 with err. Old contents
 * are not preserved. Called from setup/reshape only. */
static inline int cliff_scratch_reserve(float **buf, size_t *cap, size_t n, CliffError *err)
{
    if (n <= *cap && *buf) return 0;
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) return cliff_error_set(err, "out of memory allocating %zu floats of scratch", n);
    free(*buf);
    *buf = p;
    *cap = n;
    return 0;
}

static inline int cliff_iscratch_reserve(int **buf, size_t *cap, size_t n, CliffError *err)
{
    if (n <= *cap && *buf) return 0;
    int *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) return cliff_error_set(err, "out of memory allocating %zu ints of scratch", n);
    free(*buf);
    *buf = p;
    *cap = n;
    return 0;
}

/* Bottom 0 (b) as num x channels x height x width into *N, *C, *H, *W; -1
 * with err, naming the blob and `who` (the layer kind), unless it has exactly
 * 4 axes. */
static inline int cliff_nchw_dims(const CliffLayer *l, const CliffTensor *b, const char *who,
                                  int *N, int *C, int *H, int *W, CliffError *err)
{
    if (b->num_axes != 4) {
        char s[128];
        return cliff_error_set(err, "bottom '%s' has shape %s; %s needs 4 axes (num, channels, "
                                    "height, width)",
                               cliff_bname(l, 0), cliff_tensor_shape_str(b, s, sizeof s), who);
    }
    *N = b->shape[0];
    *C = b->shape[1];
    *H = b->shape[2];
    *W = b->shape[3];
    return 0;
}

/* Copies `rows` runs of `len` floats, run o from src + o * src_stride to
 * dst + o * dst_stride: how Concat and Slice move one blob's slab of the
 * joined axis for every outer index. */
static inline void cliff_copy_rows(float *dst, size_t dst_stride, const float *src,
                                   size_t src_stride, size_t rows, size_t len)
{
    for (size_t o = 0; o < rows; o++)
        memcpy(dst + o * dst_stride, src + o * src_stride, len * sizeof *dst);
}

/* Canonical axis of bottom i: maps negative axes, errors name the blob. */
static inline int cliff_canon_axis(const CliffLayer *l, const CliffTensor *t, int i, int axis,
                                   const char *what, CliffError *err)
{
    if (axis < -t->num_axes || axis >= t->num_axes) {
        char s[128];
        cliff_error_set(err, "%s %d is out of range for bottom '%s' of shape %s (%d axes)",
                        what, axis, cliff_bname(l, i), cliff_tensor_shape_str(t, s, sizeof s),
                        t->num_axes);
        return -1;
    }
    return axis < 0 ? axis + t->num_axes : axis;
}

/* Allocates a zeroed private struct of the given size into l->priv. */
static inline void *cliff_priv_alloc(CliffLayer *l, size_t size, CliffError *err)
{
    l->priv = calloc(1, size);
    if (!l->priv) cliff_error_set(err, "out of memory");
    return l->priv;
}

#endif
