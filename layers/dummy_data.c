/* DummyData: tops filled by fillers. Shapes from `shape` (one for all tops or
 * one per top) or the legacy num/channels/height/width lists; fillers from
 * data_filler (none: constant 0; one: for every top; or one per top). Constant
 * fillers fill once; random ones refill at every forward, as in Caffe. */
#include <string.h>

#include "blob_shape.h"
#include "filler.h"
#include "layer.h"

static const Cliff__FillerParameter *filler_for(const Cliff__DummyDataParameter *p, int t)
{
    if (!p || p->n_data_filler == 0) return NULL;
    return p->data_filler[p->n_data_filler == 1 ? 0 : t];
}

static int is_constant(const Cliff__FillerParameter *f)
{
    return !f || !f->type || strcmp(f->type, "constant") == 0;
}

static int dummy_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                       int nt, CliffError *err)
{
    (void)bottom;
    (void)nb;
    const Cliff__DummyDataParameter *p = l->param->dummy_data_param;
    if (!p) return cliff_error_set(err, "dummy_data_param is required");
    size_t nf = p->n_data_filler;
    if (nf != 0 && nf != 1 && nf != (size_t)nt)
        return cliff_error_set(err, "%zu data_filler for %d tops (give 0, 1 or %d)", nf, nt, nt);
    int legacy = p->n_num || p->n_channels || p->n_height || p->n_width;
    if (legacy && p->n_shape)
        return cliff_error_set(err, "give either shape or num/channels/height/width, not both");
    if (legacy) {
        size_t n = p->n_num;
        if ((n != 1 && n != (size_t)nt) || p->n_channels != n || p->n_height != n ||
            p->n_width != n)
            return cliff_error_set(err, "num, channels, height and width must each have 1 or "
                                   "%d values", nt);
        for (int t = 0; t < nt; t++) {
            size_t k = n == 1 ? 0 : (size_t)t;
            int dims[4];
            if (cliff_param_int(p->num[k], "dummy_data_param.num", &dims[0], err) ||
                cliff_param_int(p->channels[k], "dummy_data_param.channels", &dims[1], err) ||
                cliff_param_int(p->height[k], "dummy_data_param.height", &dims[2], err) ||
                cliff_param_int(p->width[k], "dummy_data_param.width", &dims[3], err))
                return -1;
            if (cliff_tensor_reshape(top[t], 4, dims, err)) return -1;
        }
    } else {
        size_t n = p->n_shape;
        if (n != 1 && n != (size_t)nt)
            return cliff_error_set(err, "%zu shapes for %d tops (give 1 or %d)", n, nt, nt);
        for (int t = 0; t < nt; t++)
            if (cliff_tensor_reshape_blob_shape(top[t], p->shape[n == 1 ? 0 : t], err)) return -1;
    }
    for (int t = 0; t < nt; t++) {
        const Cliff__FillerParameter *f = filler_for(p, t);
        if (cliff_filler_validate(f, top[t]->num_axes, top[t]->shape, err) ||
            cliff_filler_fill(f, 0.0f, top[t]->data, top[t]->num_axes, top[t]->shape, l->rng, err))
            return -1;
    }
    return 0;
}

static void dummy_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                          CliffTensor *const *top, int nt)
{
    (void)bottom;
    (void)nb;
    const Cliff__DummyDataParameter *p = l->param->dummy_data_param;
    for (int t = 0; t < nt; t++) {
        const Cliff__FillerParameter *f = filler_for(p, t);
        if (!is_constant(f))
            cliff_filler_fill(f, 0.0f, top[t]->data, top[t]->num_axes, top[t]->shape, l->rng,
                              NULL);
    }
}

const CliffLayerOps cliff_ops_DummyData = {
    .type = "DummyData",
    .min_bottoms = 0, .max_bottoms = 0,
    .min_tops = 1, .max_tops = CLIFF_ANY,
    .setup = dummy_setup,
    .forward = dummy_forward,
};
