/* Gradient norms and clip policies on flat slabs laid out by hand-made
 * CliffNetParam tables, clipped the way the solver's step does it: the policy
 * decides the factors, scale-and-decay applies them. */
#include <cblas.h>
#include <float.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "clip_fixture.h"
#include "fj_fixture.h"
#include "layers/kernels/fork_join.h"
#include "solver/clip.h"
#include "solver/slab_blocks.h"
#include "solver/update.h"

/* Two blobs: 3 + 4 floats. */
static CliffNetParam params[2] = {
    {.name = "a/0", .offset = 0, .count = 3, .lr_mult = 1, .decay_mult = 1},
    {.name = "a/1", .offset = 3, .count = 4, .lr_mult = 1, .decay_mult = 1},
};

/* The solver's clip path (clip_fixture.h) for a blob-factor policy at
 * threshold C. Returns the smallest factor. */
static double clip(const char *policy, float *g, double threshold)
{
    float w[7] = {0}; /* not read: decay is 0 */
    FxClip fx;
    if (fx_clip_open(&fx, policy, threshold, params, 2, w, g, 7, NULL)) {
        CHECK_FAILF("%s", fx.err.msg);
        return -1;
    }
    double smallest = fx_clip_step(&fx, 0.1, 0);
    fx_clip_close(&fx);
    return smallest;
}

static void test_norms(void)
{
    /* blob 0: (3, 4, 0) -> 5; blob 1: (1, 2, 2, 0) -> 3; global sqrt(34) */
    float g[7] = {3, 4, 0, 1, 2, 2, 0};
    double pn[2];
    int bad;
    double n = cliff_slab_norms(g, params, 2, pn, &bad);
    CHECK_NEAR(pn[0], 5.0, 1e-15);
    CHECK_NEAR(pn[1], 3.0, 1e-15);
    CHECK_NEAR(n, sqrt(34.0), 1e-15);
    CHECK(bad == -1);
}

static void test_norm_huge_is_finite(void)
{
    /* 1e30 per element: squares are 1e60, far beyond float but fine in double. */
    float g[7];
    for (int i = 0; i < 7; i++) g[i] = 1e30f;
    double pn[2];
    int bad;
    double n = cliff_slab_norms(g, params, 2, pn, &bad);
    CHECK(isfinite(n));
    CHECK_NEAR(n / (1e30 * sqrt(7.0)), 1.0, 1e-6);
    CHECK(bad == -1);
    /* The largest finite floats too. */
    for (int i = 0; i < 7; i++) g[i] = FLT_MAX;
    n = cliff_slab_norms(g, params, 2, pn, &bad);
    CHECK(isfinite(n));
    CHECK_NEAR(n / ((double)FLT_MAX * sqrt(7.0)), 1.0, 1e-6);
    /* Tiny denormals do not vanish. */
    for (int i = 0; i < 7; i++) g[i] = 1e-44f;
    n = cliff_slab_norms(g, params, 2, pn, &bad);
    CHECK(n > 0);
}

static void test_norm_nonfinite(void)
{
    float g[7] = {1, 1, 1, 1, 1, 1, 1};
    double pn[2];
    int bad;
    g[5] = NAN;
    double n = cliff_slab_norms(g, params, 2, pn, &bad);
    CHECK(!isfinite(n));
    CHECK(bad == 1);
    g[5] = 1;
    g[0] = -INFINITY;
    n = cliff_slab_norms(g, params, 2, pn, &bad);
    CHECK(!isfinite(n));
    CHECK(bad == 0);
}

static void test_global_above(void)
{
    float g[7] = {3, 4, 0, 1, 2, 2, 0};
    double pn[2];
    double factor = clip("global_norm", g, 1.0);
    CHECK_NEAR(factor, 1.0 / sqrt(34.0), 1e-12);
    double after = cliff_slab_norms(g, params, 2, pn, NULL);
    CHECK(fabs(after - 1.0) <= 1e-6);
    /* direction kept */
    CHECK_NEAR(g[1] / g[0], 4.0 / 3.0, 1e-6);
}

static void test_global_below_bit_identical(void)
{
    float g[7] = {0.1f, -0.2f, 0.3f, 1e-8f, 0.123456789f, -0.5f, 0.0f};
    float copy[7];
    memcpy(copy, g, sizeof g);
    double pn[2];
    double n = cliff_slab_norms(g, params, 2, pn, NULL);
    const CliffClipPolicy *c = cliff_clip_policy_find(NULL); /* default: global_norm */
    CHECK(c && strcmp(c->name, "global_norm") == 0);
    CHECK(clip(NULL, g, 10.0) == 1.0);
    CHECK(memcmp(g, copy, sizeof g) == 0);
    /* exactly at the threshold: not clipped either (Caffe: norm > C) */
    CHECK(clip(NULL, g, (float)n) == ((float)n < n ? (float)n / n : 1.0));
    CHECK(memcmp(g, copy, sizeof g) == 0);
}

static void test_global_huge_clips_finite(void)
{
    float g[7];
    for (int i = 0; i < 7; i++) g[i] = 1e30f;
    double pn[2];
    double factor = clip("global_norm", g, 1.0);
    CHECK(factor > 0 && factor < 1);
    for (int i = 0; i < 7; i++) CHECK(isfinite(g[i]));
    double after = cliff_slab_norms(g, params, 2, pn, NULL);
    CHECK(fabs(after - 1.0) <= 1e-6);
    /* FLT_MAX everywhere: the factor (~5e-40) is a float denormal; applying it in
     * double keeps full precision. */
    for (int i = 0; i < 7; i++) g[i] = FLT_MAX;
    clip("global_norm", g, 0.5);
    after = cliff_slab_norms(g, params, 2, pn, NULL);
    CHECK(fabs(after - 0.5) <= 0.5e-6);
}

static void test_per_param(void)
{
    float g[7] = {3, 4, 0, 1, 2, 2, 0}; /* norms 5 and 3 */
    double pn[2];
    float blob1[4];
    memcpy(blob1, g + 3, sizeof blob1);
    double factor = clip("per_param_norm", g, 4.0);
    CHECK_NEAR(factor, 0.8, 1e-12);
    cliff_slab_norms(g, params, 2, pn, NULL);
    CHECK(fabs(pn[0] - 4.0) <= 4e-6);
    CHECK(memcmp(g + 3, blob1, sizeof blob1) == 0); /* below: untouched */
    /* both above 2: each blob by its own norm, 2/5 and 2/3 */
    float h[7] = {3, 4, 0, 1, 2, 2, 0};
    CHECK_NEAR(clip("per_param_norm", h, 2.0), 0.4, 1e-12);
    cliff_slab_norms(h, params, 2, pn, NULL);
    CHECK(fabs(pn[0] - 2.0) <= 2e-6 && fabs(pn[1] - 2.0) <= 2e-6);
}

static void test_table(void)
{
    CHECK(cliff_clip_policy_find("global") == NULL);
    char buf[128];
    CHECK(strcmp(cliff_names_list(&cliff_clip_policy_table, buf, sizeof buf),
                 "global_norm, per_param_norm, value, adaptive, percentile, zscore, lr_adjusted, auto") == 0);
    /* auto stands for a real policy */
    const CliffClipPolicy *a = cliff_clip_policy_find("auto");
    CHECK(a && a->alias && !a->alias->alias && cliff_clip_policy_find(a->alias->name) == a->alias);
}

/* Three blobs of 3 blocks + 123, 100 and 40 blocks (slab_blocks.h). */
#define BIG_A (3 * CLIFF_SLAB_BLOCK + 123)
#define BIG_B 100
#define BIG_C (40 * CLIFF_SLAB_BLOCK)
static CliffNetParam big[3] = {
    {.name = "b/0", .offset = 0, .count = BIG_A},
    {.name = "b/1", .offset = BIG_A, .count = BIG_B},
    {.name = "b/2", .offset = BIG_A + BIG_B, .count = BIG_C},
};

typedef struct NormRun {
    const float *g;
    double pn[3], total;
    int bad;
} NormRun;

static void norms_in_chunk(void *arg, int chunk, int thread)
{
    (void)thread;
    NormRun *r = arg;
    if (chunk == 0) r->total = cliff_slab_norms(r->g, big, 3, r->pn, &r->bad);
}

/* A blob's norm is the root of its blocks' sums of squares added in block
 * order (exactly: the stated order, not merely close), and the same bits
 * whether the blocks ran on two threads or, from inside a fork-join chunk,
 * on one. */
static void test_norms_in_blocks_thread_independent(void)
{
    const size_t n = BIG_A + BIG_B + BIG_C;
    float *g = malloc(n * sizeof *g);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        /* magnitudes from 2^-11 to 2^11, changing within and between blocks,
         * so that the order of a sum shows in its bits */
        const int e = (int)((i / 977 + 5 * (i / CLIFF_SLAB_BLOCK)) % 23) - 11;
        g[i] = ((float)(x >> 8) * 0x1p-24f - 0.5f) * ldexpf(1.0f, e);
    }
    NormRun serial = {g, {0}, 0, 0};
    cliff_fj_for(2, norms_in_chunk, &serial);
    double total = 0;
    for (int p = 0; p < 3; p++) {
        double s = 0;
        for (size_t c = 0; c < big[p].count; c += CLIFF_SLAB_BLOCK) {
            const size_t left = big[p].count - c;
            s += cliff_sumsq(g + big[p].offset + c, left < CLIFF_SLAB_BLOCK ? left : CLIFF_SLAB_BLOCK);
        }
        CHECK(serial.pn[p] == sqrt(s));
        total += s;
    }
    CHECK(serial.total == sqrt(total) && serial.bad == -1);
    for (int rep = 0; rep < 4; rep++) { /* a busy machine may leave the helper idle once */
        NormRun par = {g, {0}, 0, 0};
        fx_fj_wake();
        norms_in_chunk(&par, 0, 0);
        CHECK(memcmp(par.pn, serial.pn, sizeof par.pn) == 0 && par.total == serial.total);
    }
    /* the first blob at fault, whichever block of which blob is reached first */
    g[BIG_A + BIG_B + 39 * CLIFF_SLAB_BLOCK] = NAN;
    g[BIG_A + 7] = INFINITY;
    double pn[3];
    int bad;
    cliff_slab_norms(g, big, 3, pn, &bad);
    CHECK(bad == 1 && isinf(pn[1]) && isnan(pn[2]) && isfinite(pn[0]));
    free(g);
}

int main(void)
{
    openblas_set_num_threads(2); /* the fork-join's threads follow OpenBLAS's count */
    RUN(test_norms_in_blocks_thread_independent);
    RUN(test_norms);
    RUN(test_norm_huge_is_finite);
    RUN(test_norm_nonfinite);
    RUN(test_global_above);
    RUN(test_global_below_bit_identical);
    RUN(test_global_huge_clips_finite);
    RUN(test_per_param);
    RUN(test_table);
    return test_main_end();
}
