/* Convolution by shifted rows on AVX-512; see conv_fast.h for the layout.
 *
 * Register tiles (32 zmm registers; Zen 5 retires two 512-bit FMAs a cycle):
 *   forward and data gradient: MR rows (weights broadcast from a packed panel)
 *     x 4 vectors of 16 positions (64 columns of the plane): 4*MR accumulators,
 *     4 + MR loads per 4*MR FMAs; MR in {4, 5, 6} chosen to waste the fewest
 *     rows (LeNet: M = 20 and 50, K = 25 and 500 -> 5).
 *   weight gradient: 4 output channels x 5 column rows, each accumulator 16
 *     partial sums over positions, reduced once per block of images.
 * Everything else (the shift, its adjoint, the bias gradient) is a few
 * percent of the work. Threads (fork_join.h, no OpenMP): the images are split
 * into one range per thread; each has its own S, and every thread but the
 * first its own weight gradient, summed after the join. */
#include "conv_fast.h"

#include <stdint.h>

#include "blas.h"
#include "fork_join.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CONV_FAST_X86 1
#include "simd512.h"
#define AVX512 __attribute__((target("avx512f")))
#define AVX512_INLINE static inline __attribute__((always_inline, target("avx512f")))
#endif

/* Largest S (floats per image) taken: beyond that the layer is big enough for
 * the gemm path to be efficient, and S would fall out of L2. */
#define MAX_S_FLOATS (1u << 18)
/* Floats of S and dy held for one block of the weight gradient (~800 KB of L2),
 * and of the S rows one weight-gradient tile reads over the block (~24 KB of L1). */
#define WGRAD_BLOCK_FLOATS (200u * 1024u)
#define WGRAD_L1_FLOATS (6u * 1024u)
/* Row width (in 16-float chunks) of the vectorized shift. */
#define SHIFT_MAX_CHUNKS 16
/* The weight-gradient tile: WM output channels x WR column rows. */
#define WM 5
#define WR 5

int cliff_conv_fast_usable(const CliffConvGeom *g)
{
#ifdef CONV_FAST_X86
    if (g->stride_h != 1 || g->dilation_h != 1) return 0;
    const size_t Hp = (size_t)g->height + 2u * (size_t)g->pad_h;
    const size_t S = (size_t)g->channels * g->kernel_w * Hp * (size_t)g->out_w;
    if (S == 0 || S > MAX_S_FLOATS || g->out_h <= 0 || g->out_w <= 0) return 0;
    return cliff_gemm_avx512_usable(); /* AVX-512F here, and allowed */
#else
    (void)g;
    return 0;
#endif
}

/* The MR in {6, 5, 4} with the fewest padded rows for n rows (ties: larger). */
static int pick_mr(int n)
{
    int best = 6, waste = (6 - n % 6) % 6;
    for (int mr = 5; mr >= 4; mr--) {
        int w = (mr - n % mr) % mr;
        if (w < waste) best = mr, waste = w;
    }
    return best;
}

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Floats between the S of consecutive images: S rounded up to a whole vector,
 * plus one vector of slack for the shift's full-width stores. */
static size_t s_stride(size_t S_size) { return round16(S_size) + 16; }

int cliff_conv_fast_plan(CliffConvFastPlan *pl, const CliffConvGeom *g, int groups, int M,
                         int num, CliffError *err)
{
    pl->g = *g;
    pl->groups = groups;
    pl->M = M;
    pl->num = num;
    pl->Mg = M / groups;
    pl->K = g->channels / groups * g->kernel_h * g->kernel_w;
    pl->Hp = g->height + 2 * g->pad_h;
    pl->plane = g->out_h * g->out_w;
    pl->S_size = (size_t)g->channels * g->kernel_w * (size_t)pl->Hp * g->out_w;
    pl->mr_f = pick_mr(pl->Mg);
    pl->mr_d = pick_mr(pl->K);
    /* weight-gradient blocks: S and dy of the block in L2, and the WR S rows of
     * one tile over the block in L1 */
    size_t per_image = s_stride(pl->S_size) + (size_t)M * pl->plane;
    size_t nb = WGRAD_BLOCK_FLOATS / per_image;
    size_t nb_l1 = WGRAD_L1_FLOATS / (WR * (size_t)pl->plane);
    if (nb_l1 < nb) nb = nb_l1;
    if (nb < 1) nb = 1;
    const int parts = cliff_fj_threads();
    pl->parts = parts;
    if (nb > (size_t)num) nb = num > 0 ? (size_t)num : 1;
    /* at least two blocks a thread, so the weight gradient balances */
    const size_t blocks = ((size_t)num + nb - 1) / nb, want = parts > 1 ? 2 * (size_t)parts : 1;
    if (blocks < want && (size_t)num >= want) nb = ((size_t)num + want - 1) / want;
    pl->nb = (int)nb;

    const int rows = g->channels * g->kernel_h * g->kernel_w;
    int *off = realloc(pl->off, (size_t)rows * sizeof *off);
    if (!off) return cliff_error_set(err, "out of memory for the convolution offsets");
    pl->off = off;
    int *moff = realloc(pl->moff, (size_t)pl->Mg * sizeof *moff);
    if (!moff) return cliff_error_set(err, "out of memory for the convolution offsets");
    pl->moff = moff;
    for (int m = 0; m < pl->Mg; m++) moff[m] = m * pl->plane;
    for (int c = 0; c < g->channels; c++)
        for (int ki = 0; ki < g->kernel_h; ki++)
            for (int kj = 0; kj < g->kernel_w; kj++)
                off[(c * g->kernel_h + ki) * g->kernel_w + kj] =
                    ((c * g->kernel_w + kj) * pl->Hp + ki) * g->out_w;

    const size_t nmb = (size_t)(pl->Mg + pl->mr_f - 1) / pl->mr_f;
    const size_t nrb = (size_t)(pl->K + pl->mr_d - 1) / pl->mr_d;
    size_t wp = (size_t)groups * nmb * pl->mr_f * pl->K;
    size_t wd = (size_t)groups * nrb * pl->mr_d * pl->Mg;
    pl->part_floats = nb * s_stride(pl->S_size);
    const size_t s_part = (size_t)parts * pl->part_floats, w_part = round16(wp > wd ? wp : wd);
    const size_t dw_part = round16((size_t)M * pl->K);
    const size_t need = s_part + w_part + (size_t)(parts - 1) * dw_part;
    if (need > pl->buf_cap || !pl->buf) {
        float *b = aligned_alloc(64, need * sizeof *b); /* need is a multiple of 16 floats */
        if (!b)
            return cliff_error_set(err, "out of memory allocating %zu floats of convolution "
                                        "scratch", need);
        free(pl->buf);
        pl->buf = b;
        pl->buf_cap = need;
    }
    pl->wpack = pl->buf + s_part;
    pl->dwpriv = pl->wpack + w_part;
    return 0;
}

void cliff_conv_fast_plan_free(CliffConvFastPlan *pl)
{
    free(pl->off);
    free(pl->moff);
    free(pl->buf);
    pl->off = NULL;
    pl->moff = NULL;
    pl->buf = NULL;
    pl->buf_cap = 0;
}

#ifdef CONV_FAST_X86

/* The output columns ox in [*lo, *hi) whose input column ox*stride + off lies
 * inside [0, width). */
static void valid_range(int off, int stride, int width, int n, int *lo, int *hi)
{
    int l = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int h = width - off <= 0 ? 0 : (width - off + stride - 1) / stride;
    if (h > n) h = n;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* Lanes [lo, hi) of the 16 starting at base. */
AVX512_INLINE __mmask16 lanes(int base, int lo, int hi)
{
    int a = lo - base, b = hi - base;
    if (a < 0) a = 0;
    if (b > 16) b = 16;
    if (b <= a) return 0;
    return (__mmask16)(((1u << (b - a)) - 1u) << a);
}

/* S of one image (conv_fast.h). */
AVX512 static void shift_image(const CliffConvFastPlan *pl, const float *img, float *S)
{
    const CliffConvGeom *g = &pl->g;
    const int C = g->channels, H = g->height, W = g->width, kw = g->kernel_w, ow = g->out_w;
    const int Hp = pl->Hp, ph = g->pad_h, sw = g->stride_w;
    for (int c = 0; c < C; c++) {
        const float *xc = img + (size_t)c * H * W;
        for (int kj = 0; kj < kw; kj++) {
            const int offx = kj * g->dilation_w - g->pad_w;
            int lo, hi;
            valid_range(offx, sw, W, ow, &lo, &hi);
            float *d = S + ((size_t)c * kw + kj) * Hp * ow;
            if (ph) memset(d, 0, (size_t)ph * ow * sizeof *d);
            d += (size_t)ph * ow;
            if (sw == 1 && ow <= 16 * SHIFT_MAX_CHUNKS) {
                /* rows in increasing address order, 16 columns at a time; lanes
                 * outside [lo, hi) are not read (no access outside the row) and
                 * store 0; a row's last store may run up to 15 floats into the
                 * next row, which is written afterwards (S has 16 floats of slack
                 * at its end) */
                __mmask16 kl[SHIFT_MAX_CHUNKS] = {0};
                const int nch = (ow + 15) / 16;
                for (int ch = 0; ch < nch; ch++) kl[ch] = lanes(16 * ch, lo, hi);
                const float *s = xc + offx;
                if (ow == 8 && kl[0] == 0xFF) { /* narrow rows, all inside the image */
                    for (int iy = 0; iy < H; iy++, s += W, d += ow)
                        _mm256_storeu_ps(d, _mm256_loadu_ps(s));
                } else if (ow <= 8) { /* a half vector a row, no line splits */
                    const __mmask16 k0 = kl[0];
                    for (int iy = 0; iy < H; iy++, s += W, d += ow)
                        _mm256_storeu_ps(d, _mm512_castps512_ps256(cliff_load_mask(s, k0)));
                } else if (nch == 1) { /* one vector a row */
                    const __mmask16 k0 = kl[0];
                    for (int iy = 0; iy < H; iy++, s += W, d += ow)
                        _mm512_storeu_ps(d, cliff_load_mask(s, k0));
                } else {
                    for (int iy = 0; iy < H; iy++, s += W, d += ow)
                        for (int ch = 0; ch < nch; ch++)
                            _mm512_storeu_ps(d + 16 * ch, cliff_load_mask(s + 16 * ch, kl[ch]));
                }
                if (ph) memset(d, 0, (size_t)ph * ow * sizeof *d); /* bottom padding, after the rows */
            } else {
                for (int iy = 0; iy < H; iy++) {
                    const float *s = xc + (size_t)iy * W;
                    float *dr = d + (size_t)iy * ow;
                    for (int ox = 0; ox < ow; ox++)
                        dr[ox] = ox >= lo && ox < hi ? s[ox * sw + offx] : 0.0f;
                }
                memset(d + (size_t)H * ow, 0, (size_t)ph * ow * sizeof *d);
            }
        }
    }
}

/* The widest kernel the register-accumulating adjoint takes (masks on the stack). */
#define UNSHIFT_MAX_KW 32

/* The adjoint of shift_image: dx (one image, overwritten) from dS. With
 * stride_w 1 every dx row is summed in registers over the kw shifted rows that
 * reach it (no read-modify-write of dx). */
AVX512 static void unshift_image(const CliffConvFastPlan *pl, const float *dS, float *dx)
{
    const CliffConvGeom *g = &pl->g;
    const int C = g->channels, H = g->height, W = g->width, kw = g->kernel_w, ow = g->out_w;
    const int Hp = pl->Hp, ph = g->pad_h, sw = g->stride_w;
    if (sw == 1 && kw <= UNSHIFT_MAX_KW) {
        /* dx[c][iy][ix] = sum_kj dS[c][kj][iy + ph][ix - offx_kj], ix - offx in [lo, hi) */
        int offx[UNSHIFT_MAX_KW];
        __mmask16 k[UNSHIFT_MAX_KW];
        for (int b = 0; b < W; b += 16) {
            for (int kj = 0; kj < kw; kj++) {
                int lo, hi;
                offx[kj] = kj * g->dilation_w - g->pad_w;
                valid_range(offx[kj], 1, W, ow, &lo, &hi);
                k[kj] = lanes(b, lo + offx[kj], hi + offx[kj]);
            }
            const __mmask16 ks = lanes(b, 0, W);
            for (int c = 0; c < C; c++) {
                const float *dc = dS + (size_t)c * kw * Hp * ow + (size_t)ph * ow + b;
                float *xr = dx + (size_t)c * H * W + b;
                for (int iy = 0; iy < H; iy++, xr += W) {
                    __m512 acc = _mm512_setzero_ps();
                    const float *d = dc + (size_t)iy * ow;
                    for (int kj = 0; kj < kw; kj++, d += (size_t)Hp * ow)
                        acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(k[kj], d - offx[kj]));
                    cliff_store_prefix(xr, acc, ks);
                }
            }
        }
        return;
    }
    memset(dx, 0, (size_t)C * H * W * sizeof *dx);
    for (int c = 0; c < C; c++) {
        float *xc = dx + (size_t)c * H * W;
        for (int kj = 0; kj < kw; kj++) {
            const int off = kj * g->dilation_w - g->pad_w;
            int lo, hi;
            valid_range(off, sw, W, ow, &lo, &hi);
            const float *d = dS + ((size_t)c * kw + kj) * Hp * ow;
            for (int iy = 0; iy < H; iy++) {
                const float *sr = d + (size_t)(iy + ph) * ow;
                float *xr = xc + (size_t)iy * W;
                for (int ox = lo; ox < hi; ox++) xr[ox * sw + off] += sr[ox];
            }
        }
    }
}

/* acc[i][j] += sum_k a[k*MR + i] * b[boff[k] + 16 j] over nk steps: the inner
 * product of the forward and data-gradient tiles. MASKED: the vectors read
 * under mk[j] (lanes past the plane read as 0). */
AVX512_INLINE void tile_core(const int MR, const int NV, const int MASKED, int nk,
                             const float *restrict a, const float *restrict b,
                             const int *restrict boff, const __mmask16 *mk, __m512 acc[6][4])
{
    for (int k = 0; k < nk; k++) {
        const float *bk = b + boff[k];
        __m512 bv[4];
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++)
            bv[j] = MASKED ? cliff_load_mask(bk + 16 * j, mk[j]) : _mm512_loadu_ps(bk + 16 * j);
#pragma GCC unroll 6
        for (int i = 0; i < MR; i++) {
            const __m512 av = _mm512_set1_ps(a[k * MR + i]);
#pragma GCC unroll 4
            for (int j = 0; j < NV; j++) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
        }
    }
}

/* One forward tile: rows (<= MR valid) of y from the packed panel wp [K][MR]. */
AVX512_INLINE void fwd_tile(const int MR, const int NV, const int MASKED, int K,
                            const float *wp, const float *S, const int *off,
                            const __mmask16 *mk, const float *bias, int rows, float *y,
                            size_t ldy)
{
    __m512 acc[6][4];
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
        const __m512 b0 = bias && i < rows ? _mm512_set1_ps(bias[i]) : _mm512_setzero_ps();
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++) acc[i][j] = b0;
    }
    tile_core(MR, NV, MASKED, K, wp, S, off, mk, acc);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
        if (i >= rows) break;
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++) {
            if (MASKED)
                cliff_store_prefix(y + i * ldy + 16 * j, acc[i][j], mk[j]);
            else
                _mm512_storeu_ps(y + i * ldy + 16 * j, acc[i][j]);
        }
    }
}

/* The masks of the 64-column chunk starting at p0; returns how many vectors hold
 * columns and whether the chunk is whole. */
AVX512_INLINE int chunk_masks(int p0, int plane, __mmask16 mk[4], int *whole)
{
    const int n = plane - p0 < 64 ? plane - p0 : 64;
    for (int j = 0; j < 4; j++) mk[j] = lanes(16 * j, 0, n);
    *whole = n == 64;
    return (n + 15) / 16;
}

/* Forward of one (image, group, row block) over the whole plane. */
#define DEF_FWD_BLOCK(MR)                                                                      \
    AVX512 static void fwd_block_##MR(int K, const float *wp, const float *S, const int *off,  \
                                      const float *bias, int rows, float *y, int plane)        \
    {                                                                                          \
        __mmask16 mk[4];                                                                       \
        for (int p0 = 0; p0 < plane; p0 += 64) {                                               \
            int whole, nv = chunk_masks(p0, plane, mk, &whole);                                \
            if (whole)                                                                         \
                fwd_tile(MR, 4, 0, K, wp, S + p0, off, mk, bias, rows, y + p0, plane);         \
            else if (nv == 4)                                                                  \
                fwd_tile(MR, 4, 1, K, wp, S + p0, off, mk, bias, rows, y + p0, plane);         \
            else if (nv == 3)                                                                  \
                fwd_tile(MR, 3, 1, K, wp, S + p0, off, mk, bias, rows, y + p0, plane);         \
            else if (nv == 2)                                                                  \
                fwd_tile(MR, 2, 1, K, wp, S + p0, off, mk, bias, rows, y + p0, plane);         \
            else                                                                               \
                fwd_tile(MR, 1, 1, K, wp, S + p0, off, mk, bias, rows, y + p0, plane);         \
        }                                                                                      \
    }
DEF_FWD_BLOCK(4)
DEF_FWD_BLOCK(5)
DEF_FWD_BLOCK(6)

/* The arguments of one forward or backward call, shared by its parts. */
typedef struct FastJob {
    CliffConvFastPlan *pl;
    const float *x, *w, *bias, *dy;
    float *y, *dw, *dx;
    int wblocks;                  /* backward: chunks [0, wblocks) are dW image blocks */
    int dw_used[CLIFF_FJ_MAX];    /* backward: thread t > 0 has zeroed its private dW */
} FastJob;

/* The forward of image n on a thread (packed weights ready). */
static void fwd_image(void *arg, int n, int thread)
{
    const FastJob *j = arg;
    const CliffConvFastPlan *pl = j->pl;
    const int G = pl->groups, Mg = pl->Mg, K = pl->K, M = pl->M, mr = pl->mr_f;
    const int plane = pl->plane, nmb = (Mg + mr - 1) / mr;
    const size_t img = (size_t)pl->g.channels * pl->g.height * pl->g.width;
    const float *wp = pl->wpack;
    float *S = pl->buf + (size_t)thread * pl->part_floats;
    shift_image(pl, j->x + (size_t)n * img, S);
    for (int g = 0; g < G; g++)
        for (int mb = 0; mb < nmb; mb++) {
            const int m0 = g * Mg + mb * mr, rows = Mg - mb * mr < mr ? Mg - mb * mr : mr;
            const float *pw = wp + ((size_t)g * nmb + mb) * K * mr;
            const float *pb = j->bias ? j->bias + m0 : NULL;
            float *py = j->y + ((size_t)n * M + m0) * plane;
            const int *off = pl->off + (size_t)g * K;
            if (mr == 4)
                fwd_block_4(K, pw, S, off, pb, rows, py, plane);
            else if (mr == 5)
                fwd_block_5(K, pw, S, off, pb, rows, py, plane);
            else
                fwd_block_6(K, pw, S, off, pb, rows, py, plane);
        }
}

void cliff_conv_fast_forward(CliffConvFastPlan *pl, const float *x, const float *w,
                             const float *bias, float *y)
{
    const int G = pl->groups, Mg = pl->Mg, K = pl->K, mr = pl->mr_f;
    const int nmb = (Mg + mr - 1) / mr;
    /* wp[g][mb][r][i] = W[g*Mg + mb*mr + i][r], 0 past Mg */
    float *wp = pl->wpack;
    for (int g = 0; g < G; g++)
        for (int mb = 0; mb < nmb; mb++) {
            float *d = wp + ((size_t)g * nmb + mb) * K * mr;
            for (int i = 0; i < mr; i++) {
                const int m = mb * mr + i;
                const float *src = w + ((size_t)g * Mg + m) * K;
                for (int r = 0; r < K; r++) d[(size_t)r * mr + i] = m < Mg ? src[r] : 0.0f;
            }
        }
    FastJob job = {pl, x, w, bias, NULL, y, NULL, NULL, 0, {0}};
    cliff_fj_for(pl->num, fwd_image, &job);
}

/* One data-gradient tile: the column-gradient rows r (<= MR valid) over a chunk,
 * from the packed panel wt [Mg][MR] and dy rows at moff, added into dS. */
AVX512_INLINE void dat_tile(const int MR, const int NV, const int MASKED, int Mg,
                            const float *wt, const float *dy, const int *moff,
                            const __mmask16 *mk, const int *off, int rows, float *dS)
{
    __m512 acc[6][4];
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++) acc[i][j] = _mm512_setzero_ps();
    tile_core(MR, NV, MASKED, Mg, wt, dy, moff, mk, acc);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
        if (i >= rows) break;
        float *d = dS + off[i];
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++) {
            if (MASKED) {
                __m512 v = _mm512_add_ps(cliff_load_mask(d + 16 * j, mk[j]), acc[i][j]);
                cliff_store_prefix(d + 16 * j, v, mk[j]);
            } else {
                _mm512_storeu_ps(d + 16 * j, _mm512_add_ps(_mm512_loadu_ps(d + 16 * j), acc[i][j]));
            }
        }
    }
}

#define DEF_DAT_BLOCK(MR)                                                                      \
    AVX512 static void dat_block_##MR(int Mg, const float *wt, const float *dy,                \
                                      const int *moff, const int *off, int rows, float *dS,    \
                                      int plane)                                               \
    {                                                                                          \
        __mmask16 mk[4];                                                                       \
        for (int p0 = 0; p0 < plane; p0 += 64) {                                               \
            int whole, nv = chunk_masks(p0, plane, mk, &whole);                                \
            if (whole)                                                                         \
                dat_tile(MR, 4, 0, Mg, wt, dy + p0, moff, mk, off, rows, dS + p0);             \
            else if (nv == 4)                                                                  \
                dat_tile(MR, 4, 1, Mg, wt, dy + p0, moff, mk, off, rows, dS + p0);             \
            else if (nv == 3)                                                                  \
                dat_tile(MR, 3, 1, Mg, wt, dy + p0, moff, mk, off, rows, dS + p0);             \
            else if (nv == 2)                                                                  \
                dat_tile(MR, 2, 1, Mg, wt, dy + p0, moff, mk, off, rows, dS + p0);             \
            else                                                                               \
                dat_tile(MR, 1, 1, Mg, wt, dy + p0, moff, mk, off, rows, dS + p0);             \
        }                                                                                      \
    }
DEF_DAT_BLOCK(4)
DEF_DAT_BLOCK(5)
DEF_DAT_BLOCK(6)

/* The 4 sums of a, b, c, d (lanes 0..3). */
AVX512_INLINE __m128 reduce4(__m512 a, __m512 b, __m512 c, __m512 d)
{
    /* halves: [a.q0+a.q2, a.q1+a.q3, b.q0+b.q2, b.q1+b.q3] and the same for c, d */
    __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
    __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x44), _mm512_shuffle_f32x4(c, d, 0xEE));
    /* quarters: one 128-bit lane each of a, b, c, d */
    __m512 q = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xDD));
    q = _mm512_add_ps(q, _mm512_permute_ps(q, 0x4E));
    q = _mm512_add_ps(q, _mm512_permute_ps(q, 0xB1));
    const __m512i idx = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 8, 4, 0);
    return _mm512_castps512_ps128(_mm512_permutexvar_ps(idx, q));
}

/* dw[i*K + j] += sum over nimg images and the plane of dy rows i times S rows j:
 * WM rows (moff, image stride dstride) x WR rows (soff, image stride sstride);
 * only [0, mrows) x [0, srows) are written. */
AVX512 static void wgrad_tile(int nimg, const float *dy, size_t dstride, const int *moff,
                              const float *S, size_t sstride, const int *soff, int plane,
                              float *dw, int K, int mrows, int srows)
{
    __m512 acc[WM][WR];
#pragma GCC unroll 5
    for (int i = 0; i < WM; i++)
#pragma GCC unroll 5
        for (int j = 0; j < WR; j++) acc[i][j] = _mm512_setzero_ps();
    const int full = plane & ~15;
    const __mmask16 tail = lanes(full, 0, plane);
    const float *dp[WM], *sp[WR];
#pragma GCC unroll 5
    for (int i = 0; i < WM; i++) dp[i] = dy + moff[i];
#pragma GCC unroll 5
    for (int j = 0; j < WR; j++) sp[j] = S + soff[j];
    for (int n = 0; n < nimg; n++) {
        for (int v = 0; v < plane; v += 16) {
            /* masked loads throughout: a plain-load variant was slower (conv2 dW 0.98
             * against 0.94 ms at -O3, 1.32 against 1.16 at -O2) */
            const __mmask16 k = v < full ? (__mmask16)0xFFFF : tail;
            __m512 dv[WM];
#pragma GCC unroll 5
            for (int i = 0; i < WM; i++) dv[i] = _mm512_maskz_loadu_ps(k, dp[i] + v);
#pragma GCC unroll 5
            for (int j = 0; j < WR; j++) {
                const __m512 sv = _mm512_maskz_loadu_ps(k, sp[j] + v);
#pragma GCC unroll 5
                for (int i = 0; i < WM; i++) acc[i][j] = _mm512_fmadd_ps(dv[i], sv, acc[i][j]);
            }
        }
#pragma GCC unroll 5
        for (int i = 0; i < WM; i++) dp[i] += dstride;
#pragma GCC unroll 5
        for (int j = 0; j < WR; j++) sp[j] += sstride;
    }
    /* constant indices only (unrolled), so acc stays in registers */
#pragma GCC unroll 5
    for (int j = 0; j < WR; j++) {
        if (j < srows) {
            float sums[4];
            _mm_storeu_ps(sums, reduce4(acc[0][j], acc[1][j], acc[2][j], acc[3][j]));
            for (int i = 0; i < mrows && i < 4; i++) dw[(size_t)i * K + j] += sums[i];
            if (mrows > 4) dw[(size_t)4 * K + j] += _mm512_reduce_add_ps(acc[4][j]);
        }
    }
}

/* db[m] += the sum of dy over images and the plane of channel m (double per
 * image, as the gemm path does). */
AVX512 static void bias_grad(const CliffConvFastPlan *pl, const float *dy, float *db)
{
    const int plane = pl->plane, full = plane & ~15;
    const __mmask16 tail = lanes(full, 0, plane);
    for (int m = 0; m < pl->M; m++) {
        double acc = 0;
        for (int n = 0; n < pl->num; n++) {
            const float *row = dy + ((size_t)n * pl->M + m) * plane;
            __m512 s = _mm512_setzero_ps();
            int v = 0;
            for (; v < full; v += 16) s = _mm512_add_ps(s, _mm512_loadu_ps(row + v));
            if (tail) s = _mm512_add_ps(s, cliff_load_mask(row + v, tail));
            acc += _mm512_reduce_add_ps(s);
        }
        db[m] += (float)acc;
    }
}

/* A backward chunk on a thread: chunk < wblocks is the weight gradient of an
 * image block (thread 0 into dw, others into their private sums); the rest are
 * the data gradients of single images (packed transposed weights ready). */
static void bwd_chunk(void *arg, int chunk, int thread)
{
    FastJob *j = arg;
    const CliffConvFastPlan *pl = j->pl;
    const int G = pl->groups, Mg = pl->Mg, K = pl->K, M = pl->M, plane = pl->plane;
    const size_t img = (size_t)pl->g.channels * pl->g.height * pl->g.width;
    const size_t sstride = s_stride(pl->S_size), dstride = (size_t)M * plane;
    float *S = pl->buf + (size_t)thread * pl->part_floats;
    if (chunk < j->wblocks) {
        float *dw = j->dw;
        if (thread > 0) { /* a private sum, added to dw after the join */
            dw = pl->dwpriv + (size_t)(thread - 1) * round16((size_t)M * K);
            if (!j->dw_used[thread]) {
                memset(dw, 0, (size_t)M * K * sizeof *dw);
                j->dw_used[thread] = 1;
            }
        }
        int n0, n1;
        cliff_fj_range(pl->num, chunk, j->wblocks, &n0, &n1);
        const int nimg = n1 - n0;
        for (int n = 0; n < nimg; n++)
            shift_image(pl, j->x + (size_t)(n0 + n) * img, S + n * sstride);
        /* output channels outer: their dy rows for the block stay in L1 while
         * the S rows stream past (consecutive kernel rows ki overlap in S) */
        for (int g = 0; g < G; g++)
            for (int m0 = 0; m0 < Mg; m0 += WM)
                for (int r0 = 0; r0 < K; r0 += WR) {
                    /* rows past the end repeat the last one; their sums are dropped */
                    int moff[WM], soff[WR];
                    for (int i = 0; i < WM; i++)
                        moff[i] = (g * Mg + (m0 + i < Mg ? m0 + i : Mg - 1)) * plane;
                    for (int q = 0; q < WR; q++)
                        soff[q] = pl->off[(size_t)g * K + (r0 + q < K ? r0 + q : K - 1)];
                    wgrad_tile(nimg, j->dy + (size_t)n0 * dstride, dstride, moff, S, sstride,
                               soff, plane, dw + ((size_t)g * Mg + m0) * K + r0, K,
                               Mg - m0 < WM ? Mg - m0 : WM, K - r0 < WR ? K - r0 : WR);
                }
        return;
    }
    const int n = chunk - j->wblocks, mr = pl->mr_d, nrb = (K + mr - 1) / mr;
    const float *wt = pl->wpack;
    float *dS = S;
    memset(dS, 0, pl->S_size * sizeof *dS);
    for (int g = 0; g < G; g++)
        for (int rb = 0; rb < nrb; rb++) {
            const int rows = K - rb * mr < mr ? K - rb * mr : mr;
            const float *pw = wt + ((size_t)g * nrb + rb) * Mg * mr;
            const float *pdy = j->dy + ((size_t)n * M + (size_t)g * Mg) * plane;
            const int *off = pl->off + (size_t)g * K + (size_t)rb * mr;
            if (mr == 4)
                dat_block_4(Mg, pw, pdy, pl->moff, off, rows, dS, plane);
            else if (mr == 5)
                dat_block_5(Mg, pw, pdy, pl->moff, off, rows, dS, plane);
            else
                dat_block_6(Mg, pw, pdy, pl->moff, off, rows, dS, plane);
        }
    unshift_image(pl, dS, j->dx + (size_t)n * img);
}

void cliff_conv_fast_backward(CliffConvFastPlan *pl, const float *x, const float *w,
                              const float *dy, float *dw, float *db, float *dx)
{
    const int G = pl->groups, Mg = pl->Mg, K = pl->K, M = pl->M;
    if (db) bias_grad(pl, dy, db);
    if (!dw && !dx) return;
    if (dx) {
        const int mr = pl->mr_d, nrb = (K + mr - 1) / mr;
        /* wt[g][rb][m][i] = W[g*Mg + m][rb*mr + i], 0 past K */
        float *wt = pl->wpack;
        for (int g = 0; g < G; g++)
            for (int rb = 0; rb < nrb; rb++) {
                float *d = wt + ((size_t)g * nrb + rb) * Mg * mr;
                for (int m = 0; m < Mg; m++) {
                    const float *src = w + ((size_t)g * Mg + m) * K;
                    for (int i = 0; i < mr; i++) {
                        const int r = rb * mr + i;
                        d[(size_t)m * mr + i] = r < K ? src[r] : 0.0f;
                    }
                }
            }
    }
    FastJob job = {pl, x, w, NULL, dy, NULL, dw, dx, 0, {0}};
    job.wblocks = dw ? (pl->num + pl->nb - 1) / pl->nb : 0;
    cliff_fj_for(job.wblocks + (dx ? pl->num : 0), bwd_chunk, &job);
    for (int t = 1; t < pl->parts; t++)
        if (job.dw_used[t]) {
            const float *priv = pl->dwpriv + (size_t)(t - 1) * round16((size_t)M * K);
            for (size_t i = 0; i < (size_t)M * K; i++) dw[i] += priv[i];
        }
}

#else /* no x86: cliff_conv_fast_usable() is 0 and these are never called */

void cliff_conv_fast_forward(CliffConvFastPlan *pl, const float *x, const float *w,
                             const float *bias, float *y)
{
    (void)pl, (void)x, (void)w, (void)bias, (void)y;
}

void cliff_conv_fast_backward(CliffConvFastPlan *pl, const float *x, const float *w,
                              const float *dy, float *dw, float *db, float *dx)
{
    (void)pl, (void)x, (void)w, (void)dy, (void)dw, (void)db, (void)dx;
}

#endif
