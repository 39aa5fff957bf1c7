/* Nesterov momentum (Caffe's NesterovSolver):
 *   h_new = local_rate * g + momentum * h;
 *   step  = (1 + momentum) * h_new - momentum * h. */
#include "update.h"

static void nesterov_update(size_t n, float local_rate, const CliffUpdateHyper *hp, float *g,
                            const float *const *hin, float *const *hout)
{
    const float m = hp->momentum;
    const float *h = hin[0];
    float *ho = hout[0];
    for (size_t i = 0; i < n; i++) {
        float prev = h[i];
        float v = local_rate * g[i] + m * prev;
        ho[i] = v;
        g[i] = (1.0f + m) * v + (-m) * prev;
    }
}

const CliffUpdateRule cliff_update_nesterov = {"Nesterov", 1, 0, NULL, nesterov_update};
