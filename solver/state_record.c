/* The solver's state as one record (CliffStateData): what a snapshot writes
 * and what the recovery ring keeps (the clip policy's state included), collected and committed by the same two
 * functions so that the two cannot drift apart. */
#include <stdlib.h>
#include <string.h>

#include "solver/formats/snapshot.h"
#include "solver_impl.h"

/* The net a state record names: "train" or "test<i>". */
static CliffNet *net_by_tag(CliffSolver *s, const char *tag)
{
    if (strcmp(tag, "train") == 0) return s->net;
    if (strncmp(tag, "test", 4) == 0) {
        char *end;
        long i = strtol(tag + 4, &end, 10);
        if (*end == 0 && end != tag + 4 && i >= 0 && i < s->ntest) return s->test_nets[i];
    }
    return NULL;
}

static CliffLayerStateRec *add_rec(CliffStateData *d, const char *net, const char *layer,
                                   size_t n)
{
    CliffLayerStateRec *r = &d->layers[d->nlayers++];
    r->net = strdup(net);
    r->layer = strdup(layer);
    r->words = calloc(n + 1, sizeof *r->words);
    r->n = n;
    return r->net && r->layer && r->words ? r : NULL;
}

/* Each net's layers with resumable state, then (with_recovery) the recovery's
 * progress as net "solver", layer "recovery". */
static int collect_layer_states(CliffSolver *s, CliffStateData *d, int with_recovery)
{
    int total = 1;
    for (int t = -1; t < s->ntest; t++) total += (t < 0 ? s->net : s->test_nets[t])->nlayers;
    d->layers = calloc((size_t)total + 1, sizeof *d->layers);
    if (!d->layers) return -1;
    for (int t = -1; t < s->ntest; t++) {
        CliffNet *net = t < 0 ? s->net : s->test_nets[t];
        char tag[32];
        if (t < 0)
            snprintf(tag, sizeof tag, "train");
        else
            snprintf(tag, sizeof tag, "test%d", t);
        for (int l = 0; l < net->nlayers; l++) {
            const CliffLayer *L = &net->layers[l].layer;
            if (!L->ops->state_size || !L->ops->state_save) continue;
            size_t n = L->ops->state_size(L);
            if (!n) continue;
            CliffLayerStateRec *r = add_rec(d, tag, L->name, n);
            if (!r) return -1;
            L->ops->state_save(L, r->words);
        }
    }
    if (with_recovery) {
        CliffLayerStateRec *r = add_rec(d, "solver", "recovery", CLIFF_RECOVERY_WORDS);
        if (!r) return -1;
        cliff_recovery_save(&s->rec, r->words);
    }
    return 0;
}

static void *dup_mem(const void *p, size_t n)
{
    void *q = malloc(n ? n : 1);
    if (q && n) memcpy(q, p, n);
    return q;
}

int cliff_state_collect(CliffSolver *s, CliffStateData *d, int copy)
{
    CliffNet *net = s->net;
    size_t nh = (size_t)s->nhist * (size_t)net->nparams;
    memset(d, 0, sizeof *d);
    d->iter = s->iter;
    d->current_step = s->current_step;
    d->nhist = nh;
    d->hist = calloc(nh + 1, sizeof *d->hist);
    d->hist_count = calloc(nh + 1, sizeof *d->hist_count);
    d->hist_naxes = calloc(nh + 1, sizeof *d->hist_naxes);
    d->hist_dims = calloc((nh + 1) * CLIFF_MAX_AXES, sizeof *d->hist_dims);
    if (!d->hist || !d->hist_count || !d->hist_naxes || !d->hist_dims) return -1;
    for (int k = 0; k < s->nhist; k++)
        for (int i = 0; i < net->nparams; i++) {
            size_t j = (size_t)k * (size_t)net->nparams + (size_t)i;
            const CliffNetParam *p = &net->params[i];
            float *h = s->hist + (size_t)k * net->param_count + p->offset;
            d->hist[j] = copy ? dup_mem(h, p->count * sizeof(float)) : h;
            if (!d->hist[j]) return -1;
            d->hist_count[j] = p->count;
            d->hist_naxes[j] = p->tensor->num_axes;
            for (int a = 0; a < p->tensor->num_axes; a++)
                d->hist_dims[j * CLIFF_MAX_AXES + (size_t)a] = p->tensor->shape[a];
        }
    d->has_cliff = 1;
    memcpy(d->rng, s->rng.s, sizeof d->rng);
    d->seed = s->seed;
    d->clipped = s->clipped_total;
    d->skipped = s->skipped_total;
    d->consecutive_bad = s->consecutive_bad;
    d->smoothed_loss = s->smoothed_loss;
    d->nlosses = s->nlosses;
    d->loss_pos = s->loss_pos;
    d->losses = copy ? dup_mem(s->losses, (size_t)s->nlosses * sizeof *s->losses) : s->losses;
    d->type = copy ? strdup(s->rule->name) : (char *)s->rule->name;
    if (!d->losses || !d->type) return -1;
    if (s->clip) {
        const char *name = s->clip->policy->name;
        size_t n = cliff_clip_state_size(s->clip);
        const double *v = cliff_clip_state(s->clip);
        d->clip_policy = copy ? strdup(name) : (char *)name;
        d->clip_state = copy ? dup_mem(v, n * sizeof *v) : (double *)v;
        d->nclip_state = n;
        if (!d->clip_policy || !d->clip_state) return -1;
    }
    return collect_layer_states(s, d, !copy);
}

void cliff_state_borrowed_free(CliffStateData *d)
{
    if (d->hist) memset(d->hist, 0, (d->nhist + 1) * sizeof *d->hist);
    d->losses = NULL;
    d->type = NULL;
    d->clip_policy = NULL;
    d->clip_state = NULL;
    cliff_state_data_free(d);
}

int cliff_state_clip_same(const CliffSolver *s, const CliffStateData *d)
{
    return s->clip && d->clip_policy && !strcmp(d->clip_policy, s->clip->policy->name) &&
           d->nclip_state == cliff_clip_state_size(s->clip);
}

int cliff_state_commit(CliffSolver *s, const CliffStateData *d, const float *weights,
                       int with_recovery, CliffError *err)
{
    CliffNet *net = s->net;
    /* The clip policy's state when it is the same policy's with the same size
     * (else the policy keeps its own: the caller says so). */
    int clip_same = cliff_state_clip_same(s, d);
    if (clip_same && cliff_clip_state_check(s->clip, d->clip_state, d->nclip_state, err))
        return -1;
    if (d->has_cliff) {
        /* Data cursors and shuffle orders (the last step that can fail). */
        for (int i = 0; i < d->nlayers; i++) {
            const CliffLayerStateRec *r = &d->layers[i];
            if (!strcmp(r->net, "solver") && !strcmp(r->layer, "recovery")) {
                if (with_recovery && cliff_recovery_load(&s->rec, r->words, r->n, err))
                    return cliff_error_prefix(err, "the recovery's state: ");
                continue;
            }
            CliffNet *n = net_by_tag(s, r->net);
            int l = n ? cliff_net_layer_index(n, r->layer) : -1;
            if (l < 0) continue; /* a net or layer this config lacks: nothing to restore */
            CliffLayer *L = &n->layers[l].layer;
            if (!L->ops->state_load) continue;
            if (L->ops->state_load(L, r->words, r->n, err))
                return cliff_error_prefix(err, "%s net, layer '%s': ", r->net, L->name);
        }
    }
    memcpy(net->param_slab, weights, net->param_count * sizeof *weights);
    for (int k = 0; k < s->nhist; k++)
        for (int i = 0; i < net->nparams; i++) {
            const CliffNetParam *p = &net->params[i];
            memcpy(s->hist + (size_t)k * net->param_count + p->offset,
                   d->hist[(size_t)k * (size_t)net->nparams + (size_t)i],
                   p->count * sizeof(float));
        }
    if (clip_same) cliff_clip_state_restore(s->clip, d->clip_state, d->nclip_state, NULL);
    s->grads_zero = 0;
    s->iter = d->iter;
    s->stats.iter = d->iter;
    s->current_step = d->current_step;
    if (d->has_cliff) {
        memcpy(s->rng.s, d->rng, sizeof d->rng);
        s->clipped_total = d->clipped;
        s->skipped_total = d->skipped;
        s->consecutive_bad = d->consecutive_bad;
        if (d->nlosses <= s->average_loss && d->loss_pos >= 0 && d->loss_pos < s->average_loss) {
            memcpy(s->losses, d->losses, (size_t)d->nlosses * sizeof *s->losses);
            s->nlosses = d->nlosses;
            s->loss_pos = d->loss_pos;
            s->smoothed_loss = d->smoothed_loss;
        } else {
            cliff_log_event(s->fmt, s->log, d->iter, "restore",
                            "the saved loss window (%d losses) does not fit average_loss %d: "
                            "the smoothed loss restarts from this iteration",
                            d->nlosses, (int)s->average_loss);
        }
    } else {
        /* A state written by Caffe: no RNG or data cursors saved. */
        cliff_rng_seed(&s->rng, s->seed);
    }
    /* The reported statistics are those of the restored state until it steps. */
    s->stats.clipped = s->clipped_total;
    s->stats.skipped = s->skipped_total;
    s->stats.consecutive_bad = s->consecutive_bad;
    s->stats.smoothed_loss = s->smoothed_loss;
    cliff_recovery_sync_stats(s);
    return 0;
}
