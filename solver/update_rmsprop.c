/* RMSProp (Caffe's RMSPropSolver):
 *   h = (1 - rms_decay) * g^2 + rms_decay * h;
 *   step = local_rate * g / (sqrt(h) + delta).
 * Caffe forbids momentum and needs 0 <= rms_decay < 1. */
#include <math.h>

#include "update.h"

static int rmsprop_check(const Cliff__SolverParameter *sp, CliffError *err)
{
    if (sp->has_momentum && sp->momentum != 0.0f)
        return cliff_error_set(err, "momentum cannot be used with RMSProp (got %g)",
                               (double)sp->momentum);
    if (!(sp->rms_decay >= 0.0f && sp->rms_decay < 1.0f))
        return cliff_error_set(err, "rms_decay must lie in [0, 1) (got %g)",
                               (double)sp->rms_decay);
    return 0;
}

static void rmsprop_update(size_t n, float local_rate, const CliffUpdateHyper *hp, float *g,
                           const float *const *hin, float *const *hout)
{
    const float d = hp->rms_decay, one_minus = 1.0f - hp->rms_decay;
    const float *h = hin[0];
    float *ho = hout[0];
    for (size_t i = 0; i < n; i++) {
        float v = one_minus * (g[i] * g[i]) + d * h[i];
        ho[i] = v;
        float denom = sqrtf(v) + hp->delta;
        g[i] = local_rate * (g[i] / denom);
    }
}

const CliffUpdateRule cliff_update_rmsprop = {"RMSProp", 1, 1u, rmsprop_check, rmsprop_update};
