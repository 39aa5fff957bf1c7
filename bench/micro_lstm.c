/* bench/micro_lstm.c: the matrix products of one LSTM layer of the bench's
 * char-LSTM (bench/nets/char_lstm_train.prototxt: T = 64 steps, N = 32 streams,
 * input I = 256, hidden H = 256, G = 4H), each timed on its own as layers/lstm.c
 * calls it, with its share of the layer's FLOPs and its GFLOP/s: where the
 * layer's product time goes. Minimum over the reps (load from other users only
 * ever slows a rep down), on the fork-join's threads (OPENBLAS_NUM_THREADS=1 for
 * one). Not built by default:
 *   make BUILD=build-x build-x/bench/micro_lstm
 *   OPENBLAS_NUM_THREADS=1 build-x/bench/micro_lstm [reps [part]]
 * (part: the index of one product alone, e.g. under perf record.) */
#include <stdio.h>
#include <stdlib.h>

#include "layers/kernels/clock.h"
#include "layers/kernels/gemm.h"

enum { T = 64, N = 32, I = 256, H = 256, G = 4 * H, TN = T * N };

static float *randv(size_t n)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = (float)rand() / RAND_MAX - 0.5f;
    return p;
}

static float *X, *Wxc, *Whc, *Gs, *Hc, *dG, *dX, *dW, *PW, *dh;

/* The products of lstm.c, by the part of the layer they belong to. */
static void fwd_input(void) { cliff_gemm_ex(0, 1, TN, G, I, 1.0f, X, I, Wxc, I, 1.0f, Gs, G); }
static void fwd_steps(void)
{
    const CliffGemmB wt = cliff_gemm_dense_b(Whc, H, 1);
    cliff_gemm_pack_b(&wt, H, G, PW);
    for (int t = 0; t < T; t++)
        cliff_gemm_prepacked(NULL, 0, 1.0f, Hc + (size_t)t * N * H, H, PW, NULL, N, G, H, 1.0f,
                             Gs + (size_t)t * N * G, G);
}
static void bwd_steps(void)
{
    const CliffGemmB w = cliff_gemm_dense_b(Whc, H, 0);
    cliff_gemm_pack_b(&w, G, H, PW);
    for (int t = T - 1; t >= 0; t--)
        cliff_gemm_prepacked(NULL, 0, 1.0f, dG + (size_t)t * N * G, G, PW, NULL, N, H, G, 0.0f,
                             dh, H);
}
static void bwd_dwhc(void) { cliff_gemm_ex(1, 0, G, H, TN, 1.0f, dG, G, Hc, H, 1.0f, dW, H); }
static void bwd_dwxc(void) { cliff_gemm_ex(1, 0, G, I, TN, 1.0f, dG, G, X, I, 1.0f, dW, I); }
static void bwd_dx(void) { cliff_gemm_ex(0, 0, TN, I, G, 1.0f, dG, G, Wxc, I, 0.0f, dX, I); }

int main(int argc, char **argv)
{
    const int reps = argc > 1 ? atoi(argv[1]) : 10, only = argc > 2 ? atoi(argv[2]) : -1;
    X = randv((size_t)TN * I), Wxc = randv((size_t)G * I), Whc = randv((size_t)G * H);
    Gs = randv((size_t)TN * G), Hc = randv((size_t)TN * H), dG = randv((size_t)TN * G);
    dX = randv((size_t)TN * I), dW = randv((size_t)G * I), dh = randv((size_t)N * H);
    PW = malloc(2 * cliff_gemm_packed_b_floats(G, G) * sizeof(float));
    const struct { const char *name; void (*f)(void); double flops; } parts[] = {
        {"forward: input projection (TN x I) (I x 4H)", fwd_input, 2.0 * TN * G * I},
        {"forward: 64 steps (N x H) (H x 4H), prepacked", fwd_steps, 2.0 * TN * G * H},
        {"backward: 64 steps (N x 4H) (4H x H), prepacked", bwd_steps, 2.0 * TN * G * H},
        {"backward: dW_hc (4H x TN) (TN x H)", bwd_dwhc, 2.0 * TN * G * H},
        {"backward: dW_xc (4H x TN) (TN x I)", bwd_dwxc, 2.0 * TN * G * I},
        {"backward: dx (TN x 4H) (4H x I)", bwd_dx, 2.0 * TN * G * I},
    };
    double total_ms = 0, total_flops = 0;
    for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++) {
        if (only >= 0 && (size_t)only != p) continue;
        double best = 1e30;
        for (int r = 0; r < reps + 1; r++) {
            const double t0 = cliff_clock_seconds();
            parts[p].f();
            const double s = cliff_clock_seconds() - t0;
            if (r > 0 && s < best) best = s;
        }
        total_ms += best * 1e3, total_flops += parts[p].flops;
        printf("%-50s %8.3f ms %7.1f GFLOP/s\n", parts[p].name, best * 1e3,
               parts[p].flops / best * 1e-9);
    }
    printf("%-50s %8.3f ms %7.1f GFLOP/s\n", "all products of one layer (fwd + bwd)", total_ms,
           total_flops / total_ms * 1e-6);
    return 0;
}
