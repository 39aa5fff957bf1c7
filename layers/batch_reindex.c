/* BatchReindex (Caffe's BatchReindexLayer): top[k] = bottom[0][permut[k]]
 * along the first axis. bottom[1] (permut) is 1-D, integer-valued in
 * [0, N). backward: dbottom[i] = sum of dtop[k] over k with permut[k] == i;
 * the index blob's gradient is zero (written when asked for).
 * Indices are checked before each forward (labels.h); forward writes zeros
 * for an index outside bottom 0 (a memory guard for callers that skip the
 * check). */
#include <string.h>

#include "labels.h"
#include "vision_util.h"

static int reindex_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt, CliffError *err)
{
    (void)l, (void)nb, (void)nt;
    if (top[0] == bottom[0] || top[0] == bottom[1])
        return cliff_error_set(err, "BatchReindex cannot run in place");
    return 0;
}

static int reindex_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                           CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)nt;
    const CliffTensor *b = bottom[0], *ix = bottom[1];
    char s[128];
    if (ix->num_axes != 1)
        return cliff_error_set(err, "index bottom '%s' has shape %s; it must be 1-D",
                               cliff_bname(l, 1), cliff_tensor_shape_str(ix, s, sizeof s));
    if (b->num_axes < 1)
        return cliff_error_set(err, "bottom '%s' is a scalar", cliff_bname(l, 0));
    int shape[CLIFF_MAX_AXES];
    memcpy(shape, b->shape, sizeof(int) * (size_t)b->num_axes);
    shape[0] = ix->shape[0];
    return cliff_tensor_reshape(top[0], b->num_axes, shape, err);
}

static int reindex_check(const CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffError *err)
{
    (void)nb;
    return cliff_index_check(l, bottom, 1, bottom[0]->shape[0], NULL, "index", err);
}

static void reindex_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                            CliffTensor *const *top, int nt)
{
    (void)l, (void)nb, (void)nt;
    const CliffTensor *b = bottom[0], *ix = bottom[1];
    const size_t dim = cliff_tensor_count_range(b, 1, b->num_axes);
    for (size_t k = 0; k < ix->count; k++) {
        float v = ix->data[k];
        float *dst = top[0]->data + k * dim;
        if (v >= 0 && v < (float)b->shape[0])
            memcpy(dst, b->data + (size_t)v * dim, dim * sizeof *dst);
        else
            memset(dst, 0, dim * sizeof *dst);
    }
}

static void reindex_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                             const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)l, (void)nt, (void)nb;
    if (propagate_down[1]) /* indices: zero gradient */
        memset(bottom[1]->diff, 0, bottom[1]->count * sizeof(float));
    if (!propagate_down[0]) return;
    const CliffTensor *ix = bottom[1];
    const size_t dim = cliff_tensor_count_range(bottom[0], 1, bottom[0]->num_axes);
    float *dx = bottom[0]->diff;
    memset(dx, 0, bottom[0]->count * sizeof *dx);
    for (size_t k = 0; k < ix->count; k++) {
        float v = ix->data[k];
        if (!(v >= 0 && v < (float)bottom[0]->shape[0])) continue;
        float *d = dx + (size_t)v * dim;
        const float *s = top[0]->diff + k * dim;
        for (size_t i = 0; i < dim; i++) d[i] += s[i];
    }
}

const CliffLayerOps cliff_ops_BatchReindex = {
    .type = "BatchReindex",
    .min_bottoms = 2,
    .max_bottoms = 2,
    .min_tops = 1,
    .max_tops = 1,
    .label_bottoms = 1u << 1, /* the indices */
    .setup = reindex_setup,
    .reshape = reindex_reshape,
    .check_bottoms = reindex_check,
    .forward = reindex_forward,
    .backward = reindex_backward,
};
