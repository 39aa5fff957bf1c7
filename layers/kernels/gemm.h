/* The matrix engine: every matrix product of the layers runs here.
 *
 *   C[M x N] = alpha * op(A)[M x K] * op(B)[K x N] + beta * C      (row-major)
 *
 * op(A) is a dense matrix or its transpose (lda: row stride of the stored
 * array). op(B) is either dense (B or B^T, ldb), a row-offset view (row k at
 * base + off[k], read in place: cliff_gemm_rows_b), or any source that can
 * pack a block of itself (CliffGemmB): a convolution hands the engine the
 * implicit im2col matrix of an image, or the shifted copy of the image whose
 * windows are that matrix's rows (conv_fast.h), and never materializes it.
 *
 * How it runs (Goto's scheme): the reduction is cut into blocks of KC rows,
 * the columns into blocks of NC; each block of op(B) is packed into panels of
 * CLIFF_GEMM_NR columns and each block of op(A) into panels of MR rows (alpha
 * folded in); a register tile of MR x NR runs over them. Edges are handled by
 * zero-padded packing and masked stores, never by scalar code.
 *
 * A second kind, the dot-product kind (cliff_gemm_dot below), multiplies A
 * by B^T where both are contiguous along a long reduction, with 16-lane
 * split sums; its summation order is its own contract, stated there.
 *
 * Determinism (the first kind): every element of C is the sum over k in
 * increasing order, in the same KC blocks, with one fused multiply-add per
 * term, whatever the thread count and whatever the instruction set (AVX-512,
 * AVX2 or portable C): the results are bit-identical across all of them.
 * Threads split C into disjoint blocks, never the reduction.
 *
 * Instruction set: chosen at the first call from the CPU (AVX-512F, else
 * AVX2+FMA, else portable C). CLIFF_ISA=avx2 or CLIFF_ISA=generic in the
 * environment (or cliff_gemm_force_isa) forces a lower one, so every path
 * can be tested on one machine.
 *
 * Memory: per thread, one packed block of A (MC x KC) and of B (KC x NC):
 * under a megabyte, whatever the shapes. */
#ifndef CLIFF_GEMM_H
#define CLIFF_GEMM_H

#include <stddef.h>

#define CLIFF_GEMM_NR 64 /* columns of one packed panel of op(B) */

typedef struct CliffGemmB CliffGemmB;
struct CliffGemmB {
    /* Packs rows [k0, k0 + kc) x columns [j0, j0 + nc) of op(B) into dst as
     * ceil(nc / NR) panels: panel q holds columns j0 + q*NR .. as kc rows of NR
     * floats, dst[(q*kc + k)*NR + jj]; columns past nc are written as zeros.
     * Called from several threads at once with disjoint dst. */
    void (*pack)(const CliffGemmB *b, int k0, int kc, int j0, int nc, float *dst);
    const float *data; /* dense sources: B, its row stride, whether op(B) = B^T, */
    ptrdiff_t ld;
    int trans;
    float scale;       /* and a factor applied while packing (1: none) */
    const void *ctx; /* other sources: whatever their pack needs */
    const int *off;  /* a row-offset view (cliff_gemm_rows_b): data + off[k] is row k */
};

/* A dense op(B): B (K x N, row stride ldb) or, with trans, B^T (B is N x K). */
CliffGemmB cliff_gemm_dense_b(const float *B, ptrdiff_t ldb, int trans);

/* A row-offset view: op(B)(k, j) = base[off[k] + j], j in [0, N): row k of
 * op(B) is N contiguous floats at base + off[k] (rows may overlap and come in
 * any order: the windows of conv_fast.h's shifted image S are the rows of its
 * column matrix). On AVX-512 the register tiles read the rows in place (no
 * packing: each element is loaded once per MR rows of op(A)); the other
 * instruction sets pack them like any source; the bits are the same. Reads
 * stay inside [base + off[k], base + off[k] + N). base and off (one int a row
 * of op(B), K of them) must outlive the product. */
CliffGemmB cliff_gemm_rows_b(const float *base, const int *off);

/* C = alpha op(A) op(B) + beta C; beta == 0 overwrites C without reading it
 * (NaN in C does not survive). */
void cliff_gemm_ex(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                   ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C,
                   ptrdiff_t ldc);
/* The same with any op(B) source. */
void cliff_gemm_src(int trans_a, int M, int N, int K, float alpha, const float *A,
                    ptrdiff_t lda, const CliffGemmB *b, float beta, float *C, ptrdiff_t ldc);

/* Operands packed in advance: pack once, multiply many times (a layer's
 * weights against every image of a batch, a recurrent weight at every time
 * step). A packed op(A) (M x K, alpha folded in) takes
 * cliff_gemm_packed_a_floats(M, K) floats, a packed op(B) (K x N)
 * cliff_gemm_packed_b_floats(K, N); any alignment works, 64 bytes is best.
 * The products give the same bits as unpacked ones with the same alpha. */
size_t cliff_gemm_packed_a_floats(int M, int K);
void cliff_gemm_pack_a(int trans_a, int M, int K, float alpha, const float *A, ptrdiff_t lda,
                       float *dst);
size_t cliff_gemm_packed_b_floats(int K, int N);
void cliff_gemm_pack_b(const CliffGemmB *b, int K, int N, float *dst);
/* C = op(A) op(B) + beta C with op(A) from pa (packed, alpha inside) or, when
 * pa is NULL, alpha op(A) from (trans_a, A, lda); op(B) from pb (packed) or,
 * when pb is NULL, from the source b. */
void cliff_gemm_prepacked(const float *pa, int trans_a, float alpha, const float *A,
                          ptrdiff_t lda, const float *pb, const CliffGemmB *b, int M, int N,
                          int K, float beta, float *C, ptrdiff_t ldc);

/* C = op(A) op(B) + bias[i] on row i (C overwritten; bias: M floats): every
 * sum starts from its row's bias, then adds the terms in k order (the bits of
 * C filled with the bias and a product added with beta 1). op(A) and op(B)
 * as in cliff_gemm_prepacked with pa required (alpha inside). A layer's
 * forward with its bias term, in one pass over C. */
void cliff_gemm_prepacked_bias(const float *pa, const float *pb, const CliffGemmB *b, int M,
                               int N, int K, const float *bias, float *C, ptrdiff_t ldc);

/* Scatter-add: C[coff[i] + j] += (op(A) op(B))(i, j) for i < M, j < N,
 * where C's rows form a row-offset view that may overlap: the adjoint of a
 * view (conv_fast.h's data gradient adds the gradients of its column-matrix
 * rows into the shifted image dS). op(A) comes packed by
 * cliff_gemm_scatter_pack_a (M x K, cliff_gemm_scatter_a_floats(M, K)
 * floats); op(B) is a row-offset view (cliff_gemm_rows_b). Every sum runs
 * from zero over the whole reduction in k order, one fused multiply-add a
 * term, and is added to its element of C once; where rows overlap, the
 * additions into one element come in an order fixed by M and N alone
 * (gemm_scatter.c). Runs on the calling thread (overlapping rows cannot be
 * split between threads): callers split by output, as conv_fast by image.
 * The same bits on every instruction set. */
size_t cliff_gemm_scatter_a_floats(int M, int K);
void cliff_gemm_scatter_pack_a(int trans_a, int M, int K, const float *A, ptrdiff_t lda,
                               float *dst);
void cliff_gemm_scatter_add(const float *pa, int M, int N, int K, const CliffGemmB *b, float *C,
                            const int *coff);

/* The dot-product kind: C[i][j] += (A B^T)(i, j) where row i of A and row j
 * of B are contiguous along the reduction (a convolution's weight gradient:
 * dy rows against the rows of the shifted image's view, conv_fast.h). It is
 * not the product above: its summation order is its own, and its contract:
 *   - a row is nseg segments of len floats (segment s of row i of A at
 *     A + aoff[i] + s * astride, of row j of B at B + boff[j] + s * bstride;
 *     cliff_gemm_dot: one segment, row i at A + i * lda, row j at B + j * ldb);
 *   - every element of C has 16 lanes, each starting at +0; for each segment
 *     in order, for each chunk of 16 positions p = v..v+15 in order, lane
 *     p - v adds a[p] * b[p] with one fused multiply-add (positions past len
 *     add 0 * 0);
 *   - the lanes l_0..l_15 are reduced by the tree
 *       h_t = (l_t + l_(t+8)) + (l_(t+4) + l_(t+12)),  t < 4,
 *       sum = (h_0 + h_2) + (h_1 + h_3)
 *     and C[i][j] += sum, one addition per call. A caller that cuts a long
 *     reduction into blocks calls once per block: the blocks' sums come into
 *     C in call order.
 * The same bits on every instruction set (AVX-512 tiles of 5 x 5, AVX2 of
 * 3 x 2 with each element's lanes in two halves, portable C element by
 * element) and for any M, N, len. Runs on the calling thread: callers split
 * by output or by blocks they add in a fixed order (conv_fast.c). Reads stay
 * inside the rows' segments. */
/* Rows of A (and of B) one AVX-512 tile of the dot-product kind takes: a
 * caller that cuts M between threads cuts it at multiples of this. */
#define CLIFF_GEMM_DOT_TILE 5
void cliff_gemm_dot(int M, int N, int len, const float *A, ptrdiff_t lda, const float *B,
                    ptrdiff_t ldb, float *C, ptrdiff_t ldc);
void cliff_gemm_dot_rows(int M, int N, int len, int nseg, const float *A, const int *aoff,
                         ptrdiff_t astride, const float *B, const int *boff, ptrdiff_t bstride,
                         float *C, ptrdiff_t ldc);

/* Instruction sets, best last. */
enum { CLIFF_ISA_GENERIC = 0, CLIFF_ISA_AVX2 = 1, CLIFF_ISA_AVX512 = 2 };
/* The set the engine uses now (after CLIFF_ISA and any force). */
int cliff_gemm_isa(void);
const char *cliff_gemm_isa_name(int isa);
/* Forces a set (tests, benchmarks): the lower of it and what the CPU has.
 * -1 returns to the CPU's best. Not to be called while a product runs. */
void cliff_gemm_force_isa(int isa);

#endif
