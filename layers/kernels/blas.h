/* Matrix products on OpenBLAS, row-major, with naive twins the tests compare
 * against on awkward shapes.
 *
 * cliff_gemm: C[M x N] = alpha * op(A) * op(B) + beta * C, where op(A) is
 * M x K (A is K x M when trans_a) and op(B) is K x N (B is N x K when trans_b).
 * Leading dimensions are the natural ones of the stored (untransposed) arrays.
 * cliff_gemv: y[M or N] = alpha * op(A) * x + beta * y with A stored M x N.
 */
#ifndef CLIFF_BLAS_H
#define CLIFF_BLAS_H

#include <stddef.h>

void cliff_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                const float *B, float beta, float *C);
void cliff_gemm_naive(int trans_a, int trans_b, int M, int N, int K, float alpha,
                      const float *A, const float *B, float beta, float *C);
void cliff_gemv(int trans_a, int M, int N, float alpha, const float *A, const float *x,
                float beta, float *y);
void cliff_gemv_naive(int trans_a, int M, int N, float alpha, const float *A, const float *x,
                      float beta, float *y);
/* y += alpha * x over n floats. */
void cliff_axpy(int n, float alpha, const float *x, float *y);
/* x *= alpha over n floats. */
void cliff_scal(int n, float alpha, float *x);
/* Dot product accumulated in double. */
double cliff_dot(int n, const float *x, const float *y);

/* AVX-512 products for the layers' own fast paths (layers/blas_avx512.c):
 * C[M x N] = (accumulate ? C : 0) + A * B where A(i, k) = a[i*ars + k*acs]
 * (any layout, e.g. a transposed operand), B is row-major with row stride ldb
 * (contiguous along N) and C row-major with row stride ldc. Only call it when
 * cliff_gemm_avx512_usable() says 1: this CPU has AVX-512F and the AVX-512
 * paths are allowed. cliff_avx512_allow(0) (tests, benchmarks) turns every
 * AVX-512 layer path off for layers reshaped afterwards (conv_fast too). */
void cliff_avx512_allow(int on);
int cliff_gemm_avx512_usable(void);
void cliff_gemm_avx512(int M, int N, int K, const float *a, ptrdiff_t ars, ptrdiff_t acs,
                       const float *b, ptrdiff_t ldb, int accumulate, float *c, ptrdiff_t ldc);

#endif
