/* SGD with momentum (Caffe's SGDSolver::ComputeUpdateValue):
 *   h = local_rate * g + momentum * h;   step = h. */
#include "update.h"

static void sgd_update(size_t n, float local_rate, const CliffUpdateHyper *hp, float *g,
                       const float *const *hin, float *const *hout)
{
    const float m = hp->momentum;
    const float *h = hin[0];
    float *ho = hout[0];
    for (size_t i = 0; i < n; i++) {
        float v = local_rate * g[i] + m * h[i];
        ho[i] = v;
        g[i] = v;
    }
}

const CliffUpdateRule cliff_update_sgd = {"SGD", 1, 0, NULL, sgd_update};
