/* With two threads the same inputs give bit-identical gradients, every time:
 * the parallel kernels must not let the order in which threads pick up work
 * change a sum (same seed -> same run, and exact resume, at any thread count). */
#include <cblas.h>

#include "layers/kernels/fork_join.h"
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

/* Convolutions on the matrix engine (stride 2, groups, dilation, 1x1, a
 * Deconvolution) and on the shifted-row path (c6: 12 outputs, S 5 x 3 x 34 x
 * 32 floats an image against a dy of 12 x 32 x 32, so on two threads its
 * weight gradient is cut into slices of output channels, conv_fast.c): the
 * gradients on the fork-join's
 * two threads equal, bit for bit, those of a pass run from inside a fork-join
 * chunk, where every nested job runs on one thread (fork_join.h). */
static const char *conv_net_text =
    "layer { name: 'in' type: 'Input' top: 'data' top: 'label' "
    "  input_param { shape { dim: 24 dim: 3 dim: 41 dim: 41 } shape { dim: 24 } } }"
    "layer { name: 'c1' type: 'Convolution' bottom: 'data' top: 'c1' "
    "  convolution_param { num_output: 8 kernel_size: 5 stride: 2 weight_filler { type: 'xavier' } "
    "  bias_filler { type: 'gaussian' std: 0.1 } } }"
    "layer { name: 'c2' type: 'Convolution' bottom: 'c1' top: 'c2' "
    "  convolution_param { num_output: 8 kernel_size: 3 pad: 1 group: 2 "
    "  weight_filler { type: 'xavier' } } }"
    "layer { name: 'c3' type: 'Convolution' bottom: 'c2' top: 'c3' "
    "  convolution_param { num_output: 6 kernel_size: 3 dilation: 2 pad: 1 "
    "  weight_filler { type: 'xavier' } } }"
    "layer { name: 'd4' type: 'Deconvolution' bottom: 'c3' top: 'd4' "
    "  convolution_param { num_output: 4 kernel_size: 2 stride: 2 group: 2 "
    "  weight_filler { type: 'xavier' } bias_filler { type: 'gaussian' std: 0.1 } } }"
    "layer { name: 'c5' type: 'Convolution' bottom: 'd4' top: 'c5' "
    "  convolution_param { num_output: 5 kernel_size: 1 weight_filler { type: 'xavier' } } }"
    "layer { name: 'c6' type: 'Convolution' bottom: 'c5' top: 'c6' "
    "  convolution_param { num_output: 12 kernel_size: 3 weight_filler { type: 'xavier' } "
    "  bias_filler { type: 'gaussian' std: 0.1 } } }"
    "layer { name: 'ip' type: 'InnerProduct' bottom: 'c6' top: 'ip' "
    "  inner_product_param { num_output: 10 weight_filler { type: 'xavier' } } }"
    "layer { name: 'loss' type: 'SoftmaxWithLoss' bottom: 'ip' bottom: 'label' top: 'loss' }";

typedef struct Pass {
    CliffNet *net;
    float *grads;
} Pass;

static void one_pass(void *arg, int chunk, int thread)
{
    (void)thread;
    Pass *p = arg;
    if (chunk) return;
    cliff_net_zero_grads(p->net);
    cliff_net_forward(p->net);
    cliff_net_backward(p->net);
    memcpy(p->grads, p->net->grad_slab, p->net->param_count * sizeof(float));
}

/* The gradients of net_text on the fork-join's two threads against those of
 * a pass run inside a chunk (every nested job serial, cut as one thread cuts
 * it), bit for bit; blob i of the inputs is filled by fill(i, element). */
static void grads_one_vs_two_threads(const char *text, float (*fill)(CliffRng *, int, size_t))
{
    if (cliff_fj_threads() < 2) {
        printf("  (one thread only: nothing to compare)\n");
        return;
    }
    NetFx fx;
    CliffNet *net = nfx_build_ok(&fx, text, CLIFF__PHASE__TRAIN, NULL);
    if (net) {
        for (int b = 0; b < net->layers[0].nt; b++) {
            CliffTensor *t = net->layers[0].top[b];
            for (size_t i = 0; i < t->count; i++) t->data[i] = fill(&fx.rng, b, i);
        }
        Pass two = {net, malloc(net->param_count * sizeof(float))};
        Pass one = {net, malloc(net->param_count * sizeof(float))};
        cliff_fj_for(2, one_pass, &one); /* serial inside chunk 0 */
        /* several two-thread passes: on a busy machine the helper thread may
         * take no chunk in one of them, and which chunks it takes varies */
        for (int rep = 0; rep < 30 && !check_failures_in_test; rep++) {
            one_pass(&two, 0, 0); /* the fork-join's threads */
            if (memcmp(one.grads, two.grads, net->param_count * sizeof(float))) {
                size_t k = 0;
                while (one.grads[k] == two.grads[k]) k++;
                CHECK_FAILF("pass %d: gradient element %zu: %.9g on 1 thread, %.9g on 2", rep, k,
                            one.grads[k], two.grads[k]);
            }
        }
        free(one.grads);
        free(two.grads);
    }
    nfx_free(&fx);
}

/* data gaussian, labels 0..9 */
static float fill_conv(CliffRng *rng, int blob, size_t i)
{
    return blob == 0 ? (float)cliff_rng_gaussian(rng, 0, 1) : (float)(i % 10);
}

static void conv_grads_one_vs_two_threads(void) { grads_one_vs_two_threads(conv_net_text, fill_conv); }

/* An LSTM whose steps are cut by streams over the threads (lstm.c: 31 streams, 16 + 15 on two threads,
 * x 4*112 x 112 = 1.6 M multiply-adds a step), sequences restarting here and
 * there (cont 0), into an InnerProduct and a Euclidean loss. */
static const char *lstm_net_text =
    "layer { name: 'in' type: 'Input' top: 'x' top: 'cont' top: 'target' "
    "  input_param { shape { dim: 5 dim: 31 dim: 16 } shape { dim: 5 dim: 31 } "
    "  shape { dim: 5 dim: 31 dim: 4 } } }"
    "layer { name: 'lstm' type: 'LSTM' bottom: 'x' bottom: 'cont' top: 'h' "
    "  recurrent_param { num_output: 112 weight_filler { type: 'uniform' min: -0.1 max: 0.1 } "
    "  bias_filler { type: 'constant' value: 0.1 } } }"
    "layer { name: 'ip' type: 'InnerProduct' bottom: 'h' top: 'y' "
    "  inner_product_param { num_output: 4 axis: 2 weight_filler { type: 'xavier' } } }"
    "layer { name: 'loss' type: 'EuclideanLoss' bottom: 'y' bottom: 'target' top: 'loss' }";

/* cont 0 at the first step (i < 31 streams): no state carried from the pass
 * before, so every pass computes the same */
static float fill_lstm(CliffRng *rng, int blob, size_t i)
{
    return blob == 1 ? (i < 31 || i % 7 == 3 ? 0.0f : 1.0f) : (float)cliff_rng_gaussian(rng, 0, 1);
}

static void lstm_grads_one_vs_two_threads(void) { grads_one_vs_two_threads(lstm_net_text, fill_lstm); }

int main(void)
{
    /* The layers' own threads follow OpenBLAS's count, read at their first use. */
    openblas_set_num_threads(2);
    RUN(two_threads_repeat_bit_for_bit);
    RUN(conv_grads_one_vs_two_threads);
    RUN(lstm_grads_one_vs_two_threads);
    return test_main_end();
}
