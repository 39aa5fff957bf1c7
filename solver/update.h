/* Update rules (Caffe's SGD-family solvers) behind one ops table, and the
 * scale-and-decay pass that prepares their input.
 *
 * Every rule works on flat float ranges: the solver calls it once per chunk
 * (a few thousand elements) of each parameter blob, blob by blob, so that the
 * chunk's weights, gradient and history stay in L1 through scale-and-decay,
 * update and the finiteness check (step.c). Its history is nhist slabs of the
 * parameter slab's size; history k of the parameter at slab offset o lives at
 * k*count + o, so the snapshot order /history/<k*nparams + i> is "all first
 * moments, then all second moments", as Caffe's Adam and AdaDelta lay it out.
 *
 * Contract of update(): g holds the regularized gradient (after iter_size
 * normalization and scale-and-decay, below); on return g holds the step that
 * the solver subtracts from the weights (Caffe's diff after ComputeUpdateValue),
 * hout[k] the new history k. hin[k] and hout[k] may be the same array or
 * different ones (the solver writes into scratch so that a non-finite result
 * can be discarded). Formulas are Caffe's, evaluated in float in Caffe's order.
 */
#ifndef CLIFF_UPDATE_H
#define CLIFF_UPDATE_H

#include <stddef.h>

#include "cliff.pb-c.h"
#include "proto/error.h"
#include "proto/names.h"

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
    unsigned squares; /* bit k: history slab k holds squares or their averages, never
                         negative (checked when a snapshot is restored) */
    /* Rejects hyper-parameters the rule cannot use (Caffe's CHECKs); may be NULL. */
    int (*check)(const Cliff__SolverParameter *sp, CliffError *err);
    void (*update)(size_t n, float local_rate, const CliffUpdateHyper *hp, float *g,
                   const float *const *hin, float *const *hout);
} CliffUpdateRule;

extern const CliffUpdateRule cliff_update_sgd, cliff_update_nesterov, cliff_update_adagrad,
    cliff_update_rmsprop, cliff_update_adadelta, cliff_update_adam;

/* The table, by SolverParameter.type (exact, case-sensitive as in Caffe;
 * proto/names.h). find: NULL name means "SGD"; NULL when unknown. */
extern const CliffNameTable cliff_update_rule_table;
const CliffUpdateRule *cliff_update_rule_find(const char *name);

typedef enum { CLIFF_REG_L2 = 0, CLIFF_REG_L1 = 1 } CliffRegType;
/* "L2" / "L1" -> type; -1 with err for anything else. */
int cliff_reg_type_parse(const char *name, CliffError *err);

/* Scale-and-decay (scale_decay.c): the only place the clip factor is applied,
 * fused with weight decay in one pass over g[0..n) before the update rule:
 *   L2: g = f * g + decay * w;   L1: g = f * g + decay * sign(w),
 * with f = (float)clip_factor, the clip policy's factor in (0, 1] (clip.h).
 * A factor below 1e-30 (a norm above ~1e30) would lose precision as a float:
 * it is applied first, in double (g = (float)((double)g * clip_factor)), and
 * f is 1. With decay 0 and f 1, g is not written (bit-identical); with
 * decay != 0, 1 * g == g exactly. w is read only when decay != 0. */
void cliff_scale_and_decay(CliffRegType type, size_t n, double clip_factor, float decay,
                           const float *w, float *g);

#endif
