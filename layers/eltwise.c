/* Eltwise (Caffe's EltwiseLayer) over two or more bottoms of one shape.
 *   SUM:  top = sum_i coeff_i * bottom_i (coeff: none, or one per bottom)
 *         dbottom_i = coeff_i * dtop
 *   PROD: top = prod_i bottom_i
 *         dbottom_i = dtop * prod_{j != i} bottom_j   (stable_prod_grad, default)
 *                   = dtop * top / bottom_i            (stable_prod_grad: false)
 *   MAX:  top = max_i bottom_i; ties between bottoms 0 and 1 go to 1, later
 *         bottoms win only when strictly larger (Caffe's order); the winner's
 *         index is kept and dbottom_i = dtop where bottom i won, else 0.
 */
#include <string.h>

#include "vision_util.h"

typedef struct Eltwise {
    int op;
    int stable;
    float *coeff; /* per bottom */
    int *mask;    /* MAX: winner per element */
    size_t mask_cap;
} Eltwise;

static const Cliff__EltwiseParameter eltwise_defaults = CLIFF__ELTWISE_PARAMETER__INIT;

static int eltwise_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nt;
    const Cliff__EltwiseParameter *ep =
        l->param && l->param->eltwise_param ? l->param->eltwise_param : &eltwise_defaults;
    Eltwise *p = cliff_priv_alloc(l, sizeof(Eltwise), err);
    if (!p) return -1;
    p->op = ep->operation;
    p->stable = ep->stable_prod_grad;
    if (p->op != CLIFF__ELTWISE_PARAMETER__ELTWISE_OP__SUM &&
        p->op != CLIFF__ELTWISE_PARAMETER__ELTWISE_OP__PROD &&
        p->op != CLIFF__ELTWISE_PARAMETER__ELTWISE_OP__MAX)
        return cliff_error_set(err, "unknown eltwise operation %d", p->op);
    if (ep->n_coeff && ep->n_coeff != (size_t)nb)
        return cliff_error_set(err, "Eltwise takes one coefficient per bottom blob: %zu coeff "
                                    "values for %d bottoms",
                               ep->n_coeff, nb);
    if (ep->n_coeff && p->op != CLIFF__ELTWISE_PARAMETER__ELTWISE_OP__SUM)
        return cliff_error_set(err, "Eltwise takes coefficients only for operation SUM");
    for (int i = 0; i < nb; i++)
        if (top[0] == bottom[i])
            return cliff_error_set(err, "Eltwise cannot run in place (top '%s' is bottom %d)",
                                   cliff_tname(l, 0), i);
    p->coeff = malloc((size_t)nb * sizeof *p->coeff);
    if (!p->coeff) return cliff_error_set(err, "out of memory");
    for (int i = 0; i < nb; i++) p->coeff[i] = ep->n_coeff ? ep->coeff[i] : 1.0f;
    return 0;
}

static int eltwise_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                           CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nt;
    Eltwise *p = l->priv;
    char s0[128], s1[128];
    for (int i = 1; i < nb; i++)
        if (!cliff_tensor_same_shape(bottom[i], bottom[0]))
            return cliff_error_set(err, "Eltwise bottoms must have the same shape: '%s' is %s, "
                                        "'%s' is %s",
                                   cliff_bname(l, 0),
                                   cliff_tensor_shape_str(bottom[0], s0, sizeof s0),
                                   cliff_bname(l, i),
                                   cliff_tensor_shape_str(bottom[i], s1, sizeof s1));
    if (cliff_tensor_reshape_like(top[0], bottom[0], err)) return -1;
    if (p->op == CLIFF__ELTWISE_PARAMETER__ELTWISE_OP__MAX &&
        cliff_iscratch_reserve(&p->mask, &p->mask_cap, bottom[0]->count, err))
        return -1;
    return 0;
}

static void eltwise_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                            CliffTensor *const *top, int nt)
{
    (void)nt;
    const Eltwise *p = l->priv;
    const size_t n = bottom[0]->count;
    float *y = top[0]->data;
    switch (p->op) {
    case CLIFF__ELTWISE_PARAMETER__ELTWISE_OP__PROD:
        for (size_t j = 0; j < n; j++) y[j] = bottom[0]->data[j] * bottom[1]->data[j];
        for (int i = 2; i < nb; i++)
            for (size_t j = 0; j < n; j++) y[j] *= bottom[i]->data[j];
        break;
    case CLIFF__ELTWISE_PARAMETER__ELTWISE_OP__SUM: {
        const float *b0 = bottom[0]->data, c0 = p->coeff[0];
        for (size_t j = 0; j < n; j++) y[j] = c0 * b0[j];
        for (int i = 1; i < nb; i++) {
            const float *bi = bottom[i]->data, ci = p->coeff[i];
            for (size_t j = 0; j < n; j++) y[j] += ci * bi[j];
        }
        break;
    }
    default: { /* MAX */
        const float *a = bottom[0]->data, *b = bottom[1]->data;
        int *mask = p->mask;
        for (size_t j = 0; j < n; j++) {
            if (a[j] > b[j]) {
                y[j] = a[j];
                mask[j] = 0;
            } else {
                y[j] = b[j];
                mask[j] = 1;
            }
        }
        for (int i = 2; i < nb; i++) {
            const float *c = bottom[i]->data;
            for (size_t j = 0; j < n; j++)
                if (c[j] > y[j]) {
                    y[j] = c[j];
                    mask[j] = i;
                }
        }
        break;
    }
    }
}

static void eltwise_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                             const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt;
    const Eltwise *p = l->priv;
    const size_t n = top[0]->count;
    const float *dy = top[0]->diff, *y = top[0]->data;
    for (int i = 0; i < nb; i++) {
        if (!propagate_down[i]) continue;
        float *dx = bottom[i]->diff;
        switch (p->op) {
        case CLIFF__ELTWISE_PARAMETER__ELTWISE_OP__PROD:
            if (p->stable) {
                int first = 1;
                for (int k = 0; k < nb; k++) {
                    if (k == i) continue;
                    const float *o = bottom[k]->data;
                    if (first) {
                        memcpy(dx, o, n * sizeof *dx);
                        first = 0;
                    } else {
                        for (size_t j = 0; j < n; j++) dx[j] *= o[j];
                    }
                }
                for (size_t j = 0; j < n; j++) dx[j] *= dy[j];
            } else {
                const float *x = bottom[i]->data;
                for (size_t j = 0; j < n; j++) dx[j] = dy[j] * y[j] / x[j];
            }
            break;
        case CLIFF__ELTWISE_PARAMETER__ELTWISE_OP__SUM:
            for (size_t j = 0; j < n; j++) dx[j] = p->coeff[i] * dy[j];
            break;
        default:
            for (size_t j = 0; j < n; j++) dx[j] = p->mask[j] == i ? dy[j] : 0.0f;
            break;
        }
    }
}

static void eltwise_destroy(CliffLayer *l)
{
    Eltwise *p = l->priv;
    if (!p) return;
    free(p->coeff);
    free(p->mask);
    free(p);
    l->priv = NULL;
}

static size_t eltwise_workspace(const CliffLayer *l)
{
    const Eltwise *p = l->priv;
    return p ? p->mask_cap * sizeof(int) : 0;
}

const CliffLayerOps cliff_ops_Eltwise = {
    .type = "Eltwise",
    .min_bottoms = 2,
    .max_bottoms = CLIFF_ANY,
    .min_tops = 1,
    .max_tops = 1,
    .setup = eltwise_setup,
    .reshape = eltwise_reshape,
    .forward = eltwise_forward,
    .backward = eltwise_backward,
    .destroy = eltwise_destroy,
    .workspace_bytes = eltwise_workspace,
};
