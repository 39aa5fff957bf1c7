/* AVE pooling of one plane with horizontal stride 1 or 2, any window and
 * padding, on AVX-512 (pool_plane.h): 16 output columns a vector, the
 * candidates read as pool_span512.h says, so that the clipped edge columns
 * (padding, Caffe's ceil-rounded last window) need no scalar path.
 *
 * Same bits as cliff_pool_ave_plane: a lane's sum starts at +0 and adds its
 * window's candidates inside the image in row-major order (a lane whose
 * candidate column is outside is skipped, not added a 0), then one IEEE
 * division by the window's size clipped to the padded image, an exact small
 * integer as a float. */
#include "pool_plane.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include "pool_span512.h"

#define AVX512 __attribute__((target("avx512f")))

/* Row h's candidates added into acc (S, KW constants after inlining). */
CLIFF_AVX512_INLINE __m512 row_sum(const float *x, long hw, long row, int kw, int S,
                                   const CliffPoolSpan *sp, __m512 acc)
{
    const __m512i iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i even = _mm512_add_epi32(iota, iota);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const int inside = cliff_pool_row_inside(sp, row, hw);
    const float *r = x + row + sp->s0;
    for (int dw = 0; dw < kw; dw += S) {
        const long off = row + sp->s0 + dw;
        const __m512 a = inside ? _mm512_loadu_ps(r + dw) : cliff_pool_load_clipped(x, hw, off);
        if (S == 1) {
            acc = _mm512_mask_add_ps(acc, sp->lanes[dw], acc, a);
        } else {
            const __m512 b = inside ? _mm512_loadu_ps(r + dw + 16)
                                    : cliff_pool_load_clipped(x, hw, off + 16);
            acc = _mm512_mask_add_ps(acc, sp->lanes[dw], acc, _mm512_permutex2var_ps(a, even, b));
            if (dw + 1 < kw)
                acc = _mm512_mask_add_ps(acc, sp->lanes[dw + 1], acc,
                                         _mm512_permutex2var_ps(a, odd, b));
        }
    }
    return acc;
}

/* One chunk of n <= 16 output columns from px0, every output row. */
CLIFF_AVX512_INLINE void ave_chunk(const CliffPoolGeom *g, const float *x, int px0, int n,
                                   int S, int KW, float *y)
{
    const int W = g->W, kw = KW ? KW : g->kw;
    const long hw = (long)g->H * W;
    const __m512i iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __mmask16 kn = cliff_first_lanes(n);
    CliffPoolSpan sp;
    cliff_pool_span(g, px0, n, S, kw, &sp);
    /* the divisor's column factor per lane: [w0, w0 + kw) clipped to W + pw */
    const __m512i w0 = _mm512_add_epi32(_mm512_set1_epi32(px0 * S - g->pw),
                                        _mm512_mullo_epi32(iota, _mm512_set1_epi32(S)));
    const __m512i cols = _mm512_sub_epi32(
        _mm512_min_epi32(_mm512_add_epi32(w0, _mm512_set1_epi32(kw)),
                         _mm512_set1_epi32(W + g->pw)),
        w0);
    for (int py = 0; py < g->oh; py++) {
        const int h0 = py * g->sh - g->ph, h1 = h0 + g->kh;
        const int rows = (h1 < g->H + g->ph ? h1 : g->H + g->ph) - h0;
        const int hs = h0 < 0 ? 0 : h0, he = h1 < g->H ? h1 : g->H;
        __m512 acc = _mm512_setzero_ps();
        for (int h = hs; h < he; h++) acc = row_sum(x, hw, (long)h * W, kw, S, &sp, acc);
        const __m512 div = _mm512_cvtepi32_ps(_mm512_mullo_epi32(_mm512_set1_epi32(rows), cols));
        cliff_store_prefix(y + (size_t)py * g->ow, _mm512_div_ps(acc, div), kn);
    }
}

AVX512 void cliff_pool_ave_plane_avx512(const CliffPoolGeom *g, const float *x, float *y)
{
    if (g->kw > CLIFF_POOL_MAXKW) { /* beyond the span's table */
        cliff_pool_ave_plane(g, x, y);
        return;
    }
    for (int px0 = 0; px0 < g->ow; px0 += 16) {
        const int n = g->ow - px0 < 16 ? g->ow - px0 : 16;
        /* the common windows with their width a constant */
        if (g->sw == 2 && g->kw == 3)
            ave_chunk(g, x, px0, n, 2, 3, y + px0);
        else if (g->sw == 2)
            ave_chunk(g, x, px0, n, 2, 0, y + px0);
        else if (g->kw == 3)
            ave_chunk(g, x, px0, n, 1, 3, y + px0);
        else
            ave_chunk(g, x, px0, n, 1, 0, y + px0);
    }
}

#else /* never called: cliff_gemm_avx512_usable() is 0 */

void cliff_pool_ave_plane_avx512(const CliffPoolGeom *g, const float *x, float *y)
{
    cliff_pool_ave_plane(g, x, y);
}

#endif
