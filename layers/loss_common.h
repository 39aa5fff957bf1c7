/* Pieces shared by the loss and metric layers (Caffe's LossLayer):
 * normalization modes, the scalar loss top (float-coded labels: labels.h). */
#ifndef CLIFF_LOSS_COMMON_H
#define CLIFF_LOSS_COMMON_H

#include "labels.h"
#include "layer.h"

typedef Cliff__LossParameter__NormalizationMode CliffLossMode;

/* The normalization a loss layer uses: loss_param.normalization when given,
 * else the legacy bool loss_param.normalize (true: VALID, false: BATCH_SIZE),
 * else fallback (SoftmaxWithLoss: VALID; SigmoidCrossEntropyLoss: BATCH_SIZE). */
CliffLossMode cliff_loss_mode(const Cliff__LayerParameter *p, CliffLossMode fallback);

/* Caffe's get_normalizer: FULL outer*inner, VALID valid_count (outer*inner when
 * valid_count < 0), BATCH_SIZE outer, NONE 1; never below 1, so a batch whose
 * labels are all ignored gives loss 0, not NaN. */
double cliff_loss_normalizer(CliffLossMode mode, size_t outer, size_t inner, long valid_count);

/* LossLayer::Reshape: bottoms 0 and 1 share their first dimension, and
 * top[0] becomes a scalar. */
int cliff_loss_reshape(CliffTensor *const *bottom, CliffTensor *const *top, CliffError *err);

/* The ignore_label of loss_param: returns 1 and sets *label when given. */
int cliff_loss_ignore_label(const Cliff__LayerParameter *p, int *label);

/* Bottoms from `first` on that a loss cannot differentiate (labels, the
 * infogain matrix...): when the net still asks (force_backward), their
 * gradient is written as zeros rather than left stale. */
void cliff_loss_zero_diffs(CliffTensor *const *bottom, int nb, const int *propagate_down,
                           int first);

/* p = softmax(x) over C classes for one outer index: x and p are C x inner
 * (class stride inner), max-subtracted. scratch holds inner floats; p may not
 * alias x. */
void cliff_softmax_block(const float *x, float *p, size_t C, size_t inner, float *scratch);

/* What a softmax-style loss (SoftmaxWithLoss, InfogainLoss) keeps: scores
 * (bottom[0]) split at the class axis into outer x C x inner, one label
 * (bottom[1]) per outer x inner position. */
typedef struct CliffClassLoss {
    CliffLossMode mode;        /* fallback VALID */
    int has_ignore, ignore_label;
    int axis;                  /* canonical, set in reshape */
    size_t outer, C, inner;    /* set in reshape */
    CliffTensor prob;          /* softmax output, shape of bottom 0 */
    CliffTensor scratch;       /* inner floats per fork-join thread: running max / sum
                                  per position */
} CliffClassLoss;

/* Setup: normalization and ignore_label from p, empty tensors. */
void cliff_class_loss_init(CliffClassLoss *s, const Cliff__LayerParameter *p);
void cliff_class_loss_free(CliffClassLoss *s);

/* Reshape: resolves the axis (axis_field names it in errors), checks the
 * label count, and sizes prob like the scores, scratch to inner floats a
 * thread and the optional probability top (nt >= 2). s's layout is left as it was on error. */
int cliff_class_loss_reshape(CliffClassLoss *s, CliffTensor *const *bottom,
                             CliffTensor *const *top, int nt, int axis_param,
                             const char *axis_field, CliffError *err);

/* check_bottoms: every label (bottom 1) is a class index below C, or the
 * ignored label. */
int cliff_class_loss_check(const CliffLayer *l, const CliffClassLoss *s,
                           CliffTensor *const *bottom, CliffError *err);

/* 1 when label value lab is the ignored one. */
static inline int cliff_class_loss_ignores(const CliffClassLoss *s, int lab)
{
    return s->has_ignore && lab == s->ignore_label;
}

/* Forward's first step: prob = softmax of the scores x (bottom 0's data)
 * along the class axis, for every outer index; rows in chunks over the
 * fork-join (each row alone: the same bits on any thread count). */
void cliff_class_loss_softmax(CliffClassLoss *s, const float *x);

/* Forward's last step: top[0] = loss normalized (s->mode) over `valid`
 * labels; a copy of prob in top[1] when there is one (nt >= 2). */
void cliff_class_loss_output(const CliffClassLoss *s, double loss, long valid,
                             CliffTensor *const *top, int nt);

/* How many of the outer x inner labels are not ignored (VALID's count). */
long cliff_class_loss_valid(const CliffClassLoss *s, const float *label);

#endif
