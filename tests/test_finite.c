/* The finiteness scans (layers/kernels/finite.h) at the edges of float: the
 * largest finite values, denormals, signed zeros, infinities and NaNs of either
 * sign and payload, at every position of a range longer than a vector, with
 * the copy of the scans for each instruction set (isa_variants.h). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "layers/kernels/finite.h"
#include "layers/kernels/gemm.h"

#define N 165 /* several unrolled AVX-512 vectors, and not a multiple of any width */

static float from_bits(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static void test_finite_edges(void)
{
    const float ok[] = {0.0f, -0.0f, FLT_MAX, -FLT_MAX, FLT_MIN, 1e-45f, -1e-45f, 1.0f};
    float x[N];
    for (size_t v = 0; v < sizeof ok / sizeof ok[0]; v++) {
        for (int i = 0; i < N; i++) x[i] = ok[v];
        CHECK(cliff_all_finite(x, N));
    }
    CHECK(cliff_all_finite(x, 0));
    CHECK(cliff_all_finite(NULL, 0));
}

static void test_nonfinite_anywhere(void)
{
    const float bad[] = {INFINITY, -INFINITY, NAN, -NAN, from_bits(0x7f800001u),
                         from_bits(0xffc00123u)};
    float x[N];
    for (size_t v = 0; v < sizeof bad / sizeof bad[0]; v++)
        for (int at = 0; at < N; at++) {
            for (int i = 0; i < N; i++) x[i] = 1.0f;
            x[at] = bad[v];
            CHECK(!cliff_all_finite(x, N));
            /* Only the first n elements are read. */
            CHECK(cliff_all_finite(x, (size_t)at));
        }
}

static void test_diff(void)
{
    float a[N], b[N];
    for (int i = 0; i < N; i++) a[i] = FLT_MAX, b[i] = 0.5f * FLT_MAX;
    CHECK(cliff_all_finite_diff(a, b, N)); /* FLT_MAX / 2 */
    for (int at = 0; at < N; at++) {
        /* Both operands finite, the difference overflows to inf. */
        b[at] = -FLT_MAX;
        CHECK(!cliff_all_finite_diff(a, b, N));
        CHECK(cliff_all_finite_diff(a, b, (size_t)at));
        /* inf - inf is NaN. */
        a[at] = b[at] = INFINITY;
        CHECK(!cliff_all_finite_diff(a, b, N));
        a[at] = FLT_MAX, b[at] = 0.5f * FLT_MAX;
    }
    /* x - x is 0 for every finite x, FLT_MAX included. */
    CHECK(cliff_all_finite_diff(a, a, N));
}

int main(void)
{
    const int isas[] = {CLIFF_ISA_GENERIC, CLIFF_ISA_AVX2, CLIFF_ISA_AVX512};
    for (int k = 0; k < 3; k++) {
        cliff_gemm_force_isa(isas[k]); /* the best this machine has, at most */
        RUN(test_finite_edges);
        RUN(test_nonfinite_anywhere);
        RUN(test_diff);
    }
    cliff_gemm_force_isa(-1);
    return test_main_end();
}
