/* cliff_weights_read: name matching, shape checks and copying, for either
 * format (see snapshot.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/kernels/finite.h"
#include "snapshot.h"
#include "weights_src.h"

void cliff_weights_src_close(CliffWeightsSrc *src)
{
    if (src->ops) src->ops->close(src->ctx);
    src->ops = NULL;
}

/* Index into net->params of layer l's parameter p when l owns it, else -1. */
static int owner_index(const CliffNet *net, int l, int p)
{
    for (int i = 0; i < net->nparams; i++)
        if (net->params[i].layer == l && net->params[i].index == p) return i;
    return -1;
}

typedef struct ExtraCheck {
    const CliffNet *net;
    const char *bad;
    char name[512];
} ExtraCheck;

static int check_extra(void *arg, const char *layer)
{
    ExtraCheck *x = arg;
    int k = cliff_net_layer_index(x->net, layer);
    if (k < 0 || x->net->layers[k].layer.nparams == 0) {
        snprintf(x->name, sizeof x->name, "%s", layer);
        x->bad = x->name;
        return 1;
    }
    return 0;
}

int cliff_weights_read(const CliffNet *net, const char *path, int strict, float *slab,
                       unsigned char *found, CliffError *err)
{
    CliffWeightsSrc src;
    int rc = cliff_file_is_hdf5(path) ? cliff_weights_src_h5(&src, path, err)
                                      : cliff_weights_src_proto(&src, path, err);
    if (rc) return -1;
    rc = -1;
    for (int l = 0; l < net->nlayers; l++) {
        const CliffNetLayer *nl = &net->layers[l];
        const CliffLayer *L = &nl->layer;
        if (nl->is_split || L->nparams == 0) continue;
        int nb = src.ops->nblobs(src.ctx, L->name);
        if (nb < 0) {
            if (strict) {
                cliff_error_set(err, "'%s' has no weights for layer '%s': it was written for "
                                "a different net", path, L->name);
                goto out;
            }
            continue;
        }
        if (nb > L->nparams) {
            cliff_error_set(err, "'%s': layer '%s' has %d parameter blobs in the file but %d "
                            "in the net", path, L->name, nb, L->nparams);
            goto out;
        }
        for (int p = 0; p < L->nparams; p++) {
            int o = owner_index(net, l, p);
            if (!src.ops->has_blob(src.ctx, L->name, p)) {
                if (o < 0) continue; /* a sharer: its owner carries the values */
                cliff_error_set(err, "'%s': layer '%s' lacks parameter blob %d (the net has %d)",
                                path, L->name, p, L->nparams);
                goto out;
            }
            char fshape[256], nshape[256];
            if (!src.ops->shape_matches(src.ctx, L->name, p, &L->params[p], fshape, sizeof fshape)) {
                const char *pn = L->ops->param_name ? L->ops->param_name(L, p) : NULL;
                cliff_error_set(err, "'%s': layer '%s' parameter %d%s%s%s has shape %s in the "
                                "file but %s in the net", path, L->name, p, pn ? " (" : "",
                                pn ? pn : "", pn ? ")" : "", fshape,
                                cliff_tensor_shape_str(&L->params[p], nshape, sizeof nshape));
                goto out;
            }
            /* A sharer's stored copy lands in the owner's region, as in Caffe. */
            size_t off = (size_t)(L->params[p].data - net->param_slab);
            if (src.ops->read(src.ctx, L->name, p, slab + off, L->params[p].count, err)) goto out;
            if (!cliff_all_finite(slab + off, L->params[p].count)) {
                cliff_error_set(err, "'%s': layer '%s' parameter %d holds NaN or inf", path,
                                L->name, p);
                goto out;
            }
        }
        if (found) found[l] = 1;
    }
    if (strict) {
        ExtraCheck x = {net, NULL, ""};
        src.ops->each_layer(src.ctx, check_extra, &x);
        if (x.bad) {
            cliff_error_set(err, "'%s' holds weights for layer '%s', which the net does not "
                            "have (parameters): it was written for a different net",
                            path, x.bad);
            goto out;
        }
    }
    rc = 0;
out:
    cliff_weights_src_close(&src);
    return rc;
}
