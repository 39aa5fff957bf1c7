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
