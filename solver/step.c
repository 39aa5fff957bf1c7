/* The iteration loop (Caffe's Solver::Step / Solve and SGDSolver::ApplyUpdate,
 * in cliff's order: normalize, measure, guard, clip, decay, update). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/kernels/isa_variants.h"
#include "solver/formats/snapshot.h"
#include "slab_blocks.h"
#include "solver_impl.h"

void cliff_solver_smooth_loss(CliffSolver *s, double loss)
{
    /* Mean of the last average_loss finite losses, kept as a ring. */
    if (s->nlosses < s->average_loss) {
        s->losses[s->nlosses++] = loss;
        s->smoothed_loss = (s->smoothed_loss * (s->nlosses - 1) + loss) / s->nlosses;
    } else {
        s->smoothed_loss += (loss - s->losses[s->loss_pos]) / s->average_loss;
        s->losses[s->loss_pos] = loss;
        s->loss_pos = (s->loss_pos + 1) % s->average_loss;
    }
}

/* Elements per chunk of the fused decay/update/check pass: the chunk's weights,
 * gradient and history stay in L1 between the three steps. */
#define STEP_CHUNK 2048

typedef struct StepJob {
    CliffSolver *s;
    CliffUpdateHyper hp;
    float rate;
    int bad_param; /* the first blob at fault, or -1 */
} StepJob;

/* Scale-and-decay and the update rule over one block of the slab (one blob's),
 * an L1-sized chunk at a time: g becomes the step and the scratch history the
 * new history. b->flag: some new history value or some w - step is not
 * finite (the rest of the block is then left undone). */
static void step_block(void *arg, CliffSlabBlock *b)
{
    const StepJob *j = arg;
    CliffSolver *s = j->s;
    const Cliff__SolverParameter *sp = s->sp;
    CliffNet *net = s->net;
    const CliffNetParam *p = &net->params[b->param];
    const double clip_factor = s->clip_factor[b->param];
    const float decay = sp->weight_decay * p->decay_mult, local_rate = j->rate * p->lr_mult;
    for (size_t c = 0; c < b->n; c += STEP_CHUNK) {
        const size_t off = b->off + c;
        const size_t n = b->n - c < STEP_CHUNK ? b->n - c : STEP_CHUNK;
        float *w = net->param_slab + off, *g = net->grad_slab + off;
        cliff_clip_apply(s->clip, b->param, off - p->offset, g, n);
        cliff_scale_and_decay(s->reg, n, clip_factor, decay, w, g);
        const float *hin[CLIFF_MAX_HISTORY];
        float *hout[CLIFF_MAX_HISTORY];
        for (int h = 0; h < s->nhist; h++) {
            hin[h] = s->hist + (size_t)h * net->param_count + off;
            hout[h] = s->hist_scratch + (size_t)h * net->param_count + off;
        }
        s->rule->update(n, local_rate, &j->hp, g, hin, hout);
        int bad = !cliff_all_finite_diff(w, g, n);
        for (int h = 0; h < s->nhist && !bad; h++) bad = !cliff_all_finite(hout[h], n);
        if (bad) {
            b->flag = 1;
            return;
        }
    }
}

/* The first bad block of the pass names the blob (blocks are in slab order). */
static void step_done(void *arg, const CliffSlabBlock *b, int nb)
{
    StepJob *j = arg;
    for (int k = 0; k < nb && j->bad_param < 0; k++)
        if (b[k].flag) j->bad_param = b[k].param;
}

/* Scale-and-decay (the blob's clip factor and weight decay) and the update
 * rule over every parameter blob, in blocks over the fork-join (every element
 * is computed alone, so the bits do not depend on the threads). Returns 1
 * when every new history value and every w - step is finite; else 0 with
 * *bad_param the first blob at fault (nothing has been applied to the weights
 * yet). */
static int compute_steps(CliffSolver *s, float rate, int *bad_param)
{
    const Cliff__SolverParameter *sp = s->sp;
    StepJob j = {s, {sp->momentum, sp->momentum2, sp->delta, sp->rms_decay, s->iter}, rate, -1};
    cliff_slab_pass(s->net->params, s->net->nparams, step_block, step_done, &j);
    if (j.bad_param < 0) return 1;
    *bad_param = j.bad_param;
    return 0;
}

/* w -= step, and the step zeroed: the gradient slab is then ready for the
 * next iteration's accumulation, without a pass of its own. Compiled for
 * each instruction set (isa_variants.h: the same bits). */
static inline __attribute__((always_inline)) void
apply_loop_body(float *restrict w, float *restrict g, size_t n)
{
    for (size_t e = 0; e < n; e++) {
        w[e] = w[e] - g[e];
        g[e] = 0.0f;
    }
}

CLIFF_ISA_VARIANTS(apply_loop, (float *w, float *g, size_t n), (w, g, n))

static void apply_block(void *arg, CliffSlabBlock *b)
{
    CliffNet *net = arg;
    apply_loop(net->param_slab + b->off, net->grad_slab + b->off, b->n);
}

static void apply_steps(CliffSolver *s)
{
    CliffNet *net = s->net;
    cliff_flat_pass(net->param_count, apply_block, net);
    s->grads_zero = 1;
    float *t = s->hist;
    s->hist = s->hist_scratch;
    s->hist_scratch = t;
}

typedef struct ScaleJob {
    float *g;
    float f;
} ScaleJob;

static void scale_block(void *arg, CliffSlabBlock *b)
{
    const ScaleJob *j = arg;
    float *g = j->g + b->off;
    for (size_t e = 0; e < b->n; e++) g[e] *= j->f;
}

static void zero_block(void *arg, CliffSlabBlock *b)
{
    memset((float *)arg + b->off, 0, b->n * sizeof(float));
}

static void display(CliffSolver *s)
{
    const Cliff__SolverParameter *sp = s->sp;
    if (!s->log) return;
    double now = cliff_clock_seconds();
    double dt = now - s->win_start;
    CliffIterRecord r = {0};
    r.iter = s->iter;
    r.max_iter = sp->max_iter;
    r.loss = s->stats.loss;
    r.smoothed_loss = s->smoothed_loss;
    r.lr = s->stats.lr;
    r.grad_norm = s->stats.grad_norm;
    r.clip_scale = s->stats.clip_scale;
    r.clipped = s->stats.clip_scale < 1.0;
    r.skipped = s->stats.last_skipped;
    r.window = s->win_iters;
    r.window_clipped = s->win_clipped;
    r.window_skipped = s->win_skipped;
    r.it_per_s = dt > 0 ? s->win_iters / dt : 0;
    int left = sp->max_iter - s->iter - 1;
    r.eta_s = r.it_per_s > 0 ? (left > 0 ? left : 0) / r.it_per_s : -1;
    s->fmt->iteration(s->log, &r);
    if (s->clip && !r.skipped) {
        char what[256];
        cliff_log_event(s->fmt, s->log, s->iter, "clip", "    %s",
                        cliff_clip_describe(s->clip, what, sizeof what));
    }
    /* The train net's outputs of this iteration, as Caffe prints them. */
    const CliffNet *net = s->net;
    int idx = 0;
    for (int o = 0; o < net->noutputs; o++) {
        const CliffTensor *t = net->blobs[net->output_ids[o]];
        for (size_t e = 0; e < t->count; e++, idx++)
            s->fmt->output(s->log, "Train", 0, s->iter, idx, net->blob_names[net->output_ids[o]],
                           t->data[e], net->output_loss_weight[o]);
    }
    if (sp->debug_info) cliff_grad_report_log(s);
    s->win_iters = s->win_clipped = s->win_skipped = 0;
    s->win_start = now;
}

/* A forward that stopped on bad data (net->data_error) ends the run: the
 * data file is broken, so skipping the batch would hide it and training on
 * would learn from it. Nothing is updated or snapshotted. Returns -1. */
int cliff_solver_data_error(CliffSolver *s, const CliffNet *net, const char *where,
                             CliffError *err)
{
    cliff_error_set(err, "iteration %d, %s: %s; stopping (no update, no snapshot)", s->iter,
                    where, net->runtime_error.msg);
    cliff_log_event(s->fmt, s->log, s->iter, "error", "%s", err->msg);
    return cliff_error_mark(err, CLIFF_ERR_DATA);
}

/* One training iteration at s->iter (not advanced here). A bad step (skipped
 * update) is recorded in s->stats.last_skipped and counted in
 * s->consecutive_bad, which the caller checks against max_bad_steps. *ev gets
 * the recovery event found (recovery.h), *trouble the first iteration it
 * concerns. Returns -1 when a forward stopped on bad data (nothing updated;
 * the net's runtime_error says why), -2 when another rank's did (several
 * ranks: runtime_error names it), else 0. */
static int iteration(CliffSolver *s, CliffEvent *ev, int *trouble)
{
    const Cliff__SolverParameter *sp = s->sp;
    CliffNet *net = s->net;
    CliffRecovery *rec = &s->rec;
    *ev = CLIFF_EVENT_NONE;
    *trouble = s->iter;
    /* a good step leaves the gradients zeroed (apply_steps) */
    if (!s->grads_zero) cliff_flat_pass(net->param_count, zero_block, net->grad_slab);
    s->grads_zero = 0;
    double loss = 0, mean_ref = 0; /* mean_ref: the dead detector's (recovery.h) */
    int failed = 0;
    for (int k = 0; k < sp->iter_size && !failed; k++) {
        loss += cliff_net_forward(net);
        if ((failed = net->data_error)) break;
        if (rec->euclidean) mean_ref += cliff_mean_predictor_loss(rec, net);
        cliff_net_backward(net);
    }
    loss /= sp->iter_size;
    mean_ref = rec->euclidean ? mean_ref / sp->iter_size : NAN;
    if (sp->iter_size > 1 && !failed) {
        ScaleJob sj = {net->grad_slab, 1.0f / (float)sp->iter_size};
        cliff_flat_pass(net->param_count, scale_block, &sj);
    }
    /* several ranks: gradient and loss averaged over them from here on; a
     * rank that met bad data tells the others there, and all stop */
    int reduced = cliff_dist_reduce(s, &loss, failed ? 1 + CLIFF_ERR_DATA : 0);
    if (reduced) return failed || reduced < 0 ? -1 : -2;

    int bad_param = -1;
    double norm = cliff_slab_norms(net->grad_slab, net->params, net->nparams, s->param_norms,
                                   &bad_param);
    /* the lr policy's rate, scaled by the recovery's rollbacks (1 until then) */
    float rate = s->lr_policy->rate(sp, s->iter, &s->current_step);
    if (rec->lr_scale != 1.0) rate = (float)(rate * rec->lr_scale);
    double smallest_factor = 1.0;
    const char *why = NULL;
    char spike_why[128];
    if (!isfinite(loss))
        why = "non-finite loss";
    else if (bad_param >= 0)
        why = "non-finite gradient";
    else if (cliff_spike_check(rec, loss)) {
        *ev = CLIFF_EVENT_SPIKE;
        rec->spike_median = cliff_median(rec->spike_win, rec->spike_n);
        snprintf(spike_why, sizeof spike_why, "loss spike (%.6g > %g x %.6g, the median of the "
                 "last %d losses)", loss, rec->spike_factor, rec->spike_median,
                 CLIFF_SPIKE_WINDOW);
        if (rec->mode == CLIFF_RECOVERY_SKIP)
            cliff_log_event(s->fmt, s->log, s->iter, "event", "%s; recovery skip: logged only",
                            spike_why);
        else
            why = spike_why; /* stop and rollback: the step is not applied */
    }
    if (!why) {
        if (s->clip) {
            CliffClipStep cs = {net, s->param_norms, norm, rate, s->iter};
            smallest_factor = cliff_clip_decide(s->clip, &cs, s->clip_factor);
        }
        if (compute_steps(s, rate, &bad_param)) {
            if (cliff_grad_report_due(s)) cliff_grad_report_measure(s);
            apply_steps(s);
        } else
            why = "update would make weights or history non-finite";
    }

    s->stats.loss = loss;
    s->stats.lr = rate;
    s->stats.grad_norm = norm;
    s->stats.clip_scale = smallest_factor;
    s->stats.last_skipped = why != NULL;
    s->win_iters++;
    if (isfinite(loss)) cliff_solver_smooth_loss(s, loss);
    if (why) {
        if (*ev == CLIFF_EVENT_NONE) *ev = CLIFF_EVENT_NONFINITE;
        s->consecutive_bad++;
        s->skipped_total++;
        s->win_skipped++;
        cliff_log_event(s->fmt, s->log, s->iter, "skip",
                        "skipped update: %s (loss %.6g, grad norm %.6g) in parameter '%s'; "
                        "%d consecutive bad step(s) of max_bad_steps %d",
                        why, loss, norm, bad_param >= 0 ? net->params[bad_param].name : "(loss)",
                        s->consecutive_bad, (int)sp->max_bad_steps);
    } else {
        s->consecutive_bad = 0;
        if (smallest_factor < 1.0) {
            s->clipped_total++;
            s->win_clipped++;
        }
        if (*ev == CLIFF_EVENT_NONE) {
            /* a clean iteration: its loss joins the spike window, its state is good */
            cliff_spike_push(rec, loss);
            cliff_ring_good(s, s->iter);
        }
    }
    s->stats.clipped = s->clipped_total;
    s->stats.skipped = s->skipped_total;
    s->stats.consecutive_bad = s->consecutive_bad;
    s->stats.smoothed_loss = s->smoothed_loss;
    cliff_metrics_train(s, cliff_clock_seconds() - s->t0);
    int window = sp->display > 0 ? (int)sp->display : 100;
    if (cliff_dead_update(rec, s->iter, loss, norm, mean_ref, s->iter % window == 0) &&
        *ev == CLIFF_EVENT_NONE) {
        *ev = CLIFF_EVENT_DEAD;
        *trouble = rec->dead_since;
    }
    if (sp->display && s->iter % sp->display == 0) display(s);
    return 0;
}

static int due_test(const CliffSolver *s)
{
    const Cliff__SolverParameter *sp = s->sp;
    /* several ranks: rank 0 alone tests */
    return s->ntest && cliff_dist_lead(s) && sp->test_interval > 0 &&
           s->iter % sp->test_interval == 0 && (s->iter > 0 || sp->test_initialization);
}

int cliff_solver_step(CliffSolver *s, int iters, CliffError *err)
{
    const Cliff__SolverParameter *sp = s->sp;
    if (!s->t0) {
        s->t0 = cliff_clock_seconds();
        s->last_snapshot_time = s->t0;
        cliff_snapshot_remove_stale(s);
    }
    if (cliff_metrics_open(s, err)) return -1;
    s->win_start = cliff_clock_seconds();
    int stop_iter = s->iter + iters;
    while (s->iter < stop_iter) {
        if (cliff_ring_capture(s, err)) return -1;
        /* rank 0 tests alone: the others learn of its failure in their reduction */
        if (due_test(s) && cliff_solver_test_all(s, err)) return cliff_dist_fail(s, err);
        CliffEvent ev;
        int trouble;
        int done = iteration(s, &ev, &trouble);
        if (done == -2) {
            /* another rank's error, which that rank reports: a stop here */
            cliff_error_set(err, "iteration %d: %s; stopping (no update, no snapshot)",
                            s->iter, s->net->runtime_error.msg);
            cliff_log_event(s->fmt, s->log, s->iter, "stop", "%s", err->msg);
            return cliff_error_mark(err, s->net->runtime_error.kind);
        }
        if (done < 0) return cliff_solver_data_error(s, s->net, "train net", err);
        if (cliff_metrics_check(s, err)) return -1;
        s->iter++;
        s->stats.iter = s->iter;
        if (ev != CLIFF_EVENT_NONE && cliff_recovery_handle(s, ev, trouble, err)) return -1;
        if (s->consecutive_bad >= sp->max_bad_steps) {
            char why[128];
            snprintf(why, sizeof why, "%d consecutive bad steps (max_bad_steps %d): the "
                     "gradient or update is non-finite", s->consecutive_bad,
                     (int)sp->max_bad_steps);
            return cliff_recovery_stop(s, why, 0, err);
        }
        /* snapshot_interval_seconds: checked here, between iterations */
        int want_snapshot = (sp->snapshot > 0 && s->iter % sp->snapshot == 0) || s->req_snapshot ||
                            (sp->snapshot_interval_seconds > 0 &&
                             cliff_clock_seconds() - s->last_snapshot_time >=
                                 sp->snapshot_interval_seconds);
        s->req_snapshot = 0;
        if (want_snapshot && cliff_solver_snapshot(s, err)) return -1;
        if (s->req_stop) {
            s->stats.stopped_early = 1;
            break;
        }
    }
    return 0;
}

int cliff_solver_solve(CliffSolver *s, CliffError *err)
{
    const Cliff__SolverParameter *sp = s->sp;
    const CliffNet *net = s->net;
    /* "clip_gradients 1 global_norm", "clip_gradients -1 (off)", or for a
     * policy without a threshold "clip_gradients -1, clip_policy zscore" */
    char clip[96];
    snprintf(clip, sizeof clip, "%g%s%s", (double)sp->clip_gradients,
             !s->clip ? " (off)" : sp->clip_gradients >= 0 ? " " : ", clip_policy ",
             s->clip ? s->clip->policy->name : "");
    /* clip_policy "auto" says what it resolved to, in the log and as a
     * metrics row (kind setting, value = the C it clips at). */
    const CliffClipResolved res = cliff_clip_resolve(sp);
    char resolved[160] = "";
    if (res.is_auto) {
        snprintf(resolved, sizeof resolved, "clip_policy auto = %s at %g, recovery %s",
                 res.policy->name, res.threshold, res.recovery);
        if (cliff_metrics_open(s, err)) return -1;
        cliff_metrics_blob(s, "setting", resolved, res.threshold, 0.0);
    }
    cliff_log_event(s->fmt, s->log, s->iter, "start",
                    "Solving %s: type %s, lr_policy %s, base_lr %g, iter_size %d, "
                    "clip_gradients %s, random_seed %llu, %zu parameters in %d blobs%s%s",
                    net->name && net->name[0] ? net->name : "(unnamed)", s->rule->name, s->lr_policy->name,
                    (double)sp->base_lr, (int)sp->iter_size, clip,
                    (unsigned long long)s->seed, net->param_count, net->nparams,
                    res.is_auto ? "; " : "", resolved);
    if (cliff_solver_step(s, sp->max_iter - s->iter, err)) return -1;
    if (s->stats.stopped_early) {
        cliff_log_event(s->fmt, s->log, s->iter, "stop", "Optimization stopped early.");
        return 0;
    }
    if (sp->snapshot_after_train && s->last_snapshot_iter != s->iter &&
        cliff_solver_snapshot(s, err))
        return -1;
    if (due_test(s) && cliff_solver_test_all(s, err)) return -1;
    char events[512];
    cliff_recovery_summary(s, events, sizeof events);
    cliff_log_event(s->fmt, s->log, s->iter, "done",
                    "Optimization Done: %lld of %d iterations clipped, %lld skipped.%s",
                    s->clipped_total, s->iter, s->skipped_total, events);
    return 0;
}
