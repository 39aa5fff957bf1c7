/* ReLU: y = x for x > 0, negative_slope * x otherwise (Caffe's ReLULayer).
 * Gradient: dy for x > 0, negative_slope * dy otherwise (x = 0 counts as
 * negative, as in Caffe).
 *
 * Hot path: branch-free loops vectorized with `omp simd` (the sign of the
 * data is random, so branches would mispredict half the time; in place,
 * y[i] aliases x[i] only at the same i, which SIMD handles). NaN inputs
 * propagate to y.
 * In place: with slope >= 0, y > 0 exactly when x > 0, so backward reads y;
 * a negative slope flips signs and needs a copy of x (needs_x). */
#include "neuron.h"

/* a = negative_slope */
static void relu_forward(NeuronState *s, const float *x, float *y, size_t n)
{
    const float slope = s->a;
    if (slope == 0.0f) {
#pragma omp simd
        for (size_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
    } else {
        /* Two selects and an unconditional multiply-add: GCC does not vectorize
         * a conditional multiply (it might raise FP flags it would not have). */
#pragma omp simd
        for (size_t i = 0; i < n; i++) {
            const float v = x[i], pos = v < 0.0f ? 0.0f : v, neg = v < 0.0f ? v : 0.0f;
            y[i] = pos + slope * neg;
        }
    }
}

static void relu_backward(const NeuronState *s, const float *x, const float *y, const float *dy,
                          float *dx, size_t n)
{
    (void)y;
    const float slope = s->a;
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        const float f = x[i] > 0.0f ? 1.0f : slope;
        dx[i] = dy[i] * f;
    }
}

static const NeuronKind relu_kind = {relu_forward, relu_backward};

static int relu_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)top, (void)nt;
    const Cliff__ReLUParameter *p = l->param->relu_param;
    NeuronState s = {.kind = &relu_kind, .a = p ? p->negative_slope : 0.0f};
    s.needs_x = s.a < 0.0f;
    return cliff_neuron_setup(l, &s, err);
}

const CliffLayerOps cliff_ops_ReLU = {
    .type = "ReLU",
    CLIFF_NEURON_OPS_COMMON,
    .setup = relu_setup,
    .backward = cliff_neuron_backward,
};
