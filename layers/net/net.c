/* Building and running a Net (see net.h for the contract).
 *
 * Build happens in three passes over the included layers:
 *   plan    resolve types, bottoms and tops by name (in-place, dangling
 *           bottoms, multiple producers), count the consumers of every top and
 *           insert Split layers where a top feeds several bottoms;
 *   setup   create blobs, set up and reshape each layer, declare parameters;
 *   params  allocate the parameter and gradient slabs, point views into them
 *           (shared parameters into their owner's region), run fillers, then
 *           decide which layers and bottoms need backward. */
#include "net.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/desc_walk.h"
#include "layers/filler.h"
#include "layers/kernels/clock.h"

/* One layer of the plan: the LayerParameter plus the blob names it reads and
 * writes after split renaming. */
typedef struct PlanLayer {
    const Cliff__LayerParameter *lp;
    const CliffLayerOps *ops;
    int is_split;
    int split_top; /* for splits: index of the split top in its producer */
    int nb, nt;
    char **bottom; /* owned strings */
    char **top;
    float *loss_weight;
} PlanLayer;

typedef struct Plan {
    PlanLayer *layers;
    int n, cap;
} Plan;

static char *xstrdup(const char *s) { return strdup(s ? s : ""); }

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    return s;
}

static void plan_free(Plan *p)
{
    for (int i = 0; i < p->n; i++) {
        PlanLayer *pl = &p->layers[i];
        for (int j = 0; j < pl->nb; j++) free(pl->bottom[j]);
        for (int j = 0; j < pl->nt; j++) free(pl->top[j]);
        free(pl->bottom);
        free(pl->top);
        free(pl->loss_weight);
    }
    free(p->layers);
}

static PlanLayer *plan_push(Plan *p)
{
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 32;
        PlanLayer *grown = realloc(p->layers, (size_t)cap * sizeof *grown);
        if (!grown) return NULL;
        p->layers = grown;
        p->cap = cap;
    }
    PlanLayer *pl = &p->layers[p->n++];
    memset(pl, 0, sizeof *pl);
    return pl;
}

/* "net.prototxt:12:1: error: layer 'conv1' (Convolution): " */
static int layer_error(CliffError *err, const CliffSrcMap *map, const Cliff__LayerParameter *lp)
{
    CliffSrcPos pos;
    const char *name = lp && lp->name ? lp->name : "";
    const char *type = lp && lp->type ? lp->type : "?";
    if (lp && cliff_srcmap_find(map, lp, &pos) == 0)
        return cliff_error_prefix(err, "%s:%d:%d: error: layer '%s' (%s): ", pos.file, pos.line,
                                  pos.col, name, type);
    return cliff_error_prefix(err, "error: layer '%s' (%s): ", name, type);
}

/* Merged NetState: phase, then the net's own state, then extra. */
typedef struct State {
    Cliff__NetState st;
    char **stages;
} State;

static int state_merge(State *s, int phase, const Cliff__NetState *own,
                       const Cliff__NetState *extra)
{
    cliff__net_state__init(&s->st);
    s->st.phase = phase;
    s->st.has_phase = 1;
    size_t n = (own ? own->n_stage : 0) + (extra ? extra->n_stage : 0);
    s->stages = calloc(n + 1, sizeof *s->stages);
    if (!s->stages) return -1;
    const Cliff__NetState *srcs[2] = {own, extra};
    for (int k = 0; k < 2; k++) {
        const Cliff__NetState *src = srcs[k];
        if (!src) continue;
        if (src->has_phase) s->st.phase = src->phase;
        if (src->has_level) s->st.level = src->level;
        for (size_t i = 0; i < src->n_stage; i++) s->stages[s->st.n_stage++] = src->stage[i];
    }
    s->st.stage = s->stages;
    return 0;
}

/* Looks up the (plan layer, top) that last produced blob `name`. */
typedef struct Producer {
    const char *name;
    int layer, top;
} Producer;

static int find_producer(const Producer *prod, int n, const char *name)
{
    for (int i = n; i-- > 0;)
        if (strcmp(prod[i].name, name) == 0) return i;
    return -1;
}

/* 0 when n lies in [min, max] (max CLIFF_ANY: no bound); else -1 with
 * "needs exactly 2 bottom blobs, got 1" and the like. */
static int count_error(CliffError *err, const char *what, int n, int min, int max)
{
    if (n >= min && (max == CLIFF_ANY || n <= max)) return 0;
    if (min == max)
        return cliff_error_set(err, "needs exactly %d %s blob%s, got %d", min, what,
                               min == 1 ? "" : "s", n);
    if (max == CLIFF_ANY)
        return cliff_error_set(err, "needs at least %d %s blobs, got %d", min, what, n);
    return cliff_error_set(err, "needs %d to %d %s blobs, got %d", min, max, what, n);
}

/* Pass 1: the plan. */
static int make_plan(Plan *plan, const Cliff__NetParameter *param, const Cliff__NetState *state,
                     const CliffSrcMap *map, CliffError *err)
{
    int nl = (int)param->n_layer;
    /* One producer per top of any layer; consumers[k]: bottoms reading producer k. */
    size_t ntops = 0;
    for (int i = 0; i < nl; i++) ntops += param->layer[i]->n_top;
    Producer *prod = calloc(ntops + 1, sizeof *prod);
    int nprod = 0;
    int *consumers = calloc(ntops + 1, sizeof *consumers);
    /* For every included layer's bottom j: the producer it reads. */
    int **reads = calloc((size_t)nl + 1, sizeof *reads);
    int *first_prod = calloc((size_t)nl + 1, sizeof *first_prod);
    int rc = -1;
    if (!prod || !consumers || !reads || !first_prod) {
        cliff_error_set(err, "out of memory");
        goto out;
    }
    for (int i = 0; i < nl; i++) {
        const Cliff__LayerParameter *lp = param->layer[i];
        first_prod[i] = -1;
        if (lp->n_include && lp->n_exclude) {
            cliff_error_set(err, "specify either include or exclude rules, not both");
            layer_error(err, map, lp);
            goto out;
        }
        if (!cliff_net_layer_included(state, lp)) continue;
        const CliffLayerOps *ops = cliff_layer_find(lp->type ? lp->type : "");
        if (!ops) {
            char known[4096];
            const char *type = lp->type ? lp->type : "";
            const char *names[256];
            size_t nnames = 0;
            for (size_t t = 0; t < cliff_layer_count() && nnames < 256; t++)
                names[nnames++] = cliff_layer_at(t)->type;
            const char *near = cliff_did_you_mean(type, strlen(type), names, nnames);
            cliff_error_set(err, "unknown layer type '%s'%s%s%s (known types: %s)", type,
                            near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "",
                            cliff_layer_list(known, sizeof known));
            layer_error(err, map, lp);
            goto out;
        }
        int nb = (int)lp->n_bottom, nt = (int)lp->n_top;
        if (count_error(err, "bottom", nb, ops->min_bottoms, ops->max_bottoms) ||
            count_error(err, "top", nt, ops->min_tops, ops->max_tops)) {
            layer_error(err, map, lp);
            goto out;
        }
        if (lp->n_loss_weight && (int)lp->n_loss_weight != nt) {
            cliff_error_set(err, "has %zu loss_weight values for %d top blobs",
                            lp->n_loss_weight, nt);
            layer_error(err, map, lp);
            goto out;
        }
        if (lp->n_propagate_down && (int)lp->n_propagate_down != nb) {
            cliff_error_set(err, "has %zu propagate_down values for %d bottom blobs",
                            lp->n_propagate_down, nb);
            layer_error(err, map, lp);
            goto out;
        }
        reads[i] = calloc((size_t)nb + 1, sizeof **reads);
        if (!reads[i]) {
            cliff_error_set(err, "out of memory");
            goto out;
        }
        for (int j = 0; j < nb; j++) {
            int k = find_producer(prod, nprod, lp->bottom[j]);
            if (k < 0) {
                const char **names = calloc((size_t)nprod + 1, sizeof *names);
                const char *near = NULL;
                if (names) {
                    for (int q = 0; q < nprod; q++) names[q] = prod[q].name;
                    near = cliff_did_you_mean(lp->bottom[j], strlen(lp->bottom[j]), names,
                                              (size_t)nprod);
                }
                const char *later = NULL; /* a layer below that writes it */
                for (int q = i + 1; q < nl && !later; q++)
                    if (cliff_net_layer_included(state, param->layer[q]))
                        for (size_t t = 0; t < param->layer[q]->n_top && !later; t++)
                            if (strcmp(param->layer[q]->top[t], lp->bottom[j]) == 0)
                                later = param->layer[q]->name ? param->layer[q]->name : "";
                if (later)
                    cliff_error_set(err, "unknown bottom blob '%s' (only the later layer '%s' "
                                    "produces it; layers run in file order)", lp->bottom[j],
                                    later);
                else
                    cliff_error_set(err, "unknown bottom blob '%s' (no earlier layer produces "
                                    "it%s%s%s)", lp->bottom[j], near ? "; did you mean '" : "",
                                    near ? near : "", near ? "'?" : "");
                free(names);
                layer_error(err, map, lp);
                goto out;
            }
            reads[i][j] = k;
            consumers[k]++;
        }
        first_prod[i] = nprod;
        for (int j = 0; j < nt; j++) {
            int k = find_producer(prod, nprod, lp->top[j]);
            int in_place = j < nb && strcmp(lp->bottom[j], lp->top[j]) == 0;
            if (k >= 0 && !in_place) {
                cliff_error_set(err, "top blob '%s' is already produced by layer '%s' "
                                "(in-place use needs the same name as bottom %d)",
                                lp->top[j], param->layer[prod[k].layer]->name, j);
                layer_error(err, map, lp);
                goto out;
            }
            if (in_place && !ops->allow_in_place) {
                cliff_error_set(err, "cannot compute in place (top '%s' is its bottom)",
                                lp->top[j]);
                layer_error(err, map, lp);
                goto out;
            }
            prod[nprod++] = (Producer){lp->top[j], i, j};
        }
    }
    /* Emit layers, renaming bottoms that read a split blob and adding a Split
     * after every top with more than one consumer (or a consumer and a loss). */
    int *next_split = calloc((size_t)nprod + 1, sizeof *next_split);
    if (!next_split) {
        cliff_error_set(err, "out of memory");
        goto out;
    }
    for (int i = 0; i < nl; i++) {
        if (first_prod[i] < 0 && !reads[i]) continue;
        const Cliff__LayerParameter *lp = param->layer[i];
        const CliffLayerOps *ops = cliff_layer_find(lp->type);
        PlanLayer *pl = plan_push(plan);
        if (!pl) break;
        int pl_index = plan->n - 1;
        pl->lp = lp;
        pl->ops = ops;
        pl->nb = (int)lp->n_bottom;
        pl->nt = (int)lp->n_top;
        pl->bottom = calloc((size_t)pl->nb + 1, sizeof *pl->bottom);
        pl->top = calloc((size_t)pl->nt + 1, sizeof *pl->top);
        pl->loss_weight = calloc((size_t)pl->nt + 1, sizeof *pl->loss_weight);
        for (int j = 0; j < pl->nb; j++) {
            int k = reads[i][j];
            Producer *p = &prod[k];
            int lw_extra = 0;
            const Cliff__LayerParameter *plp = param->layer[p->layer];
            if (plp->n_loss_weight ? plp->loss_weight[p->top] != 0
                                   : (p->top == 0 && cliff_layer_find(plp->type)->is_loss))
                lw_extra = 1;
            if (consumers[k] + lw_extra > 1)
                pl->bottom[j] = xprintf("%s_%s_%d_split_%d", p->name, plp->name ? plp->name : "",
                                        p->top, next_split[k]++);
            else
                pl->bottom[j] = xstrdup(lp->bottom[j]);
        }
        for (int j = 0; j < pl->nt; j++) {
            pl->top[j] = xstrdup(lp->top[j]);
            pl->loss_weight[j] = lp->n_loss_weight ? lp->loss_weight[j]
                                                   : (j == 0 && ops->is_loss ? 1.0f : 0.0f);
        }
        /* Splits for this layer's tops. */
        for (int j = 0; j < (int)lp->n_top; j++) {
            int k = first_prod[i] + j;
            int lw_extra = plan->layers[pl_index].loss_weight[j] != 0;
            int count = consumers[k] + lw_extra;
            if (count <= 1) continue;
            PlanLayer *sp = plan_push(plan);
            if (!sp) break;
            PlanLayer *owner = &plan->layers[pl_index];
            sp->lp = lp;
            sp->is_split = 1;
            sp->split_top = j;
            sp->ops = cliff_layer_find("Split");
            sp->nb = 1;
            sp->nt = count;
            sp->bottom = calloc(2, sizeof *sp->bottom);
            sp->top = calloc((size_t)count + 1, sizeof *sp->top);
            sp->loss_weight = calloc((size_t)count + 1, sizeof *sp->loss_weight);
            sp->bottom[0] = xstrdup(lp->top[j]);
            for (int t = 0; t < count; t++)
                sp->top[t] = xprintf("%s_%s_%d_split_%d", lp->top[j], lp->name ? lp->name : "",
                                     j, t);
            if (lw_extra) {
                /* The last split top is the loss output, consumed by nobody. */
                sp->loss_weight[count - 1] = owner->loss_weight[j];
                owner->loss_weight[j] = 0;
            }
        }
    }
    free(next_split);
    rc = 0;
    for (int i = 0; i < plan->n; i++)
        if (plan->layers[i].is_split && !plan->layers[i].ops) {
            rc = cliff_error_set(err, "the Split layer type is not registered");
            break;
        }
out:
    if (reads)
        for (int i = 0; i < nl; i++) free(reads[i]);
    free(reads);
    free(first_prod);
    free(consumers);
    free(prod);
    return rc;
}

static int net_blob(CliffNet *net, const char *name, int create, CliffError *err)
{
    for (int i = net->nblobs; i-- > 0;)
        if (strcmp(net->blob_names[i], name) == 0) return i;
    if (!create) return -1;
    int n = net->nblobs;
    CliffTensor **blobs = realloc(net->blobs, (size_t)(n + 1) * sizeof *blobs);
    if (blobs) net->blobs = blobs;
    char **names = realloc(net->blob_names, (size_t)(n + 1) * sizeof *names);
    if (names) net->blob_names = names;
    if (!blobs || !names) return cliff_error_set(err, "out of memory");
    net->blobs[n] = malloc(sizeof **net->blobs);
    net->blob_names[n] = xstrdup(name);
    if (!net->blobs[n] || !net->blob_names[n]) return cliff_error_set(err, "out of memory");
    cliff_tensor_init(net->blobs[n]);
    net->nblobs = n + 1;
    return n;
}

/* Synthesizes the LayerParameter of an automatic Split (owned by the net). */
static Cliff__LayerParameter *split_param(CliffNet *net, const PlanLayer *pl)
{
    Cliff__LayerParameter *lp = malloc(sizeof *lp);
    Cliff__LayerParameter **owned =
        realloc(net->owned_layer_params, (size_t)(net->nowned + 1) * sizeof *owned);
    if (!lp || !owned) {
        free(lp);
        if (owned) net->owned_layer_params = owned;
        return NULL;
    }
    net->owned_layer_params = owned;
    cliff__layer_parameter__init(lp);
    net->owned_layer_params[net->nowned++] = lp;
    /* Caffe's SplitLayerName: <blob>_<producer>_<top index>_split */
    lp->name = xprintf("%s_%s_%d_split", pl->bottom[0], pl->lp->name ? pl->lp->name : "",
                       pl->split_top);
    lp->type = xstrdup("Split");
    return lp;
}

/* Pass 2: blobs, setup and reshape of every layer. */
static int setup_layers(CliffNet *net, Plan *plan, const CliffSrcMap *map, CliffError *err)
{
    net->layers = calloc((size_t)plan->n + 1, sizeof *net->layers);
    if (!net->layers) return cliff_error_set(err, "out of memory");
    for (int i = 0; i < plan->n; i++) {
        PlanLayer *pl = &plan->layers[i];
        CliffNetLayer *nl = &net->layers[i];
        net->nlayers = i + 1;
        const Cliff__LayerParameter *lp = pl->is_split ? split_param(net, pl) : pl->lp;
        if (!lp) return cliff_error_set(err, "out of memory");
        nl->nb = pl->nb;
        nl->nt = pl->nt;
        nl->is_split = pl->is_split;
        nl->bottom_ids = calloc((size_t)pl->nb + 1, sizeof(int));
        nl->top_ids = calloc((size_t)pl->nt + 1, sizeof(int));
        nl->bottom = calloc((size_t)pl->nb + 1, sizeof(CliffTensor *));
        nl->top = calloc((size_t)pl->nt + 1, sizeof(CliffTensor *));
        nl->propagate_down = calloc((size_t)pl->nb + 1, sizeof(int));
        nl->loss_weight = calloc((size_t)pl->nt + 1, sizeof(float));
        if (!nl->bottom_ids || !nl->top_ids || !nl->bottom || !nl->top || !nl->propagate_down ||
            !nl->loss_weight)
            return cliff_error_set(err, "out of memory");
        for (int j = 0; j < pl->nb; j++) {
            int b = net_blob(net, pl->bottom[j], 0, err);
            if (b < 0) return cliff_error_set(err, "internal: blob '%s' missing", pl->bottom[j]);
            nl->bottom_ids[j] = b;
            nl->bottom[j] = net->blobs[b];
        }
        for (int j = 0; j < pl->nt; j++) {
            int in_place = j < pl->nb && strcmp(pl->bottom[j], pl->top[j]) == 0;
            int t = in_place ? nl->bottom_ids[j] : net_blob(net, pl->top[j], 1, err);
            if (t < 0) return -1;
            nl->top_ids[j] = t;
            nl->top[j] = net->blobs[t];
            nl->loss_weight[j] = pl->loss_weight[j];
        }
        CliffLayer *l = &nl->layer;
        l->ops = pl->ops;
        l->param = lp;
        l->name = lp->name ? lp->name : "";
        l->phase = net->phase;
        l->rng = net->rng;
        if (l->ops->setup && l->ops->setup(l, nl->bottom, nl->nb, nl->top, nl->nt, err))
            return layer_error(err, map, pl->lp);
        if (l->ops->reshape && l->ops->reshape(l, nl->bottom, nl->nb, nl->top, nl->nt, err))
            return layer_error(err, map, pl->lp);
        if ((int)lp->n_param > l->nparams) {
            cliff_error_set(err, "has %zu param specs but only %d parameter blobs", lp->n_param,
                            l->nparams);
            return layer_error(err, map, pl->lp);
        }
    }
    return 0;
}

/* "20x1x5x5" into buf. */
static const char *decl_shape_str(const CliffParamDecl *d, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (int a = 0; a < d->num_axes && used < len; a++)
        used += (size_t)snprintf(buf + used, len - used, a ? "x%d" : "%d", d->shape[a]);
    return buf;
}

/* Pass 3a: parameter slabs, sharing by ParamSpec.name, fillers. */
static int setup_params(CliffNet *net, const CliffSrcMap *map, CliffError *err)
{
    int total = 0;
    for (int i = 0; i < net->nlayers; i++) total += net->layers[i].layer.nparams;
    net->params = calloc((size_t)total + 1, sizeof *net->params);
    /* owner[i][p]: index into net->params of layer i's parameter p. */
    int *owner = calloc((size_t)total + 1, sizeof *owner);
    if (!net->params || !owner) {
        free(owner);
        return cliff_error_set(err, "out of memory");
    }
    int k = 0, rc = -1;
    for (int i = 0; i < net->nlayers; i++) {
        CliffLayer *l = &net->layers[i].layer;
        const Cliff__LayerParameter *lp = l->param;
        for (int p = 0; p < l->nparams; p++, k++) {
            const Cliff__ParamSpec *spec = p < (int)lp->n_param ? lp->param[p] : NULL;
            const CliffParamDecl *d = &l->decl[p];
            float lr = spec && spec->has_lr_mult ? spec->lr_mult : 1.0f;
            float decay = spec && spec->has_decay_mult ? spec->decay_mult : 1.0f;
            if (!d->learnable) lr = decay = 0;
            l->param_need_grad[p] = lr != 0;
            size_t count = 1;
            for (int a = 0; a < d->num_axes; a++) count *= (size_t)d->shape[a];
            const char *pname = spec && spec->name && spec->name[0] ? spec->name : NULL;
            int shared = -1;
            if (pname)
                for (int q = 0; q < net->nparams; q++)
                    if (strcmp(net->params[q].name, pname) == 0) shared = q;
            if (shared >= 0) {
                CliffNetParam *o = &net->params[shared];
                const CliffParamDecl *od = &net->layers[o->layer].layer.decl[o->index];
                int strict = !spec->has_share_mode ||
                             spec->share_mode == CLIFF__PARAM_SPEC__DIM_CHECK_MODE__STRICT;
                int same = od->num_axes == d->num_axes;
                for (int a = 0; same && a < d->num_axes; a++) same = od->shape[a] == d->shape[a];
                if (strict ? !same : o->count != count) {
                    char ours[128], theirs[128];
                    decl_shape_str(d, ours, sizeof ours);
                    decl_shape_str(od, theirs, sizeof theirs);
                    if (strict)
                        cliff_error_set(err, "shared parameter '%s' (blob %d) has shape %s but "
                                        "its owner in layer '%s' has %s%s", pname, p, ours,
                                        net->layers[o->layer].layer.name, theirs,
                                        o->count == count ? " (share_mode: PERMISSIVE needs "
                                                            "only equal counts)" : "");
                    else
                        cliff_error_set(err, "shared parameter '%s' (blob %d) has %zu elements "
                                        "(%s) but its owner in layer '%s' has %zu (%s)", pname,
                                        p, count, ours, net->layers[o->layer].layer.name,
                                        o->count, theirs);
                    layer_error(err, map, lp);
                    goto out;
                }
                if (spec->has_lr_mult && spec->lr_mult != o->lr_mult) {
                    cliff_error_set(err, "shared parameter '%s' has lr_mult %g but its owner "
                                    "has %g", pname, spec->lr_mult, o->lr_mult);
                    layer_error(err, map, lp);
                    goto out;
                }
                owner[k] = shared;
                continue;
            }
            CliffNetParam *np = &net->params[net->nparams];
            np->name = pname ? xstrdup(pname) : xprintf("%s/%d", l->name, p);
            np->layer = i;
            np->index = p;
            np->lr_mult = lr;
            np->decay_mult = decay;
            np->count = count;
            np->offset = net->param_count;
            net->param_count += count;
            owner[k] = net->nparams++;
            if (cliff_filler_validate(d->filler, d->num_axes, d->shape, err)) {
                cliff_error_prefix(err, "parameter %d: ", p);
                layer_error(err, map, lp);
                goto out;
            }
        }
    }
    net->param_slab = calloc(net->param_count + 1, sizeof(float));
    net->grad_slab = calloc(net->param_count + 1, sizeof(float));
    if (!net->param_slab || !net->grad_slab) {
        cliff_error_set(err, "out of memory for %zu parameters", net->param_count);
        goto out;
    }
    k = 0;
    for (int i = 0; i < net->nlayers; i++) {
        CliffLayer *l = &net->layers[i].layer;
        for (int p = 0; p < l->nparams; p++, k++) {
            CliffNetParam *o = &net->params[owner[k]];
            CliffTensor *t = &l->params[p];
            const CliffParamDecl *d = &l->decl[p];
            memset(t, 0, sizeof *t);
            t->num_axes = d->num_axes;
            memcpy(t->shape, d->shape, sizeof d->shape);
            t->count = o->count;
            t->data = net->param_slab + o->offset;
            t->diff = net->grad_slab + o->offset;
            t->owns = 0;
            if (o->layer == i && o->index == p) {
                o->tensor = t;
                if (cliff_filler_fill(d->filler, d->default_value, t->data, d->num_axes,
                                      d->shape, net->rng, err)) {
                    layer_error(err, map, l->param);
                    goto out;
                }
            }
        }
    }
    rc = 0;
out:
    free(owner);
    return rc;
}

/* Pass 3b: which layers and bottoms need backward (Caffe's Net::Init logic). */
static void decide_backward(CliffNet *net, const Cliff__NetParameter *param)
{
    int *blob_need = calloc((size_t)net->nblobs + 1, sizeof *blob_need);
    int *under_loss = calloc((size_t)net->nblobs + 1, sizeof *under_loss);
    int *skip = calloc((size_t)net->nblobs + 1, sizeof *skip);
    if (!blob_need || !under_loss || !skip) goto out;
    for (int i = 0; i < net->nlayers; i++) {
        CliffNetLayer *nl = &net->layers[i];
        const Cliff__LayerParameter *lp = nl->layer.param;
        int need = 0;
        for (int j = 0; j < nl->nb; j++) {
            int b = blob_need[nl->bottom_ids[j]];
            if (!nl->is_split && lp->n_propagate_down) b = lp->propagate_down[j] != 0;
            nl->propagate_down[j] = b;
            need |= b;
        }
        for (int p = 0; p < nl->layer.nparams; p++) need |= nl->layer.param_need_grad[p];
        if (!nl->layer.ops->backward) need = 0;
        nl->need_backward = need;
        for (int j = 0; j < nl->nt; j++) blob_need[nl->top_ids[j]] |= need;
    }
    for (int i = net->nlayers; i-- > 0;) {
        CliffNetLayer *nl = &net->layers[i];
        int contributes = 0, skip_all = 1;
        for (int j = 0; j < nl->nt; j++) {
            if (nl->loss_weight[j] != 0 || under_loss[nl->top_ids[j]]) contributes = 1;
            if (!skip[nl->top_ids[j]]) skip_all = 0;
        }
        if (nl->need_backward && skip_all) {
            nl->need_backward = 0;
            for (int j = 0; j < nl->nb; j++) nl->propagate_down[j] = 0;
        }
        if (!contributes) nl->need_backward = 0;
        for (int j = 0; j < nl->nb; j++) {
            if (contributes)
                under_loss[nl->bottom_ids[j]] = 1;
            else
                nl->propagate_down[j] = 0;
            if (!nl->propagate_down[j]) skip[nl->bottom_ids[j]] = 1;
        }
    }
    if (param->force_backward)
        for (int i = 0; i < net->nlayers; i++) {
            CliffNetLayer *nl = &net->layers[i];
            if (!nl->layer.ops->backward) continue;
            nl->need_backward = 1;
            for (int j = 0; j < nl->nb; j++)
                /* Never to labels (Caffe's AllowForceBackward). */
                if (!(nl->layer.ops->label_bottoms & (1u << j))) nl->propagate_down[j] = 1;
        }
out:
    free(blob_need);
    free(under_loss);
    free(skip);
}

static int find_outputs(CliffNet *net, CliffError *err)
{
    int *consumed = calloc((size_t)net->nblobs + 1, sizeof *consumed);
    net->output_ids = calloc((size_t)net->nblobs + 1, sizeof(int));
    net->output_loss_weight = calloc((size_t)net->nblobs + 1, sizeof(float));
    net->blob_loss_weighted = calloc((size_t)net->nblobs + 1, sizeof(int));
    if (!consumed || !net->output_ids || !net->output_loss_weight || !net->blob_loss_weighted) {
        free(consumed);
        return cliff_error_set(err, "out of memory");
    }
    for (int i = 0; i < net->nlayers; i++) {
        CliffNetLayer *nl = &net->layers[i];
        for (int j = 0; j < nl->nb; j++) consumed[nl->bottom_ids[j]] = 1;
        /* An in-place top is a new version of its blob: it is unconsumed again. */
        for (int j = 0; j < nl->nt; j++) {
            consumed[nl->top_ids[j]] = 0;
            if (nl->loss_weight[j] != 0) net->blob_loss_weighted[nl->top_ids[j]] = 1;
        }
    }
    for (int b = 0; b < net->nblobs; b++)
        if (!consumed[b]) {
            net->output_ids[net->noutputs] = b;
            for (int i = 0; i < net->nlayers; i++)
                for (int j = 0; j < net->layers[i].nt; j++)
                    if (net->layers[i].top_ids[j] == b)
                        net->output_loss_weight[net->noutputs] = net->layers[i].loss_weight[j];
            net->noutputs++;
        }
    free(consumed);
    return 0;
}

CliffNet *cliff_net_build(const Cliff__NetParameter *param, int phase,
                          const Cliff__NetState *extra_state, CliffRng *rng,
                          const CliffSrcMap *map, CliffError *err)
{
    State state;
    Plan plan = {0};
    CliffNet *net = calloc(1, sizeof *net);
    if (!net || state_merge(&state, phase, param->state, extra_state)) {
        free(net);
        cliff_error_set(err, "out of memory");
        return NULL;
    }
    net->name = xstrdup(param->name);
    net->phase = state.st.phase;
    net->rng = rng;
    int rc = make_plan(&plan, param, &state.st, map, err);
    if (!rc) rc = setup_layers(net, &plan, map, err);
    if (!rc) rc = setup_params(net, map, err);
    if (!rc) rc = find_outputs(net, err);
    if (!rc) decide_backward(net, param);
    net->reshape_from = net->nlayers;
    for (int i = net->nlayers; i-- > 0;)
        if (net->layers[i].layer.ops->reshape_every_forward) net->reshape_from = i;
    plan_free(&plan);
    free(state.stages);
    if (rc) {
        cliff_net_free(net);
        return NULL;
    }
    return net;
}

void cliff_net_free(CliffNet *net)
{
    if (!net) return;
    for (int i = 0; i < net->nlayers; i++) {
        CliffNetLayer *nl = &net->layers[i];
        if (nl->layer.ops && nl->layer.ops->destroy) nl->layer.ops->destroy(&nl->layer);
        free(nl->bottom_ids);
        free(nl->top_ids);
        free(nl->bottom);
        free(nl->top);
        free(nl->propagate_down);
        free(nl->loss_weight);
    }
    free(net->layers);
    for (int b = 0; b < net->nblobs; b++) {
        if (net->blobs[b]) cliff_tensor_free(net->blobs[b]);
        free(net->blobs[b]);
        free(net->blob_names[b]);
    }
    free(net->blobs);
    free(net->blob_names);
    free(net->blob_loss_weighted);
    free(net->output_ids);
    free(net->output_loss_weight);
    for (int p = 0; p < net->nparams; p++) free(net->params[p].name);
    free(net->params);
    free(net->param_slab);
    free(net->grad_slab);
    for (int i = 0; i < net->nowned; i++)
        protobuf_c_message_free_unpacked(&net->owned_layer_params[i]->base, NULL);
    free(net->owned_layer_params);
    free(net->name);
    free(net);
}

double cliff_net_forward(CliffNet *net)
{
    double loss = 0;
    for (int i = 0; i < net->nlayers; i++) {
        CliffNetLayer *nl = &net->layers[i];
        if (i >= net->reshape_from && nl->layer.ops->reshape &&
            nl->layer.ops->reshape(&nl->layer, nl->bottom, nl->nb, nl->top, nl->nt,
                                   &net->runtime_error)) {
            cliff_error_prefix(&net->runtime_error, "layer '%s' (%s): ", nl->layer.name,
                               nl->layer.ops->type);
            return NAN;
        }
        double t0 = net->timing ? cliff_clock_seconds() : 0;
        nl->layer.ops->forward(&nl->layer, nl->bottom, nl->nb, nl->top, nl->nt);
        if (net->timing) nl->fwd_seconds += cliff_clock_seconds() - t0;
        for (int j = 0; j < nl->nt; j++) {
            if (nl->loss_weight[j] == 0) continue;
            const CliffTensor *t = nl->top[j];
            double sum = 0;
            for (size_t e = 0; e < t->count; e++) sum += t->data[e];
            loss += nl->loss_weight[j] * sum;
        }
    }
    return loss;
}

void cliff_net_backward(CliffNet *net)
{
    /* Loss tops start from their loss weight (Caffe's SetLossWeights). */
    for (int i = 0; i < net->nlayers; i++) {
        CliffNetLayer *nl = &net->layers[i];
        for (int j = 0; j < nl->nt; j++)
            if (nl->loss_weight[j] != 0)
                for (size_t e = 0; e < nl->top[j]->count; e++)
                    nl->top[j]->diff[e] = nl->loss_weight[j];
    }
    for (int i = net->nlayers; i-- > 0;) {
        CliffNetLayer *nl = &net->layers[i];
        if (!nl->need_backward) continue;
        double t0 = net->timing ? cliff_clock_seconds() : 0;
        nl->layer.ops->backward(&nl->layer, nl->top, nl->nt, nl->propagate_down, nl->bottom,
                                nl->nb);
        if (net->timing) nl->bwd_seconds += cliff_clock_seconds() - t0;
    }
}

void cliff_net_zero_grads(CliffNet *net)
{
    memset(net->grad_slab, 0, net->param_count * sizeof(float));
}

int cliff_net_share_params_from(CliffNet *net, const CliffNet *from, CliffError *err)
{
    for (int i = 0; i < net->nlayers; i++) {
        CliffLayer *l = &net->layers[i].layer;
        if (!l->nparams || net->layers[i].is_split) continue;
        int k = cliff_net_layer_index(from, l->name);
        if (k < 0) continue;
        const CliffLayer *src = &from->layers[k].layer;
        if (src->nparams != l->nparams)
            return cliff_error_set(err, "layer '%s' has %d parameter blobs here but %d in the "
                                   "net it shares weights with", l->name, l->nparams,
                                   src->nparams);
        for (int p = 0; p < l->nparams; p++) {
            if (!cliff_tensor_same_shape(&l->params[p], &src->params[p])) {
                char a[128], b[128];
                return cliff_error_set(err, "layer '%s' parameter %d has shape %s here but %s "
                                       "in the net it shares weights with", l->name, p,
                                       cliff_tensor_shape_str(&l->params[p], a, sizeof a),
                                       cliff_tensor_shape_str(&src->params[p], b, sizeof b));
            }
            l->params[p].data = src->params[p].data;
            l->params[p].diff = src->params[p].diff;
        }
    }
    return 0;
}

int cliff_net_layer_index(const CliffNet *net, const char *name)
{
    for (int i = 0; i < net->nlayers; i++)
        if (!net->layers[i].is_split && strcmp(net->layers[i].layer.name, name) == 0) return i;
    return -1;
}

int cliff_net_blob_index(const CliffNet *net, const char *name)
{
    for (int i = 0; i < net->nblobs; i++)
        if (strcmp(net->blob_names[i], name) == 0) return i;
    return -1;
}

size_t cliff_net_activation_bytes(const CliffNet *net)
{
    size_t bytes = 0;
    for (int b = 0; b < net->nblobs; b++) bytes += 2 * net->blobs[b]->capacity * sizeof(float);
    return bytes;
}
