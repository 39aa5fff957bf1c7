/* The elementwise layers split over the fork-join (layers/neuron.c) when
 * large: ReLU with a negative slope, in place, on 1e6 + 3 elements (not a
 * whole number of chunks), forward and backward, against its definition
 * element by element (exact: one select and one product each). */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "layer_text.h"
#include "layers/layer.h"
#include "proto/textformat.h"

static void test_relu_large_in_place(void)
{
    const char *text = "name: 'relu' type: 'ReLU' relu_param { negative_slope: 0.1 }";
    CliffError err;
    Cliff__LayerParameter *lp = layer_text(text);
    if (!lp) return;
    CliffTensor b;
    cliff_tensor_init(&b);
    CliffTensor *bp[1] = {&b};
    const int shape[1] = {1000003};
    CliffRng rng;
    cliff_rng_seed(&rng, 9);
    CliffLayer l = {.ops = cliff_layer_find("ReLU"), .param = lp, .name = "relu", .rng = &rng};
    float *x = malloc(shape[0] * sizeof *x), *dy = malloc(shape[0] * sizeof *dy);
    if (!cliff_tensor_reshape(&b, 1, shape, &err) && !l.ops->setup(&l, bp, 1, bp, 1, &err) &&
        !l.ops->reshape(&l, bp, 1, bp, 1, &err)) {
        for (int i = 0; i < shape[0]; i++) {
            x[i] = b.data[i] = cliff_rng_uniform(&rng, -1, 1);
            dy[i] = b.diff[i] = cliff_rng_uniform(&rng, -1, 1);
        }
        l.ops->forward(&l, bp, 1, bp, 1);
        const int pd[1] = {1};
        l.ops->backward(&l, bp, 1, pd, bp, 1);
        int bad_y = 0, bad_dx = 0;
        for (int i = 0; i < shape[0]; i++) {
            const float want = x[i] < 0 ? 0.1f * x[i] : x[i];
            bad_y += b.data[i] != want;
            /* in place, backward sees y: y > 0 exactly when x > 0 */
            bad_dx += b.diff[i] != dy[i] * (x[i] > 0 ? 1.0f : 0.1f);
        }
        if (bad_y || bad_dx) CHECK_FAILF("%d outputs and %d gradients wrong", bad_y, bad_dx);
    } else {
        CHECK_FAILF("%s", err.msg);
    }
    if (l.ops->destroy) l.ops->destroy(&l);
    cliff_tensor_free(&b);
    free(x), free(dy);
    protobuf_c_message_free_unpacked(&lp->base, NULL);
}

int main(void)
{
    openblas_set_num_threads(2); /* the fork-join's threads follow OpenBLAS's count */
    RUN(test_relu_large_in_place);
    return test_main_end();
}
