/* Filter (Caffe's FilterLayer): keeps the items (first-axis entries) whose
 * selector is non-zero. Bottoms: k data blobs, then the selector (N values,
 * shape N or N x 1 x ...). Tops: the k filtered blobs, in bottom order.
 *
 * The top size depends on the selector's values, so the selection is taken in
 * reshape: the net must reshape before every forward (as Caffe does). backward
 * puts each top row's gradient back at its item and zeros the others; the
 * selector's gradient is zero (written when asked for). */
#include <string.h>

#include "vision_util.h"

typedef struct Filter {
    int *keep; /* indices of the selected items */
    size_t keep_cap;
    int nkeep;
} Filter;

static int filter_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt, CliffError *err)
{
    (void)bottom, (void)top;
    if (nb < 2 || nt != nb - 1)
        return cliff_error_set(err, "Filter needs data bottoms plus a selector bottom and one top "
                                    "per data bottom (%d bottoms, %d tops)",
                               nb, nt);
    return cliff_priv_alloc(l, sizeof(Filter), err) ? 0 : -1;
}

static int filter_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                          CliffTensor *const *top, int nt, CliffError *err)
{
    Filter *p = l->priv;
    const CliffTensor *sel = bottom[nb - 1];
    char s[128];
    if (sel->num_axes < 1)
        return cliff_error_set(err, "selector '%s' is a scalar", cliff_bname(l, nb - 1));
    for (int i = 1; i < sel->num_axes; i++)
        if (sel->shape[i] != 1)
            return cliff_error_set(err, "selector '%s' has shape %s; its dimensions after the "
                                        "first must be 1",
                                   cliff_bname(l, nb - 1), cliff_tensor_shape_str(sel, s, sizeof s));
    const int N = sel->shape[0];
    for (int i = 0; i < nb - 1; i++)
        if (bottom[i]->num_axes < 1 || bottom[i]->shape[0] != N)
            return cliff_error_set(err, "bottom '%s' (%s) must have the selector's first "
                                        "dimension %d",
                                   cliff_bname(l, i),
                                   cliff_tensor_shape_str(bottom[i], s, sizeof s), N);
    if (cliff_iscratch_reserve(&p->keep, &p->keep_cap, (size_t)N, err)) return -1;
    p->nkeep = 0;
    for (int n = 0; n < N; n++)
        if (sel->data[n] != 0.0f) p->keep[p->nkeep++] = n;
    for (int t = 0; t < nt; t++) {
        int shape[CLIFF_MAX_AXES];
        memcpy(shape, bottom[t]->shape, sizeof(int) * (size_t)bottom[t]->num_axes);
        shape[0] = p->nkeep;
        if (cliff_tensor_reshape(top[t], bottom[t]->num_axes, shape, err)) return -1;
    }
    return 0;
}

static void filter_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                           CliffTensor *const *top, int nt)
{
    (void)nb;
    const Filter *p = l->priv;
    for (int t = 0; t < nt; t++) {
        const size_t dim = cliff_tensor_count_range(bottom[t], 1, bottom[t]->num_axes);
        for (int k = 0; k < p->nkeep; k++)
            memcpy(top[t]->data + (size_t)k * dim, bottom[t]->data + (size_t)p->keep[k] * dim,
                   dim * sizeof(float));
    }
}

static void filter_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                            const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    const Filter *p = l->priv;
    if (propagate_down[nb - 1]) /* the selector: zero gradient */
        memset(bottom[nb - 1]->diff, 0, bottom[nb - 1]->count * sizeof(float));
    for (int t = 0; t < nt; t++) {
        if (!propagate_down[t]) continue;
        const size_t dim = cliff_tensor_count_range(bottom[t], 1, bottom[t]->num_axes);
        memset(bottom[t]->diff, 0, bottom[t]->count * sizeof(float));
        for (int k = 0; k < p->nkeep; k++)
            memcpy(bottom[t]->diff + (size_t)p->keep[k] * dim, top[t]->diff + (size_t)k * dim,
                   dim * sizeof(float));
    }
}

static void filter_destroy(CliffLayer *l)
{
    Filter *p = l->priv;
    if (!p) return;
    free(p->keep);
    free(p);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_Filter = {
    .type = "Filter",
    .reshape_every_forward = 1,
    .min_bottoms = 2,
    .max_bottoms = CLIFF_ANY,
    .min_tops = 1,
    .max_tops = CLIFF_ANY,
    .setup = filter_setup,
    .reshape = filter_reshape,
    .forward = filter_forward,
    .backward = filter_backward,
    .destroy = filter_destroy,
};
