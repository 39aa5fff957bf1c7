/* layers/kernels/gemm: the matrix engine against a double-precision reference
 * over every transpose combination, edge-tile shapes (rows and columns around
 * multiples of the 6 x 64 tile, reductions around the 384-step block), padded
 * leading dimensions, alpha and beta; a custom op(B) source; and bit-identical
 * results across instruction sets (AVX-512, AVX2, generic) and thread counts. */
#include <cblas.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "guard_page.h"
#include "layers/kernels/fork_join.h"
#include "layers/kernels/gemm.h"
#include "layers/kernels/gemm_split.h"

static float frand(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

typedef struct Case {
    int ta, tb, M, N, K;
    float alpha, beta;
    int pad; /* extra elements on every leading dimension */
} Case;

typedef struct Operands {
    float *A, *B, *C0;
    ptrdiff_t lda, ldb, ldc;
} Operands;

static Operands make_operands(const Case *c, unsigned seed)
{
    Operands o;
    const int ar = c->ta ? c->K : c->M, ac = c->ta ? c->M : c->K;
    const int br = c->tb ? c->N : c->K, bc = c->tb ? c->K : c->N;
    o.lda = ac + c->pad;
    o.ldb = bc + c->pad;
    o.ldc = c->N + c->pad;
    o.A = malloc(sizeof(float) * (size_t)ar * o.lda);
    o.B = malloc(sizeof(float) * (size_t)br * o.ldb);
    o.C0 = malloc(sizeof(float) * (size_t)c->M * o.ldc);
    for (ptrdiff_t i = 0; i < ar * o.lda; i++) o.A[i] = frand(&seed);
    for (ptrdiff_t i = 0; i < br * o.ldb; i++) o.B[i] = frand(&seed);
    for (ptrdiff_t i = 0; i < c->M * o.ldc; i++) o.C0[i] = frand(&seed);
    return o;
}

static void free_operands(Operands *o)
{
    free(o->A);
    free(o->B);
    free(o->C0);
}

static float *run_engine(const Case *c, const Operands *o)
{
    float *C = malloc(sizeof(float) * (size_t)c->M * o->ldc);
    memcpy(C, o->C0, sizeof(float) * (size_t)c->M * o->ldc);
    cliff_gemm_ex(c->ta, c->tb, c->M, c->N, c->K, c->alpha, o->A, o->lda, o->B, o->ldb, c->beta,
                  C, o->ldc);
    return C;
}

/* Every element within a few float roundings of the double sum; the padding
 * between rows of C untouched. */
static void check_against_reference(const Case *c, const Operands *o, const float *C)
{
    int bad = 0;
    for (int i = 0; i < c->M && !bad; i++) {
        for (int j = 0; j < c->N; j++) {
            double s = 0, mag = 0;
            for (int k = 0; k < c->K; k++) {
                const double a = c->ta ? o->A[k * o->lda + i] : o->A[i * o->lda + k];
                const double b = c->tb ? o->B[j * o->ldb + k] : o->B[k * o->ldb + j];
                s += a * b;
                mag += fabs(a * b);
            }
            const double c0 = o->C0[i * o->ldc + j];
            const double want = c->alpha * s + (c->beta != 0.0f ? c->beta * c0 : 0.0);
            const double tol = 4e-7 * (c->K + 4) * (fabs(c->alpha) * mag + fabs(c->beta * c0)) + 1e-30;
            if (fabs(C[i * o->ldc + j] - want) > tol) {
                CHECK_FAILF("ta %d tb %d %dx%dx%d alpha %g beta %g: C[%d][%d] = %.9g, want %.9g",
                            c->ta, c->tb, c->M, c->N, c->K, c->alpha, c->beta, i, j,
                            C[i * o->ldc + j], want);
                bad = 1;
                break;
            }
        }
        for (ptrdiff_t j = c->N; j < o->ldc; j++)
            if (C[i * o->ldc + j] != o->C0[i * o->ldc + j]) {
                CHECK_FAILF("%dx%dx%d wrote C[%d][%td] past column N", c->M, c->N, c->K, i, j);
                bad = 1;
                break;
            }
    }
}

static const int dims_m[] = {1, 5, 6, 7, 13, 96, 97, 200};
static const int dims_n[] = {1, 15, 16, 17, 63, 64, 65, 130, 300};
static const int dims_k[] = {1, 7, 383, 384, 385, 900};

static void test_shapes_and_transposes(void)
{
    unsigned seed = 1;
    for (int t = 0; t < 4; t++)
        for (size_t im = 0; im < sizeof dims_m / sizeof *dims_m; im++)
            for (size_t in = 0; in < sizeof dims_n / sizeof *dims_n; in++)
                for (size_t ik = 0; ik < sizeof dims_k / sizeof *dims_k; ik++) {
                    if (dims_m[im] * dims_n[in] * dims_k[ik] > 20000000) continue;
                    /* rotate alpha, beta and padding over the grid */
                    const int r = (int)(im + in + ik);
                    const float alphas[] = {1.0f, 0.5f, -2.0f};
                    const float betas[] = {0.0f, 1.0f, 0.25f};
                    Case c = {t & 1, t >> 1, dims_m[im], dims_n[in], dims_k[ik], alphas[r % 3],
                              betas[(r / 3) % 3], r % 2 ? 3 : 0};
                    Operands o = make_operands(&c, seed++);
                    float *C = run_engine(&c, &o);
                    check_against_reference(&c, &o, C);
                    free(C);
                    free_operands(&o);
                    if (check_failures_in_test) return;
                }
}

/* beta = 0 never reads C: NaN there does not come through. K = 0 gives beta C. */
static void test_beta_zero_and_empty_reduction(void)
{
    Case c = {0, 0, 7, 70, 5, 1.0f, 0.0f, 0};
    Operands o = make_operands(&c, 9);
    for (int i = 0; i < 7 * 70; i++) o.C0[i] = NAN;
    float *C = run_engine(&c, &o);
    for (int i = 0; i < 7 * 70; i++) CHECK(isfinite(C[i]));
    free(C);
    float C2[6] = {1, 2, 3, 4, 5, 6};
    cliff_gemm_ex(0, 0, 2, 3, 0, 1.0f, o.A, 1, o.B, 3, 0.5f, C2, 3);
    CHECK(C2[0] == 0.5f && C2[5] == 3.0f);
    cliff_gemm_ex(0, 0, 2, 3, 0, 1.0f, o.A, 1, o.B, 3, 0.0f, C2, 3);
    CHECK(C2[0] == 0.0f && C2[5] == 0.0f);
    free_operands(&o);
}

/* A custom op(B): B(k, j) = f(k, j) packed by the contract of gemm.h; the
 * engine must ask only for blocks inside K x N and use them as packed. */
typedef struct FnB {
    int K, N;
    int out_of_range;
} FnB;

static float fn_b(int k, int j) { return (float)((k * 7 + j * 3) % 11) - 5.0f; }

static void pack_fn(const CliffGemmB *b, int k0, int kc, int j0, int nc, float *dst)
{
    FnB *f = (FnB *)b->ctx;
    if (k0 < 0 || kc <= 0 || k0 + kc > f->K || j0 < 0 || nc <= 0 || j0 + nc > f->N)
        f->out_of_range = 1;
    for (int q = 0; q * CLIFF_GEMM_NR < nc; q++)
        for (int k = 0; k < kc; k++)
            for (int jj = 0; jj < CLIFF_GEMM_NR; jj++) {
                const int j = q * CLIFF_GEMM_NR + jj;
                dst[((ptrdiff_t)q * kc + k) * CLIFF_GEMM_NR + jj] = j < nc ? fn_b(k0 + k, j0 + j) : 0;
            }
}

static void test_custom_source(void)
{
    const int M = 11, N = 333, K = 800;
    FnB f = {K, N, 0};
    CliffGemmB b = {.pack = pack_fn, .ctx = &f};
    float *A = malloc(sizeof(float) * M * K), *C = malloc(sizeof(float) * M * N),
          *Bd = malloc(sizeof(float) * K * N), *R = malloc(sizeof(float) * M * N);
    unsigned s = 3;
    for (int i = 0; i < M * K; i++) A[i] = frand(&s);
    for (int k = 0; k < K; k++)
        for (int j = 0; j < N; j++) Bd[k * N + j] = fn_b(k, j);
    cliff_gemm_src(0, M, N, K, 1.0f, A, K, &b, 0.0f, C, N);
    cliff_gemm_ex(0, 0, M, N, K, 1.0f, A, K, Bd, N, 0.0f, R, N);
    CHECK(!f.out_of_range);
    CHECK(memcmp(C, R, sizeof(float) * M * N) == 0);
    free(A), free(C), free(Bd), free(R);
}

/* Chunks for threads (gemm_split.h): one a thread when each chunk packs the
 * other operand anew, about four a thread when that operand is shared. */
static void test_split_per(void)
{
    CHECK(cliff_gemm_split_per(84, 2, 0) == 42);
    CHECK(cliff_gemm_split_per(13, 2, 0) == 7);
    CHECK(cliff_gemm_split_per(1, 2, 0) == 1);
    CHECK(cliff_gemm_split_per(84, 2, 1) == 10);
    CHECK(cliff_gemm_split_per(3, 2, 1) == 1);
}

/* A row-split product whose op(B) is packed by each chunk packs it once per
 * thread, not once per chunk: LeNet's ip1 forward shape (500 rows of W read in
 * place against x^T), counted through a source that adds up what it packs. */
static atomic_long packed_floats;

static void pack_counting(const CliffGemmB *b, int k0, int kc, int j0, int nc, float *dst)
{
    const long panels = (nc + CLIFF_GEMM_NR - 1) / CLIFF_GEMM_NR;
    atomic_fetch_add(&packed_floats, (long)kc * CLIFF_GEMM_NR * panels);
    pack_fn(b, k0, kc, j0, nc, dst);
}

static void test_split_packs_b_once_a_thread(void)
{
    const int M = 500, N = 64, K = 800, nt = cliff_fj_threads();
    FnB f = {K, N, 0};
    CliffGemmB b = {.pack = pack_counting, .ctx = &f};
    float *A = malloc(sizeof(float) * M * K), *C = malloc(sizeof(float) * M * N);
    unsigned s = 5;
    for (int i = 0; i < M * K; i++) A[i] = frand(&s);
    atomic_store(&packed_floats, 0);
    cliff_gemm_src(0, M, N, K, 1.0f, A, K, &b, 0.0f, C, N);
    const long got = atomic_load(&packed_floats), once = (long)K * CLIFF_GEMM_NR;
    if (got > nt * once)
        CHECK_FAILF("op(B) packed %ld times on %d threads", got / once, nt);
    CHECK(got >= once && !f.out_of_range);
    free(A), free(C);
}

/* Few rows against a wide op(B)^T run as C^T = op(B)^T op(A)^T (gemm.c): the
 * same bits as the plain blocked product (cliff_gemm_src never transposes). */
static void test_transposed_mode_bit_identical(void)
{
    const int Ms[] = {1, 6, 7, 64};
    for (int t = 0; t < 8; t++) {
        Case c = {t & 1, 1, Ms[t % 4], 300, 500, t >= 4 ? 0.5f : 1.0f, t % 3 ? 1.0f : 0.0f, 2};
        Operands o = make_operands(&c, 90 + t);
        float *C = run_engine(&c, &o);
        float *R = malloc(sizeof(float) * (size_t)c.M * o.ldc);
        memcpy(R, o.C0, sizeof(float) * (size_t)c.M * o.ldc);
        const CliffGemmB b = cliff_gemm_dense_b(o.B, o.ldb, 1);
        cliff_gemm_src(c.ta, c.M, c.N, c.K, c.alpha, o.A, o.lda, &b, c.beta, R, o.ldc);
        if (memcmp(C, R, sizeof(float) * (size_t)c.M * o.ldc))
            CHECK_FAILF("M %d ta %d alpha %g beta %g: transposed run differs", c.M, c.ta,
                        c.alpha, c.beta);
        check_against_reference(&c, &o, C);
        free(C);
        free(R);
        free_operands(&o);
    }
}

/* Operands packed in advance give the same bits as packed on the fly: A alone,
 * B alone, both; shapes that split over threads by rows and by columns. */
static void test_prepacked_bit_identical(void)
{
    const int shapes[][3] = {{97, 130, 900}, {30, 700, 400}, {7, 40, 5}};
    for (int sh = 0; sh < 3; sh++)
        for (int t = 0; t < 4; t++) {
            Case c = {t & 1, t >> 1, shapes[sh][0], shapes[sh][1], shapes[sh][2],
                      t == 2 ? 0.5f : 1.0f, t == 1 ? 1.0f : 0.0f, 1};
            Operands o = make_operands(&c, 300 + 4 * sh + t);
            const CliffGemmB b = cliff_gemm_dense_b(o.B, o.ldb, c.tb);
            float *ref = malloc(sizeof(float) * (size_t)c.M * o.ldc);
            memcpy(ref, o.C0, sizeof(float) * (size_t)c.M * o.ldc);
            cliff_gemm_src(c.ta, c.M, c.N, c.K, c.alpha, o.A, o.lda, &b, c.beta, ref, o.ldc);
            float *pa = malloc(sizeof(float) * cliff_gemm_packed_a_floats(c.M, c.K));
            float *pb = malloc(sizeof(float) * cliff_gemm_packed_b_floats(c.K, c.N));
            cliff_gemm_pack_a(c.ta, c.M, c.K, c.alpha, o.A, o.lda, pa);
            cliff_gemm_pack_b(&b, c.K, c.N, pb);
            for (int mode = 1; mode < 4; mode++) {
                float *C = malloc(sizeof(float) * (size_t)c.M * o.ldc);
                memcpy(C, o.C0, sizeof(float) * (size_t)c.M * o.ldc);
                cliff_gemm_prepacked(mode & 1 ? pa : NULL, c.ta, c.alpha, o.A, o.lda,
                                     mode & 2 ? pb : NULL, &b, c.M, c.N, c.K, c.beta, C, o.ldc);
                if (memcmp(C, ref, sizeof(float) * (size_t)c.M * o.ldc))
                    CHECK_FAILF("%dx%dx%d ta %d tb %d: pre-packed %s differs", c.M, c.N, c.K,
                                c.ta, c.tb, mode == 1 ? "A" : mode == 2 ? "B" : "A and B");
                free(C);
            }
            free(pa), free(pb), free(ref);
            free_operands(&o);
        }
}

/* Operands read in place (one column panel; the transposed mode's op(B)^T)
 * are never read past their last row, also when the rows end inside a tile. */
static void test_in_place_reads_stay_inside(void)
{
    const int M = 13, K = 50, N = 40; /* 13 rows: a tile of 1 at the end */
    void *ma = NULL, *mb = NULL;
    size_t la = 0, lb = 0;
    float *A = guarded((size_t)M * K, &ma, &la), *B = guarded((size_t)K * N, &mb, &lb);
    float C[13 * 130];
    if (!A || !B) {
        CHECK_FAILF("mmap failed");
        return;
    }
    unsigned s = 5;
    for (int i = 0; i < M * K; i++) A[i] = frand(&s);
    for (int i = 0; i < K * N; i++) B[i] = frand(&s);
    cliff_gemm_ex(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N); /* A read in place */
    munmap(mb, lb);
    /* transposed mode: op(B)^T = B (130 x 50) read in place, 130 = 21 tiles + 4 */
    float *Bt = guarded((size_t)130 * K, &mb, &lb);
    if (!Bt) {
        CHECK_FAILF("mmap failed");
        return;
    }
    for (int i = 0; i < 130 * K; i++) Bt[i] = frand(&s);
    cliff_gemm_ex(0, 1, M, 130, K, 1.0f, A, K, Bt, K, 0.0f, C, 130);
    CHECK(isfinite(C[0]) && isfinite(C[13 * 130 - 1]));
    munmap(ma, la);
    munmap(mb, lb);
}

/* The same product on every instruction set this CPU has, bit for bit. */
static void test_isas_bit_identical(void)
{
    const int best = cliff_gemm_isa();
    printf("# engine instruction set: %s\n", cliff_gemm_isa_name(best));
    for (int t = 0; t < 6; t++) { /* t >= 4: one column panel, op(A) read in place */
        Case c = {t & 1, (t >> 1) & 1, 97, t >= 4 ? 40 : 130, 900, t == 3 ? 0.5f : 1.0f,
                  t == 2 ? 1.0f : 0.0f, 1};
        Operands o = make_operands(&c, 40 + t);
        cliff_gemm_force_isa(best);
        float *ref = run_engine(&c, &o);
        for (int isa = CLIFF_ISA_GENERIC; isa < best; isa++) {
            cliff_gemm_force_isa(isa);
            CHECK(cliff_gemm_isa() == isa);
            float *C = run_engine(&c, &o);
            if (memcmp(C, ref, sizeof(float) * (size_t)c.M * o.ldc))
                CHECK_FAILF("%s differs from %s (ta %d tb %d)", cliff_gemm_isa_name(isa),
                            cliff_gemm_isa_name(best), c.ta, c.tb);
            free(C);
        }
        cliff_gemm_force_isa(-1);
        free(ref);
        free_operands(&o);
    }
}

/* Bit-identical on 1 and 2 threads: a product run from inside a fork-join
 * chunk runs on its caller's thread alone. */
typedef struct Serial {
    const Case *c;
    const Operands *o;
    float *C;
} Serial;

static void serial_chunk(void *arg, int chunk, int thread)
{
    (void)thread;
    Serial *s = arg;
    if (chunk == 0) s->C = run_engine(s->c, s->o);
}

static void test_threads_bit_identical(void)
{
    if (cliff_fj_threads() < 2) {
        printf("# one thread only: thread-count check skipped\n");
        return;
    }
    for (int t = 0; t < 6; t++) { /* t < 4: split by rows; t >= 4: by column panels */
        Case c = {t & 1, (t >> 1) & 1, t < 4 ? 200 : 30, t < 4 ? 300 : 700, t < 4 ? 900 : 400,
                  1.0f, t % 2 ? 1.0f : 0.0f, 0};
        Operands o = make_operands(&c, 70 + t);
        float *par = run_engine(&c, &o);
        Serial s = {&c, &o, NULL};
        cliff_fj_for(2, serial_chunk, &s);
        CHECK(s.C && memcmp(par, s.C, sizeof(float) * (size_t)c.M * o.ldc) == 0);
        free(par);
        free(s.C);
        free_operands(&o);
    }
}

int main(void)
{
    openblas_set_num_threads(2); /* the engine's threads follow OpenBLAS's count */
    RUN(test_shapes_and_transposes);
    RUN(test_beta_zero_and_empty_reduction);
    RUN(test_custom_source);
    RUN(test_split_per);
    RUN(test_split_packs_b_once_a_thread);
    RUN(test_transposed_mode_bit_identical);
    RUN(test_in_place_reads_stay_inside);
    RUN(test_prepacked_bit_identical);
    RUN(test_isas_bit_identical);
    RUN(test_threads_bit_identical);
    return test_main_end();
}
