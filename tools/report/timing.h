/* `train --time`: Caffe's `caffe time`, extended with the solver step.
 * Runs warm-up iterations, then `iters` full training iterations of the
 * solver, and prints per layer the average forward and backward milliseconds,
 * their share of the iteration, and GFLOP/s where the layer reports its
 * multiply-adds (convolution, inner product); then data loading (the data
 * layers' forward), per data layer with a prefetch queue the training loop's
 * wait per batch and the time of making one (layers/data/prefetch.h), the
 * solver step (zeroing, norm, clip, decay, update), the whole iteration and
 * iterations per second. */
#ifndef CLIFF_TIMING_H
#define CLIFF_TIMING_H

#include <stdio.h>

#include "solver/solver.h"

/* The --set overrides ("FIELD=VALUE") that keep a timing run of iters
 * iterations (after the warm-up) from testing, displaying, snapshotting or
 * writing metrics, so that only training iterations run. Fills out[0..n) and
 * returns n (at most CLIFF_TIME_NOVERRIDES). iters <= CLIFF_TIME_MAX_ITERS. */
#define CLIFF_TIME_NOVERRIDES 7
#define CLIFF_TIME_MAX_ITERS 1000000000
size_t cliff_time_overrides(int iters, char out[][64]);
int cliff_time_solver(CliffSolver *s, int iters, FILE *out, CliffError *err);

#endif
