/* Scale and Bias (Caffe's ScaleLayer and BiasLayer): multiply by / add a
 * factor broadcast over the axes of bottom 0 starting at `axis`.
 *
 * bottom 0: x of any shape; top: same shape (in place allowed).
 * The factor f is either a learned parameter (one bottom) whose shape is
 * x.shape[axis .. axis + num_axes) (num_axes -1: to the end), or bottom 1
 * (two bottoms), whose shape must equal x.shape[axis .. axis + its axes).
 * A scalar factor (0 axes) broadcasts over everything. Viewing x as
 * outer x dim x inner, with dim = count of f:
 *   Scale: y[n,d,i] = x[n,d,i] f[d] (+ b[d] when bias_term)
 *          df[d] = sum_{n,i} dy x,  db[d] = sum_{n,i} dy,  dx = dy f[d]
 *   Bias:  y[n,d,i] = x[n,d,i] + f[d];  df[d] = sum_{n,i} dy,  dx = dy
 * Fillers: Scale's factor defaults to constant 1 (scale_param.filler), its
 * bias to constant 0 (bias_filler); Bias's factor to constant 0 (bias_param.filler).
 * Params (Caffe's order): Scale one bottom: 0 scale, 1 bias; Scale two
 * bottoms: 0 bias; Bias one bottom: 0 bias. Parameter gradients accumulate,
 * bottom-1 gradients overwrite.
 * In place, Scale keeps a copy of x (sized in reshape) for df.
 */
#include <stdlib.h>
#include <string.h>

#include "filler.h"
#include "layer.h"

typedef struct ScaleBiasState {
    int is_scale;
    int axis_param, num_axes_param;
    int bias_idx;         /* index of the bias parameter, -1 without one */
    size_t outer, dim, inner;
    CliffTensor saved;    /* Scale in place: x */
} ScaleBiasState;

static int is_in_place(CliffTensor *const *bottom, CliffTensor *const *top)
{
    return top[0] == bottom[0] || (top[0]->data && top[0]->data == bottom[0]->data);
}

/* The learned factor's shape for one bottom: x.shape[axis .. axis + num_axes). */
static int factor_shape(const CliffTensor *x, int axis_param, int num_axes, int *naxes,
                        int *shape, CliffError *err)
{
    char buf[128];
    int axis = cliff_tensor_axis(x, axis_param, err);
    if (axis < 0) return cliff_error_prefix(err, "axis: ");
    if (num_axes < -1)
        return cliff_error_set(err, "num_axes must be non-negative, or -1 to extend to the end "
                               "of bottom[0] (got %d)", num_axes);
    if (num_axes >= 0 && x->num_axes < axis + num_axes)
        return cliff_error_set(err, "the factor's shape (%d axes from axis %d) extends past "
                               "bottom[0]'s shape %s", num_axes, axis,
                               cliff_tensor_shape_str(x, buf, sizeof buf));
    *naxes = num_axes < 0 ? x->num_axes - axis : num_axes;
    for (int i = 0; i < *naxes; i++) shape[i] = x->shape[axis + i];
    return 0;
}

static int sb_setup_common(CliffLayer *l, int is_scale, CliffTensor *const *bottom, int nb,
                           CliffError *err)
{
    const Cliff__ScaleParameter *sp = l->param->scale_param;
    const Cliff__BiasParameter *bp = l->param->bias_param;
    int axis_param = is_scale ? (sp ? sp->axis : 1) : (bp ? bp->axis : 1);
    int num_axes = is_scale ? (sp ? sp->num_axes : 1) : (bp ? bp->num_axes : 1);
    int naxes = 0, shape[CLIFF_MAX_AXES];
    int bias_idx = -1;
    if (nb == 1 || (is_scale && sp && sp->bias_term)) {
        if (nb == 2) num_axes = bottom[1]->num_axes; /* Caffe: bias shaped like bottom 1 */
        if (factor_shape(bottom[0], axis_param, num_axes, &naxes, shape, err)) return -1;
    }
    if (nb == 1) {
        const Cliff__FillerParameter *f = is_scale ? (sp ? sp->filler : NULL)
                                                   : (bp ? bp->filler : NULL);
        if (cliff_filler_validate(f, naxes, shape, err) ||
            cliff_layer_declare_param(l, naxes, shape, f, is_scale ? 1.0f : 0.0f, 1, err))
            return -1;
        if (!is_scale) bias_idx = 0;
    }
    if (is_scale && sp && sp->bias_term) {
        bias_idx = l->nparams;
        if (cliff_filler_validate(sp->bias_filler, naxes, shape, err) ||
            cliff_layer_declare_param(l, naxes, shape, sp->bias_filler, 0.0f, 1, err))
            return -1;
    }
    ScaleBiasState *s = calloc(1, sizeof *s);
    if (!s) return cliff_error_set(err, "out of memory");
    s->is_scale = is_scale;
    s->axis_param = axis_param;
    s->num_axes_param = num_axes;
    s->bias_idx = bias_idx;
    cliff_tensor_init(&s->saved);
    l->priv = s;
    return 0;
}

static int scale_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                       int nt, CliffError *err)
{
    (void)top, (void)nt;
    return sb_setup_common(l, 1, bottom, nb, err);
}

static int bias_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, CliffError *err)
{
    (void)top, (void)nt;
    return sb_setup_common(l, 0, bottom, nb, err);
}

/* The factor: bottom 1 when given, else the first parameter. */
static const CliffTensor *factor_of(const CliffLayer *l, CliffTensor *const *bottom, int nb)
{
    return nb > 1 ? bottom[1] : &l->params[0];
}

static int sb_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, CliffError *err)
{
    (void)nt;
    ScaleBiasState *s = l->priv;
    const CliffTensor *x = bottom[0], *f = factor_of(l, bottom, nb);
    const char *what = s->is_scale ? "scale" : "bias";
    char a[128], b[128];
    int axis = 0;
    if (f->num_axes > 0) {
        axis = cliff_tensor_axis(x, s->axis_param, err);
        if (axis < 0) return cliff_error_prefix(err, "axis: ");
    }
    int ok = x->num_axes >= axis + f->num_axes;
    for (int i = 0; ok && i < f->num_axes; i++) ok = x->shape[axis + i] == f->shape[i];
    if (!ok)
        return cliff_error_set(err, "%s %s does not match bottom[0] %s from axis %d", what,
                               cliff_tensor_shape_str(f, a, sizeof a),
                               cliff_tensor_shape_str(x, b, sizeof b), axis);
    s->outer = cliff_tensor_count_range(x, 0, axis);
    s->dim = f->count;
    s->inner = cliff_tensor_count_range(x, axis + f->num_axes, x->num_axes);
    if (s->bias_idx >= 0 && l->params[s->bias_idx].count != s->dim)
        return cliff_error_set(err, "bias has %zu elements, the scale %zu",
                               l->params[s->bias_idx].count, s->dim);
    if (top[0] != x && cliff_tensor_reshape_like(top[0], x, err)) return -1;
    if (s->is_scale && is_in_place(bottom, top) && cliff_tensor_reshape_like(&s->saved, x, err))
        return -1;
    return 0;
}

static void sb_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt)
{
    (void)nt;
    ScaleBiasState *s = l->priv;
    const float *x = bottom[0]->data;
    float *y = top[0]->data;
    const size_t outer = s->outer, dim = s->dim, inner = s->inner;
    if (s->is_scale) {
        const float *f = factor_of(l, bottom, nb)->data;
        if (is_in_place(bottom, top)) memcpy(s->saved.data, x, bottom[0]->count * sizeof(float));
        for (size_t n = 0; n < outer; n++)
            for (size_t d = 0; d < dim; d++) {
                const size_t off = (n * dim + d) * inner;
                const float v = f[d];
                for (size_t i = 0; i < inner; i++) y[off + i] = x[off + i] * v;
            }
        x = y; /* the bias, if any, adds in place */
    }
    const float *b = s->bias_idx >= 0 ? l->params[s->bias_idx].data
                                       : (!s->is_scale ? factor_of(l, bottom, nb)->data : NULL);
    if (!b) return;
    for (size_t n = 0; n < outer; n++)
        for (size_t d = 0; d < dim; d++) {
            const size_t off = (n * dim + d) * inner;
            const float v = b[d];
            for (size_t i = 0; i < inner; i++) y[off + i] = x[off + i] + v;
        }
}

/* out[d] (+)= sum over n, i of dy[n,d,i] * (x ? x[n,d,i] : 1). */
static void reduce_outer_inner(const float *dy, const float *x, size_t outer, size_t dim,
                               size_t inner, float *out, int accumulate)
{
    for (size_t d = 0; d < dim; d++) {
        double acc = 0;
        for (size_t n = 0; n < outer; n++) {
            const size_t off = (n * dim + d) * inner;
            if (x)
                for (size_t i = 0; i < inner; i++) acc += (double)dy[off + i] * x[off + i];
            else
                for (size_t i = 0; i < inner; i++) acc += dy[off + i];
        }
        out[d] = accumulate ? out[d] + (float)acc : (float)acc;
    }
}

static void sb_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                        const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt;
    ScaleBiasState *s = l->priv;
    const float *dy = top[0]->diff;
    const size_t outer = s->outer, dim = s->dim, inner = s->inner;
    /* Factor gradients first: in place, dx overwrites dy. */
    if (s->bias_idx >= 0 && l->param_need_grad[s->bias_idx])
        reduce_outer_inner(dy, NULL, outer, dim, inner, l->params[s->bias_idx].diff, 1);
    if (!s->is_scale) {
        if (nb > 1 && propagate_down[1])
            reduce_outer_inner(dy, NULL, outer, dim, inner, bottom[1]->diff, 0);
        if (propagate_down[0] && bottom[0]->diff != dy)
            memcpy(bottom[0]->diff, dy, bottom[0]->count * sizeof(float));
        return;
    }
    const float *x = is_in_place(bottom, top) ? s->saved.data : bottom[0]->data;
    if (nb > 1 && propagate_down[1])
        reduce_outer_inner(dy, x, outer, dim, inner, bottom[1]->diff, 0);
    else if (nb == 1 && l->param_need_grad[0])
        reduce_outer_inner(dy, x, outer, dim, inner, l->params[0].diff, 1);
    if (propagate_down[0]) {
        const float *f = factor_of(l, bottom, nb)->data;
        float *dx = bottom[0]->diff;
        for (size_t n = 0; n < outer; n++)
            for (size_t d = 0; d < dim; d++) {
                const size_t off = (n * dim + d) * inner;
                const float v = f[d];
                for (size_t i = 0; i < inner; i++) dx[off + i] = dy[off + i] * v;
            }
    }
}

static void sb_destroy(CliffLayer *l)
{
    ScaleBiasState *s = l->priv;
    if (!s) return;
    cliff_tensor_free(&s->saved);
    free(s);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_Scale = {
    .type = "Scale",
    .min_bottoms = 1, .max_bottoms = 2, .min_tops = 1, .max_tops = 1,
    .allow_in_place = 1,
    .setup = scale_setup,
    .reshape = sb_reshape,
    .forward = sb_forward,
    .backward = sb_backward,
    .destroy = sb_destroy,
};

const CliffLayerOps cliff_ops_Bias = {
    .type = "Bias",
    .min_bottoms = 1, .max_bottoms = 2, .min_tops = 1, .max_tops = 1,
    .allow_in_place = 1,
    .setup = bias_setup,
    .reshape = sb_reshape,
    .forward = sb_forward,
    .backward = sb_backward,
    .destroy = sb_destroy,
};
