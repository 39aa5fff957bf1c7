/* LRN across channels with CaffeNet's parameters (local_size 5, alpha 1e-4,
 * beta 0.75: the sqrt path of lrn.c) on enough images that the fork-join
 * splits them: the output within float tolerance of the definition in double
 * (pow), and forward and backward the same bits when run from inside a
 * fork-join chunk (one thread) as from the main thread. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "layer_text.h"
#include "layers/kernels/fork_join.h"
#include "layers/layer.h"
#include "proto/textformat.h"

enum { N = 6, C = 32, H = 9, W = 9 };

typedef struct Out {
    float *y, *dx;
    int ok;
} Out;

/* Forward and backward of a fresh LRN layer on fixed data (seed 5). */
static void run(Out *o, const char *text)
{
    CliffError err;
    Cliff__LayerParameter *lp = layer_text(text);
    if (!lp) return;
    CliffTensor b, t;
    cliff_tensor_init(&b);
    cliff_tensor_init(&t);
    CliffTensor *bp[1] = {&b}, *tp[1] = {&t};
    const int shape[4] = {N, C, H, W};
    CliffRng rng;
    cliff_rng_seed(&rng, 5);
    CliffLayer l = {.ops = cliff_layer_find("LRN"), .param = lp, .name = "norm", .rng = &rng};
    if (!cliff_tensor_reshape(&b, 4, shape, &err) && !l.ops->setup(&l, bp, 1, tp, 1, &err) &&
        !l.ops->reshape(&l, bp, 1, tp, 1, &err)) {
        for (size_t i = 0; i < b.count; i++) b.data[i] = cliff_rng_uniform(&rng, -40, 40);
        for (size_t i = 0; i < t.count; i++) t.diff[i] = cliff_rng_uniform(&rng, -1, 1);
        l.ops->forward(&l, bp, 1, tp, 1);
        const int pd[1] = {1};
        l.ops->backward(&l, tp, 1, pd, bp, 1);
        o->y = malloc(t.count * sizeof(float));
        o->dx = malloc(b.count * sizeof(float));
        memcpy(o->y, t.data, t.count * sizeof(float));
        memcpy(o->dx, b.diff, b.count * sizeof(float));
        /* the definition, in double, from the same data */
        o->ok = 1;
        for (int n = 0; n < N && o->ok; n++)
            for (int c = 0; c < C; c++)
                for (int i = 0; i < H * W; i++) {
                    double acc = 0;
                    for (int cc = c - 2; cc <= c + 2; cc++)
                        if (cc >= 0 && cc < C) {
                            const double v = b.data[((size_t)n * C + cc) * H * W + i];
                            acc += v * v;
                        }
                    const size_t at = ((size_t)n * C + c) * H * W + i;
                    const double want = b.data[at] * pow(1 + 1e-4 / 5 * acc, -0.75);
                    if (!(fabs(t.data[at] - want) <= 2e-6 * fmax(1.0, fabs(want)))) o->ok = 0;
                }
    }
    if (l.ops->destroy) l.ops->destroy(&l);
    cliff_tensor_free(&b);
    cliff_tensor_free(&t);
    protobuf_c_message_free_unpacked(&lp->base, NULL);
}

static const char *across = "name: 'norm' type: 'LRN' lrn_param { local_size: 5 alpha: 0.0001 "
                            "beta: 0.75 }";

static void run_in_chunk(void *arg, int chunk, int thread)
{
    (void)thread;
    if (chunk == 0) run(arg, across);
}

static void test_caffenet_lrn(void)
{
    Out par = {0}, ser = {0};
    run(&par, across);
    cliff_fj_for(2, run_in_chunk, &ser);
    CHECK(par.ok && ser.ok);
    const size_t n = (size_t)N * C * H * W;
    CHECK(par.y && ser.y && memcmp(par.y, ser.y, n * sizeof(float)) == 0);
    CHECK(par.dx && ser.dx && memcmp(par.dx, ser.dx, n * sizeof(float)) == 0);
    free(par.y), free(par.dx), free(ser.y), free(ser.dx);
}

int main(void)
{
    openblas_set_num_threads(2); /* the fork-join's threads follow OpenBLAS's count */
    RUN(test_caffenet_lrn);
    return test_main_end();
}
