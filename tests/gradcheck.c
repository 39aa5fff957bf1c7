/* The layer gradient checker; see gradcheck.h for the method. */
#include "gradcheck.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/filler.h"
#include "proto/textformat.h"

typedef struct Harness {
    Cliff__LayerParameter *param;
    CliffLayer layer;
    CliffTensor bottom_store[GRAD_MAX_BOTTOMS], top_store[GRAD_MAX_BOTTOMS];
    CliffTensor *bottom[GRAD_MAX_BOTTOMS], *top[GRAD_MAX_BOTTOMS];
    int nb, nt;
    float *weights[GRAD_MAX_BOTTOMS]; /* objective weights, one array per top */
    CliffRng rng, rng_at_forward;     /* forward restarts from the same RNG state */
    int64_t *state;                   /* the layer's state at the first checked forward */
    size_t nstate;
    int set_up;
} Harness;

int grad_fail(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return -1;
}

static void fill_bottom(CliffTensor *t, const GradBottom *b, CliffRng *rng)
{
    if (b->values) {
        memcpy(t->data, b->values, t->count * sizeof(float));
        return;
    }
    for (size_t i = 0; i < t->count; i++) {
        float v;
        switch (b->fill) {
        case FILL_UNIFORM: v = cliff_rng_uniform(rng, b->a, b->b); break;
        case FILL_LABELS: v = (float)cliff_rng_below(rng, (uint64_t)b->a); break;
        case FILL_POSITIVE: v = cliff_rng_uniform(rng, 0.5f, 2.0f); break;
        case FILL_BINARY: v = (float)cliff_rng_bernoulli(rng, 0.5f); break;
        case FILL_CONSTANT: v = b->a; break;
        default: v = cliff_rng_gaussian(rng, 0, 1); break;
        }
        t->data[i] = v;
    }
}

static void harness_free(Harness *h)
{
    if (h->set_up && h->layer.ops && h->layer.ops->destroy) h->layer.ops->destroy(&h->layer);
    for (int i = 0; i < h->layer.nparams; i++) cliff_tensor_free(&h->layer.params[i]);
    for (int i = 0; i < GRAD_MAX_BOTTOMS; i++) {
        cliff_tensor_free(&h->bottom_store[i]);
        cliff_tensor_free(&h->top_store[i]);
        free(h->weights[i]);
    }
    free(h->state);
    if (h->param) protobuf_c_message_free_unpacked(&h->param->base, NULL);
}

static int harness_build(Harness *h, const GradCase *c, char *why, size_t len)
{
    CliffError err;
    memset(h, 0, sizeof *h);
    if (c->before) c->before();
    h->param = (Cliff__LayerParameter *)cliff_text_parse(
        &cliff__layer_parameter__descriptor, c->name, c->layer, strlen(c->layer), NULL, &err);
    if (!h->param) return grad_fail(why, len, "layer text: %s", err.msg);
    const CliffLayerOps *ops = cliff_layer_find(h->param->type ? h->param->type : "");
    if (!ops) return grad_fail(why, len, "unknown layer type '%s'", h->param->type);
    cliff_rng_seed(&h->rng, 1701);
    h->nb = c->nbottom;
    h->nt = c->ntop;
    for (int i = 0; i < GRAD_MAX_BOTTOMS; i++) {
        cliff_tensor_init(&h->bottom_store[i]);
        cliff_tensor_init(&h->top_store[i]);
        h->bottom[i] = &h->bottom_store[i];
        h->top[i] = &h->top_store[i];
    }
    for (int i = 0; i < h->nb; i++) {
        if (cliff_tensor_reshape(h->bottom[i], c->bottom[i].num_axes, c->bottom[i].shape, &err))
            return grad_fail(why, len, "bottom %d: %s", i, err.msg);
        fill_bottom(h->bottom[i], &c->bottom[i], &h->rng);
    }
    CliffLayer *l = &h->layer;
    l->ops = ops;
    l->param = h->param;
    l->name = h->param->name ? h->param->name : c->name;
    l->phase = c->phase ? CLIFF__PHASE__TEST : CLIFF__PHASE__TRAIN;
    l->rng = &h->rng;
    if (ops->setup(l, h->bottom, h->nb, h->top, h->nt, &err))
        return grad_fail(why, len, "setup: %s", err.msg);
    h->set_up = 1;
    for (int i = 0; i < l->nparams; i++) {
        CliffParamDecl *d = &l->decl[i];
        cliff_tensor_init(&l->params[i]);
        if (cliff_tensor_reshape(&l->params[i], d->num_axes, d->shape, &err) ||
            cliff_filler_fill(d->filler, d->default_value, l->params[i].data, d->num_axes,
                              d->shape, &h->rng, &err))
            return grad_fail(why, len, "param %d: %s", i, err.msg);
        l->param_need_grad[i] = d->learnable;
    }
    if (ops->reshape && ops->reshape(l, h->bottom, h->nb, h->top, h->nt, &err))
        return grad_fail(why, len, "reshape: %s", err.msg);
    /* The case's labels and indices are valid: the data check must accept them. */
    if (ops->check_bottoms && ops->check_bottoms(l, h->bottom, h->nb, &err))
        return grad_fail(why, len, "check_bottoms: %s", err.msg);
    for (int t = 0; t < h->nt; t++) {
        h->weights[t] = malloc((h->top[t]->count + 1) * sizeof(float));
        for (size_t j = 0; j < h->top[t]->count; j++)
            h->weights[t][j] = cliff_rng_gaussian(&h->rng, 0, 1);
    }
    for (int i = 0; i < c->warm_forwards; i++)
        ops->forward(l, h->bottom, h->nb, h->top, h->nt);
    if (ops->state_size && ops->state_save && ops->state_load &&
        (h->nstate = ops->state_size(l)) > 0) {
        h->state = malloc(h->nstate * sizeof *h->state);
        if (!h->state) return grad_fail(why, len, "out of memory");
        ops->state_save(l, h->state);
    }
    h->rng_at_forward = h->rng;
    return 0;
}

/* Forward from a fixed RNG state and layer state; returns
 * sum_t sum_j w[t][j] * top[t][j]. */
static double objective(Harness *h)
{
    h->rng = h->rng_at_forward;
    if (h->state) {
        CliffError err;
        if (h->layer.ops->state_load(&h->layer, h->state, h->nstate, &err)) return NAN;
    }
    h->layer.ops->forward(&h->layer, h->bottom, h->nb, h->top, h->nt);
    double L = 0;
    for (int t = 0; t < h->nt; t++)
        for (size_t j = 0; j < h->top[t]->count; j++)
            L += (double)h->weights[t][j] * h->top[t]->data[j];
    return L;
}

static void backward(Harness *h, const GradCase *c)
{
    int prop[GRAD_MAX_BOTTOMS];
    for (int i = 0; i < h->nb; i++) {
        prop[i] = !(c->bottom[i].no_propagate || c->bottom[i].fill == FILL_LABELS);
        /* Bottom gradients must be overwritten, not accumulated: start from garbage. */
        for (size_t j = 0; j < h->bottom[i]->count; j++) h->bottom[i]->diff[j] = 1e30f;
    }
    for (int t = 0; t < h->nt; t++)
        memcpy(h->top[t]->diff, h->weights[t], h->top[t]->count * sizeof(float));
    h->layer.ops->backward(&h->layer, h->top, h->nt, prop, h->bottom, h->nb);
}

/* L at *x + d (d rounded to float: the step actually taken is returned in *taken). */
static double objective_at(Harness *h, float *x, float saved, double d, double *taken)
{
    *x = saved + (float)d;
    *taken = (double)*x - saved;
    double L = objective(h);
    *x = saved;
    return L;
}

/* Central difference on *x over the float steps actually taken; returns 1 when
 * the case has kinks and x is at one.
 * Kink test: the one-sided differences disagree by c(h) = right - left. A smooth
 * objective gives c(h) = h L'' + O(h^3), so c(h) - 2 c(h/2) = O(h^3): nothing
 * (curvature alone is not a kink). A slope change D at distance d < h from x
 * gives c(h) = D (1 - d/h) and c(h/2) = D (1 - 2d/h) (0 for d > h/2), so the
 * same expression is D (3d/h - 1) or D (1 - d/h): flagged, except within
 * ~tol h / (3 D) of d = h/3. */
static int numeric(Harness *h, const GradCase *c, float *x, double step, double tol,
                   double *num)
{
    const float saved = *x;
    double h1, h2, q1, q2;
    double Lp = objective_at(h, x, saved, step, &h1);
    double Lm = objective_at(h, x, saved, -step, &h2);
    *num = (Lp - Lm) / (h1 - h2);
    if (!c->kinks) {
        objective(h);
        return 0;
    }
    double Lp2 = objective_at(h, x, saved, step / 2, &q1);
    double Lm2 = objective_at(h, x, saved, -step / 2, &q2);
    double L0 = objective(h);
    double right = (Lp - L0) / h1, left = (L0 - Lm) / -h2;
    double c1 = right - left, c2 = (Lp2 - L0) / q1 - (L0 - Lm2) / -q2;
    return fabs(c1 - 2 * c2) > tol * fmax(1.0, fmax(fabs(right), fabs(left)));
}

static int check_blob(Harness *h, const char *what, float *data, const float *analytic,
                      size_t count, const GradCase *c, GradStats *st, char *why, size_t len)
{
    double step = c->step > 0 ? c->step : GRAD_STEP, tol = c->tol > 0 ? c->tol : GRAD_TOL;
    size_t max_checks = c->max_checks > 0 ? (size_t)c->max_checks : 400;
    size_t stride = count > max_checks ? count / max_checks : 1;
    size_t checked = 0, kinks = 0;
    for (size_t j = 0; j < count; j += stride) {
        double num;
        checked++;
        if (numeric(h, c, &data[j], step, tol, &num)) {
            kinks++;
            continue;
        }
        double a = analytic[j];
        if (!(fabs(a - num) <= tol * fmax(1.0, fmax(fabs(a), fabs(num)))))
            return grad_fail(why, len, "%s[%zu]: analytic %.7g, numeric %.7g (tol %g)", what, j, a,
                         num, tol);
    }
    st->checked += checked - kinks;
    st->skipped += kinks;
    if (checked && kinks * 2 > checked)
        return grad_fail(why, len, "%s: %zu of %zu points at kinks; choose other inputs", what,
                     kinks, checked);
    return 0;
}

int gradcheck_run(const GradCase *c, GradStats *stats, char *why, size_t len)
{
    GradStats local;
    GradStats *st = stats ? stats : &local;
    st->checked = st->skipped = 0;
    if (c->tol > GRAD_TOL && !(c->loose && c->loose[0]))
        return grad_fail(why, len, "tol %g is looser than %g without a reason (GradCase.loose)",
                     c->tol, GRAD_TOL);
    Harness h;
    int rc = harness_build(&h, c, why, len);
    if (rc) goto done;
    CliffLayer *l = &h.layer;
    objective(&h);
    if (c->check_forward &&
        c->check_forward(l, h.bottom, h.nb, h.top, h.nt, why, len)) {
        rc = -1;
        goto done;
    }
    if (c->forward_only) goto done;
    if (!l->ops->backward) {
        rc = grad_fail(why, len, "layer has no backward; mark the case forward_only");
        goto done;
    }
    /* Analytic gradients, and the contract: a second backward doubles parameter
     * gradients and leaves bottom gradients as they were. */
    float *grad_b[GRAD_MAX_BOTTOMS] = {0}, *grad_p[CLIFF_MAX_PARAMS] = {0};
    for (int p = 0; p < l->nparams; p++) memset(l->params[p].diff, 0, l->params[p].count * 4);
    backward(&h, c);
    for (int i = 0; i < h.nb; i++) {
        grad_b[i] = malloc(h.bottom[i]->count * sizeof(float) + 1);
        memcpy(grad_b[i], h.bottom[i]->diff, h.bottom[i]->count * sizeof(float));
    }
    for (int p = 0; p < l->nparams; p++) {
        grad_p[p] = malloc(l->params[p].count * sizeof(float) + 1);
        memcpy(grad_p[p], l->params[p].diff, l->params[p].count * sizeof(float));
    }
    backward(&h, c);
    for (int i = 0; i < h.nb && !rc; i++) {
        if (c->bottom[i].no_propagate || c->bottom[i].fill == FILL_LABELS) continue;
        for (size_t j = 0; j < h.bottom[i]->count; j++)
            if (h.bottom[i]->diff[j] != grad_b[i][j]) {
                rc = grad_fail(why, len, "bottom %d diff[%zu] changed on a second backward "
                           "(%.6g then %.6g): bottom gradients must overwrite", i, j,
                           grad_b[i][j], h.bottom[i]->diff[j]);
                break;
            }
    }
    for (int p = 0; p < l->nparams && !rc; p++) {
        if (!l->param_need_grad[p]) continue;
        for (size_t j = 0; j < l->params[p].count; j++)
            if (fabsf(l->params[p].diff[j] - 2 * grad_p[p][j]) >
                1e-5f * fmaxf(1.0f, fabsf(grad_p[p][j]))) {
                rc = grad_fail(why, len, "param %d diff[%zu]: %.6g after two backwards, %.6g after "
                           "one: parameter gradients must accumulate", p, j,
                           l->params[p].diff[j], grad_p[p][j]);
                break;
            }
    }
    char what[64];
    for (int i = 0; i < h.nb && !rc; i++) {
        if (c->bottom[i].no_propagate || c->bottom[i].fill == FILL_LABELS) continue;
        snprintf(what, sizeof what, "bottom %d", i);
        rc = check_blob(&h, what, h.bottom[i]->data, grad_b[i], h.bottom[i]->count, c, st,
                        why, len);
    }
    for (int p = 0; p < l->nparams && !rc; p++) {
        if (!l->param_need_grad[p]) continue;
        snprintf(what, sizeof what, "param %d", p);
        rc = check_blob(&h, what, l->params[p].data, grad_p[p], l->params[p].count, c, st,
                        why, len);
    }
    for (int i = 0; i < GRAD_MAX_BOTTOMS; i++) free(grad_b[i]);
    for (int p = 0; p < CLIFF_MAX_PARAMS; p++) free(grad_p[p]);
done:
    harness_free(&h);
    return rc;
}
