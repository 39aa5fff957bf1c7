/* The parameter slab in blocks (solver/slab_blocks.h): the cut covers every
 * blob exactly once, in slab order, in blocks of at most CLIFF_SLAB_BLOCK
 * that never span two blobs, over several rounds; and the reduction callback
 * sees each round's blocks in slab order even when a helper thread finishes
 * a later block first. */
#include <cblas.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "layers/kernels/clock.h"
#include "layers/kernels/fork_join.h"
#include "solver/slab_blocks.h"

/* Blobs of 0, 1, 3 blocks + 5, 1 block exactly, and 700 blocks (two rounds). */
#define NP 5
static CliffNetParam params[NP];

static void layout(void)
{
    const size_t counts[NP] = {0, 3 * CLIFF_SLAB_BLOCK + 5, 17, CLIFF_SLAB_BLOCK,
                               700 * (size_t)CLIFF_SLAB_BLOCK};
    size_t off = 0;
    for (int i = 0; i < NP; i++) {
        params[i] = (CliffNetParam){.offset = off, .count = counts[i]};
        off += counts[i];
    }
}

typedef struct Seen {
    unsigned char *hit; /* per element: times covered */
    size_t total;
    int bad_block;      /* a block too long, empty, or outside its blob */
    size_t next_off;    /* done: the slab offset the next block must start at */
    int out_of_order, rounds, max_round;
    int started[2], finished1; /* first round: block 0 waits until block 1 is done */
} Seen;

static void visit(void *arg, CliffSlabBlock *b)
{
    Seen *s = arg;
    const CliffNetParam *p = &params[b->param];
    if (b->n == 0 || b->n > CLIFF_SLAB_BLOCK || b->off < p->offset ||
        b->off + b->n > p->offset + p->count)
        __atomic_store_n(&s->bad_block, 1, __ATOMIC_SEQ_CST);
    else
        for (size_t e = 0; e < b->n; e++) s->hit[b->off + e]++;
    if (s->rounds == 0 && b->off == params[1].offset) { /* the slab's first block */
        const double t0 = cliff_clock_seconds();
        while (!__atomic_load_n(&s->finished1, __ATOMIC_SEQ_CST) && cliff_clock_seconds() - t0 < 1.0)
            sched_yield();
    }
    b->result = (double)b->off;
    if (s->rounds == 0 && b->off == params[1].offset + CLIFF_SLAB_BLOCK)
        __atomic_store_n(&s->finished1, 1, __ATOMIC_SEQ_CST);
}

static void done(void *arg, const CliffSlabBlock *b, int nb)
{
    Seen *s = arg;
    for (int k = 0; k < nb; k++) {
        if (b[k].off != s->next_off || b[k].result != (double)b[k].off) s->out_of_order = 1;
        s->next_off = b[k].off + b[k].n;
    }
    s->rounds++;
    if (nb > s->max_round) s->max_round = nb;
}

static void test_cut_covers_in_order(void)
{
    layout();
    const size_t n = params[NP - 1].offset + params[NP - 1].count;
    Seen s = {calloc(n, 1), n, 0, 0, 0, 0, 0, {0, 0}, 0};
    if (!s.hit) {
        CHECK_FAILF("out of memory");
        return;
    }
    cliff_slab_pass(params, NP, visit, done, &s);
    CHECK(!s.bad_block && !s.out_of_order && s.next_off == n);
    CHECK(s.rounds == 2 && s.max_round == CLIFF_SLAB_ROUND);
    size_t wrong = 0;
    for (size_t e = 0; e < n; e++) wrong += s.hit[e] != 1;
    CHECK(wrong == 0);
    free(s.hit);
}

int main(void)
{
    openblas_set_num_threads(2); /* the fork-join's threads follow OpenBLAS's count */
    RUN(test_cut_covers_in_order);
    return test_main_end();
}
