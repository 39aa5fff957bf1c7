/* MAX pooling of one plane with horizontal stride 1 or 2, any window and
 * padding, on AVX-512 (pool_plane.h): 16 output columns a vector, every
 * candidate (h, dw) of their windows one masked load (stride 2: two loads and
 * an even-lane permute). Lanes whose candidate column falls outside the
 * image are masked out of that candidate, which is exactly the clipping of
 * the window, so the edge columns need no scalar path.
 *
 * Same bits as cliff_pool_max_plane: candidates in row-major order, a lane's
 * first valid candidate is taken unconditionally (`have` records which lanes
 * have one), a later one only when strictly greater (so NaN never replaces,
 * and a NaN first candidate stays). */
#include "pool_plane.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include "simd512.h"

#define AVX512 __attribute__((target("avx512f")))

/* Lanes i of [ilo, ihi) clamped to [0, n) as a mask. */
AVX512 static inline __mmask16 lane_range(int ilo, int ihi, int n)
{
    if (ihi > n) ihi = n;
    if (ilo < 0) ilo = 0;
    if (ilo >= ihi) return 0;
    return (__mmask16)(cliff_first_lanes(ihi) & ~cliff_first_lanes(ilo));
}

/* Ceiling of a / b for b > 0 and any sign of a. */
static inline int div_ceil(int a, int b)
{
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

/* What a candidate column offset dw reads for one 16-column chunk, the same
 * on every row: the lanes whose column is inside the image, and the load
 * masks of the two source vectors (stride 2: the even positions of a 32-wide
 * span, loaded as the run [2*lo, 2*hi - 1) so that no position outside the
 * image is read). */
typedef struct Cand {
    int s; /* column of lane 0 */
    __mmask16 lanes, k0, k1;
} Cand;

AVX512 static Cand cand_of(const CliffPoolGeom *g, int px0, int n, int S, int dw)
{
    Cand c;
    c.s = px0 * S - g->pw + dw;
    int lo = div_ceil(-c.s, S), hi = div_ceil(g->W - c.s, S);
    lo = lo < 0 ? 0 : lo;
    hi = hi < n ? hi : n;
    c.lanes = lane_range(lo, hi, n);
    c.k0 = c.k1 = 0;
    if (c.lanes && S == 2) {
        const unsigned long long span = ((1ull << (2 * hi - 1)) - 1ull) & ~((1ull << (2 * lo)) - 1ull);
        c.k0 = (__mmask16)(span & 0xFFFF);
        c.k1 = (__mmask16)(span >> 16);
    }
    return c;
}

/* One chunk of n <= 16 output columns from px0, every output row. */
AVX512 static void max_chunk(const CliffPoolGeom *g, const float *x, int px0, int n, int S,
                             float *y, int *m)
{
    enum { MAXKW = 32 };
    const int W = g->W, kw = g->kw;
    const __m512i iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i even = _mm512_add_epi32(iota, iota);
    const __m512i step = S == 2 ? even : iota;
    const __mmask16 kn = cliff_first_lanes(n);
    Cand cands[MAXKW];
    for (int dw = 0; dw < kw && dw < MAXKW; dw++) cands[dw] = cand_of(g, px0, n, S, dw);
    for (int py = 0; py < g->oh; py++) {
        int hs = py * g->sh - g->ph, he = hs + g->kh;
        hs = hs < 0 ? 0 : hs;
        he = he < g->H ? he : g->H;
        __m512 best = _mm512_setzero_ps();
        __m512i arg = _mm512_setzero_si512();
        __mmask16 have = 0;
        for (int h = hs; h < he; h++) {
            const float *row = x + (size_t)h * W;
            for (int dw = 0; dw < kw; dw++) {
                const Cand c = dw < MAXKW ? cands[dw] : cand_of(g, px0, n, S, dw);
                if (!c.lanes) continue;
                /* masked-off lanes are not read (no fault, even before the plane) */
                __m512 v;
                if (S == 1) {
                    v = cliff_load_mask(row + c.s, c.lanes);
                } else {
                    const __m512 a0 = cliff_load_mask(row + c.s, c.k0);
                    const __m512 a1 = cliff_load_mask(row + c.s + 16, c.k1);
                    v = _mm512_permutex2var_ps(a0, even, a1);
                }
                const __m512i idx = _mm512_add_epi32(_mm512_set1_epi32(h * W + c.s), step);
                const __mmask16 upd =
                    c.lanes & (__mmask16)(~have | _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ));
                best = _mm512_mask_mov_ps(best, upd, v);
                arg = _mm512_mask_mov_epi32(arg, upd, idx);
                have |= c.lanes;
            }
        }
        cliff_store_prefix(y + (size_t)py * g->ow, best, kn);
        cliff_store_prefix((float *)(m + (size_t)py * g->ow), _mm512_castsi512_ps(arg), kn);
    }
}

AVX512 void cliff_pool_max_plane_avx512(const CliffPoolGeom *g, const float *x, float *y,
                                        int *mask)
{
    for (int px0 = 0; px0 < g->ow; px0 += 16) {
        const int n = g->ow - px0 < 16 ? g->ow - px0 : 16;
        if (g->sw == 1)
            max_chunk(g, x, px0, n, 1, y + px0, mask + px0);
        else
            max_chunk(g, x, px0, n, 2, y + px0, mask + px0);
    }
}

#else /* never called: cliff_gemm_avx512_usable() is 0 */

void cliff_pool_max_plane_avx512(const CliffPoolGeom *g, const float *x, float *y, int *mask)
{
    cliff_pool_max_plane(g, x, y, mask);
}

#endif
