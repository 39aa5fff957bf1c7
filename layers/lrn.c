/* LRN (Caffe's LRNLayer), local response normalization of N x C x H x W.
 *
 * ACROSS_CHANNELS: scale[n,c,h,w] = k + alpha/size * sum_{c' = c-pre..c+pre} x[n,c',h,w]^2
 *   (channels outside [0, C) count as 0; pre = (size-1)/2).
 * WITHIN_CHANNEL:  scale[n,c,h,w] = 1 + alpha/size^2 * sum over the size x size
 *   window centred at (h,w), clipped to the plane (Caffe builds this from AVE
 *   pooling with pad pre, whose divisor is always size^2; k is not used).
 * top = x * scale^-beta.
 * backward: dx_i = dy_i * scale_i^-beta
 *                  - (2*alpha*beta/S) * x_i * sum_{j: i in window(j)} dy_j * y_j / scale_j
 * with S = size (across) or size^2 (within); windows are symmetric.
 * local_size must be odd, as in Caffe.
 */
#include <math.h>
#include <string.h>

#include "vision_util.h"

typedef struct Lrn {
    int within;
    int size, pre;
    float alpha, beta, k;
    int N, C, H, W;
    float *scale; /* bottom-sized, from forward */
    size_t scale_cap;
    float *tmp; /* 2 planes (within) or 1 plane (across) of scratch */
    size_t tmp_cap;
} Lrn;

static const Cliff__LRNParameter lrn_defaults = CLIFF__LRNPARAMETER__INIT;

static int lrn_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                     int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)top, (void)nt;
    const Cliff__LRNParameter *lp =
        l->param && l->param->lrn_param ? l->param->lrn_param : &lrn_defaults;
    Lrn *p = cliff_priv_alloc(l, sizeof(Lrn), err);
    if (!p) return -1;
    if (lp->local_size > (1u << 20))
        return cliff_error_set(err, "lrn_param.local_size %u is too large (at most %u)",
                               lp->local_size, 1u << 20);
    if (lp->local_size % 2 == 0)
        return cliff_error_set(err, "local_size %u: LRN only supports odd values", lp->local_size);
    if (lp->norm_region != CLIFF__LRNPARAMETER__NORM_REGION__ACROSS_CHANNELS &&
        lp->norm_region != CLIFF__LRNPARAMETER__NORM_REGION__WITHIN_CHANNEL)
        return cliff_error_set(err, "unknown norm_region %d", lp->norm_region);
    p->within = lp->norm_region == CLIFF__LRNPARAMETER__NORM_REGION__WITHIN_CHANNEL;
    p->size = (int)lp->local_size;
    p->pre = (p->size - 1) / 2;
    p->alpha = lp->alpha;
    p->beta = lp->beta;
    p->k = lp->k;
    return 0;
}

static int lrn_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)nt;
    Lrn *p = l->priv;
    const CliffTensor *b = bottom[0];
    if (cliff_nchw_dims(l, b, "LRN", &p->N, &p->C, &p->H, &p->W, err) ||
        cliff_tensor_reshape_like(top[0], b, err) ||
        cliff_scratch_reserve(&p->scale, &p->scale_cap, b->count, err) ||
        cliff_scratch_reserve(&p->tmp, &p->tmp_cap, 2 * (size_t)p->H * p->W, err))
        return -1;
    return 0;
}

/* out[h,w] = sum of in over the (2*pre+1)^2 window centred at (h,w), clipped;
 * row is a W-float scratch. Separable: vertical running sums, then horizontal. */
static void box_sum(const float *in, int H, int W, int pre, float *out, float *row)
{
    for (int h = 0; h < H; h++) {
        int h0 = h - pre < 0 ? 0 : h - pre, h1 = h + pre + 1 > H ? H : h + pre + 1;
        for (int w = 0; w < W; w++) row[w] = 0;
        for (int hh = h0; hh < h1; hh++)
            for (int w = 0; w < W; w++) row[w] += in[hh * W + w];
        for (int w = 0; w < W; w++) {
            int w0 = w - pre < 0 ? 0 : w - pre, w1 = w + pre + 1 > W ? W : w + pre + 1;
            float acc = 0;
            for (int ww = w0; ww < w1; ww++) acc += row[ww];
            out[h * W + w] = acc;
        }
    }
}

static void lrn_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    Lrn *p = l->priv;
    const int C = p->C, plane = p->H * p->W;
    const float *x = bottom[0]->data;
    float *y = top[0]->data, *scale = p->scale;
    if (!p->within) {
        const float a = p->alpha / (float)p->size;
        for (int n = 0; n < p->N; n++) {
            const float *xn = x + (size_t)n * C * plane;
            float *sn = scale + (size_t)n * C * plane;
            /* channel 0: k + a * sum of x^2 over channels [0, pre] */
            for (int i = 0; i < plane; i++) sn[i] = p->k;
            for (int c = 0; c <= p->pre && c < C; c++)
                for (int i = 0; i < plane; i++) sn[i] += a * xn[(size_t)c * plane + i] * xn[(size_t)c * plane + i];
            for (int c = 1; c < C; c++) {
                float *cur = sn + (size_t)c * plane;
                const float *prev = cur - plane;
                const int add = c + p->pre, sub = c - p->pre - 1;
                for (int i = 0; i < plane; i++) cur[i] = prev[i];
                if (add < C) {
                    const float *xa = xn + (size_t)add * plane;
                    for (int i = 0; i < plane; i++) cur[i] += a * xa[i] * xa[i];
                }
                if (sub >= 0) {
                    const float *xs = xn + (size_t)sub * plane;
                    for (int i = 0; i < plane; i++) cur[i] -= a * xs[i] * xs[i];
                }
            }
        }
    } else {
        const float a = p->alpha / (float)(p->size * p->size);
        float *sq = p->tmp, *row = p->tmp + plane;
        for (int nc = 0; nc < p->N * C; nc++) {
            const float *xp = x + (size_t)nc * plane;
            float *sp = scale + (size_t)nc * plane;
            for (int i = 0; i < plane; i++) sq[i] = xp[i] * xp[i];
            box_sum(sq, p->H, p->W, p->pre, sp, row);
            for (int i = 0; i < plane; i++) sp[i] = 1.0f + a * sp[i];
        }
    }
    const size_t count = bottom[0]->count;
    for (size_t i = 0; i < count; i++) y[i] = x[i] * powf(scale[i], -p->beta);
}

static void lrn_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                         const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt, (void)nb;
    if (!propagate_down[0]) return;
    Lrn *p = l->priv;
    const int C = p->C, plane = p->H * p->W;
    const float *x = bottom[0]->data, *y = top[0]->data, *dy = top[0]->diff;
    const float *scale = p->scale;
    float *dx = bottom[0]->diff;
    const float S = p->within ? (float)(p->size * p->size) : (float)p->size;
    const float cf = 2.0f * p->alpha * p->beta / S;
    float *acc = p->tmp; /* one plane */
    if (!p->within) {
        for (int n = 0; n < p->N; n++) {
            const size_t off = (size_t)n * C * plane;
            /* ratio r = dy*y/scale, summed over the channel window of each c */
            for (int i = 0; i < plane; i++) acc[i] = 0;
            for (int c = 0; c <= p->pre && c < C; c++) {
                const size_t o = off + (size_t)c * plane;
                for (int i = 0; i < plane; i++) acc[i] += dy[o + i] * y[o + i] / scale[o + i];
            }
            for (int c = 0; c < C; c++) {
                if (c > 0) {
                    const int add = c + p->pre, sub = c - p->pre - 1;
                    if (add < C) {
                        const size_t o = off + (size_t)add * plane;
                        for (int i = 0; i < plane; i++) acc[i] += dy[o + i] * y[o + i] / scale[o + i];
                    }
                    if (sub >= 0) {
                        const size_t o = off + (size_t)sub * plane;
                        for (int i = 0; i < plane; i++) acc[i] -= dy[o + i] * y[o + i] / scale[o + i];
                    }
                }
                const size_t o = off + (size_t)c * plane;
                for (int i = 0; i < plane; i++)
                    dx[o + i] = dy[o + i] * powf(scale[o + i], -p->beta) - cf * x[o + i] * acc[i];
            }
        }
    } else {
        /* dx is used as the ratio plane's scratch before it is overwritten */
        float *row = p->tmp + plane;
        for (int nc = 0; nc < p->N * C; nc++) {
            const size_t o = (size_t)nc * plane;
            float *r = dx + o;
            for (int i = 0; i < plane; i++) r[i] = dy[o + i] * y[o + i] / scale[o + i];
            box_sum(r, p->H, p->W, p->pre, acc, row);
            for (int i = 0; i < plane; i++)
                dx[o + i] = dy[o + i] * powf(scale[o + i], -p->beta) - cf * x[o + i] * acc[i];
        }
    }
}

static void lrn_destroy(CliffLayer *l)
{
    Lrn *p = l->priv;
    if (!p) return;
    free(p->scale);
    free(p->tmp);
    free(p);
    l->priv = NULL;
}

static size_t lrn_workspace(const CliffLayer *l)
{
    const Lrn *p = l->priv;
    return p ? (p->scale_cap + p->tmp_cap) * sizeof(float) : 0;
}

const CliffLayerOps cliff_ops_LRN = {
    .type = "LRN",
    .min_bottoms = 1,
    .max_bottoms = 1,
    .min_tops = 1,
    .max_tops = 1,
    .setup = lrn_setup,
    .reshape = lrn_reshape,
    .forward = lrn_forward,
    .backward = lrn_backward,
    .destroy = lrn_destroy,
    .workspace_bytes = lrn_workspace,
};
