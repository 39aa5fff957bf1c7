/* Accuracy (Caffe's AccuracyLayer): fraction of positions whose label is among
 * the top_k scores. Forward only.
 *
 * bottom 0: scores, outer x C x inner (C = shape[accuracy_param.axis], axis default 1);
 * bottom 1: outer * inner float-coded labels in [0, C) or ignore_label, checked
 *           before each forward (labels.h);
 * top 0: accuracy, a scalar (0 when every label is ignored);
 * top 1: (optional) per-class accuracy, [C]: hits / occurrences of each
 *        class as a label (0 for a class that does not occur).
 * accuracy_param: top_k (default 1, at most C), ignore_label.
 * A position counts as a hit when fewer than top_k other classes score >=
 * the labelled class's score (ties count against it, as in Caffe).
 * NaN scores are no evidence of a right answer: a NaN at the labelled class
 * is a miss, and a NaN at another class counts as scoring above it (Caffe's
 * `>` would count both as hits, so a NaN net scored accuracy 1).
 */
#include <stdlib.h>
#include <string.h>

#include "loss_common.h"

typedef struct AccuracyState {
    unsigned top_k;
    int has_ignore, ignore_label;
    size_t outer, inner, C;
    CliffTensor nums; /* [C]: occurrences of each label (per-class top) */
} AccuracyState;

static int acc_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                     int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)top, (void)nt;
    const Cliff__AccuracyParameter *p = l->param->accuracy_param;
    AccuracyState *s = calloc(1, sizeof *s);
    if (!s) return cliff_error_set(err, "out of memory");
    s->top_k = p ? p->top_k : 1;
    s->has_ignore = p && p->has_ignore_label;
    s->ignore_label = s->has_ignore ? p->ignore_label : 0;
    cliff_tensor_init(&s->nums);
    l->priv = s;
    return 0;
}

static int acc_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb;
    AccuracyState *s = l->priv;
    const Cliff__AccuracyParameter *p = l->param->accuracy_param;
    char a[128], b[128];
    int axis = cliff_tensor_axis(bottom[0], p ? p->axis : 1, err);
    if (axis < 0) return cliff_error_prefix(err, "accuracy_param.axis: ");
    s->outer = cliff_tensor_count_range(bottom[0], 0, axis);
    s->inner = cliff_tensor_count_range(bottom[0], axis + 1, bottom[0]->num_axes);
    s->C = (size_t)bottom[0]->shape[axis];
    if (s->outer * s->inner != bottom[1]->count)
        return cliff_error_set(err, "number of labels must match number of predictions: "
                               "scores %s with axis %d need %zu labels, label bottom %s has %zu",
                               cliff_tensor_shape_str(bottom[0], a, sizeof a), axis,
                               s->outer * s->inner,
                               cliff_tensor_shape_str(bottom[1], b, sizeof b), bottom[1]->count);
    if (s->top_k < 1 || s->top_k > s->C)
        return cliff_error_set(err, "top_k (%u) must be between 1 and the number of classes "
                               "(%zu)", s->top_k, s->C);
    if (cliff_tensor_reshape(top[0], 0, NULL, err)) return -1;
    int C = (int)s->C;
    if (nt >= 2 && (cliff_tensor_reshape(top[1], 1, &C, err) ||
                    cliff_tensor_reshape(&s->nums, 1, &C, err)))
        return -1;
    return 0;
}

static int acc_check(const CliffLayer *l, CliffTensor *const *bottom, int nb, CliffError *err)
{
    (void)nb;
    const AccuracyState *s = l->priv;
    return cliff_index_check(l, bottom, 1, (long)s->C, s->has_ignore ? &s->ignore_label : NULL,
                             "label", err);
}

static void acc_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt)
{
    (void)nb;
    AccuracyState *s = l->priv;
    const size_t C = s->C, inner = s->inner, dim = C * inner;
    const float *x = bottom[0]->data, *label = bottom[1]->data;
    float *per_class = nt >= 2 ? top[1]->data : NULL, *nums = s->nums.data;
    if (per_class) {
        memset(per_class, 0, C * sizeof(float));
        memset(nums, 0, C * sizeof(float));
    }
    long hits = 0, count = 0;
    for (size_t i = 0; i < s->outer; i++)
        for (size_t j = 0; j < inner; j++) {
            int lab = cliff_label_int(label[i * inner + j]);
            if (s->has_ignore && lab == s->ignore_label) continue;
            lab = cliff_label_clamp(lab, (int)C);
            const float *xi = x + i * dim + j;
            const float truth = xi[(size_t)lab * inner];
            /* Classes other than the label not scoring below it (NaN included);
             * a NaN truth is never a hit. */
            size_t better = truth == truth ? 0 : s->top_k;
            for (size_t c = 0; c < C; c++) better += c != (size_t)lab && !(xi[c * inner] < truth);
            if (per_class) nums[lab] += 1;
            if (better < s->top_k) {
                hits++;
                if (per_class) per_class[lab] += 1;
            }
            count++;
        }
    top[0]->data[0] = count ? (float)hits / (float)count : 0.0f;
    if (per_class)
        for (size_t c = 0; c < C; c++) per_class[c] = nums[c] ? per_class[c] / nums[c] : 0.0f;
}

static void acc_destroy(CliffLayer *l)
{
    AccuracyState *s = l->priv;
    if (!s) return;
    cliff_tensor_free(&s->nums);
    free(s);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_Accuracy = {
    .type = "Accuracy",
    .min_bottoms = 2, .max_bottoms = 2, .min_tops = 1, .max_tops = 2,
    .setup = acc_setup,
    .reshape = acc_reshape,
    .check_bottoms = acc_check,
    .forward = acc_forward,
    .backward = NULL,
    .destroy = acc_destroy,
};
