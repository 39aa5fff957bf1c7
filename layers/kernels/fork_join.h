/* A minimal fork-join for the layers' own kernels (conv_fast.c, blas_avx512.c).
 *
 * cliff_fj_for hands out the chunks of a job one at a time, from a shared
 * counter, to the caller and to whichever helper threads are awake: on a
 * machine whose other cores are busy (other users, other processes), the
 * caller simply does most chunks itself instead of waiting for a helper that
 * has no core; it only ever waits for chunks a helper has already taken.
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

#endif
