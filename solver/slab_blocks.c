/* The parameter slab in blocks over the fork-join (see slab_blocks.h). */
#include "slab_blocks.h"

#include "layers/kernels/fork_join.h"

typedef struct Round {
    CliffSlabBlock *blocks;
    CliffSlabFn fn;
    void *arg;
} Round;

static void run_block(void *arg, int chunk, int thread)
{
    (void)thread;
    const Round *r = arg;
    r->fn(r->arg, &r->blocks[chunk]);
}

/* Runs the round's blocks over the fork-join, then done in order. */
static void run_round(CliffSlabBlock *blocks, int nb, CliffSlabFn fn, CliffSlabDone done,
                      void *arg)
{
    Round r = {blocks, fn, arg};
    cliff_fj_for(nb, run_block, &r);
    if (done) done(arg, blocks, nb);
}

void cliff_slab_pass(const CliffNetParam *params, int nparams, CliffSlabFn fn,
                     CliffSlabDone done, void *arg)
{
    CliffSlabBlock blocks[CLIFF_SLAB_ROUND];
    int nb = 0;
    for (int i = 0; i < nparams; i++) {
        for (size_t c = 0; c < params[i].count; c += CLIFF_SLAB_BLOCK) {
            const size_t left = params[i].count - c;
            blocks[nb] = (CliffSlabBlock){i, params[i].offset + c,
                                          left < CLIFF_SLAB_BLOCK ? left : CLIFF_SLAB_BLOCK, 0, 0};
            if (++nb == CLIFF_SLAB_ROUND) {
                run_round(blocks, nb, fn, done, arg);
                nb = 0;
            }
        }
    }
    if (nb) run_round(blocks, nb, fn, done, arg);
}

void cliff_flat_pass(size_t n, CliffSlabFn fn, void *arg)
{
    const CliffNetParam all = {.count = n};
    cliff_slab_pass(&all, 1, fn, NULL, arg);
}
