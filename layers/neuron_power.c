/* The affine-then-transcendental neurons (Caffe's PowerLayer, ExpLayer, LogLayer):
 *   Power  y = (shift + scale x)^power
 *          dx = dy * power scale (shift + scale x)^(power - 1)
 *   Exp    y = base^(shift + scale x)          (base -1 means e)
 *          dx = dy * y * scale ln(base)
 *   Log    y = log_base(shift + scale x)       (base -1 means e)
 *          dx = dy * scale / (ln(base) (shift + scale x))
 * Power and Log need x in backward (copied when in place); Exp uses y.
 *
 * Power follows Caffe's special cases: power * scale == 0 gives the constant
 * (power == 0 ? 1 : shift^power) and a zero gradient; power 1 and 2 have
 * closed-form gradients. Elsewhere the gradient is computed as
 * power scale base^(power - 1) rather than Caffe's power y / x (which is 0/0
 * at x = 0); the two agree wherever Caffe's is finite.
 */
#include <math.h>

#include "neuron.h"

/* ---- Power: a = power, b = scale, c = shift, d = power * scale */
static void power_forward(NeuronState *s, const float *x, float *y, size_t n)
{
    const float power = s->a, scale = s->b, shift = s->c;
    if (s->d == 0.0f) {
        const float v = power == 0.0f ? 1.0f : powf(shift, power);
        for (size_t i = 0; i < n; i++) y[i] = v;
    } else if (power == 1.0f) {
        for (size_t i = 0; i < n; i++) y[i] = shift + scale * x[i];
    } else if (power == 2.0f) {
        for (size_t i = 0; i < n; i++) {
            float b = shift + scale * x[i];
            y[i] = b * b;
        }
    } else {
        for (size_t i = 0; i < n; i++) y[i] = powf(shift + scale * x[i], power);
    }
}

static void power_backward(const NeuronState *s, const float *x, const float *y, const float *dy,
                           float *dx, size_t n)
{
    (void)y;
    const float power = s->a, scale = s->b, shift = s->c, diff_scale = s->d;
    if (diff_scale == 0.0f || power == 1.0f) {
        for (size_t i = 0; i < n; i++) dx[i] = dy[i] * diff_scale;
    } else if (power == 2.0f) {
        for (size_t i = 0; i < n; i++) dx[i] = dy[i] * diff_scale * (shift + scale * x[i]);
    } else {
        for (size_t i = 0; i < n; i++)
            dx[i] = dy[i] * diff_scale * powf(shift + scale * x[i], power - 1.0f);
    }
}

/* ---- Exp: a = inner scale (scale ln base), b = outer scale (base^shift) */
static void exp_forward(NeuronState *s, const float *x, float *y, size_t n)
{
    const float inner = s->a, outer = s->b;
    for (size_t i = 0; i < n; i++) y[i] = outer * expf(inner * x[i]);
}

static void exp_backward(const NeuronState *s, const float *x, const float *y, const float *dy,
                         float *dx, size_t n)
{
    (void)x;
    const float inner = s->a;
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * y[i] * inner;
}

/* ---- Log: a = scale, b = shift, c = 1 / ln(base), d = scale / ln(base) */
static void log_forward(NeuronState *s, const float *x, float *y, size_t n)
{
    const float scale = s->a, shift = s->b, base_scale = s->c;
    for (size_t i = 0; i < n; i++) y[i] = logf(shift + scale * x[i]) * base_scale;
}

static void log_backward(const NeuronState *s, const float *x, const float *y, const float *dy,
                         float *dx, size_t n)
{
    (void)y;
    const float scale = s->a, shift = s->b, num = s->d;
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * num / (shift + scale * x[i]);
}

static const NeuronKind power_kind = {power_forward, power_backward};
static const NeuronKind exp_kind = {exp_forward, exp_backward};
static const NeuronKind log_kind = {log_forward, log_backward};

static int power_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)top, (void)nt;
    const Cliff__PowerParameter *p = l->param->power_param;
    NeuronState s = {.kind = &power_kind};
    s.a = p ? p->power : 1.0f;
    s.b = p ? p->scale : 1.0f;
    s.c = p ? p->shift : 0.0f;
    s.d = s.a * s.b;
    /* A constant gradient (power 1, or power * scale 0) never reads x. */
    s.needs_x = !(s.d == 0.0f || s.a == 1.0f);
    return cliff_neuron_setup(l, &s, err);
}

/* ln(base) for Exp/Log's base, where -1 means e; fails for other base <= 0. */
static int log_of_base(float base, const char *what, double *out, CliffError *err)
{
    if (base == -1.0f) {
        *out = 1.0;
        return 0;
    }
    if (!(base > 0.0f))
        return cliff_error_set(err, "%s: base must be strictly positive, or -1 for e (got %g)",
                               what, base);
    *out = log((double)base);
    return 0;
}

static int exp_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                     int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)top, (void)nt;
    const Cliff__ExpParameter *p = l->param->exp_param;
    float base = p ? p->base : -1.0f, scale = p ? p->scale : 1.0f, shift = p ? p->shift : 0.0f;
    double ln_base = 1.0;
    if (log_of_base(base, "exp_param", &ln_base, err)) return -1;
    NeuronState s = {.kind = &exp_kind};
    s.a = (float)(ln_base * scale);
    s.b = shift == 0.0f ? 1.0f : (float)exp(ln_base * shift);
    return cliff_neuron_setup(l, &s, err);
}

static int log_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                     int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)top, (void)nt;
    const Cliff__LogParameter *p = l->param->log_param;
    float base = p ? p->base : -1.0f;
    double ln_base = 1.0;
    if (log_of_base(base, "log_param", &ln_base, err)) return -1;
    if (ln_base == 0.0) return cliff_error_set(err, "log_param: base 1 has no logarithm");
    NeuronState s = {.kind = &log_kind, .needs_x = 1};
    s.a = p ? p->scale : 1.0f;
    s.b = p ? p->shift : 0.0f;
    s.c = (float)(1.0 / ln_base);
    s.d = (float)(s.a / ln_base);
    return cliff_neuron_setup(l, &s, err);
}

const CliffLayerOps cliff_ops_Power = {
    .type = "Power", CLIFF_NEURON_OPS_COMMON,
    .setup = power_setup, .backward = cliff_neuron_backward,
};
const CliffLayerOps cliff_ops_Exp = {
    .type = "Exp", CLIFF_NEURON_OPS_COMMON,
    .setup = exp_setup, .backward = cliff_neuron_backward,
};
const CliffLayerOps cliff_ops_Log = {
    .type = "Log", CLIFF_NEURON_OPS_COMMON,
    .setup = log_setup, .backward = cliff_neuron_backward,
};
