/* A clip policy on a hand-made net (parameter table and slabs only), stepped
 * the way the solver's step does it (step.c): norms, decide, then per blob the
 * policy's apply and cliff_scale_and_decay with no weight decay. */
#ifndef CLIFF_CLIP_FIXTURE_H
#define CLIFF_CLIP_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "solver/clip.h"
#include "solver/update.h"

#define FX_MAX_PARAMS 8

typedef struct FxClip {
    CliffNet net;
    CliffNetLayer layers[FX_MAX_PARAMS];
    Cliff__SolverParameter sp;
    Cliff__GradClipParameter cp;
    CliffClip *clip;
    double norms[FX_MAX_PARAMS], factor[FX_MAX_PARAMS];
    CliffError err;
} FxClip;

/* params (nparams <= FX_MAX_PARAMS) over slabs w and g of total floats; cp
 * may be NULL (defaults); layer names (may be NULL: unnamed) index by
 * params[i].layer. Returns 0 or -1 with fx->err. */
static inline int fx_clip_open_layers(FxClip *fx, const char *policy, double C,
                                      CliffNetParam *params, int nparams, float *w, float *g,
                                      size_t total, const Cliff__GradClipParameter *cp,
                                      const char *const *layer_names, int nlayers)
{
    memset(fx, 0, sizeof *fx);
    cliff__solver_parameter__init(&fx->sp);
    fx->sp.clip_policy = (char *)policy;
    fx->sp.clip_gradients = (float)C;
    if (cp) {
        fx->cp = *cp;
        fx->sp.clip_param = &fx->cp;
    }
    fx->net.nparams = nparams;
    fx->net.params = params;
    fx->net.param_slab = w;
    fx->net.grad_slab = g;
    fx->net.param_count = total;
    if (layer_names) {
        for (int l = 0; l < nlayers && l < FX_MAX_PARAMS; l++)
            fx->layers[l].layer.name = layer_names[l];
        fx->net.layers = fx->layers;
        fx->net.nlayers = nlayers;
    }
    return cliff_clip_create(&fx->sp, &fx->net, NULL, &fx->clip, &fx->err);
}

static inline int fx_clip_open(FxClip *fx, const char *policy, double C, CliffNetParam *params,
                               int nparams, float *w, float *g, size_t total,
                               const Cliff__GradClipParameter *cp)
{
    return fx_clip_open_layers(fx, policy, C, params, nparams, w, g, total, cp, NULL, 0);
}

/* One step's clipping at lr; returns the smallest factor. */
static inline double fx_clip_step(FxClip *fx, double lr, int iter)
{
    const CliffNet *net = &fx->net;
    double norm = cliff_slab_norms(net->grad_slab, net->params, net->nparams, fx->norms, NULL);
    CliffClipStep st = {net, fx->norms, norm, lr, iter};
    double smallest = cliff_clip_decide(fx->clip, &st, fx->factor);
    for (int i = 0; i < net->nparams; i++) {
        const CliffNetParam *p = &net->params[i];
        float *g = net->grad_slab + p->offset;
        /* two chunks, as the solver may cut a blob */
        size_t half = p->count / 2;
        cliff_clip_apply(fx->clip, i, 0, g, half);
        cliff_clip_apply(fx->clip, i, half, g + half, p->count - half);
        cliff_scale_and_decay(CLIFF_REG_L2, p->count, fx->factor[i], 0.0f,
                              net->param_slab + p->offset, g);
    }
    return smallest;
}

static inline void fx_clip_close(FxClip *fx)
{
    cliff_clip_free(fx->clip);
    fx->clip = NULL;
}

#endif
