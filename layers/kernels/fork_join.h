/* A minimal fork-join for the layers' own kernels (conv_fast.c, blas_avx512.c).
 *
 * cliff_fj_for cuts a job's chunks into one contiguous block per thread
 * (cliff_fj_range). Each thread takes the chunks of its own block one at a
 * time, in order, then what is left of the other blocks: while every thread
 * keeps up, chunk c runs on thread c * threads / chunks, so layers that cut
 * their work in the same order (images first) find their input in the cache
 * of the core that wrote it. On a machine whose other cores are busy (other
 * users, other processes), the caller simply does most chunks itself instead
 * of waiting for a helper that has no core; it only ever waits for chunks a
 * helper has already taken.
 *
 * Why not OpenMP: a GNU OpenMP team spins for a long time after every
 * parallel region, and next to the pthread OpenBLAS that spinning took the
 * second core away from the BLAS threads (LeNet fell to 29 it/s, see
 * im2col.c). Here an idle helper polls briefly (yielding its core between
 * polls), then sleeps on a condition variable until the next job.
 *
 * Thread count: OpenBLAS's (openblas_get_num_threads(): OPENBLAS_NUM_THREADS,
 * OMP_NUM_THREADS or the number of cores), read once at the first call, at
 * most the number of online CPUs and CLIFF_FJ_MAX. With 1 thread, or when
 * called from inside a chunk or while another thread runs a job, the chunks
 * run in the caller, in order, as thread 0. */
#ifndef CLIFF_FORK_JOIN_H
#define CLIFF_FORK_JOIN_H

#define CLIFF_FJ_MAX 8

/* Threads a job may run on (>= 1); per-thread buffers need this many. */
int cliff_fj_threads(void);

/* Threads a job started here and now would run on: cliff_fj_threads(), or 1
 * inside a chunk (nested jobs run serially in their caller). A caller that
 * cuts its work by this number cuts it as a one-thread run would when it is
 * nested, which the tests use to compare the two. */
int cliff_fj_available(void);

/* Runs fn(arg, chunk, thread) for every chunk in [0, nchunks), each exactly
 * once, and returns when all are done. thread < cliff_fj_threads() names the
 * thread running the chunk (0: the caller); no two chunks run at the same time
 * with the same thread index, so it can select per-thread scratch. */
void cliff_fj_for(int nchunks, void (*fn)(void *arg, int chunk, int thread), void *arg);

/* Splits [0, n) into nparts near-equal ranges; part's range is [*lo, *hi). */
static inline void cliff_fj_range(int n, int part, int nparts, int *lo, int *hi)
{
    *lo = (int)((long long)n * part / nparts);
    *hi = (int)((long long)n * (part + 1) / nparts);
}

/* For a job whose chunks are two lists of work cut by images in the same
 * order (say na weight-gradient groups of images, then nb single images):
 * the item of fork-join chunk c, < na for the first list, else na + the
 * index in the second. The chunks are ordered thread by thread: thread t's
 * share of the first list, then its share of the second, each share the t-th
 * of nt near-equal ranges (cliff_fj_range). Thread t's own block of chunks
 * then holds both kinds of work for about the same images, instead of the
 * first thread getting the whole first list. A bijection of [0, na + nb). */
static inline int cliff_fj_two_lists_item(int c, int na, int nb, int nt)
{
    for (int t = 0; t < nt; t++) {
        int a0, a1, b0, b1;
        cliff_fj_range(na, t, nt, &a0, &a1);
        cliff_fj_range(nb, t, nt, &b0, &b1);
        if (c < a1 - a0) return a0 + c;
        c -= a1 - a0;
        if (c < b1 - b0) return na + b0 + c;
        c -= b1 - b0;
    }
    return -1; /* c >= na + nb */
}

#endif
