/* The solver's snapshot, restore and weight loading (file formats in
 * snapshot_h5.c and snapshot_proto.c). */
#include <dirent.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "solver/formats/snapshot.h"
#include "solver_impl.h"

static char *path_printf(const char *fmt, const char *a, int n, const char *b)
{
    size_t len = strlen(a) + strlen(b) + 32;
    char *p = malloc(len);
    if (p) snprintf(p, len, fmt, a, n, b);
    return p;
}

/* Each net's layers with resumable state. */
static int collect_layer_states(CliffSolver *s, CliffStateData *d)
{
    int total = 0;
    for (int t = -1; t < s->ntest; t++) {
        CliffNet *net = t < 0 ? s->net : s->test_nets[t];
        total += net->nlayers;
    }
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
            CliffLayerStateRec *r = &d->layers[d->nlayers++];
            r->net = strdup(tag);
            r->layer = strdup(L->name);
            r->words = calloc(n, sizeof *r->words);
            r->n = n;
            if (!r->net || !r->layer || !r->words) return -1;
            L->ops->state_save(L, r->words);
        }
    }
    return 0;
}

/* 1 when name is "<base>_iter_<digits>.<anything>.tmp", compared literally
 * (a prefix may hold glob or regex characters: "run[12]" is not "run1"). */
static int is_stale_name(const char *name, const char *base)
{
    size_t n = strlen(base), len = strlen(name);
    if (strncmp(name, base, n) || strncmp(name + n, "_iter_", 6)) return 0;
    const char *p = name + n + 6;
    if (*p < '0' || *p > '9') return 0;
    while (*p >= '0' && *p <= '9') p++;
    return *p == '.' && len >= 4 && strcmp(name + len - 4, ".tmp") == 0 &&
           (size_t)(p - name) < len - 4;
}

/* Snapshots are written to "<final>.tmp" and renamed; a run killed while
 * writing leaves that temporary behind. Removes this prefix's leftovers (never a
 * file under a final name, never another prefix's). */
void cliff_snapshot_remove_stale(CliffSolver *s)
{
    /* folder and file-name start of the prefix; "out/" names "out/_iter_N..." */
    char *copy = strdup(s->prefix);
    if (!copy) return;
    char *slash = strrchr(copy, '/');
    const char *dir = ".", *base = copy;
    if (slash) {
        *slash = 0;
        dir = slash == copy ? "/" : copy;
        base = slash + 1;
    }
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!is_stale_name(e->d_name, base)) continue;
        size_t n = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(n);
        if (!path) break;
        snprintf(path, n, "%s/%s", dir, e->d_name);
        if (unlink(path) == 0)
            cliff_log_event(s->fmt, s->log, s->iter, "info",
                            "removed %s, left by a run stopped while snapshotting", path);
        free(path);
    }
    if (d) closedir(d);
    free(copy);
}

int cliff_solver_snapshot(CliffSolver *s, CliffError *err)
{
    CliffNet *net = s->net;
    /* Invariant: weights and history are finite (bad steps are never applied);
     * checked again so that nothing non-finite can reach the disk. */
    if (!cliff_all_finite(net->param_slab, net->param_count) ||
        !cliff_all_finite(s->hist, (size_t)s->nhist * net->param_count)) {
        cliff_error_set(err, "iteration %d: refusing to snapshot non-finite weights or history",
                        s->iter);
        return cliff_error_mark(err, CLIFF_ERR_NONFINITE);
    }
    const char *ext_m = s->snapshot_hdf5 ? ".caffemodel.h5" : ".caffemodel";
    const char *ext_s = s->snapshot_hdf5 ? ".solverstate.h5" : ".solverstate";
    char *model = path_printf("%s_iter_%d%s", s->prefix, s->iter, ext_m);
    char *state = path_printf("%s_iter_%d%s", s->prefix, s->iter, ext_s);
    CliffStateData d;
    memset(&d, 0, sizeof d);
    size_t nh = (size_t)s->nhist * (size_t)net->nparams;
    int rc = -1;
    if (!model || !state) {
        cliff_error_set(err, "out of memory");
        goto out;
    }
    cliff_log_event(s->fmt, s->log, s->iter, "snapshot", "Snapshotting to %s file %s",
                    s->snapshot_hdf5 ? "HDF5" : "binary proto", model);
    if (cliff_weights_save(net, model, s->snapshot_hdf5, s->sp->snapshot_diff, err)) {
        cliff_error_mark(err, CLIFF_ERR_IO);
        goto out;
    }

    /* The state record borrows the history arrays; only its tables are owned. */
    d.iter = s->iter;
    d.current_step = s->current_step;
    d.learned_net = model;
    d.nhist = nh;
    d.hist = calloc(nh + 1, sizeof *d.hist);
    d.hist_count = calloc(nh + 1, sizeof *d.hist_count);
    d.hist_naxes = calloc(nh + 1, sizeof *d.hist_naxes);
    d.hist_dims = calloc((nh + 1) * CLIFF_MAX_AXES, sizeof *d.hist_dims);
    if (!d.hist || !d.hist_count || !d.hist_naxes || !d.hist_dims) {
        cliff_error_set(err, "out of memory");
        goto out;
    }
    for (int k = 0; k < s->nhist; k++)
        for (int i = 0; i < net->nparams; i++) {
            size_t j = (size_t)k * (size_t)net->nparams + (size_t)i;
            const CliffNetParam *p = &net->params[i];
            d.hist[j] = s->hist + (size_t)k * net->param_count + p->offset;
            d.hist_count[j] = p->count;
            d.hist_naxes[j] = p->tensor->num_axes;
            for (int a = 0; a < p->tensor->num_axes; a++)
                d.hist_dims[j * CLIFF_MAX_AXES + (size_t)a] = p->tensor->shape[a];
        }
    d.has_cliff = 1;
    memcpy(d.rng, s->rng.s, sizeof d.rng);
    d.seed = s->seed;
    d.clipped = s->clipped_total;
    d.skipped = s->skipped_total;
    d.consecutive_bad = s->consecutive_bad;
    d.smoothed_loss = s->smoothed_loss;
    d.losses = s->losses;
    d.nlosses = s->nlosses;
    d.loss_pos = s->loss_pos;
    d.type = (char *)s->rule->name;
    if (s->clip) { /* borrowed too */
        d.clip_policy = (char *)s->clip->policy->name;
        d.clip_state = (double *)cliff_clip_state(s->clip);
        d.nclip_state = cliff_clip_state_size(s->clip);
    }
    if (collect_layer_states(s, &d)) {
        cliff_error_set(err, "out of memory");
        goto out;
    }
    cliff_log_event(s->fmt, s->log, s->iter, "snapshot", "Snapshotting solver state to %s",
                    state);
    if (cliff_state_write(&d, state, s->snapshot_hdf5, err)) {
        cliff_error_mark(err, CLIFF_ERR_IO);
        goto out;
    }
    snprintf(s->stats.last_snapshot, sizeof s->stats.last_snapshot, "%s", state);
    s->last_snapshot_iter = s->iter;
    rc = 0;
out:
    /* Unhook borrowed pointers before freeing the record. */
    if (d.hist) memset(d.hist, 0, (nh + 1) * sizeof *d.hist);
    d.learned_net = NULL;
    d.losses = NULL;
    d.type = NULL;
    d.clip_policy = NULL;
    d.clip_state = NULL;
    cliff_state_data_free(&d);
    free(model);
    free(state);
    return rc;
}

/* learned_net beside the state file first, then as written. */
static char *find_learned_net(const char *state_path, const char *learned)
{
    char *dcopy = strdup(state_path), *bcopy = strdup(learned);
    char *found = NULL;
    if (dcopy && bcopy) {
        const char *dir = dirname(dcopy), *base = basename(bcopy);
        size_t n = strlen(dir) + strlen(base) + 2;
        char *beside = malloc(n);
        if (beside) {
            snprintf(beside, n, "%s/%s", dir, base);
            if (access(beside, R_OK) == 0)
                found = beside;
            else
                free(beside);
        }
    }
    if (!found && access(learned, R_OK) == 0) found = strdup(learned);
    free(dcopy);
    free(bcopy);
    return found;
}

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

int cliff_solver_restore(CliffSolver *s, const char *state_path, CliffError *err)
{
    CliffNet *net = s->net;
    CliffStateData d;
    char *weights = NULL;
    float *slab = NULL;
    int rc = -1;
    if (cliff_state_read(state_path, &d, err)) return -1;
    size_t nh = (size_t)s->nhist * (size_t)net->nparams;
    if (d.nhist != nh) {
        cliff_error_set(err, "'%s' holds %zu history blobs but solver type %s on this net "
                        "(%d parameter blobs) needs %zu: a different net or solver type",
                        state_path, d.nhist, s->rule->name, net->nparams, nh);
        goto out;
    }
    for (size_t j = 0; j < nh; j++) {
        const CliffNetParam *p = &net->params[j % (size_t)net->nparams];
        if (d.hist_count[j] != p->count) {
            cliff_error_set(err, "'%s': history blob %zu has %zu values but parameter '%s' "
                            "has %zu: a different net", state_path, j, d.hist_count[j],
                            p->name, p->count);
            goto out;
        }
        if (!cliff_all_finite(d.hist[j], d.hist_count[j])) {
            cliff_error_set(err, "'%s': history blob %zu holds NaN or inf", state_path, j);
            goto out;
        }
    }
    if (cliff_restore_check(s, &d, state_path, err)) goto out;
    if (!d.learned_net || !d.learned_net[0]) {
        cliff_error_set(err, "'%s' names no weights file (learned_net)", state_path);
        goto out;
    }
    weights = find_learned_net(state_path, d.learned_net);
    if (!weights) {
        cliff_error_set(err, "'%s': its weights file '%s' was not found (looked beside the "
                        "state file and relative to the working directory)",
                        state_path, d.learned_net);
        goto out;
    }
    slab = malloc((net->param_count + 1) * sizeof *slab);
    if (!slab) {
        cliff_error_set(err, "out of memory");
        goto out;
    }
    memcpy(slab, net->param_slab, net->param_count * sizeof *slab);
    if (cliff_weights_read(net, weights, 1, slab, NULL, err)) goto out;
    if (!cliff_all_finite(slab, net->param_count)) {
        cliff_error_set(err, "'%s' holds NaN or inf weights", weights);
        goto out;
    }
    /* The clip policy's state, when the run that saved it used the same policy
     * with the same state size (otherwise the policy starts afresh, said below). */
    int clip_same = s->clip && d.clip_policy && !strcmp(d.clip_policy, s->clip->policy->name) &&
                    d.nclip_state == cliff_clip_state_size(s->clip);
    if (clip_same && cliff_clip_state_check(s->clip, d.clip_state, d.nclip_state, err)) {
        cliff_error_prefix(err, "'%s': ", state_path);
        goto out;
    }
    if (d.has_cliff) {
        /* Data cursors and shuffle orders (the last step that can still fail). */
        for (int i = 0; i < d.nlayers; i++) {
            CliffNet *n = net_by_tag(s, d.layers[i].net);
            int l = n ? cliff_net_layer_index(n, d.layers[i].layer) : -1;
            if (l < 0) continue; /* a net or layer this config lacks: nothing to restore */
            CliffLayer *L = &n->layers[l].layer;
            if (!L->ops->state_load) continue;
            if (L->ops->state_load(L, d.layers[i].words, d.layers[i].n, err)) {
                cliff_error_prefix(err, "'%s': %s net, layer '%s': ", state_path,
                                   d.layers[i].net, L->name);
                goto out;
            }
        }
    }

    /* Commit. */
    memcpy(net->param_slab, slab, net->param_count * sizeof *slab);
    for (int k = 0; k < s->nhist; k++)
        for (int i = 0; i < net->nparams; i++) {
            const CliffNetParam *p = &net->params[i];
            memcpy(s->hist + (size_t)k * net->param_count + p->offset,
                   d.hist[(size_t)k * (size_t)net->nparams + (size_t)i],
                   p->count * sizeof(float));
        }
    s->iter = d.iter;
    s->stats.iter = d.iter;
    s->current_step = d.current_step;
    if (clip_same) {
        cliff_clip_state_restore(s->clip, d.clip_state, d.nclip_state, NULL); /* checked above */
    } else if (s->clip && cliff_clip_state_size(s->clip)) {
        cliff_log_event(s->fmt, s->log, d.iter, "restore",
                        "'%s' holds no state for clip_policy '%s'%s%s%s: its statistics start "
                        "afresh", state_path, s->clip->policy->name,
                        d.clip_policy ? " (it has '" : "", d.clip_policy ? d.clip_policy : "",
                        d.clip_policy ? "' state of another size or policy)" : "");
    }
    if (d.has_cliff) {
        memcpy(s->rng.s, d.rng, sizeof d.rng);
        s->clipped_total = d.clipped;
        s->skipped_total = d.skipped;
        s->consecutive_bad = d.consecutive_bad;
        if (d.nlosses <= s->average_loss && d.loss_pos >= 0 && d.loss_pos < s->average_loss) {
            memcpy(s->losses, d.losses, (size_t)d.nlosses * sizeof *s->losses);
            s->nlosses = d.nlosses;
            s->loss_pos = d.loss_pos;
            s->smoothed_loss = d.smoothed_loss;
        } else {
            cliff_log_event(s->fmt, s->log, d.iter, "restore",
                            "the saved loss window (%d losses) does not fit average_loss %d: "
                            "the smoothed loss restarts from this iteration",
                            d.nlosses, (int)s->average_loss);
        }
    } else {
        /* A state written by Caffe: no RNG or data cursors saved. */
        cliff_rng_seed(&s->rng, s->seed);
    }
    /* The reported statistics are those of the restored run until it steps. */
    s->stats.clipped = s->clipped_total;
    s->stats.skipped = s->skipped_total;
    s->stats.consecutive_bad = s->consecutive_bad;
    s->stats.smoothed_loss = s->smoothed_loss;
    cliff_log_event(s->fmt, s->log, s->iter, "restore",
                    "Resuming from %s (weights %s)%s", state_path, weights,
                    d.has_cliff ? "" : " without cliff's extras: data layers restart at their "
                                       "first row, RNG re-seeded from random_seed");
    rc = 0;
out:
    free(slab);
    free(weights);
    cliff_state_data_free(&d);
    return rc;
}

int cliff_solver_load_weights(CliffSolver *s, const char *paths, CliffError *err)
{
    CliffNet *net = s->net;
    unsigned char *found = calloc((size_t)net->nlayers + 1, 1);
    float *slab = malloc((net->param_count + 1) * sizeof *slab);
    char *list = strdup(paths ? paths : "");
    int rc = -1;
    if (!found || !slab || !list) {
        cliff_error_set(err, "out of memory");
        goto out;
    }
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        size_t len = strlen(tok);
        while (len && tok[len - 1] == ' ') tok[--len] = 0;
        if (!len) continue;
        if (access(tok, R_OK)) {
            cliff_error_set(err, "cannot read weights file '%s' (missing?)", tok);
            goto out;
        }
        memcpy(slab, net->param_slab, net->param_count * sizeof *slab);
        if (cliff_weights_read(net, tok, 0, slab, found, err)) goto out;
        memcpy(net->param_slab, slab, net->param_count * sizeof *slab);
        cliff_log_event(s->fmt, s->log, -1, "weights", "Copied weights from %s", tok);
    }
    for (int i = 0; i < s->nmissing; i++) free(s->missing[i]);
    free(s->missing);
    s->missing = calloc((size_t)net->nlayers + 1, sizeof *s->missing);
    s->nmissing = 0;
    if (!s->missing) {
        cliff_error_set(err, "out of memory");
        goto out;
    }
    for (int l = 0; l < net->nlayers; l++) {
        const CliffNetLayer *nl = &net->layers[l];
        if (nl->is_split || !nl->layer.nparams || found[l]) continue;
        s->missing[s->nmissing++] = strdup(nl->layer.name);
        cliff_log_event(s->fmt, s->log, -1, "weights",
                        "Layer '%s' is in no weights file: it keeps its fillers",
                        nl->layer.name);
    }
    rc = 0;
out:
    free(found);
    free(slab);
    free(list);
    return rc;
}
