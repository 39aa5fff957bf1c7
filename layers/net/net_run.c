/* Running a built Net: forward, backward, and lookups by name. */
#include <math.h>
#include <string.h>

#include "layers/kernels/clock.h"
#include "net.h"

double cliff_net_forward(CliffNet *net)
{
    double loss = 0;
    net->data_error = 0;
    for (int i = 0; i < net->nlayers; i++) {
        CliffNetLayer *nl = &net->layers[i];
        const CliffLayerOps *ops = nl->layer.ops;
        if (i >= net->reshape_from && ops->reshape &&
            ops->reshape(&nl->layer, nl->bottom, nl->nb, nl->top, nl->nt, &net->runtime_error))
            return cliff_error_prefix(&net->runtime_error, "layer '%s' (%s): ", nl->layer.name,
                                      ops->type), NAN;
        /* a layer's time includes its check: a data layer waits there for its batch */
        double t0 = net->timing ? cliff_clock_seconds() : 0;
        /* Several ranks: this rank's batch is batch shard_rank of every
         * shard_size; the lower ranks' batches are passed over first, so that
         * the check (where a data layer takes its batch) takes this rank's own
         * and a bad batch is reported by its owner at this iteration. */
        int shard = ops->skip && net->shard_size > 1;
        for (int k = 0; shard && k < net->shard_rank; k++) ops->skip(&nl->layer);
        if (ops->check_bottoms &&
            ops->check_bottoms(&nl->layer, nl->bottom, nl->nb, &net->runtime_error)) {
            net->data_error = 1;
            return cliff_error_prefix(&net->runtime_error, "layer '%s' (%s): ", nl->layer.name,
                                      ops->type), NAN;
        }
        nl->layer.ops->forward(&nl->layer, nl->bottom, nl->nb, nl->top, nl->nt);
        for (int k = net->shard_rank + 1; shard && k < net->shard_size; k++) ops->skip(&nl->layer);
        if (net->timing) nl->fwd_seconds += cliff_clock_seconds() - t0;
        for (int j = 0; j < nl->nt; j++) {
            if (nl->loss_weight[j] == 0) continue;
            const CliffTensor *t = nl->top[j];
            double sum = 0;
            for (size_t e = 0; e < t->count; e++) sum += t->data[e];
            loss += nl->loss_weight[j] * sum;
        }
    }
    return loss;
}

void cliff_net_backward(CliffNet *net)
{
    /* Loss tops start from their loss weight (Caffe's SetLossWeights). */
    for (int i = 0; i < net->nlayers; i++) {
        CliffNetLayer *nl = &net->layers[i];
        for (int j = 0; j < nl->nt; j++)
            if (nl->loss_weight[j] != 0)
                for (size_t e = 0; e < nl->top[j]->count; e++)
                    nl->top[j]->diff[e] = nl->loss_weight[j];
    }
    for (int i = net->nlayers; i-- > 0;) {
        CliffNetLayer *nl = &net->layers[i];
        if (!nl->need_backward) continue;
        double t0 = net->timing ? cliff_clock_seconds() : 0;
        nl->layer.ops->backward(&nl->layer, nl->top, nl->nt, nl->propagate_down, nl->bottom,
                                nl->nb);
        if (net->timing) nl->bwd_seconds += cliff_clock_seconds() - t0;
    }
}

void cliff_net_zero_grads(CliffNet *net)
{
    if (net->grad_slab) memset(net->grad_slab, 0, net->param_count * sizeof(float));
}

int cliff_net_layer_index(const CliffNet *net, const char *name)
{
    for (int i = 0; i < net->nlayers; i++)
        if (!net->layers[i].is_split && strcmp(net->layers[i].layer.name, name) == 0) return i;
    return -1;
}

int cliff_net_blob_index(const CliffNet *net, const char *name)
{
    for (int i = 0; i < net->nblobs; i++)
        if (strcmp(net->blob_names[i], name) == 0) return i;
    return -1;
}
