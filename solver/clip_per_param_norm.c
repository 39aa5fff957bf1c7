/* per_param_norm: each parameter blob whose L2 norm exceeds C is scaled by
 * C / its norm; the others are left as they are. */
#include "clip.h"

static void decide(CliffClip *c, const CliffClipStep *st, double *blob_factor,
                   CliffClipReport *r)
{
    const double C = c->threshold;
    r->threshold = C;
    r->units = st->net->nparams;
    for (int i = 0; i < st->net->nparams; i++) {
        if (!(st->param_norms[i] > C)) continue;
        blob_factor[i] = C / st->param_norms[i];
        r->clipped++;
        if (blob_factor[i] < r->scale) r->scale = blob_factor[i];
    }
}

const CliffClipPolicy cliff_clip_per_param_norm = {
    .name = "per_param_norm", .unit = "blob", .needs_threshold = 1, .decide = decide,
};
