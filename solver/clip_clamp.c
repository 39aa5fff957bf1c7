/* Element clamping for value and lr_adjusted (see clip_clamp.h). */
#include <math.h>
#include <stdlib.h>

#include "clip_clamp.h"
#include "slab_blocks.h"

int cliff_clamp_setup(CliffClip *c, const char **field, size_t *index, CliffError *err)
{
    (void)field, (void)index;
    c->scratch = calloc((size_t)c->net->nparams + 1, sizeof(float));
    return c->scratch ? 0 : cliff_error_set(err, "out of memory");
}

typedef struct CountJob {
    const float *g, *bound;
    size_t count;  /* elements beyond their bound */
    double scale;  /* smallest bound / |g| among them */
} CountJob;

/* Per block (one blob's, at most CLIFF_SLAB_BLOCK elements): flag = the
 * elements beyond the blob's bound, result = the largest |g| among them. */
static void count_block(void *arg, CliffSlabBlock *b)
{
    const CountJob *j = arg;
    const float B = j->bound[b->param];
    const float *g = j->g + b->off;
    int n = 0;
    float big = 0.0f;
    for (size_t e = 0; e < b->n; e++) {
        const float a = fabsf(g[e]);
        if (a > B) {
            n++;
            if (a > big) big = a;
        }
    }
    b->flag = n;
    b->result = big;
}

static void count_done(void *arg, const CliffSlabBlock *b, int nb)
{
    CountJob *j = arg;
    for (int k = 0; k < nb; k++) {
        if (!b[k].flag) continue;
        j->count += (size_t)b[k].flag;
        const double f = (double)j->bound[b[k].param] / b[k].result;
        if (f < j->scale) j->scale = f;
    }
}

void cliff_clamp_decide(CliffClip *c, const CliffClipStep *st, double threshold,
                        CliffClipReport *r)
{
    CountJob j = {st->net->grad_slab, c->scratch, 0, 1.0};
    cliff_slab_pass(st->net->params, st->net->nparams, count_block, count_done, &j);
    r->threshold = threshold;
    r->units = (double)st->net->param_count;
    r->clipped = (double)j.count;
    r->scale = j.scale;
    c->applying = j.count > 0;
}

void cliff_clamp_apply(const CliffClip *c, int param, size_t start, float *g, size_t n)
{
    (void)start;
    const float B = ((const float *)c->scratch)[param];
    for (size_t e = 0; e < n; e++) g[e] = fminf(fmaxf(g[e], -B), B);
}
