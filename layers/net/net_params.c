/* Pass 3a of the net build: parameter slabs, sharing by ParamSpec.name,
 * fillers; and sharing the parameters of another net. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/filler.h"
#include "net_impl.h"

/* "20x1x5x5" into buf. */
static const char *decl_shape_str(const CliffParamDecl *d, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (int a = 0; a < d->num_axes && used < len; a++)
        used += (size_t)snprintf(buf + used, len - used, a ? "x%d" : "%d", d->shape[a]);
    return buf;
}

int cliff_net_setup_params(CliffNet *net, const CliffSrcMap *map, CliffError *err)
{
    int total = 0;
    for (int i = 0; i < net->nlayers; i++) total += net->layers[i].layer.nparams;
    net->params = cliff_net_calloc((size_t)total + 1, sizeof *net->params);
    /* owner[i][p]: index into net->params of layer i's parameter p. */
    int *owner = cliff_net_calloc((size_t)total + 1, sizeof *owner);
    if (!net->params || !owner) {
        free(owner);
        return cliff_error_set(err, "out of memory");
    }
    int k = 0, rc = -1;
    for (int i = 0; i < net->nlayers; i++) {
        CliffLayer *l = &net->layers[i].layer;
        const Cliff__LayerParameter *lp = l->param;
        for (int p = 0; p < l->nparams; p++, k++) {
            const Cliff__ParamSpec *spec = p < (int)lp->n_param ? lp->param[p] : NULL;
            const CliffParamDecl *d = &l->decl[p];
            float lr = spec && spec->has_lr_mult ? spec->lr_mult : 1.0f;
            float decay = spec && spec->has_decay_mult ? spec->decay_mult : 1.0f;
            if (!d->learnable) lr = decay = 0;
            l->param_need_grad[p] = lr != 0;
            size_t count = 1;
            for (int a = 0; a < d->num_axes; a++) count *= (size_t)d->shape[a];
            const char *pname = spec && spec->name && spec->name[0] ? spec->name : NULL;
            int shared = -1;
            if (pname)
                for (int q = 0; q < net->nparams; q++)
                    if (strcmp(net->params[q].name, pname) == 0) shared = q;
            if (shared >= 0) {
                CliffNetParam *o = &net->params[shared];
                const CliffParamDecl *od = &net->layers[o->layer].layer.decl[o->index];
                int strict = !spec->has_share_mode ||
                             spec->share_mode == CLIFF__PARAM_SPEC__DIM_CHECK_MODE__STRICT;
                int same = od->num_axes == d->num_axes;
                for (int a = 0; same && a < d->num_axes; a++) same = od->shape[a] == d->shape[a];
                if (strict ? !same : o->count != count) {
                    char ours[128], theirs[128];
                    decl_shape_str(d, ours, sizeof ours);
                    decl_shape_str(od, theirs, sizeof theirs);
                    if (strict)
                        cliff_error_set(err, "shared parameter '%s' (blob %d) has shape %s but "
                                        "its owner in layer '%s' has %s%s", pname, p, ours,
                                        net->layers[o->layer].layer.name, theirs,
                                        o->count == count ? " (share_mode: PERMISSIVE needs "
                                                            "only equal counts)" : "");
                    else
                        cliff_error_set(err, "shared parameter '%s' (blob %d) has %zu elements "
                                        "(%s) but its owner in layer '%s' has %zu (%s)", pname,
                                        p, count, ours, net->layers[o->layer].layer.name,
                                        o->count, theirs);
                    cliff_net_layer_error(err, map, lp);
                    goto out;
                }
                if (spec->has_lr_mult && spec->lr_mult != o->lr_mult) {
                    cliff_error_set(err, "shared parameter '%s' has lr_mult %g but its owner "
                                    "has %g", pname, spec->lr_mult, o->lr_mult);
                    cliff_net_layer_error(err, map, lp);
                    goto out;
                }
                owner[k] = shared;
                continue;
            }
            CliffNetParam *np = &net->params[net->nparams];
            np->name = pname ? cliff_net_strdup(pname) : cliff_net_printf("%s/%d", l->name, p);
            if (!np->name) {
                cliff_error_set(err, "out of memory");
                cliff_net_layer_error(err, map, lp);
                goto out;
            }
            np->layer = i;
            np->index = p;
            np->lr_mult = lr;
            np->decay_mult = decay;
            np->count = count;
            np->offset = net->param_count;
            net->param_count += count;
            owner[k] = net->nparams++;
            if (cliff_filler_validate(d->filler, d->num_axes, d->shape, err)) {
                cliff_error_prefix(err, "parameter %d: ", p);
                cliff_net_layer_error(err, map, lp);
                goto out;
            }
        }
    }
    net->param_slab = cliff_net_calloc(net->param_count + 1, sizeof(float));
    net->grad_slab = cliff_net_calloc(net->param_count + 1, sizeof(float));
    if (!net->param_slab || !net->grad_slab) {
        cliff_error_set(err, "out of memory for %zu parameters", net->param_count);
        goto out;
    }
    k = 0;
    for (int i = 0; i < net->nlayers; i++) {
        CliffLayer *l = &net->layers[i].layer;
        for (int p = 0; p < l->nparams; p++, k++) {
            CliffNetParam *o = &net->params[owner[k]];
            CliffTensor *t = &l->params[p];
            const CliffParamDecl *d = &l->decl[p];
            memset(t, 0, sizeof *t);
            t->num_axes = d->num_axes;
            memcpy(t->shape, d->shape, sizeof d->shape);
            t->count = o->count;
            t->data = net->param_slab + o->offset;
            t->diff = net->grad_slab + o->offset;
            t->owns = 0;
            if (o->layer == i && o->index == p) {
                o->tensor = t;
                if (cliff_filler_fill(d->filler, d->default_value, t->data, d->num_axes,
                                      d->shape, net->rng, err)) {
                    cliff_net_layer_error(err, map, l->param);
                    goto out;
                }
            }
        }
    }
    rc = 0;
out:
    free(owner);
    return rc;
}

int cliff_net_share_params_from(CliffNet *net, const CliffNet *from, CliffError *err)
{
    int all = 1; /* every parameter of net now lives in from's slabs */
    for (int i = 0; i < net->nlayers; i++) {
        CliffLayer *l = &net->layers[i].layer;
        if (!l->nparams || net->layers[i].is_split) continue;
        int k = cliff_net_layer_index(from, l->name);
        if (k < 0) {
            all = 0;
            continue;
        }
        const CliffLayer *src = &from->layers[k].layer;
        if (src->nparams != l->nparams)
            return cliff_error_set(err, "layer '%s' has %d parameter blobs here but %d in the "
                                   "net it shares weights with", l->name, l->nparams,
                                   src->nparams);
        for (int p = 0; p < l->nparams; p++) {
            if (!cliff_tensor_same_shape(&l->params[p], &src->params[p])) {
                char a[128], b[128];
                return cliff_error_set(err, "layer '%s' parameter %d has shape %s here but %s "
                                       "in the net it shares weights with", l->name, p,
                                       cliff_tensor_shape_str(&l->params[p], a, sizeof a),
                                       cliff_tensor_shape_str(&src->params[p], b, sizeof b));
            }
            l->params[p].data = src->params[p].data;
            l->params[p].diff = src->params[p].diff;
        }
    }
    /* Nothing points into net's own slabs any more: free them, as Caffe's
     * ShareData drops the test net's own weights (for CaffeNet 233 MiB of
     * filled weights that no one would read again). Filled before, so the
     * run's RNG draws are those of a net that keeps them. */
    if (all && net->param_count) {
        free(net->param_slab);
        free(net->grad_slab);
        net->param_slab = net->grad_slab = NULL;
    }
    return 0;
}
