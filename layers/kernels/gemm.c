/* The matrix engine (gemm.h): blocking, packing, threads, dispatch.
 *
 * Blocks: KC reduction steps x NC columns of op(B) (384 KB packed) and MC
 * rows x KC of op(A) (288 KB): both stay in the 1 MB L2 while the tile runs
 * over them; one 64-column panel of B is reused by every row tile of the A
 * block before the next panel. The packing buffers live on the caller's stack
 * (GEMM_STACK_FLOATS, ~0.7 MB): no allocation can fail and concurrent or
 * nested callers never share one. */
#include "gemm.h"

#include <stdlib.h>
#include <string.h>

#include "fork_join.h"
#include "gemm_split.h"
#include "gemm_tiles.h"

#define MR CLIFF_GEMM_MR
#define NR CLIFF_GEMM_NR
#ifndef KC
#define KC 384
#endif
#ifndef MC
#define MC 192 /* a multiple of MR */
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
        if (a->cs == 1 && rows == MR) { /* rows contiguous in k: six streams in, one out */
            const float *a0 = base, *a1 = a0 + a->rs, *a2 = a1 + a->rs, *a3 = a2 + a->rs,
                        *a4 = a3 + a->rs, *a5 = a4 + a->rs;
            for (int k = 0; k < kc; k++, d += MR) {
                d[0] = alpha * a0[k], d[1] = alpha * a1[k], d[2] = alpha * a2[k];
                d[3] = alpha * a3[k], d[4] = alpha * a4[k], d[5] = alpha * a5[k];
            }
            continue;
        } else if (a->cs == 1) {
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

/* A view packed (instruction sets without the in-place tile): row k0 + k of
 * the block is a copy of its window. */
static void pack_rows_b(const CliffGemmB *b, int k0, int kc, int j0, int nc, float *dst)
{
    for (int q = 0; q * NR < nc; q++) {
        float *d = dst + (ptrdiff_t)q * kc * NR;
        const int jq = j0 + q * NR, cols = nc - q * NR < NR ? nc - q * NR : NR;
        for (int k = 0; k < kc; k++, d += NR) {
            memcpy(d, b->data + b->off[k0 + k] + jq, (size_t)cols * sizeof *d);
            for (int j = cols; j < NR; j++) d[j] = 0.0f;
        }
    }
}

CliffGemmB cliff_gemm_rows_b(const float *base, const int *off)
{
    CliffGemmB b = {.pack = pack_rows_b, .data = base, .scale = 1.0f, .off = off};
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
    int b_view;      /* op(B) is a row-offset view read in place by the view tiles */
    int accumulate;  /* C holds beta C already: add to it */
    const float *row_init; /* or the sums of row i start from row_init[i] (view tiles only) */
    float *C;
    ptrdiff_t ldc;
    int c_trans;     /* the product computed is C^T: element (i, j) goes to C[j*ldc + i];
                        N <= NR (gemm_block_ct) */
    CliffGemmTile tile;
    int by_cols, per_chunk; /* chunks of NR-column panels or MR-row tiles */
} GemmJob;

/* Where the tiles of one (reduction block, row block, column block) find
 * their operands: packed panels of op(A) (MR rows, step MR) and of op(B). */
typedef struct Panels {
    const float *a0; /* panel 0 of the row block (packed), or NULL: op(A) in place */
    ptrdiff_t astride; /* floats between consecutive A panels */
    const float *b0;   /* panel 0 of the column block (packed), or NULL: a view in place */
    ptrdiff_t bstride;
    const float *bv;   /* the view: row pc + k of the column block at bv + boff[k] */
    const int *boff;
} Panels;

/* The row pointers (and step) of op(A) for row tile p of the block, rows
 * [i, i + rows): a packed panel, or op(A) in place with rows past the end
 * repeating the last. */
static void a_rows(const GemmJob *j, const Panels *pn, int pc, int p, int i, int rows,
                   const float **rowp, ptrdiff_t *acs)
{
    if (pn->a0) {
        const float *pan = pn->a0 + p * pn->astride;
        for (int r = 0; r < MR; r++) rowp[r] = pan + r;
        *acs = MR;
    } else {
        for (int r = 0; r < MR; r++)
            rowp[r] = j->a.p + (ptrdiff_t)(i + (r < rows ? r : rows - 1)) * j->a.rs +
                      (ptrdiff_t)pc * j->a.cs;
        *acs = j->a.cs;
    }
}

/* Every tile of rows [ic, ic + mc) x columns [jc, jc + nc) over reduction
 * steps [pc, pc + kc). */
static void run_block(const GemmJob *j, const Panels *pn, int pc, int kc, int ic, int mc, int jc,
                      int nc, int acc)
{
    if (!pn->b0) { /* a view read in place: each row tile over all nc columns in one call */
        for (int p = 0; p * MR < mc; p++) {
            const int rows = mc - p * MR < MR ? mc - p * MR : MR, i = ic + p * MR;
            const float *rowp[MR];
            ptrdiff_t acs = MR;
            a_rows(j, pn, pc, p, i, rows, rowp, &acs);
            cliff_gemm_vtile_avx512(kc, rowp, acs, pn->bv, pn->boff,
                                    j->C + (ptrdiff_t)i * j->ldc + jc, j->ldc, rows, nc, acc,
                                    j->row_init ? j->row_init + i : NULL);
        }
        return;
    }
    for (int q = 0; q * NR < nc; q++) {
        const int cols = nc - q * NR < NR ? nc - q * NR : NR;
        const float *bq = pn->b0 + q * pn->bstride;
        for (int p = 0; p * MR < mc; p++) {
            const int rows = mc - p * MR < MR ? mc - p * MR : MR, i = ic + p * MR;
            const float *rowp[MR];
            ptrdiff_t acs = MR;
            a_rows(j, pn, pc, p, i, rows, rowp, &acs);
            j->tile(kc, rowp, acs, bq, j->C + (ptrdiff_t)i * j->ldc + jc + q * NR, j->ldc, rows,
                    cols, acc);
        }
    }
}

/* Points pn at op(A)'s panels for rows [ic, ic + mc) x steps [pc, pc + kc):
 * packed in advance, read in place, or packed now into ap. */
static void a_panels(const GemmJob *j, int pc, int kc, int ic, int mc, float *ap, Panels *pn)
{
    if (j->a_packed) { /* ic is a multiple of MR */
        pn->a0 = j->a_packed + ((ptrdiff_t)(ic / MR) * j->K + pc) * MR;
        pn->astride = (ptrdiff_t)j->K * MR;
    } else if (j->direct_a) {
        pn->a0 = NULL;
    } else {
        pack_a(&j->a, j->alpha, ic, mc, pc, kc, ap);
        pn->a0 = ap;
        pn->astride = (ptrdiff_t)kc * MR;
    }
}

static void b_panels(const GemmJob *j, int pc, int kc, int jc, int nc, float *bp, Panels *pn)
{
    if (j->b_packed) { /* jc is a multiple of NR */
        pn->b0 = j->b_packed + ((ptrdiff_t)(jc / NR) * j->K + pc) * NR;
        pn->bstride = (ptrdiff_t)j->K * NR;
    } else if (j->b_view) {
        pn->b0 = NULL;
        pn->bv = j->b->data + jc;
        pn->boff = j->b->off + pc;
    } else {
        j->b->pack(j->b, pc, kc, jc, nc, bp);
        pn->b0 = bp;
        pn->bstride = (ptrdiff_t)kc * NR;
    }
}

/* The tiles add to C after the first reduction block, or from the start when
 * C holds beta C. */
static int accumulate_at(const GemmJob *j, int pc) { return j->accumulate || pc > 0; }

/* gemm_block for a job that computes C^T (c_trans: cliff_gemm_ex's few rows
 * against a wide transposed op(B); its N is at most NR, one panel). The
 * tiles of a block of MC rows run over every reduction block into a
 * natural-layout buffer (MC x NR, 48 KB), which goes into C transposed once;
 * storing each tile transposed at every reduction block cost fc6's
 * forward ~40% on top of its tiles (C's columns are 16 KB apart). B is packed
 * once per row block and reduction block instead of once per reduction
 * block: a small panel (kc x N) against MC x kc multiply-adds. Same tiles,
 * same reduction blocks, so the same bits. */
static void gemm_block_ct(const GemmJob *j, int r0, int r1, int c0, int c1)
{
    _Alignas(64) float buf[GEMM_STACK_FLOATS];
    _Alignas(64) float ct[MC * NR];
    float *ap = buf, *bp = buf + MC * KC;
    Panels pn = {0};
    const int nc = c1 - c0; /* <= NR */
    for (int ic = r0; ic < r1; ic += MC) {
        const int mc = r1 - ic < MC ? r1 - ic : MC;
        if (j->accumulate) /* C holds beta C: the sums start from it */
            for (int q = 0; q < nc; q++)
                for (int i = 0; i < mc; i++)
                    ct[i * NR + q] = j->C[(ptrdiff_t)(c0 + q) * j->ldc + ic + i];
        for (int pc = 0; pc < j->K; pc += KC) {
            const int kc = j->K - pc < KC ? j->K - pc : KC, acc = accumulate_at(j, pc);
            b_panels(j, pc, kc, c0, nc, bp, &pn);
            a_panels(j, pc, kc, ic, mc, ap, &pn);
            for (int p = 0; p * MR < mc; p++) {
                const int rows = mc - p * MR < MR ? mc - p * MR : MR;
                const float *rowp[MR];
                ptrdiff_t acs = MR;
                a_rows(j, &pn, pc, p, ic + p * MR, rows, rowp, &acs);
                j->tile(kc, rowp, acs, pn.b0, ct + p * MR * NR, NR, rows, nc, acc);
            }
        }
        for (int q = 0; q < nc; q++)
            for (int i = 0; i < mc; i++)
                j->C[(ptrdiff_t)(c0 + q) * j->ldc + ic + i] = ct[i * NR + q];
    }
}

/* C[r0..r1) x [c0..c1) over the whole reduction, on this thread. One of the
 * two packed blocks is packed again for every block of the other: the loop
 * order repacks whichever costs fewer floats (A: once per column block, B:
 * once per row block). Every element still sums its terms in k order. */
static void gemm_block(const GemmJob *j, int r0, int r1, int c0, int c1)
{
    if (j->c_trans) { /* one panel wide (cliff_gemm_ex), never cut by columns */
        gemm_block_ct(j, r0, r1, c0, c1);
        return;
    }
    _Alignas(64) float buf[GEMM_STACK_FLOATS];
    float *ap = buf, *bp = buf + MC * KC;
    Panels pn;
    const int a_cheap = j->a_packed || j->direct_a, b_cheap = j->b_packed || j->b_view;
    const double repack_a = a_cheap ? 0 : (double)(r1 - r0) * ((c1 - c0 + NC - 1) / NC - 1);
    const double repack_b = b_cheap ? 0 : (double)(c1 - c0) * ((r1 - r0 + MC - 1) / MC - 1);
    if (repack_b < repack_a) { /* row blocks outside: A packed once, B once per row block */
        for (int pc = 0; pc < j->K; pc += KC) {
            const int kc = j->K - pc < KC ? j->K - pc : KC, acc = accumulate_at(j, pc);
            for (int ic = r0; ic < r1; ic += MC) {
                const int mc = r1 - ic < MC ? r1 - ic : MC;
                a_panels(j, pc, kc, ic, mc, ap, &pn);
                for (int jc = c0; jc < c1; jc += NC) {
                    const int nc = c1 - jc < NC ? c1 - jc : NC;
                    b_panels(j, pc, kc, jc, nc, bp, &pn);
                    run_block(j, &pn, pc, kc, ic, mc, jc, nc, acc);
                }
            }
        }
        return;
    }
    for (int jc = c0; jc < c1; jc += NC) { /* column blocks outside: A once per column block */
        const int nc = c1 - jc < NC ? c1 - jc : NC;
        for (int pc = 0; pc < j->K; pc += KC) {
            const int kc = j->K - pc < KC ? j->K - pc : KC, acc = accumulate_at(j, pc);
            b_panels(j, pc, kc, jc, nc, bp, &pn);
            for (int ic = r0; ic < r1; ic += MC) {
                const int mc = r1 - ic < MC ? r1 - ic : MC;
                a_panels(j, pc, kc, ic, mc, ap, &pn);
                run_block(j, &pn, pc, kc, ic, mc, jc, nc, acc);
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
        /* chunks along the longer of the two tile counts (gemm_split.h) */
        job->by_cols = panels >= tiles;
        const int units = job->by_cols ? panels : tiles;
        const int shared = job->by_cols ? job->a_packed || job->direct_a
                                        : job->b_packed || job->b_view;
        const int per = cliff_gemm_split_per(units, nt, shared);
        job->per_chunk = per;
        cliff_fj_for((units + per - 1) / per, gemm_chunk, job);
        return;
    }
    gemm_block(job, 0, job->M, 0, job->N);
}

/* C = beta C before the product; 1 when the product is then to be added. */
/* Whether op(B) b is a view the tiles of isa read in place. */
static int view_in_place(const CliffGemmB *b, int isa)
{
    return b && b->off && isa == CLIFF_ISA_AVX512;
}

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
    const int isa = cliff_gemm_isa();
    GemmJob job = {.M = M, .N = N, .K = K, .alpha = alpha, .a = a_side(trans_a, A, lda),
                   .b = b, .b_view = view_in_place(b, isa), .accumulate = accumulate, .C = C,
                   .ldc = ldc, .tile = tile_for(isa)};
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
    const int isa = cliff_gemm_isa();
    GemmJob job = {.M = M, .N = N, .K = K, .alpha = alpha, .a = a_side(trans_a, A, lda),
                   .a_packed = pa, .b = b, .b_packed = pb,
                   .b_view = !pb && view_in_place(b, isa), .accumulate = accumulate, .C = C,
                   .ldc = ldc, .tile = tile_for(isa)};
    gemm_run(&job);
}

void cliff_gemm_prepacked_bias(const float *pa, const float *pb, const CliffGemmB *b, int M,
                               int N, int K, const float *bias, float *C, ptrdiff_t ldc)
{
    if (M <= 0 || N <= 0) return;
    const int isa = cliff_gemm_isa();
    GemmJob job = {.M = M, .N = N, .K = K, .alpha = 1.0f, .a_packed = pa, .b = b, .b_packed = pb,
                   .b_view = !pb && view_in_place(b, isa), .C = C, .ldc = ldc,
                   .tile = tile_for(isa)};
    if (job.b_view && K > 0) { /* the view tiles start the sums from the bias */
        job.row_init = bias;
    } else { /* the other tiles accumulate into C filled with it: the same bits */
        for (int i = 0; i < M; i++)
            for (int jj = 0; jj < N; jj++) C[(ptrdiff_t)i * ldc + jj] = bias[i];
        job.accumulate = 1;
        if (K <= 0) return;
    }
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
