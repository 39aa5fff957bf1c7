/* The matrix engine (gemm.h): blocking, packing, threads, dispatch.
 *
 * Blocks: KC reduction steps x NC columns of op(B) (packed once per block,
 * 384 KB) and MC rows x KC of op(A) (144 KB): both stay in the 1 MB L2 while
 * the tile runs over them; one 64-column panel of B is reused by every row
 * tile of the A block before the next panel. The packing buffers live on the
 * caller's stack (GEMM_STACK_FLOATS, ~0.5 MB): no allocation can fail and
 * concurrent or nested callers never share one. */
#include "gemm.h"

#include <stdlib.h>
#include <string.h>

#include "fork_join.h"
#include "gemm_tiles.h"

#define MR CLIFF_GEMM_MR
#define NR CLIFF_GEMM_NR
#ifndef KC
#define KC 384
#endif
#ifndef MC
#define MC 96 /* a multiple of MR */
#endif
#ifndef NC
#define NC 256 /* a multiple of NR */
#endif
#define GEMM_STACK_FLOATS (MC * KC + KC * NC)
/* Products smaller than this (multiply-adds, ~20 us on one core) stay on one
 * thread: a fork-join costs a few microseconds. */
#define GEMM_SPLIT_MACS 4e6

/* ---- instruction set ---- */

static int cpu_isa(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return CLIFF_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CLIFF_ISA_AVX2;
#endif
    return CLIFF_ISA_GENERIC;
}

static int isa_now = -1; /* set once (benign race: every thread computes the same) */

static int isa_from_env(int best)
{
    const char *e = getenv("CLIFF_ISA");
    int want = best;
    if (e && !strcmp(e, "generic")) want = CLIFF_ISA_GENERIC;
    if (e && !strcmp(e, "avx2")) want = CLIFF_ISA_AVX2;
    return want < best ? want : best;
}

int cliff_gemm_isa(void)
{
    if (isa_now < 0) isa_now = isa_from_env(cpu_isa());
    return isa_now;
}

void cliff_gemm_force_isa(int isa)
{
    const int best = isa_from_env(cpu_isa());
    isa_now = isa < 0 || isa > best ? best : isa;
}

const char *cliff_gemm_isa_name(int isa)
{
    return isa == CLIFF_ISA_AVX512 ? "avx512" : isa == CLIFF_ISA_AVX2 ? "avx2" : "generic";
}

static CliffGemmTile tile_for(int isa)
{
    return isa == CLIFF_ISA_AVX512 ? cliff_gemm_tile_avx512
           : isa == CLIFF_ISA_AVX2 ? cliff_gemm_tile_avx2
                                   : cliff_gemm_tile_generic;
}

/* ---- packing ---- */

/* op(A) as strides: op(A)(i, k) = p[i*rs + k*cs]. */
typedef struct Side {
    const float *p;
    ptrdiff_t rs, cs;
} Side;

/* Rows [i0, i0 + mc) x steps [k0, k0 + kc) of alpha op(A) as ceil(mc / MR)
 * panels of MR rows: dst[(p*kc + k)*MR + i]; rows past mc are zeros. */
static void pack_a(const Side *a, float alpha, int i0, int mc, int k0, int kc, float *dst)
{
    for (int p = 0; p * MR < mc; p++) {
        float *d = dst + (ptrdiff_t)p * kc * MR;
        const int rows = mc - p * MR < MR ? mc - p * MR : MR;
        const float *base = a->p + (ptrdiff_t)(i0 + p * MR) * a->rs + (ptrdiff_t)k0 * a->cs;
        if (a->cs == 1) { /* rows contiguous in k */
            for (int i = 0; i < rows; i++) {
                const float *ai = base + (ptrdiff_t)i * a->rs;
                for (int k = 0; k < kc; k++) d[k * MR + i] = alpha * ai[k];
            }
        } else {
            for (int k = 0; k < kc; k++) {
                const float *ak = base + (ptrdiff_t)k * a->cs;
                for (int i = 0; i < rows; i++) d[k * MR + i] = alpha * ak[(ptrdiff_t)i * a->rs];
            }
        }
        if (rows < MR)
            for (int k = 0; k < kc; k++)
                for (int i = rows; i < MR; i++) d[k * MR + i] = 0.0f;
    }
}

static void pack_dense_b(const CliffGemmB *b, int k0, int kc, int j0, int nc, float *dst)
{
    const float s = b->scale;
    for (int q = 0; q * NR < nc; q++) {
        float *d = dst + (ptrdiff_t)q * kc * NR;
        const int jq = j0 + q * NR, cols = nc - q * NR < NR ? nc - q * NR : NR;
        if (!b->trans) {
            for (int k = 0; k < kc; k++) {
                const float *src = b->data + (ptrdiff_t)(k0 + k) * b->ld + jq;
                float *dk = d + k * NR;
                if (s == 1.0f)
                    memcpy(dk, src, (size_t)cols * sizeof *dk);
                else
                    for (int j = 0; j < cols; j++) dk[j] = s * src[j];
                for (int j = cols; j < NR; j++) dk[j] = 0.0f;
            }
        } else {
            for (int j = 0; j < cols; j++) {
                const float *src = b->data + (ptrdiff_t)(jq + j) * b->ld + k0;
                for (int k = 0; k < kc; k++) d[k * NR + j] = s * src[k];
            }
            if (cols < NR)
                for (int k = 0; k < kc; k++)
                    for (int j = cols; j < NR; j++) d[k * NR + j] = 0.0f;
        }
    }
}

CliffGemmB cliff_gemm_dense_b(const float *B, ptrdiff_t ldb, int trans)
{
    CliffGemmB b = {.pack = pack_dense_b, .data = B, .ld = ldb, .trans = trans, .scale = 1.0f};
    return b;
}

/* ---- the blocked product ---- */

typedef struct GemmJob {
    int M, N, K;
    float alpha;
    Side a;
    int direct_a;    /* tiles read op(A) in place (alpha == 1) instead of packing it */
    const float *a_packed; /* op(A) packed in advance (cliff_gemm_pack_a), or NULL */
    const CliffGemmB *b;
    const float *b_packed; /* op(B) packed in advance (cliff_gemm_pack_b), or NULL */
    int accumulate;  /* C holds beta C already: add to it */
    float *C;
    ptrdiff_t ldc;
    int c_trans;     /* the product computed is C^T: element (i, j) goes to C[j*ldc + i] */
    CliffGemmTile tile;
    int by_cols, per_chunk; /* chunks of NR-column panels or MR-row tiles */
} GemmJob;

/* One tile stored transposed: through a small buffer, C^T's rows x cols block
 * at (i, j) is C's cols x rows block at (j, i). */
static void tile_ct(const GemmJob *j, int kc, const float *const *a, ptrdiff_t acs,
                    const float *bq, int i, int jj, int rows, int cols, int acc)
{
    _Alignas(64) float t[MR * NR];
    float *c = j->C + (ptrdiff_t)jj * j->ldc + i;
    if (acc)
        for (int r = 0; r < rows; r++)
            for (int q = 0; q < cols; q++) t[r * NR + q] = c[(ptrdiff_t)q * j->ldc + r];
    j->tile(kc, a, acs, bq, t, NR, rows, cols, acc);
    for (int q = 0; q < cols; q++)
        for (int r = 0; r < rows; r++) c[(ptrdiff_t)q * j->ldc + r] = t[r * NR + q];
}

/* One MR-row tile against one packed panel of B. */
static void run_tile(const GemmJob *j, int kc, const float *const *a, ptrdiff_t acs,
                     const float *bq, int i, int jj, int rows, int cols, int acc)
{
    if (j->c_trans)
        tile_ct(j, kc, a, acs, bq, i, jj, rows, cols, acc);
    else
        j->tile(kc, a, acs, bq, j->C + (ptrdiff_t)i * j->ldc + jj, j->ldc, rows, cols, acc);
}

/* C[r0..r1) x [c0..c1) over the whole reduction, on this thread. Packed
 * panels: ap (this block's, kc steps each) or the whole-K panels of
 * a_packed; bp likewise or b_packed. */
static void gemm_block(const GemmJob *j, int r0, int r1, int c0, int c1)
{
    _Alignas(64) float buf[GEMM_STACK_FLOATS];
    float *ap = buf, *bp = buf + MC * KC;
    for (int jc = c0; jc < c1; jc += NC) {
        const int nc = c1 - jc < NC ? c1 - jc : NC;
        for (int pc = 0; pc < j->K; pc += KC) {
            const int kc = j->K - pc < KC ? j->K - pc : KC;
            const int acc = j->accumulate || pc > 0;
            /* panel q of this block: bq0 + q * bstride */
            const float *bq0;
            ptrdiff_t bstride;
            if (j->b_packed) {
                bq0 = j->b_packed + ((ptrdiff_t)(jc / NR) * j->K + pc) * NR;
                bstride = (ptrdiff_t)j->K * NR;
            } else {
                j->b->pack(j->b, pc, kc, jc, nc, bp);
                bq0 = bp;
                bstride = (ptrdiff_t)kc * NR;
            }
            for (int ic = r0; ic < r1; ic += MC) {
                const int mc = r1 - ic < MC ? r1 - ic : MC;
                if (!j->direct_a && !j->a_packed)
                    pack_a(&j->a, j->alpha, ic, mc, pc, kc, ap);
                for (int q = 0; q * NR < nc; q++) {
                    const int cols = nc - q * NR < NR ? nc - q * NR : NR;
                    const float *bq = bq0 + q * bstride;
                    for (int p = 0; p * MR < mc; p++) {
                        const int rows = mc - p * MR < MR ? mc - p * MR : MR, i = ic + p * MR;
                        const float *rowp[MR];
                        ptrdiff_t acs = MR;
                        if (j->direct_a) {
                            for (int r = 0; r < MR; r++)
                                rowp[r] = j->a.p + (ptrdiff_t)(i + (r < rows ? r : rows - 1)) *
                                                       j->a.rs + (ptrdiff_t)pc * j->a.cs;
                            acs = j->a.cs;
                        } else if (j->a_packed) { /* i is a multiple of MR */
                            const float *pan = j->a_packed + ((ptrdiff_t)(i / MR) * j->K + pc) * MR;
                            for (int r = 0; r < MR; r++) rowp[r] = pan + r;
                        } else {
                            for (int r = 0; r < MR; r++)
                                rowp[r] = ap + (ptrdiff_t)p * kc * MR + r;
                        }
                        run_tile(j, kc, rowp, acs, bq, i, jc + q * NR, rows, cols, acc);
                    }
                }
            }
        }
    }
}

static void gemm_chunk(void *arg, int chunk, int thread)
{
    (void)thread;
    const GemmJob *j = arg;
    if (j->by_cols) {
        const int lo = chunk * j->per_chunk * NR, hi = lo + j->per_chunk * NR;
        gemm_block(j, 0, j->M, lo, hi < j->N ? hi : j->N);
    } else {
        const int lo = chunk * j->per_chunk * MR, hi = lo + j->per_chunk * MR;
        gemm_block(j, lo, hi < j->M ? hi : j->M, 0, j->N);
    }
}

/* Runs job (M, N, K, a, b, C set) on the fork-join's threads when it is big. */
static void gemm_run(GemmJob *job)
{
    const int nt = cliff_fj_threads();
    const int panels = (job->N + NR - 1) / NR, tiles = (job->M + MR - 1) / MR;
    if (nt > 1 && (double)job->M * job->N * job->K >= GEMM_SPLIT_MACS &&
        (panels > 1 || tiles > 1)) {
        /* chunks along the longer of the two tile counts, about 4 a thread */
        job->by_cols = panels >= tiles;
        const int units = job->by_cols ? panels : tiles;
        int per = units / (4 * nt);
        if (per < 1) per = 1;
        job->per_chunk = per;
        cliff_fj_for((units + per - 1) / per, gemm_chunk, job);
        return;
    }
    gemm_block(job, 0, job->M, 0, job->N);
}

/* C = beta C before the product; 1 when the product is then to be added. */
static int apply_beta(int M, int N, float beta, float *C, ptrdiff_t ldc, int product)
{
    if (beta == 0.0f && !product)
        for (int i = 0; i < M; i++) memset(C + (ptrdiff_t)i * ldc, 0, (size_t)N * sizeof *C);
    else if (beta != 0.0f && beta != 1.0f)
        for (int i = 0; i < M; i++)
            for (int jj = 0; jj < N; jj++) C[(ptrdiff_t)i * ldc + jj] *= beta;
    return beta != 0.0f;
}

static Side a_side(int trans_a, const float *A, ptrdiff_t lda)
{
    Side s = {A, trans_a ? 1 : lda, trans_a ? lda : 1};
    return s;
}

void cliff_gemm_src(int trans_a, int M, int N, int K, float alpha, const float *A,
                    ptrdiff_t lda, const CliffGemmB *b, float beta, float *C, ptrdiff_t ldc)
{
    if (M <= 0 || N <= 0) return;
    const int product = K > 0 && alpha != 0.0f;
    const int accumulate = apply_beta(M, N, beta, C, ldc, product);
    if (!product) return;
    GemmJob job = {.M = M, .N = N, .K = K, .alpha = alpha, .a = a_side(trans_a, A, lda),
                   .b = b, .accumulate = accumulate, .C = C, .ldc = ldc,
                   .tile = tile_for(cliff_gemm_isa())};
    /* one panel of columns: every element of op(A) is used once, read it in place */
    job.direct_a = N <= NR && alpha == 1.0f;
    gemm_run(&job);
}

size_t cliff_gemm_packed_a_floats(int M, int K)
{
    return M <= 0 || K <= 0 ? 0 : (size_t)((M + MR - 1) / MR) * MR * (size_t)K;
}

void cliff_gemm_pack_a(int trans_a, int M, int K, float alpha, const float *A, ptrdiff_t lda,
                       float *dst)
{
    if (M <= 0 || K <= 0) return;
    const Side a = a_side(trans_a, A, lda);
    /* whole-K panels: pack_a with kc = K writes exactly that layout */
    pack_a(&a, alpha, 0, M, 0, K, dst);
}

size_t cliff_gemm_packed_b_floats(int K, int N)
{
    return N <= 0 || K <= 0 ? 0 : (size_t)((N + NR - 1) / NR) * NR * (size_t)K;
}

void cliff_gemm_pack_b(const CliffGemmB *b, int K, int N, float *dst)
{
    if (N <= 0 || K <= 0) return;
    b->pack(b, 0, K, 0, N, dst);
}

void cliff_gemm_prepacked(const float *pa, int trans_a, float alpha, const float *A,
                          ptrdiff_t lda, const float *pb, const CliffGemmB *b, int M, int N,
                          int K, float beta, float *C, ptrdiff_t ldc)
{
    if (M <= 0 || N <= 0) return;
    const int product = K > 0 && (pa || alpha != 0.0f);
    const int accumulate = apply_beta(M, N, beta, C, ldc, product);
    if (!product) return;
    GemmJob job = {.M = M, .N = N, .K = K, .alpha = alpha, .a = a_side(trans_a, A, lda),
                   .a_packed = pa, .b = b, .b_packed = pb, .accumulate = accumulate, .C = C,
                   .ldc = ldc, .tile = tile_for(cliff_gemm_isa())};
    gemm_run(&job);
}

void cliff_gemm_ex(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                   ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C,
                   ptrdiff_t ldc)
{
    /* Few rows against a wide op(B) stored transposed: packing op(B) would gather
     * all of it for at most NR uses of each element. Compute C^T = op(B)^T op(A)^T
     * instead: op(B)^T is read in place, op(A)^T (small) is packed. The terms and
     * their order are the same, so are the bits. */
    if (trans_b && M <= NR && N > NR && K > 0 && alpha != 0.0f && M > 0) {
        const int accumulate = apply_beta(M, N, beta, C, ldc, 1);
        CliffGemmB at = cliff_gemm_dense_b(A, lda, !trans_a);
        at.scale = alpha;
        GemmJob job = {.M = N, .N = M, .K = K, .alpha = 1.0f, .a = a_side(!trans_b, B, ldb),
                       .direct_a = 1, .b = &at, .accumulate = accumulate, .C = C, .ldc = ldc,
                       .c_trans = 1, .tile = tile_for(cliff_gemm_isa())};
        gemm_run(&job);
        return;
    }
    const CliffGemmB b = cliff_gemm_dense_b(B, ldb, trans_b);
    cliff_gemm_src(trans_a, M, N, K, alpha, A, lda, &b, beta, C, ldc);
}
