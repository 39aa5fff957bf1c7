/* zscore: ZClip (Kumar et al. 2025, "ZClip: Adaptive Spike Mitigation for LLM
 * Pre-Training"), in the paper's reciprocal ("adaptive scaling") form. The
 * global norm x is compared with exponential moving averages of its mean mu
 * and variance var (decay alpha, default 0.97); with sigma = sqrt(var),
 *     z = (x - mu) / sigma,
 * and a norm with z > z_thresh (default 2.5), i.e. above mu + z_thresh * sigma,
 * is scaled down to
 *     x* = mu + z_thresh^2 * sigma / z     (= mu + z_thresh * sigma / (z / z_thresh)),
 * which equals mu + z_thresh * sigma at the threshold and comes down towards mu
 * as the spike grows (the larger the outlier, the harder the clip). With sigma
 * 0, any x above mu is brought to mu (never to 0: with mu 0 nothing is
 * clipped). The statistics then take in the norm as applied (x* when clipped,
 * else x):
 *     mu  <- alpha * mu + (1 - alpha) * x_applied
 *     var <- alpha * var + (1 - alpha) * (x_applied - mu)^2    (the new mu)
 * Warm-up: the first `warmup` norms (default 25) only gather statistics; mu
 * and var start as their mean and population variance (Welford's running
 * form). clip_gradients >= 0 clips at C during the warm-up and caps x* at C
 * after it, as ZClip's max_grad_norm does.
 *
 * State (doubles): [0] norms seen, [1] mu, [2] var; during the warm-up [2]
 * holds the running sum of squared deviations (Welford's M2) instead. */
#include <math.h>

#include "clip.h"

static int setup(CliffClip *c, const char **field, size_t *index, CliffError *err)
{
    (void)index;
    if (!(c->cp->alpha < 1)) {
        *field = "alpha";
        return cliff_error_set(err, "alpha must be < 1 (got %g): the statistics would never "
                               "move", (double)c->cp->alpha);
    }
    c->nstate = 3;
    return 0;
}

static void decide(CliffClip *c, const CliffClipStep *st, double *blob_factor,
                   CliffClipReport *r)
{
    double *seen = &c->state[0], *mu = &c->state[1], *var = &c->state[2];
    const double x = st->global_norm, a = c->cp->alpha, zt = c->cp->z_thresh;
    const double C = c->threshold;
    double target = x; /* the norm after clipping */
    if (*seen < c->cp->warmup) { /* Welford; at the last warm-up norm M2 becomes var */
        *seen += 1;
        const double d = x - *mu;
        *mu += d / *seen;
        *var += d * (x - *mu);
        if (*seen >= c->cp->warmup) *var /= *seen;
        r->warmup = 1;
        r->threshold = C >= 0 ? C : NAN;
    } else {
        /* z > z_thresh  <=>  x > level; z_thresh^2 sigma / z = z_thresh^2 var / (x - mu) */
        const double level = *mu + zt * sqrt(*var);
        if (x > level) target = *mu + zt * zt * *var / (x - *mu);
        if (!(target > 0)) target = x; /* a zero mean and variance never zero a gradient */
        r->threshold = C >= 0 && C < level ? C : level;
    }
    if (C >= 0 && target > C) target = C;
    if (!r->warmup) {
        *seen += 1;
        *mu = a * *mu + (1 - a) * target;
        *var = a * *var + (1 - a) * (target - *mu) * (target - *mu);
    }
    if (!(target < x)) return;
    const double f = target / x;
    for (int i = 0; i < st->net->nparams; i++) blob_factor[i] = f;
    r->scale = f;
    r->clipped = 1;
}

static int state_check(const CliffClip *c, const double *v, CliffError *err)
{
    (void)c;
    if (v[0] < 0 || v[0] != floor(v[0]) || v[1] < 0 || v[2] < 0)
        return cliff_error_set(err, "zscore clip state (seen %g, mean %g, variance %g) is not "
                               "a count and non-negative moments", v[0], v[1], v[2]);
    return 0;
}

const CliffClipPolicy cliff_clip_zscore = {
    .name = "zscore", .unit = "gradient", .setup = setup, .decide = decide,
    .state_check = state_check,
};
