/* The table `train --dry-run` prints for a net. */
#include "net_summary.h"

#include <string.h>

#include "layers/data/prefetch.h"

static void human_bytes(double b, char *buf, size_t len)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB"};
    int u = 0;
    while (b >= 1024 && u < 3) {
        b /= 1024;
        u++;
    }
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

static size_t layer_param_count(const CliffNetLayer *nl)
{
    size_t n = 0;
    for (int p = 0; p < nl->layer.nparams; p++) n += nl->layer.params[p].count;
    return n;
}

void cliff_net_summary(FILE *out, const CliffNet *net, const char *title, CliffNetMemory *sum)
{
    fprintf(out, "%s: net '%s', phase %s, %d layers, %d blobs\n", title,
            net->name ? net->name : "", net->phase == CLIFF__PHASE__TEST ? "TEST" : "TRAIN",
            net->nlayers, net->nblobs);
    fprintf(out, "  %-20s %-18s %-44s %10s %10s %10s\n", "layer", "type", "bottoms -> tops",
            "params", "act mem", "workspace");
    size_t total_act = 0, total_ws = 0, total_pf = 0;
    for (int i = 0; i < net->nlayers; i++) {
        const CliffNetLayer *nl = &net->layers[i];
        char io[1024], shape[128];
        size_t used = 0;
        io[0] = 0;
        for (int j = 0; j < nl->nb && used < sizeof io; j++)
            used += (size_t)snprintf(io + used, sizeof io - used, "%s%s", j ? ", " : "",
                                     net->blob_names[nl->bottom_ids[j]]);
        used += (size_t)snprintf(io + used, sizeof io - used, nl->nb ? " -> " : "-> ");
        size_t act = 0;
        for (int j = 0; j < nl->nt && used < sizeof io; j++) {
            const CliffTensor *t = nl->top[j];
            int in_place = j < nl->nb && nl->top_ids[j] == nl->bottom_ids[j];
            used += (size_t)snprintf(io + used, sizeof io - used, "%s%s %s%s", j ? ", " : "",
                                     net->blob_names[nl->top_ids[j]],
                                     cliff_tensor_shape_str(t, shape, sizeof shape),
                                     in_place ? " (in place)" : "");
            if (!in_place) act += 2 * t->count * sizeof(float);
        }
        total_act += act;
        /* scratch the layer holds beyond tops and params (after reshape) */
        const size_t ws =
            nl->layer.ops->workspace_bytes ? nl->layer.ops->workspace_bytes(&nl->layer) : 0;
        total_ws += ws;
        char mem[32], wsm[32] = "-";
        human_bytes((double)act, mem, sizeof mem);
        if (ws) human_bytes((double)ws, wsm, sizeof wsm);
        fprintf(out, "  %-20s %-18s %-44s %10zu %10s %10s", nl->layer.name, nl->layer.ops->type,
                io, layer_param_count(nl), mem, wsm);
        for (int j = 0; j < nl->nt; j++)
            if (nl->loss_weight[j] != 0) fprintf(out, "  loss weight %g", nl->loss_weight[j]);
        if (nl->layer.ops->prefetch_stats) {
            CliffPrefetchStats ps;
            nl->layer.ops->prefetch_stats(&nl->layer, &ps);
            char pfm[32];
            human_bytes((double)ps.bytes, pfm, sizeof pfm);
            total_pf += ps.bytes;
            if (ps.depth)
                fprintf(out, "  prefetch queue %s (%d batches ahead)", pfm, ps.depth);
            else
                fprintf(out, "  prefetch queue %s (prefetch 0: one batch, made when taken)", pfm);
        }
        fputc('\n', out);
    }
    char pm[32], am[32];
    human_bytes(2.0 * (double)net->param_count * sizeof(float), pm, sizeof pm);
    human_bytes((double)total_act, am, sizeof am);
    fprintf(out, "  total: %zu learnable parameters in %d blobs (%s with gradients), "
            "activations %s (data + diff)\n", net->param_count, net->nparams, pm, am);
    char wm[32];
    human_bytes((double)total_ws, wm, sizeof wm);
    fprintf(out, "  workspace %s (layers' scratch beyond tops and params)\n", wm);
    if (total_pf) {
        human_bytes((double)total_pf, wm, sizeof wm);
        fprintf(out, "  prefetch queues %s (data layers' batches decoded ahead)\n", wm);
    }
    if (sum) {
        sum->activations += total_act;
        sum->workspace += total_ws;
        sum->prefetch += total_pf;
    }
    fprintf(out, "  outputs:");
    for (int o = 0; o < net->noutputs; o++)
        fprintf(out, " %s%s", net->blob_names[net->output_ids[o]],
                net->output_loss_weight[o] != 0 ? " (loss)" : "");
    fputc('\n', out);
}

static void bound_line(FILE *out, const char *what, double bytes, const char *note)
{
    char h[32];
    human_bytes(bytes, h, sizeof h);
    fprintf(out, "  %-16s %14.0f bytes %12s%s%s\n", what, bytes, h, note[0] ? "  " : "", note);
}

void cliff_memory_bound(FILE *out, const CliffNetMemory *sum, size_t nparams, int nhist,
                        int ring_slots)
{
    const double p = 4.0 * (double)nparams, hist = 2.0 * nhist * p;
    const double ring = (double)ring_slots * (1 + nhist) * p;
    const double total = 2 * p + hist + ring + (double)sum->activations +
                         (double)sum->workspace + (double)sum->prefetch;
    char note[96], h[32];
    fprintf(out, "memory bound (held by construction; code, libraries and memory-mapped "
                 "database pages apart):\n");
    snprintf(note, sizeof note, "(%zu floats)", nparams);
    bound_line(out, "parameters", p, note);
    bound_line(out, "gradients", p, "");
    snprintf(note, sizeof note, "(%d slab%s, held twice)", nhist, nhist == 1 ? "" : "s");
    bound_line(out, "solver history", hist, note);
    snprintf(note, sizeof note, "(%d good states of weights + history to go back to)",
             ring_slots);
    bound_line(out, "recovery ring", ring, note);
    bound_line(out, "activations", (double)sum->activations, "(data + diff, every net)");
    bound_line(out, "workspace", (double)sum->workspace,
               "(layers' scratch: convolution chunks, pooling, LRN, ...)");
    bound_line(out, "prefetch queues", (double)sum->prefetch, "(data layers' decoded batches)");
    human_bytes(total, h, sizeof h);
    fprintf(out, "  %-16s %14.0f bytes %12s\n", "total", total, h);
}
