/* Element clamping shared by the value and lr_adjusted policies: blob i's
 * gradient elements are clamped to [-bound[i], bound[i]] (bound inf: left as
 * they are). The bounds live in the instance's scratch (float[nparams]). */
#ifndef CLIFF_CLIP_CLAMP_H
#define CLIFF_CLIP_CLAMP_H

#include "clip.h"

/* setup: scratch for nparams bounds; the policy keeps no state. */
int cliff_clamp_setup(CliffClip *c, const char **field, size_t *index, CliffError *err);
/* decide, once the policy has written its bounds into the scratch: counts
 * the elements beyond their bound (the fork-join over the slab, exact
 * integer counts), reports them and the smallest factor bound / |g|, and asks
 * for apply when some element is beyond. threshold: what the report shows. */
void cliff_clamp_decide(CliffClip *c, const CliffClipStep *st, double threshold,
                        CliffClipReport *r);
void cliff_clamp_apply(const CliffClip *c, int param, size_t start, float *g, size_t n);

#endif
