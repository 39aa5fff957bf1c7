/* Float-coded integers read from data: class labels (the losses, Accuracy),
 * similarity labels (ContrastiveLoss) and row indices (Embed, BatchReindex).
 * Data from files can hold anything, so every layer that reads such a bottom
 * checks it before each forward (CliffLayerOps.check_bottoms) with
 * cliff_index_check; forward then trusts the values, and clamps only as a
 * memory guard for callers that skip the check. */
#ifndef CLIFF_LABELS_H
#define CLIFF_LABELS_H

#include "layer.h"

/* A float-coded label as Caffe reads it (static_cast<int>, truncation toward
 * zero), defined for every float: NaN and values beyond int range map to
 * INT_MIN / INT_MAX, never undefined behaviour. */
int cliff_label_int(float v);

/* A label forced into [0, n) (n > 0): the memory guard of forward. */
static inline int cliff_label_clamp(int label, int n)
{
    return label < 0 ? 0 : label >= n ? n - 1 : label;
}

/* Checks every value of bottom bi of l: it must be an integer in [0, n), or,
 * when ignore is not NULL, a value Caffe reads as *ignore (cliff_label_int;
 * never NaN). On the first bad value returns -1 with err naming the role
 * ("label", "index"...), the bottom, the batch row (index along the first
 * axis; with the position inside the row when a row holds several values)
 * and the value, e.g.
 *   label bottom 'label' row 3: value 12 is not an integer in [0, 10)
 * The net prefixes the layer's name and type. */
int cliff_index_check(const CliffLayer *l, CliffTensor *const *bottom, int bi, long n,
                      const int *ignore, const char *role, CliffError *err);

/* Real-valued targets (SigmoidCrossEntropyLoss, EuclideanLoss): Caffe takes any
 * value, so only non-finite ones are refused here, where they would otherwise
 * turn the loss into NaN or inf (a bad step whose cause is the data). Every
 * value of bottom bi must be finite, or (ignore not NULL) one Caffe reads as
 * *ignore; on the first other returns -1 with err positioned as above:
 *   target bottom 'label' row 2, position 1: value nan is not finite */
int cliff_finite_check(const CliffLayer *l, CliffTensor *const *bottom, int bi,
                       const int *ignore, const char *role, CliffError *err);

#endif
