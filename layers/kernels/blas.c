#include "blas.h"

#include "gemm.h"

/* Natural leading dimensions, on the matrix engine (gemm.h). */
void cliff_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                const float *B, float beta, float *C)
{
    cliff_gemm_ex(trans_a, trans_b, M, N, K, alpha, A, trans_a ? M : K, B, trans_b ? K : N, beta,
                  C, N);
}
