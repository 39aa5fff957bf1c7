/* HingeLoss (Caffe's HingeLossLayer): one-vs-all hinge loss.
 * bottom 0: scores N x D (any shape; D = count / N); bottom 1: N labels in
 * [0, D) (float-coded integers, checked before each forward: labels.h); top: scalar.
 * With m[n,d] = max(0, 1 - s x[n,d]), s = +1 for d == label[n] and -1 otherwise:
 *   L1 (default): loss = sum m / N;   dx = -s [m > 0] w / N
 *   L2:           loss = sum m^2 / N; dx = -2 s m w / N      (w = loss weight)
 */
#include <stdlib.h>

#include "loss_common.h"

typedef struct HingeState {
    int l2;
    CliffTensor margin; /* m of the last forward */
} HingeState;

static int hinge_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)top, (void)nt;
    const Cliff__HingeLossParameter *p = l->param->hinge_loss_param;
    HingeState *s = calloc(1, sizeof *s);
    if (!s) return cliff_error_set(err, "out of memory");
    s->l2 = p && p->norm == CLIFF__HINGE_LOSS_PARAMETER__NORM__L2;
    cliff_tensor_init(&s->margin);
    l->priv = s;
    return 0;
}

static int hinge_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)nt;
    HingeState *s = l->priv;
    char a[128], b[128];
    if (cliff_loss_reshape(bottom, top, err)) return -1;
    if (bottom[1]->count != (size_t)bottom[0]->shape[0])
        return cliff_error_set(err, "need one label per item: scores %s, labels %s",
                               cliff_tensor_shape_str(bottom[0], a, sizeof a),
                               cliff_tensor_shape_str(bottom[1], b, sizeof b));
    if (bottom[0]->shape[0] > 0 && bottom[0]->count == 0)
        return cliff_error_set(err, "scores %s have no classes",
                               cliff_tensor_shape_str(bottom[0], a, sizeof a));
    return cliff_tensor_reshape_like(&s->margin, bottom[0], err);
}

static int hinge_check(const CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffError *err)
{
    (void)nb;
    const size_t N = (size_t)bottom[0]->shape[0];
    return cliff_index_check(l, bottom, 1, N ? (long)(bottom[0]->count / N) : 0, NULL, "label",
                             err);
}

static void hinge_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                          CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    HingeState *s = l->priv;
    const size_t N = (size_t)bottom[0]->shape[0], D = N ? bottom[0]->count / N : 0;
    const float *x = bottom[0]->data, *label = bottom[1]->data;
    float *m = s->margin.data;
    double loss = 0;
    for (size_t n = 0; n < N; n++) {
        const size_t lab = (size_t)cliff_label_clamp(cliff_label_int(label[n]), (int)D);
        for (size_t d = 0; d < D; d++) {
            float v = 1.0f + (d == lab ? -x[n * D + d] : x[n * D + d]);
            v = v > 0.0f ? v : 0.0f;
            m[n * D + d] = v;
            loss += s->l2 ? (double)v * v : v;
        }
    }
    top[0]->data[0] = N ? (float)(loss / (double)N) : 0.0f;
}

static void hinge_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                           const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt;
    HingeState *s = l->priv;
    cliff_loss_zero_diffs(bottom, nb, propagate_down, 1);
    if (!propagate_down[0]) return;
    const size_t N = (size_t)bottom[0]->shape[0], D = N ? bottom[0]->count / N : 0;
    if (!N) return;
    const float *label = bottom[1]->data, *m = s->margin.data;
    float *dx = bottom[0]->diff;
    const float w = top[0]->diff[0] / (float)N;
    for (size_t n = 0; n < N; n++) {
        const size_t lab = (size_t)cliff_label_clamp(cliff_label_int(label[n]), (int)D);
        for (size_t d = 0; d < D; d++) {
            const float v = m[n * D + d], sign = d == lab ? -1.0f : 1.0f;
            dx[n * D + d] = s->l2 ? 2.0f * v * sign * w : (v > 0.0f ? sign * w : 0.0f);
        }
    }
}

static void hinge_destroy(CliffLayer *l)
{
    HingeState *s = l->priv;
    if (!s) return;
    cliff_tensor_free(&s->margin);
    free(s);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_HingeLoss = {
    .type = "HingeLoss",
    .min_bottoms = 2, .max_bottoms = 2, .min_tops = 1, .max_tops = 1,
    .is_loss = 1,
    .label_bottoms = 1u << 1,
    .setup = hinge_setup,
    .reshape = hinge_reshape,
    .check_bottoms = hinge_check,
    .forward = hinge_forward,
    .backward = hinge_backward,
    .destroy = hinge_destroy,
};
