/* The clip factor and weight decay in one pass (see update.h), compiled for
 * each instruction set (layers/kernels/isa_variants.h: the same bits). */
#include "update.h"

#include "layers/kernels/isa_variants.h"

/* Below this the factor is applied in double: (float)factor would lose bits
 * as it nears the float denormals (~1.2e-38); such a factor means a gradient
 * norm above ~1e30 against a threshold of order 1. */
#define TINY_FACTOR 1e-30

static inline __attribute__((always_inline)) void
scale_decay_body(CliffRegType type, size_t n, double clip_factor, float decay,
                 const float *restrict w, float *restrict g)
{
    float f = (float)clip_factor;
    if (clip_factor < TINY_FACTOR) {
        for (size_t i = 0; i < n; i++) g[i] = (float)((double)g[i] * clip_factor);
        f = 1.0f;
    }
    if (decay == 0.0f) { /* Caffe skips the decay pass when local_decay is 0 */
        if (f != 1.0f)
            for (size_t i = 0; i < n; i++) g[i] *= f;
        return;
    }
    if (type == CLIFF_REG_L2) {
        for (size_t i = 0; i < n; i++) g[i] = f * g[i] + decay * w[i];
    } else {
        /* caffe_cpu_sign: (0 < x) - (x < 0) */
        for (size_t i = 0; i < n; i++)
            g[i] = f * g[i] + decay * (float)((0.0f < w[i]) - (w[i] < 0.0f));
    }
}

CLIFF_ISA_VARIANTS(scale_decay,
                   (CliffRegType type, size_t n, double clip_factor, float decay,
                    const float *w, float *g),
                   (type, n, clip_factor, decay, w, g))

void cliff_scale_and_decay(CliffRegType type, size_t n, double clip_factor, float decay,
                           const float *w, float *g)
{
    scale_decay(type, n, clip_factor, decay, w, g);
}
