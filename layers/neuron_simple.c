/* Elementwise layers with at most two constants, Caffe semantics:
 *   Sigmoid    y = 1 / (1 + e^-x)            dx = dy * y (1 - y)
 *   TanH       y = tanh x                    dx = dy * (1 - y^2)
 *   AbsVal     y = |x|                       dx = dy * sign(x), sign(0) = 0
 *   BNLL       y = log(1 + e^x)              dx = dy * e^x / (1 + e^x), x capped at 50
 *   ELU        y = x > 0 ? x : alpha (e^x - 1)   dx = dy * (x > 0 ? 1 : alpha + y)
 *   Clip       y = max(min, min(x, max))     dx = dy where min <= x <= max, else 0
 *   Swish      y = x sigmoid(beta x)         dx = dy * (beta y + s (1 - beta y)), s = sigmoid(beta x)
 *   Threshold  y = x > threshold ? 1 : 0     no gradient (as in Caffe)
 * All work in place; those whose gradient needs x keep a copy then (neuron.h).
 */
#include <math.h>

#include "neuron.h"

/* ---- Sigmoid (Caffe's form 0.5 tanh(x/2) + 0.5: no overflow for large |x|) */
static void sigmoid_forward(NeuronState *s, const float *x, float *y, size_t n)
{
    (void)s;
    for (size_t i = 0; i < n; i++) y[i] = 0.5f * tanhf(0.5f * x[i]) + 0.5f;
}

static void sigmoid_backward(const NeuronState *s, const float *x, const float *y,
                             const float *dy, float *dx, size_t n)
{
    (void)s, (void)x;
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}

/* ---- TanH */
static void tanh_forward(NeuronState *s, const float *x, float *y, size_t n)
{
    (void)s;
    for (size_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
}

static void tanh_backward(const NeuronState *s, const float *x, const float *y, const float *dy,
                          float *dx, size_t n)
{
    (void)s, (void)x;
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

/* ---- AbsVal */
static void abs_forward(NeuronState *s, const float *x, float *y, size_t n)
{
    (void)s;
    for (size_t i = 0; i < n; i++) y[i] = fabsf(x[i]);
}

static void abs_backward(const NeuronState *s, const float *x, const float *y, const float *dy,
                         float *dx, size_t n)
{
    (void)s, (void)y;
    for (size_t i = 0; i < n; i++)
        dx[i] = dy[i] * (float)((x[i] > 0.0f) - (x[i] < 0.0f));
}

/* ---- BNLL */
#define BNLL_THRESHOLD 50.0f /* Caffe's kBNLL_THRESHOLD: caps e^x in backward */

static void bnll_forward(NeuronState *s, const float *x, float *y, size_t n)
{
    (void)s;
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] + log1pf(expf(-x[i])) : log1pf(expf(x[i]));
}

static void bnll_backward(const NeuronState *s, const float *x, const float *y, const float *dy,
                          float *dx, size_t n)
{
    (void)s, (void)y;
    for (size_t i = 0; i < n; i++) {
        float e = expf(fminf(x[i], BNLL_THRESHOLD));
        dx[i] = dy[i] * e / (e + 1.0f);
    }
}

/* ---- ELU: a = alpha */
static void elu_forward(NeuronState *s, const float *x, float *y, size_t n)
{
    const float alpha = s->a;
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : alpha * expm1f(x[i]);
}

static void elu_backward(const NeuronState *s, const float *x, const float *y, const float *dy,
                         float *dx, size_t n)
{
    const float alpha = s->a;
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (x[i] > 0.0f ? 1.0f : alpha + y[i]);
}

/* ---- Clip: a = min, b = max */
static void clip_forward(NeuronState *s, const float *x, float *y, size_t n)
{
    const float lo = s->a, hi = s->b;
    for (size_t i = 0; i < n; i++) y[i] = fmaxf(lo, fminf(x[i], hi));
}

static void clip_backward(const NeuronState *s, const float *x, const float *y, const float *dy,
                          float *dx, size_t n)
{
    (void)y;
    const float lo = s->a, hi = s->b;
    for (size_t i = 0; i < n; i++) dx[i] = (x[i] >= lo && x[i] <= hi) ? dy[i] : 0.0f;
}

/* ---- Swish: a = beta; aux = sigmoid(beta x) */
static void swish_forward(NeuronState *s, const float *x, float *y, size_t n)
{
    const float beta = s->a;
    float *sig = s->aux.data;
    for (size_t i = 0; i < n; i++) {
        sig[i] = 0.5f * tanhf(0.5f * beta * x[i]) + 0.5f;
        y[i] = x[i] * sig[i];
    }
}

static void swish_backward(const NeuronState *s, const float *x, const float *y, const float *dy,
                           float *dx, size_t n)
{
    (void)x;
    const float beta = s->a;
    const float *sig = s->aux.data;
    for (size_t i = 0; i < n; i++)
        dx[i] = dy[i] * (beta * y[i] + sig[i] * (1.0f - beta * y[i]));
}

/* ---- Threshold: a = threshold */
static void threshold_forward(NeuronState *s, const float *x, float *y, size_t n)
{
    const float t = s->a;
    for (size_t i = 0; i < n; i++) y[i] = x[i] > t ? 1.0f : 0.0f;
}

static const NeuronKind sigmoid_kind = {sigmoid_forward, sigmoid_backward};
static const NeuronKind tanh_kind = {tanh_forward, tanh_backward};
static const NeuronKind abs_kind = {abs_forward, abs_backward};
static const NeuronKind bnll_kind = {bnll_forward, bnll_backward};
static const NeuronKind elu_kind = {elu_forward, elu_backward};
static const NeuronKind clip_kind = {clip_forward, clip_backward};
static const NeuronKind swish_kind = {swish_forward, swish_backward};
static const NeuronKind threshold_kind = {threshold_forward, NULL};

#define UNUSED_SETUP_ARGS (void)bottom, (void)nb, (void)top, (void)nt

static int sigmoid_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt, CliffError *err)
{
    UNUSED_SETUP_ARGS;
    NeuronState s = {.kind = &sigmoid_kind};
    return cliff_neuron_setup(l, &s, err);
}

static int tanh_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, CliffError *err)
{
    UNUSED_SETUP_ARGS;
    NeuronState s = {.kind = &tanh_kind};
    return cliff_neuron_setup(l, &s, err);
}

static int abs_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                     int nt, CliffError *err)
{
    UNUSED_SETUP_ARGS;
    NeuronState s = {.kind = &abs_kind, .needs_x = 1};
    return cliff_neuron_setup(l, &s, err);
}

static int bnll_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, CliffError *err)
{
    UNUSED_SETUP_ARGS;
    NeuronState s = {.kind = &bnll_kind, .needs_x = 1};
    return cliff_neuron_setup(l, &s, err);
}

static int elu_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                     int nt, CliffError *err)
{
    UNUSED_SETUP_ARGS;
    const Cliff__ELUParameter *p = l->param->elu_param;
    NeuronState s = {.kind = &elu_kind, .a = p ? p->alpha : 1.0f};
    /* alpha >= 0 keeps the sign of x in y, so in place backward can test y. */
    s.needs_x = s.a < 0.0f;
    return cliff_neuron_setup(l, &s, err);
}

static int clip_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, CliffError *err)
{
    UNUSED_SETUP_ARGS;
    const Cliff__ClipParameter *p = l->param->clip_param;
    if (!p) return cliff_error_set(err, "Clip needs clip_param { min: ... max: ... }");
    if (!(p->min <= p->max))
        return cliff_error_set(err, "clip_param: min (%g) must not exceed max (%g)", p->min,
                               p->max);
    NeuronState s = {.kind = &clip_kind, .a = p->min, .b = p->max, .needs_x = 1};
    return cliff_neuron_setup(l, &s, err);
}

static int swish_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt, CliffError *err)
{
    UNUSED_SETUP_ARGS;
    const Cliff__SwishParameter *p = l->param->swish_param;
    NeuronState s = {.kind = &swish_kind, .a = p ? p->beta : 1.0f, .needs_aux = 1};
    return cliff_neuron_setup(l, &s, err);
}

static int threshold_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                           CliffTensor *const *top, int nt, CliffError *err)
{
    UNUSED_SETUP_ARGS;
    const Cliff__ThresholdParameter *p = l->param->threshold_param;
    NeuronState s = {.kind = &threshold_kind, .a = p ? p->threshold : 0.0f};
    return cliff_neuron_setup(l, &s, err);
}

const CliffLayerOps cliff_ops_Sigmoid = {
    .type = "Sigmoid", CLIFF_NEURON_OPS_COMMON,
    .setup = sigmoid_setup, .backward = cliff_neuron_backward,
};
const CliffLayerOps cliff_ops_TanH = {
    .type = "TanH", CLIFF_NEURON_OPS_COMMON,
    .setup = tanh_setup, .backward = cliff_neuron_backward,
};
const CliffLayerOps cliff_ops_AbsVal = {
    .type = "AbsVal", CLIFF_NEURON_OPS_COMMON,
    .setup = abs_setup, .backward = cliff_neuron_backward,
};
const CliffLayerOps cliff_ops_BNLL = {
    .type = "BNLL", CLIFF_NEURON_OPS_COMMON,
    .setup = bnll_setup, .backward = cliff_neuron_backward,
};
const CliffLayerOps cliff_ops_ELU = {
    .type = "ELU", CLIFF_NEURON_OPS_COMMON,
    .setup = elu_setup, .backward = cliff_neuron_backward,
};
const CliffLayerOps cliff_ops_Clip = {
    .type = "Clip", CLIFF_NEURON_OPS_COMMON,
    .setup = clip_setup, .backward = cliff_neuron_backward,
};
const CliffLayerOps cliff_ops_Swish = {
    .type = "Swish", CLIFF_NEURON_OPS_COMMON,
    .setup = swish_setup, .backward = cliff_neuron_backward,
};
/* No backward: Caffe's ThresholdLayer has no gradient. */
const CliffLayerOps cliff_ops_Threshold = {
    .type = "Threshold", CLIFF_NEURON_OPS_COMMON,
    .setup = threshold_setup, .backward = NULL,
};
