/* Pass 1 of the net build: the plan (see net_impl.h). */
#include <stdlib.h>
#include <string.h>

#include "proto/desc_walk.h"
#include "net_impl.h"

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

int cliff_net_plan_make(Plan *plan, const Cliff__NetParameter *param,
                        const Cliff__NetState *state, const CliffSrcMap *map, CliffError *err)
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
            cliff_net_layer_error(err, map, lp);
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
            cliff_net_layer_error(err, map, lp);
            goto out;
        }
        int nb = (int)lp->n_bottom, nt = (int)lp->n_top;
        if (count_error(err, "bottom", nb, ops->min_bottoms, ops->max_bottoms) ||
            count_error(err, "top", nt, ops->min_tops, ops->max_tops)) {
            cliff_net_layer_error(err, map, lp);
            goto out;
        }
        if (lp->n_loss_weight && (int)lp->n_loss_weight != nt) {
            cliff_error_set(err, "has %zu loss_weight values for %d top blobs",
                            lp->n_loss_weight, nt);
            cliff_net_layer_error(err, map, lp);
            goto out;
        }
        if (lp->n_propagate_down && (int)lp->n_propagate_down != nb) {
            cliff_error_set(err, "has %zu propagate_down values for %d bottom blobs",
                            lp->n_propagate_down, nb);
            cliff_net_layer_error(err, map, lp);
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
                cliff_net_layer_error(err, map, lp);
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
                cliff_net_layer_error(err, map, lp);
                goto out;
            }
            if (in_place && !ops->allow_in_place) {
                cliff_error_set(err, "cannot compute in place (top '%s' is its bottom)",
                                lp->top[j]);
                cliff_net_layer_error(err, map, lp);
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
                pl->bottom[j] = cliff_net_printf("%s_%s_%d_split_%d", p->name, plp->name ? plp->name : "",
                                        p->top, next_split[k]++);
            else
                pl->bottom[j] = cliff_net_strdup(lp->bottom[j]);
        }
        for (int j = 0; j < pl->nt; j++) {
            pl->top[j] = cliff_net_strdup(lp->top[j]);
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
            sp->bottom[0] = cliff_net_strdup(lp->top[j]);
            for (int t = 0; t < count; t++)
                sp->top[t] = cliff_net_printf("%s_%s_%d_split_%d", lp->top[j], lp->name ? lp->name : "",
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
