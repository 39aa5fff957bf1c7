/* Fillers against their definitions: exact values where the filler is
 * deterministic (constant, bilinear), bounds and moments over many draws for
 * the random ones (tolerances several standard errors wide, fixed seed). */
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fj_fixture.h"
#include "layers/filler.h"
#include "layers/kernels/fork_join.h"
#include "proto/textformat.h"

static Cliff__FillerParameter *parse(const char *text)
{
    CliffError err;
    Cliff__FillerParameter *f = (Cliff__FillerParameter *)cliff_text_parse(
        &cliff__filler_parameter__descriptor, "filler", text, strlen(text), NULL, &err);
    if (!f) CHECK_FAILF("%s", err.msg);
    return f;
}

/* Fills shape from text; returns a malloc'd array (count in *n). */
static float *fill(const char *text, int num_axes, const int *shape, size_t *n)
{
    Cliff__FillerParameter *f = parse(text);
    if (!f) return NULL;
    *n = 1;
    for (int i = 0; i < num_axes; i++) *n *= (size_t)shape[i];
    float *x = malloc(*n * sizeof *x);
    CliffRng rng;
    cliff_rng_seed(&rng, 42);
    CliffError err;
    if (cliff_filler_fill(f, 0, x, num_axes, shape, &rng, &err)) {
        CHECK_FAILF("%s", err.msg);
        free(x);
        x = NULL;
    }
    protobuf_c_message_free_unpacked(&f->base, NULL);
    return x;
}

static void moments(const float *x, size_t n, double *mean, double *sd, float *lo, float *hi)
{
    double s = 0, ss = 0;
    *lo = *hi = x[0];
    for (size_t i = 0; i < n; i++) {
        s += x[i];
        ss += (double)x[i] * x[i];
        if (x[i] < *lo) *lo = x[i];
        if (x[i] > *hi) *hi = x[i];
    }
    *mean = s / n;
    *sd = sqrt(ss / n - *mean * *mean);
}

static void test_constant_and_uniform(void)
{
    int shape[2] = {10, 20};
    size_t n;
    float *x = fill("type: 'constant' value: 2.5", 2, shape, &n);
    for (size_t i = 0; x && i < n; i++) CHECK(x[i] == 2.5f);
    free(x);
    int big[2] = {200, 100};
    x = fill("type: 'uniform' min: -2 max: 3", 2, big, &n);
    double mean, sd;
    float lo, hi;
    if (x) {
        moments(x, n, &mean, &sd, &lo, &hi);
        CHECK(lo >= -2 && hi < 3);
        CHECK_NEAR(mean, 0.5, 0.03);          /* 5 / sqrt(12 n) ~ 0.01 */
        CHECK_NEAR(sd, 5 / sqrt(12.0), 0.02);
    }
    free(x);
}

static void test_gaussian_and_sparse(void)
{
    int shape[2] = {200, 100};
    size_t n;
    double mean, sd;
    float lo, hi;
    float *x = fill("type: 'gaussian' mean: 1 std: 2", 2, shape, &n);
    if (x) {
        moments(x, n, &mean, &sd, &lo, &hi);
        CHECK_NEAR(mean, 1.0, 0.05); /* 2 / sqrt(20000) ~ 0.014 */
        CHECK_NEAR(sd, 2.0, 0.05);
    }
    free(x);
    /* sparse 20 of shape[0] = 200 outputs: each weight kept with p = 0.1 */
    x = fill("type: 'gaussian' std: 1 sparse: 20", 2, shape, &n);
    size_t nonzero = 0;
    for (size_t i = 0; x && i < n; i++) nonzero += x[i] != 0;
    CHECK_NEAR((double)nonzero / n, 0.1, 0.01); /* sd of the share ~ 0.002 */
    free(x);
}

static void test_xavier_and_msra(void)
{
    /* 64 x 32 x 3 x 3: fan_in = 288, fan_out = 576 */
    int shape[4] = {64, 32, 3, 3};
    size_t n;
    double mean, sd;
    float lo, hi;
    float *x = fill("type: 'xavier'", 4, shape, &n);
    if (x) {
        moments(x, n, &mean, &sd, &lo, &hi);
        double a = sqrt(3.0 / 288);
        CHECK(lo >= -a && hi <= a);
        CHECK(hi > 0.95 * a && lo < -0.95 * a);
        CHECK_NEAR(sd, a / sqrt(3.0), 0.002);
    }
    free(x);
    x = fill("type: 'xavier' variance_norm: AVERAGE", 4, shape, &n);
    if (x) {
        moments(x, n, &mean, &sd, &lo, &hi);
        double a = sqrt(3.0 / 432);
        CHECK(lo >= -a && hi <= a && hi > 0.95 * a);
    }
    free(x);
    x = fill("type: 'msra' variance_norm: FAN_OUT", 4, shape, &n);
    if (x) {
        moments(x, n, &mean, &sd, &lo, &hi);
        CHECK_NEAR(mean, 0.0, 0.002);
        CHECK_NEAR(sd, sqrt(2.0 / 576), 0.002);
    }
    free(x);
}

static void test_positive_unitball(void)
{
    int shape[2] = {7, 13};
    size_t n;
    float *x = fill("type: 'positive_unitball'", 2, shape, &n);
    for (int r = 0; x && r < 7; r++) {
        double s = 0;
        for (int j = 0; j < 13; j++) {
            CHECK(x[r * 13 + j] >= 0);
            s += x[r * 13 + j];
        }
        CHECK_NEAR(s, 1.0, 1e-6);
    }
    free(x);
}

static void test_bilinear(void)
{
    /* K = 4: f = 2, c = 3/4; 1-D weights (1 - |x/2 - 3/4|) = 0.25, 0.75, 0.75, 0.25 */
    int shape[4] = {1, 1, 4, 4};
    size_t n;
    float *x = fill("type: 'bilinear'", 4, shape, &n);
    const double w[4] = {0.25, 0.75, 0.75, 0.25};
    for (int i = 0; x && i < 4; i++)
        for (int j = 0; j < 4; j++) CHECK_NEAR(x[i * 4 + j], w[i] * w[j], 1e-7);
    free(x);
    /* K = 3 (Caffe's formula, f = ceil(K/2) = 2, c = 3/4): 0.25, 0.75, 0.75 */
    int s3[4] = {2, 1, 3, 3};
    x = fill("type: 'bilinear'", 4, s3, &n);
    if (x) {
        CHECK_NEAR(x[4], 0.5625, 1e-7);
        CHECK_NEAR(x[0], 0.0625, 1e-7);
        CHECK_NEAR(x[9 + 1], 0.1875, 1e-7); /* second output channel, same kernel */
    }
    free(x);
}

/* The bulk normal generator (rng_normal.c) against the normal law: n = 2^21
 * draws; mean and variance within 5 standard errors; the counts past 1, 2,
 * 3, 4 and 4.5 sigma on either side within 5 binomial standard deviations
 * (+2) of n * Phi(-k); and a 40-bin chi-square over [-4, 4]. */
static void test_normal_law(void)
{
    const size_t n = (size_t)1 << 21;
    float *x = malloc(n * sizeof *x);
    cliff_rng_normal_fill(0x1234ABCDull, x, n, 0.0f, 1.0f);
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++) s += x[i], ss += (double)x[i] * x[i];
    const double mean = s / n, var = ss / n - mean * mean;
    CHECK(fabs(mean) < 5 / sqrt((double)n));
    CHECK(fabs(var - 1) < 5 * sqrt(2.0 / n));
    const double ks[5] = {1, 2, 3, 4, 4.5};
    for (int k = 0; k < 5; k++) {
        size_t below = 0, above = 0;
        for (size_t i = 0; i < n; i++) below += x[i] < -ks[k], above += x[i] > ks[k];
        const double p = 0.5 * erfc(ks[k] / sqrt(2.0)), e = n * p;
        const double tol = 5 * sqrt(n * p * (1 - p)) + 2;
        if (fabs(below - e) > tol || fabs(above - e) > tol)
            CHECK_FAILF("tail past %g sigma: %zu below, %zu above, expected %.1f +- %.1f", ks[k],
                        below, above, e, tol);
    }
    enum { BINS = 40 };
    size_t count[BINS] = {0};
    for (size_t i = 0; i < n; i++)
        if (x[i] >= -4 && x[i] < 4) count[(int)((x[i] + 4) * (BINS / 8.0))]++;
    double chi2 = 0;
    for (int b = 0; b < BINS; b++) {
        const double lo = -4 + 8.0 * b / BINS, hi = lo + 8.0 / BINS;
        const double e = n * 0.5 * (erfc(lo / sqrt(2.0)) - erfc(hi / sqrt(2.0)));
        chi2 += (count[b] - e) * (count[b] - e) / e;
    }
    /* 39 degrees of freedom: mean 39, sd 8.8; 90 is beyond 5.5 sd */
    if (chi2 > 90) CHECK_FAILF("chi-square %.1f over %d bins", chi2, BINS);
    free(x);
}

/* The generator's stated mapping, evaluated in double with libm: pair j of
 * key k is w = splitmix64(k + (j + 1) * gamma); radius from w's high half,
 * angle from its low half (q * pi/2 + phi); a block of 2048 pairs writes its
 * cosines, then its sines. The fill must match within float rounding (the
 * largest difference seen was 5e-7, for |z| near 5). */
static double reference_normal(uint64_t key, size_t n, size_t i)
{
    const size_t block = 4096, b = i / block, off = i % block;
    const size_t len = n - b * block < block ? n - b * block : block, np = (len + 1) / 2;
    const size_t j = b * 2048 + (off < np ? off : off - np);
    uint64_t z = key + (j + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const uint32_t hi = (uint32_t)(z >> 32), lo = (uint32_t)z;
    const double u = (float)(((float)(int32_t)(hi >> 1) + 0.5f) * 0x1p-31f);
    const double theta = (lo >> 30) * (M_PI / 2) + (int32_t)(lo << 2) * 0x1p-31 * (M_PI / 4);
    const double r = sqrt(-2 * log(u));
    return off < np ? r * cos(theta) : r * sin(theta);
}

typedef struct FillRun {
    float *x;
    size_t n;
} FillRun;

static void fill_in_chunk(void *arg, int chunk, int thread)
{
    (void)thread;
    FillRun *f = arg;
    if (chunk == 0) cliff_rng_normal_fill(99, f->x, f->n, 0.0f, 1.0f);
}

static void test_normal_exact_and_threads(void)
{
    /* whole blocks, a short odd last block, a single odd block */
    const size_t sizes[4] = {3 * 4096 + 1001, 1, 4097, 200000};
    for (int c = 0; c < 4; c++) {
        const size_t n = sizes[c];
        float *x = malloc(n * sizeof *x);
        cliff_rng_normal_fill(7 + c, x, n, 1.5f, 2.0f);
        double worst = 0;
        for (size_t i = 0; i < n; i++) {
            const double d = fabs((x[i] - 1.5) / 2.0 - reference_normal(7 + c, n, i));
            worst = d > worst ? d : worst;
        }
        if (worst > 2e-6) CHECK_FAILF("n %zu: off the reference by %g", n, worst);
        free(x);
    }
    /* bit-identical whatever the threads: a fill run from inside a fork-join
     * chunk runs on one thread */
    const size_t n = (size_t)1 << 22;
    float *par = malloc(n * sizeof *par), *ser = malloc(n * sizeof *ser);
    FillRun f = {ser, n};
    cliff_fj_for(2, fill_in_chunk, &f);
    for (int rep = 0; rep < 4; rep++) { /* a busy machine may leave a helper idle once */
        fx_fj_wake();
        cliff_rng_normal_fill(99, par, n, 0.0f, 1.0f);
        CHECK(memcmp(par, ser, n * sizeof *par) == 0);
    }
    cliff_rng_normal_fill(100, ser, n, 0.0f, 1.0f); /* another key, other numbers */
    CHECK(memcmp(par, ser, n * sizeof *par) != 0);
    free(par);
    free(ser);
}

static void test_errors(void)
{
    CliffError err;
    int shape[2] = {3, 3};
    Cliff__FillerParameter *f = parse("type: 'xavierr'");
    CHECK(f && cliff_filler_validate(f, 2, shape, &err) == -1 &&
          strstr(err.msg, "unknown filler type 'xavierr'"));
    if (f) protobuf_c_message_free_unpacked(&f->base, NULL);
    f = parse("type: 'bilinear'");
    CHECK(f && cliff_filler_validate(f, 2, shape, &err) == -1 && strstr(err.msg, "4 axes"));
    if (f) protobuf_c_message_free_unpacked(&f->base, NULL);
    f = parse("type: 'uniform' min: 2 max: 1");
    CHECK(f && cliff_filler_validate(f, 2, shape, &err) == -1 && strstr(err.msg, "min"));
    if (f) protobuf_c_message_free_unpacked(&f->base, NULL);
}

int main(void)
{
    openblas_set_num_threads(2); /* the fork-join's threads follow OpenBLAS's count */
    RUN(test_constant_and_uniform);
    RUN(test_gaussian_and_sparse);
    RUN(test_normal_law);
    RUN(test_normal_exact_and_threads);
    RUN(test_xavier_and_msra);
    RUN(test_positive_unitball);
    RUN(test_bilinear);
    RUN(test_errors);
    return test_main_end();
}
