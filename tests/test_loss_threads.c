/* SoftmaxWithLoss's softmax splits its rows over the fork-join
 * (layers/loss_common.c): on two threads, with the helper awake, the
 * probabilities (top 1) and the loss are the bits of the serial softmax of
 * each row (cliff_softmax_block), for class axis last (inner 1: char_lstm's
 * case, 13 chunks) and in the middle (inner 700: per-thread scratch). */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fj_fixture.h"
#include "layers/layer.h"
#include "layer_text.h"
#include "layers/loss_common.h"
#include "proto/textformat.h"

typedef struct Shape {
    int outer, C, inner;
} Shape;

static void run_shape(void *arg)
{
    const Shape *sh = arg;
    const char *text = "name: 'loss' type: 'SoftmaxWithLoss'"; /* class axis 1 */
    CliffError err;
    Cliff__LayerParameter *lp = layer_text(text);
    if (!lp) return;
    CliffTensor x, lab, loss, prob;
    cliff_tensor_init(&x), cliff_tensor_init(&lab), cliff_tensor_init(&loss);
    cliff_tensor_init(&prob);
    CliffTensor *bottom[2] = {&x, &lab}, *top[2] = {&loss, &prob};
    const int xs[3] = {sh->outer, sh->C, sh->inner}, ls[2] = {sh->outer, sh->inner};
    CliffRng rng;
    cliff_rng_seed(&rng, 5);
    CliffLayer l = {.ops = cliff_layer_find("SoftmaxWithLoss"), .param = lp, .name = "loss",
                    .rng = &rng};
    const size_t dim = (size_t)sh->C * sh->inner;
    float *want = malloc(dim * sh->outer * sizeof *want), *scratch = malloc(sh->inner * 4);
    if (want && scratch && !cliff_tensor_reshape(&x, 3, xs, &err) &&
        !cliff_tensor_reshape(&lab, 2, ls, &err) && !l.ops->setup(&l, bottom, 2, top, 2, &err) &&
        !l.ops->reshape(&l, bottom, 2, top, 2, &err)) {
        for (size_t i = 0; i < x.count; i++) x.data[i] = cliff_rng_uniform(&rng, -8, 8);
        for (size_t i = 0; i < lab.count; i++) lab.data[i] = (float)(i * 7 % (size_t)sh->C);
        double sum = 0;
        for (int i = 0; i < sh->outer; i++)
            cliff_softmax_block(x.data + i * dim, want + i * dim, sh->C, sh->inner, scratch);
        for (int i = 0; i < sh->outer; i++)
            for (int j = 0; j < sh->inner; j++) {
                const int c = (int)lab.data[(size_t)i * sh->inner + j];
                sum -= log(fmax(want[i * dim + (size_t)c * sh->inner + j], FLT_MIN));
            }
        const float want_loss = (float)(sum / ((double)sh->outer * sh->inner));
        CHECK(fx_fj_wake());
        l.ops->forward(&l, bottom, 2, top, 2);
        size_t bad = 0;
        for (size_t i = 0; i < prob.count; i++) bad += memcmp(&prob.data[i], &want[i], 4) != 0;
        if (bad) CHECK_FAILF("%zu of %zu probabilities differ from the serial softmax", bad,
                             prob.count);
        CHECK(loss.data[0] == want_loss);
    } else {
        CHECK_FAILF("%s", want && scratch ? err.msg : "out of memory");
    }
    if (l.ops->destroy) l.ops->destroy(&l);
    cliff_tensor_free(&x), cliff_tensor_free(&lab), cliff_tensor_free(&loss);
    cliff_tensor_free(&prob);
    free(want), free(scratch);
    protobuf_c_message_free_unpacked(&lp->base, NULL);
}

int main(void)
{
    openblas_set_num_threads(2); /* the fork-join's threads follow OpenBLAS's count */
    static const Shape last = {2048, 100, 1}, middle = {41, 5, 700};
    check_run_named("softmax_rows_class_axis_last", run_shape, (void *)&last);
    check_run_named("softmax_rows_class_axis_middle", run_shape, (void *)&middle);
    return test_main_end();
}
