/* Learning-rate policies (Caffe's SGDSolver::GetLearningRate), one table row
 * each. iter is the 0-based iteration being applied.
 *   fixed      base_lr
 *   step       base_lr * gamma ^ floor(iter / stepsize)        (current_step = that floor)
 *   exp        base_lr * gamma ^ iter
 *   inv        base_lr * (1 + gamma * iter) ^ (-power)
 *   multistep  base_lr * gamma ^ current_step, where current_step advances by at
 *              most one per call when iter >= stepvalue[current_step] (Caffe's counter;
 *              saved in snapshots)
 *   poly       base_lr * (1 - iter / max_iter) ^ power
 *   sigmoid    base_lr / (1 + exp(-gamma * (iter - stepsize)))
 * A policy's required fields missing from the config is an error at load. */
#ifndef CLIFF_LR_POLICY_H
#define CLIFF_LR_POLICY_H

#include <stddef.h>

#include "cliff.pb-c.h"
#include "proto/error.h"
#include "proto/names.h"

typedef struct CliffLrPolicy {
    const char *name;
    /* Checks that the fields the policy reads are set and sane. */
    int (*check)(const Cliff__SolverParameter *sp, CliffError *err);
    /* The rate at iter; may advance *current_step. */
    float (*rate)(const Cliff__SolverParameter *sp, int iter, int *current_step);
} CliffLrPolicy;

/* The policies by name (proto/names.h). find: NULL name means "fixed"; NULL
 * when unknown. */
extern const CliffNameTable cliff_lr_policy_table;
const CliffLrPolicy *cliff_lr_policy_find(const char *name);
/* find + check, with the error naming the known policies. */
const CliffLrPolicy *cliff_lr_policy_load(const Cliff__SolverParameter *sp, CliffError *err);

#endif
