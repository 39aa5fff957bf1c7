/* Matrix products, row-major: on OpenBLAS, and AVX-512 kernels of our own.
 *
 * cliff_gemm: C[M x N] = alpha * op(A) * op(B) + beta * C, where op(A) is
 * M x K (A is K x M when trans_a) and op(B) is K x N (B is N x K when trans_b).
 * Leading dimensions are the natural ones of the stored (untransposed) arrays.
 */
#ifndef CLIFF_BLAS_H
#define CLIFF_BLAS_H

#include <stddef.h>

void cliff_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                const float *B, float beta, float *C);

/* AVX-512 products for the layers' own fast paths (blas_avx512.c):
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
