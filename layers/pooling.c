/* Pooling (Caffe's PoolingLayer): MAX and AVE over N x C x H x W.
 *
 * Output size (Caffe): pooled = ceil((H + 2*pad - kernel) / stride) + 1
 * (floor with round_mode FLOOR); with padding, a last window that would start
 * inside the bottom/right padding is dropped: if (pooled-1)*stride >= H + pad,
 * pooled--. global_pooling pools the whole plane (kernel = H x W, pad 0, stride 1).
 *
 * MAX: window [ph*stride - pad, +kernel) clipped to the image; the first
 * maximum (row-major) wins; top[1], when given, receives the argmax as a float
 * index h*W + w inside the plane (Caffe's mask top).
 * AVE: the window is clipped to [-pad, H + pad) to get the divisor (padding
 * counts), then to the image to sum.
 * STOCHASTIC is rejected at setup.
 * Planes are split over the fork-join when there are enough of them
 * (pool_forks below). MAX 2x2 stride 2 without padding over even planes at least 16 wide runs on
 * pool_fast.c (AVX-512, planes over the fork-join's threads) where the CPU
 * has AVX-512.
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "layers/kernels/blas.h"
#include "layers/kernels/fork_join.h"
#include "layers/kernels/pool_fast.h"
#include "layers/kernels/pool_plane.h"
#include "vision_util.h"

/* Whether a pass (forward or backward) goes over the fork-join's threads:
 * whenever it has at least two chunks (chunk_planes: ~64 KB of input each).
 * The fork-join gives every thread its own block of chunks (fork_join.h), so
 * a thread pools the images it computed in the layer before and finds them in
 * its own cache; a pass left in the caller reads half its input from the
 * other core's (LeNet at 2 threads, train --time: pool1 0.14 / 0.24 ms
 * forward / backward in the caller, 0.08 / 0.09 forked; pool2 0.14 / 0.23
 * against 0.08 / 0.10). Whether to fork was measured per layer before (calls
 * 1-4 alternating the two): a noisy choice that kept LeNet's pool2 backward
 * in the caller. CLIFF_POOL_FORK=1 (or 0) in the environment forks every pass
 * (or none). Only where the work runs depends on this, never the bits: every
 * plane is computed alone. */
typedef struct Pool {
    int method; /* CLIFF__POOLING_PARAMETER__POOL_METHOD__MAX / AVE */
    int global, floor_mode;
    int kh, kw, sh, sw, ph, pw;
    int N, C, H, W, oh, ow;
    int *mask; /* MAX: argmax per top element */
    size_t mask_cap;
    int fast;  /* MAX 2x2/2 on pool_fast.c */
    CliffPoolGeom geom; /* the general planes (pool_plane.c) */
    int forced_fork;    /* CLIFF_POOL_FORK: -1 unset, else 0 or 1 */
} Pool;

static const Cliff__PoolingParameter pool_defaults = CLIFF__POOLING_PARAMETER__INIT;

static int pool_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                      CliffTensor *const *top, int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)top;
    const Cliff__PoolingParameter *pp =
        l->param && l->param->pooling_param ? l->param->pooling_param : &pool_defaults;
    Pool *p = cliff_priv_alloc(l, sizeof(Pool), err);
    if (!p) return -1;
    p->method = pp->pool;
    if (p->method == CLIFF__POOLING_PARAMETER__POOL_METHOD__STOCHASTIC)
        return cliff_error_set(err, "STOCHASTIC pooling is not supported (use MAX or AVE)");
    if (p->method != CLIFF__POOLING_PARAMETER__POOL_METHOD__MAX &&
        p->method != CLIFF__POOLING_PARAMETER__POOL_METHOD__AVE)
        return cliff_error_set(err, "unknown pooling method %d", p->method);
    if (nt > 1 && p->method != CLIFF__POOLING_PARAMETER__POOL_METHOD__MAX)
        return cliff_error_set(err, "only MAX pooling has a second (mask) top; got %d tops", nt);
    p->global = pp->global_pooling;
    p->floor_mode = pp->round_mode == CLIFF__POOLING_PARAMETER__ROUND_MODE__FLOOR;
    if (p->global) {
        if (pp->has_kernel_size || pp->has_kernel_h || pp->has_kernel_w)
            return cliff_error_set(err, "with global_pooling: true, the kernel size cannot be "
                                        "specified");
    } else {
        if (pp->has_kernel_size && (pp->has_kernel_h || pp->has_kernel_w))
            return cliff_error_set(err, "kernel is kernel_size OR kernel_h and kernel_w; not both");
        if (!pp->has_kernel_size && !(pp->has_kernel_h && pp->has_kernel_w))
            return cliff_error_set(err, "kernel_size (or both kernel_h and kernel_w) is required");
        if (pp->has_kernel_size
                ? cliff_param_int(pp->kernel_size, "pooling_param.kernel_size", &p->kh, err) ||
                      cliff_param_int(pp->kernel_size, "pooling_param.kernel_size", &p->kw, err)
                : cliff_param_int(pp->kernel_h, "pooling_param.kernel_h", &p->kh, err) ||
                      cliff_param_int(pp->kernel_w, "pooling_param.kernel_w", &p->kw, err))
            return -1;
        if (p->kh <= 0 || p->kw <= 0)
            return cliff_error_set(err, "kernel %dx%d: filter dimensions must be nonzero", p->kh,
                                   p->kw);
    }
    if (pp->has_pad && (pp->has_pad_h || pp->has_pad_w))
        return cliff_error_set(err, "pad is pad OR pad_h and pad_w; not both");
    if (pp->has_pad_h != pp->has_pad_w)
        return cliff_error_set(err, "pad_h and pad_w must be given together");
    if (pp->has_stride && (pp->has_stride_h || pp->has_stride_w))
        return cliff_error_set(err, "stride is stride OR stride_h and stride_w; not both");
    if (pp->has_stride_h != pp->has_stride_w)
        return cliff_error_set(err, "stride_h and stride_w must be given together");
    if (cliff_param_int(pp->has_pad_h ? pp->pad_h : pp->pad,
                        pp->has_pad_h ? "pooling_param.pad_h" : "pooling_param.pad", &p->ph, err) ||
        cliff_param_int(pp->has_pad_w ? pp->pad_w : pp->pad,
                        pp->has_pad_w ? "pooling_param.pad_w" : "pooling_param.pad", &p->pw, err) ||
        cliff_param_int(pp->has_stride_h ? pp->stride_h : pp->stride,
                        pp->has_stride_h ? "pooling_param.stride_h" : "pooling_param.stride",
                        &p->sh, err) ||
        cliff_param_int(pp->has_stride_w ? pp->stride_w : pp->stride,
                        pp->has_stride_w ? "pooling_param.stride_w" : "pooling_param.stride",
                        &p->sw, err))
        return -1;
    if (p->sh <= 0 || p->sw <= 0 || p->ph < 0 || p->pw < 0)
        return cliff_error_set(err, "stride %dx%d must be > 0 and pad %dx%d >= 0", p->sh, p->sw,
                               p->ph, p->pw);
    if (p->global && (p->ph || p->pw || p->sh != 1 || p->sw != 1))
        return cliff_error_set(err, "with global_pooling: true, only pad = 0 and stride = 1 "
                                    "are allowed");
    if (!p->global && (p->ph >= p->kh || p->pw >= p->kw))
        return cliff_error_set(err, "pad %dx%d must be smaller than the kernel %dx%d", p->ph,
                               p->pw, p->kh, p->kw);
    return 0;
}

static int pooled_size(int in, int k, int s, int pad, int floor_mode)
{
    long span = (long)in + 2L * pad - k;
    long n = floor_mode ? span / s : (span + s - 1) / s; /* span >= 0 here */
    n += 1;
    if (pad && (n - 1) * s >= (long)in + pad) n--;
    return (int)n;
}

/* The common 2x2 stride-2 unpadded case over even planes: every window is
 * whole and no two overlap. */
static int is_2x2s2(const Pool *p)
{
    return p->kh == 2 && p->kw == 2 && p->sh == 2 && p->sw == 2 && p->ph == 0 && p->pw == 0 &&
           p->H % 2 == 0 && p->W % 2 == 0;
}

static int pool_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb;
    Pool *p = l->priv;
    const CliffTensor *b = bottom[0];
    char s[128];
    if (cliff_nchw_dims(l, b, "pooling", &p->N, &p->C, &p->H, &p->W, err)) return -1;
    if (p->global) {
        p->kh = p->H;
        p->kw = p->W;
    }
    if (p->kh > p->H + 2 * p->ph || p->kw > p->W + 2 * p->pw)
        return cliff_error_set(err, "kernel %dx%d is larger than the padded input %dx%d "
                                    "(bottom '%s' is %s)",
                               p->kh, p->kw, p->H + 2 * p->ph, p->W + 2 * p->pw,
                               cliff_bname(l, 0), cliff_tensor_shape_str(b, s, sizeof s));
    if (p->H == 0 || p->W == 0)
        return cliff_error_set(err, "bottom '%s' has an empty plane (%s)", cliff_bname(l, 0),
                               cliff_tensor_shape_str(b, s, sizeof s));
    p->oh = pooled_size(p->H, p->kh, p->sh, p->ph, p->floor_mode);
    p->ow = pooled_size(p->W, p->kw, p->sw, p->pw, p->floor_mode);
    /* Caffe drops a last window that starts past the input only when there
     * is padding; unpadded, a stride larger than the kernel with ceil
     * rounding can leave one that covers nothing (Caffe's MAX backward then
     * writes before its bottom's gradient) */
    if ((long)(p->oh - 1) * p->sh - p->ph >= p->H || (long)(p->ow - 1) * p->sw - p->pw >= p->W)
        return cliff_error_set(err, "the last %dx%d window starts past the input %dx%d (output "
                                    "%dx%d by ceil rounding, stride %dx%d): every window must "
                                    "overlap the input; use round_mode: FLOOR or a stride "
                                    "the input fits",
                               p->kh, p->kw, p->H, p->W, p->oh, p->ow, p->sh, p->sw);
    p->geom = (CliffPoolGeom){p->H, p->W, p->oh, p->ow, p->kh, p->kw, p->sh, p->sw, p->ph, p->pw};
    const char *e = getenv("CLIFF_POOL_FORK");
    p->forced_fork = e && *e ? atoi(e) != 0 : -1;
    int shape[4] = {p->N, p->C, p->oh, p->ow};
    for (int t = 0; t < nt; t++)
        if (cliff_tensor_reshape(top[t], 4, shape, err)) return -1;
    if (p->method == CLIFF__POOLING_PARAMETER__POOL_METHOD__MAX &&
        cliff_iscratch_reserve(&p->mask, &p->mask_cap, top[0]->count, err))
        return -1;
    /* 16 windows a vector: rows of fewer than 8 stay on the SSE2 loop */
    p->fast = p->method == CLIFF__POOLING_PARAMETER__POOL_METHOD__MAX && is_2x2s2(p) &&
              p->ow >= 8 && cliff_gemm_avx512_usable();
    return 0;
}

/* MAX over one plane: window rows [py*sh - ph, +kh) and columns likewise,
 * clipped to the image; the first maximum in row-major order wins. Written
 * with selects instead of branches: random data makes the comparison
 * unpredictable. */
/* best/arg <- (v, idx) when v > best, without a branch (random data makes the
 * comparison unpredictable): the float select compiles to maxss, the index
 * select to mask arithmetic. */
#define CLIFF_MAX_STEP(best, arg, v, idx)                                                      \
    do {                                                                                       \
        const float v_ = (v);                                                                  \
        const int gt_ = -(v_ > (best));                                                        \
        (arg) += ((idx) - (arg)) & gt_;                                                        \
        (best) = v_ > (best) ? v_ : (best);                                                    \
    } while (0)

#ifdef __SSE2__
/* best/arg <- (v, idx) lane-wise where v > best (the scalar CLIFF_MAX_STEP). */
static inline void max_step4(__m128 *best, __m128i *arg, __m128 v, __m128i idx)
{
    const __m128 gt = _mm_cmpgt_ps(v, *best);
    const __m128i gti = _mm_castps_si128(gt);
    *best = _mm_or_ps(_mm_and_ps(gt, v), _mm_andnot_ps(gt, *best));
    *arg = _mm_or_si128(_mm_and_si128(gti, idx), _mm_andnot_si128(gti, *arg));
}
#endif

static void max_plane(const Pool *p, const float *restrict xp, float *restrict y,
                      int *restrict mask)
{
    const int W = p->W, oh = p->oh, ow = p->ow;
    if (is_2x2s2(p)) {
        for (int py = 0; py < oh; py++) {
            const float *r0 = xp + (size_t)(2 * py) * W, *r1 = r0 + W;
            const int base = 2 * py * W;
            int px = 0;
#ifdef __SSE2__
            /* four windows at a time: even and odd columns of both rows */
            for (; px + 4 <= ow; px += 4) {
                const int x = 2 * px;
                const __m128 a0 = _mm_loadu_ps(r0 + x), a1 = _mm_loadu_ps(r0 + x + 4);
                const __m128 b0 = _mm_loadu_ps(r1 + x), b1 = _mm_loadu_ps(r1 + x + 4);
                const __m128i i00 = _mm_add_epi32(_mm_set1_epi32(base + x), _mm_set_epi32(6, 4, 2, 0));
                __m128 best = _mm_shuffle_ps(a0, a1, _MM_SHUFFLE(2, 0, 2, 0));
                __m128i arg = i00;
                max_step4(&best, &arg, _mm_shuffle_ps(a0, a1, _MM_SHUFFLE(3, 1, 3, 1)),
                          _mm_add_epi32(i00, _mm_set1_epi32(1)));
                max_step4(&best, &arg, _mm_shuffle_ps(b0, b1, _MM_SHUFFLE(2, 0, 2, 0)),
                          _mm_add_epi32(i00, _mm_set1_epi32(W)));
                max_step4(&best, &arg, _mm_shuffle_ps(b0, b1, _MM_SHUFFLE(3, 1, 3, 1)),
                          _mm_add_epi32(i00, _mm_set1_epi32(W + 1)));
                _mm_storeu_ps(y + py * ow + px, best);
                _mm_storeu_si128((__m128i *)(mask + py * ow + px), arg);
            }
#endif
            for (; px < ow; px++) {
                const int x = 2 * px;
                float best = r0[x];
                int arg = base + x;
                CLIFF_MAX_STEP(best, arg, r0[x + 1], base + x + 1);
                CLIFF_MAX_STEP(best, arg, r1[x], base + W + x);
                CLIFF_MAX_STEP(best, arg, r1[x + 1], base + W + x + 1);
                y[py * ow + px] = best;
                mask[py * ow + px] = arg;
            }
        }
        return;
    }
    if (p->geom.sw <= 2 && cliff_gemm_avx512_usable())
        cliff_pool_max_plane_avx512(&p->geom, xp, y, mask);
    else
        cliff_pool_max_plane(&p->geom, xp, y, mask);
}

/* AVE over one plane: sum over the window clipped to the image, divided by the
 * window size clipped to the padded image. */
static void ave_plane(const Pool *p, const float *restrict xp, float *restrict y)
{
    if (p->geom.sw <= 2 && cliff_gemm_avx512_usable())
        cliff_pool_ave_plane_avx512(&p->geom, xp, y);
    else
        cliff_pool_ave_plane(&p->geom, xp, y);
}

/* Planes a fork-join chunk: ~64 KB of input. */
static int chunk_planes(const Pool *p)
{
    const int n = (16 * 1024) / (p->H * p->W);
    return n < 1 ? 1 : n;
}

typedef struct PoolJob {
    const Pool *p;
    const float *x, *dy;
    float *y, *dx;
    int per;
} PoolJob;

static void forward_chunk(void *arg, int chunk, int thread)
{
    (void)thread;
    const PoolJob *j = arg;
    const Pool *p = j->p;
    const size_t in = (size_t)p->H * p->W, out = (size_t)p->oh * p->ow;
    const int planes = p->N * p->C, p0 = chunk * j->per;
    const int p1 = p0 + j->per < planes ? p0 + j->per : planes;
    for (int pl = p0; pl < p1; pl++) {
        if (p->method == CLIFF__POOLING_PARAMETER__POOL_METHOD__MAX)
            max_plane(p, j->x + pl * in, j->y + pl * out, p->mask + pl * out);
        else
            ave_plane(p, j->x + pl * in, j->y + pl * out);
    }
}

/* Whether a pass of p forks (the rule above). */
static int pool_forks(const Pool *p)
{
    if (cliff_fj_available() <= 1) return 0;
    if (p->forced_fork >= 0) return p->forced_fork;
    return p->N * p->C >= 2 * chunk_planes(p);
}

static void forward_pass(void *arg, int fork)
{
    PoolJob *j = arg;
    const Pool *p = j->p;
    const int planes = p->N * p->C, nchunks = (planes + j->per - 1) / j->per;
    if (p->fast) {
        cliff_pool_max2_forward(j->x, planes, p->H, p->W, j->y, p->mask, fork);
    } else if (fork) {
        /* planes over the fork-join: each is computed alone, the same bits on
         * any thread count */
        cliff_fj_for(nchunks, forward_chunk, j);
    } else {
        for (int c = 0; c < nchunks; c++) forward_chunk(j, c, 0);
    }
}

static void pool_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt)
{
    (void)nb;
    Pool *p = l->priv;
    const int planes = p->N * p->C;
    const size_t out = (size_t)p->oh * p->ow;
    PoolJob j = {.p = p, .x = bottom[0]->data, .y = top[0]->data, .per = chunk_planes(p)};
    forward_pass(&j, pool_forks(p));
    if (nt > 1) { /* Caffe's mask top: the argmax as a float index in the plane */
        float *ym = top[1]->data;
        for (size_t i = 0; i < (size_t)planes * out; i++) ym[i] = (float)p->mask[i];
    }
}

/* dx of one plane (overwritten) from dy and, for MAX, the argmax mask. */
static void backward_plane(const Pool *p, const float *dy, const int *mask, float *dxp)
{
    const int H = p->H, W = p->W, oh = p->oh, ow = p->ow;
    if (p->method == CLIFF__POOLING_PARAMETER__POOL_METHOD__MAX && is_2x2s2(p)) {
        /* windows tile the plane: write each bottom value once, no memset pass */
        for (int py = 0; py < oh; py++) {
            float *r0 = dxp + (size_t)(2 * py) * W, *r1 = r0 + W;
            for (int px = 0; px < ow; px++) {
                r0[2 * px] = r0[2 * px + 1] = r1[2 * px] = r1[2 * px + 1] = 0.0f;
                const size_t o = (size_t)py * ow + px;
                dxp[mask[o]] = dy[o];
            }
        }
        return;
    }
    memset(dxp, 0, (size_t)H * W * sizeof *dxp);
    if (p->method == CLIFF__POOLING_PARAMETER__POOL_METHOD__MAX) {
        /* overlapping windows add up in output order */
        for (int o = 0; o < oh * ow; o++)
            if (mask[o] >= 0) dxp[mask[o]] += dy[o];
        return;
    }
    for (int py = 0; py < oh; py++) {
        int h0 = py * p->sh - p->ph, h1 = h0 + p->kh;
        for (int px = 0; px < ow; px++) {
            int w0 = px * p->sw - p->pw, w1 = w0 + p->kw;
            int hp = h1 < H + p->ph ? h1 : H + p->ph, wp = w1 < W + p->pw ? w1 : W + p->pw;
            const float g = dy[(size_t)py * ow + px] / (float)((hp - h0) * (wp - w0));
            int hs = h0 < 0 ? 0 : h0, he = h1 < H ? h1 : H;
            int ws = w0 < 0 ? 0 : w0, we = w1 < W ? w1 : W;
            for (int h = hs; h < he; h++)
                for (int w = ws; w < we; w++) dxp[h * W + w] += g;
        }
    }
}

static void backward_chunk(void *arg, int chunk, int thread)
{
    (void)thread;
    const PoolJob *j = arg;
    const Pool *p = j->p;
    const size_t in = (size_t)p->H * p->W, out = (size_t)p->oh * p->ow;
    const int planes = p->N * p->C, p0 = chunk * j->per;
    const int p1 = p0 + j->per < planes ? p0 + j->per : planes;
    for (int pl = p0; pl < p1; pl++)
        backward_plane(p, j->dy + pl * out, p->mask ? p->mask + pl * out : NULL, j->dx + pl * in);
}

static void backward_pass(void *arg, int fork)
{
    PoolJob *j = arg;
    const Pool *p = j->p;
    const int planes = p->N * p->C, nchunks = (planes + j->per - 1) / j->per;
    if (p->fast) {
        cliff_pool_max2_backward(j->dy, p->mask, planes, p->H, p->W, j->dx, fork);
    } else if (fork) {
        /* planes over the fork-join; within a plane the order of the sums is fixed */
        cliff_fj_for(nchunks, backward_chunk, j);
    } else {
        for (int c = 0; c < nchunks; c++) backward_chunk(j, c, 0);
    }
}

static void pool_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                          const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt, (void)nb;
    if (!propagate_down[0]) return;
    Pool *p = l->priv;
    PoolJob j = {.p = p, .dy = top[0]->diff, .dx = bottom[0]->diff, .per = chunk_planes(p)};
    backward_pass(&j, pool_forks(p));
}

static void pool_destroy(CliffLayer *l)
{
    Pool *p = l->priv;
    if (!p) return;
    free(p->mask);
    free(p);
    l->priv = NULL;
}

static double pool_flops(const CliffLayer *l)
{
    const Pool *p = l->priv;
    return p ? (double)p->N * p->C * p->oh * p->ow * p->kh * p->kw : 0;
}

static size_t pool_workspace(const CliffLayer *l)
{
    const Pool *p = l->priv;
    return p ? p->mask_cap * sizeof(int) : 0;
}

const CliffLayerOps cliff_ops_Pooling = {
    .type = "Pooling",
    .min_bottoms = 1,
    .max_bottoms = 1,
    .min_tops = 1,
    .max_tops = 2,
    .setup = pool_setup,
    .reshape = pool_reshape,
    .forward = pool_forward,
    .backward = pool_backward,
    .destroy = pool_destroy,
    .forward_flops = pool_flops,
    .workspace_bytes = pool_workspace,
};
