#include "timing.h"

#include <stdio.h>
#include <stdlib.h>

#include "layers/data/prefetch.h"
#include "layers/kernels/clock.h"

#define WARMUP 3

size_t cliff_time_overrides(int iters, char out[][64])
{
    static const char *const fixed[] = {
        "display=0", "snapshot=0", "snapshot_after_train=false", "test_initialization=false",
        "test_interval=2147483647", /* never */
        "metrics_file=/dev/null",
    };
    _Static_assert(sizeof fixed / sizeof fixed[0] + 1 == CLIFF_TIME_NOVERRIDES,
                   "CLIFF_TIME_NOVERRIDES counts the overrides");
    size_t n = 0;
    for (; n < sizeof fixed / sizeof fixed[0]; n++) snprintf(out[n], 64, "%s", fixed[n]);
    snprintf(out[n++], 64, "max_iter=%d", iters + WARMUP);
    return n;
}

static int is_data_layer(const CliffNetLayer *nl) { return nl->nb == 0; }

/* Per data layer with a prefetch queue, what the timed iterations cost: the
 * training loop's wall time waiting in take, and the time of making a batch
 * (on the prefetch thread, or on the training thread with prefetch 0).
 * before[i] holds layer i's figures from before the timed iterations. */
static void print_prefetch(FILE *out, const CliffNet *net, const CliffPrefetchStats *before)
{
    for (int i = 0; i < net->nlayers; i++) {
        const CliffNetLayer *nl = &net->layers[i];
        if (!nl->layer.ops->prefetch_stats) continue;
        CliffPrefetchStats a;
        nl->layer.ops->prefetch_stats(&nl->layer, &a);
        const CliffPrefetchStats *b = &before[i];
        const double taken = (double)(a.taken - b->taken), made = (double)(a.made - b->made);
        const double wait = taken > 0 ? 1e3 * (a.wait_seconds - b->wait_seconds) / taken : 0;
        const double fill = made > 0 ? 1e3 * (a.fill_seconds - b->fill_seconds) / made : 0;
        const double cpu = made > 0 ? 1e3 * (a.fill_cpu_seconds - b->fill_cpu_seconds) / made : 0;
        fprintf(out, "  data layer '%s' (%s, prefetch %d): the training loop waited %.3f ms "
                "per batch (wall, %.0f batches); making a batch took %.3f ms wall, %.3f ms "
                "CPU (%.0f batches, %s)\n", nl->layer.name, nl->layer.ops->type, a.depth, wait,
                taken, fill, cpu, made,
                a.depth ? "on the prefetch thread" : "on the training thread, inside the wait");
    }
}

int cliff_time_solver(CliffSolver *s, int iters, FILE *out, CliffError *err)
{
    CliffNet *net = cliff_solver_train_net(s);
    if (cliff_solver_step(s, WARMUP, err)) return -1;
    for (int i = 0; i < net->nlayers; i++) net->layers[i].fwd_seconds = net->layers[i].bwd_seconds = 0;
    CliffPrefetchStats *before = calloc((size_t)net->nlayers + 1, sizeof *before);
    if (!before) return cliff_error_set(err, "out of memory");
    for (int i = 0; i < net->nlayers; i++)
        if (net->layers[i].layer.ops->prefetch_stats)
            net->layers[i].layer.ops->prefetch_stats(&net->layers[i].layer, &before[i]);
    net->timing = 1;
    double t0 = cliff_clock_seconds();
    int rc = cliff_solver_step(s, iters, err);
    double total = cliff_clock_seconds() - t0;
    net->timing = 0;
    if (rc) {
        free(before);
        return -1;
    }

    double per_iter_ms = 1e3 * total / iters, fwd_ms = 0, bwd_ms = 0, data_ms = 0;
    fprintf(out, "Timing %d iterations of net '%s' (after %d warm-up iterations)\n", iters,
            net->name ? net->name : "", WARMUP);
    fprintf(out, "  %-20s %-16s %9s %9s %7s %9s %9s\n", "layer", "type", "fwd ms", "bwd ms",
            "share", "fwd GF/s", "bwd GF/s");
    double flops_done = 0;
    for (int i = 0; i < net->nlayers; i++) {
        const CliffNetLayer *nl = &net->layers[i];
        double f = 1e3 * nl->fwd_seconds / iters, b = 1e3 * nl->bwd_seconds / iters;
        fwd_ms += f;
        bwd_ms += b;
        if (is_data_layer(nl)) data_ms += f;
        char fg[16] = "", bg[16] = "";
        if (nl->layer.ops->forward_flops) {
            double macs = nl->layer.ops->forward_flops(&nl->layer);
            int passes = 0; /* backward: one gemm for parameters, one for the bottom */
            for (int p = 0; p < nl->layer.nparams; p++)
                if (nl->layer.param_need_grad[p]) {
                    passes++;
                    break;
                }
            for (int j = 0; j < nl->nb; j++)
                if (nl->propagate_down[j]) {
                    passes++;
                    break;
                }
            if (!nl->need_backward) passes = 0;
            if (f > 0) snprintf(fg, sizeof fg, "%.1f", 2 * macs / (f * 1e6));
            if (b > 0 && passes) snprintf(bg, sizeof bg, "%.1f", 2 * macs * passes / (b * 1e6));
            flops_done += 2 * macs * (1 + passes) * iters;
        }
        fprintf(out, "  %-20s %-16s %9.3f %9.3f %6.1f%% %9s %9s\n", nl->layer.name,
                nl->layer.ops->type, f, b, 100 * (f + b) / per_iter_ms, fg, bg);
    }
    double solver_ms = per_iter_ms - fwd_ms - bwd_ms;
    fprintf(out, "  forward %.3f ms, backward %.3f ms, of which data loading %.3f ms\n", fwd_ms,
            bwd_ms, data_ms);
    print_prefetch(out, net, before);
    free(before);
    fprintf(out, "  solver step (zero, norm, clip, decay, update) %.3f ms (%.1f%%)\n", solver_ms,
            100 * solver_ms / per_iter_ms);
    fprintf(out, "  iteration %.3f ms: %.1f iterations/s; conv+ip %.2f GFLOP/s over the "
            "whole iteration\n", per_iter_ms, 1e3 / per_iter_ms, flops_done / total / 1e9);
    return 0;
}
