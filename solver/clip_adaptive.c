/* adaptive: unit-wise adaptive gradient clipping (AGC, Brock et al. 2021,
 * "High-Performance Large-Scale Image Recognition Without Normalization").
 * A unit is one output row of a weight blob (axis 0: a conv filter, an inner
 * product's output neuron; its fan-in is the rest), or a whole blob of fewer
 * than two axes (a bias), as the paper's code does. For each unit with
 * gradient G_i and weights W_i:
 *     if ||G_i|| > lambda * max(||W_i||, eps):
 *         G_i <- G_i * lambda * max(||W_i||, eps) / ||G_i||
 * so no step moves a unit by more than lambda * lr of its own size (before
 * momentum). Layers named in clip_param.exclude, and with exclude_last the
 * last layer that has parameters (the classifier, which the paper leaves
 * unclipped), are left alone. Norms are in double; the factors are applied in
 * double, so a tiny one keeps its precision. Stateless. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clip.h"

typedef struct Blob {
    size_t units;  /* 0: excluded */
    size_t len;    /* elements per unit */
    size_t first;  /* index of its first unit in factor[] */
} Blob;

typedef struct Agc {
    size_t nunits;
    double *factor; /* per unit: this step's factor */
    Blob blob[];    /* per parameter blob */
} Agc;

static const char *layer_name(const CliffNet *net, int layer)
{
    return net->layers && layer >= 0 && layer < net->nlayers ? net->layers[layer].layer.name : "";
}

/* Blob i's units: 0 when its layer is excluded (or it is empty). */
static size_t units_of(const CliffClip *c, int i, int last)
{
    const CliffNetParam *p = &c->net->params[i];
    const Cliff__GradClipParameter *cp = c->cp;
    int skip = (cp->exclude_last && p->layer == last) || !p->count;
    for (size_t k = 0; k < cp->n_exclude && !skip; k++)
        skip = !strcmp(layer_name(c->net, p->layer), cp->exclude[k]);
    const int rows = p->tensor && p->tensor->num_axes >= 2 ? p->tensor->shape[0] : 1;
    return skip || rows <= 0 ? 0 : (size_t)rows;
}

static int setup(CliffClip *c, const char **field, size_t *index, CliffError *err)
{
    const CliffNet *net = c->net;
    const Cliff__GradClipParameter *cp = c->cp;
    int last = -1;
    for (int i = 0; i < net->nparams; i++)
        if (net->params[i].layer > last) last = net->params[i].layer;
    for (size_t k = 0; k < cp->n_exclude; k++) {
        int found = 0;
        for (int i = 0; i < net->nparams && !found; i++)
            found = !strcmp(layer_name(net, net->params[i].layer), cp->exclude[k]);
        if (!found) {
            *field = "exclude";
            *index = k;
            return cliff_error_set(err, "exclude names '%s', which is no layer with parameters "
                                   "in the train net", cp->exclude[k]);
        }
    }
    /* One block (freed with the instance): the header, the blobs, the factors. */
    size_t nunits = 0;
    for (int i = 0; i < net->nparams; i++) nunits += units_of(c, i, last);
    Agc *a = calloc(1, sizeof *a + (size_t)net->nparams * sizeof(Blob) +
                           (nunits + 1) * sizeof(double));
    if (!a) return cliff_error_set(err, "out of memory");
    c->scratch = a;
    a->factor = (double *)(a->blob + net->nparams);
    for (int i = 0; i < net->nparams; i++) {
        Blob *b = &a->blob[i];
        b->units = units_of(c, i, last);
        b->len = b->units ? net->params[i].count / b->units : 0;
        b->first = a->nunits;
        a->nunits += b->units;
    }
    return 0;
}

static void decide(CliffClip *c, const CliffClipStep *st, double *blob_factor,
                   CliffClipReport *r)
{
    (void)blob_factor;
    Agc *a = c->scratch;
    const CliffNet *net = st->net;
    const double lambda = c->cp->lambda, eps = c->cp->eps;
    r->threshold = lambda;
    r->units = (double)a->nunits;
    for (int i = 0; i < net->nparams; i++) {
        const Blob *b = &a->blob[i];
        const size_t off = net->params[i].offset;
        for (size_t u = 0; u < b->units; u++) {
            const size_t at = off + u * b->len;
            const double gn = sqrt(cliff_sumsq(net->grad_slab + at, b->len));
            const double wn = sqrt(cliff_sumsq(net->param_slab + at, b->len));
            const double most = lambda * (wn > eps ? wn : eps);
            double f = 1.0;
            if (gn > most) {
                f = most / gn;
                r->clipped++;
                if (f < r->scale) r->scale = f;
            }
            a->factor[b->first + u] = f;
        }
    }
    c->applying = r->clipped > 0;
}

static void apply(const CliffClip *c, int param, size_t start, float *g, size_t n)
{
    const Agc *a = c->scratch;
    const Blob *b = &a->blob[param];
    if (!b->units) return;
    for (size_t e = 0; e < n;) {
        /* the rest of the unit that element start + e belongs to */
        const size_t u = (start + e) / b->len, end = (u + 1) * b->len - start;
        const size_t stop = end < n ? end : n;
        const double f = a->factor[b->first + u];
        if (f != 1.0)
            for (; e < stop; e++) g[e] = (float)((double)g[e] * f);
        e = stop;
    }
}

const CliffClipPolicy cliff_clip_adaptive = {
    .name = "adaptive", .unit = "unit", .setup = setup, .decide = decide, .apply = apply,
};
