/* ContrastiveLoss (Caffe's ContrastiveLossLayer), for siamese networks.
 * bottom 0: a, N x D; bottom 1: b, same shape; bottom 2: N similarity labels,
 * 1 similar pair, 0 dissimilar; anything else (NaN, 0.5, 2) stops the forward
 * with an error (Caffe reads any nonzero integer value as similar, so a NaN
 * or a -1 for "dissimilar" trained silently wrong); top: scalar.
 * contrastive_loss_param: margin (default 1), legacy_version (default false).
 * With d2 = |a_n - b_n|^2 and d = sqrt(d2):
 *   loss = sum_n [similar ? d2 : max(margin - d, 0)^2] / (2 N)
 *   legacy: dissimilar pairs add max(margin - d2, 0) instead.
 * Gradients to a (b gets the negative), w = loss weight:
 *   similar:    w (a - b) / N
 *   dissimilar: -w (margin - d) / (d + 1e-4) (a - b) / N when margin > d, else 0
 *   legacy:     -w (a - b) / N when margin > d2, else 0
 * (the 1e-4 is Caffe's guard against d = 0). No gradient to the labels.
 */
#include <math.h>
#include <stdlib.h>

#include "loss_common.h"

typedef struct ContrastiveState {
    float margin;
    int legacy;
    CliffTensor diff;    /* a - b */
    CliffTensor dist_sq; /* [N] */
} ContrastiveState;

static int cl_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                    int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)top, (void)nt;
    const Cliff__ContrastiveLossParameter *p = l->param->contrastive_loss_param;
    ContrastiveState *s = calloc(1, sizeof *s);
    if (!s) return cliff_error_set(err, "out of memory");
    s->margin = p ? p->margin : 1.0f;
    s->legacy = p && p->legacy_version;
    cliff_tensor_init(&s->diff);
    cliff_tensor_init(&s->dist_sq);
    l->priv = s;
    return 0;
}

static int cl_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, CliffError *err)
{
    (void)nb, (void)nt;
    ContrastiveState *s = l->priv;
    char a[128], b[128], c[128];
    if (cliff_loss_reshape(bottom, top, err)) return -1;
    int N = bottom[0]->shape[0];
    if (bottom[0]->count != bottom[1]->count || bottom[2]->count != (size_t)N)
        return cliff_error_set(err, "need two feature bottoms of equal shape and one label per "
                               "pair: got %s, %s, %s",
                               cliff_tensor_shape_str(bottom[0], a, sizeof a),
                               cliff_tensor_shape_str(bottom[1], b, sizeof b),
                               cliff_tensor_shape_str(bottom[2], c, sizeof c));
    if (cliff_tensor_reshape_like(&s->diff, bottom[0], err) ||
        cliff_tensor_reshape(&s->dist_sq, 1, &N, err))
        return -1;
    return 0;
}

static int cl_check(const CliffLayer *l, CliffTensor *const *bottom, int nb, CliffError *err)
{
    (void)nb;
    return cliff_index_check(l, bottom, 2, 2, NULL, "similarity label", err);
}

static void cl_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    ContrastiveState *s = l->priv;
    const size_t N = (size_t)bottom[0]->shape[0], D = N ? bottom[0]->count / N : 0;
    const float *a = bottom[0]->data, *b = bottom[1]->data, *y = bottom[2]->data;
    float *diff = s->diff.data, *dist_sq = s->dist_sq.data;
    double loss = 0;
    for (size_t n = 0; n < N; n++) {
        double d2 = 0;
        for (size_t k = 0; k < D; k++) {
            diff[n * D + k] = a[n * D + k] - b[n * D + k];
            d2 += (double)diff[n * D + k] * diff[n * D + k];
        }
        dist_sq[n] = (float)d2;
        if (cliff_label_int(y[n])) {
            loss += d2;
        } else if (s->legacy) {
            loss += fmax(s->margin - d2, 0.0);
        } else {
            const double m = fmax(s->margin - sqrt(d2), 0.0);
            loss += m * m;
        }
    }
    top[0]->data[0] = N ? (float)(loss / (double)N / 2) : 0.0f;
}

static void cl_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                        const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt;
    ContrastiveState *s = l->priv;
    cliff_loss_zero_diffs(bottom, nb, propagate_down, 2);
    const size_t N = (size_t)bottom[0]->shape[0], D = N ? bottom[0]->count / N : 0;
    if (!N) return;
    const float *y = bottom[2]->data, *diff = s->diff.data, *dist_sq = s->dist_sq.data;
    for (int i = 0; i < 2; i++) {
        if (!propagate_down[i]) continue;
        const float alpha = (i == 0 ? 1.0f : -1.0f) * top[0]->diff[0] / (float)N;
        float *dx = bottom[i]->diff;
        for (size_t n = 0; n < N; n++) {
            float beta;
            if (cliff_label_int(y[n])) {
                beta = alpha;
            } else if (s->legacy) {
                beta = s->margin - dist_sq[n] > 0.0f ? -alpha : 0.0f;
            } else {
                const float d = sqrtf(dist_sq[n]), m = s->margin - d;
                beta = m > 0.0f ? -alpha * m / (d + 1e-4f) : 0.0f;
            }
            for (size_t k = 0; k < D; k++) dx[n * D + k] = beta * diff[n * D + k];
        }
    }
}

static void cl_destroy(CliffLayer *l)
{
    ContrastiveState *s = l->priv;
    if (!s) return;
    cliff_tensor_free(&s->diff);
    cliff_tensor_free(&s->dist_sq);
    free(s);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_ContrastiveLoss = {
    .type = "ContrastiveLoss",
    .min_bottoms = 3, .max_bottoms = 3, .min_tops = 1, .max_tops = 1,
    .is_loss = 1,
    .label_bottoms = 1u << 2,
    .setup = cl_setup,
    .reshape = cl_reshape,
    .check_bottoms = cl_check,
    .forward = cl_forward,
    .backward = cl_backward,
    .destroy = cl_destroy,
};
