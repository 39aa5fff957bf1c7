/* AdaGrad (Caffe's AdaGradSolver):
 *   h += g^2;   step = local_rate * g / (sqrt(h) + delta).
 * Caffe forbids momentum with AdaGrad. */
#include <math.h>

#include "update.h"

static int adagrad_check(const Cliff__SolverParameter *sp, CliffError *err)
{
    if (sp->has_momentum && sp->momentum != 0.0f)
        return cliff_error_set(err, "momentum cannot be used with AdaGrad (got %g)",
                               (double)sp->momentum);
    return 0;
}

static void adagrad_update(size_t n, float local_rate, const CliffUpdateHyper *hp, float *g,
                           const float *const *hin, float *const *hout)
{
    const float *h = hin[0];
    float *ho = hout[0];
    for (size_t i = 0; i < n; i++) {
        float v = h[i] + g[i] * g[i];
        ho[i] = v;
        float denom = sqrtf(v) + hp->delta;
        g[i] = local_rate * (g[i] / denom);
    }
}

const CliffUpdateRule cliff_update_adagrad = {"AdaGrad", 1, 1u, adagrad_check, adagrad_update};
