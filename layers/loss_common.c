/* See loss_common.h. */
#include "loss_common.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include "layers/kernels/fork_join.h"

CliffLossMode cliff_loss_mode(const Cliff__LayerParameter *p, CliffLossMode fallback)
{
    const Cliff__LossParameter *lp = p->loss_param;
    if (lp && lp->has_normalization) return lp->normalization;
    if (lp && lp->has_normalize)
        return lp->normalize ? CLIFF__LOSS_PARAMETER__NORMALIZATION_MODE__VALID
                             : CLIFF__LOSS_PARAMETER__NORMALIZATION_MODE__BATCH_SIZE;
    return fallback;
}

double cliff_loss_normalizer(CliffLossMode mode, size_t outer, size_t inner, long valid_count)
{
    double n;
    switch (mode) {
    case CLIFF__LOSS_PARAMETER__NORMALIZATION_MODE__FULL: n = (double)outer * inner; break;
    case CLIFF__LOSS_PARAMETER__NORMALIZATION_MODE__VALID:
        n = valid_count < 0 ? (double)outer * inner : (double)valid_count;
        break;
    case CLIFF__LOSS_PARAMETER__NORMALIZATION_MODE__BATCH_SIZE: n = (double)outer; break;
    default: n = 1; break;
    }
    return n < 1 ? 1 : n;
}

int cliff_loss_reshape(CliffTensor *const *bottom, CliffTensor *const *top, CliffError *err)
{
    char a[128], b[128];
    if (bottom[0]->num_axes < 1 || bottom[1]->num_axes < 1 ||
        bottom[0]->shape[0] != bottom[1]->shape[0])
        return cliff_error_set(err,
                               "the data (%s) and label (%s) bottoms should have the same first "
                               "dimension",
                               cliff_tensor_shape_str(bottom[0], a, sizeof a),
                               cliff_tensor_shape_str(bottom[1], b, sizeof b));
    return cliff_tensor_reshape(top[0], 0, NULL, err);
}

int cliff_loss_ignore_label(const Cliff__LayerParameter *p, int *label)
{
    if (!p->loss_param || !p->loss_param->has_ignore_label) return 0;
    *label = p->loss_param->ignore_label;
    return 1;
}

void cliff_loss_zero_diffs(CliffTensor *const *bottom, int nb, const int *propagate_down,
                           int first)
{
    for (int i = first; i < nb; i++)
        if (propagate_down[i]) memset(bottom[i]->diff, 0, bottom[i]->count * sizeof(float));
}

void cliff_softmax_block(const float *x, float *p, size_t C, size_t inner, float *scratch)
{
    if (inner == 1) {
        float m = x[0];
        for (size_t c = 1; c < C; c++) m = x[c] > m ? x[c] : m; /* NaN-ignoring, like fmaxf */
        float sum = 0;
        for (size_t c = 0; c < C; c++) {
            p[c] = expf(x[c] - m);
            sum += p[c];
        }
        const float inv = 1.0f / sum;
        for (size_t c = 0; c < C; c++) p[c] *= inv;
        return;
    }
    float *m = scratch;
    memcpy(m, x, inner * sizeof(float));
    for (size_t c = 1; c < C; c++)
#pragma omp simd
        for (size_t j = 0; j < inner; j++) m[j] = x[c * inner + j] > m[j] ? x[c * inner + j] : m[j];
    for (size_t c = 0; c < C; c++)
        for (size_t j = 0; j < inner; j++) p[c * inner + j] = expf(x[c * inner + j] - m[j]);
    float *sum = scratch;
    memset(sum, 0, inner * sizeof(float));
    for (size_t c = 0; c < C; c++)
#pragma omp simd
        for (size_t j = 0; j < inner; j++) sum[j] += p[c * inner + j];
    for (size_t j = 0; j < inner; j++) sum[j] = 1.0f / sum[j];
    for (size_t c = 0; c < C; c++)
#pragma omp simd
        for (size_t j = 0; j < inner; j++) p[c * inner + j] *= sum[j];
}

void cliff_class_loss_init(CliffClassLoss *s, const Cliff__LayerParameter *p)
{
    s->mode = cliff_loss_mode(p, CLIFF__LOSS_PARAMETER__NORMALIZATION_MODE__VALID);
    s->has_ignore = cliff_loss_ignore_label(p, &s->ignore_label);
    cliff_tensor_init(&s->prob);
    cliff_tensor_init(&s->scratch);
}

void cliff_class_loss_free(CliffClassLoss *s)
{
    cliff_tensor_free(&s->prob);
    cliff_tensor_free(&s->scratch);
}

int cliff_class_loss_check(const CliffLayer *l, const CliffClassLoss *s,
                           CliffTensor *const *bottom, CliffError *err)
{
    return cliff_index_check(l, bottom, 1, (long)s->C, s->has_ignore ? &s->ignore_label : NULL,
                             "label", err);
}

/* Scores a chunk of outer rows takes over the fork-join: char_lstm's 2048
 * rows of 100 classes (0.8 ms of libm expf) go out in 13 chunks; a small
 * batch stays one. Every row is computed alone: the same bits on any thread
 * count. */
#define SOFTMAX_CHUNK_FLOATS 16384

typedef struct SoftmaxJob {
    CliffClassLoss *s;
    const float *x;
    size_t per; /* rows a chunk */
} SoftmaxJob;

/* Rows [chunk*per, +per), with thread's own inner floats of scratch. */
static void softmax_rows(void *arg, int chunk, int thread)
{
    const SoftmaxJob *j = arg;
    CliffClassLoss *s = j->s;
    const size_t dim = s->C * s->inner, i0 = (size_t)chunk * j->per;
    const size_t i1 = s->outer - i0 < j->per ? s->outer : i0 + j->per;
    for (size_t i = i0; i < i1; i++)
        cliff_softmax_block(j->x + i * dim, s->prob.data + i * dim, s->C, s->inner,
                            s->scratch.data + (size_t)thread * s->inner);
}

void cliff_class_loss_softmax(CliffClassLoss *s, const float *x)
{
    const size_t dim = s->C * s->inner;
    size_t per = dim && dim < SOFTMAX_CHUNK_FLOATS ? SOFTMAX_CHUNK_FLOATS / dim : 1;
    if (s->outer / per >= INT_MAX) per = s->outer / (INT_MAX - 1) + 1; /* chunks fit an int */
    SoftmaxJob j = {s, x, per};
    cliff_fj_for((int)((s->outer + per - 1) / per), softmax_rows, &j);
}

void cliff_class_loss_output(const CliffClassLoss *s, double loss, long valid,
                             CliffTensor *const *top, int nt)
{
    top[0]->data[0] = (float)(loss / cliff_loss_normalizer(s->mode, s->outer, s->inner, valid));
    if (nt >= 2) memcpy(top[1]->data, s->prob.data, s->prob.count * sizeof(float));
}

long cliff_class_loss_valid(const CliffClassLoss *s, const float *label)
{
    long valid = 0;
    for (size_t k = 0; k < s->outer * s->inner; k++)
        valid += !cliff_class_loss_ignores(s, cliff_label_int(label[k]));
    return valid;
}

int cliff_class_loss_reshape(CliffClassLoss *s, CliffTensor *const *bottom,
                             CliffTensor *const *top, int nt, int axis_param,
                             const char *axis_field, CliffError *err)
{
    char a[128], b[128];
    if (cliff_loss_reshape(bottom, top, err)) return -1;
    int axis = cliff_tensor_axis(bottom[0], axis_param, err);
    if (axis < 0) return cliff_error_prefix(err, "%s: ", axis_field);
    const size_t outer = cliff_tensor_count_range(bottom[0], 0, axis);
    const size_t inner = cliff_tensor_count_range(bottom[0], axis + 1, bottom[0]->num_axes);
    const size_t C = (size_t)bottom[0]->shape[axis];
    if (outer * inner != bottom[1]->count)
        return cliff_error_set(
            err,
            "number of labels must match number of predictions: scores %s with class axis %d "
            "need %zu labels (one per position outside the axis), label bottom %s has %zu",
            cliff_tensor_shape_str(bottom[0], a, sizeof a), axis, outer * inner,
            cliff_tensor_shape_str(bottom[1], b, sizeof b), bottom[1]->count);
    if (C == 0 && bottom[1]->count > 0)
        return cliff_error_set(err, "scores %s have no classes along axis %d",
                               cliff_tensor_shape_str(bottom[0], a, sizeof a), axis);
    /* scratch: inner floats for each thread of the softmax (forward) */
    const size_t scratch_n = inner * (size_t)cliff_fj_threads();
    if (inner > INT_MAX / CLIFF_FJ_MAX)
        return cliff_error_set(err, "scores %s: %zu positions per class are too many",
                               cliff_tensor_shape_str(bottom[0], a, sizeof a), inner);
    int inner_shape[1] = {(int)scratch_n};
    if (cliff_tensor_reshape_like(&s->prob, bottom[0], err) ||
        cliff_tensor_reshape(&s->scratch, 1, inner_shape, err))
        return -1;
    if (nt >= 2 && cliff_tensor_reshape_like(top[1], bottom[0], err)) return -1;
    s->axis = axis;
    s->outer = outer;
    s->inner = inner;
    s->C = C;
    return 0;
}
