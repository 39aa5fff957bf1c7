/* layers/kernels/gemm_dot.c: the engine's dot-product kind (gemm.h,
 * cliff_gemm_dot and cliff_gemm_dot_rows). On every instruction set this CPU
 * has: close to a double-precision sum; bit for bit the contract's order as
 * written out here (16 lanes, the tree, one addition into C a call); the
 * edges of the tiles (M and N around AVX-512's 5 x 5 and AVX2's 3 x 2, lengths
 * around 16 and its halves) with nothing written outside [0, M) x [0, N) of C
 * and no read past a row's segment (its last one ends at an unreadable page). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "check.h"
#include "guard_page.h"
#include "layers/kernels/gemm.h"

static float frand(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

/* One operand: R rows of nseg segments of len floats over base[0, L); row r at
 * off[r] (overlapping, any order), segment s at + s * stride; the last row's
 * last segment ends exactly at L (the guard page). */
typedef struct Rows {
    int R, len, nseg;
    ptrdiff_t stride;
    size_t L;
    float *base;
    int *off;
    void *map;
    size_t maplen;
} Rows;

static void rows_make(Rows *o, int R, int len, int nseg, unsigned seed)
{
    o->R = R, o->len = len, o->nseg = nseg;
    o->stride = len + 5;
    const size_t span = (size_t)(nseg - 1) * (size_t)o->stride + (size_t)len; /* one row */
    o->L = span + 3u * (size_t)R + 7u;
    o->base = guarded(o->L, &o->map, &o->maplen);
    o->off = malloc(sizeof(int) * (size_t)R);
    for (size_t i = 0; i < o->L; i++) o->base[i] = frand(&seed);
    for (int r = 0; r < R; r++) {
        seed = seed * 1664525u + 1013904223u;
        o->off[r] = r == R - 1 ? (int)(o->L - span) : (int)((seed >> 4) % (o->L - span + 1));
    }
}

static void rows_free(Rows *o)
{
    munmap(o->map, o->maplen);
    free(o->off);
}

static const float *seg(const Rows *o, int r, int s)
{
    return o->base + o->off[r] + (ptrdiff_t)s * o->stride;
}

/* The contract written out: 16 lanes from +0, segments and chunks in order, a
 * fused multiply-add a term (0 * 0 past len), the tree, one addition. */
static float contract_dot(const Rows *a, int i, const Rows *b, int j)
{
    float l[16] = {0};
    for (int s = 0; s < a->nseg; s++) {
        const float *x = seg(a, i, s), *y = seg(b, j, s);
        for (int p = 0; p < (a->len + 15) / 16 * 16; p++)
            l[p % 16] = fmaf(p < a->len ? x[p] : 0.0f, p < a->len ? y[p] : 0.0f, l[p % 16]);
    }
    float h[4];
    for (int t = 0; t < 4; t++) h[t] = (l[t] + l[t + 8]) + (l[t + 4] + l[t + 12]);
    return (h[0] + h[2]) + (h[1] + h[3]);
}

static double double_dot(const Rows *a, int i, const Rows *b, int j, double *mag)
{
    double d = 0;
    *mag = 0;
    for (int s = 0; s < a->nseg; s++)
        for (int p = 0; p < a->len; p++) {
            const double t = (double)seg(a, i, s)[p] * seg(b, j, s)[p];
            d += t;
            *mag += fabs(t);
        }
    return d;
}

static int same_bits(float x, float y) { return memcmp(&x, &y, sizeof x) == 0; }

/* C (M x N, row stride N + 3, sentinels around it) += A B^T twice (two calls:
 * the blocks of a caller), on the instruction set in force. dense: one
 * segment, rows at a stride (cliff_gemm_dot) instead of offsets. */
static void one_case(int M, int N, int len, int nseg, int dense, unsigned seed)
{
    Rows a, b;
    rows_make(&a, M, len, nseg, seed);
    rows_make(&b, N, len, nseg, seed * 7u + 3u);
    const ptrdiff_t ldc = N + 3;
    const size_t cn = (size_t)(M + 1) * (size_t)ldc;
    float *C = malloc(sizeof(float) * cn);
    for (size_t k = 0; k < cn; k++) C[k] = 1000.0f + (float)k; /* sentinels and start */
    /* dense operands: the rows copied to a matrix of stride len + 2 */
    float *Ad = NULL, *Bd = NULL;
    if (dense) {
        Ad = malloc(sizeof(float) * (size_t)M * (size_t)(len + 2));
        Bd = malloc(sizeof(float) * (size_t)N * (size_t)(len + 2));
        for (int i = 0; i < M; i++) memcpy(Ad + (size_t)i * (len + 2), seg(&a, i, 0), sizeof(float) * len);
        for (int j = 0; j < N; j++) memcpy(Bd + (size_t)j * (len + 2), seg(&b, j, 0), sizeof(float) * len);
    }
    for (int call = 0; call < 2; call++) {
        if (dense)
            cliff_gemm_dot(M, N, len, Ad, len + 2, Bd, len + 2, C, ldc);
        else
            cliff_gemm_dot_rows(M, N, len, nseg, a.base, a.off, a.stride, b.base, b.off,
                                b.stride, C, ldc);
    }
    int bad = 0;
    for (int i = 0; i <= M && !bad; i++)
        for (int j = 0; j < ldc && !bad; j++) {
            const float c = C[(size_t)i * ldc + j], c0 = 1000.0f + (float)((size_t)i * ldc + j);
            if (i == M || j >= N) {
                if (!same_bits(c, c0)) {
                    CHECK_FAILF("M %d N %d len %d nseg %d: C[%d][%d] outside the product written",
                                M, N, len, nseg, i, j);
                    bad = 1;
                }
                continue;
            }
            const float d = contract_dot(&a, i, &b, j);
            const float want = (c0 + d) + d;
            double mag;
            const double ref = c0 + 2.0 * double_dot(&a, i, &b, j, &mag);
            if (!same_bits(c, want)) {
                CHECK_FAILF("M %d N %d len %d nseg %d %s: C[%d][%d] = %.9g, the contract's order "
                            "gives %.9g", M, N, len, nseg, cliff_gemm_isa_name(cliff_gemm_isa()),
                            i, j, c, want);
                bad = 1;
            } else if (fabs(c - ref) > 1e-6 * (fabs(ref) + 2.0 * mag)) {
                CHECK_FAILF("M %d N %d len %d: C[%d][%d] = %.9g, double %.9g", M, N, len, i, j, c,
                            ref);
                bad = 1;
            }
        }
    free(Ad);
    free(Bd);
    free(C);
    rows_free(&a);
    rows_free(&b);
}

static const int dims[] = {1, 2, 3, 4, 5, 6, 7, 10, 11};
static const int lens[] = {1, 7, 8, 9, 15, 16, 17, 24, 31, 33, 100};

/* Every instruction set this CPU has (cliff_gemm_force_isa), the best last. */
static void for_each_isa(void (*fn)(void))
{
    cliff_gemm_force_isa(-1);
    const int best = cliff_gemm_isa();
    for (int isa = CLIFF_ISA_GENERIC; isa <= best; isa++) {
        cliff_gemm_force_isa(isa);
        fn();
    }
    cliff_gemm_force_isa(-1);
}

static void edges_body(void)
{
    unsigned seed = 1;
    for (size_t m = 0; m < sizeof dims / sizeof *dims; m++)
        for (size_t n = 0; n < sizeof dims / sizeof *dims; n++)
            one_case(dims[m], dims[n], lens[(m + 3 * n) % (sizeof lens / sizeof *lens)],
                     1 + (int)((m + n) % 3), 0, seed++);
}

static void lengths_body(void)
{
    unsigned seed = 99;
    for (size_t l = 0; l < sizeof lens / sizeof *lens; l++) {
        one_case(5, 5, lens[l], 2, 0, seed++);
        one_case(3, 2, lens[l], 1, 0, seed++);
        one_case(6, 7, lens[l], 1, 1, seed++);
    }
}

/* The tile edges: M, N not multiples of any tile, segments and their count. */
static void test_dot_edge_tiles(void) { for_each_isa(edges_body); }
/* Lengths around 16 and 8 (the AVX2 halves) on whole tiles, and the dense form. */
static void test_dot_lengths(void) { for_each_isa(lengths_body); }

/* A long reduction (LeNet conv2's weight gradient shape: 50 x 500, plane 64,
 * 8 images a call): every set gives the same bits. */
static void test_dot_isas_agree(void)
{
    Rows a, b;
    rows_make(&a, 50, 64, 8, 5);
    rows_make(&b, 25, 64, 8, 6);
    float *C[3];
    cliff_gemm_force_isa(-1);
    const int best = cliff_gemm_isa();
    for (int isa = CLIFF_ISA_GENERIC; isa <= best; isa++) {
        cliff_gemm_force_isa(isa);
        C[isa] = calloc(50 * 25, sizeof(float));
        cliff_gemm_dot_rows(50, 25, 64, 8, a.base, a.off, a.stride, b.base, b.off, b.stride,
                            C[isa], 25);
        if (isa > 0) CHECK(memcmp(C[isa], C[0], sizeof(float) * 50 * 25) == 0);
    }
    cliff_gemm_force_isa(-1);
    for (int isa = CLIFF_ISA_GENERIC; isa <= best; isa++) free(C[isa]);
    rows_free(&a);
    rows_free(&b);
}

int main(void)
{
    RUN(test_dot_edge_tiles);
    RUN(test_dot_lengths);
    RUN(test_dot_isas_agree);
    return test_main_end();
}
