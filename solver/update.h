/* Update rules (Caffe's SGD-family solvers) behind one ops table, and weight
 * decay.
 *
 * Every rule works on flat float ranges: the solver calls it once per run of
 * consecutive parameter blobs that share lr_mult (so once for the whole slab
 * in the common case). Its history is nhist slabs of the parameter slab's
 * size; history k of the parameter at slab offset o lives at k*count + o, so
 * the snapshot order /history/<k*nparams + i> is "all first moments, then all
 * second moments", as Caffe's Adam and AdaDelta lay it out.
 *
 * Contract of update(): g holds the regularized gradient (after iter_size
 * normalization, clipping and decay); on return g holds the step that the
 * solver subtracts from the weights (Caffe's diff after ComputeUpdateValue),
 * hout[k] the new history k. hin[k] and hout[k] may be the same array or
 * different ones (the solver writes into scratch so that a non-finite result
 * can be discarded). Formulas are Caffe's, evaluated in float in Caffe's order.
 */
#ifndef CLIFF_UPDATE_H
#define CLIFF_UPDATE_H

#include <stddef.h>

#include "cliff.pb-c.h"
#include "proto/error.h"

#define CLIFF_MAX_HISTORY 2

typedef struct CliffUpdateHyper {
    float momentum;  /* SGD/Nesterov momentum; AdaDelta's decay; Adam's beta1 */
    float momentum2; /* Adam's beta2 */
    float delta;     /* AdaGrad/RMSProp/AdaDelta/Adam epsilon */
    float rms_decay; /* RMSProp */
    int iter;        /* the iteration being applied, 0-based (Adam: t = iter + 1) */
} CliffUpdateHyper;

typedef struct CliffUpdateRule {
    const char *name; /* SolverParameter.type */
    int nhist;        /* history slabs per parameter slab */
    /* Rejects hyper-parameters the rule cannot use (Caffe's CHECKs); may be NULL. */
    int (*check)(const Cliff__SolverParameter *sp, CliffError *err);
    void (*update)(size_t n, float local_rate, const CliffUpdateHyper *hp, float *g,
                   const float *const *hin, float *const *hout);
} CliffUpdateRule;

extern const CliffUpdateRule cliff_update_sgd, cliff_update_nesterov, cliff_update_adagrad,
    cliff_update_rmsprop, cliff_update_adadelta, cliff_update_adam;

/* The table, by SolverParameter.type (exact, case-sensitive as in Caffe). */
const CliffUpdateRule *cliff_update_rule_find(const char *name);
size_t cliff_update_rule_count(void);
const CliffUpdateRule *cliff_update_rule_at(size_t i);
/* Comma-separated names, for "unknown type" errors. */
const char *cliff_update_rule_names(char *buf, size_t len);

/* The clip factor and weight decay, in one pass before the update rule:
 * L2: g = clip * g + decay * w;  L1: g = clip * g + decay * sign(w).
 * With clip 1 the gradient's own bits are kept (1 * g == g exactly). */
typedef enum { CLIFF_REG_L2 = 0, CLIFF_REG_L1 = 1 } CliffRegType;
/* "L2" / "L1" -> type; -1 with err for anything else. */
int cliff_reg_type_parse(const char *name, CliffError *err);
void cliff_regularize(CliffRegType type, size_t n, float clip, float decay, const float *w,
                      float *g);

#endif
