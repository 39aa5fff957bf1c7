/* The matrix engine's dot-product kind (contract in gemm.h): C += A B^T with
 * both operands contiguous along the reduction, in the 16-lane order.
 *
 * Register tiles, one per instruction set; the tile shape does not touch the
 * bits (every element of C has its own 16 lanes):
 *   AVX-512: 5 rows of A x 5 rows of B = 25 zmm accumulators; per 16
 *     positions 5 + 5 loads feed 25 FMAs.
 *   AVX2: 3 x 2, each element's 16 lanes as two ymm halves (12 accumulators
 *     of the 16 registers).
 *   Generic: one element at a time, 16 floats of lanes, fmaf per term.
 * Rows past the end of A or B repeat the last one; their sums are dropped. */
#include "gemm.h"

#include <math.h>

/* The largest tile (AVX-512's): the driver's row-pointer arrays. */
#define TMAX CLIFF_GEMM_DOT_TILE

/* One tile: C[i][j] += the dot of ap[i] and bp[j] for i < rows, j < cols
 * (ap holds TM pointers, bp TN; segment s of a row at + s * astride). */
typedef void (*DotTile)(int nseg, int len, const float *const *ap, ptrdiff_t astride,
                        const float *const *bp, ptrdiff_t bstride, float *c, ptrdiff_t ldc,
                        int rows, int cols);

/* The contract's reduction tree over 16 lanes. */
static float tree16(const float *l)
{
    float h[4];
    for (int t = 0; t < 4; t++) h[t] = (l[t] + l[t + 8]) + (l[t + 4] + l[t + 12]);
    return (h[0] + h[2]) + (h[1] + h[3]);
}

static void tile_generic(int nseg, int len, const float *const *ap, ptrdiff_t astride,
                         const float *const *bp, ptrdiff_t bstride, float *c, ptrdiff_t ldc,
                         int rows, int cols)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            float lane[16] = {0};
            for (int s = 0; s < nseg; s++) {
                const float *a = ap[i] + s * astride, *b = bp[j] + s * bstride;
                for (int v = 0; v < len; v += 16)
                    for (int t = 0; t < 16; t++) { /* past len: a term of 0 * 0 */
                        const int p = v + t;
                        lane[t] = fmaf(p < len ? a[p] : 0.0f, p < len ? b[p] : 0.0f, lane[t]);
                    }
            }
            c[(ptrdiff_t)i * ldc + j] += tree16(lane);
        }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include "simd512.h"

#define AVX2 __attribute__((target("avx2,fma")))
#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma")))
#define AVX512 __attribute__((target("avx512f")))
#define AVX512_INLINE CLIFF_AVX512_INLINE

/* ---- AVX2 ---- */

#define A2M 3
#define A2N 2

/* The first n of 8 lanes as a maskload mask (n <= 0: none, n >= 8: all). */
AVX2_INLINE __m256i first8(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* The tree of lanes 0..7 (lo) and 8..15 (hi): lo + hi pairs lane t with t + 8,
 * the 128-bit halves then t with t + 4, then (h0 + h2) + (h1 + h3). */
AVX2_INLINE float tree_avx2(__m256 lo, __m256 hi)
{
    const __m256 s = _mm256_add_ps(lo, hi);
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_shuffle_ps(q, q, 1)));
}

static AVX2 void tile_avx2(int nseg, int len, const float *const *ap, ptrdiff_t astride,
                           const float *const *bp, ptrdiff_t bstride, float *c, ptrdiff_t ldc,
                           int rows, int cols)
{
    __m256 acc[A2M][A2N][2];
    for (int i = 0; i < A2M; i++)
        for (int j = 0; j < A2N; j++) acc[i][j][0] = acc[i][j][1] = _mm256_setzero_ps();
    const int full = len & ~15;
    const __m256i k0 = first8(len - full), k1 = first8(len - full - 8);
    for (int s = 0; s < nseg; s++) {
        const float *a[A2M], *b[A2N];
        for (int i = 0; i < A2M; i++) a[i] = ap[i] + s * astride;
        for (int j = 0; j < A2N; j++) b[j] = bp[j] + s * bstride;
        for (int v = 0; v < len; v += 16)
            for (int h = 0; h < 2; h++) {
                const int o = v + 8 * h;
                const __m256i k = h ? k1 : k0;
                __m256 av[A2M];
                for (int i = 0; i < A2M; i++)
                    av[i] = v < full ? _mm256_loadu_ps(a[i] + o) : _mm256_maskload_ps(a[i] + o, k);
                for (int j = 0; j < A2N; j++) {
                    const __m256 bv =
                        v < full ? _mm256_loadu_ps(b[j] + o) : _mm256_maskload_ps(b[j] + o, k);
                    for (int i = 0; i < A2M; i++)
                        acc[i][j][h] = _mm256_fmadd_ps(av[i], bv, acc[i][j][h]);
                }
            }
    }
    for (int i = 0; i < A2M; i++)
        for (int j = 0; j < A2N; j++)
            if (i < rows && j < cols)
                c[(ptrdiff_t)i * ldc + j] += tree_avx2(acc[i][j][0], acc[i][j][1]);
}

/* ---- AVX-512 ---- */

#define A5M CLIFF_GEMM_DOT_TILE
#define A5N CLIFF_GEMM_DOT_TILE

/* The tree of a, b, c, d at once (out[0..3]): 256-bit halves pair lane t
 * with t + 8, 128-bit quarters t with t + 4, then (h0 + h2) + (h1 + h3) in
 * every quarter; quarter q holds the sum of the q-th operand in its lane 0
 * (read out by extraction: a permutation's index vector would be a constant
 * the compiler keeps in a register across the tile's loop, spilling an
 * accumulator). */
AVX512_INLINE void tree4_avx512(__m512 a, __m512 b, __m512 c, __m512 d, float *out)
{
    __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
    __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x44), _mm512_shuffle_f32x4(c, d, 0xEE));
    __m512 q =
        _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xDD));
    q = _mm512_add_ps(q, _mm512_permute_ps(q, 0x4E));
    q = _mm512_add_ps(q, _mm512_permute_ps(q, 0xB1));
    out[0] = _mm_cvtss_f32(_mm512_castps512_ps128(q));
    out[1] = _mm_cvtss_f32(_mm512_extractf32x4_ps(q, 1));
    out[2] = _mm_cvtss_f32(_mm512_extractf32x4_ps(q, 2));
    out[3] = _mm_cvtss_f32(_mm512_extractf32x4_ps(q, 3));
}

/* The tree of one accumulator. */
AVX512_INLINE float tree1_avx512(__m512 a)
{
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1));
    const __m256 s = _mm256_add_ps(_mm512_castps512_ps256(a), hi);
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_shuffle_ps(q, q, 1)));
}

static AVX512 void tile_avx512(int nseg, int len, const float *const *ap, ptrdiff_t astride,
                               const float *const *bp, ptrdiff_t bstride, float *c,
                               ptrdiff_t ldc, int rows, int cols)
{
    __m512 acc[A5M][A5N];
#pragma GCC unroll 5
    for (int i = 0; i < A5M; i++)
#pragma GCC unroll 5
        for (int j = 0; j < A5N; j++) acc[i][j] = _mm512_setzero_ps();
    const int full = len & ~15;
    const __mmask16 tail = cliff_first_lanes(len - full);
    const float *a[A5M], *b[A5N];
#pragma GCC unroll 5
    for (int i = 0; i < A5M; i++) a[i] = ap[i];
#pragma GCC unroll 5
    for (int j = 0; j < A5N; j++) b[j] = bp[j];
    for (int s = 0; s < nseg; s++) {
        for (int v = 0; v < len; v += 16) {
            /* masked loads throughout: a plain-load variant was slower (LeNet
             * conv2 dW 0.98 against 0.94 ms at -O3, 1.32 against 1.16 at -O2) */
            const __mmask16 k = v < full ? (__mmask16)0xFFFF : tail;
            __m512 av[A5M];
#pragma GCC unroll 5
            for (int i = 0; i < A5M; i++) av[i] = _mm512_maskz_loadu_ps(k, a[i] + v);
#pragma GCC unroll 5
            for (int j = 0; j < A5N; j++) {
                const __m512 bv = _mm512_maskz_loadu_ps(k, b[j] + v);
#pragma GCC unroll 5
                for (int i = 0; i < A5M; i++) acc[i][j] = _mm512_fmadd_ps(av[i], bv, acc[i][j]);
            }
        }
#pragma GCC unroll 5
        for (int i = 0; i < A5M; i++) a[i] += astride;
#pragma GCC unroll 5
        for (int j = 0; j < A5N; j++) b[j] += bstride;
    }
    /* constant indices only (unrolled), so acc stays in registers */
#pragma GCC unroll 5
    for (int j = 0; j < A5N; j++) {
        if (j < cols) {
            float sums[4];
            tree4_avx512(acc[0][j], acc[1][j], acc[2][j], acc[3][j], sums);
            for (int i = 0; i < rows && i < 4; i++) c[(ptrdiff_t)i * ldc + j] += sums[i];
            if (rows > 4) c[4 * ldc + j] += tree1_avx512(acc[4][j]);
        }
    }
}
#endif

/* Tiles of tm x tn over C; row i of A at A + aoff[i] (or i * lda without
 * offsets), row j of B likewise. */
static void dot_drive(DotTile tile, int tm, int tn, int M, int N, int len, int nseg,
                      const float *A, const int *aoff, ptrdiff_t lda, ptrdiff_t astride,
                      const float *B, const int *boff, ptrdiff_t ldb, ptrdiff_t bstride, float *C,
                      ptrdiff_t ldc)
{
    for (int i0 = 0; i0 < M; i0 += tm) {
        const float *ap[TMAX];
        for (int q = 0; q < tm; q++) {
            const int i = i0 + q < M ? i0 + q : M - 1;
            ap[q] = A + (aoff ? (ptrdiff_t)aoff[i] : (ptrdiff_t)i * lda);
        }
        for (int j0 = 0; j0 < N; j0 += tn) {
            const float *bp[TMAX];
            for (int q = 0; q < tn; q++) {
                const int j = j0 + q < N ? j0 + q : N - 1;
                bp[q] = B + (boff ? (ptrdiff_t)boff[j] : (ptrdiff_t)j * ldb);
            }
            tile(nseg, len, ap, astride, bp, bstride, C + (ptrdiff_t)i0 * ldc + j0, ldc,
                 M - i0 < tm ? M - i0 : tm, N - j0 < tn ? N - j0 : tn);
        }
    }
}

static void dot_any(int M, int N, int len, int nseg, const float *A, const int *aoff,
                    ptrdiff_t lda, ptrdiff_t astride, const float *B, const int *boff,
                    ptrdiff_t ldb, ptrdiff_t bstride, float *C, ptrdiff_t ldc)
{
    if (M <= 0 || N <= 0) return;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    const int isa = cliff_gemm_isa();
    if (isa == CLIFF_ISA_AVX512) {
        dot_drive(tile_avx512, A5M, A5N, M, N, len, nseg, A, aoff, lda, astride, B, boff, ldb,
                  bstride, C, ldc);
        return;
    }
    if (isa == CLIFF_ISA_AVX2) {
        dot_drive(tile_avx2, A2M, A2N, M, N, len, nseg, A, aoff, lda, astride, B, boff, ldb,
                  bstride, C, ldc);
        return;
    }
#endif
    dot_drive(tile_generic, 1, 1, M, N, len, nseg, A, aoff, lda, astride, B, boff, ldb, bstride,
              C, ldc);
}

void cliff_gemm_dot(int M, int N, int len, const float *A, ptrdiff_t lda, const float *B,
                    ptrdiff_t ldb, float *C, ptrdiff_t ldc)
{
    dot_any(M, N, len, 1, A, NULL, lda, 0, B, NULL, ldb, 0, C, ldc);
}

void cliff_gemm_dot_rows(int M, int N, int len, int nseg, const float *A, const int *aoff,
                         ptrdiff_t astride, const float *B, const int *boff, ptrdiff_t bstride,
                         float *C, ptrdiff_t ldc)
{
    dot_any(M, N, len, nseg, A, aoff, 0, astride, B, boff, 0, bstride, C, ldc);
}
