#include "pool_fast.h"

#include <stddef.h>

#include "fork_join.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include "simd512.h"

#define AVX512 __attribute__((target("avx512f")))

/* Planes a fork-join chunk: ~64 KB of input. */
static int chunk_planes(int H, int W)
{
    const int n = (16 * 1024) / (H * W);
    return n < 1 ? 1 : n;
}

/* Stores the first n lanes of v at p (none when n <= 0). */
AVX512 static inline void store_ps(float *p, __m512 v, int n)
{
    cliff_store_prefix(p, v, cliff_first_lanes(n));
}

AVX512 static inline void store_epi32(int *p, __m512i v, int n)
{
    store_ps((float *)p, _mm512_castsi512_ps(v), n);
}

AVX512 static void forward_planes(const float *x, int p0, int p1, int H, int W, float *y,
                                  int *mask)
{
    const int oh = H / 2, ow = W / 2;
    /* even = two: 0, 2, ..., 30 (the even lanes of a pair of vectors; twice the lane) */
    const __m512i even =
        _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1)), two = even;
    for (int pl = p0; pl < p1; pl++) {
        const float *xp = x + (size_t)pl * H * W;
        float *yp = y + (size_t)pl * oh * ow;
        int *mp = mask + (size_t)pl * oh * ow;
        for (int py = 0; py < oh; py++) {
            const float *r0 = xp + (size_t)(2 * py) * W, *r1 = r0 + W;
            for (int px = 0; px < ow; px += 16) {
                const int n = ow - px < 16 ? ow - px : 16, x0 = 2 * px;
                const __mmask16 k0 = cliff_first_lanes(2 * n), k1 = cliff_first_lanes(2 * n - 16);
                const __m512 a0 = cliff_load_mask(r0 + x0, k0);
                const __m512 a1 = cliff_load_mask(r0 + x0 + 16, k1);
                const __m512 b0 = cliff_load_mask(r1 + x0, k0);
                const __m512 b1 = cliff_load_mask(r1 + x0 + 16, k1);
                /* window px + i: (0,0) at index 2py*W + 2(px+i) */
                const __m512i i00 = _mm512_add_epi32(_mm512_set1_epi32(2 * py * W + x0), two);
                __m512 best = _mm512_permutex2var_ps(a0, even, a1);
                __m512i arg = i00;
                __m512 v = _mm512_permutex2var_ps(a0, odd, a1);
                __mmask16 gt = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
                best = _mm512_mask_mov_ps(best, gt, v);
                arg = _mm512_mask_mov_epi32(arg, gt, _mm512_add_epi32(i00, _mm512_set1_epi32(1)));
                v = _mm512_permutex2var_ps(b0, even, b1);
                gt = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
                best = _mm512_mask_mov_ps(best, gt, v);
                arg = _mm512_mask_mov_epi32(arg, gt, _mm512_add_epi32(i00, _mm512_set1_epi32(W)));
                v = _mm512_permutex2var_ps(b0, odd, b1);
                gt = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
                best = _mm512_mask_mov_ps(best, gt, v);
                arg = _mm512_mask_mov_epi32(arg, gt,
                                            _mm512_add_epi32(i00, _mm512_set1_epi32(W + 1)));
                store_ps(yp + (size_t)py * ow + px, best, n);
                store_epi32(mp + (size_t)py * ow + px, arg, n);
            }
        }
    }
}

AVX512 static void backward_planes(const float *dy, const int *mask, int p0, int p1, int H,
                                   int W, float *dx)
{
    const int oh = H / 2, ow = W / 2;
    /* interleave two 16-lane vectors: lanes 0..7 of each, then 8..15 */
    const __m512i lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
    const __m512i two =
        _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    for (int pl = p0; pl < p1; pl++) {
        const float *dyp = dy + (size_t)pl * oh * ow;
        const int *mp = mask + (size_t)pl * oh * ow;
        float *dxp = dx + (size_t)pl * H * W;
        for (int py = 0; py < oh; py++) {
            float *r0 = dxp + (size_t)(2 * py) * W, *r1 = r0 + W;
            for (int px = 0; px < ow; px += 16) {
                const int n = ow - px < 16 ? ow - px : 16, x0 = 2 * px;
                const __mmask16 kn = cliff_first_lanes(n);
                const __m512 g = cliff_load_mask(dyp + (size_t)py * ow + px, kn);
                const __m512i m = _mm512_castps_si512(
                    cliff_load_mask((const float *)(mp + (size_t)py * ow + px), kn));
                const __m512i i00 = _mm512_add_epi32(_mm512_set1_epi32(2 * py * W + x0), two);
                /* the gradient of each window goes to the one position its mask names */
                const __m512 e0 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(m, i00), g);
                const __m512 o0 = _mm512_maskz_mov_ps(
                    _mm512_cmpeq_epi32_mask(m, _mm512_add_epi32(i00, _mm512_set1_epi32(1))), g);
                const __m512 e1 = _mm512_maskz_mov_ps(
                    _mm512_cmpeq_epi32_mask(m, _mm512_add_epi32(i00, _mm512_set1_epi32(W))), g);
                const __m512 o1 = _mm512_maskz_mov_ps(
                    _mm512_cmpeq_epi32_mask(m, _mm512_add_epi32(i00, _mm512_set1_epi32(W + 1))),
                    g);
                store_ps(r0 + x0, _mm512_permutex2var_ps(e0, lo, o0), 2 * n);
                store_ps(r0 + x0 + 16, _mm512_permutex2var_ps(e0, hi, o0), 2 * n - 16);
                store_ps(r1 + x0, _mm512_permutex2var_ps(e1, lo, o1), 2 * n);
                store_ps(r1 + x0 + 16, _mm512_permutex2var_ps(e1, hi, o1), 2 * n - 16);
            }
        }
    }
}

typedef struct PoolJob {
    const float *x, *dy;
    const int *mask_in;
    float *y, *dx;
    int *mask;
    int planes, H, W, per;
} PoolJob;

static void forward_chunk(void *arg, int chunk, int thread)
{
    (void)thread;
    const PoolJob *j = arg;
    const int p0 = chunk * j->per, p1 = p0 + j->per < j->planes ? p0 + j->per : j->planes;
    forward_planes(j->x, p0, p1, j->H, j->W, j->y, j->mask);
}

static void backward_chunk(void *arg, int chunk, int thread)
{
    (void)thread;
    const PoolJob *j = arg;
    const int p0 = chunk * j->per, p1 = p0 + j->per < j->planes ? p0 + j->per : j->planes;
    backward_planes(j->dy, j->mask_in, p0, p1, j->H, j->W, j->dx);
}

void cliff_pool_max2_forward(const float *x, int planes, int H, int W, float *y, int *mask,
                             int fork)
{
    if (!fork) {
        forward_planes(x, 0, planes, H, W, y, mask);
        return;
    }
    PoolJob j = {.x = x, .y = y, .mask = mask, .planes = planes, .H = H, .W = W,
                 .per = chunk_planes(H, W)};
    cliff_fj_for((planes + j.per - 1) / j.per, forward_chunk, &j);
}

void cliff_pool_max2_backward(const float *dy, const int *mask, int planes, int H, int W,
                              float *dx, int fork)
{
    if (!fork) {
        backward_planes(dy, mask, 0, planes, H, W, dx);
        return;
    }
    PoolJob j = {.dy = dy, .mask_in = mask, .dx = dx, .planes = planes, .H = H, .W = W,
                 .per = chunk_planes(H, W)};
    cliff_fj_for((planes + j.per - 1) / j.per, backward_chunk, &j);
}

#else /* never called: cliff_gemm_avx512_usable() is 0 */

void cliff_pool_max2_forward(const float *x, int planes, int H, int W, float *y, int *mask,
                             int fork)
{
    (void)x, (void)planes, (void)H, (void)W, (void)y, (void)mask, (void)fork;
}

void cliff_pool_max2_backward(const float *dy, const int *mask, int planes, int H, int W,
                              float *dx, int fork)
{
    (void)dy, (void)mask, (void)planes, (void)H, (void)W, (void)dx, (void)fork;
}

#endif
