/* `train --time`: Caffe's `caffe time`, extended with the solver step.
 * Runs warm-up iterations, then `iters` full training iterations of the
 * solver, and prints per layer the average forward and backward milliseconds,
 * their share of the iteration, and GFLOP/s where the layer reports its
 * multiply-adds (convolution, inner product); then data loading (the data
 * layers' forward), the solver step (zeroing, norm, clip, decay, update), the
 * whole iteration and iterations per second. */
#ifndef CLIFF_TIMING_H
#define CLIFF_TIMING_H

#include <stdio.h>

#include "solver/solver.h"

/* Sets the fields of sp that would make a timing run test, display, snapshot
 * or write metrics, so that only training iterations run. */
void cliff_time_configure(Cliff__SolverParameter *sp, int iters);
int cliff_time_solver(CliffSolver *s, int iters, FILE *out, CliffError *err);

#endif
