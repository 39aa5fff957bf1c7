/* The AVX-512 kernels of the shifted-row convolution (conv_fast.c drives them;
 * conv_fast_kernels.h says what each computes).
 *
 * The products run on the matrix engine: the forward and the data gradient on
 * its view tiles (gemm_vtiles.c, gemm_scatter.c), the weight gradient on its
 * dot-product kind (gemm_dot.c). What is left here, the shift, its adjoint
 * and the bias gradient, is a few percent of the work. */
#include "conv_fast_kernels.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include "simd512.h"
#define AVX512 __attribute__((target("avx512f")))
#define AVX512_INLINE static inline __attribute__((always_inline, target("avx512f")))

/* Row width (in 16-float chunks) of the vectorized shift. */
#define SHIFT_MAX_CHUNKS 16

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

AVX512 void cliff_cf_shift(const CliffConvFastPlan *pl, const float *img, float *S)
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
                /* bottom padding, after the rows */
                if (ph) memset(d, 0, (size_t)ph * ow * sizeof *d);
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

/* With stride_w 1 every dx row is summed in registers over the kw shifted rows
 * that reach it (no read-modify-write of dx). */
AVX512 void cliff_cf_unshift(const CliffConvFastPlan *pl, const float *dS, float *dx)
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

AVX512 void cliff_cf_row_sums(const float *dy, int rows, int plane, float *out)
{
    const int full = plane & ~15;
    const __mmask16 tail = lanes(full, 0, plane);
    for (int i = 0; i < rows; i++) {
        const float *row = dy + (size_t)i * plane;
        __m512 s = _mm512_setzero_ps();
        int v = 0;
        for (; v < full; v += 16) s = _mm512_add_ps(s, _mm512_loadu_ps(row + v));
        if (tail) s = _mm512_add_ps(s, cliff_load_mask(row + v, tail));
        out[i] = _mm512_reduce_add_ps(s);
    }
}

/* Double per image, as the gemm path does. */
void cliff_cf_bias_grad(const CliffConvFastPlan *pl, const float *dy, float *db)
{
    for (int m = 0; m < pl->M; m++) {
        double acc = 0;
        for (int n = 0; n < pl->num; n++) {
            float sum;
            cliff_cf_row_sums(dy + ((size_t)n * pl->M + m) * pl->plane, 1, pl->plane, &sum);
            acc += sum;
        }
        db[m] += (float)acc;
    }
}

#else /* no x86: cliff_conv_fast_usable() is 0 and these are never called */

void cliff_cf_shift(const CliffConvFastPlan *pl, const float *img, float *S)
{
    (void)pl, (void)img, (void)S;
}

void cliff_cf_unshift(const CliffConvFastPlan *pl, const float *dS, float *dx)
{
    (void)pl, (void)dS, (void)dx;
}

void cliff_cf_row_sums(const float *dy, int rows, int plane, float *out)
{
    (void)dy, (void)rows, (void)plane, (void)out;
}

void cliff_cf_bias_grad(const CliffConvFastPlan *pl, const float *dy, float *db)
{
    (void)pl, (void)dy, (void)db;
}

#endif
