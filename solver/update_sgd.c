/* SGD with momentum (Caffe's SGDSolver::ComputeUpdateValue):
 *   h = local_rate * g + momentum * h;   step = h.
 * Compiled for each instruction set (layers/kernels/isa_variants.h). */
#include "update.h"

#include "layers/kernels/isa_variants.h"

/* h and ho: the same array or disjoint ones (update.h) */
static inline __attribute__((always_inline)) void
sgd_loop_body(size_t n, float local_rate, float m, float *g, const float *h, float *ho)
{
    for (size_t i = 0; i < n; i++) {
        float v = local_rate * g[i] + m * h[i];
        ho[i] = v;
        g[i] = v;
    }
}

CLIFF_ISA_VARIANTS(sgd_loop, (size_t n, float local_rate, float m, float *g, const float *h,
                              float *ho),
                   (n, local_rate, m, g, h, ho))

static void sgd_update(size_t n, float local_rate, const CliffUpdateHyper *hp, float *g,
                       const float *const *hin, float *const *hout)
{
    sgd_loop(n, local_rate, hp->momentum, g, hin[0], hout[0]);
}

const CliffUpdateRule cliff_update_sgd = {"SGD", 1, 0, NULL, sgd_update};
