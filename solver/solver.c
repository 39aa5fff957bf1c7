/* Solver construction: config checks, nets, optimizer state; accessors. The
 * iteration loop is in step.c, snapshots in snapshot*.c. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/bounds.h"
#include "solver/formats/snapshot.h"
#include "solver_impl.h"

/* The solver's own fields: choices by name and bounds (proto/bounds.c). On
 * failure *field names the field the error is about (NULL: the solver). */
static int check_config(CliffSolver *s, const char **field, size_t *index, CliffError *err)
{
    const Cliff__SolverParameter *sp = s->sp;
    *field = "type";
    *index = 0;
    s->rule = cliff_update_rule_find(sp->type);
    if (!s->rule)
        return cliff_error_unknown_name(err, "solver type", sp->type, &cliff_update_rule_table);
    if (s->rule->check && s->rule->check(sp, err)) return -1;
    *field = "lr_policy";
    s->lr_policy = cliff_lr_policy_load(sp, err);
    if (!s->lr_policy) return -1;
    *field = NULL;
    if (!sp->has_base_lr) return cliff_error_set(err, "base_lr is not set");
    /* The clip policy's name here, its parameters once the net is built. */
    *field = "clip_policy";
    if (!cliff_clip_policy_find(sp->clip_policy))
        return cliff_error_unknown_name(err, "clip_policy", sp->clip_policy,
                                        &cliff_clip_policy_table);
    *field = "log_format";
    s->fmt = cliff_log_format_find(sp->log_format);
    if (!s->fmt)
        return cliff_error_unknown_name(err, "log_format", sp->log_format,
                                        &cliff_log_format_table);
    *field = "regularization_type";
    int reg = cliff_reg_type_parse(sp->regularization_type, err);
    if (reg < 0) return -1;
    s->reg = (CliffRegType)reg;
    if (cliff_bounds_check(&sp->base, cliff_solver_bounds, cliff_solver_nbounds, field, index,
                           err))
        return -1;
    s->snapshot_hdf5 = !sp->has_snapshot_format ||
                       sp->snapshot_format == CLIFF__SOLVER_PARAMETER__SNAPSHOT_FORMAT__HDF5;
    *field = NULL;
    s->prefix = strdup(sp->snapshot_prefix ? sp->snapshot_prefix : "");
    if (!s->prefix) return cliff_error_set(err, "out of memory");
    *field = "snapshot";
    if (sp->snapshot > 0 && !s->prefix[0])
        return cliff_error_set(err, "snapshot is %d but snapshot_prefix is not set",
                               (int)sp->snapshot);
    *field = "snapshot_interval_seconds";
    if (sp->snapshot_interval_seconds > 0 && !s->prefix[0])
        return cliff_error_set(err, "snapshot_interval_seconds is %g but snapshot_prefix is not "
                               "set", sp->snapshot_interval_seconds);
    return 0;
}

static int build_nets(CliffSolver *s, CliffError *err)
{
    const Cliff__SolverParameter *sp = s->sp;
    int given = !!sp->train_net_param + !!(sp->train_net && sp->train_net[0]) +
                !!sp->net_param + !!(sp->net && sp->net[0]);
    if (given > 1)
        return cliff_error_set(err, "give exactly one of train_net_param, train_net, "
                               "net_param, net (%d given)", given);
    const Cliff__NetParameter *train = sp->train_net_param ? sp->train_net_param : sp->net_param;
    if (!train) {
        if (given)
            return cliff_error_set(err, "net file '%s' was not loaded (the config loader "
                                   "inlines net files before the solver is created)",
                                   sp->train_net ? sp->train_net : sp->net);
        return cliff_error_set(err, "no train net (set net, net_param, train_net or "
                               "train_net_param)");
    }
    if (sp->n_test_net)
        return cliff_error_set(err, "test_net file '%s' was not loaded (the config loader "
                               "inlines net files before the solver is created)",
                               sp->test_net[0]);
    s->net = cliff_net_build(train, CLIFF__PHASE__TRAIN, sp->train_state, &s->rng, s->map, err);
    if (!s->net || cliff_snapshot_names_check(s->net, s->map, err)) return -1;

    /* Test nets: test_net_param first, then generic instances of net_param. */
    int nparams_given = (int)sp->n_test_net_param;
    int generic = sp->net_param ? (int)sp->n_test_iter - nparams_given : 0;
    if (generic < 0) generic = 0;
    int ntest = nparams_given + generic;
    if ((int)sp->n_test_iter != ntest) {
        cliff_error_set(err, "test_iter must be given once per test net (%d test nets, "
                        "%zu test_iter)", ntest, sp->n_test_iter);
        return cliff_error_at_field(err, s->map, &sp->base,
                                    sp->n_test_iter ? "test_iter" : "test_net_param", 0, "solver");
    }
    if (sp->n_test_state && (int)sp->n_test_state != ntest) {
        cliff_error_set(err, "test_state must be given once per test net (%d test "
                        "nets, %zu test_state)", ntest, sp->n_test_state);
        return cliff_error_at_field(err, s->map, &sp->base, "test_state", 0, "solver");
    }
    if (ntest && sp->test_interval <= 0) {
        cliff_error_set(err, "test_interval must be > 0 when there are test nets (got %d)",
                        (int)sp->test_interval);
        return cliff_error_at_field(err, s->map, &sp->base, "test_interval", 0, "solver");
    }
    s->test_nets = calloc((size_t)ntest + 1, sizeof *s->test_nets);
    s->test_iter = calloc((size_t)ntest + 1, sizeof *s->test_iter);
    if (!s->test_nets || !s->test_iter)
        return cliff_error_set(err, "out of memory");
    for (int i = 0; i < ntest; i++) {
        const Cliff__NetParameter *np = i < nparams_given ? sp->test_net_param[i] : sp->net_param;
        s->test_nets[i] = cliff_net_build(np, CLIFF__PHASE__TEST,
                                          sp->n_test_state ? sp->test_state[i] : NULL, &s->rng,
                                          s->map, err);
        if (s->test_nets[i] && cliff_snapshot_names_check(s->test_nets[i], s->map, err)) {
            s->ntest = i + 1; /* freed with the solver */
            return -1;
        }
        if (!s->test_nets[i]) {
            /* Keep the "file:line:col: error:" form first; name the test net after. */
            if (err) {
                size_t n = strlen(err->msg);
                snprintf(err->msg + n, sizeof err->msg - n, " (in test net #%d)", i);
            }
            return -1;
        }
        s->ntest = i + 1;
        s->test_iter[i] = sp->test_iter[i];
        if (cliff_net_share_params_from(s->test_nets[i], s->net, err))
            return cliff_error_prefix(err, "test net #%d: ", i);
    }
    return 0;
}

/* The clip policy, per-blob norms and clip factors (1.0 while clipping is
 * off), and history. */
static int build_state(CliffSolver *s, CliffError *err)
{
    const CliffNet *net = s->net;
    if (cliff_clip_create(s->sp, net, s->map, &s->clip, err)) return -1;
    s->param_norms = calloc((size_t)net->nparams + 1, sizeof *s->param_norms);
    s->clip_factor = calloc((size_t)net->nparams + 1, sizeof *s->clip_factor);
    s->weight_norms = calloc((size_t)net->nparams + 1, sizeof *s->weight_norms);
    s->step_norms = calloc((size_t)net->nparams + 1, sizeof *s->step_norms);
    if (!s->param_norms || !s->clip_factor || !s->weight_norms || !s->step_norms)
        return cliff_error_set(err, "out of memory");
    for (int i = 0; i < net->nparams; i++) s->clip_factor[i] = 1.0;
    s->nhist = s->rule->nhist;
    size_t n = (size_t)s->nhist * net->param_count + 1;
    s->hist = calloc(n, sizeof(float));
    s->hist_scratch = calloc(n, sizeof(float));
    if (!s->hist || !s->hist_scratch) return cliff_error_set(err, "out of memory for history");
    return 0;
}

CliffSolver *cliff_solver_create(const Cliff__SolverParameter *sp, const CliffSrcMap *map,
                                 FILE *log, CliffError *err)
{
    CliffSolver *s = calloc(1, sizeof *s);
    if (!s) {
        cliff_error_set(err, "out of memory");
        return NULL;
    }
    s->sp = sp;
    s->map = map;
    s->log = log;
    s->last_snapshot_iter = -1;
    s->resumed_iter = -1;
    s->lock_fd = -1;
    const char *field;
    size_t index;
    if (check_config(s, &field, &index, err)) {
        cliff_error_at_field(err, map, &sp->base, field, index, "solver");
        goto fail;
    }
    s->seed = sp->random_seed >= 0 ? (uint64_t)sp->random_seed
                                   : (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
    cliff_rng_seed(&s->rng, s->seed);
    if (build_nets(s, err) || build_state(s, err)) goto fail;
    if (cliff_recovery_init(s, &field, err)) {
        cliff_error_at_field(err, map, &sp->base, field, 0, "solver");
        goto fail;
    }
    s->average_loss = sp->average_loss;
    s->losses = calloc((size_t)s->average_loss, sizeof *s->losses);
    if (!s->losses) {
        cliff_error_set(err, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < sp->n_weights; i++)
        if (cliff_solver_load_weights(s, sp->weights[i], err)) goto fail;
    return s;
fail:
    cliff_solver_free(s);
    return NULL;
}

void cliff_solver_free(CliffSolver *s)
{
    if (!s) return;
    cliff_metrics_close(s);
    cliff_recovery_free(&s->rec);
    for (int i = 0; i < s->ntest; i++) cliff_net_free(s->test_nets[i]);
    free(s->test_nets);
    free(s->test_iter);
    cliff_net_free(s->net);
    free(s->hist);
    free(s->hist_scratch);
    free(s->clip_factor);
    free(s->weight_norms);
    free(s->step_norms);
    cliff_clip_free(s->clip);
    free(s->param_norms);
    free(s->losses);
    free(s->prefix);
    free(s->metrics_path);
    free(s->resumed_path);
    cliff_solver_unlock_prefix(s);
    for (int i = 0; i < s->nmissing; i++) free(s->missing[i]);
    free(s->missing);
    free(s);
}

void cliff_solver_request(CliffSolver *s, int action)
{
    if (!s) return;
    /* several ranks: left for the next iteration to OR over the ranks (dist.c) */
    int shared = cliff_dist_size(s) > 1;
    if (action & CLIFF_REQUEST_SNAPSHOT) *(shared ? &s->pending_snapshot : &s->req_snapshot) = 1;
    if (action & CLIFF_REQUEST_STOP) *(shared ? &s->pending_stop : &s->req_stop) = 1;
}

CliffNet *cliff_solver_train_net(CliffSolver *s) { return s->net; }
int cliff_solver_num_test_nets(const CliffSolver *s) { return s->ntest; }
CliffNet *cliff_solver_test_net(CliffSolver *s, int i)
{
    return i >= 0 && i < s->ntest ? s->test_nets[i] : NULL;
}
const Cliff__SolverParameter *cliff_solver_param(const CliffSolver *s) { return s->sp; }
int cliff_solver_iter(const CliffSolver *s) { return s->iter; }
const CliffSolverStats *cliff_solver_stats(const CliffSolver *s) { return &s->stats; }
const double *cliff_solver_param_norms(const CliffSolver *s) { return s->param_norms; }
int cliff_solver_recovery_slots(const CliffSolver *s) { return s->rec.nslots; }
float *cliff_solver_history(CliffSolver *s, int *nhist)
{
    if (nhist) *nhist = s->nhist;
    return s->hist;
}

int cliff_solver_missing_layers(const CliffSolver *s, const char *const **names)
{
    if (names) *names = (const char *const *)s->missing;
    return s->nmissing;
}
