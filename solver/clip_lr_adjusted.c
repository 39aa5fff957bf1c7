/* lr_adjusted (Kim et al. 2016, VDSR; Caffe issue #4671): every gradient
 * element is clamped to [-C/lr, C/lr], lr the blob's rate at this step (the lr
 * policy's rate times its lr_mult), so that lr * g, the plain SGD step of an
 * element, stays within [-C, C] however large the learning rate. A blob whose
 * rate is 0 is not updated and not clamped. */
#include <math.h>

#include "clip_clamp.h"

static void decide(CliffClip *c, const CliffClipStep *st, double *blob_factor,
                   CliffClipReport *r)
{
    (void)blob_factor;
    float *bound = c->scratch;
    for (int i = 0; i < st->net->nparams; i++) {
        const double rate = st->lr * st->net->params[i].lr_mult;
        bound[i] = rate > 0 ? (float)(c->threshold / rate) : INFINITY;
    }
    /* the report shows the bound at the base rate (lr_mult 1) */
    cliff_clamp_decide(c, st, st->lr > 0 ? c->threshold / st->lr : INFINITY, r);
}

const CliffClipPolicy cliff_clip_lr_adjusted = {
    .name = "lr_adjusted", .unit = "element", .needs_threshold = 1,
    .setup = cliff_clamp_setup, .decide = decide, .apply = cliff_clamp_apply,
};
