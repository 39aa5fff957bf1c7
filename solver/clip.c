/* Gradient norms and the clip policy table (see clip.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clip.h"
#include "slab_blocks.h"

/* Four independent double accumulators: the sum vectorizes and does not wait
 * on one long chain of dependent additions. Why it is finite exactly when
 * every x[i] is: clip.h. */
double cliff_sumsq(const float *x, size_t n)
{
    double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        double v0 = x[i], v1 = x[i + 1], v2 = x[i + 2], v3 = x[i + 3];
        a0 += v0 * v0;
        a1 += v1 * v1;
        a2 += v2 * v2;
        a3 += v3 * v3;
    }
    for (; i < n; i++) a0 += (double)x[i] * x[i];
    return (a0 + a1) + (a2 + a3);
}

typedef struct NormJob {
    const float *slab;
    double *sums; /* per blob, summed block by block in slab order */
} NormJob;

static void norm_block(void *arg, CliffSlabBlock *b)
{
    const NormJob *j = arg;
    b->result = cliff_sumsq(j->slab + b->off, b->n);
}

static void norm_done(void *arg, const CliffSlabBlock *b, int nb)
{
    const NormJob *j = arg;
    for (int k = 0; k < nb; k++) j->sums[b[k].param] += b[k].result;
}

/* The blocks' sums are added per blob in block order on the calling thread
 * (into param_norms, then rooted): the same bits whatever the thread count; a
 * blob of one block sums as it did serially. */
double cliff_slab_norms(const float *slab, const CliffNetParam *params, int nparams,
                        double *param_norms, int *first_bad)
{
    double total = 0.0;
    if (first_bad) *first_bad = -1;
    for (int i = 0; i < nparams; i++) param_norms[i] = 0.0;
    NormJob j = {slab, param_norms};
    cliff_slab_pass(params, nparams, norm_block, norm_done, &j);
    for (int i = 0; i < nparams; i++) {
        const double s = param_norms[i];
        if (!isfinite(s) && first_bad && *first_bad < 0) *first_bad = i;
        param_norms[i] = sqrt(s);
        total += s;
    }
    return sqrt(total);
}

static double clip_global(const double *param_norms, int nparams, double global_norm,
                          double threshold, double *clip_factor)
{
    (void)param_norms;
    double factor = global_norm > threshold ? threshold / global_norm : 1.0;
    for (int i = 0; i < nparams; i++) clip_factor[i] = factor;
    return factor;
}

static double clip_per_param(const double *param_norms, int nparams, double global_norm,
                             double threshold, double *clip_factor)
{
    (void)global_norm;
    double smallest = 1.0;
    for (int i = 0; i < nparams; i++) {
        clip_factor[i] = param_norms[i] > threshold ? threshold / param_norms[i] : 1.0;
        if (clip_factor[i] < smallest) smallest = clip_factor[i];
    }
    return smallest;
}

static const CliffClipPolicy policies[] = {
    {"global_norm", clip_global},
    {"per_param_norm", clip_per_param},
};

const CliffNameTable cliff_clip_policy_table = CLIFF_NAME_TABLE(policies, CliffClipPolicy, name);

const CliffClipPolicy *cliff_clip_policy_find(const char *name)
{
    return cliff_names_find(&cliff_clip_policy_table, name ? name : "global_norm");
}
