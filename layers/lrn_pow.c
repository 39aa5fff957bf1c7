/* LRN's beta = 0.75 passes (lrn_pow.h). The AVX-512 loops spell out the
 * scalar expressions operation by operation (no fused multiply-add: the
 * scalar code has none either, ISO C11 leaves contraction off), so each
 * element gets the same bits on both paths. */
#include <math.h>

#include "layers/kernels/blas.h"
#include "lrn_pow.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include "layers/kernels/simd512.h"

#define AVX512 __attribute__((target("avx512f")))

CLIFF_AVX512_INLINE __m512 pow075_16(__m512 s)
{
    const __m512 q = _mm512_sqrt_ps(s);
    return _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_mul_ps(q, _mm512_sqrt_ps(q)));
}

AVX512 static void apply_avx512(const float *x, const float *s, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(x + i),
                                              pow075_16(_mm512_loadu_ps(s + i))));
    for (; i < n; i++) y[i] = x[i] * cliff_lrn_pow075(s[i]);
}

AVX512 static void dx_avx512(const float *dy, const float *s, const float *x, const float *acc,
                             float cf, float *dx, size_t n)
{
    const __m512 c = _mm512_set1_ps(cf);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 a = _mm512_mul_ps(_mm512_loadu_ps(dy + i), pow075_16(_mm512_loadu_ps(s + i)));
        const __m512 b = _mm512_mul_ps(_mm512_mul_ps(c, _mm512_loadu_ps(x + i)),
                                       _mm512_loadu_ps(acc + i));
        _mm512_storeu_ps(dx + i, _mm512_sub_ps(a, b));
    }
    for (; i < n; i++) dx[i] = dy[i] * cliff_lrn_pow075(s[i]) - cf * x[i] * acc[i];
}
#define HAVE_AVX512_PATH 1
#endif

void cliff_lrn_apply075(const float *x, const float *s, float *y, size_t n)
{
#ifdef HAVE_AVX512_PATH
    if (cliff_gemm_avx512_usable()) {
        apply_avx512(x, s, y, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) y[i] = x[i] * cliff_lrn_pow075(s[i]);
}

void cliff_lrn_dx075(const float *dy, const float *s, const float *x, const float *acc, float cf,
                     float *dx, size_t n)
{
#ifdef HAVE_AVX512_PATH
    if (cliff_gemm_avx512_usable()) {
        dx_avx512(dy, s, x, acc, cf, dx, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * cliff_lrn_pow075(s[i]) - cf * x[i] * acc[i];
}
