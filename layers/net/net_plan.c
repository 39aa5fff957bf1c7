/* Pass 1 of the net build: the plan (see net_impl.h).
 *
 * Two steps over the layers of the NetParameter, in file order:
 *   wire  check each included layer (rules, type, blob counts), connect each
 *         bottom to the top that last produced its name, and record the
 *         layer's tops as producers (in place, or new names only);
 *   emit  copy each included layer into the plan, its bottoms renamed to the
 *         split tops they read, and after it one Split per top that more than
 *         one reader needs (bottoms, plus the loss when the top has a weight). */
#include <stdlib.h>
#include <string.h>

#include "proto/names.h"
#include "net_impl.h"

/* A top of an included layer: blob `name` as produced by (layer, top). */
typedef struct Producer {
    const char *name;
    int layer, top;
} Producer;

/* What the wire step learns; arrays indexed by layer are over all of
 * param's layers, those indexed by producer over the tops of included ones. */
typedef struct Wiring {
    const Cliff__NetParameter *param;
    const Cliff__NetState *state;
    const CliffSrcMap *map;
    const CliffLayerOps **ops; /* per layer; NULL when the layer is left out */
    int **reads;               /* per included layer, per bottom: the producer read */
    int *first_prod;           /* per included layer: the producer of its top 0 */
    Producer *prod;
    int nprod;
    int *consumers;  /* per producer: the bottoms reading it */
    int *next_split; /* per producer: the next split top handed to a bottom */
} Wiring;

/* ---- the plan --------------------------------------------------------------- */

void cliff_net_plan_free(Plan *p)
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

/* Appends a layer with room for nb bottoms and nt tops (names NULL, loss
 * weights 0). NULL when out of memory; the plan stays consistent. */
static PlanLayer *plan_push(Plan *p, int nb, int nt)
{
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 32;
        PlanLayer *grown = cliff_net_realloc(p->layers, (size_t)cap * sizeof *grown);
        if (!grown) return NULL;
        p->layers = grown;
        p->cap = cap;
    }
    PlanLayer *pl = &p->layers[p->n];
    memset(pl, 0, sizeof *pl);
    pl->bottom = cliff_net_calloc((size_t)nb + 1, sizeof *pl->bottom);
    pl->top = cliff_net_calloc((size_t)nt + 1, sizeof *pl->top);
    pl->loss_weight = cliff_net_calloc((size_t)nt + 1, sizeof *pl->loss_weight);
    if (!pl->bottom || !pl->top || !pl->loss_weight) {
        free(pl->bottom);
        free(pl->top);
        free(pl->loss_weight);
        return NULL;
    }
    pl->nb = nb;
    pl->nt = nt;
    p->n++;
    return pl;
}

/* ---- wire: checks ----------------------------------------------------------- */

static int out_of_memory(CliffError *err, const CliffSrcMap *map, const Cliff__LayerParameter *lp)
{
    cliff_error_set(err, "out of memory");
    return cliff_net_layer_error(err, map, lp);
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

/* Checks what layer i says of itself. Sets w->ops[i] when the state includes
 * it; -1 with the error positioned at the layer. */
static int check_layer(Wiring *w, int i, CliffError *err)
{
    const Cliff__LayerParameter *lp = w->param->layer[i];
    if (lp->n_include && lp->n_exclude) {
        cliff_error_set(err, "specify either include or exclude rules, not both");
        return cliff_net_layer_error(err, w->map, lp);
    }
    if (!cliff_net_layer_included(w->state, lp)) return 0;
    const CliffLayerOps *ops = cliff_layer_find(lp->type ? lp->type : "");
    if (!ops) {
        cliff_error_unknown_name(err, "layer type", lp->type, &cliff_layer_table);
        return cliff_net_layer_error(err, w->map, lp);
    }
    int nb = (int)lp->n_bottom, nt = (int)lp->n_top;
    if (count_error(err, "bottom", nb, ops->min_bottoms, ops->max_bottoms) ||
        count_error(err, "top", nt, ops->min_tops, ops->max_tops))
        return cliff_net_layer_error(err, w->map, lp);
    if (lp->n_loss_weight && (int)lp->n_loss_weight != nt) {
        cliff_error_set(err, "has %zu loss_weight values for %d top blobs", lp->n_loss_weight, nt);
        return cliff_net_layer_error(err, w->map, lp);
    }
    if (lp->n_propagate_down && (int)lp->n_propagate_down != nb) {
        cliff_error_set(err, "has %zu propagate_down values for %d bottom blobs",
                        lp->n_propagate_down, nb);
        return cliff_net_layer_error(err, w->map, lp);
    }
    w->ops[i] = ops;
    return 0;
}

/* ---- wire: producers -------------------------------------------------------- */

/* The latest producer of blob `name`; -1 when none so far. */
static int find_producer(const Wiring *w, const char *name)
{
    for (int k = w->nprod; k-- > 0;)
        if (strcmp(w->prod[k].name, name) == 0) return k;
    return -1;
}

/* Bottom j of layer i names a blob no earlier layer produces: says which later
 * layer does, or the nearest produced name. */
static int unknown_bottom_error(const Wiring *w, int i, int j, CliffError *err)
{
    const Cliff__NetParameter *param = w->param;
    const char *bottom = param->layer[i]->bottom[j];
    for (int q = i + 1; q < (int)param->n_layer; q++) {
        if (!cliff_net_layer_included(w->state, param->layer[q])) continue;
        for (size_t t = 0; t < param->layer[q]->n_top; t++)
            if (strcmp(param->layer[q]->top[t], bottom) == 0)
                return cliff_error_set(err, "unknown bottom blob '%s' (only the later layer "
                                       "'%s' produces it; layers run in file order)", bottom,
                                       param->layer[q]->name ? param->layer[q]->name : "");
    }
    const char **names = cliff_net_calloc((size_t)w->nprod + 1, sizeof *names);
    if (!names) return cliff_error_set(err, "out of memory");
    for (int k = 0; k < w->nprod; k++) names[k] = w->prod[k].name;
    const char *near = cliff_did_you_mean(bottom, strlen(bottom), names, (size_t)w->nprod);
    cliff_error_set(err, "unknown bottom blob '%s' (no earlier layer produces it%s%s%s)", bottom,
                    near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
    free(names);
    return -1;
}

/* Connects each bottom of included layer i to its producer. */
static int connect_bottoms(Wiring *w, int i, CliffError *err)
{
    const Cliff__LayerParameter *lp = w->param->layer[i];
    w->reads[i] = cliff_net_calloc(lp->n_bottom + 1, sizeof **w->reads);
    if (!w->reads[i]) return out_of_memory(err, w->map, lp);
    for (int j = 0; j < (int)lp->n_bottom; j++) {
        int k = find_producer(w, lp->bottom[j]);
        if (k < 0) {
            unknown_bottom_error(w, i, j, err);
            return cliff_net_layer_error(err, w->map, lp);
        }
        w->reads[i][j] = k;
        w->consumers[k]++;
    }
    return 0;
}

/* Records the tops of included layer i as producers: a name already produced
 * must be the same-index bottom (in place) of a layer that allows it. */
static int add_producers(Wiring *w, int i, CliffError *err)
{
    const Cliff__LayerParameter *lp = w->param->layer[i];
    w->first_prod[i] = w->nprod;
    for (int j = 0; j < (int)lp->n_top; j++) {
        int k = find_producer(w, lp->top[j]);
        int in_place = j < (int)lp->n_bottom && strcmp(lp->bottom[j], lp->top[j]) == 0;
        if (k >= 0 && !in_place) {
            cliff_error_set(err, "top blob '%s' is already produced by layer '%s' "
                            "(in-place use needs the same name as bottom %d)",
                            lp->top[j], w->param->layer[w->prod[k].layer]->name, j);
            return cliff_net_layer_error(err, w->map, lp);
        }
        if (in_place && !w->ops[i]->allow_in_place) {
            cliff_error_set(err, "cannot compute in place (top '%s' is its bottom)", lp->top[j]);
            return cliff_net_layer_error(err, w->map, lp);
        }
        w->prod[w->nprod++] = (Producer){lp->top[j], i, j};
    }
    return 0;
}

static void wiring_free(Wiring *w)
{
    if (w->reads)
        for (size_t i = 0; i < w->param->n_layer; i++) free(w->reads[i]);
    free(w->reads);
    free(w->ops);
    free(w->first_prod);
    free(w->prod);
    free(w->consumers);
    free(w->next_split);
}

static int wire(Wiring *w, CliffError *err)
{
    size_t nl = w->param->n_layer, ntops = 0;
    for (size_t i = 0; i < nl; i++) ntops += w->param->layer[i]->n_top;
    w->ops = cliff_net_calloc(nl + 1, sizeof *w->ops);
    w->reads = cliff_net_calloc(nl + 1, sizeof *w->reads);
    w->first_prod = cliff_net_calloc(nl + 1, sizeof *w->first_prod);
    w->prod = cliff_net_calloc(ntops + 1, sizeof *w->prod);
    w->consumers = cliff_net_calloc(ntops + 1, sizeof *w->consumers);
    w->next_split = cliff_net_calloc(ntops + 1, sizeof *w->next_split);
    if (!w->ops || !w->reads || !w->first_prod || !w->prod || !w->consumers || !w->next_split)
        return cliff_error_set(err, "out of memory");
    for (int i = 0; i < (int)nl; i++) {
        if (check_layer(w, i, err)) return -1;
        if (!w->ops[i]) continue;
        if (connect_bottoms(w, i, err) || add_producers(w, i, err)) return -1;
    }
    return 0;
}

/* ---- emit ------------------------------------------------------------------- */

/* Top j's loss weight as configured: loss_weight, else 1 on a loss layer's top 0. */
static float top_loss_weight(const Cliff__LayerParameter *lp, const CliffLayerOps *ops, int j)
{
    if (lp->n_loss_weight) return lp->loss_weight[j];
    return j == 0 && ops->is_loss ? 1.0f : 0.0f;
}

/* How many tops producer k's Split needs (<= 1: no Split). */
static int split_width(const Wiring *w, int k)
{
    const Producer *p = &w->prod[k];
    int loss = top_loss_weight(w->param->layer[p->layer], w->ops[p->layer], p->top) != 0;
    return w->consumers[k] + loss;
}

/* Caffe's SplitBlobName: "<blob>_<layer>_<top index>_split_<i>". */
static char *split_blob_name(const char *blob, const Cliff__LayerParameter *lp, int top, int i)
{
    return cliff_net_printf("%s_%s_%d_split_%d", blob, lp->name ? lp->name : "", top, i);
}

/* Appends included layer i, each bottom renamed to the split top it reads. */
static int emit_layer(Plan *plan, Wiring *w, int i, CliffError *err)
{
    const Cliff__LayerParameter *lp = w->param->layer[i];
    PlanLayer *pl = plan_push(plan, (int)lp->n_bottom, (int)lp->n_top);
    if (!pl) return out_of_memory(err, w->map, lp);
    pl->lp = lp;
    pl->ops = w->ops[i];
    for (int j = 0; j < pl->nb; j++) {
        int k = w->reads[i][j];
        const Producer *p = &w->prod[k];
        pl->bottom[j] = split_width(w, k) > 1
                            ? split_blob_name(p->name, w->param->layer[p->layer], p->top,
                                              w->next_split[k]++)
                            : cliff_net_strdup(lp->bottom[j]);
        if (!pl->bottom[j]) return out_of_memory(err, w->map, lp);
    }
    for (int j = 0; j < pl->nt; j++) {
        pl->top[j] = cliff_net_strdup(lp->top[j]);
        if (!pl->top[j]) return out_of_memory(err, w->map, lp);
        pl->loss_weight[j] = top_loss_weight(lp, pl->ops, j);
    }
    return 0;
}

/* Appends a Split after plan layer `owner` (param layer i) for each of its tops
 * with more than one reader. A top with a loss weight gives the weight to the
 * Split's last top, which nobody reads. */
static int emit_splits(Plan *plan, Wiring *w, int i, int owner, CliffError *err)
{
    const Cliff__LayerParameter *lp = w->param->layer[i];
    for (int j = 0; j < (int)lp->n_top; j++) {
        int width = split_width(w, w->first_prod[i] + j);
        if (width <= 1) continue;
        const CliffLayerOps *split_ops = cliff_layer_find("Split");
        if (!split_ops) return cliff_error_set(err, "the Split layer type is not registered");
        PlanLayer *sp = plan_push(plan, 1, width);
        if (!sp) return out_of_memory(err, w->map, lp);
        PlanLayer *pl = &plan->layers[owner]; /* after the push: layers may have moved */
        sp->lp = lp;
        sp->ops = split_ops;
        sp->is_split = 1;
        sp->split_top = j;
        sp->bottom[0] = cliff_net_strdup(lp->top[j]);
        if (!sp->bottom[0]) return out_of_memory(err, w->map, lp);
        for (int t = 0; t < width; t++) {
            sp->top[t] = split_blob_name(lp->top[j], lp, j, t);
            if (!sp->top[t]) return out_of_memory(err, w->map, lp);
        }
        if (pl->loss_weight[j] != 0) {
            sp->loss_weight[width - 1] = pl->loss_weight[j];
            pl->loss_weight[j] = 0;
        }
    }
    return 0;
}

int cliff_net_plan_make(Plan *plan, const Cliff__NetParameter *param,
                        const Cliff__NetState *state, const CliffSrcMap *map, CliffError *err)
{
    Wiring w = {.param = param, .state = state, .map = map};
    int rc = wire(&w, err);
    for (int i = 0; !rc && i < (int)param->n_layer; i++) {
        if (!w.ops[i]) continue;
        rc = emit_layer(plan, &w, i, err);
        if (!rc) rc = emit_splits(plan, &w, i, plan->n - 1, err);
    }
    wiring_free(&w);
    return rc;
}
