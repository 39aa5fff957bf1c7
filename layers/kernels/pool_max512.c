/* MAX pooling of one plane with horizontal stride 1 or 2, any window and
 * padding, on AVX-512 (pool_plane.h): 16 output columns a vector, every
 * candidate (h, dw) of their windows one plain load (stride 2: the two loads
 * of a 32-column span give dw and dw + 1 as its even and odd lanes). Lanes
 * whose candidate column falls outside the image are masked out of that
 * candidate's update, which is exactly the clipping of the window, so the
 * edge columns (Caffe's clipped last window in ceil mode, padding) need no
 * scalar path; only the rows whose loads would leave the plane read with
 * masked loads.
 *
 * Same bits as cliff_pool_max_plane: candidates in row-major order, a lane's
 * first valid candidate is taken unconditionally (`have` records which lanes
 * have one), a later one only when strictly greater (so NaN never replaces,
 * and a NaN first candidate stays). */
#include "pool_plane.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include "simd512.h"

#include "pool_span512.h"

#define AVX512 __attribute__((target("avx512f")))

/* A chunk's span (pool_span512.h) and, per candidate column offset dw, the
 * plane index of each lane's candidate less the row's h*W. */
typedef struct Chunk {
    CliffPoolSpan sp;
    __m512i idx[CLIFF_POOL_MAXKW];
} Chunk;

/* The candidates of window row h for 16 windows (S, KW constants after
 * inlining; KW = 0: g->kw). Values read from outside the image (a
 * neighbouring row, or 0 beyond the plane) are never selected: every update
 * is masked by the candidate's lanes. The window's first row (first) takes
 * a lane's first valid candidate unconditionally (have), every other
 * candidate replaces only when strictly greater, in row-major order. */
CLIFF_AVX512_INLINE void row_cands(const float *x, long hw, int h, int W, int kw, int S,
                                   const Chunk *ck, int first, __m512 *bestp, __m512i *argp,
                                   __mmask16 *havep)
{
    const __m512i iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i even = _mm512_add_epi32(iota, iota);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const __m512i rowidx = _mm512_set1_epi32(h * W);
    const long row = (long)h * W;
    const int safe = cliff_pool_row_inside(&ck->sp, row, hw);
    const float *r = x + row + ck->sp.s0;
    __m512 best = *bestp;
    __m512i arg = *argp;
    __mmask16 have = *havep;
#define STEP(v, dw)                                                                           \
    do {                                                                                   \
        const __mmask16 l_ = ck->sp.lanes[dw];                                                \
        const __mmask16 upd_ =                                                             \
            first ? (__mmask16)(l_ & (~have | _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ)))     \
                  : _mm512_mask_cmp_ps_mask(l_, v, best, _CMP_GT_OQ);                      \
        best = _mm512_mask_mov_ps(best, upd_, v);                                          \
        arg = _mm512_mask_add_epi32(arg, upd_, rowidx, ck->idx[dw]);                       \
        if (first) have |= l_;                                                             \
    } while (0)
    for (int dw = 0; dw < kw; dw += S) {
        const long off = row + ck->sp.s0 + dw;
        const __m512 a = safe ? _mm512_loadu_ps(r + dw) : cliff_pool_load_clipped(x, hw, off);
        if (S == 1) {
            STEP(a, dw);
        } else {
            const __m512 b = safe ? _mm512_loadu_ps(r + dw + 16)
                                  : cliff_pool_load_clipped(x, hw, off + 16);
            const __m512 ve = _mm512_permutex2var_ps(a, even, b);
            STEP(ve, dw);
            if (dw + 1 < kw) {
                const __m512 vo = _mm512_permutex2var_ps(a, odd, b);
                STEP(vo, dw + 1);
            }
        }
    }
#undef STEP
    *bestp = best;
    *argp = arg;
    *havep = have;
}

/* One chunk of n <= 16 output columns from px0, every output row. */
CLIFF_AVX512_INLINE void max_chunk(const CliffPoolGeom *g, const float *x, int px0, int n,
                                   int S, int KW, float *y, int *m)
{
    const int W = g->W, kw = KW ? KW : g->kw;
    const long hw = (long)g->H * W;
    const __m512i iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i step = S == 2 ? _mm512_add_epi32(iota, iota) : iota;
    const __mmask16 kn = cliff_first_lanes(n);
    Chunk ck;
    cliff_pool_span(g, px0, n, S, kw, &ck.sp);
    for (int dw = 0; dw < kw; dw++)
        ck.idx[dw] = _mm512_add_epi32(_mm512_set1_epi32(ck.sp.s0 + dw), step);
    for (int py = 0; py < g->oh; py++) {
        int hs = py * g->sh - g->ph, he = hs + g->kh;
        hs = hs < 0 ? 0 : hs;
        he = he < g->H ? he : g->H;
        __m512 best = _mm512_setzero_ps();
        __m512i arg = _mm512_setzero_si512();
        __mmask16 have = 0;
        if (hs < he) row_cands(x, hw, hs, W, kw, S, &ck, 1, &best, &arg, &have);
        for (int h = hs + 1; h < he; h++) row_cands(x, hw, h, W, kw, S, &ck, 0, &best, &arg, &have);
        cliff_store_prefix(y + (size_t)py * g->ow, best, kn);
        cliff_store_prefix((float *)(m + (size_t)py * g->ow), _mm512_castsi512_ps(arg), kn);
    }
}

AVX512 void cliff_pool_max_plane_avx512(const CliffPoolGeom *g, const float *x, float *y,
                                        int *mask)
{
    if (g->kw > CLIFF_POOL_MAXKW) { /* beyond the chunk's tables */
        cliff_pool_max_plane(g, x, y, mask);
        return;
    }
    for (int px0 = 0; px0 < g->ow; px0 += 16) {
        const int n = g->ow - px0 < 16 ? g->ow - px0 : 16;
        /* the common windows with their width a constant */
        if (g->sw == 2 && g->kw == 3)
            max_chunk(g, x, px0, n, 2, 3, y + px0, mask + px0);
        else if (g->sw == 2 && g->kw == 2)
            max_chunk(g, x, px0, n, 2, 2, y + px0, mask + px0);
        else if (g->sw == 2)
            max_chunk(g, x, px0, n, 2, 0, y + px0, mask + px0);
        else if (g->kw == 3)
            max_chunk(g, x, px0, n, 1, 3, y + px0, mask + px0);
        else
            max_chunk(g, x, px0, n, 1, 0, y + px0, mask + px0);
    }
}

#else /* never called: cliff_gemm_avx512_usable() is 0 */

void cliff_pool_max_plane_avx512(const CliffPoolGeom *g, const float *x, float *y, int *mask)
{
    cliff_pool_max_plane(g, x, y, mask);
}

#endif
