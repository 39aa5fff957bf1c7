/* Forward checks for Dropout, BatchNorm, Scale/Bias and MVN; see neuron_checks.h. */
#include <math.h>
#include <stddef.h>

#include "neuron_checks.h"

/* ---- Dropout ---------------------------------------------------------------------- */

NEURON_CHECK(check_dropout_identity)
{
    (void)l, (void)nb, (void)nt;
    for (size_t i = 0; i < bottom[0]->count; i++)
        if (top[0]->data[i] != bottom[0]->data[i])
            return grad_fail(why, len, "TEST dropout changed element %zu", i);
    return 0;
}

NEURON_CHECK(check_dropout_test_scaled)
{
    (void)l, (void)nb, (void)nt;
    for (size_t i = 0; i < bottom[0]->count; i++)
        if (!nc_near(top[0]->data[i], 0.7 * bottom[0]->data[i], 1e-6))
            return grad_fail(why, len, "y[%zu] = %g, expected 0.7 * %g", i, top[0]->data[i],
                        bottom[0]->data[i]);
    return 0;
}

/* Every element is dropped (0) or kept times factor; the kept share is near 1/2. */
static int dropout_mask(CliffTensor *const *bottom, CliffTensor *const *top, float factor,
                        char *why, size_t len)
{
    size_t kept = 0, n = bottom[0]->count;
    for (size_t i = 0; i < n; i++) {
        float x = bottom[0]->data[i], y = top[0]->data[i];
        if (y == x * factor && x != 0)
            kept++;
        else if (y != 0)
            return grad_fail(why, len, "y[%zu] = %g is neither 0 nor %g * %g", i, y, factor, x);
    }
    if (kept < n / 4 || kept > 3 * n / 4)
        return grad_fail(why, len, "%zu of %zu kept with dropout_ratio 0.5", kept, n);
    return 0;
}

NEURON_CHECK(check_dropout_train)
{
    (void)l, (void)nb, (void)nt;
    return dropout_mask(bottom, top, 2.0f, why, len);
}
NEURON_CHECK(check_dropout_train_noscale)
{
    (void)l, (void)nb, (void)nt;
    return dropout_mask(bottom, top, 1.0f, why, len);
}

/* ---- BatchNorm ---------------------------------------------------------------------- */

/* y against (x - mean[c]) / sqrt(var[c] + eps) for bottom N x C x S. */
static int bn_compare(CliffTensor *const *bottom, CliffTensor *const *top, const double *mean,
                      const double *var, double eps, char *why, size_t len)
{
    const CliffTensor *x = bottom[0];
    size_t N = (size_t)x->shape[0], C = (size_t)x->shape[1], S = x->count / (N * C);
    for (size_t n = 0; n < N; n++)
        for (size_t c = 0; c < C; c++)
            for (size_t k = 0; k < S; k++) {
                size_t i = (n * C + c) * S + k;
                double want = (x->data[i] - mean[c]) / sqrt(var[c] + eps);
                if (!nc_near(top[0]->data[i], want, 1e-4))
                    return grad_fail(why, len, "y[%zu] = %.7g, expected %.7g", i, top[0]->data[i],
                                want);
            }
    return 0;
}

NEURON_CHECK(check_bn_train)
{
    (void)nb, (void)nt;
    const CliffTensor *x = bottom[0];
    size_t N = (size_t)x->shape[0], C = (size_t)x->shape[1], S = x->count / (N * C), m = N * S;
    double mean[16] = {0}, var[16] = {0};
    if (C > 16) return grad_fail(why, len, "use at most 16 channels");
    for (size_t c = 0; c < C; c++) {
        for (size_t n = 0; n < N; n++)
            for (size_t k = 0; k < S; k++) mean[c] += x->data[(n * C + c) * S + k];
        mean[c] /= (double)m;
        for (size_t n = 0; n < N; n++)
            for (size_t k = 0; k < S; k++) {
                double d = x->data[(n * C + c) * S + k] - mean[c];
                var[c] += d * d;
            }
        var[c] /= (double)m;
    }
    if (bn_compare(bottom, top, mean, var, 1e-5, why, len)) return -1;
    /* One forward from zero statistics: factor 1, sums = mean and unbiased variance. */
    if (l->params[2].data[0] != 1.0f)
        return grad_fail(why, len, "scale factor %g after one forward, expected 1",
                    l->params[2].data[0]);
    for (size_t c = 0; c < C; c++) {
        if (!nc_near(l->params[0].data[c], mean[c], 1e-5))
            return grad_fail(why, len, "running mean[%zu] = %g, expected %g", c, l->params[0].data[c],
                        mean[c]);
        double unbiased = var[c] * (double)m / (double)(m - 1);
        if (!nc_near(l->params[1].data[c], unbiased, 1e-5))
            return grad_fail(why, len, "running variance[%zu] = %g, expected %g", c,
                        l->params[1].data[c], unbiased);
    }
    return 0;
}

/* Stored sums (factor 2): mean = (0.2, -0.4, 1.0), var = (0.5, 2.0, 0.25). */
NEURON_CHECK(check_bn_global)
{
    if (bottom[0]->shape[1] != 3) return grad_fail(why, len, "case must have 3 channels");
    const double mean[3] = {0.2, -0.4, 1.0}, var[3] = {0.5, 2.0, 0.25};
    for (int c = 0; c < 3; c++) {
        l->params[0].data[c] = (float)(2 * mean[c]);
        l->params[1].data[c] = (float)(2 * var[c]);
    }
    l->params[2].data[0] = 2.0f;
    l->ops->forward(l, bottom, nb, top, nt);
    if (l->params[2].data[0] != 2.0f || l->params[0].data[1] != (float)(2 * mean[1]))
        return grad_fail(why, len, "use_global_stats forward changed the stored statistics");
    return bn_compare(bottom, top, mean, var, 1e-5, why, len);
}

NEURON_CHECK(check_bn_test)
{
    (void)nb, (void)nt;
    const double zero[16] = {0};
    if (l->params[2].data[0] != 0.0f)
        return grad_fail(why, len, "TEST phase forward updated the statistics");
    return bn_compare(bottom, top, zero, zero, 1e-5, why, len);
}

/* ---- Scale / Bias ---------------------------------------------------------------------- */

/* y[n, c, k] = x * s[c] + b[c] with s, b given (b may be NULL), bottom N x C x K. */
static int affine_compare(CliffTensor *const *bottom, CliffTensor *const *top, const float *s,
                          const float *b, char *why, size_t len)
{
    const CliffTensor *x = bottom[0];
    size_t N = (size_t)x->shape[0], C = (size_t)x->shape[1], K = x->count / (N * C);
    for (size_t n = 0; n < N; n++)
        for (size_t c = 0; c < C; c++)
            for (size_t k = 0; k < K; k++) {
                size_t i = (n * C + c) * K + k;
                double want = (double)x->data[i] * (s ? s[c] : 1) + (b ? b[c] : 0);
                if (!nc_near(top[0]->data[i], want, 1e-6))
                    return grad_fail(why, len, "y[%zu] = %.7g, expected %.7g", i, top[0]->data[i],
                                want);
            }
    return 0;
}

NEURON_CHECK(check_scale_param)
{
    (void)nb, (void)nt;
    return affine_compare(bottom, top, l->params[0].data,
                          l->nparams > 1 ? l->params[1].data : NULL, why, len);
}

NEURON_CHECK(check_scale_bottom)
{
    (void)l, (void)nb, (void)nt;
    return affine_compare(bottom, top, bottom[1]->data, NULL, why, len);
}

NEURON_CHECK(check_scale_bottom01)
{
    (void)l, (void)nb, (void)nt;
    const CliffTensor *x = bottom[0];
    size_t NC = nc_prod(x, 0, 2), K = x->count / NC;
    for (size_t i = 0; i < x->count; i++) {
        double want = (double)x->data[i] * bottom[1]->data[i / K];
        if (!nc_near(top[0]->data[i], want, 1e-6))
            return grad_fail(why, len, "y[%zu] = %.7g, expected %.7g", i, top[0]->data[i], want);
    }
    return 0;
}

NEURON_CHECK(check_bias_param)
{
    (void)nb, (void)nt;
    return affine_compare(bottom, top, NULL, l->params[0].data, why, len);
}

NEURON_CHECK(check_bias_bottom)
{
    (void)l, (void)nb, (void)nt;
    return affine_compare(bottom, top, NULL, bottom[1]->data, why, len);
}

/* ---- MVN ------------------------------------------------------------------------------ */

NEURON_CHECK(check_mvn)
{
    (void)nb, (void)nt;
    const Cliff__MVNParameter *p = l->param->mvn_param;
    int across = p && p->across_channels, normalize = !p || p->normalize_variance;
    const CliffTensor *x = bottom[0];
    size_t rows = across ? (size_t)x->shape[0] : nc_prod(x, 0, 2), dim = x->count / rows;
    for (size_t r = 0; r < rows; r++) {
        double mean = 0, sq = 0;
        for (size_t k = 0; k < dim; k++) mean += x->data[r * dim + k];
        mean /= (double)dim;
        for (size_t k = 0; k < dim; k++) sq += pow(x->data[r * dim + k] - mean, 2);
        double sd = normalize ? sqrt(sq / (double)dim) + 1e-9 : 1;
        for (size_t k = 0; k < dim; k++) {
            double want = (x->data[r * dim + k] - mean) / sd;
            if (!nc_near(top[0]->data[r * dim + k], want, 1e-5))
                return grad_fail(why, len, "row %zu element %zu: %.7g, expected %.7g", r, k,
                            top[0]->data[r * dim + k], want);
        }
    }
    return 0;
}
