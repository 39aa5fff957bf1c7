/* Gradient norms, the clip policy table and the instance around a policy
 * (see clip.h); the policies are in clip_<name>.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/bounds.h"
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

/* The recommended setting: what `clip_policy: "auto"` means (README, "Clip
 * policies"; the robustness study in bench/study/ is the evidence): the
 * global norm clipped at 1 with recovery rollback. */
static const CliffClipPolicy clip_auto = {.name = "auto",
                                          .alias = &cliff_clip_global_norm,
                                          .auto_threshold = 1.0,
                                          .auto_recovery = "rollback"};

static const CliffClipPolicy *const policies[] = {
    &cliff_clip_global_norm, &cliff_clip_per_param_norm, &cliff_clip_value,
    &cliff_clip_adaptive,    &cliff_clip_percentile,     &cliff_clip_zscore,
    &cliff_clip_lr_adjusted, &clip_auto,
};

const CliffNameTable cliff_clip_policy_table =
    CLIFF_NAME_TABLE_PTRS(policies, CliffClipPolicy, name);

const CliffClipPolicy *cliff_clip_policy_find(const char *name)
{
    return cliff_names_find(&cliff_clip_policy_table, name ? name : "global_norm");
}

CliffClipResolved cliff_clip_resolve(const Cliff__SolverParameter *sp)
{
    CliffClipResolved r = {cliff_clip_policy_find(sp->clip_policy), NULL, sp->clip_gradients,
                           sp->recovery ? sp->recovery : "skip", 0};
    if (!r.policy) return r;
    r.asked = r.policy->name;
    if (r.policy->alias) {
        r.is_auto = 1;
        if (r.threshold < 0) r.threshold = r.policy->auto_threshold;
        /* The generated default's pointer: the solver did not name one. */
        if (r.policy->auto_recovery &&
            (!sp->recovery || sp->recovery == cliff__solver_parameter__recovery__default_value))
            r.recovery = r.policy->auto_recovery;
        r.policy = r.policy->alias;
    }
    return r;
}

static const Cliff__GradClipParameter default_param = CLIFF__GRAD_CLIP_PARAMETER__INIT;

/* Bounds every policy's fields must keep (each policy checks its own ranges
 * beyond these: percentile <= 100, alpha < 1). */
static const CliffFieldBound param_bounds[] = {
    {"lambda", 0, 1, 1},  {"eps", 0, 0, 1},   {"percentile", 0, 0, 1}, {"history", 1, 0, 0},
    {"warmup", 0, 0, 0},  {"alpha", 0, 0, 1}, {"z_thresh", 0, 1, 1},
};

int cliff_clip_create(const Cliff__SolverParameter *sp, const CliffNet *net,
                      const CliffSrcMap *map, CliffClip **out, CliffError *err)
{
    *out = NULL;
    const CliffClipResolved res = cliff_clip_resolve(sp);
    const CliffClipPolicy *p = res.policy;
    if (!p) {
        cliff_error_unknown_name(err, "clip_policy", sp->clip_policy, &cliff_clip_policy_table);
        return cliff_error_at_field(err, map, &sp->base, "clip_policy", 0, "solver");
    }
    const char *asked = res.asked;
    const double C = res.threshold;
    if (p->needs_threshold && C < 0) {
        /* Caffe's meaning of a negative clip_gradients: no clipping. */
        if (p == &cliff_clip_global_norm || p == &cliff_clip_per_param_norm) return 0;
        cliff_error_set(err, "clip_policy '%s'%s%s%s clips at clip_gradients, which is not "
                        "set (%g): give clip_gradients >= 0", asked, p->name != asked ? " (" : "",
                        p->name != asked ? p->name : "", p->name != asked ? ")" : "", C);
        return cliff_error_at_field(err, map, &sp->base, "clip_policy", 0, "solver");
    }
    const Cliff__GradClipParameter *cp = sp->clip_param ? sp->clip_param : &default_param;
    const char *field = NULL;
    size_t index = 0;
    if (cliff_bounds_check(&cp->base, param_bounds, sizeof param_bounds / sizeof *param_bounds,
                           &field, &index, err))
        goto positioned;
    CliffClip *c = calloc(1, sizeof *c);
    if (!c) return cliff_error_set(err, "out of memory");
    c->policy = p;
    c->cp = cp;
    c->net = net;
    c->threshold = C;
    c->is_auto = res.is_auto;
    c->last.scale = 1.0;
    c->last.threshold = NAN;
    if (p->setup && p->setup(c, &field, &index, err)) {
        cliff_clip_free(c);
        goto positioned;
    }
    c->state = calloc(c->nstate + 1, sizeof *c->state);
    if (!c->state) {
        cliff_clip_free(c);
        return cliff_error_set(err, "out of memory");
    }
    *out = c;
    return 0;
positioned:
    cliff_error_prefix(err, "clip_policy '%s': ", p->name);
    if (!field) return cliff_error_at_field(err, map, &sp->base, "clip_policy", 0, "solver");
    if (!sp->clip_param) return cliff_error_at_field(err, map, &sp->base, "clip_policy", 0, "solver");
    return cliff_error_at_field(err, map, &cp->base, field, index, "solver");
}

void cliff_clip_free(CliffClip *c)
{
    if (!c) return;
    free(c->state);
    free(c->scratch);
    free(c);
}

double cliff_clip_decide(CliffClip *c, const CliffClipStep *st, double *blob_factor)
{
    for (int i = 0; i < st->net->nparams; i++) blob_factor[i] = 1.0;
    CliffClipReport r = {1.0, NAN, 0, 1, 0};
    c->applying = 0;
    c->policy->decide(c, st, blob_factor, &r);
    c->last = r;
    return r.scale;
}

size_t cliff_clip_state_size(const CliffClip *c) { return c ? c->nstate : 0; }
const double *cliff_clip_state(const CliffClip *c) { return c ? c->state : NULL; }

int cliff_clip_state_check(const CliffClip *c, const double *v, size_t n, CliffError *err)
{
    if (!c || n != c->nstate)
        return cliff_error_set(err, "clip policy state has %zu values, clip_policy '%s' with "
                               "these clip_param settings keeps %zu", n,
                               c ? c->policy->name : "(off)", c ? c->nstate : (size_t)0);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return cliff_error_set(err, "clip policy state value %zu is not finite", i);
    return c->policy->state_check ? c->policy->state_check(c, v, err) : 0;
}

int cliff_clip_state_restore(CliffClip *c, const double *v, size_t n, CliffError *err)
{
    if (cliff_clip_state_check(c, v, n, err)) return -1;
    if (n) memcpy(c->state, v, n * sizeof *v);
    c->scratch_stale = 1;
    return 0;
}

const char *cliff_clip_describe(const CliffClip *c, char *buf, size_t len)
{
    const CliffClipReport *r = &c->last;
    int k = snprintf(buf, len, "clip %s%s: scale %.4g", c->policy->name,
                     c->is_auto ? " (auto)" : "", r->scale);
    if (k >= 0 && (size_t)k < len && !isnan(r->threshold))
        k += snprintf(buf + k, len - (size_t)k, ", threshold %.4g", r->threshold);
    if (k >= 0 && (size_t)k < len && strcmp(c->policy->unit, "gradient"))
        k += snprintf(buf + k, len - (size_t)k, ", %.0f of %.0f %ss clipped (%.3g%%)",
                      r->clipped, r->units, c->policy->unit,
                      r->units > 0 ? 100.0 * r->clipped / r->units : 0.0);
    if (k >= 0 && (size_t)k < len && r->warmup)
        snprintf(buf + k, len - (size_t)k, " (warming up)");
    return buf;
}
