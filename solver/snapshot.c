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
    if (!cliff_dist_lead(s)) return;
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

/* A snapshot pair named <prefix>_iter_<N><tag><ext>: tag "" is the periodic
 * snapshot (then a retention pass), CLIFF_LASTGOOD_TAG the guard's last good
 * state. */
static int snapshot_as(CliffSolver *s, const char *tag, CliffError *err)
{
    CliffNet *net = s->net;
    /* Several ranks: all check that they agree, rank 0 writes. */
    if (cliff_dist_check_agree(s, err)) return -1;
    if (!cliff_dist_lead(s)) {
        s->last_snapshot_iter = s->iter; /* as rank 0, which decides the same from it */
        return 0;
    }
    /* Invariant: weights and history are finite (bad steps are never applied);
     * checked again so that nothing non-finite can reach the disk. */
    if (!cliff_all_finite(net->param_slab, net->param_count) ||
        !cliff_all_finite(s->hist, (size_t)s->nhist * net->param_count)) {
        cliff_error_set(err, "iteration %d: refusing to snapshot non-finite weights or history",
                        s->iter);
        return cliff_error_mark(err, CLIFF_ERR_NONFINITE);
    }
    char ext_m[64], ext_s[64];
    snprintf(ext_m, sizeof ext_m, "%s%s", tag, s->snapshot_hdf5 ? ".caffemodel.h5" : ".caffemodel");
    snprintf(ext_s, sizeof ext_s, "%s%s", tag, s->snapshot_hdf5 ? ".solverstate.h5" : ".solverstate");
    char *model = path_printf("%s_iter_%d%s", s->prefix, s->iter, ext_m);
    char *state = path_printf("%s_iter_%d%s", s->prefix, s->iter, ext_s);
    CliffStateData d;
    memset(&d, 0, sizeof d);
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
    if (cliff_state_collect(s, &d, 0)) {
        cliff_error_set(err, "out of memory");
        goto out;
    }
    d.learned_net = model;
    cliff_log_event(s->fmt, s->log, s->iter, "snapshot", "Snapshotting solver state to %s",
                    state);
    if (cliff_state_write(&d, state, s->snapshot_hdf5, err)) {
        cliff_error_mark(err, CLIFF_ERR_IO);
        goto out;
    }
    snprintf(s->stats.last_snapshot, sizeof s->stats.last_snapshot, "%s", state);
    if (!tag[0]) {
        s->last_snapshot_iter = s->iter;
        s->last_snapshot_time = cliff_clock_seconds();
        cliff_snapshot_retain(s);
    }
    rc = 0;
out:
    d.learned_net = NULL;
    cliff_state_borrowed_free(&d);
    free(model);
    free(state);
    return rc;
}

int cliff_solver_snapshot(CliffSolver *s, CliffError *err)
{
    return snapshot_as(s, "", err);
}

int cliff_solver_snapshot_last_good(CliffSolver *s, CliffError *err)
{
    return snapshot_as(s, CLIFF_LASTGOOD_TAG, err);
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
    /* The clip policy's state, the layer states (the steps that can still
     * fail), then everything else. */
    int clip_same = cliff_state_clip_same(s, &d);
    if (cliff_state_commit(s, &d, slab, 1, err)) {
        cliff_error_prefix(err, "'%s': ", state_path);
        goto out;
    }
    if (!clip_same && s->clip && cliff_clip_state_size(s->clip))
        cliff_log_event(s->fmt, s->log, d.iter, "restore",
                        "'%s' holds no state for clip_policy '%s'%s%s%s: its statistics start "
                        "afresh", state_path, s->clip->policy->name,
                        d.clip_policy ? " (it has '" : "", d.clip_policy ? d.clip_policy : "",
                        d.clip_policy ? "' state of another size or policy)" : "");
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
