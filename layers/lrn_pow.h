/* LRN's elementwise passes with Caffe's beta = 0.75 (layers/lrn.c), where
 * scale^-0.75 = 1 / (q * sqrt(q)) with q = sqrt(scale): on AVX-512 16 at a
 * time where the CPU has it (cliff_gemm_avx512_usable(), blas.h), else one
 * at a time; the same correctly rounded operations in the same order either
 * way, so the same bits. */
#ifndef CLIFF_LRN_POW_H
#define CLIFF_LRN_POW_H

#include <math.h>
#include <stddef.h>

/* 1 / (q * sqrtf(q)), q = sqrtf(s): the one definition both paths follow. */
static inline float cliff_lrn_pow075(float s)
{
    const float q = sqrtf(s);
    return 1.0f / (q * sqrtf(q));
}

/* y[i] = x[i] * s[i]^-0.75 for i < n. */
void cliff_lrn_apply075(const float *x, const float *s, float *y, size_t n);

/* dx[i] = dy[i] * s[i]^-0.75 - cf * x[i] * acc[i] for i < n. */
void cliff_lrn_dx075(const float *dy, const float *s, const float *x, const float *acc, float cf,
                     float *dx, size_t n);

#endif
