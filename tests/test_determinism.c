/* With two threads the same inputs give bit-identical gradients, every time:
 * the parallel kernels must not let the order in which threads pick up work
 * change a sum (same seed -> same run, and exact resume, at any thread count). */
#include <cblas.h>

#include "net_fixture.h"

static const char *net_text =
    "layer { name: 'in' type: 'Input' top: 'data' top: 'label' "
    "  input_param { shape { dim: 64 dim: 1 dim: 28 dim: 28 } shape { dim: 64 } } }"
    "layer { name: 'conv1' type: 'Convolution' bottom: 'data' top: 'conv1' "
    "  convolution_param { num_output: 20 kernel_size: 5 weight_filler { type: 'xavier' } } }"
    "layer { name: 'pool1' type: 'Pooling' bottom: 'conv1' top: 'pool1' "
    "  pooling_param { pool: MAX kernel_size: 2 stride: 2 } }"
    "layer { name: 'conv2' type: 'Convolution' bottom: 'pool1' top: 'conv2' "
    "  convolution_param { num_output: 50 kernel_size: 5 weight_filler { type: 'xavier' } } }"
    "layer { name: 'ip' type: 'InnerProduct' bottom: 'conv2' top: 'ip' "
    "  inner_product_param { num_output: 10 weight_filler { type: 'xavier' } } }"
    "layer { name: 'loss' type: 'SoftmaxWithLoss' bottom: 'ip' bottom: 'label' top: 'loss' }";

static void two_threads_repeat_bit_for_bit(void)
{
    NetFx fx;
    CliffNet *net = nfx_build_ok(&fx, net_text, CLIFF__PHASE__TRAIN, NULL);
    CliffTensor *data = net ? nfx_blob(net, "data") : NULL;
    CliffTensor *label = net ? nfx_blob(net, "label") : NULL;
    if (data && label) {
        for (size_t i = 0; i < data->count; i++) data->data[i] = cliff_rng_uniform01(&fx.rng);
        for (size_t i = 0; i < label->count; i++) label->data[i] = (float)(i % 10);
        float *first = malloc(net->param_count * sizeof(float));
        for (int rep = 0; rep < 30; rep++) {
            cliff_net_zero_grads(net);
            cliff_net_forward(net);
            cliff_net_backward(net);
            if (rep == 0) {
                memcpy(first, net->grad_slab, net->param_count * sizeof(float));
            } else if (memcmp(first, net->grad_slab, net->param_count * sizeof(float))) {
                size_t k = 0;
                while (first[k] == net->grad_slab[k]) k++;
                CHECK_FAILF("repetition %d: gradient element %zu differs (%.9g vs %.9g)", rep, k,
                            first[k], net->grad_slab[k]);
                break;
            }
        }
        free(first);
    }
    nfx_free(&fx);
}

int main(void)
{
    /* The layers' own threads follow OpenBLAS's count, read at their first use. */
    openblas_set_num_threads(2);
    RUN(two_threads_repeat_bit_for_bit);
    return test_main_end();
}
