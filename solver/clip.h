/* Gradient norms and the clip policies (one file each: clip_<name>.c).
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
 * A clip policy works in the solver's step in three phases, in this order:
 *   1. norms    the solver measures the per-blob and global L2 norms of the
 *               gradients (after iter_size normalization, after any
 *               all-reduce) and skips the step when they are not finite;
 *   2. decide   the policy reads the norms, the gradients, the weights and the
 *               current lr, updates its state, and fills one factor per blob
 *               (1.0 = untouched) and a report; it writes no gradient;
 *   3. apply    the solver's fused scale-and-decay pass (update.h) applies the
 *               blob factors; a policy acting per row or per element also gets
 *               an `apply` call on every chunk of every blob, just before,
 *               only on steps where its decide clipped something.
 * At or below its threshold a policy leaves the gradient bit-identical.
 *
 * State. A policy instance (CliffClip) owns a flat array of doubles, its whole
 * persistent state (history of norms, EMAs, counters): everything a resumed run
 * needs to continue bit for bit. Its size is fixed at create. Contract for the
 * snapshot writer and the in-memory rollback ring:
 *   cliff_clip_state_size(c)      number of doubles (0: stateless)
 *   cliff_clip_state(c)           the array, to copy out (memcpy is a save)
 *   cliff_clip_state_restore(c, v, n, err)
 *                                 copies n doubles back in after checking them
 *                                 (size, finiteness, the policy's own ranges);
 *                                 on error nothing changes.
 * Anything else a policy keeps (row factors, a sorted copy) is scratch,
 * rebuilt from the state. */
#ifndef CLIFF_CLIP_H
#define CLIFF_CLIP_H

#include <stddef.h>

#include "cliff.pb-c.h"
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

/* What a policy sees at one step (phase 2). The gradients are finite. */
typedef struct CliffClipStep {
    const CliffNet *net;       /* params (offset, count, tensor, lr_mult, layer),
                                  param_slab (weights), grad_slab (gradients) */
    const double *param_norms; /* [nparams] L2 norms of the gradients */
    double global_norm;
    double lr;                 /* the lr policy's rate of this step (before lr_mult) */
    int iter;
} CliffClipStep;

/* What it did (the display line and the metrics row). */
typedef struct CliffClipReport {
    double scale;     /* smallest factor applied to any unit; 1 when none clipped */
    double threshold; /* the threshold in force (a norm, or an element bound);
                         NaN when none (warming up without clip_gradients) */
    double clipped;   /* units clipped this step (rows, elements, blobs, or 1
                         for the whole gradient) */
    double units;     /* units looked at */
    int warmup;       /* 1 while the policy is still gathering statistics */
} CliffClipReport;

typedef struct CliffClip CliffClip;

typedef struct CliffClipPolicy {
    const char *name;
    /* "auto": the row it stands for (one place to change the recommendation),
     * the C it clips at when clip_gradients is not set (< 0), and the
     * recovery it brings when the solver names none (see cliff_clip_resolve). */
    const struct CliffClipPolicy *alias;
    double auto_threshold;
    const char *auto_recovery;
    const char *unit;    /* what CliffClipReport.clipped counts: "gradient"
                            (the whole), "blob", "unit" (a row), "element" */
    int needs_threshold; /* uses clip_gradients as its C */
    /* Checks the policy's clip_param fields against the net and sets
     * c->nstate (doubles of persistent state, zeroed by the caller after) and
     * c->scratch (malloc'd, freed with c). May be NULL. -1 with err and
     * *field / *index naming the clip_param field at fault (NULL: the solver's
     * clip_policy). */
    int (*setup)(CliffClip *c, const char **field, size_t *index, CliffError *err);
    /* Phase 2: blob_factor[nparams] (the caller fills them with 1.0 first). */
    void (*decide)(CliffClip *c, const CliffClipStep *st, double *blob_factor,
                   CliffClipReport *r);
    /* Phase 3, per row or element policies: g[0..n) are elements
     * [start, start + n) of blob `param`. Called on any thread, chunk by chunk;
     * reads only what decide left in c. NULL for blob-factor policies. */
    void (*apply)(const CliffClip *c, int param, size_t start, float *g, size_t n);
    /* Checks a state about to be restored (sizes and finiteness are checked
     * already); may be NULL. */
    int (*state_check)(const CliffClip *c, const double *v, CliffError *err);
} CliffClipPolicy;

/* A policy instance. Policies read cp, net, threshold; own state and scratch. */
struct CliffClip {
    const CliffClipPolicy *policy;      /* resolved (never the "auto" row) */
    const Cliff__GradClipParameter *cp; /* clip_param, or the defaults */
    const CliffNet *net;
    double threshold;  /* clip_gradients: C (< 0: not set) */
    double *state;     /* nstate persistent doubles */
    size_t nstate;
    void *scratch;     /* the policy's, rebuilt from state when scratch_stale */
    int scratch_stale; /* set by restore */
    int applying;      /* the last decide left work for apply */
    int is_auto;       /* made for clip_policy "auto" (the display says so) */
    CliffClipReport last;
};

/* The policies by name (proto/names.h), "auto" included. find: NULL name
 * means "global_norm"; NULL when unknown. */
extern const CliffNameTable cliff_clip_policy_table;
const CliffClipPolicy *cliff_clip_policy_find(const char *name);

extern const CliffClipPolicy cliff_clip_global_norm, cliff_clip_per_param_norm, cliff_clip_value,
    cliff_clip_adaptive, cliff_clip_percentile, cliff_clip_zscore, cliff_clip_lr_adjusted;

/* What sp's clip_policy, clip_gradients and recovery come to. For every
 * policy but "auto" that is what sp says. "auto" becomes its row's policy,
 * clip_gradients when >= 0 else the row's C, and the row's recovery unless sp
 * sets recovery itself (any value, "skip" included). `asked` is the
 * clip_policy as given; NULL policy: an unknown name. */
typedef struct CliffClipResolved {
    const CliffClipPolicy *policy;
    const char *asked;
    double threshold;
    const char *recovery;
    int is_auto;
} CliffClipResolved;
CliffClipResolved cliff_clip_resolve(const Cliff__SolverParameter *sp);

/* The instance for sp's clip_policy, clip_gradients and clip_param on the
 * train net (which must outlive it). *out = NULL when clipping is off
 * (global_norm or per_param_norm with clip_gradients < 0, as in Caffe).
 * Errors are positioned through map (clip_policy, clip_param.<field>). */
int cliff_clip_create(const Cliff__SolverParameter *sp, const CliffNet *net,
                      const CliffSrcMap *map, CliffClip **out, CliffError *err);
void cliff_clip_free(CliffClip *c);

/* Phase 2 (see above): fills blob_factor[nparams] and c->last; returns the
 * smallest factor applied to any unit (1.0: nothing clipped). */
double cliff_clip_decide(CliffClip *c, const CliffClipStep *st, double *blob_factor);
/* Phase 3's per-element part; a no-op unless the last decide asked for it. */
static inline void cliff_clip_apply(const CliffClip *c, int param, size_t start, float *g,
                                    size_t n)
{
    if (c && c->applying) c->policy->apply(c, param, start, g, n);
}

/* The state contract (see above). */
size_t cliff_clip_state_size(const CliffClip *c);
const double *cliff_clip_state(const CliffClip *c);
int cliff_clip_state_restore(CliffClip *c, const double *v, size_t n, CliffError *err);
/* The checks of restore alone (nothing changes): for a caller that must check
 * everything before it commits anything. */
int cliff_clip_state_check(const CliffClip *c, const double *v, size_t n, CliffError *err);

/* "clip zscore: scale 0.62, threshold 3.1 ..." of the last decide into buf. */
const char *cliff_clip_describe(const CliffClip *c, char *buf, size_t len);

#endif
