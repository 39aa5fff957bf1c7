/* LRN's beta = 0.75 passes (layers/lrn_pow.c) against the scalar definition
 * (cliff_lrn_pow075, one element at a time), bit for bit: the AVX-512 loops
 * must round exactly as the scalar expressions do (no fused multiply-add, the
 * same association), over lengths that leave every tail size, scales from
 * LRN's k = 1 up and below it, and signed x, dy and acc. On a CPU without
 * AVX-512 (or under CLIFF_ISA=generic) both sides are the scalar loop. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "layers/lrn_pow.h"

static float uniform(uint32_t *r, float lo, float hi)
{
    *r = *r * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)(*r >> 8) * 0x1p-24f;
}

static void test_same_bits_as_scalar(void)
{
    enum { MAXN = 200 };
    float x[MAXN], s[MAXN], dy[MAXN], acc[MAXN], y[MAXN], ty[MAXN], dx[MAXN], tdx[MAXN];
    uint32_t r = 7;
    int bad_y = 0, bad_dx = 0;
    for (int n = 1; n <= MAXN; n += 7) {
        for (int i = 0; i < n; i++) {
            x[i] = uniform(&r, -3.0f, 3.0f);
            dy[i] = uniform(&r, -1.0f, 1.0f);
            acc[i] = uniform(&r, -0.5f, 0.5f);
            /* k = 1 plus a small sum of squares, and some far from 1 */
            s[i] = i % 5 == 4 ? uniform(&r, 1e-3f, 1e3f) : 1.0f + uniform(&r, 0.0f, 0.05f);
        }
        const float cf = 2.0f * 1e-4f * 0.75f / 5.0f;
        cliff_lrn_apply075(x, s, y, (size_t)n);
        cliff_lrn_dx075(dy, s, x, acc, cf, dx, (size_t)n);
        for (int i = 0; i < n; i++) {
            ty[i] = x[i] * cliff_lrn_pow075(s[i]);
            tdx[i] = dy[i] * cliff_lrn_pow075(s[i]) - cf * x[i] * acc[i];
        }
        bad_y += memcmp(y, ty, (size_t)n * sizeof *y) != 0;
        bad_dx += memcmp(dx, tdx, (size_t)n * sizeof *dx) != 0;
    }
    if (bad_y || bad_dx)
        CHECK_FAILF("%d lengths differ in y, %d in dx from the scalar definition", bad_y, bad_dx);
}

int main(void)
{
    RUN(test_same_bits_as_scalar);
    return test_main_end();
}
