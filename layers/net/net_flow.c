/* Pass 3b of the net build: net outputs and loss-weighted blobs, then which
 * layers and bottoms need backward. */
#include <stdlib.h>

#include "net_impl.h"

int cliff_net_find_outputs(CliffNet *net, CliffError *err)
{
    int *consumed = cliff_net_calloc((size_t)net->nblobs + 1, sizeof *consumed);
    net->output_ids = cliff_net_calloc((size_t)net->nblobs + 1, sizeof(int));
    net->output_loss_weight = cliff_net_calloc((size_t)net->nblobs + 1, sizeof(float));
    net->blob_loss_weighted = cliff_net_calloc((size_t)net->nblobs + 1, sizeof(int));
    if (!consumed || !net->output_ids || !net->output_loss_weight || !net->blob_loss_weighted) {
        free(consumed);
        return cliff_error_set(err, "out of memory");
    }
    for (int i = 0; i < net->nlayers; i++) {
        CliffNetLayer *nl = &net->layers[i];
        for (int j = 0; j < nl->nb; j++) consumed[nl->bottom_ids[j]] = 1;
        /* An in-place top is a new version of its blob: it is unconsumed again. */
        for (int j = 0; j < nl->nt; j++) {
            consumed[nl->top_ids[j]] = 0;
            if (nl->loss_weight[j] != 0) net->blob_loss_weighted[nl->top_ids[j]] = 1;
        }
    }
    for (int b = 0; b < net->nblobs; b++)
        if (!consumed[b]) {
            net->output_ids[net->noutputs] = b;
            for (int i = 0; i < net->nlayers; i++)
                for (int j = 0; j < net->layers[i].nt; j++)
                    if (net->layers[i].top_ids[j] == b)
                        net->output_loss_weight[net->noutputs] = net->layers[i].loss_weight[j];
            net->noutputs++;
        }
    free(consumed);
    return 0;
}

/* Caffe's Net::Init logic. */
int cliff_net_decide_backward(CliffNet *net, const Cliff__NetParameter *param, CliffError *err)
{
    int rc = -1;
    int *blob_need = cliff_net_calloc((size_t)net->nblobs + 1, sizeof *blob_need);
    int *under_loss = cliff_net_calloc((size_t)net->nblobs + 1, sizeof *under_loss);
    int *skip = cliff_net_calloc((size_t)net->nblobs + 1, sizeof *skip);
    if (!blob_need || !under_loss || !skip) {
        cliff_error_set(err, "out of memory");
        goto out;
    }
    for (int i = 0; i < net->nlayers; i++) {
        CliffNetLayer *nl = &net->layers[i];
        const Cliff__LayerParameter *lp = nl->layer.param;
        int need = 0;
        for (int j = 0; j < nl->nb; j++) {
            int b = blob_need[nl->bottom_ids[j]];
            if (!nl->is_split && lp->n_propagate_down) b = lp->propagate_down[j] != 0;
            nl->propagate_down[j] = b;
            need |= b;
        }
        for (int p = 0; p < nl->layer.nparams; p++) need |= nl->layer.param_need_grad[p];
        if (!nl->layer.ops->backward) need = 0;
        nl->need_backward = need;
        for (int j = 0; j < nl->nt; j++) blob_need[nl->top_ids[j]] |= need;
    }
    for (int i = net->nlayers; i-- > 0;) {
        CliffNetLayer *nl = &net->layers[i];
        int contributes = 0, skip_all = 1;
        for (int j = 0; j < nl->nt; j++) {
            if (nl->loss_weight[j] != 0 || under_loss[nl->top_ids[j]]) contributes = 1;
            if (!skip[nl->top_ids[j]]) skip_all = 0;
        }
        if (nl->need_backward && skip_all) {
            nl->need_backward = 0;
            for (int j = 0; j < nl->nb; j++) nl->propagate_down[j] = 0;
        }
        if (!contributes) nl->need_backward = 0;
        for (int j = 0; j < nl->nb; j++) {
            if (contributes)
                under_loss[nl->bottom_ids[j]] = 1;
            else
                nl->propagate_down[j] = 0;
            if (!nl->propagate_down[j]) skip[nl->bottom_ids[j]] = 1;
        }
    }
    if (param->force_backward)
        for (int i = 0; i < net->nlayers; i++) {
            CliffNetLayer *nl = &net->layers[i];
            if (!nl->layer.ops->backward) continue;
            nl->need_backward = 1;
            for (int j = 0; j < nl->nb; j++)
                /* Never to labels (Caffe's AllowForceBackward). */
                if (!(nl->layer.ops->label_bottoms & (1u << j))) nl->propagate_down[j] = 1;
        }
    rc = 0;
out:
    free(blob_need);
    free(under_loss);
    free(skip);
    return rc;
}
