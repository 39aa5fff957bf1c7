/* Internals shared by the solver's files (not part of the public API). */
#ifndef CLIFF_SOLVER_IMPL_H
#define CLIFF_SOLVER_IMPL_H

#include <signal.h>
#include <stdint.h>

#include "layers/kernels/clock.h"
#include "layers/kernels/finite.h"

#include "clip.h"
#include "log.h"
#include "lr_policy.h"
#include "recovery.h"
#include "solver.h"
#include "update.h"

struct CliffSolver {
    const Cliff__SolverParameter *sp;
    const CliffSrcMap *map;
    FILE *log;
    const CliffLogFormat *fmt;
    const CliffUpdateRule *rule;
    const CliffLrPolicy *lr_policy;
    CliffClip *clip; /* the clip policy instance; NULL when clipping is off */
    CliffRegType reg;
    int snapshot_hdf5;
    char *prefix; /* snapshot_prefix */
    uint64_t seed;

    CliffRng rng;
    CliffNet *net;
    int ntest;
    CliffNet **test_nets;
    int *test_iter;

    /* Optimizer state. */
    int nhist;
    float *hist, *hist_scratch; /* nhist * param_count each; swapped after a good step */
    int iter, current_step;
    double *param_norms; /* nparams */
    double *clip_factor; /* nparams: clip factor of the current step (1.0 = none) */
    /* The gradient report (grad_report.c) of a display iteration: weight and
     * step norms per blob, measured before the step is applied. */
    double *weight_norms, *step_norms; /* nparams */
    int report_measured;
    /* The last good step zeroed the train net's gradient slab (step.c), so the
     * next iteration does not zero it again; code that writes those gradients
     * outside an iteration must clear it. */
    int grads_zero;

    /* Smoothed loss over the last average_loss iterations (Caffe's UpdateSmoothedLoss). */
    double *losses;
    int nlosses, loss_pos, average_loss;
    double smoothed_loss;

    /* Counters (saved in snapshots). */
    long long clipped_total, skipped_total;
    int consecutive_bad;
    /* Since the last display line. */
    int win_iters, win_clipped, win_skipped;
    double win_start;

    CliffSolverStats stats;
    volatile sig_atomic_t req_snapshot, req_stop;
    /* Data-parallel runs (dist.c): the communicator (NULL: one process), and
     * the requests signals left, which the next iteration ORs over the ranks
     * into req_snapshot / req_stop so every rank acts at the same iteration. */
    struct CliffComm *comm;
    volatile sig_atomic_t pending_snapshot, pending_stop;
    int last_snapshot_iter;
    double last_snapshot_time; /* monotonic seconds: run start, then each snapshot */
    char *resumed_path;        /* the state file this run resumed from (NULL: none) */
    int resumed_iter;          /* its iteration, -1 when none */
    int lock_fd;               /* <prefix>.lock while held (prefix_lock.c), else -1 */

    FILE *metrics;
    char *metrics_path;
    int metrics_errno; /* first failed write's errno (-1 when errno said nothing), else 0 */
    double t0; /* solve start (monotonic seconds) */

    char **missing;
    int nmissing;

    CliffRecovery rec; /* recovery.h */
};

/* The gradient report (debug_info): due at this iteration; measure between
 * the update rule and the apply; log at display (grad_report.c). */
int cliff_grad_report_due(const CliffSolver *s);
void cliff_grad_report_measure(CliffSolver *s);
void cliff_grad_report_log(CliffSolver *s);

/* Smoothed-loss window update (finite losses only). */
void cliff_solver_smooth_loss(CliffSolver *s, double loss);

/* A forward that stopped on bad data: err names the iteration, where and the
 * net's runtime error; logged; returns -1 (kind CLIFF_ERR_DATA). step.c. */
int cliff_solver_data_error(CliffSolver *s, const CliffNet *net, const char *where,
                            CliffError *err);

/* snapshot_keep: after a snapshot, deletes the pairs of this prefix beyond the
 * newest K (never the pair resumed from while no newer pair exists);
 * snapshot_files.c. */
void cliff_snapshot_retain(CliffSolver *s);

/* The non-finite guard's last good state is saved as the pair
 * <prefix>_iter_<N>.lastgood.caffemodel[.h5] / .lastgood.solverstate[.h5]:
 * not a snapshot name (<prefix>_iter_<N> then exactly one of the four
 * snapshot extensions), so retention never lists it and --resume auto never
 * picks it (it names it); no other prefix can produce the name. */
#define CLIFF_LASTGOOD_TAG ".lastgood"

/* Writes the solver's current state as the last good state pair (above);
 * no retention pass. snapshot.c. */
int cliff_solver_snapshot_last_good(CliffSolver *s, CliffError *err);

/* Removes <prefix>_iter_*.tmp files left by a run killed while snapshotting
 * (snapshot.c). */
void cliff_snapshot_remove_stale(CliffSolver *s);

/* Checks a state read for resume against its meaning and this run (solver
 * type, iteration and lr step, weights file, counters, RNG, loss window,
 * second moments); restore_check.c. */
struct CliffStateData;
int cliff_restore_check(const CliffSolver *s, const struct CliffStateData *d, const char *path,
                        CliffError *err);

/* The solver's state as a record (state_record.c): collect fills d with the
 * current state, borrowing the history, loss window and type (copy = 0: free
 * with cliff_state_borrowed_free; the recovery's progress is included) or
 * owning copies of them (copy = 1: cliff_state_data_free; without the
 * recovery's progress, which a rollback never restores). commit loads the
 * layer states (the only step that can fail; then nothing else has changed),
 * then the weights (param_count floats), history, iteration, lr step, RNG,
 * counters and loss window; with_recovery also the recovery's progress. */
int cliff_state_collect(CliffSolver *s, CliffStateData *d, int copy);
void cliff_state_borrowed_free(CliffStateData *d);
/* 1 when d holds state for this run's clip policy (same policy, same size). */
int cliff_state_clip_same(const CliffSolver *s, const CliffStateData *d);
int cliff_state_commit(CliffSolver *s, const CliffStateData *d, const float *weights,
                       int with_recovery, CliffError *err);
/* Data-parallel runs (dist.c). lead: 1 on rank 0 (or alone), the rank that
 * logs, tests and writes files. reduce: in the iteration, after backward and
 * iter_size: gradient slab and loss averaged over the ranks, requests ORed;
 * -1 with net->runtime_error filled when MPI fails. check_agree: collective;
 * -1 when the ranks' weights, history, RNG or cursors differ. */
int cliff_dist_lead(const CliffSolver *s);
int cliff_dist_size(const CliffSolver *s);
/* Joins the iteration's reduction. failed: 0, or 1 + the kind (proto/error.h)
 * of this rank's error (its forward stopped on bad data: CLIFF_ERR_DATA; *loss
 * is then not used). Returns 0 (gradient and loss averaged), 1 when some rank
 * failed (every rank returns it; stats.failed_together and report_rank set; a
 * rank that did not fail gets a runtime_error naming the one that did, of its
 * kind), or -1 for an MPI error (the net's runtime_error). One process:
 * returns failed != 0. */
int cliff_dist_reduce(CliffSolver *s, double *loss, int failed);
/* Rank 0's test failed (err) at the top of an iteration, where the other
 * ranks wait in that iteration's reduction: joins it as failed, so that every
 * rank stops there and only this one prints. Returns -1. */
int cliff_dist_fail(CliffSolver *s, const CliffError *err);
int cliff_dist_check_agree(CliffSolver *s, CliffError *err);

/* Metrics CSV (metrics.c). */
int cliff_metrics_open(CliffSolver *s, CliffError *err);
void cliff_metrics_train(CliffSolver *s, double seconds);
void cliff_metrics_test(CliffSolver *s, int net_id, const char *name, double value,
                        double seconds);
void cliff_metrics_close(CliffSolver *s);
/* A per-blob row: kind (grad_norm, weight_norm, update_ratio), output = blob. */
void cliff_metrics_blob(CliffSolver *s, const char *kind, const char *blob, double value,
                        double seconds);
/* An event row: kind "event", output = name, value (recovery.h). */
void cliff_metrics_event(CliffSolver *s, const char *name, double value, double seconds);
/* -1 with an error naming the file and the system's reason once a metrics
 * write has failed (a full disk); the step loop stops the run on it. */
int cliff_metrics_check(const CliffSolver *s, CliffError *err);

#endif
