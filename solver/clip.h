/* Gradient norms and clip policies (one table row each).
 *
 * Norms accumulate squares in double, and the sum cannot overflow: a finite
 * float is at most FLT_MAX < 3.41e38, its square below 1.16e77, and a double
 * holds up to DBL_MAX > 1.79e308, so a sum of n such squares stays finite for
 * any n below 1.5e231 (about 2^767); a slab that fits in memory (n < 2^64)
 * sums to below 2.2e96. Nor does a small value vanish: a float's square
 * (48 significant bits) is exact in double, and the smallest float denormal
 * squared (~2e-90) is far above double's smallest normal (~2.2e-308). So the
 * norm is finite exactly when every element is finite (inf squares to inf,
 * NaN stays NaN, and a sum of non-negative terms never forms inf - inf).
 *
 * Clip policies (threshold C = clip_gradients, read once at load into the
 * solver's clip_threshold; C < 0 means off and the solver never calls them)
 * decide a clip factor per parameter blob:
 *   global_norm     Caffe's clip_gradients: when the global L2 norm exceeds C,
 *                   every blob's factor is C / norm.
 *   per_param_norm  each parameter blob whose L2 norm exceeds C gets the
 *                   factor C / its norm.
 * At or below the threshold the factor is exactly 1.0. The policies only
 * decide; the solver applies the factors in its scale-and-decay pass
 * (cliff_scale_and_decay, update.h), where a factor of 1 leaves the gradient
 * bit-identical and a tiny factor is applied in double. */
#ifndef CLIFF_CLIP_H
#define CLIFF_CLIP_H

#include <stddef.h>

#include "proto/error.h"
#include "proto/names.h"
#include "layers/net/net.h"

/* Sum of squares of x[0..n) in double. Infinite or NaN iff some x[i] is. */
double cliff_sumsq(const float *x, size_t n);

/* Per-blob norms of a slab laid out by params (offset/count), into
 * param_norms[nparams] (required); returns the global norm (sqrt of the
 * summed squares). Runs over the fork-join in blocks (slab_blocks.h); a blob's
 * sum is its blocks' sums added in order, the same bits on any thread count.
 * *first_bad (may be NULL) gets the index of the first blob holding a NaN or
 * inf, or -1. */
double cliff_slab_norms(const float *slab, const CliffNetParam *params, int nparams,
                        double *param_norms, int *first_bad);

typedef struct CliffClipPolicy {
    const char *name;
    /* Decides the clip factor of every parameter blob from the norms just
     * computed, without touching the gradients: clip_factor[i] in (0, 1], 1.0
     * = untouched, for threshold >= 0. Returns the smallest factor, 1.0 when
     * nothing is clipped. */
    double (*factors)(const double *param_norms, int nparams, double global_norm,
                      double threshold, double *clip_factor);
} CliffClipPolicy;

/* The policies by name (proto/names.h). find: NULL name means "global_norm";
 * NULL when unknown. */
extern const CliffNameTable cliff_clip_policy_table;
const CliffClipPolicy *cliff_clip_policy_find(const char *name);

#endif
