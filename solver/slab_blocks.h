/* The parameter slab cut into blocks for the fork-join (layers/kernels/fork_join.h).
 *
 * Every pass of the solver step over the 61 M parameters of a big net runs
 * block by block: a block is at most CLIFF_SLAB_BLOCK elements of one
 * parameter blob (never two), and the blocks are numbered in slab order. The
 * cut depends only on the blobs' sizes, never on the thread count, so a
 * reduction that sums per-block results in block order (the norms) gives the
 * same bits on 1 and on 8 threads; elementwise passes do anyway.
 *
 * cliff_slab_pass runs fn on every block of the slab, over the fork-join, a
 * round of at most CLIFF_SLAB_ROUND blocks at a time (a table on the stack, no
 * allocation); after each round it calls done (may be NULL) with the round's
 * blocks in order, on the calling thread, for the reduction. */
#ifndef CLIFF_SLAB_BLOCKS_H
#define CLIFF_SLAB_BLOCKS_H

#include <stddef.h>

#include "layers/net/net.h"

/* 128 KB of floats: a hand-off to a helper thread costs far less than
 * streaming it; large enough that a blob of 61 M is ~470 blocks. */
#define CLIFF_SLAB_BLOCK 32768
#define CLIFF_SLAB_ROUND 512

typedef struct CliffSlabBlock {
    int param;     /* the blob */
    size_t off, n; /* slab offset of the block and its length */
    double result; /* for fn to fill (a partial sum), read by done */
    int flag;      /* likewise (a failed check) */
} CliffSlabBlock;

typedef void (*CliffSlabFn)(void *arg, CliffSlabBlock *b);
typedef void (*CliffSlabDone)(void *arg, const CliffSlabBlock *b, int nblocks);

void cliff_slab_pass(const CliffNetParam *params, int nparams, CliffSlabFn fn,
                     CliffSlabDone done, void *arg);

/* Runs fn over [0, n) of one flat array cut into CLIFF_SLAB_BLOCK pieces
 * (b->param is 0), for passes that do not care about the blobs. */
void cliff_flat_pass(size_t n, CliffSlabFn fn, void *arg);

#endif
