/* The solver's side of a data-parallel run (solver/comm.h): one reduction per
 * iteration, rank 0 as the only writer, and a check that the ranks agree.
 *
 * The hook (cliff_dist_reduce) runs in the iteration after backward and the
 * iter_size normalization, before the norms. First one allreduce of four
 * doubles: the loss (averaged over the ranks), the SIGINT/SIGTERM/SIGHUP
 * requests of every rank (OR-ed), and whether a rank's forward stopped on bad
 * data. Then the gradient slab is summed over the ranks in place (one
 * allreduce of param_count floats) and multiplied by 1/N. So the global norm,
 * the non-finite guard, every clip policy, the smoothed loss and the requests
 * see the same numbers on every rank, and every rank takes the same decision
 * and the same update. A rank that met bad data still joins the first
 * allreduce, saying so: every rank then stops at that iteration without an
 * update (no gradient exchange), and only one prints (stats.report_rank), so
 * a bad batch gives one message and no rank needs killing. One gradient
 * allreduce after backward (no buckets overlapping backward): the slab is
 * contiguous, so this is one call, and on one machine the allreduce is a few
 * percent of an iteration (bench/results.md); buckets would pay off only when
 * the network is slow compared with backward. */
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "slab_blocks.h"
#include "solver_impl.h"

int cliff_solver_set_comm(CliffSolver *s, CliffComm *comm, CliffError *err)
{
    if (cliff_net_shard(s->net, comm->rank, comm->size, err)) return -1;
    s->comm = comm;
    if (comm->size > 1)
        cliff_log_event(s->fmt, s->log, s->iter, "info",
                        "data-parallel over %d ranks (%s): each reads batch r of every %d, "
                        "gradient and loss averaged over the ranks",
                        comm->size, comm->ops->name, comm->size);
    return 0;
}

int cliff_dist_lead(const CliffSolver *s) { return !s->comm || s->comm->rank == 0; }

int cliff_dist_size(const CliffSolver *s) { return s->comm ? s->comm->size : 1; }

typedef struct ScaleArg {
    float *g;
    float f;
} ScaleArg;

static void scale_block(void *arg, CliffSlabBlock *b)
{
    const ScaleArg *a = arg;
    float *g = a->g + b->off;
    for (size_t e = 0; e < b->n; e++) g[e] *= a->f;
}

int cliff_dist_reduce(CliffSolver *s, double *loss, int failed)
{
    CliffComm *c = s->comm;
    if (!c || c->size == 1) return failed != 0;
    CliffNet *net = s->net;
    /* The requests a signal left since the last iteration, taken atomically
     * (a signal arriving now is seen at the next iteration), and whether this
     * rank's forward stopped on bad data: one allreduce of four doubles, before
     * the gradient's, so that a failed iteration costs no gradient exchange. */
    double d[4] = {failed ? 0 : *loss,
                   __atomic_exchange_n(&s->pending_snapshot, 0, __ATOMIC_SEQ_CST),
                   __atomic_exchange_n(&s->pending_stop, 0, __ATOMIC_SEQ_CST), failed};
    if (cliff_comm_sum_doubles(c, d, 4, &net->runtime_error)) return -1;
    if (d[3] > 0) {
        /* Some rank met bad data. The lowest such rank reports it: that is the
         * owner of the group's first bad batch (a rank meets only its own
         * batch and, through skip, those of lower ranks, which it passes over
         * first; a layer that shards itself meets only its own). */
        uint64_t lo = failed ? (uint64_t)c->rank : UINT64_MAX, hi = lo;
        if (c->ops->minmax_u64(c, &lo, &hi, &net->runtime_error)) return -1;
        /* ... and its kind (bad data, or rank 0's failed test) is every rank's */
        int kind = failed ? failed - 1 : 0;
        if (cliff_comm_bcast(c, &kind, sizeof kind, (int)lo, &net->runtime_error)) return -1;
        s->stats.failed_together = 1;
        s->stats.report_rank = (int)lo;
        if (!failed) {
            cliff_error_set(&net->runtime_error, "rank %d stopped on %s (rank %d reports it)",
                            (int)lo, kind == CLIFF_ERR_DATA ? "bad data" : "an error",
                            (int)lo);
            cliff_error_mark(&net->runtime_error, (CliffErrorKind)kind);
        }
        return 1;
    }
    if (cliff_comm_sum_floats(c, net->grad_slab, net->param_count, &net->runtime_error))
        return -1;
    ScaleArg a = {net->grad_slab, 1.0f / (float)c->size};
    cliff_flat_pass(net->param_count, scale_block, &a);
    *loss = d[0] / c->size;
    if (d[1] > 0) s->req_snapshot = 1;
    if (d[2] > 0) s->req_stop = 1;
    return 0;
}

int cliff_dist_fail(CliffSolver *s, const CliffError *err)
{
    double loss = 0;
    if (s->comm && s->comm->size > 1) cliff_dist_reduce(s, &loss, 1 + (int)err->kind);
    return -1;
}

/* FNV-1a over bytes. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001B3ull;
    return h;
}

int cliff_dist_check_agree(CliffSolver *s, CliffError *err)
{
    CliffComm *c = s->comm;
    if (!c || c->size == 1) return 0;
    const CliffNet *net = s->net;
    uint64_t h = fnv(0xCBF29CE484222325ull, net->param_slab, net->param_count * sizeof(float));
    h = fnv(h, s->hist, (size_t)s->nhist * net->param_count * sizeof(float));
    h = fnv(h, s->rng.s, sizeof s->rng.s);
    for (int l = 0; l < net->nlayers; l++) {
        const CliffLayer *L = &net->layers[l].layer;
        if (!L->ops->state_size || !L->ops->state_save || (!L->ops->skip && !L->ops->shard))
            continue;
        size_t n = L->ops->state_size(L);
        int64_t *words = malloc(n * sizeof *words + 1);
        if (!words) return cliff_error_set(err, "out of memory");
        L->ops->state_save(L, words);
        h = fnv(h, words, n * sizeof *words);
        free(words);
    }
    int same = 0;
    if (cliff_comm_agree(c, h, &same, err)) return -1;
    s->stats.failed_together = !same;
    if (!same)
        return cliff_error_set(err, "iteration %d: the %d ranks no longer hold the same weights, "
                               "history, RNG or data cursors; refusing to snapshot (a bug: "
                               "please report it)", s->iter, c->size);
    return 0;
}
