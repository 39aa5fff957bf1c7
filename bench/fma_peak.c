/* bench/fma_peak.c: the core's own FP32 ceiling, measured. Each thread runs a
 * loop of fused multiply-adds on registers only (16 independent accumulators, more
 * than the FMA latency times the FMA units, so the units never wait and nothing
 * touches memory), once with 512-bit vectors (AVX-512F) and once with 256-bit ones
 * (AVX2 + FMA, what OpenBLAS's Haswell kernels use). A FLOP is a multiply or an
 * add: one FMA on 16 floats is 32 FLOPs. Best of REPS repetitions, since load from
 * other processes only ever lowers a figure.
 *
 *   fma_peak [threads]      (default 1; the threads run the loop at the same time)
 *
 * Prints one line per width:  "fma_peak threads T width W gflops G"  (G is "n/a"
 * when the CPU lacks that instruction set). Built by `make bench`. */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "layers/kernels/clock.h"

enum { ACC = 16, REPS = 7 };
/* Per thread and repetition: 16 FMAs per step at 2 per cycle, ~0.1 s at 4 GHz. */
static const long ITERS = 50L * 1000 * 1000;

/* acc = acc * a + b with a just below 1: the values settle near b / (1 - a), so
 * they neither overflow nor become subnormal (which would slow some cores). The
 * sum is returned so that the compiler must keep every FMA. */
__attribute__((target("avx512f"))) static float loop512(long n)
{
    __m512 acc[ACC];
    const __m512 a = _mm512_set1_ps(0.9999f), b = _mm512_set1_ps(1e-3f);
    for (int i = 0; i < ACC; i++) acc[i] = _mm512_set1_ps((float)i);
    for (long k = 0; k < n; k++)
        for (int i = 0; i < ACC; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    __m512 s = acc[0];
    for (int i = 1; i < ACC; i++) s = _mm512_add_ps(s, acc[i]);
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float loop256(long n)
{
    __m256 acc[ACC];
    const __m256 a = _mm256_set1_ps(0.9999f), b = _mm256_set1_ps(1e-3f);
    for (int i = 0; i < ACC; i++) acc[i] = _mm256_set1_ps((float)i);
    for (long k = 0; k < n; k++)
        for (int i = 0; i < ACC; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    __m256 s = acc[0];
    for (int i = 1; i < ACC; i++) s = _mm256_add_ps(s, acc[i]);
    float v[8];
    _mm256_storeu_ps(v, s);
    return v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
}

typedef struct {
    pthread_barrier_t *start;
    int width;         /* 512 or 256 */
    double t0, t1;     /* this thread's loop, seconds */
    volatile float sink;
} Worker;

static void *work(void *p)
{
    Worker *w = p;
    pthread_barrier_wait(w->start);
    w->t0 = cliff_clock_seconds();
    w->sink = w->width == 512 ? loop512(ITERS) : loop256(ITERS);
    w->t1 = cliff_clock_seconds();
    return NULL;
}

/* GFLOP/s of T threads running the loop together: all their FLOPs over the time
 * from the first start to the last end; best of REPS. */
static double measure(int threads, int width)
{
    double best = 0;
    for (int r = 0; r < REPS; r++) {
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, (unsigned)threads);
        Worker w[threads];
        pthread_t id[threads];
        for (int t = 0; t < threads; t++) {
            w[t] = (Worker){.start = &start, .width = width};
            if (t > 0 && pthread_create(&id[t], NULL, work, &w[t]) != 0) {
                fprintf(stderr, "fma_peak: cannot start thread %d\n", t);
                exit(1);
            }
        }
        work(&w[0]);
        double t0 = w[0].t0, t1 = w[0].t1;
        for (int t = 1; t < threads; t++) {
            pthread_join(id[t], NULL);
            if (w[t].t0 < t0) t0 = w[t].t0;
            if (w[t].t1 > t1) t1 = w[t].t1;
        }
        pthread_barrier_destroy(&start);
        double flops = 2.0 * (width / 32) * ACC * (double)ITERS * threads;
        if (flops / (t1 - t0) / 1e9 > best) best = flops / (t1 - t0) / 1e9;
    }
    return best;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads < 1 || threads > 256) {
        fprintf(stderr, "usage: fma_peak [threads 1..256]\n");
        return 2;
    }
    __builtin_cpu_init();
    const int widths[2] = {512, 256};
    const int have[2] = {__builtin_cpu_supports("avx512f"),
                         __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")};
    for (int i = 0; i < 2; i++) {
        if (have[i])
            printf("fma_peak threads %d width %d gflops %.1f\n", threads, widths[i],
                   measure(threads, widths[i]));
        else
            printf("fma_peak threads %d width %d gflops n/a\n", threads, widths[i]);
    }
    return 0;
}
