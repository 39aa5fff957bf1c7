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
 *
 * scale^-beta: for Caffe's beta = 0.75 (CaffeNet) as 1 / (q * sqrt(q)) with
 * q = sqrt(scale), two correctly rounded roots and a division (within a few
 * float ulps of powf, far cheaper; lrn_pow.c, 16 at a time on AVX-512 with the
 * same bits); powf otherwise. Images (ACROSS) and planes
 * (WITHIN) are split over the fork-join; each is computed alone, with its own
 * thread's scratch, so the bits do not depend on the thread count.
 */
#include <math.h>
#include <string.h>

#include "layers/kernels/fork_join.h"
#include "lrn_pow.h"
#include "vision_util.h"

typedef struct Lrn {
    int within;
    int size, pre;
    float alpha, beta, k;
    int N, C, H, W;
    float *scale; /* bottom-sized, from forward */
    size_t scale_cap;
    float *tmp; /* per fork-join thread: 2 planes of scratch */
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
        cliff_scratch_reserve(&p->tmp, &p->tmp_cap,
                              2 * (size_t)p->H * p->W * (size_t)cliff_fj_threads(), err))
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

/* scale^-beta (see the header comment). */
static inline float neg_pow(float s, float beta)
{
    return beta == 0.75f ? cliff_lrn_pow075(s) : powf(s, -beta);
}

typedef struct LrnJob {
    Lrn *p;
    const float *x, *y, *dy;
    float *out; /* forward: y; backward: dx */
} LrnJob;

/* ACROSS, image n: scale by a running window sum over channels, then y. */
static void across_forward(void *arg, int n, int thread)
{
    (void)thread;
    const LrnJob *j = arg;
    const Lrn *p = j->p;
    const int C = p->C, plane = p->H * p->W;
    const float a = p->alpha / (float)p->size;
    const float *xn = j->x + (size_t)n * C * plane;
    float *sn = p->scale + (size_t)n * C * plane, *yn = j->out + (size_t)n * C * plane;
    /* channel 0: k + a * sum of x^2 over channels [0, pre] */
    for (int i = 0; i < plane; i++) sn[i] = p->k;
    for (int c = 0; c <= p->pre && c < C; c++)
        for (int i = 0; i < plane; i++)
            sn[i] += a * xn[(size_t)c * plane + i] * xn[(size_t)c * plane + i];
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
    if (p->beta == 0.75f)
        cliff_lrn_apply075(xn, sn, yn, (size_t)C * plane);
    else
        for (size_t i = 0; i < (size_t)C * plane; i++) yn[i] = xn[i] * neg_pow(sn[i], p->beta);
}

/* WITHIN, plane nc. */
static void within_forward(void *arg, int nc, int thread)
{
    const LrnJob *j = arg;
    const Lrn *p = j->p;
    const int plane = p->H * p->W;
    const float a = p->alpha / (float)(p->size * p->size);
    float *sq = p->tmp + (size_t)thread * 2 * plane, *row = sq + plane;
    const float *xp = j->x + (size_t)nc * plane;
    float *sp = p->scale + (size_t)nc * plane, *yp = j->out + (size_t)nc * plane;
    for (int i = 0; i < plane; i++) sq[i] = xp[i] * xp[i];
    box_sum(sq, p->H, p->W, p->pre, sp, row);
    for (int i = 0; i < plane; i++) sp[i] = 1.0f + a * sp[i];
    if (p->beta == 0.75f)
        cliff_lrn_apply075(xp, sp, yp, (size_t)plane);
    else
        for (int i = 0; i < plane; i++) yp[i] = xp[i] * neg_pow(sp[i], p->beta);
}

static void lrn_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    Lrn *p = l->priv;
    LrnJob j = {p, bottom[0]->data, NULL, NULL, top[0]->data};
    if (!p->within)
        cliff_fj_for(p->N, across_forward, &j);
    else
        cliff_fj_for(p->N * p->C, within_forward, &j);
}

/* ACROSS backward, image n: the ratio dy*y/scale summed over each channel's
 * window with a running sum (this thread's scratch plane). */
static void across_backward(void *arg, int n, int thread)
{
    const LrnJob *j = arg;
    const Lrn *p = j->p;
    const int C = p->C, plane = p->H * p->W;
    const float cf = 2.0f * p->alpha * p->beta / (float)p->size;
    const float *x = j->x, *y = j->y, *dy = j->dy, *scale = p->scale;
    float *dx = j->out, *acc = p->tmp + (size_t)thread * 2 * plane;
    const size_t off = (size_t)n * C * plane;
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
        if (p->beta == 0.75f)
            cliff_lrn_dx075(dy + o, scale + o, x + o, acc, cf, dx + o, (size_t)plane);
        else
            for (int i = 0; i < plane; i++)
                dx[o + i] = dy[o + i] * neg_pow(scale[o + i], p->beta) - cf * x[o + i] * acc[i];
    }
}

/* WITHIN backward, plane nc (dx is the ratio plane's scratch before it is
 * overwritten). */
static void within_backward(void *arg, int nc, int thread)
{
    const LrnJob *j = arg;
    const Lrn *p = j->p;
    const int plane = p->H * p->W;
    const float cf = 2.0f * p->alpha * p->beta / (float)(p->size * p->size);
    const float *x = j->x, *y = j->y, *dy = j->dy, *scale = p->scale;
    float *acc = p->tmp + (size_t)thread * 2 * plane, *row = acc + plane;
    const size_t o = (size_t)nc * plane;
    float *r = j->out + o;
    for (int i = 0; i < plane; i++) r[i] = dy[o + i] * y[o + i] / scale[o + i];
    box_sum(r, p->H, p->W, p->pre, acc, row);
    if (p->beta == 0.75f)
        cliff_lrn_dx075(dy + o, scale + o, x + o, acc, cf, r, (size_t)plane);
    else
        for (int i = 0; i < plane; i++)
            r[i] = dy[o + i] * neg_pow(scale[o + i], p->beta) - cf * x[o + i] * acc[i];
}

static void lrn_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                         const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt, (void)nb;
    if (!propagate_down[0]) return;
    Lrn *p = l->priv;
    LrnJob j = {p, bottom[0]->data, top[0]->data, top[0]->diff, bottom[0]->diff};
    if (!p->within)
        cliff_fj_for(p->N, across_backward, &j);
    else
        cliff_fj_for(p->N * p->C, within_backward, &j);
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
