#include "blas.h"

#include <cblas.h>

void cliff_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                const float *B, float beta, float *C)
{
    int lda = trans_a ? M : K, ldb = trans_b ? K : N;
    /* A small output over a long reduction (conv1's weight gradient: 20x25 over
     * K = 36864) is 3.5x slower threaded: OpenBLAS splits the tiny output and
     * every thread packs the long operands. Run those on one thread. */
    int nt = 0;
    if ((long)M * N <= 4096 && K >= 4096 && (nt = openblas_get_num_threads()) > 1)
        openblas_set_num_threads(1);
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, N);
    if (nt > 1) openblas_set_num_threads(nt);
}

void cliff_gemm_naive(int trans_a, int trans_b, int M, int N, int K, float alpha,
                      const float *A, const float *B, float beta, float *C)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0;
            for (int k = 0; k < K; k++) {
                float a = trans_a ? A[k * M + i] : A[i * K + k];
                float b = trans_b ? B[j * K + k] : B[k * N + j];
                acc += (double)a * b;
            }
            C[i * N + j] = (float)(alpha * acc + (beta == 0 ? 0 : beta * C[i * N + j]));
        }
}

void cliff_gemv(int trans_a, int M, int N, float alpha, const float *A, const float *x,
                float beta, float *y)
{
    cblas_sgemv(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, M, N, alpha, A, N, x, 1,
                beta, y, 1);
}

void cliff_gemv_naive(int trans_a, int M, int N, float alpha, const float *A, const float *x,
                      float beta, float *y)
{
    int rows = trans_a ? N : M, cols = trans_a ? M : N;
    for (int i = 0; i < rows; i++) {
        double acc = 0;
        for (int j = 0; j < cols; j++)
            acc += (double)(trans_a ? A[j * N + i] : A[i * N + j]) * x[j];
        y[i] = (float)(alpha * acc + (beta == 0 ? 0 : beta * y[i]));
    }
}

void cliff_axpy(int n, float alpha, const float *x, float *y) { cblas_saxpy(n, alpha, x, 1, y, 1); }

void cliff_scal(int n, float alpha, float *x) { cblas_sscal(n, alpha, x, 1); }

double cliff_dot(int n, const float *x, const float *y)
{
    double acc = 0;
    for (int i = 0; i < n; i++) acc += (double)x[i] * y[i];
    return acc;
}
