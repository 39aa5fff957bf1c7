/* The AVX-512 register tiles of the matrix engine over a row-offset view of
 * op(B) (contract in gemm_tiles.h, cliff_gemm_vtile_avx512).
 *
 * ROWS (1..6) rows of op(A), broadcast one at a time from their row pointers,
 * x NV vectors of 16 columns read straight from the view's row k: ROWS*NV
 * accumulators, NV + ROWS loads per ROWS*NV FMAs. A tile of fewer rows than
 * MR runs its own specialization, so an output of Mg rows costs Mg rows of
 * FMAs (LeNet conv2's 50 channels: 8 tiles of 6 and one of 2, where a
 * 6-row-only tile would do 54). Columns past `cols` are never read (the
 * view's rows end there: masked loads), never stored. */
#include "gemm_tiles.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include "simd512.h"

#define MR CLIFF_GEMM_MR

/* acc[i][j] += sum_k A(i, k) B(k, 16 j ..) over kc steps, B's row k at
 * b + boff[k]. MASKED: the last vector is partial (lanes outside `last` not
 * read). PACKED: op(A)'s rows are adjacent (a[i] = a[0] + i, a packed panel),
 * read through one pointer: six pointers stepped apart cost six adds a step
 * and spill around the loop. */
CLIFF_AVX512_INLINE void vcore(const int ROWS, const int NV, const int MASKED, const int PACKED,
                               int kc, const float *const *a, ptrdiff_t acs, const float *b,
                               const int *boff, __mmask16 last, __m512 acc[MR][4])
{
    const float *ar[MR];
#pragma GCC unroll 6
    for (int i = 0; i < ROWS; i++) ar[i] = a[i];
    const float *ap = a[0];
    ptrdiff_t o = 0;
    for (int k = 0; k < kc; k++, o += acs, ap += acs) {
        const float *bk = b + boff[k];
        __m512 bv[4];
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++)
            bv[j] = MASKED && j == NV - 1 ? _mm512_maskz_loadu_ps(last, bk + 16 * j)
                                          : _mm512_loadu_ps(bk + 16 * j);
#pragma GCC unroll 6
        for (int i = 0; i < ROWS; i++) {
            const __m512 av = _mm512_set1_ps(PACKED ? ap[i] : ar[i][o]);
#pragma GCC unroll 4
            for (int j = 0; j < NV; j++) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
        }
    }
}

/* MASKED: the last vector is partial (its lanes past cols neither read nor
 * stored); every earlier one is whole. PACKED: see vcore. */
CLIFF_AVX512_INLINE void vtile(const int ROWS, const int NV, const int MASKED, const int PACKED,
                               CLIFF_GEMM_VTILE_ARGS)
{
    (void)rows;
    const __mmask16 last = cliff_first_lanes(cols - 16 * (NV - 1));
    __m512 acc[MR][4];
#pragma GCC unroll 6
    for (int i = 0; i < ROWS; i++)
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++)
            acc[i][j] = !accumulate ? (init ? _mm512_set1_ps(init[i]) : _mm512_setzero_ps())
                        : MASKED && j == NV - 1 ? cliff_load_mask(c + i * ldc + 16 * j, last)
                                                : _mm512_loadu_ps(c + i * ldc + 16 * j);
    vcore(ROWS, NV, MASKED, PACKED, kc, a, acs, b, boff, last, acc);
    /* one pointer stepped row by row: 24 precomputed row addresses would spill */
    float *ci = c;
#pragma GCC unroll 6
    for (int i = 0; i < ROWS; i++, ci += ldc)
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++) {
            if (MASKED && j == NV - 1)
                cliff_store_prefix(ci + 16 * j, acc[i][j], last);
            else
                _mm512_storeu_ps(ci + 16 * j, acc[i][j]);
        }
}

/* One row count over all the columns, 64 at a time: whole chunks, then the
 * tail's variant. */
#define VT(R, NV, M, P, J, N) vtile(R, NV, M, P, kc, a, acs, b + J, boff, c + J, ldc, rows, N, \
                                    accumulate, init)
#define VTILE_COLS(R, P)                                                                    \
    do {                                                                                    \
        int j0 = 0;                                                                         \
        for (; j0 + 64 <= cols; j0 += 64) VT(R, 4, 0, P, j0, 64);                           \
        const int n = cols - j0, nv = (n + 15) / 16;                                        \
        if (nv == 4)                                                                        \
            VT(R, 4, 1, P, j0, n);                                                          \
        else if (nv == 3)                                                                   \
            VT(R, 3, 1, P, j0, n);                                                          \
        else if (nv == 2)                                                                   \
            VT(R, 2, 1, P, j0, n);                                                          \
        else if (nv == 1)                                                                   \
            VT(R, 1, 1, P, j0, n);                                                          \
    } while (0)
#define VTILE_ROWS(R)                                                                       \
    __attribute__((target("avx512f"))) static void vtile_##R(CLIFF_GEMM_VTILE_ARGS)         \
    {                                                                                       \
        if (a[R - 1] == a[0] + (R - 1))                                                     \
            VTILE_COLS(R, 1);                                                               \
        else                                                                                \
            VTILE_COLS(R, 0);                                                               \
    }
VTILE_ROWS(1)
VTILE_ROWS(2)
VTILE_ROWS(3)
VTILE_ROWS(4)
VTILE_ROWS(5)
VTILE_ROWS(6)

/* The scatter-add tile (gemm_tiles.h): sums from zero, then added into the
 * rows of C at coff[i], chunk by chunk, rows in order within a chunk. */
CLIFF_AVX512_INLINE void stile(const int ROWS, const int NV, const int MASKED, int kc,
                               const float *const *a, ptrdiff_t acs, const float *b,
                               const int *boff, float *c, const int *coff, int cols)
{
    const __mmask16 last = cliff_first_lanes(cols - 16 * (NV - 1));
    __m512 acc[MR][4];
#pragma GCC unroll 6
    for (int i = 0; i < ROWS; i++)
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++) acc[i][j] = _mm512_setzero_ps();
    vcore(ROWS, NV, MASKED, 1, kc, a, acs, b, boff, last, acc);
#pragma GCC unroll 6
    for (int i = 0; i < ROWS; i++) {
        float *d = c + coff[i];
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++) {
            if (MASKED && j == NV - 1) {
                const __m512 sum = _mm512_add_ps(cliff_load_mask(d + 16 * j, last), acc[i][j]);
                cliff_store_prefix(d + 16 * j, sum, last);
            } else
                _mm512_storeu_ps(d + 16 * j, _mm512_add_ps(_mm512_loadu_ps(d + 16 * j), acc[i][j]));
        }
    }
}

#define ST(R, NV, M, J, N) stile(R, NV, M, kc, a, acs, b + J, boff, c + J, coff, N)
#define STILE_ROWS(R)                                                                       \
    __attribute__((target("avx512f"))) static void stile_##R(CLIFF_GEMM_STILE_ARGS)         \
    {                                                                                       \
        (void)rows; /* R */                                                                 \
        int j0 = 0;                                                                         \
        for (; j0 + 64 <= cols; j0 += 64) ST(R, 4, 0, j0, 64);                              \
        const int n = cols - j0, nv = (n + 15) / 16;                                        \
        if (nv == 4)                                                                        \
            ST(R, 4, 1, j0, n);                                                             \
        else if (nv == 3)                                                                   \
            ST(R, 3, 1, j0, n);                                                             \
        else if (nv == 2)                                                                   \
            ST(R, 2, 1, j0, n);                                                             \
        else if (nv == 1)                                                                   \
            ST(R, 1, 1, j0, n);                                                             \
    }
STILE_ROWS(1)
STILE_ROWS(2)
STILE_ROWS(3)
STILE_ROWS(4)
STILE_ROWS(5)
STILE_ROWS(6)

void cliff_gemm_stile_avx512(CLIFF_GEMM_STILE_ARGS)
{
    static void (*const by_rows[MR + 1])(CLIFF_GEMM_STILE_ARGS) = {
        stile_1, stile_1, stile_2, stile_3, stile_4, stile_5, stile_6};
    by_rows[rows](kc, a, acs, b, boff, c, coff, rows, cols);
}

void cliff_gemm_vtile_avx512(CLIFF_GEMM_VTILE_ARGS)
{
    static void (*const by_rows[MR + 1])(CLIFF_GEMM_VTILE_ARGS) = {
        vtile_1, vtile_1, vtile_2, vtile_3, vtile_4, vtile_5, vtile_6};
    by_rows[rows](kc, a, acs, b, boff, c, ldc, rows, cols, accumulate, init);
}

#else /* not x86-64: the engine packs views instead (never calls this) */

void cliff_gemm_vtile_avx512(CLIFF_GEMM_VTILE_ARGS)
{
    (void)kc, (void)a, (void)acs, (void)b, (void)boff, (void)c, (void)ldc, (void)rows;
    (void)cols, (void)accumulate, (void)init;
}

void cliff_gemm_stile_avx512(CLIFF_GEMM_STILE_ARGS)
{
    (void)kc, (void)a, (void)acs, (void)b, (void)boff, (void)c, (void)coff, (void)rows;
    (void)cols;
}

#endif
