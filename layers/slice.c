/* Slice (Caffe's SliceLayer): the inverse of Concat. Cuts bottom along `axis`
 * (or the deprecated non-negative slice_dim) at slice_point (one fewer than
 * the tops, strictly increasing, inside the axis), or into equal parts when no
 * point is given. backward writes each top's gradient into its part. */
#include <string.h>

#include "vision_util.h"

typedef struct Slice {
    int axis;
    size_t outer, inner;
    int *sizes; /* per top: extent along axis */
} Slice;

static const Cliff__SliceParameter slice_defaults = CLIFF__SLICE_PARAMETER__INIT;

static const Cliff__SliceParameter *slice_param(const CliffLayer *l)
{
    return l->param && l->param->slice_param ? l->param->slice_param : &slice_defaults;
}

static int slice_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)top;
    const Cliff__SliceParameter *sp = slice_param(l);
    Slice *p = cliff_priv_alloc(l, sizeof(Slice), err);
    if (!p) return -1;
    p->sizes = calloc((size_t)(nt > 0 ? nt : 1), sizeof *p->sizes);
    if (!p->sizes) return cliff_error_set(err, "out of memory");
    if (sp->has_slice_dim && sp->has_axis)
        return cliff_error_set(err, "either axis or slice_dim should be specified; not both");
    if (sp->has_slice_dim) {
        if (sp->slice_dim >= (uint32_t)bottom[0]->num_axes)
            return cliff_error_set(err, "slice_dim %u is out of range for bottom '%s' (%d axes)",
                                   sp->slice_dim, cliff_bname(l, 0), bottom[0]->num_axes);
        p->axis = (int)sp->slice_dim;
    } else {
        p->axis = cliff_canon_axis(l, bottom[0], 0, sp->axis, "slice axis", err);
        if (p->axis < 0) return -1;
    }
    if (sp->n_slice_point && sp->n_slice_point != (size_t)nt - 1)
        return cliff_error_set(err, "%zu slice_point values for %d tops (need %d)",
                               sp->n_slice_point, nt, nt - 1);
    for (size_t i = 1; i < sp->n_slice_point; i++)
        if (sp->slice_point[i] <= sp->slice_point[i - 1])
            return cliff_error_set(err, "slice_point values must be strictly increasing (%u then "
                                        "%u)",
                                   sp->slice_point[i - 1], sp->slice_point[i]);
    return 0;
}

static int slice_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb;
    const Cliff__SliceParameter *sp = slice_param(l);
    Slice *p = l->priv;
    const CliffTensor *b = bottom[0];
    char s[128];
    if (p->axis >= b->num_axes)
        return cliff_error_set(err, "slice axis %d is out of range for bottom '%s' (%s)", p->axis,
                               cliff_bname(l, 0), cliff_tensor_shape_str(b, s, sizeof s));
    const int dim = b->shape[p->axis];
    if (sp->n_slice_point) {
        uint32_t prev = 0;
        for (int t = 0; t < nt; t++) {
            uint32_t end = t < nt - 1 ? sp->slice_point[t] : (uint32_t)dim;
            if (t < nt - 1 && (end == 0 || end >= (uint32_t)dim))
                return cliff_error_set(err, "slice_point %u must lie strictly inside axis %d of "
                                            "bottom '%s' (size %d)",
                                       end, p->axis, cliff_bname(l, 0), dim);
            p->sizes[t] = (int)(end - prev);
            prev = end;
        }
    } else {
        if (dim % nt)
            return cliff_error_set(err, "%d tops do not evenly divide axis %d of bottom '%s' (size "
                                        "%d); give slice_point",
                                   nt, p->axis, cliff_bname(l, 0), dim);
        for (int t = 0; t < nt; t++) p->sizes[t] = dim / nt;
    }
    p->outer = cliff_tensor_count_range(b, 0, p->axis);
    p->inner = cliff_tensor_count_range(b, p->axis + 1, b->num_axes);
    int shape[CLIFF_MAX_AXES];
    memcpy(shape, b->shape, sizeof(int) * (size_t)b->num_axes);
    for (int t = 0; t < nt; t++) {
        shape[p->axis] = p->sizes[t];
        if (cliff_tensor_reshape(top[t], b->num_axes, shape, err)) return -1;
    }
    return 0;
}

/* Moves each top's slab of the slice axis between the bottom and the tops:
 * data into the tops (forward), or the tops' diffs back into the bottom's. */
static void slice_move(const Slice *p, CliffTensor *bottom, CliffTensor *const *top, int nt,
                       int backward)
{
    const size_t brow = (size_t)bottom->shape[p->axis] * p->inner;
    size_t off = 0;
    for (int t = 0; t < nt; t++) {
        const size_t trow = (size_t)p->sizes[t] * p->inner;
        if (!backward)
            cliff_copy_rows(top[t]->data, trow, bottom->data + off, brow, p->outer, trow);
        else
            cliff_copy_rows(bottom->diff + off, brow, top[t]->diff, trow, p->outer, trow);
        off += trow;
    }
}

static void slice_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                          CliffTensor *const *top, int nt)
{
    (void)nb;
    slice_move(l->priv, bottom[0], top, nt, 0);
}

static void slice_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                           const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nb;
    if (propagate_down[0]) slice_move(l->priv, bottom[0], top, nt, 1);
}

static void slice_destroy(CliffLayer *l)
{
    Slice *p = l->priv;
    if (!p) return;
    free(p->sizes);
    free(p);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_Slice = {
    .type = "Slice",
    .min_bottoms = 1,
    .max_bottoms = 1,
    .min_tops = 1,
    .max_tops = CLIFF_ANY,
    .setup = slice_setup,
    .reshape = slice_reshape,
    .forward = slice_forward,
    .backward = slice_backward,
    .destroy = slice_destroy,
};
