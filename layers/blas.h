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

#endif
