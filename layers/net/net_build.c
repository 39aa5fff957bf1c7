/* Building a Net: runs the passes of net_impl.h, owns blobs and layers. */
#include <stdlib.h>
#include <string.h>

#include "net_impl.h"

/* "net.prototxt:12:1: error: layer 'conv1' (Convolution): " */
int cliff_net_layer_error(CliffError *err, const CliffSrcMap *map,
                          const Cliff__LayerParameter *lp)
{
    CliffSrcPos pos;
    const char *name = lp && lp->name ? lp->name : "";
    const char *type = lp && lp->type ? lp->type : "?";
    if (lp && cliff_srcmap_find(map, lp, &pos) == 0)
        return cliff_error_prefix(err, "%s:%d:%d: error: layer '%s' (%s): ", pos.file, pos.line,
                                  pos.col, name, type);
    return cliff_error_prefix(err, "error: layer '%s' (%s): ", name, type);
}

/* The index of blob `name`; a new blob when create is set and there is none
 * (-1 with err filled when out of memory), else -1. */
static int net_blob(CliffNet *net, const char *name, int create, CliffError *err)
{
    for (int i = net->nblobs; i-- > 0;)
        if (strcmp(net->blob_names[i], name) == 0) return i;
    if (!create) return -1;
    int n = net->nblobs;
    CliffTensor **blobs = cliff_net_realloc(net->blobs, (size_t)(n + 1) * sizeof *blobs);
    if (blobs) net->blobs = blobs;
    char **names = cliff_net_realloc(net->blob_names, (size_t)(n + 1) * sizeof *names);
    if (names) net->blob_names = names;
    CliffTensor *blob = blobs && names ? cliff_net_malloc(sizeof *blob) : NULL;
    char *copy = blob ? cliff_net_strdup(name) : NULL;
    if (!copy) {
        free(blob);
        return cliff_error_set(err, "out of memory");
    }
    cliff_tensor_init(blob);
    net->blobs[n] = blob;
    net->blob_names[n] = copy;
    net->nblobs = n + 1;
    return n;
}

/* Synthesizes the LayerParameter of an automatic Split (owned by the net);
 * NULL when out of memory. */
static Cliff__LayerParameter *split_param(CliffNet *net, const PlanLayer *pl)
{
    Cliff__LayerParameter **owned =
        cliff_net_realloc(net->owned_layer_params, (size_t)(net->nowned + 1) * sizeof *owned);
    if (!owned) return NULL;
    net->owned_layer_params = owned;
    Cliff__LayerParameter *lp = cliff_net_malloc(sizeof *lp);
    if (!lp) return NULL;
    cliff__layer_parameter__init(lp);
    net->owned_layer_params[net->nowned++] = lp; /* freed with the net from here on */
    /* Caffe's SplitLayerName: <blob>_<producer>_<top index>_split */
    lp->name = cliff_net_printf("%s_%s_%d_split", pl->bottom[0], pl->lp->name ? pl->lp->name : "",
                                pl->split_top);
    lp->type = lp->name ? cliff_net_strdup("Split") : NULL;
    return lp->type ? lp : NULL;
}

/* Gives net layer nl its blobs: bottoms are blobs made by earlier layers, tops
 * new blobs unless in place. */
static int connect_layer(CliffNet *net, CliffNetLayer *nl, const PlanLayer *pl, CliffError *err)
{
    nl->bottom_ids = cliff_net_calloc((size_t)pl->nb + 1, sizeof(int));
    nl->top_ids = cliff_net_calloc((size_t)pl->nt + 1, sizeof(int));
    nl->bottom = cliff_net_calloc((size_t)pl->nb + 1, sizeof(CliffTensor *));
    nl->top = cliff_net_calloc((size_t)pl->nt + 1, sizeof(CliffTensor *));
    nl->propagate_down = cliff_net_calloc((size_t)pl->nb + 1, sizeof(int));
    nl->loss_weight = cliff_net_calloc((size_t)pl->nt + 1, sizeof(float));
    if (!nl->bottom_ids || !nl->top_ids || !nl->bottom || !nl->top || !nl->propagate_down ||
        !nl->loss_weight)
        return cliff_error_set(err, "out of memory");
    nl->nb = pl->nb;
    nl->nt = pl->nt;
    nl->is_split = pl->is_split;
    for (int j = 0; j < pl->nb; j++) {
        int b = net_blob(net, pl->bottom[j], 0, err);
        if (b < 0) return cliff_error_set(err, "internal: blob '%s' missing", pl->bottom[j]);
        nl->bottom_ids[j] = b;
        nl->bottom[j] = net->blobs[b];
    }
    for (int j = 0; j < pl->nt; j++) {
        int in_place = j < pl->nb && strcmp(pl->bottom[j], pl->top[j]) == 0;
        int t = in_place ? nl->bottom_ids[j] : net_blob(net, pl->top[j], 1, err);
        if (t < 0) return -1;
        nl->top_ids[j] = t;
        nl->top[j] = net->blobs[t];
        nl->loss_weight[j] = pl->loss_weight[j];
    }
    return 0;
}

/* Pass 2: blobs, setup and reshape of every layer. Errors name the plan layer
 * (for a Split: the layer whose top it splits). */
static int setup_layers(CliffNet *net, const Plan *plan, const CliffSrcMap *map, CliffError *err)
{
    net->layers = cliff_net_calloc((size_t)plan->n + 1, sizeof *net->layers);
    if (!net->layers) return cliff_error_set(err, "out of memory");
    for (int i = 0; i < plan->n; i++) {
        const PlanLayer *pl = &plan->layers[i];
        CliffNetLayer *nl = &net->layers[i];
        net->nlayers = i + 1; /* freed with the net from here on */
        const Cliff__LayerParameter *lp = pl->is_split ? split_param(net, pl) : pl->lp;
        if (!lp) cliff_error_set(err, "out of memory");
        if (!lp || connect_layer(net, nl, pl, err)) return cliff_net_layer_error(err, map, pl->lp);
        CliffLayer *l = &nl->layer;
        l->ops = pl->ops;
        l->param = lp;
        l->name = lp->name ? lp->name : "";
        l->phase = net->phase;
        l->rng = net->rng;
        if (l->ops->setup && l->ops->setup(l, nl->bottom, nl->nb, nl->top, nl->nt, err))
            return cliff_net_layer_error(err, map, pl->lp);
        if (l->ops->reshape && l->ops->reshape(l, nl->bottom, nl->nb, nl->top, nl->nt, err))
            return cliff_net_layer_error(err, map, pl->lp);
        if ((int)lp->n_param > l->nparams) {
            cliff_error_set(err, "has %zu param specs but only %d parameter blobs", lp->n_param,
                            l->nparams);
            return cliff_net_layer_error(err, map, pl->lp);
        }
    }
    return 0;
}

/* The passes after the plan; -1 with err filled when one fails. */
static int build_from_plan(CliffNet *net, const Plan *plan, const Cliff__NetParameter *param,
                           const CliffSrcMap *map, CliffError *err)
{
    if (setup_layers(net, plan, map, err) || cliff_net_setup_params(net, map, err) ||
        cliff_net_find_outputs(net, err) || cliff_net_decide_backward(net, param, err))
        return -1;
    net->reshape_from = net->nlayers;
    for (int i = net->nlayers; i-- > 0;)
        if (net->layers[i].layer.ops->reshape_every_forward) net->reshape_from = i;
    return 0;
}

CliffNet *cliff_net_build(const Cliff__NetParameter *param, int phase,
                          const Cliff__NetState *extra_state, CliffRng *rng,
                          const CliffSrcMap *map, CliffError *err)
{
    CliffMergedState state = {.stages = NULL};
    Plan plan = {0};
    CliffNet *net = cliff_net_calloc(1, sizeof *net);
    if (net) net->name = cliff_net_strdup(param->name);
    if (!net || !net->name || cliff_net_state_merge(&state, phase, param->state, extra_state)) {
        cliff_net_free(net);
        cliff_error_set(err, "out of memory");
        return NULL;
    }
    net->phase = state.st.phase;
    net->rng = rng;
    int rc = cliff_net_plan_make(&plan, param, &state.st, map, err);
    if (!rc) rc = build_from_plan(net, &plan, param, map, err);
    cliff_net_plan_free(&plan);
    free(state.stages);
    if (rc) {
        cliff_net_free(net);
        return NULL;
    }
    return net;
}

void cliff_net_free(CliffNet *net)
{
    if (!net) return;
    for (int i = 0; i < net->nlayers; i++) {
        CliffNetLayer *nl = &net->layers[i];
        if (nl->layer.ops && nl->layer.ops->destroy) nl->layer.ops->destroy(&nl->layer);
        free(nl->bottom_ids);
        free(nl->top_ids);
        free(nl->bottom);
        free(nl->top);
        free(nl->propagate_down);
        free(nl->loss_weight);
    }
    free(net->layers);
    for (int b = 0; b < net->nblobs; b++) {
        if (net->blobs[b]) cliff_tensor_free(net->blobs[b]);
        free(net->blobs[b]);
        free(net->blob_names[b]);
    }
    free(net->blobs);
    free(net->blob_names);
    free(net->blob_loss_weighted);
    free(net->output_ids);
    free(net->output_loss_weight);
    for (int p = 0; p < net->nparams; p++) free(net->params[p].name);
    free(net->params);
    free(net->param_slab);
    free(net->grad_slab);
    for (int i = 0; i < net->nowned; i++)
        protobuf_c_message_free_unpacked(&net->owned_layer_params[i]->base, NULL);
    free(net->owned_layer_params);
    free(net->name);
    free(net);
}
