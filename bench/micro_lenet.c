/* bench/micro_lenet.c: per-layer forward/backward times of a net's TRAIN phase,
 * robust to a shared machine. Not built by default:
 *   make BUILD=build-x build-x/bench/micro_lenet
 *   OPENBLAS_NUM_THREADS=1 build-x/bench/micro_lenet [net.prototxt] [reps]
 * (default configs/lenet_train_test.prototxt, 400 reps; run from the repository
 * root so the data source resolves).
 *
 * Every layer's forward and backward is timed on its own, rep after rep; the
 * figure printed is the MINIMUM and the median over the reps. Load from other
 * processes only ever adds time, so the minimum tracks the code, not the
 * neighbours, and A/B comparisons of the minima are meaningful at the 1-2%
 * level where the train --time means are not. The sum of the per-layer minima
 * is the "best iteration" of forward + backward (the solver step is not here). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/kernels/clock.h"
#include "proto/config.h"
#include "layers/net/net.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "configs/lenet_train_test.prototxt";
    int reps = argc > 2 ? atoi(argv[2]) : 400;
    if (reps < 1) reps = 1;
    CliffError err = {0};
    Cliff__NetParameter *np = NULL;
    if (cliff_net_load(path, NULL, &np, NULL, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    CliffRng rng;
    cliff_rng_seed(&rng, 1);
    CliffNet *net = cliff_net_build(np, CLIFF__PHASE__TRAIN, NULL, &rng, NULL, &err);
    if (!net) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const int L = net->nlayers;
    double *tf = calloc((size_t)L * reps, sizeof *tf), *tb = calloc((size_t)L * reps, sizeof *tb);
    double *it = calloc((size_t)reps, sizeof *it);
    for (int r = -5; r < reps; r++) { /* 5 warm-up reps */
        double t_iter = cliff_clock_seconds();
        cliff_net_zero_grads(net);
        for (int i = 0; i < L; i++) {
            CliffNetLayer *nl = &net->layers[i];
            double t0 = cliff_clock_seconds();
            nl->layer.ops->forward(&nl->layer, nl->bottom, nl->nb, nl->top, nl->nt);
            if (r >= 0) tf[(size_t)i * reps + r] = cliff_clock_seconds() - t0;
        }
        for (int i = 0; i < L; i++) {
            CliffNetLayer *nl = &net->layers[i];
            for (int j = 0; j < nl->nt; j++)
                if (nl->loss_weight[j] != 0)
                    for (size_t e = 0; e < nl->top[j]->count; e++)
                        nl->top[j]->diff[e] = nl->loss_weight[j];
        }
        for (int i = L; i-- > 0;) {
            CliffNetLayer *nl = &net->layers[i];
            if (!nl->need_backward) continue;
            double t0 = cliff_clock_seconds();
            nl->layer.ops->backward(&nl->layer, nl->top, nl->nt, nl->propagate_down, nl->bottom,
                                    nl->nb);
            if (r >= 0) tb[(size_t)i * reps + r] = cliff_clock_seconds() - t0;
        }
        if (r >= 0) it[r] = cliff_clock_seconds() - t_iter;
    }
    printf("%-12s %-16s %9s %9s %9s %9s  (ms over %d reps)\n", "layer", "type", "fwd min",
           "fwd med", "bwd min", "bwd med", reps);
    double sf = 0, sb = 0;
    for (int i = 0; i < L; i++) {
        CliffNetLayer *nl = &net->layers[i];
        double *f = tf + (size_t)i * reps, *b = tb + (size_t)i * reps;
        qsort(f, (size_t)reps, sizeof *f, cmp_double);
        qsort(b, (size_t)reps, sizeof *b, cmp_double);
        sf += f[0];
        sb += b[0];
        printf("%-12s %-16s %9.3f %9.3f %9.3f %9.3f\n", nl->layer.name, nl->layer.ops->type,
               1e3 * f[0], 1e3 * f[reps / 2], 1e3 * b[0], 1e3 * b[reps / 2]);
    }
    qsort(it, (size_t)reps, sizeof *it, cmp_double);
    printf("sum of minima: fwd %.3f + bwd %.3f = %.3f ms; fwd+bwd iteration min %.3f med %.3f ms\n",
           1e3 * sf, 1e3 * sb, 1e3 * (sf + sb), 1e3 * it[0], 1e3 * it[reps / 2]);
    free(tf);
    free(tb);
    free(it);
    cliff_net_free(net);
    protobuf_c_message_free_unpacked(&np->base, NULL);
    return 0;
}
