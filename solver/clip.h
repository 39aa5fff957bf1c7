/* Gradient norms and clip policies (one table row each).
 *
 * Norms accumulate squares in double. A finite float is below 3.5e38, its
 * square below 1.2e77, so a double sum over any slab that fits in memory
 * (< 2^64 terms, < 2.2e96) cannot overflow and tiny values cannot underflow
 * to a wrong zero: the norm is finite exactly when every element is finite.
 *
 * Clip policies (threshold C = clip_gradients; C < 0 means off and the solver
 * never calls them):
 *   global_norm     Caffe's clip_gradients: when the global L2 norm exceeds C,
 *                   every gradient is scaled by C / norm.
 *   per_param_norm  each parameter blob whose L2 norm exceeds C is scaled by
 *                   C / its norm.
 * Below the threshold gradients are left untouched (bit-identical). Scaling is
 * done in double so a tiny factor (huge norm) does not lose precision. */
#ifndef CLIFF_CLIP_H
#define CLIFF_CLIP_H

#include <stddef.h>

#include "proto/error.h"
#include "layers/net/net.h"

/* Sum of squares of x[0..n) in double. Infinite or NaN iff some x[i] is. */
double cliff_sumsq(const float *x, size_t n);

/* Per-blob norms of a slab laid out by params (offset/count), into
 * param_norms[nparams]; returns the global norm (sqrt of the summed squares).
 * *first_bad (may be NULL) gets the index of the first blob holding a NaN or
 * inf, or -1. */
double cliff_slab_norms(const float *slab, const CliffNetParam *params, int nparams,
                        double *param_norms, int *first_bad);

/* x[0..n) *= scale, computed as (float)((double)x * scale). */
void cliff_scale_floats(float *x, size_t n, double scale);

typedef struct CliffClipPolicy {
    const char *name;
    /* Decides the factor of every parameter blob from the norms just computed,
     * without touching the gradients: param_scale[i] (1.0 = untouched) for
     * threshold >= 0. Returns the smallest factor, 1.0 when nothing is scaled.
     * The solver applies the factors inside its fused decay/update pass. */
    double (*scales)(const double *param_norms, int nparams, double global_norm,
                     double threshold, double *param_scale);
} CliffClipPolicy;

/* Decides and applies a policy on its own: every blob is scaled by its factor
 * with cliff_scale_floats, and blobs with factor 1.0 are not touched at all
 * (bit-identical). param_scale: nparams doubles of scratch. Returns the
 * smallest factor. */
double cliff_clip_apply(const CliffClipPolicy *c, float *grad, const CliffNetParam *params,
                        int nparams, const double *param_norms, double global_norm,
                        double threshold, double *param_scale);

/* NULL name means "global_norm". NULL when unknown (see cliff_clip_policy_names). */
const CliffClipPolicy *cliff_clip_policy_find(const char *name);
size_t cliff_clip_policy_count(void);
const CliffClipPolicy *cliff_clip_policy_at(size_t i);
const char *cliff_clip_policy_names(char *buf, size_t len);

#endif
