/* Concat (Caffe's ConcatLayer): joins bottoms along `axis` (or the deprecated,
 * non-negative concat_dim when it is given). All other axes must agree.
 * View each blob as outer x (its axis size * inner), with outer = product of
 * the axes before `axis` and inner = product of those after; top row o is the
 * bottoms' rows o side by side. backward slices the gradient back. */
#include <string.h>

#include "vision_util.h"

typedef struct Concat {
    int axis;
    size_t outer, inner;
    int top_axis;
} Concat;

static const Cliff__ConcatParameter concat_defaults = CLIFF__CONCAT_PARAMETER__INIT;

static int concat_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt, CliffError *err)
{
    (void)top, (void)nt;
    const Cliff__ConcatParameter *cp =
        l->param && l->param->concat_param ? l->param->concat_param : &concat_defaults;
    Concat *p = cliff_priv_alloc(l, sizeof(Concat), err);
    if (!p) return -1;
    if (cp->has_concat_dim && cp->has_axis)
        return cliff_error_set(err, "either axis or concat_dim should be specified; not both");
    if (cp->has_concat_dim) {
        if (cp->concat_dim >= (uint32_t)bottom[0]->num_axes)
            return cliff_error_set(err, "concat_dim %u is out of range for bottom '%s' (%d axes)",
                                   cp->concat_dim, cliff_bname(l, 0), bottom[0]->num_axes);
        p->axis = (int)cp->concat_dim;
    } else {
        p->axis = cliff_canon_axis(l, bottom[0], 0, cp->axis, "concat axis", err);
        if (p->axis < 0) return -1;
    }
    (void)nb;
    return 0;
}

static int concat_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                          CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nt;
    Concat *p = l->priv;
    const CliffTensor *b0 = bottom[0];
    char s0[128], s1[128];
    if (p->axis >= b0->num_axes)
        return cliff_error_set(err, "concat axis %d is out of range for bottom '%s' (%s)",
                               p->axis, cliff_bname(l, 0), cliff_tensor_shape_str(b0, s0, sizeof s0));
    long total = 0;
    for (int i = 0; i < nb; i++) {
        const CliffTensor *b = bottom[i];
        int ok = b->num_axes == b0->num_axes;
        for (int a = 0; ok && a < b0->num_axes; a++)
            if (a != p->axis && b->shape[a] != b0->shape[a]) ok = 0;
        if (!ok)
            return cliff_error_set(err, "bottoms '%s' (%s) and '%s' (%s) differ outside the concat "
                                        "axis %d",
                                   cliff_bname(l, 0), cliff_tensor_shape_str(b0, s0, sizeof s0),
                                   cliff_bname(l, i), cliff_tensor_shape_str(b, s1, sizeof s1),
                                   p->axis);
        total += b->shape[p->axis];
    }
    if (total > INT32_MAX) return cliff_error_set(err, "concatenated axis too large");
    int shape[CLIFF_MAX_AXES];
    memcpy(shape, b0->shape, sizeof(int) * (size_t)b0->num_axes);
    shape[p->axis] = (int)total;
    p->top_axis = (int)total;
    p->outer = cliff_tensor_count_range(b0, 0, p->axis);
    p->inner = cliff_tensor_count_range(b0, p->axis + 1, b0->num_axes);
    return cliff_tensor_reshape(top[0], b0->num_axes, shape, err);
}

/* Moves every bottom's slab of the concat axis between the bottoms and the
 * top: data into the top when propagate_down is NULL (forward), else the top's
 * diff back into the bottoms that propagate. */
static void concat_move(const Concat *p, CliffTensor *const *bottom, int nb, CliffTensor *top,
                        const int *propagate_down)
{
    const size_t trow = (size_t)p->top_axis * p->inner;
    size_t off = 0;
    for (int i = 0; i < nb; i++) {
        const size_t brow = (size_t)bottom[i]->shape[p->axis] * p->inner;
        if (!propagate_down)
            cliff_copy_rows(top->data + off, trow, bottom[i]->data, brow, p->outer, brow);
        else if (propagate_down[i])
            cliff_copy_rows(bottom[i]->diff, brow, top->diff + off, trow, p->outer, brow);
        off += brow;
    }
}

static void concat_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                           CliffTensor *const *top, int nt)
{
    (void)nt;
    concat_move(l->priv, bottom, nb, top[0], NULL);
}

static void concat_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                            const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt;
    concat_move(l->priv, bottom, nb, top[0], propagate_down);
}

static void concat_destroy(CliffLayer *l)
{
    free(l->priv);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_Concat = {
    .type = "Concat",
    .min_bottoms = 1,
    .max_bottoms = CLIFF_ANY,
    .min_tops = 1,
    .max_tops = 1,
    .setup = concat_setup,
    .reshape = concat_reshape,
    .forward = concat_forward,
    .backward = concat_backward,
    .destroy = concat_destroy,
};
