/* Nesterov momentum (Caffe's NesterovSolver):
 *   h_new = local_rate * g + momentum * h;
 *   step  = (1 + momentum) * h_new - momentum * h.
 * Compiled for each instruction set (layers/kernels/isa_variants.h). */
#include "update.h"

#include "layers/kernels/isa_variants.h"

static inline __attribute__((always_inline)) void
nesterov_loop_body(size_t n, float local_rate, float m, float *g, const float *h, float *ho)
{
    for (size_t i = 0; i < n; i++) {
        float prev = h[i];
        float v = local_rate * g[i] + m * prev;
        ho[i] = v;
        g[i] = (1.0f + m) * v + (-m) * prev;
    }
}

CLIFF_ISA_VARIANTS(nesterov_loop, (size_t n, float local_rate, float m, float *g,
                                   const float *h, float *ho),
                   (n, local_rate, m, g, h, ho))

static void nesterov_update(size_t n, float local_rate, const CliffUpdateHyper *hp, float *g,
                            const float *const *hin, float *const *hout)
{
    nesterov_loop(n, local_rate, hp->momentum, g, hin[0], hout[0]);
}

const CliffUpdateRule cliff_update_nesterov = {"Nesterov", 1, 0, NULL, nesterov_update};
