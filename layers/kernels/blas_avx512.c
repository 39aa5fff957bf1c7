/* cliff_gemm_avx512 (blas.h): register-tiled AVX-512 products without packing.
 *
 * Tile: 6 rows of C x 64 columns (4 vectors): 24 accumulators; per step of the
 * reduction 4 vector loads of B and 6 broadcasts of A feed 24 FMAs. Columns
 * past N are masked; rows past M repeat the last row and are not stored. The
 * reduction is cut into blocks of KC so a 64-column panel of B (KC x 64
 * floats, 128 KB) stays in L2 while every row block of A passes over it.
 * Big products are shared out to the fork-join's threads in chunks of column
 * panels or row blocks (disjoint parts of C). */
#include "blas.h"

#include <stddef.h>

#include "fork_join.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include "simd512.h"

#define GEMM_MR 6
#define GEMM_KC 512
/* Products smaller than this (multiply-adds, ~20 us on one core) stay on one
 * thread: a fork-join costs a few microseconds. */
#define GEMM_SPLIT_MACS 4e6
#define AVX512 __attribute__((target("avx512f")))
#define AVX512_INLINE static inline __attribute__((always_inline, target("avx512f")))

static int avx512_allowed = 1;

void cliff_avx512_allow(int on) { avx512_allowed = on; }

int cliff_gemm_avx512_usable(void)
{
    static int cpu = -1; /* a benign race: every thread computes the same value */
    if (cpu < 0) {
        __builtin_cpu_init();
        cpu = __builtin_cpu_supports("avx512f") ? 1 : 0;
    }
    return avx512_allowed && cpu;
}

/* The first n of 16 lanes (n clamped to [0, 16]). */
AVX512_INLINE __mmask16 first_lanes(int n)
{
    return n <= 0 ? 0 : n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* One 6 x (16*NV) tile of C over nk reduction steps. ap[i]: row i of A at
 * step 0 (advancing by acs a step); b: B at (step 0, first column). */
AVX512_INLINE void tile(const int NV, const int MASKED, int nk, const float *const *ap,
                        ptrdiff_t acs, const float *b, ptrdiff_t ldb, int rows, int accumulate,
                        float *c, ptrdiff_t ldc, const __mmask16 *mk)
{
    __m512 acc[GEMM_MR][4];
#pragma GCC unroll 6
    for (int i = 0; i < GEMM_MR; i++)
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++)
            acc[i][j] = accumulate && i < rows
                            ? (MASKED ? cliff_load_mask(c + i * ldc + 16 * j, mk[j])
                                      : _mm512_loadu_ps(c + i * ldc + 16 * j))
                            : _mm512_setzero_ps();
    const float *a0 = ap[0], *a1 = ap[1], *a2 = ap[2], *a3 = ap[3], *a4 = ap[4], *a5 = ap[5];
    for (int k = 0; k < nk; k++, b += ldb) {
        __m512 bv[4];
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++)
            bv[j] = MASKED ? cliff_load_mask(b + 16 * j, mk[j]) : _mm512_loadu_ps(b + 16 * j);
        const ptrdiff_t o = k * acs;
        const float *ar[GEMM_MR] = {a0, a1, a2, a3, a4, a5};
        /* one broadcast live at a time: 24 accumulators + 4 of B + 1 fit in 32 */
#pragma GCC unroll 6
        for (int i = 0; i < GEMM_MR; i++) {
            const __m512 av = _mm512_set1_ps(ar[i][o]);
#pragma GCC unroll 4
            for (int j = 0; j < NV; j++) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < GEMM_MR; i++) {
        if (i >= rows) break;
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++) {
            if (MASKED)
                cliff_store_prefix(c + i * ldc + 16 * j, acc[i][j], mk[j]);
            else
                _mm512_storeu_ps(c + i * ldc + 16 * j, acc[i][j]);
        }
    }
}

/* All row blocks of one 64-column panel over one reduction block. */
AVX512 static void panel(int M, int ncols, int nk, const float *a, ptrdiff_t ars, ptrdiff_t acs,
                         const float *b, ptrdiff_t ldb, int accumulate, float *c, ptrdiff_t ldc)
{
    __mmask16 mk[4];
    for (int j = 0; j < 4; j++) mk[j] = first_lanes(ncols - 16 * j);
    const int nv = (ncols + 15) / 16;
    for (int i0 = 0; i0 < M; i0 += GEMM_MR) {
        const int rows = M - i0 < GEMM_MR ? M - i0 : GEMM_MR;
        const float *ap[GEMM_MR];
        for (int i = 0; i < GEMM_MR; i++)
            ap[i] = a + (ptrdiff_t)(i0 + (i < rows ? i : rows - 1)) * ars;
        float *ci = c + (ptrdiff_t)i0 * ldc;
        if (ncols == 64)
            tile(4, 0, nk, ap, acs, b, ldb, rows, accumulate, ci, ldc, mk);
        else if (nv == 4)
            tile(4, 1, nk, ap, acs, b, ldb, rows, accumulate, ci, ldc, mk);
        else if (nv == 3)
            tile(3, 1, nk, ap, acs, b, ldb, rows, accumulate, ci, ldc, mk);
        else if (nv == 2)
            tile(2, 1, nk, ap, acs, b, ldb, rows, accumulate, ci, ldc, mk);
        else
            tile(1, 1, nk, ap, acs, b, ldb, rows, accumulate, ci, ldc, mk);
    }
}

static void gemm_serial(int M, int N, int K, const float *a, ptrdiff_t ars, ptrdiff_t acs,
                        const float *b, ptrdiff_t ldb, int accumulate, float *c, ptrdiff_t ldc)
{
    for (int k0 = 0; k0 < K; k0 += GEMM_KC) {
        const int nk = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
        for (int j0 = 0; j0 < N; j0 += 64)
            panel(M, N - j0 < 64 ? N - j0 : 64, nk, a + (ptrdiff_t)k0 * acs, ars, acs,
                  b + (ptrdiff_t)k0 * ldb + j0, ldb, accumulate || k0 > 0, c + j0, ldc);
    }
}

typedef struct GemmJob {
    int M, N, K, by_cols, per_chunk; /* 64-column panels or 6-row blocks a chunk */
    const float *a, *b;
    ptrdiff_t ars, acs, ldb, ldc;
    int accumulate;
    float *c;
} GemmJob;

/* One chunk: a range of 64-column panels, or of 6-row blocks (disjoint parts of C). */
static void gemm_chunk(void *arg, int chunk, int thread)
{
    (void)thread;
    const GemmJob *j = arg;
    if (j->by_cols) {
        const int lo = chunk * j->per_chunk * 64, end = lo + j->per_chunk * 64;
        const int hi = end < j->N ? end : j->N;
        gemm_serial(j->M, hi - lo, j->K, j->a, j->ars, j->acs, j->b + lo, j->ldb,
                    j->accumulate, j->c + lo, j->ldc);
    } else {
        const int lo = chunk * j->per_chunk * GEMM_MR, end = lo + j->per_chunk * GEMM_MR;
        const int hi = end < j->M ? end : j->M;
        gemm_serial(hi - lo, j->N, j->K, j->a + (ptrdiff_t)lo * j->ars, j->ars, j->acs, j->b,
                    j->ldb, j->accumulate, j->c + (ptrdiff_t)lo * j->ldc, j->ldc);
    }
}

void cliff_gemm_avx512(int M, int N, int K, const float *a, ptrdiff_t ars, ptrdiff_t acs,
                       const float *b, ptrdiff_t ldb, int accumulate, float *c, ptrdiff_t ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) { /* C = 0 or unchanged */
        if (!accumulate)
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) c[(ptrdiff_t)i * ldc + j] = 0.0f;
        return;
    }
    const int nt = cliff_fj_threads();
    if (nt > 1 && (double)M * N * K >= GEMM_SPLIT_MACS) {
        /* chunks along the longer of the two tile counts, about 4 a thread */
        const int panels = (N + 63) / 64, blocks = (M + GEMM_MR - 1) / GEMM_MR;
        const int by_cols = panels >= blocks, units = by_cols ? panels : blocks;
        int per = units / (4 * nt);
        if (per < 1) per = 1;
        GemmJob job = {M, N, K, by_cols, per, a, b, ars, acs, ldb, ldc, accumulate, c};
        cliff_fj_for((units + per - 1) / per, gemm_chunk, &job);
        return;
    }
    gemm_serial(M, N, K, a, ars, acs, b, ldb, accumulate, c, ldc);
}

#else

void cliff_avx512_allow(int on) { (void)on; }

int cliff_gemm_avx512_usable(void) { return 0; }

void cliff_gemm_avx512(int M, int N, int K, const float *a, ptrdiff_t ars, ptrdiff_t acs,
                       const float *b, ptrdiff_t ldb, int accumulate, float *c, ptrdiff_t ldc)
{
    (void)M, (void)N, (void)K, (void)a, (void)ars, (void)acs, (void)b, (void)ldb;
    (void)accumulate, (void)c, (void)ldc;
}

#endif
