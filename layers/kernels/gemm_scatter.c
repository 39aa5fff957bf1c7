/* The matrix engine's scatter-add product (gemm.h, cliff_gemm_scatter_add):
 * C's rows are a row-offset view that may overlap, so every sum is finished
 * in registers and then added to C once, in an order fixed by the shapes.
 *
 * op(A) is packed in panels of mr rows over the whole reduction (no blocks of
 * KC: a sum is never cut), mr in {6, 5, 4} padding the fewest rows (ties: the
 * larger), so that an output of M rows costs about M rows of work: LeNet
 * conv2's data gradient has M = 500 = 100 tiles of 5. The order of the
 * additions into one element of C: panels in increasing rows, within a panel
 * the 64-column chunks in order, within a chunk the rows in order. The
 * AVX-512 tile (gemm_vtiles.c) and the portable loop below keep that order and
 * one fused multiply-add a term: the same bits on every instruction set. */
#include <math.h>

#include "gemm.h"
#include "gemm_tiles.h"

#define NR CLIFF_GEMM_NR

/* The panel height for M rows (see above). */
static int scatter_mr(int M)
{
    int best = 6, waste = (6 - M % 6) % 6;
    for (int mr = 5; mr >= 4; mr--) {
        const int w = (mr - M % mr) % mr;
        if (w < waste) best = mr, waste = w;
    }
    return best;
}

size_t cliff_gemm_scatter_a_floats(int M, int K)
{
    if (M <= 0 || K <= 0) return 0;
    const int mr = scatter_mr(M);
    return (size_t)((M + mr - 1) / mr) * mr * (size_t)K;
}

void cliff_gemm_scatter_pack_a(int trans_a, int M, int K, const float *A, ptrdiff_t lda,
                               float *dst)
{
    if (M <= 0 || K <= 0) return;
    const int mr = scatter_mr(M);
    /* op(A)(i, k) = A[i*rs + k*cs]; panel p: dst[(p*K + k)*mr + i], 0 past M */
    const ptrdiff_t rs = trans_a ? 1 : lda, cs = trans_a ? lda : 1;
    for (int p = 0; p * mr < M; p++) {
        float *d = dst + (size_t)p * K * mr;
        for (int k = 0; k < K; k++)
            for (int i = 0; i < mr; i++) {
                const int row = p * mr + i;
                d[(size_t)k * mr + i] = row < M ? A[row * rs + k * cs] : 0.0f;
            }
    }
}

/* The portable tile: the AVX-512 tile's order, element by element. */
static void stile_generic(int kc, const float *a, int mr, const float *b, const int *boff,
                          float *c, const int *coff, int rows, int cols)
{
    for (int j0 = 0; j0 < cols; j0 += NR) {
        const int n = cols - j0 < NR ? cols - j0 : NR;
        for (int i = 0; i < rows; i++)
            for (int j = j0; j < j0 + n; j++) {
                float acc = 0.0f;
                for (int k = 0; k < kc; k++) acc = fmaf(a[(size_t)k * mr + i], b[boff[k] + j], acc);
                c[coff[i] + j] += acc;
            }
    }
}

void cliff_gemm_scatter_add(const float *pa, int M, int N, int K, const CliffGemmB *b, float *C,
                            const int *coff)
{
    if (M <= 0 || N <= 0 || K <= 0) return;
    const int mr = scatter_mr(M), avx512 = cliff_gemm_isa() == CLIFF_ISA_AVX512;
    for (int p = 0; p * mr < M; p++) {
        const int rows = M - p * mr < mr ? M - p * mr : mr;
        const float *pan = pa + (size_t)p * K * mr;
        if (avx512) {
            const float *rowp[CLIFF_GEMM_MR];
            for (int i = 0; i < CLIFF_GEMM_MR; i++) rowp[i] = pan + (i < mr ? i : mr - 1);
            cliff_gemm_stile_avx512(K, rowp, mr, b->data, b->off, C, coff + p * mr, rows, N);
        } else {
            stile_generic(K, pan, mr, b->data, b->off, C, coff + p * mr, rows, N);
        }
    }
}
