/* One plane of MAX or AVE pooling (pool_plane.h).
 *
 * Output row py: its window rows are [hs, he) (clipped). Columns px in
 * [pa, pb) have whole windows inside the image (ws = px*sw - pw >= 0, ws + kw
 * <= W). MAX takes them 16 at a time, best and arg held in a fixed-size
 * array the compiler keeps in vector registers through the window's
 * candidates (strided loads and selects); AVE runs row h by row h and offset
 * dw by dw over a segment of up to 128 columns, adding into a running sum.
 * Stride 1 and 2 get their own copies, with the stride a constant. The other
 * columns take the scalar loop. Both visit a window's candidates in
 * row-major order. */
#include "pool_plane.h"

#include <stddef.h>

/* The interior loops compiled for AVX-512, AVX2 and the baseline; selects and
 * adds only, so every version gives the same bits. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

/* Output columns a segment. */
#define SEG 128

/* The columns whose windows lie inside the image: [*pa, *pb). */
static void interior(const CliffPoolGeom *g, int *pa, int *pb)
{
    int a = (g->pw + g->sw - 1) / g->sw;
    int b = g->W + g->pw - g->kw >= 0 ? (g->W + g->pw - g->kw) / g->sw + 1 : 0;
    if (b > g->ow) b = g->ow;
    if (a > b) a = b;
    *pa = a;
    *pb = b;
}

static void max_scalar(const CliffPoolGeom *g, const float *x, int py, int px, float *y, int *m)
{
    int hs = py * g->sh - g->ph, he = hs + g->kh, ws = px * g->sw - g->pw, we = ws + g->kw;
    hs = hs < 0 ? 0 : hs;
    he = he < g->H ? he : g->H;
    ws = ws < 0 ? 0 : ws;
    we = we < g->W ? we : g->W;
    float best = x[hs * g->W + ws];
    int arg = hs * g->W + ws;
    for (int h = hs; h < he; h++)
        for (int w = ws; w < we; w++) {
            const float v = x[h * g->W + w];
            const int gt = v > best;
            arg = gt ? h * g->W + w : arg;
            best = gt ? v : best;
        }
    *y = best;
    *m = arg;
}

static inline void sum_step(const float *restrict r, int S, int n, float *restrict acc)
{
    for (int j = 0; j < n; j++) acc[j] += r[j * S];
}

/* MAX over LANES whole-window columns starting at column p0 of row py: a
 * fixed count, so that best and arg stay in vector registers through the
 * window's candidates. */
#define LANES 16
static inline void max_lanes(const CliffPoolGeom *g, const float *x, int hs, int he, int p0,
                             int S, float *y, int *m)
{
    float best[LANES];
    int arg[LANES];
    const int i00 = hs * g->W + p0 * S - g->pw;
    for (int j = 0; j < LANES; j++) {
        best[j] = x[i00 + j * S];
        arg[j] = i00 + j * S;
    }
    for (int h = hs; h < he; h++)
        for (int dw = 0; dw < g->kw; dw++) {
            if (h == hs && dw == 0) continue;
            const int i0 = h * g->W + p0 * S - g->pw + dw;
            for (int j = 0; j < LANES; j++) {
                const float v = x[i0 + j * S];
                const int gt = v > best[j];
                arg[j] = gt ? i0 + j * S : arg[j];
                best[j] = gt ? v : best[j];
            }
        }
    for (int j = 0; j < LANES; j++) {
        y[j] = best[j];
        m[j] = arg[j];
    }
}

CLONES void cliff_pool_max_plane(const CliffPoolGeom *g, const float *x, float *y, int *mask)
{
    const int ow = g->ow, sw = g->sw;
    int pa, pb;
    interior(g, &pa, &pb);
    for (int py = 0; py < g->oh; py++) {
        int hs = py * g->sh - g->ph, he = hs + g->kh;
        hs = hs < 0 ? 0 : hs;
        he = he < g->H ? he : g->H;
        float *yr = y + (size_t)py * ow;
        int *mr = mask + (size_t)py * ow;
        int px = 0;
        for (; px < pa; px++) max_scalar(g, x, py, px, yr + px, mr + px);
        for (; px + LANES <= pb; px += LANES) {
            if (sw == 1)
                max_lanes(g, x, hs, he, px, 1, yr + px, mr + px);
            else if (sw == 2)
                max_lanes(g, x, hs, he, px, 2, yr + px, mr + px);
            else
                max_lanes(g, x, hs, he, px, sw, yr + px, mr + px);
        }
        for (; px < ow; px++) max_scalar(g, x, py, px, yr + px, mr + px);
    }
}

/* The divisor's row factor: the window rows clipped to [-ph, H + ph). */
static int rows_padded(const CliffPoolGeom *g, int py)
{
    const int h0 = py * g->sh - g->ph, h1 = h0 + g->kh;
    return (h1 < g->H + g->ph ? h1 : g->H + g->ph) - h0;
}

static float ave_scalar(const CliffPoolGeom *g, const float *x, int py, int px)
{
    const int h0 = py * g->sh - g->ph, h1 = h0 + g->kh, w0 = px * g->sw - g->pw, w1 = w0 + g->kw;
    const int wp = w1 < g->W + g->pw ? w1 : g->W + g->pw;
    const int hs = h0 < 0 ? 0 : h0, he = h1 < g->H ? h1 : g->H;
    const int ws = w0 < 0 ? 0 : w0, we = w1 < g->W ? w1 : g->W;
    float acc = 0;
    for (int h = hs; h < he; h++)
        for (int w = ws; w < we; w++) acc += x[h * g->W + w];
    return acc / (float)(rows_padded(g, py) * (wp - w0));
}

CLONES void cliff_pool_ave_plane(const CliffPoolGeom *g, const float *x, float *y)
{
    const int W = g->W, ow = g->ow, sw = g->sw;
    int pa, pb;
    interior(g, &pa, &pb);
    float acc[SEG];
    for (int py = 0; py < g->oh; py++) {
        int hs = py * g->sh - g->ph, he = hs + g->kh;
        hs = hs < 0 ? 0 : hs;
        he = he < g->H ? he : g->H;
        /* an interior window's columns are all inside: its size is rows * kw */
        const float div = (float)(rows_padded(g, py) * g->kw);
        float *yr = y + (size_t)py * ow;
        for (int px = 0; px < pa; px++) yr[px] = ave_scalar(g, x, py, px);
        for (int p0 = pa; p0 < pb; p0 += SEG) {
            const int n = pb - p0 < SEG ? pb - p0 : SEG;
            for (int j = 0; j < n; j++) acc[j] = 0.0f;
            for (int h = hs; h < he; h++)
                for (int dw = 0; dw < g->kw; dw++) {
                    const float *r = x + h * W + p0 * sw - g->pw + dw;
                    if (sw == 1)
                        sum_step(r, 1, n, acc);
                    else if (sw == 2)
                        sum_step(r, 2, n, acc);
                    else
                        sum_step(r, sw, n, acc);
                }
            for (int j = 0; j < n; j++) yr[p0 + j] = acc[j] / div;
        }
        for (int px = pb; px < ow; px++) yr[px] = ave_scalar(g, x, py, px);
    }
}
