/* AdaDelta (Caffe's AdaDeltaSolver; history 0 = E[g^2], history 1 = E[dx^2]):
 *   h0 = (1 - momentum) * g^2 + momentum * h0;
 *   dx = g * sqrt((h1 + delta) / (h0 + delta));
 *   h1 = (1 - momentum) * dx^2 + momentum * h1;
 *   step = local_rate * dx.
 * As in Caffe the learning rate still multiplies the step (configs use
 * base_lr: 1 with lr_policy fixed). */
#include <math.h>

#include "update.h"

static void adadelta_update(size_t n, float local_rate, const CliffUpdateHyper *hp, float *g,
                            const float *const *hin, float *const *hout)
{
    const float m = hp->momentum, one_minus = 1.0f - hp->momentum, delta = hp->delta;
    const float *h0 = hin[0], *h1 = hin[1];
    float *o0 = hout[0], *o1 = hout[1];
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float v0 = one_minus * (gi * gi) + m * h0[i];
        float dx = gi * sqrtf((delta + h1[i]) / (delta + v0));
        float v1 = one_minus * (dx * dx) + m * h1[i];
        o0[i] = v0;
        o1[i] = v1;
        g[i] = local_rate * dx;
    }
}

const CliffUpdateRule cliff_update_adadelta = {"AdaDelta", 2, 3u /* E[g^2], E[dx^2] */, NULL, adadelta_update};
