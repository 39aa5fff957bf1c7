/* AVX-512 helpers shared by the layers' AVX-512 kernels (conv_fast.c,
 * gemm_tiles.c, conv_pack.c, pool_fast.c); x86-64 with GCC or Clang only. */
#ifndef CLIFF_SIMD512_H
#define CLIFF_SIMD512_H

#include <immintrin.h>

#define CLIFF_AVX512_INLINE static inline __attribute__((always_inline, target("avx512f")))

/* The first n of 16 lanes as a mask (n clamped to [0, 16]): the tails of
 * rows and panels in every AVX-512 kernel. */
CLIFF_AVX512_INLINE __mmask16 cliff_first_lanes(int n)
{
    return n <= 0 ? 0 : n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* Stores the lanes of v selected by k, a prefix mask (lanes [0, n)). Whole
 * vectors and halves go out as plain stores: a masked store that misses the
 * cache is slow on AMD Zen (pool1's backward took 1.5x as long). */
CLIFF_AVX512_INLINE void cliff_store_prefix(float *p, __m512 v, __mmask16 k)
{
    if (k == 0xFFFF) {
        _mm512_storeu_ps(p, v);
    } else if ((k & 0xFF) == 0xFF) {
        _mm256_storeu_ps(p, _mm512_castps512_ps256(v));
        if (k != 0xFF) _mm512_mask_storeu_ps(p, k, v);
    } else if (k) {
        _mm512_mask_storeu_ps(p, k, v);
    }
}

/* Loads the lanes of p selected by k, zeros elsewhere; lanes outside k are not
 * read. A prefix of 16 or 8 lanes is a plain load: masked loads were the
 * bottleneck of the convolution's shifted copy on this AMD Zen. */
CLIFF_AVX512_INLINE __m512 cliff_load_mask(const float *p, __mmask16 k)
{
    if (k == 0xFFFF) return _mm512_loadu_ps(p);
    if (k == 0xFF) return _mm512_zextps256_ps512(_mm256_loadu_ps(p));
    return _mm512_maskz_loadu_ps(k, p);
}

#endif
