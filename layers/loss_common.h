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

/* The class layout of a softmax-style loss: scores (bottom[0]) split at the
 * class axis into outer x C x inner, one label (bottom[1]) per outer x inner
 * position. Resolves the axis (axis_field names it in errors), checks the
 * label count, and sizes prob like the scores, scratch to inner floats and the
 * optional probability top (nt >= 2). */
typedef struct CliffClassLayout {
    int axis;
    size_t outer, C, inner;
} CliffClassLayout;
int cliff_loss_class_reshape(CliffTensor *const *bottom, CliffTensor *const *top, int nt,
                             int axis_param, const char *axis_field, CliffClassLayout *out,
                             CliffTensor *prob, CliffTensor *scratch, CliffError *err);

#endif
