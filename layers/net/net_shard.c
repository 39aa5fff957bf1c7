/* Data sharding of a net over the ranks of a data-parallel run (net.h,
 * cliff_net_shard): layers that shard themselves are told their rank here;
 * the skips of the others run in cliff_net_forward. */
#include "net.h"

int cliff_net_shard(CliffNet *net, int rank, int size, CliffError *err)
{
    if (size < 1 || rank < 0 || rank >= size)
        return cliff_error_set(err, "rank %d of %d ranks is not a rank", rank, size);
    for (int i = 0; i < net->nlayers && size > 1; i++) {
        const CliffNetLayer *nl = &net->layers[i];
        const CliffLayerOps *ops = nl->layer.ops;
        if (nl->nb == 0 && ops->state_save && !ops->skip && !ops->shard)
            return cliff_error_set(err, "layer '%s' (%s) cannot be shared out over %d ranks: "
                                   "it cannot pass over another rank's batch (no skip)",
                                   nl->layer.name, ops->type, size);
    }
    for (int i = 0; i < net->nlayers && size > 1; i++) {
        CliffNetLayer *nl = &net->layers[i];
        const CliffLayerOps *ops = nl->layer.ops;
        if (ops->shard && ops->shard(&nl->layer, rank, size, err))
            return cliff_error_prefix(err, "layer '%s' (%s): ", nl->layer.name, ops->type);
    }
    net->shard_rank = rank;
    net->shard_size = size;
    return 0;
}
