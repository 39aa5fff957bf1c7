/* value: every gradient element is clamped to [-C, C] (C = clip_gradients),
 * as PyTorch's clip_grad_value_ does. */
#include "clip_clamp.h"

static void decide(CliffClip *c, const CliffClipStep *st, double *blob_factor,
                   CliffClipReport *r)
{
    (void)blob_factor;
    float *bound = c->scratch;
    for (int i = 0; i < st->net->nparams; i++) bound[i] = (float)c->threshold;
    cliff_clamp_decide(c, st, c->threshold, r);
}

const CliffClipPolicy cliff_clip_value = {
    .name = "value", .unit = "element", .needs_threshold = 1, .setup = cliff_clamp_setup,
    .decide = decide, .apply = cliff_clamp_apply,
};
