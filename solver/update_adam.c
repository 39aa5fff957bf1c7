/* Adam (Caffe's AdamSolver; history 0 = m, history 1 = v), t = iter + 1:
 *   m = (1 - beta1) * g + beta1 * m;
 *   v = (1 - beta2) * g^2 + beta2 * v;
 *   correction = sqrt(1 - beta2^t) / (1 - beta1^t)   (in double, then float)
 *   step = (local_rate * correction) * m / (sqrt(v) + delta). */
#include <math.h>

#include "update.h"

static void adam_update(size_t n, float local_rate, const CliffUpdateHyper *hp, float *g,
                        const float *const *hin, float *const *hout)
{
    const float b1 = hp->momentum, b2 = hp->momentum2;
    const double t = (double)hp->iter + 1.0;
    const float correction =
        (float)(sqrt(1.0 - pow((double)b2, t)) / (1.0 - pow((double)b1, t)));
    const float scale = local_rate * correction;
    const float *m = hin[0], *v = hin[1];
    float *mo = hout[0], *vo = hout[1];
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = (1.0f - b1) * gi + b1 * m[i];
        float vi = (1.0f - b2) * (gi * gi) + b2 * v[i];
        mo[i] = mi;
        vo[i] = vi;
        g[i] = scale * (mi / (sqrtf(vi) + hp->delta));
    }
}

const CliffUpdateRule cliff_update_adam = {"Adam", 2, 2u /* v */, NULL, adam_update};
