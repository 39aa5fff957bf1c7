/* Matrix products, row-major, on the matrix engine (gemm.h).
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

/* The layers' own AVX-512 paths outside the matrix engine (conv_fast.h):
 * cliff_gemm_avx512_usable() says 1 when this CPU has AVX-512F and they are
 * allowed; cliff_avx512_allow(0) (tests, benchmarks) turns them off for layers
 * reshaped afterwards. The engine has its own switch (gemm.h). */
void cliff_avx512_allow(int on);
int cliff_gemm_avx512_usable(void);

#endif
