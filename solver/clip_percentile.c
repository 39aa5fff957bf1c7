/* percentile: AutoClip (Seetharaman et al. 2020, "AutoClip: Adaptive Gradient
 * Clipping for Source Separation Networks"). Every step's global norm joins a
 * history; the threshold is the p-th percentile (clip_param.percentile,
 * default 10) of the history, this step's norm included, and a global norm
 * above it is scaled down to it, as global_norm does.
 *
 * Bounded memory: the history is a ring of the last `history` norms (default
 * 4096; "all norms so far" up to that many steps, a sliding window after).
 * The percentile is exact over the window: order statistics of a sorted copy
 * (scratch, kept in step with the ring by one binary-search insert and one
 * removal per step, O(history) moves), interpolated linearly between ranks as
 * numpy's default: rank = p/100 * (n - 1).
 *
 * Warm-up: during the first `warmup` steps the norm is recorded but this
 * policy does not clip; clip_gradients >= 0 then clips at C meanwhile, and
 * after the warm-up caps the threshold at C.
 *
 * State (doubles): [0] norms seen so far, [1 + k] ring slot k; the newest
 * norm is at slot (seen - 1) % history. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clip.h"

typedef struct Sorted {
    size_t n;
    double v[]; /* history values, ascending */
} Sorted;

static int setup(CliffClip *c, const char **field, size_t *index, CliffError *err)
{
    (void)index;
    if (c->cp->percentile > 100) {
        *field = "percentile";
        return cliff_error_set(err, "percentile must be <= 100 (got %g)",
                               (double)c->cp->percentile);
    }
    const size_t h = (size_t)c->cp->history;
    c->nstate = 1 + h;
    c->scratch = calloc(1, sizeof(Sorted) + (h + 1) * sizeof(double));
    return c->scratch ? 0 : cliff_error_set(err, "out of memory");
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* First index whose value is >= x (values ascending). */
static size_t lower_bound(const Sorted *s, double x)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The sorted copy of the ring's filled slots (after a restore). */
static void rebuild(CliffClip *c)
{
    Sorted *s = c->scratch;
    const size_t h = (size_t)c->cp->history, seen = (size_t)c->state[0];
    s->n = seen < h ? seen : h;
    memcpy(s->v, c->state + 1, s->n * sizeof *s->v);
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    c->scratch_stale = 0;
}

/* Linear interpolation between the order statistics around rank p/100*(n-1). */
static double percentile_of(const Sorted *s, double p)
{
    const double rank = p / 100.0 * (double)(s->n - 1);
    const size_t lo = (size_t)rank, hi = lo + 1 < s->n ? lo + 1 : lo;
    return s->v[lo] + (rank - (double)lo) * (s->v[hi] - s->v[lo]);
}

static void decide(CliffClip *c, const CliffClipStep *st, double *blob_factor,
                   CliffClipReport *r)
{
    if (c->scratch_stale) rebuild(c);
    Sorted *s = c->scratch;
    const size_t h = (size_t)c->cp->history, seen = (size_t)c->state[0];
    const double x = st->global_norm;
    double *slot = c->state + 1 + seen % h;
    if (seen >= h) { /* the oldest leaves the window */
        const size_t k = lower_bound(s, *slot);
        memmove(s->v + k, s->v + k + 1, (s->n - k - 1) * sizeof *s->v);
        s->n--;
    }
    const size_t k = lower_bound(s, x);
    memmove(s->v + k + 1, s->v + k, (s->n - k) * sizeof *s->v);
    s->v[k] = x;
    s->n++;
    *slot = x;
    c->state[0] = (double)(seen + 1);

    double t = c->threshold >= 0 ? c->threshold : NAN;
    r->warmup = seen < (size_t)c->cp->warmup;
    if (!r->warmup) {
        const double p = percentile_of(s, c->cp->percentile);
        if (!(t <= p)) t = p; /* the smaller of the two; p alone without C */
    }
    r->threshold = t;
    if (!(x > t)) return; /* NaN t: no threshold yet */
    const double f = t / x;
    for (int i = 0; i < st->net->nparams; i++) blob_factor[i] = f;
    r->scale = f;
    r->clipped = 1;
}

static int state_check(const CliffClip *c, const double *v, CliffError *err)
{
    const size_t h = (size_t)c->cp->history;
    if (v[0] < 0 || v[0] != floor(v[0]) || v[0] > 0x1p53)
        return cliff_error_set(err, "percentile clip state: %g norms seen is not a count", v[0]);
    const size_t n = v[0] < (double)h ? (size_t)v[0] : h;
    for (size_t k = 0; k < n; k++)
        if (v[1 + k] < 0)
            return cliff_error_set(err, "percentile clip state: norm %zu is negative (%g)", k,
                                   v[1 + k]);
    return 0;
}

const CliffClipPolicy cliff_clip_percentile = {
    .name = "percentile", .unit = "gradient", .setup = setup, .decide = decide,
    .state_check = state_check,
};
