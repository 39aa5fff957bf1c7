/* global_norm, Caffe's clip_gradients: when the global L2 norm of all the
 * gradients exceeds C, every blob is scaled by C / norm (so the clipped norm
 * is C); at or below C nothing changes. */
#include "clip.h"

static void decide(CliffClip *c, const CliffClipStep *st, double *blob_factor,
                   CliffClipReport *r)
{
    const double C = c->threshold;
    r->threshold = C;
    if (!(st->global_norm > C)) return;
    const double f = C / st->global_norm;
    for (int i = 0; i < st->net->nparams; i++) blob_factor[i] = f;
    r->scale = f;
    r->clipped = 1;
}

const CliffClipPolicy cliff_clip_global_norm = {
    .name = "global_norm", .unit = "gradient", .needs_threshold = 1, .decide = decide,
};
