/* The solver: trains a net from a SolverParameter (Caffe's Solver/SGDSolver).
 *
 * One iteration, in this order:
 *   zero the gradient slab; iter_size x (forward, backward) accumulating;
 *   divide the gradients by iter_size; global and per-blob L2 norms (double);
 *   non-finite guard (NaN/inf loss or gradient: the update is skipped, logged
 *   and counted); clip (clip_policy, threshold clip_gradients >= 0); weight
 *   decay (regularization_type, times decay_mult); the update rule (type, with
 *   lr_mult) into scratch history, checked finite, then applied; advance.
 * An update whose weights or history would be non-finite is a bad step too and
 * is not applied. After max_bad_steps consecutive bad steps the run stops with
 * an error and a snapshot of the last good state. No NaN/inf is ever written
 * to a snapshot.
 *
 * Nets: the train net (train_net_param or net_param, phase TRAIN merged with
 * train_state) and the test nets (test_net_param[i], then generic instances of
 * net_param, phase TEST merged with test_state[i]); test nets share the train
 * net's weights. File references (net, train_net, test_net) must have been
 * inlined by the config loader before cliff_solver_create.
 *
 * Logging goes to the FILE * given at create (NULL: silent) in log_format
 * (human | kv | json); a metrics CSV (metrics_file, default
 * <snapshot_prefix>_metrics.csv) gets one row per iteration and per test output:
 *   kind,iter,loss,smoothed_loss,lr,grad_norm,clip_scale,skipped,seconds,output,value,
 *   clip_threshold,clip_fraction
 * (kind "train": output/value empty, clip_threshold the clip policy's threshold
 * in force (-1: none yet), clip_fraction the fraction of its units (rows,
 * elements, blobs, the gradient) clipped, both empty when clipping is off or
 * the step was skipped; kind "test": loss..skipped and clip_* empty, output
 * "test<i>/<name>"; with debug_info, at each display iteration, kinds
 * grad_norm, weight_norm and update_ratio: one row per parameter blob, output
 * the blob's name (grad_report.c)).
 * Kind "event": a recovery event, output its name and value as
 * solver/recovery.h says, loss/lr/grad_norm of the iteration, clip_* empty.
 *
 * Recovery (solver/recovery.h): non-finite steps, loss spikes and dead runs
 * are events handled by the recovery setting (skip, stop, rollback); a stop
 * saves the last good state of an in-memory ring of states.
 */
#ifndef CLIFF_SOLVER_H
#define CLIFF_SOLVER_H

#include <stdio.h>

#include "cliff.pb-c.h"
#include "proto/error.h"
#include "layers/net/net.h"

typedef struct CliffSolver CliffSolver;

/* Requests, OR-able; cliff_solver_request is async-signal-safe. */
enum {
    CLIFF_REQUEST_NONE = 0,
    CLIFF_REQUEST_SNAPSHOT = 1,      /* snapshot after the current iteration, continue */
    CLIFF_REQUEST_STOP = 2,          /* stop after the current iteration (status 0) */
    CLIFF_REQUEST_SNAPSHOT_STOP = 3, /* both: SIGINT/SIGTERM's default */
};

/* Validates the config (update type, lr policy and its fields, clip policy,
 * log format, regularization, snapshot settings), seeds the run's RNG from
 * random_seed (< 0: from the clock), builds the nets and loads
 * SolverParameter.weights. sp (and map) must outlive the solver. */
CliffSolver *cliff_solver_create(const Cliff__SolverParameter *sp, const CliffSrcMap *map,
                                 FILE *log, CliffError *err);
void cliff_solver_free(CliffSolver *s);

/* Continues from <prefix>_iter_N.solverstate.h5 or a binary .solverstate,
 * cliff's or Caffe's: weights from learned_net (looked up beside the state
 * file, then as written), history, iteration, lr step; with cliff's /cliff
 * extras also the RNG, data-layer cursors, smoothed-loss window and counters
 * (without them, as from Caffe: cursors at 0, RNG re-seeded from random_seed).
 * Everything is read and checked before anything in the solver changes. */
int cliff_solver_restore(CliffSolver *s, const char *state_path, CliffError *err);
/* restore, and remember the file as the one this run resumed from (which
 * snapshot_keep never deletes while no newer pair exists). */
int cliff_solver_resume_from(CliffSolver *s, const char *state_path, CliffError *err);
/* --resume auto: resumes from the state file of <snapshot_prefix>_iter_*
 * holding the highest iteration (read from inside the files); a file that
 * does not read back whole or does not restore is skipped with a warning in
 * the log naming it, and the next older one is tried. None at all: logs one
 * line and leaves the solver fresh (0). Error (-1): no snapshot_prefix, or
 * files that read but none of which fits this solver (so that a new run does
 * not snapshot over them). */
int cliff_solver_resume_auto(CliffSolver *s, CliffError *err);

/* Takes the advisory lock <snapshot_prefix>.lock (flock; folders made as
 * needed) until cliff_solver_free, so that one run at a time writes under a
 * prefix; call it before resuming and training. 0 also when there is no
 * prefix or this process is not the one that writes (ranks past 0). Held by
 * another process: -1, a config error naming the prefix, the lock file and
 * the holder's pid; the lock file cannot be made: -1, CLIFF_ERR_IO.
 * prefix_lock.c. */
int cliff_solver_lock_prefix(CliffSolver *s, CliffError *err);
void cliff_solver_unlock_prefix(CliffSolver *s);

/* Initializes the train net from comma-separated .caffemodel.h5 / .caffemodel
 * files, layers matched by name (later files win). Layers with parameters
 * absent from every file keep their fillers and are logged; see
 * cliff_solver_missing_layers. A shape mismatch is an error naming the layer
 * and both shapes (nothing is changed then). */
int cliff_solver_load_weights(CliffSolver *s, const char *paths, CliffError *err);
/* After load_weights: names of the train-net layers with parameters that no
 * file provided (valid until the next load or free). */
int cliff_solver_missing_layers(const CliffSolver *s, const char *const **names);

/* Runs from the current iteration to max_iter (Caffe's Solve): tests every
 * test_interval, displays every display, snapshots every snapshot and after
 * training (snapshot_after_train), acting on requests between iterations.
 * 0: done or stopped on request; -1: error (err filled; after max_bad_steps a
 * snapshot of the last good state has been written). */
int cliff_solver_solve(CliffSolver *s, CliffError *err);
/* Runs `iters` iterations (tests, displays and snapshots included as in solve,
 * but no final snapshot). Same return values. */
int cliff_solver_step(CliffSolver *s, int iters, CliffError *err);
/* Runs every test net once (test_iter batches each) and logs the outputs. */
int cliff_solver_test_all(CliffSolver *s, CliffError *err);

/* The mean of every test-net output element over one test pass (`caffe
 * test`): outputs in net order, then output order, then element order, as
 * the log numbers them ("Test net output #k"). */
typedef struct CliffTestMean {
    int net, index;   /* test net, and k within it */
    const char *name; /* the output blob (owned by the net) */
    double mean, loss_weight;
} CliffTestMean;
typedef struct CliffTestTotals {
    CliffTestMean *means;
    int n;
    int *iters;       /* batches run, per test net */
    int nnets;
} CliffTestTotals;
/* test_all with `iters` batches per net instead of test_iter (iters <= 0:
 * test_iter), the means also returned in *totals (may be NULL; free with
 * cliff_test_totals_free). Logs exactly what test_all logs. */
int cliff_solver_test_pass(CliffSolver *s, int iters, CliffTestTotals *totals, CliffError *err);
void cliff_test_totals_free(CliffTestTotals *t);
/* Writes <prefix>_iter_<iter> weights and state now (snapshot_format). */
int cliff_solver_snapshot(CliffSolver *s, CliffError *err);
void cliff_solver_request(CliffSolver *s, int action);

/* Makes this solver rank comm->rank of a data-parallel run of comm->size
 * processes (solver/comm.h, solver/dist.c): shards the train net's data,
 * averages gradient and loss over the ranks every iteration; only rank 0
 * tests, writes metrics and snapshots (give the other ranks a NULL log).
 * Call after create, before restore or solve; comm must outlive the solver. */
struct CliffComm;
int cliff_solver_set_comm(CliffSolver *s, struct CliffComm *comm, CliffError *err);

/* Accessors. */
CliffNet *cliff_solver_train_net(CliffSolver *s);
int cliff_solver_num_test_nets(const CliffSolver *s);
CliffNet *cliff_solver_test_net(CliffSolver *s, int i);
const Cliff__SolverParameter *cliff_solver_param(const CliffSolver *s);
int cliff_solver_iter(const CliffSolver *s);

/* What happened so far (for tools and tests). */
typedef struct CliffSolverStats {
    int iter;                 /* iterations done */
    double loss, smoothed_loss, lr, grad_norm, clip_scale; /* of the last iteration */
    int last_skipped;         /* the last iteration was a bad step */
    long long clipped, skipped; /* totals */
    int consecutive_bad;
    int stopped_early;        /* solve ended on a STOP request */
    /* Recovery (solver/recovery.h): events so far, the lr scale in force, and
     * whether the last display window was dead. */
    int rollbacks, ended_dead;
    long long nonfinite_events, spikes, dead_events;
    double lr_scale;
    int failed_together;      /* the error was reached by every rank at the same
                                 iteration (max_bad_steps, ranks disagreeing, a
                                 rank's bad data told to all): no rank waits for
                                 another, none needs aborting */
    int report_rank;          /* ... and this rank prints it (0, or the lowest rank
                                 that met bad data); the others stay silent */
    char last_snapshot[1024]; /* state file of the last snapshot ("" if none) */
} CliffSolverStats;
const CliffSolverStats *cliff_solver_stats(const CliffSolver *s);
/* Per-parameter-blob gradient norms (before clipping) of the last iteration,
 * in net->params order. */
const double *cliff_solver_param_norms(const CliffSolver *s);
/* The optimizer history slab: nhist * param_count floats (history k of the
 * parameter at slab offset o at k*param_count + o). */
float *cliff_solver_history(CliffSolver *s, int *nhist);
/* States the recovery ring can hold (recovery.h: 2 under skip and stop,
 * recovery_ring + 1 under rollback), each a copy of the weights and the
 * history: param_count * (1 + nhist) floats (for --dry-run's memory bound). */
int cliff_solver_recovery_slots(const CliffSolver *s);

#endif
