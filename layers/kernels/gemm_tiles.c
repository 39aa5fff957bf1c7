/* Register tiles of the matrix engine (contract in gemm_tiles.h).
 *
 * AVX-512: 6 rows x 64 columns = 24 accumulators; per reduction step 4 vector
 * loads of the packed B panel and 6 broadcasts of the packed A panel feed 24
 * FMAs. AVX2: the 64 columns as four 6 x 16 sub-tiles (12 accumulators each,
 * 16 ymm registers), each over the whole reduction. Generic: fmaf per term. */
#include "gemm_tiles.h"

#include <math.h>

#define MR CLIFF_GEMM_MR
#define NR 64

void cliff_gemm_tile_generic(CLIFF_GEMM_TILE_ARGS)
{
    for (int i = 0; i < rows; i++) {
        float *ci = c + i * ldc;
        const float *ai = a[i];
        for (int j = 0; j < cols; j++) {
            float acc = accumulate ? ci[j] : 0.0f;
            for (int k = 0; k < kc; k++) acc = fmaf(ai[k * acs], bp[k * NR + j], acc);
            ci[j] = acc;
        }
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include "simd512.h"

#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma")))

/* The first n of 8 lanes as a mask for maskload/maskstore. */
AVX2_INLINE __m256i avx2_mask(int n)
{
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
}

/* One 6 x 16 sub-tile: columns [j0, j0 + 16) of the panel. */
AVX2_INLINE void avx2_sub(CLIFF_GEMM_TILE_ARGS)
{
    const __m256i m0 = avx2_mask(cols), m1 = avx2_mask(cols - 8);
    __m256 acc[MR][2];
    for (int i = 0; i < MR; i++) {
        if (accumulate && i < rows) {
            acc[i][0] = _mm256_maskload_ps(c + i * ldc, m0);
            acc[i][1] = _mm256_maskload_ps(c + i * ldc + 8, m1);
        } else {
            acc[i][0] = acc[i][1] = _mm256_setzero_ps();
        }
    }
    for (int k = 0; k < kc; k++) {
        const __m256 b0 = _mm256_loadu_ps(bp + k * NR), b1 = _mm256_loadu_ps(bp + k * NR + 8);
#pragma GCC unroll 6
        for (int i = 0; i < MR; i++) {
            const __m256 av = _mm256_broadcast_ss(a[i] + k * acs);
            acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
        }
    }
    for (int i = 0; i < rows; i++) {
        _mm256_maskstore_ps(c + i * ldc, m0, acc[i][0]);
        _mm256_maskstore_ps(c + i * ldc + 8, m1, acc[i][1]);
    }
}

__attribute__((target("avx2,fma"))) void cliff_gemm_tile_avx2(CLIFF_GEMM_TILE_ARGS)
{
    for (int j0 = 0; j0 < cols; j0 += 16)
        avx2_sub(kc, a, acs, bp + j0, c + j0, ldc, rows, cols - j0, accumulate);
}

/* NV vectors of 16 columns; MASKED: the last columns are a partial vector. */
CLIFF_AVX512_INLINE void avx512_tile(const int NV, const int MASKED, CLIFF_GEMM_TILE_ARGS)
{
    __mmask16 mk[4];
    for (int j = 0; j < 4; j++) mk[j] = cliff_first_lanes(cols - 16 * j);
    __m512 acc[MR][4];
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++)
            acc[i][j] = accumulate && i < rows
                            ? (MASKED ? cliff_load_mask(c + i * ldc + 16 * j, mk[j])
                                      : _mm512_loadu_ps(c + i * ldc + 16 * j))
                            : _mm512_setzero_ps();
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
    for (ptrdiff_t o = 0, end = kc * acs; o < end; o += acs, bp += NR) {
        __m512 bv[4];
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++) bv[j] = _mm512_loadu_ps(bp + 16 * j);
        const float *ar[MR] = {a0, a1, a2, a3, a4, a5};
        /* one broadcast live at a time: 24 accumulators + 4 of B + 1 fit in 32 */
#pragma GCC unroll 6
        for (int i = 0; i < MR; i++) {
            const __m512 av = _mm512_set1_ps(ar[i][o]);
#pragma GCC unroll 4
            for (int j = 0; j < NV; j++) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
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

__attribute__((target("avx512f"))) void cliff_gemm_tile_avx512(CLIFF_GEMM_TILE_ARGS)
{
    const int nv = (cols + 15) / 16;
    if (cols == NR)
        avx512_tile(4, 0, kc, a, acs, bp, c, ldc, rows, cols, accumulate);
    else if (nv == 4)
        avx512_tile(4, 1, kc, a, acs, bp, c, ldc, rows, cols, accumulate);
    else if (nv == 3)
        avx512_tile(3, 1, kc, a, acs, bp, c, ldc, rows, cols, accumulate);
    else if (nv == 2)
        avx512_tile(2, 1, kc, a, acs, bp, c, ldc, rows, cols, accumulate);
    else
        avx512_tile(1, 1, kc, a, acs, bp, c, ldc, rows, cols, accumulate);
}

#else /* not x86-64: the engine never selects these */

void cliff_gemm_tile_avx2(CLIFF_GEMM_TILE_ARGS)
{
    cliff_gemm_tile_generic(kc, a, acs, bp, c, ldc, rows, cols, accumulate);
}

void cliff_gemm_tile_avx512(CLIFF_GEMM_TILE_ARGS)
{
    cliff_gemm_tile_generic(kc, a, acs, bp, c, ldc, rows, cols, accumulate);
}

#endif
