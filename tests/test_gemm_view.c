/* layers/kernels/gemm: op(B) as a row-offset view (cliff_gemm_rows_b), whose
 * rows the AVX-512 view tiles read in place. Against the same matrix handed
 * over densely, bit for bit: every row count of a tile (1..6, so each row
 * specialization), column counts around the 16-lane vectors and the 64-column
 * panel, reductions across the 384-step block, overlapping rows in any order,
 * beta 0 / 1 / other or a bias (cliff_gemm_prepacked_bias), op(A) packed in
 * advance, packed now or read in place;
 * on every instruction set (the others pack the view) and on 1 or 2 threads;
 * and no read past the end of a view row. The scatter-add into a view of C
 * (cliff_gemm_scatter_add) against a double sum and across instruction sets. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "guard_page.h"
#include "layers/kernels/fork_join.h"
#include "layers/kernels/gemm.h"

static float frand(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

/* A view of K rows of N floats over base[0, L): row k at off[k], the last
 * row ending exactly at L; the others anywhere, overlapping. Bd: the dense copy. */
typedef struct View {
    int K, N;
    size_t L;
    float *base;
    int *off;
    float *Bd;
} View;

static void view_fill(View *v, unsigned seed)
{
    for (size_t i = 0; i < v->L; i++) v->base[i] = frand(&seed);
    for (int k = 0; k < v->K; k++) {
        seed = seed * 1664525u + 1013904223u;
        v->off[k] = k == v->K - 1 ? (int)(v->L - (size_t)v->N)
                                  : (int)((seed >> 4) % (v->L - (size_t)v->N + 1));
        memcpy(v->Bd + (size_t)k * v->N, v->base + v->off[k], (size_t)v->N * sizeof(float));
    }
}

/* One product three ways (A packed now, in advance, or, one panel wide, read
 * in place) against the dense op(B): the same bits. */
static void one_case(int M, int N, int K, float alpha, float beta, unsigned seed)
{
    View v = {K, N, (size_t)N + 3u * (size_t)K + 17u, NULL, NULL, NULL};
    void *map = NULL;
    size_t len = 0;
    v.base = guarded(v.L, &map, &len);
    v.off = malloc(sizeof(int) * (size_t)K);
    v.Bd = malloc(sizeof(float) * (size_t)K * N);
    float *A = malloc(sizeof(float) * (size_t)M * K), *C0 = malloc(sizeof(float) * (size_t)M * N);
    float *R = malloc(sizeof(float) * (size_t)M * N), *C = malloc(sizeof(float) * (size_t)M * N);
    float *pa = malloc(sizeof(float) * cliff_gemm_packed_a_floats(M, K));
    if (!v.base || !v.off || !v.Bd || !A || !C0 || !R || !C || !pa) {
        CHECK_FAILF("out of memory");
        return;
    }
    view_fill(&v, seed);
    for (int i = 0; i < M * K; i++) A[i] = frand(&seed);
    for (int i = 0; i < M * N; i++) C0[i] = frand(&seed);
    const CliffGemmB dense = cliff_gemm_dense_b(v.Bd, N, 0), view = cliff_gemm_rows_b(v.base, v.off);
    memcpy(R, C0, sizeof(float) * (size_t)M * N);
    cliff_gemm_src(0, M, N, K, alpha, A, K, &dense, beta, R, N);
    cliff_gemm_pack_a(0, M, K, alpha, A, K, pa);
    for (int mode = 0; mode < 2; mode++) {
        memcpy(C, C0, sizeof(float) * (size_t)M * N);
        if (mode == 0) /* N <= 64 and alpha 1: op(A) read in place */
            cliff_gemm_src(0, M, N, K, alpha, A, K, &view, beta, C, N);
        else
            cliff_gemm_prepacked(pa, 0, alpha, NULL, 0, NULL, &view, M, N, K, beta, C, N);
        if (memcmp(C, R, sizeof(float) * (size_t)M * N))
            CHECK_FAILF("%dx%dx%d alpha %g beta %g, A %s: the view differs from dense", M, N, K,
                        alpha, beta, mode ? "pre-packed" : "packed now or in place");
    }
    /* with a bias: the sums start from bias[i] (row i of C0's first column) */
    float *bias = malloc(sizeof(float) * (size_t)M);
    for (int i = 0; i < M; i++) bias[i] = C0[(size_t)i * N];
    for (int i = 0; i < M; i++)
        for (int jj = 0; jj < N; jj++) R[(size_t)i * N + jj] = bias[i];
    cliff_gemm_src(0, M, N, K, alpha, A, K, &dense, 1.0f, R, N);
    memcpy(C, C0, sizeof(float) * (size_t)M * N);
    cliff_gemm_prepacked_bias(pa, NULL, &view, M, N, K, bias, C, N);
    if (memcmp(C, R, sizeof(float) * (size_t)M * N))
        CHECK_FAILF("%dx%dx%d alpha %g: the view with a bias differs from dense", M, N, K, alpha);
    free(bias);
    free(pa), free(C), free(R), free(C0), free(A), free(v.Bd), free(v.off);
    munmap(map, len);
}

static void test_view_shapes(void)
{
    static const int ms[] = {1, 2, 3, 4, 5, 6, 7, 11, 50};
    static const int ns[] = {1, 15, 16, 17, 33, 63, 64, 65, 130};
    static const int ks[] = {1, 25, 385};
    unsigned seed = 1;
    for (size_t im = 0; im < sizeof ms / sizeof *ms; im++)
        for (size_t in = 0; in < sizeof ns / sizeof *ns; in++)
            for (size_t ik = 0; ik < sizeof ks / sizeof *ks; ik++) {
                const int r = (int)(im + in + ik);
                const float alpha = r % 4 ? 1.0f : 0.5f, betas[] = {0.0f, 1.0f, 0.25f};
                one_case(ms[im], ns[in], ks[ik], alpha, betas[r % 3], seed++);
                if (check_failures_in_test) return;
            }
}

/* The instruction sets without the view tile pack the view: the same bits. */
static void test_view_isas(void)
{
    const int best = cliff_gemm_isa();
    for (int isa = CLIFF_ISA_GENERIC; isa <= best; isa++) {
        cliff_gemm_force_isa(isa);
        one_case(13, 70, 400, 1.0f, 1.0f, 500u + (unsigned)isa);
        one_case(5, 17, 30, 1.0f, 0.0f, 600u + (unsigned)isa);
    }
    cliff_gemm_force_isa(-1);
}

/* Big enough to split over threads (by rows and by column panels): the same
 * bits as the dense product, which itself is the same on any thread count. */
static void test_view_threads(void)
{
    one_case(200, 130, 500, 1.0f, 0.0f, 900u); /* rows: 34 tiles against 3 panels */
    one_case(12, 700, 300, 1.0f, 1.0f, 901u);  /* columns: 11 panels */
}

/* The scatter-add (cliff_gemm_scatter_add): C's rows at coff[i] overlapping
 * (each row 0..2 columns after the previous one) or apart (3 N + 1 floats):
 * apart, every element within a few roundings of the double sum; overlapping,
 * the same bits on every instruction set (the portable loop keeps the tile's
 * order of additions). M over every panel height and tail, N over the
 * vector and chunk tails, K past the 384-step block (a sum is never cut). */
static double scatter_case(int M, int N, int K, int apart, int isa, float **out, unsigned seed)
{
    const size_t span = (size_t)(apart ? 3 * N + 1 : 2) * (size_t)M + (size_t)N + 1;
    float *A = malloc(sizeof(float) * (size_t)M * K), *C = malloc(sizeof(float) * span);
    float *pa = malloc(sizeof(float) * cliff_gemm_scatter_a_floats(M, K) + 1);
    int *coff = malloc(sizeof(int) * (size_t)M), *boff = malloc(sizeof(int) * (size_t)K);
    const size_t L = (size_t)N + 2u * (size_t)K + 5u;
    void *map = NULL;
    size_t len = 0;
    float *B = guarded(L, &map, &len);
    if (!A || !C || !pa || !coff || !boff || !B) {
        CHECK_FAILF("out of memory");
        return 0;
    }
    for (int i = 0; i < M * K; i++) A[i] = frand(&seed);
    for (size_t i = 0; i < span; i++) C[i] = frand(&seed);
    for (size_t i = 0; i < L; i++) B[i] = frand(&seed);
    for (int k = 0; k < K; k++) boff[k] = k == K - 1 ? (int)(L - (size_t)N) : 2 * k + k % 3;
    for (int i = 0, o = 0; i < M; i++, o += apart ? 3 * N + 1 : i % 3) coff[i] = o;
    double err = 0;
    float *C0 = malloc(sizeof(float) * span);
    memcpy(C0, C, sizeof(float) * span);
    /* op(A) = A^T stored K x M: the transposed packing */
    float *At = malloc(sizeof(float) * (size_t)M * K);
    for (int i = 0; i < M; i++)
        for (int k = 0; k < K; k++) At[(size_t)k * M + i] = A[(size_t)i * K + k];
    cliff_gemm_scatter_pack_a(1, M, K, At, M, pa);
    const CliffGemmB b = cliff_gemm_rows_b(B, boff);
    cliff_gemm_force_isa(isa);
    cliff_gemm_scatter_add(pa, M, N, K, &b, C, coff);
    cliff_gemm_force_isa(-1);
    if (apart)
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double sum = 0, mag = 0;
                for (int k = 0; k < K; k++) {
                    sum += (double)A[(size_t)i * K + k] * B[boff[k] + j];
                    mag += fabs((double)A[(size_t)i * K + k] * B[boff[k] + j]);
                }
                const double want = C0[coff[i] + j] + sum;
                const double e = fabs(C[coff[i] + j] - want) / (4e-7 * (K + 4) * (mag + 1));
                if (e > err) err = e;
            }
    free(At), free(C0), free(A), free(pa), free(coff), free(boff);
    munmap(map, len);
    *out = C;
    return err;
}

static void test_scatter_add(void)
{
    static const int ms[] = {1, 2, 3, 4, 5, 6, 7, 11, 13, 25, 50};
    static const int ns[] = {1, 15, 16, 17, 63, 64, 65, 130};
    static const int ks[] = {1, 7, 400};
    const int best = cliff_gemm_isa();
    unsigned seed = 77;
    for (size_t im = 0; im < sizeof ms / sizeof *ms; im++)
        for (size_t in = 0; in < sizeof ns / sizeof *ns; in++)
            for (size_t ik = 0; ik < sizeof ks / sizeof *ks; ik++) {
                const int M = ms[im], N = ns[in], K = ks[ik];
                for (int apart = 0; apart < 2; apart++) {
                    float *ref = NULL, *C = NULL;
                    const size_t span = (size_t)(apart ? 3 * N + 1 : 2) * (size_t)M + N + 1;
                    const double e = scatter_case(M, N, K, apart, best, &ref, seed);
                    if (apart && e > 1.0)
                        CHECK_FAILF("scatter %dx%dx%d: %.1f times the rounding bound", M, N, K,
                                    e);
                    if (best > CLIFF_ISA_GENERIC) {
                        scatter_case(M, N, K, apart, CLIFF_ISA_GENERIC, &C, seed);
                        if (memcmp(C, ref, sizeof(float) * span))
                            CHECK_FAILF("scatter %dx%dx%d (%s): %s differs from generic", M, N,
                                        K, apart ? "apart" : "overlapping",
                                        cliff_gemm_isa_name(best));
                    }
                    free(ref), free(C);
                    seed += 2;
                }
                if (check_failures_in_test) return;
            }
}

int main(void)
{
    openblas_set_num_threads(2); /* the engine's threads follow OpenBLAS's count */
    RUN(test_view_shapes);
    RUN(test_view_isas);
    RUN(test_view_threads);
    RUN(test_scatter_add);
    return test_main_end();
}
