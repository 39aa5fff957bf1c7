/* Reduction (Caffe's ReductionLayer): reduces all axes from `axis` on.
 * bottom viewed as num x dim (num = product of axes before `axis`); top has
 * the shape of those leading axes (a scalar for axis 0).
 *   SUM   y = c * sum x           dx = c * dy
 *   ASUM  y = c * sum |x|         dx = c * sign(x) * dy
 *   SUMSQ y = c * sum x^2         dx = 2c * x * dy
 *   MEAN  y = c/dim * sum x       dx = c/dim * dy
 * (c = coeff). Sums accumulate in double. */
#include <math.h>

#include "vision_util.h"

typedef struct Reduction {
    int op, axis;
    float coeff;
    size_t num, dim;
} Reduction;

static const Cliff__ReductionParameter reduction_defaults = CLIFF__REDUCTION_PARAMETER__INIT;

static int reduction_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                           CliffTensor *const *top, int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)top, (void)nt;
    const Cliff__ReductionParameter *rp =
        l->param && l->param->reduction_param ? l->param->reduction_param : &reduction_defaults;
    Reduction *p = cliff_priv_alloc(l, sizeof(Reduction), err);
    if (!p) return -1;
    p->op = rp->operation;
    if (p->op < CLIFF__REDUCTION_PARAMETER__REDUCTION_OP__SUM ||
        p->op > CLIFF__REDUCTION_PARAMETER__REDUCTION_OP__MEAN)
        return cliff_error_set(err, "unknown reduction operation %d", p->op);
    p->coeff = rp->coeff;
    return 0;
}

static int reduction_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                             CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)nt;
    const Cliff__ReductionParameter *rp =
        l->param && l->param->reduction_param ? l->param->reduction_param : &reduction_defaults;
    Reduction *p = l->priv;
    const CliffTensor *b = bottom[0];
    if (b->num_axes == 0 && (rp->axis == 0 || rp->axis == -1)) {
        p->axis = 0; /* a scalar reduces to itself */
    } else {
        p->axis = cliff_canon_axis(l, b, 0, rp->axis, "reduction axis", err);
        if (p->axis < 0) return -1;
    }
    p->num = cliff_tensor_count_range(b, 0, p->axis);
    p->dim = cliff_tensor_count_range(b, p->axis, b->num_axes);
    return cliff_tensor_reshape(top[0], p->axis, b->shape, err);
}

static void reduction_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                              CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    const Reduction *p = l->priv;
    const float *x = bottom[0]->data;
    float *y = top[0]->data;
    for (size_t n = 0; n < p->num; n++) {
        const float *r = x + n * p->dim;
        double acc = 0;
        switch (p->op) {
        case CLIFF__REDUCTION_PARAMETER__REDUCTION_OP__ASUM:
            for (size_t i = 0; i < p->dim; i++) acc += fabsf(r[i]);
            break;
        case CLIFF__REDUCTION_PARAMETER__REDUCTION_OP__SUMSQ:
            for (size_t i = 0; i < p->dim; i++) acc += (double)r[i] * r[i];
            break;
        default: /* SUM, MEAN */
            for (size_t i = 0; i < p->dim; i++) acc += r[i];
            break;
        }
        if (p->op == CLIFF__REDUCTION_PARAMETER__REDUCTION_OP__MEAN && p->dim) acc /= (double)p->dim;
        y[n] = (float)(acc * p->coeff);
    }
}

static void reduction_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                               const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt, (void)nb;
    if (!propagate_down[0]) return;
    const Reduction *p = l->priv;
    const float *x = bottom[0]->data, *dy = top[0]->diff;
    float *dx = bottom[0]->diff;
    float c = p->coeff;
    if (p->op == CLIFF__REDUCTION_PARAMETER__REDUCTION_OP__MEAN && p->dim) c /= (float)p->dim;
    for (size_t n = 0; n < p->num; n++) {
        const float g = c * dy[n];
        const float *r = x + n * p->dim;
        float *d = dx + n * p->dim;
        switch (p->op) {
        case CLIFF__REDUCTION_PARAMETER__REDUCTION_OP__ASUM:
            for (size_t i = 0; i < p->dim; i++)
                d[i] = g * (float)((r[i] > 0) - (r[i] < 0));
            break;
        case CLIFF__REDUCTION_PARAMETER__REDUCTION_OP__SUMSQ:
            for (size_t i = 0; i < p->dim; i++) d[i] = 2.0f * g * r[i];
            break;
        default:
            for (size_t i = 0; i < p->dim; i++) d[i] = g;
            break;
        }
    }
}

static void reduction_destroy(CliffLayer *l)
{
    free(l->priv);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_Reduction = {
    .type = "Reduction",
    .min_bottoms = 1,
    .max_bottoms = 1,
    .min_tops = 1,
    .max_tops = 1,
    .setup = reduction_setup,
    .reshape = reduction_reshape,
    .forward = reduction_forward,
    .backward = reduction_backward,
    .destroy = reduction_destroy,
};
