/* Recovery: what the solver does about a non-finite step, a loss spike or a
 * dead run (SolverParameter.recovery and its knobs, cliff fields 1005-1013).
 *
 * Events, each one log line (kind "event") and one metrics row (kind "event",
 * output = the event's name, value as below):
 *   nonfinite  a bad step: loss, gradient or update non-finite (value: loss)
 *   spike      loss > spike_factor x median of the last CLIFF_SPIKE_WINDOW
 *              accepted losses, once that window is full (value: the median)
 *   dead       dead_windows display windows in a row with the window's mean
 *              loss within dead_epsilon x |L0| of L0 and its mean gradient norm
 *              below dead_grad_ratio x the first iteration's; L0 is the loss
 *              of the run's first iteration or, for a net whose losses are all
 *              SoftmaxWithLoss, sum of loss_weight x ln(classes); for a net
 *              whose losses are all EuclideanLoss also the mean predictor's
 *              loss (a regression net stuck at the targets' mean):
 *              sum of loss_weight x 1/(2(N-1)) sum_n ||t_n - mean_n t_n||^2
 *              over the batch's targets t (bottom 1), averaged over the window
 *              (value: the window's mean loss)
 *   rollback   the state went back (row iteration: the state gone back to;
 *              value: the iteration the trouble was found at)
 *   stop       the run stopped on an event (value: the iteration of the last
 *              good state saved, -1 when there was none)
 *
 * What each setting does with an event:
 *   skip      (default, Caffe-compatible) a non-finite step is skipped; spikes
 *             and dead runs are logged and counted only (the step is applied);
 *             max_bad_steps consecutive bad steps stop the run.
 *   stop      the first event stops the run (a spike's step is not applied).
 *   rollback  the state goes back to the newest good state older than the
 *             trouble (the bad step, the spike, or the first dead window), the
 *             lr policy's rate is multiplied by rollback_lr_factor from then on
 *             (a scale on the schedule: the policy itself is unchanged), and
 *             the run continues; after max_rollbacks rollbacks the next event
 *             stops it.
 * A stop writes a snapshot of the last good state: the newest state of the
 * ring whose iteration ran clean (finite forward, finite update, no spike), so
 * resuming from it starts with a finite forward pass.
 *
 * The ring (state_ring.c) takes a good-state candidate at the start of every
 * recovery_interval-th iteration (and of the first iteration run) and marks
 * it good once that iteration ran clean. A state is what a snapshot holds
 * (cliff_state_collect: weights, history, iteration, lr step, RNG, counters,
 * loss window, every layer's state words including the data cursors), so the
 * ring and the snapshot cannot drift apart. Under rollback the ring keeps
 * recovery_ring states plus the run's first one (pinned: a dead run can go back
 * to the start); under skip and stop, two (the good one and the candidate).
 *
 * The recovery's own progress (lr scale, rollbacks, event counts, the dead
 * detector's references) is saved with snapshots as the state words of
 * net "solver", layer "recovery"; a rollback never restores it. */
#ifndef CLIFF_RECOVERY_H
#define CLIFF_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "cliff.pb-c.h"
#include "proto/error.h"
#include "solver/formats/snapshot.h"

#define CLIFF_SPIKE_WINDOW 50

typedef enum { CLIFF_RECOVERY_SKIP, CLIFF_RECOVERY_STOP, CLIFF_RECOVERY_ROLLBACK } CliffRecoveryMode;

typedef enum {
    CLIFF_EVENT_NONE = 0,
    CLIFF_EVENT_NONFINITE,
    CLIFF_EVENT_SPIKE,
    CLIFF_EVENT_DEAD,
} CliffEvent;

/* One state of the ring. */
typedef struct CliffRingSlot {
    int used, good, pinned, iter;
    float *weights; /* param_count */
    CliffStateData d; /* owning copy */
} CliffRingSlot;

typedef struct CliffRecovery {
    CliffRecoveryMode mode;
    int interval, max_rollbacks, dead_windows;
    double spike_factor, lr_factor, dead_eps, dead_grad_ratio;

    int nslots;
    CliffRingSlot *slots;

    /* Progress (saved with snapshots, never rolled back). */
    double lr_scale;
    int rollbacks;
    long long nonfinite_events, spikes, dead_events;
    double ref_loss, ref_grad; /* the run's first iteration; NAN until seen */

    /* Spike detector: the last CLIFF_SPIKE_WINDOW accepted losses. */
    double spike_win[CLIFF_SPIKE_WINDOW];
    int spike_n, spike_pos;
    double spike_median; /* of the last spike found */

    /* Dead detector. */
    double softmax_loss; /* sum of w ln C when every loss is a softmax; NAN otherwise */
    int euclidean;       /* every loss is an EuclideanLoss: the mean-predictor reference */
    double win_loss, win_grad, win_mean_ref;
    int win_mean_n;      /* iterations with a finite mean-predictor reference */
    int win_n, win_first; /* the window's finite iterations and its first iteration */
    int dead_in_row, dead_since;
    int ended_dead; /* the last window was dead */
} CliffRecovery;

struct CliffSolver;

/* Reads and checks the settings (recovery name, rollback_lr_factor <= 1; the
 * other bounds are proto/bounds.c's); *field names the field an error is
 * about. The ring's memory is taken at the first capture. */
int cliff_recovery_init(struct CliffSolver *s, const char **field, CliffError *err);
void cliff_recovery_free(CliffRecovery *r);

/* Median of x[0..n) (n >= 1; the mean of the two middle values when n is
 * even); x is not changed. */
double cliff_median(const double *x, int n);
/* 1 when loss is a spike against the window (full window, factor > 0). */
int cliff_spike_check(const CliffRecovery *r, double loss);
/* Adds an accepted finite loss to the spike window. */
void cliff_spike_push(CliffRecovery *r, double loss);
/* Adds an iteration to the dead detector (finite loss and norm only); at the
 * end of a window (end_of_window) decides it; returns 1 when the dead run is
 * an event now (dead_windows windows in a row). mean_ref: this iteration's
 * mean-predictor loss (cliff_mean_predictor_loss), NAN when there is none. */
int cliff_dead_update(CliffRecovery *r, int iter, double loss, double grad_norm,
                      double mean_ref, int end_of_window);
/* The loss predicting the targets' mean scores, estimated on the batch the
 * train net's last forward saw: sum over its EuclideanLoss layers of
 * loss_weight x 1/(2(N-1)) sum_n sum_d (t_nd - tbar_d)^2, t = bottom 1 as
 * N x D (N = shape[0], the layer's own normalization), tbar_d the batch mean
 * (N - 1: unbiased for the mean over all targets). NAN unless r->euclidean,
 * or when a batch has fewer than 2 rows. */
double cliff_mean_predictor_loss(const CliffRecovery *r, const CliffNet *net);

/* The ring (state_ring.c). capture: takes a candidate when due (returns -1 on
 * out of memory). good: marks the candidate of iter good. rollback: restores
 * the newest good state with iteration < before; -1 when there is none. */
int cliff_ring_capture(struct CliffSolver *s, CliffError *err);
void cliff_ring_good(struct CliffSolver *s, int iter);
int cliff_ring_restore_before(struct CliffSolver *s, int before, CliffError *err);
/* The newest good state's iteration, -1 when none. */
int cliff_ring_newest_good(const struct CliffSolver *s);

/* Events (recovery_event.c). handle: counts and logs ev, found at iteration
 * s->iter - 1 (trouble: the first iteration it concerns), and acts on it; 0
 * to continue (skip, or after a rollback), -1 when the run stops (err
 * filled). stop: restores the newest good state, snapshots it, fills err with
 * why (dead: the stop is about a dead run); returns -1. summary: the events
 * for the final line ("" when none). */
int cliff_recovery_handle(struct CliffSolver *s, CliffEvent ev, int trouble, CliffError *err);
int cliff_recovery_stop(struct CliffSolver *s, const char *why, int dead, CliffError *err);
void cliff_recovery_summary(const struct CliffSolver *s, char *buf, size_t len);
/* Copies the counters into the solver's public stats. */
void cliff_recovery_sync_stats(struct CliffSolver *s);

/* The recovery's progress as state words (for snapshots) and back. */
#define CLIFF_RECOVERY_WORDS 8
void cliff_recovery_save(const CliffRecovery *r, int64_t *words);
int cliff_recovery_load(CliffRecovery *r, const int64_t *words, size_t n, CliffError *err);

#endif
