#include "fork_join.h"

#include <cblas.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "clock.h"

/* How long an idle helper polls for the next job before it sleeps: long
 * enough to bridge the short layers between two kernels of one iteration,
 * short enough not to hold a core through the solver step. */
#define FJ_SPIN_US 100.0
/* After this long a waiter yields its core between polls. */
#define FJ_YIELD_US 2.0

typedef void (*FjFn)(void *, int, int);

static struct {
    pthread_once_t once;
    int nthreads;            /* helpers + the caller */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* The current job's sequence number, bumped under mu once the job's
     * counters below are set. */
    atomic_uint seq;
    /* Per thread t, (job sequence << 32) | the next chunk of t's own block
     * (cliff_fj_range(nchunks, t, nthreads)); a chunk is taken by a
     * compare-exchange that also checks the sequence, so a helper holding a
     * stale view of the job takes nothing. One cache line each. */
    struct {
        _Alignas(64) atomic_ullong next;
    } block[CLIFF_FJ_MAX];
    atomic_int done;         /* chunks of the current job finished */
    _Atomic(FjFn) fn;        /* the current job (published before its sequence) */
    _Atomic(void *) arg;
    atomic_int nchunks;
    atomic_flag busy;        /* a job is being run */
} fj = {.once = PTHREAD_ONCE_INIT,
        .mu = PTHREAD_MUTEX_INITIALIZER,
        .cv = PTHREAD_COND_INITIALIZER,
        .busy = ATOMIC_FLAG_INIT};

static _Thread_local int fj_inside; /* this thread is running a chunk */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* The sequence number of the current job. */
static inline unsigned job_seq(void)
{
    return atomic_load_explicit(&fj.seq, memory_order_acquire);
}

/* The next chunk of block b of job seq (the block ends before hi), or -1 when
 * the block is used up or the job replaced. */
static int take_from(int b, unsigned seq, int hi)
{
    atomic_ullong *next = &fj.block[b].next;
    unsigned long long s = atomic_load_explicit(next, memory_order_acquire);
    for (;;) {
        if ((unsigned)(s >> 32) != seq || (long long)(s & 0xFFFFFFFFu) >= hi) return -1;
        if (atomic_compare_exchange_weak_explicit(next, &s, s + 1, memory_order_acq_rel,
                                                  memory_order_acquire))
            return (int)(s & 0xFFFFFFFFu);
    }
}

/* Runs chunks of job seq (n chunks over nt threads) until none is left: first
 * the thread's own block, in order, then what remains of the others'. Chunk c
 * therefore runs on thread c * nt / n whenever every thread keeps up, so a
 * layer cut into chunks in the same order as the layer before it (images
 * first) finds its input in the cache of the core that wrote it. */
static void work(unsigned seq, FjFn fn, void *arg, int n, int nt, int thread)
{
    for (int k = 0; k < nt; k++) {
        const int b = (thread + k) % nt;
        int lo, hi;
        cliff_fj_range(n, b, nt, &lo, &hi);
        for (int c; (c = take_from(b, seq, hi)) >= 0;) {
            fn(arg, c, thread);
            atomic_fetch_add_explicit(&fj.done, 1, memory_order_release);
        }
    }
}

static void *helper(void *p)
{
    const int id = (int)(intptr_t)p;
    unsigned seen = 0; /* the sequence before the first job, even if one is
                          already posted when this thread starts */
    fj_inside = 1;
    for (;;) {
        unsigned seq;
        const double t0 = cliff_clock_seconds();
        for (unsigned spins = 1;; spins++) {
            seq = job_seq();
            if (seq != seen) break;
            cpu_relax();
            if (spins % 64 == 0) {
                const double t = 1e6 * (cliff_clock_seconds() - t0); /* us */
                if (t > FJ_SPIN_US) {
                    pthread_mutex_lock(&fj.mu);
                    while ((seq = job_seq()) == seen) pthread_cond_wait(&fj.cv, &fj.mu);
                    pthread_mutex_unlock(&fj.mu);
                    break;
                }
                if (t > FJ_YIELD_US) sched_yield();
            }
        }
        seen = seq;
        /* fn/arg/nchunks belong to job seq or a later one; in the latter case
         * take_from() refuses, as the sequence no longer matches */
        work(seq, atomic_load_explicit(&fj.fn, memory_order_relaxed),
             atomic_load_explicit(&fj.arg, memory_order_relaxed),
             atomic_load_explicit(&fj.nchunks, memory_order_relaxed), fj.nthreads, id);
    }
    return NULL;
}

/* After fork() only the calling thread exists: run jobs in the caller. */
static void after_fork_child(void) { fj.nthreads = 1; }

static void fj_init(void)
{
    int n = openblas_get_num_threads();
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN); /* never more threads than cores */
    if (cpus > 0 && n > cpus) n = (int)cpus;
    if (n > CLIFF_FJ_MAX) n = CLIFF_FJ_MAX;
    fj.nthreads = 1;
    if (n <= 1) return;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (int i = 1; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, helper, (void *)(intptr_t)i)) break;
        fj.nthreads = i + 1;
    }
    pthread_attr_destroy(&attr);
    pthread_atfork(NULL, NULL, after_fork_child);
}

int cliff_fj_threads(void)
{
    pthread_once(&fj.once, fj_init);
    return fj.nthreads;
}

int cliff_fj_available(void)
{
    const int nt = cliff_fj_threads();
    return fj_inside ? 1 : nt;
}

void cliff_fj_for(int nchunks, void (*fn)(void *arg, int chunk, int thread), void *arg)
{
    const int nt = cliff_fj_threads();
    if (nchunks <= 1 || nt <= 1 || fj_inside || atomic_flag_test_and_set(&fj.busy)) {
        for (int c = 0; c < nchunks; c++) fn(arg, c, 0);
        return;
    }
    atomic_store_explicit(&fj.fn, fn, memory_order_relaxed);
    atomic_store_explicit(&fj.arg, arg, memory_order_relaxed);
    atomic_store_explicit(&fj.nchunks, nchunks, memory_order_relaxed);
    atomic_store_explicit(&fj.done, 0, memory_order_relaxed);
    pthread_mutex_lock(&fj.mu);
    const unsigned seq = atomic_load_explicit(&fj.seq, memory_order_relaxed) + 1;
    for (int b = 0; b < nt; b++) {
        int lo, hi;
        cliff_fj_range(nchunks, b, nt, &lo, &hi);
        atomic_store_explicit(&fj.block[b].next, (unsigned long long)seq << 32 | (unsigned)lo,
                              memory_order_relaxed);
    }
    atomic_store_explicit(&fj.seq, seq, memory_order_release);
    pthread_cond_broadcast(&fj.cv);
    pthread_mutex_unlock(&fj.mu);
    fj_inside = 1;
    work(seq, fn, arg, nchunks, nt, 0);
    fj_inside = 0;
    /* only chunks a helper has taken can still be running */
    const double t0 = cliff_clock_seconds();
    for (unsigned spins = 1; atomic_load_explicit(&fj.done, memory_order_acquire) < nchunks;
         spins++) {
        cpu_relax();
        if (spins % 64 == 0 && 1e6 * (cliff_clock_seconds() - t0) > FJ_YIELD_US) sched_yield();
    }
    atomic_flag_clear(&fj.busy);
}
