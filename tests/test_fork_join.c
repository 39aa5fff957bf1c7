/* layers/fork_join: every chunk runs exactly once per job, whatever the chunk
 * count, for many jobs in a row (a lost wake-up hangs here instead of in a
 * layer), and never two at once under the same thread index; nested and
 * concurrent calls fall back to running in the caller; each thread runs its
 * own block of chunks first (the image-to-core affinity layers rely on);
 * cliff_fj_range tiles [0, n). */
#include <cblas.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "check.h"
#include "fj_fixture.h"
#include "layers/kernels/fork_join.h"

#define MAX_CHUNKS 100

typedef struct Count {
    atomic_int runs[MAX_CHUNKS];
    atomic_int busy[CLIFF_FJ_MAX]; /* chunks running under each thread index */
    atomic_int clashes, bad_thread;
    atomic_int nested_runs;
} Count;

static void count_part(void *arg, int part, int thread)
{
    Count *c = arg;
    if (thread < 0 || thread >= cliff_fj_threads()) {
        atomic_fetch_add(&c->bad_thread, 1);
        return;
    }
    if (atomic_fetch_add(&c->busy[thread], 1) != 0) atomic_fetch_add(&c->clashes, 1);
    volatile float x = 1; /* a little work, so helpers get a share */
    for (int i = 0; i < 200; i++) x = x * 1.0001f;
    atomic_fetch_add(&c->runs[part], 1);
    atomic_fetch_sub(&c->busy[thread], 1);
}

static void test_every_part_once(void)
{
    const int nt = cliff_fj_threads();
    CHECK(nt >= 1 && nt <= CLIFF_FJ_MAX);
    for (int nparts = 0; nparts <= MAX_CHUNKS; nparts += nparts < 20 ? 1 : 20) {
        for (int rep = 0; rep < 100; rep++) {
            Count c;
            memset(&c, 0, sizeof c);
            cliff_fj_for(nparts, count_part, &c);
            if (atomic_load(&c.clashes) || atomic_load(&c.bad_thread)) {
                CHECK_FAILF("%d chunks: %d clashes, %d bad thread indices", nparts,
                            atomic_load(&c.clashes), atomic_load(&c.bad_thread));
                return;
            }
            for (int p = 0; p < MAX_CHUNKS; p++)
                if (atomic_load(&c.runs[p]) != (p < nparts)) {
                    CHECK_FAILF("%d chunks, rep %d: chunk %d ran %d times", nparts, rep, p,
                                atomic_load(&c.runs[p]));
                    return;
                }
        }
    }
}

/* A part that itself forks: the inner job runs in that part's thread. */
static void nested_part(void *arg, int part, int thread)
{
    (void)part, (void)thread;
    Count inner;
    memset(&inner, 0, sizeof inner);
    cliff_fj_for(3, count_part, &inner);
    if (atomic_load(&inner.runs[0]) == 1 && atomic_load(&inner.runs[1]) == 1 &&
        atomic_load(&inner.runs[2]) == 1)
        atomic_fetch_add(&((Count *)arg)->nested_runs, 1);
}

static void test_nested(void)
{
    Count c;
    memset(&c, 0, sizeof c);
    cliff_fj_for(2, nested_part, &c);
    CHECK(atomic_load(&c.nested_runs) == 2);
}

static void *caller(void *arg)
{
    for (int rep = 0; rep < 500; rep++) {
        Count c;
        memset(&c, 0, sizeof c);
        cliff_fj_for(2, count_part, &c);
        if (atomic_load(&c.runs[0]) != 1 || atomic_load(&c.runs[1]) != 1) {
            atomic_fetch_add((atomic_int *)arg, 1);
            break;
        }
    }
    return NULL;
}

/* Two threads forking at once: one gets the helpers, the other runs its parts
 * itself; both see every part once. */
static void test_concurrent_callers(void)
{
    atomic_int bad = 0;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, caller, &bad) == 0);
    caller(&bad);
    pthread_join(t, NULL);
    CHECK(atomic_load(&bad) == 0);
}

/* Chunk c waits (up to a second) until chunk c + 2 (mod 4) has started, and
 * records the thread it ran on. With 2 threads each running its own block
 * first (chunks 0-1 on the caller, 2-3 on the helper) the waits meet at once;
 * chunks handed out from one shared counter would put 0 on the caller and 1 on
 * the helper, each waiting for a chunk nobody is free to start. */
typedef struct Blocks {
    atomic_int started[4];
    int thread[4];
    int waited_out;
} Blocks;

static void block_part(void *arg, int part, int thread)
{
    Blocks *b = arg;
    b->thread[part] = thread;
    atomic_store(&b->started[part], 1);
    const double t0 = cliff_clock_seconds();
    while (!atomic_load(&b->started[(part + 2) % 4]))
        if (cliff_clock_seconds() - t0 > 1.0) {
            b->waited_out = 1; /* only read after the job */
            return;
        }
}

static void test_own_block_first(void)
{
    if (cliff_fj_threads() != 2) return; /* the blocks below are for 2 threads */
    int met = 0; /* jobs the helper took part in */
    for (int rep = 0; rep < 20 && met < 5; rep++) {
        if (!fx_fj_wake()) continue; /* the helper had no core this time */
        Blocks b;
        memset(&b, 0, sizeof b);
        cliff_fj_for(4, block_part, &b);
        if (b.thread[0] + b.thread[1] + b.thread[2] + b.thread[3] == 0) continue; /* nor now */
        met++;
        if (b.thread[0] != 0 || b.thread[1] != 0 || b.thread[2] != 1 || b.thread[3] != 1) {
            CHECK_FAILF("rep %d: chunks ran on threads %d %d %d %d%s", rep, b.thread[0],
                        b.thread[1], b.thread[2], b.thread[3],
                        b.waited_out ? " (a chunk waited a second for its partner)" : "");
            return;
        }
    }
    CHECK(met > 0);
}

/* cliff_fj_two_lists_item is a bijection of [0, na + nb), and thread t's
 * block of chunks (cliff_fj_range over na + nb) holds about its share of each
 * list: within one item of the t-th range of either. */
static void test_two_lists(void)
{
    for (int nt = 1; nt <= 4; nt++)
        for (int na = 0; na < 20; na++)
            for (int nb = 0; nb < 70; nb += 1 + nb / 8) {
                char seen[100] = {0};
                for (int c = 0; c < na + nb; c++) {
                    const int it = cliff_fj_two_lists_item(c, na, nb, nt);
                    if (it < 0 || it >= na + nb || seen[it]++) {
                        CHECK_FAILF("nt %d, %d + %d items: chunk %d gives item %d (twice or out "
                                    "of range)", nt, na, nb, c, it);
                        return;
                    }
                }
                for (int t = 0; t < nt; t++) {
                    int lo, hi, a0, a1, b0, b1, fa = 0, fb = 0;
                    cliff_fj_range(na + nb, t, nt, &lo, &hi);
                    cliff_fj_range(na, t, nt, &a0, &a1);
                    cliff_fj_range(nb, t, nt, &b0, &b1);
                    for (int c = lo; c < hi; c++) {
                        const int it = cliff_fj_two_lists_item(c, na, nb, nt);
                        if (it < na) fa += it >= a0 - 1 && it <= a1;
                        else fb += it - na >= b0 - 1 && it - na <= b1;
                    }
                    if (fa + fb != hi - lo) {
                        CHECK_FAILF("nt %d, %d + %d items: thread %d's block holds %d items "
                                    "outside its shares", nt, na, nb, t, hi - lo - fa - fb);
                        return;
                    }
                }
            }
}

static void test_range(void)
{
    for (int n = 0; n < 40; n++)
        for (int parts = 1; parts < 9; parts++) {
            int next = 0;
            for (int p = 0; p < parts; p++) {
                int lo, hi;
                cliff_fj_range(n, p, parts, &lo, &hi);
                if (lo != next || hi < lo || hi - lo > n / parts + 1) {
                    CHECK_FAILF("n %d parts %d: part %d is [%d, %d)", n, parts, p, lo, hi);
                    return;
                }
                next = hi;
            }
            CHECK(next == n);
        }
}

int main(void)
{
    /* tests/run.sh exports 1 thread; the fork-join reads OpenBLAS's count once,
     * so ask for 2 before its first use (it still caps at the CPUs online) */
    openblas_set_num_threads(2);
    RUN(test_every_part_once);
    RUN(test_nested);
    RUN(test_concurrent_callers);
    RUN(test_own_block_first);
    RUN(test_range);
    RUN(test_two_lists);
    return test_main_end();
}
