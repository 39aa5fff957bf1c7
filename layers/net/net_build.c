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

static int net_blob(CliffNet *net, const char *name, int create, CliffError *err)
{
    for (int i = net->nblobs; i-- > 0;)
        if (strcmp(net->blob_names[i], name) == 0) return i;
    if (!create) return -1;
    int n = net->nblobs;
    CliffTensor **blobs = realloc(net->blobs, (size_t)(n + 1) * sizeof *blobs);
    if (blobs) net->blobs = blobs;
    char **names = realloc(net->blob_names, (size_t)(n + 1) * sizeof *names);
    if (names) net->blob_names = names;
    if (!blobs || !names) return cliff_error_set(err, "out of memory");
    net->blobs[n] = malloc(sizeof **net->blobs);
    net->blob_names[n] = cliff_net_strdup(name);
    if (!net->blobs[n] || !net->blob_names[n]) return cliff_error_set(err, "out of memory");
    cliff_tensor_init(net->blobs[n]);
    net->nblobs = n + 1;
    return n;
}

/* Synthesizes the LayerParameter of an automatic Split (owned by the net). */
static Cliff__LayerParameter *split_param(CliffNet *net, const PlanLayer *pl)
{
    Cliff__LayerParameter *lp = malloc(sizeof *lp);
    Cliff__LayerParameter **owned =
        realloc(net->owned_layer_params, (size_t)(net->nowned + 1) * sizeof *owned);
    if (!lp || !owned) {
        free(lp);
        if (owned) net->owned_layer_params = owned;
        return NULL;
    }
    net->owned_layer_params = owned;
    cliff__layer_parameter__init(lp);
    net->owned_layer_params[net->nowned++] = lp;
    /* Caffe's SplitLayerName: <blob>_<producer>_<top index>_split */
    lp->name = cliff_net_printf("%s_%s_%d_split", pl->bottom[0], pl->lp->name ? pl->lp->name : "",
                       pl->split_top);
    lp->type = cliff_net_strdup("Split");
    return lp;
}

/* Pass 2: blobs, setup and reshape of every layer. */
static int setup_layers(CliffNet *net, Plan *plan, const CliffSrcMap *map, CliffError *err)
{
    net->layers = calloc((size_t)plan->n + 1, sizeof *net->layers);
    if (!net->layers) return cliff_error_set(err, "out of memory");
    for (int i = 0; i < plan->n; i++) {
        PlanLayer *pl = &plan->layers[i];
        CliffNetLayer *nl = &net->layers[i];
        net->nlayers = i + 1;
        const Cliff__LayerParameter *lp = pl->is_split ? split_param(net, pl) : pl->lp;
        if (!lp) return cliff_error_set(err, "out of memory");
        nl->nb = pl->nb;
        nl->nt = pl->nt;
        nl->is_split = pl->is_split;
        nl->bottom_ids = calloc((size_t)pl->nb + 1, sizeof(int));
        nl->top_ids = calloc((size_t)pl->nt + 1, sizeof(int));
        nl->bottom = calloc((size_t)pl->nb + 1, sizeof(CliffTensor *));
        nl->top = calloc((size_t)pl->nt + 1, sizeof(CliffTensor *));
        nl->propagate_down = calloc((size_t)pl->nb + 1, sizeof(int));
        nl->loss_weight = calloc((size_t)pl->nt + 1, sizeof(float));
        if (!nl->bottom_ids || !nl->top_ids || !nl->bottom || !nl->top || !nl->propagate_down ||
            !nl->loss_weight)
            return cliff_error_set(err, "out of memory");
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

CliffNet *cliff_net_build(const Cliff__NetParameter *param, int phase,
                          const Cliff__NetState *extra_state, CliffRng *rng,
                          const CliffSrcMap *map, CliffError *err)
{
    CliffMergedState state;
    Plan plan = {0};
    CliffNet *net = calloc(1, sizeof *net);
    if (!net || cliff_net_state_merge(&state, phase, param->state, extra_state)) {
        free(net);
        cliff_error_set(err, "out of memory");
        return NULL;
    }
    net->name = cliff_net_strdup(param->name);
    net->phase = state.st.phase;
    net->rng = rng;
    int rc = cliff_net_plan_make(&plan, param, &state.st, map, err);
    if (!rc) rc = setup_layers(net, &plan, map, err);
    if (!rc) rc = cliff_net_setup_params(net, map, err);
    if (!rc) rc = cliff_net_find_outputs(net, err);
    if (!rc) cliff_net_decide_backward(net, param);
    net->reshape_from = net->nlayers;
    for (int i = net->nlayers; i-- > 0;)
        if (net->layers[i].layer.ops->reshape_every_forward) net->reshape_from = i;
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
