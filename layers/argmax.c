/* ArgMax (Caffe's ArgMaxLayer): the top_k largest entries, forward only.
 *
 * Without axis: each item n (first axis) is the flattened rest, dim = count/N;
 *   top is N x 1 x top_k of indices (at least 3 axes, extra axes 1), or
 *   N x 2 x top_k with out_max_val: [indices..., values...].
 * With axis: top is the bottom shape with axis -> top_k, holding the indices,
 *   or the values when out_max_val.
 * Order: value descending, ties by larger index first (Caffe sorts
 * (value, index) pairs with std::greater). */
#include <string.h>

#include "vision_util.h"

typedef struct ArgMax {
    int has_axis, axis, top_k, out_max_val;
    size_t num, dim, axis_dist;
    float *vals; /* dim: the candidates of one item */
    int *idx;    /* dim */
    size_t vals_cap, idx_cap;
} ArgMax;

static const Cliff__ArgMaxParameter argmax_defaults = CLIFF__ARG_MAX_PARAMETER__INIT;

static int argmax_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)top, (void)nt;
    const Cliff__ArgMaxParameter *ap =
        l->param && l->param->argmax_param ? l->param->argmax_param : &argmax_defaults;
    ArgMax *p = cliff_priv_alloc(l, sizeof(ArgMax), err);
    if (!p) return -1;
    if (ap->top_k < 1 || ap->top_k > (1u << 30))
        return cliff_error_set(err, "argmax top_k must be >= 1 (got %u)", ap->top_k);
    p->top_k = (int)ap->top_k;
    p->out_max_val = ap->out_max_val;
    p->has_axis = ap->has_axis;
    return 0;
}

static int argmax_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                          CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)nt;
    const Cliff__ArgMaxParameter *ap =
        l->param && l->param->argmax_param ? l->param->argmax_param : &argmax_defaults;
    ArgMax *p = l->priv;
    const CliffTensor *b = bottom[0];
    char s[128];
    int shape[CLIFF_MAX_AXES], n;
    if (b->num_axes < 1)
        return cliff_error_set(err, "bottom '%s' is a scalar; ArgMax needs at least one axis",
                               cliff_bname(l, 0));
    if (p->has_axis) {
        p->axis = cliff_canon_axis(l, b, 0, ap->axis, "argmax axis", err);
        if (p->axis < 0) return -1;
        p->dim = (size_t)b->shape[p->axis];
        p->axis_dist = cliff_tensor_count_range(b, p->axis + 1, b->num_axes);
        n = b->num_axes;
        memcpy(shape, b->shape, sizeof(int) * (size_t)n);
        shape[p->axis] = p->top_k;
    } else {
        p->dim = cliff_tensor_count_range(b, 1, b->num_axes);
        p->axis_dist = 1;
        n = b->num_axes < 3 ? 3 : b->num_axes;
        for (int i = 0; i < n; i++) shape[i] = 1;
        shape[0] = b->shape[0];
        shape[2] = p->top_k;
        if (p->out_max_val) shape[1] = 2;
    }
    if ((size_t)p->top_k > p->dim)
        return cliff_error_set(err, "top_k %d is larger than the %zu candidates per item of "
                                    "bottom '%s' (%s)",
                               p->top_k, p->dim, cliff_bname(l, 0),
                               cliff_tensor_shape_str(b, s, sizeof s));
    p->num = p->dim ? b->count / p->dim : 0;
    if (cliff_scratch_reserve(&p->vals, &p->vals_cap, p->dim, err) ||
        cliff_iscratch_reserve(&p->idx, &p->idx_cap, p->dim, err))
        return -1;
    return cliff_tensor_reshape(top[0], n, shape, err);
}

/* a ranks before b: larger value, then larger index */
static inline int ranks_before(float va, int ia, float vb, int ib)
{
    return va > vb || (va == vb && ia > ib);
}

static void argmax_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                           CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    ArgMax *p = l->priv;
    const float *x = bottom[0]->data;
    float *y = top[0]->data;
    const size_t dim = p->dim, dist = p->axis_dist;
    const int k = p->top_k;
    for (size_t i = 0; i < p->num; i++) {
        const size_t base = i / dist * dim * dist + i % dist;
        /* partial selection sort: the first k ranks, O(k * dim) */
        for (size_t j = 0; j < dim; j++) {
            p->vals[j] = x[base + j * dist];
            p->idx[j] = (int)j;
        }
        for (int r = 0; r < k; r++) {
            size_t best = (size_t)r;
            for (size_t j = (size_t)r + 1; j < dim; j++)
                if (ranks_before(p->vals[j], p->idx[j], p->vals[best], p->idx[best])) best = j;
            float tv = p->vals[r];
            int ti = p->idx[r];
            p->vals[r] = p->vals[best];
            p->idx[r] = p->idx[best];
            p->vals[best] = tv;
            p->idx[best] = ti;
        }
        for (int r = 0; r < k; r++) {
            if (p->has_axis) {
                y[(i / dist * (size_t)k + (size_t)r) * dist + i % dist] =
                    p->out_max_val ? p->vals[r] : (float)p->idx[r];
            } else if (p->out_max_val) {
                y[2 * i * (size_t)k + (size_t)r] = (float)p->idx[r];
                y[2 * i * (size_t)k + (size_t)k + (size_t)r] = p->vals[r];
            } else {
                y[i * (size_t)k + (size_t)r] = (float)p->idx[r];
            }
        }
    }
}

static void argmax_destroy(CliffLayer *l)
{
    ArgMax *p = l->priv;
    if (!p) return;
    free(p->vals);
    free(p->idx);
    free(p);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_ArgMax = {
    .type = "ArgMax",
    .min_bottoms = 1,
    .max_bottoms = 1,
    .min_tops = 1,
    .max_tops = 1,
    .setup = argmax_setup,
    .reshape = argmax_reshape,
    .forward = argmax_forward,
    .backward = NULL,
    .destroy = argmax_destroy,
};
