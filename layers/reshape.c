/* Flatten and Reshape (Caffe's FlattenLayer / ReshapeLayer): the same values
 * under a new shape. Caffe shares the storage; here the net owns every blob, so
 * forward copies data and backward copies the gradient (one memcpy each).
 *
 * Flatten: axes [axis, end_axis] collapse into one.
 * Reshape: shape.dim replaces bottom axes [axis, axis + num_axes) (num_axes -1:
 * to the end); a dim of 0 copies the bottom's axis at that position, one dim of
 * -1 is inferred from the count.
 */
#include <string.h>

#include "vision_util.h"

static void copy_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt)
{
    (void)l, (void)nb, (void)nt;
    if (top[0]->data != bottom[0]->data)
        memcpy(top[0]->data, bottom[0]->data, bottom[0]->count * sizeof(float));
}

static void copy_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                          const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)l, (void)nt, (void)nb;
    if (propagate_down[0] && top[0]->diff != bottom[0]->diff)
        memcpy(bottom[0]->diff, top[0]->diff, bottom[0]->count * sizeof(float));
}

/* ---- Flatten ---- */

static const Cliff__FlattenParameter flatten_defaults = CLIFF__FLATTEN_PARAMETER__INIT;

static int flatten_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt, CliffError *err)
{
    (void)l, (void)nb, (void)nt;
    if (top[0] == bottom[0])
        return cliff_error_set(err, "Flatten does not allow in-place computation");
    return 0;
}

static int flatten_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                           CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)nt;
    const Cliff__FlattenParameter *fp =
        l->param && l->param->flatten_param ? l->param->flatten_param : &flatten_defaults;
    const CliffTensor *b = bottom[0];
    int start = cliff_canon_axis(l, b, 0, fp->axis, "flatten axis", err);
    if (start < 0) return -1;
    int end = cliff_canon_axis(l, b, 0, fp->end_axis, "flatten end_axis", err);
    if (end < 0) return -1;
    if (end < start)
        return cliff_error_set(err, "flatten end_axis %d comes before axis %d", fp->end_axis,
                               fp->axis);
    int shape[CLIFF_MAX_AXES], n = 0;
    for (int i = 0; i < start; i++) shape[n++] = b->shape[i];
    shape[n++] = (int)cliff_tensor_count_range(b, start, end + 1);
    for (int i = end + 1; i < b->num_axes; i++) shape[n++] = b->shape[i];
    return cliff_tensor_reshape(top[0], n, shape, err);
}

const CliffLayerOps cliff_ops_Flatten = {
    .type = "Flatten",
    .min_bottoms = 1,
    .max_bottoms = 1,
    .min_tops = 1,
    .max_tops = 1,
    .setup = flatten_setup,
    .reshape = flatten_reshape,
    .forward = copy_forward,
    .backward = copy_backward,
};

/* ---- Reshape ---- */

static const Cliff__ReshapeParameter reshape_defaults = CLIFF__RESHAPE_PARAMETER__INIT;
static const Cliff__BlobShape empty_shape = CLIFF__BLOB_SHAPE__INIT;

/* The new dims (an absent shape is an empty one, as in Caffe). */
static const Cliff__BlobShape *new_dims(const Cliff__ReshapeParameter *rp)
{
    return rp->shape ? rp->shape : &empty_shape;
}

static const Cliff__ReshapeParameter *reshape_param(const CliffLayer *l)
{
    return l->param && l->param->reshape_param ? l->param->reshape_param : &reshape_defaults;
}

static int reshape_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)nt;
    if (top[0] == bottom[0])
        return cliff_error_set(err, "Reshape does not allow in-place computation");
    const Cliff__ReshapeParameter *rp = reshape_param(l);
    const Cliff__BlobShape *ns = new_dims(rp);
    int inferred = -1;
    for (size_t i = 0; i < ns->n_dim; i++) {
        int64_t d = ns->dim[i];
        if (d == -1) {
            if (inferred >= 0)
                return cliff_error_set(err, "new shape contains multiple -1 dims (at %d and %zu)",
                                       inferred, i);
            inferred = (int)i;
        } else if (d < -1 || d > INT32_MAX) {
            return cliff_error_set(err, "new shape dim %zu is %lld (must be -1, 0 or positive)", i,
                                   (long long)d);
        }
    }
    if (rp->num_axes < -1)
        return cliff_error_set(err, "reshape_param.num_axes must be >= -1 (got %d)",
                               rp->num_axes);
    return 0;
}

static int reshape_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                           CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)nt;
    const Cliff__ReshapeParameter *rp = reshape_param(l);
    const CliffTensor *b = bottom[0];
    char s[128];
    int start = rp->axis >= 0 ? rp->axis : b->num_axes + rp->axis + 1;
    if (start < 0 || start > b->num_axes)
        return cliff_error_set(err, "reshape axis %d is out of range for bottom '%s' of shape %s",
                               rp->axis, cliff_bname(l, 0), cliff_tensor_shape_str(b, s, sizeof s));
    int end = rp->num_axes == -1 ? b->num_axes : start + rp->num_axes;
    if (end > b->num_axes)
        return cliff_error_set(err, "reshape axis %d + num_axes %d exceeds the %d axes of bottom "
                                    "'%s'",
                               rp->axis, rp->num_axes, b->num_axes, cliff_bname(l, 0));
    const Cliff__BlobShape *ns = new_dims(rp);
    const int nnew = (int)ns->n_dim;
    const int ntop = start + nnew + (b->num_axes - end);
    if (ntop > CLIFF_MAX_AXES)
        return cliff_error_set(err, "reshape gives %d axes (at most %d)", ntop, CLIFF_MAX_AXES);
    int shape[CLIFF_MAX_AXES], inferred = -1;
    size_t explicit_count = 1;
    for (int i = 0; i < start; i++) shape[i] = b->shape[i];
    for (int i = 0; i < nnew; i++) {
        int64_t d = ns->dim[i];
        int at = start + i;
        if (d == 0) {
            if (at >= b->num_axes)
                return cliff_error_set(err, "new shape dim %d is 0, but bottom '%s' (%s) has no "
                                            "axis %d to copy",
                                       i, cliff_bname(l, 0), cliff_tensor_shape_str(b, s, sizeof s),
                                       at);
            shape[at] = b->shape[at];
        } else if (d == -1) {
            inferred = at;
            shape[at] = 1;
        } else {
            shape[at] = (int)d;
        }
        if (d != -1) explicit_count *= (size_t)shape[at];
    }
    for (int i = end; i < b->num_axes; i++) {
        shape[start + nnew + (i - end)] = b->shape[i];
        explicit_count *= (size_t)b->shape[i];
    }
    for (int i = 0; i < start; i++) explicit_count *= (size_t)b->shape[i];
    if (inferred >= 0) {
        if (explicit_count == 0 || b->count % explicit_count)
            return cliff_error_set(err, "bottom '%s' count (%zu) must be divisible by the product "
                                        "of the specified dimensions (%zu)",
                                   cliff_bname(l, 0), b->count, explicit_count);
        shape[inferred] = (int)(b->count / explicit_count);
        explicit_count *= (size_t)shape[inferred];
    }
    if (explicit_count != b->count)
        return cliff_error_set(err, "reshape of bottom '%s' (%s, %zu values) to %d axes gives "
                                    "%zu values; counts must match",
                               cliff_bname(l, 0), cliff_tensor_shape_str(b, s, sizeof s), b->count,
                               ntop, explicit_count);
    return cliff_tensor_reshape(top[0], ntop, shape, err);
}

const CliffLayerOps cliff_ops_Reshape = {
    .type = "Reshape",
    .min_bottoms = 1,
    .max_bottoms = 1,
    .min_tops = 1,
    .max_tops = 1,
    .setup = reshape_setup,
    .reshape = reshape_reshape,
    .forward = copy_forward,
    .backward = copy_backward,
};
