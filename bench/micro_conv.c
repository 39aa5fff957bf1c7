/* bench/micro_conv.c: the parts of the AVX-512 convolution (layers/conv_fast.c)
 * timed on their own for LeNet's conv1 and conv2 (batch 64): forward, weight
 * gradient, data gradient, bias gradient. Minimum over the reps (see
 * micro_lenet.c for why), with GFLOP/s of the product part, on the fork-join's
 * threads (OPENBLAS_NUM_THREADS=1 for one). Not built by default:
 *   make BUILD=build-x build-x/bench/micro_conv
 *   build-x/bench/micro_conv [reps] */
#include <stdio.h>
#include <stdlib.h>

#include "layers/kernels/clock.h"
#include "layers/kernels/conv_fast.h"

static float *randv(size_t n)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = (float)rand() / RAND_MAX - 0.5f;
    return p;
}

static void run(const char *name, int num, int C, int H, int W, int M, int k, int reps)
{
    CliffConvGeom g = {.channels = C, .height = H, .width = W, .kernel_h = k, .kernel_w = k,
                       .stride_h = 1, .stride_w = 1, .dilation_h = 1, .dilation_w = 1};
    CliffError err;
    if (cliff_conv_geom_output(&g, &err) || !cliff_conv_fast_usable(&g)) {
        printf("%s: fast path not usable here\n", name);
        return;
    }
    CliffConvFastPlan pl = {0};
    if (cliff_conv_fast_plan(&pl, &g, 1, M, num, &err)) {
        printf("%s: %s\n", name, err.msg);
        return;
    }
    const size_t nx = (size_t)num * C * H * W, ny = (size_t)num * M * g.out_h * g.out_w;
    const size_t nw = (size_t)M * C * k * k;
    float *x = randv(nx), *w = randv(nw), *b = randv(M), *y = randv(ny), *dy = randv(ny);
    float *dx = randv(nx), *dw = randv(nw), *db = randv(M);
    const double flop = 2.0 * nw * g.out_h * g.out_w * num;
    double best[4] = {1e9, 1e9, 1e9, 1e9};
    for (int r = 0; r < reps; r++) {
        double t0 = cliff_clock_seconds();
        cliff_conv_fast_forward(&pl, x, w, b, y);
        double t1 = cliff_clock_seconds();
        cliff_conv_fast_backward(&pl, x, w, dy, dw, NULL, NULL);
        double t2 = cliff_clock_seconds();
        cliff_conv_fast_backward(&pl, x, w, dy, NULL, NULL, dx);
        double t3 = cliff_clock_seconds();
        cliff_conv_fast_backward(&pl, x, w, dy, NULL, db, NULL);
        double t4 = cliff_clock_seconds();
        const double t[4] = {t1 - t0, t2 - t1, t3 - t2, t4 - t3};
        for (int i = 0; i < 4; i++)
            if (t[i] < best[i]) best[i] = t[i];
    }
    printf("%s (nb %d): fwd %.3f ms (%.0f GF/s)  dW %.3f ms (%.0f GF/s)  "
           "dx %.3f ms (%.0f GF/s)  db %.3f ms\n",
           name, pl.nb, 1e3 * best[0], flop / best[0] / 1e9, 1e3 * best[1],
           flop / best[1] / 1e9, 1e3 * best[2], flop / best[2] / 1e9, 1e3 * best[3]);
    cliff_conv_fast_plan_free(&pl);
    free(x), free(w), free(b), free(y), free(dy), free(dx), free(dw), free(db);
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 200;
    run("conv1 64x1x28x28 -> 20, 5x5", 64, 1, 28, 28, 20, 5, reps);
    run("conv2 64x20x12x12 -> 50, 5x5", 64, 20, 12, 12, 50, 5, reps);
    return 0;
}
