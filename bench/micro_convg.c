/* bench/micro_convg.c: a convolution's forward, weight gradient and data
 * gradient on the matrix-engine path (layers/kernels/conv_gemm.h) and, where
 * it applies, on the shifted-row path (conv_fast.h), side by side in one
 * process, for LeNet's, cifar10_quick's and CaffeNet's convolutions. Minimum
 * over the reps, GFLOP/s of the products; threads: the fork-join's
 * (OPENBLAS_NUM_THREADS=1 for one). Times are the process's CPU time
 * (CLOCK_PROCESS_CPUTIME_ID): on a shared machine a single-threaded run then
 * does not count the time other processes hold its core (with threads, the
 * figure is the threads' sum). Not built by default:
 *   make BUILD=build-x build-x/bench/micro_convg
 *   build-x/bench/micro_convg [reps] [name-prefix] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "layers/kernels/conv_fast.h"
#include "layers/kernels/conv_gemm.h"

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *randv(size_t n)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = (float)rand() / RAND_MAX - 0.5f;
    return p;
}

typedef struct Geo {
    const char *name;
    int num, C, H, W, M, G, k, s, pad;
} Geo;

static void report(const char *path, const double *best, double flop)
{
    printf("  %-6s fwd %8.3f ms (%4.0f GF/s)  dW+db %8.3f ms (%4.0f)  dx %8.3f ms (%4.0f)\n", path,
           1e3 * best[0], flop / best[0] / 1e9, 1e3 * best[1], flop / best[1] / 1e9,
           1e3 * best[2], flop / best[2] / 1e9);
}

static void run(const Geo *e, int reps)
{
    CliffConvGeom g = {.channels = e->C, .height = e->H, .width = e->W, .kernel_h = e->k,
                       .kernel_w = e->k, .stride_h = e->s, .stride_w = e->s, .pad_h = e->pad,
                       .pad_w = e->pad, .dilation_h = 1, .dilation_w = 1};
    CliffError err;
    if (cliff_conv_geom_output(&g, &err)) return;
    const size_t nx = (size_t)e->num * e->C * e->H * e->W;
    const size_t ny = (size_t)e->num * e->M * g.out_h * g.out_w;
    const size_t nw = (size_t)e->M * e->C / e->G * e->k * e->k;
    float *x = randv(nx), *w = randv(nw), *b = randv(e->M), *y = randv(ny), *dy = randv(ny);
    float *dx = randv(nx), *dw = randv(nw), *db = randv(e->M);
    const double flop = 2.0 * nw * g.out_h * g.out_w * e->num;
    printf("%s: %dx%dx%dx%d -> %d, %dx%d s%d p%d g%d\n", e->name, e->num, e->C, e->H, e->W, e->M,
           e->k, e->k, e->s, e->pad, e->G);
    CliffConvGemm pl = {0};
    if (cliff_convg_plan(&pl, &g, e->G, e->M, e->num, &err) == 0) {
        double best[3] = {1e9, 1e9, 1e9};
        for (int r = 0; r < reps; r++) {
            double t0 = cpu_seconds();
            cliff_convg_im2col(&pl, w, x, b, y);
            double t1 = cpu_seconds();
            cliff_convg_backward(&pl, w, dy, x, dw, db, CLIFF_CONVG_NO_DATA, NULL);
            double t2 = cpu_seconds();
            cliff_convg_backward(&pl, w, dy, x, NULL, NULL, CLIFF_CONVG_DATA_COL2IM, dx);
            double t3 = cpu_seconds();
            const double t[3] = {t1 - t0, t2 - t1, t3 - t2};
            for (int i = 0; i < 3; i++)
                if (t[i] < best[i]) best[i] = t[i];
        }
        report("engine", best, flop);
        printf("         (nb %d, %d chunks, %d weight groups, workspace %.1f KiB)\n", pl.nb,
               pl.nchunks, pl.wgroups, cliff_convg_workspace_bytes(&pl) / 1024.0);
    }
    cliff_convg_free(&pl);
    CliffConvFastPlan fp = {0};
    if (cliff_conv_fast_usable(&g) && cliff_conv_fast_plan(&fp, &g, e->G, e->M, e->num, &err) == 0) {
        double best[3] = {1e9, 1e9, 1e9};
        for (int r = 0; r < reps; r++) {
            double t0 = cpu_seconds();
            cliff_conv_fast_forward(&fp, x, w, b, y);
            double t1 = cpu_seconds();
            cliff_conv_fast_backward(&fp, x, w, dy, dw, db, NULL);
            double t2 = cpu_seconds();
            cliff_conv_fast_backward(&fp, x, w, dy, NULL, NULL, dx);
            double t3 = cpu_seconds();
            const double t[3] = {t1 - t0, t2 - t1, t3 - t2};
            for (int i = 0; i < 3; i++)
                if (t[i] < best[i]) best[i] = t[i];
        }
        report("fast", best, flop);
    }
    cliff_conv_fast_plan_free(&fp);
    free(x), free(w), free(b), free(y), free(dy), free(dx), free(dw), free(db);
}

int main(int argc, char **argv)
{
    const int reps = argc > 1 ? atoi(argv[1]) : 20;
    const char *only = argc > 2 ? argv[2] : "";
    static const Geo geos[] = {
        {"lenet_conv1", 64, 1, 28, 28, 20, 1, 5, 1, 0},
        {"lenet_conv2", 64, 20, 12, 12, 50, 1, 5, 1, 0},
        {"cifar_conv1", 100, 3, 32, 32, 32, 1, 5, 1, 2},
        {"cifar_conv2", 100, 32, 16, 16, 32, 1, 5, 1, 2},
        {"cifar_conv3", 100, 32, 8, 8, 64, 1, 5, 1, 2},
        {"caffenet_conv1", 16, 3, 227, 227, 96, 1, 11, 4, 0},
        {"caffenet_conv2", 16, 96, 27, 27, 256, 2, 5, 1, 2},
        {"caffenet_conv3", 16, 256, 13, 13, 384, 1, 3, 1, 1},
        {"caffenet_conv4", 16, 384, 13, 13, 384, 2, 3, 1, 1},
        {"caffenet_conv5", 16, 384, 13, 13, 256, 2, 3, 1, 1},
    };
    for (size_t i = 0; i < sizeof geos / sizeof geos[0]; i++)
        if (!strncmp(geos[i].name, only, strlen(only))) run(&geos[i], reps);
    return 0;
}
