#include "conv_naive.h"

#include <float.h>
#include <string.h>

int cliff_conv_out_naive(int in, int k, int s, int p, int d)
{
    int n = 0;
    for (long start = -p; start + (long)d * (k - 1) < (long)in + p; start += s) n++;
    return n;
}

void cliff_conv2d_naive(const float *in, int num, int C, int H, int W, const float *w,
                        const float *bias, int M, int group, const CliffNaiveWindow *win,
                        float *out)
{
    const int oh = cliff_conv_out_naive(H, win->kh, win->sh, win->ph, win->dh);
    const int ow = cliff_conv_out_naive(W, win->kw, win->sw, win->pw, win->dw);
    const int Cg = C / group, Mg = M / group;
    for (int n = 0; n < num; n++)
        for (int m = 0; m < M; m++)
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) {
                    double acc = bias ? bias[m] : 0.0;
                    const int g = m / Mg;
                    for (int cc = 0; cc < Cg; cc++)
                        for (int i = 0; i < win->kh; i++)
                            for (int j = 0; j < win->kw; j++) {
                                int iy = y * win->sh - win->ph + i * win->dh;
                                int ix = x * win->sw - win->pw + j * win->dw;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                int c = g * Cg + cc;
                                acc += (double)w[((m * Cg + cc) * win->kh + i) * win->kw + j] *
                                       in[((n * C + c) * H + iy) * W + ix];
                            }
                    out[((n * M + m) * oh + y) * ow + x] = (float)acc;
                }
}

void cliff_deconv2d_naive(const float *in, int num, int C, int H, int W, const float *w,
                          const float *bias, int M, int group, const CliffNaiveWindow *win,
                          float *out)
{
    const int OH = win->sh * (H - 1) + win->dh * (win->kh - 1) + 1 - 2 * win->ph;
    const int OW = win->sw * (W - 1) + win->dw * (win->kw - 1) + 1 - 2 * win->pw;
    const int Cg = C / group, Mg = M / group;
    for (int n = 0; n < num; n++)
        for (int m = 0; m < M; m++)
            for (int i = 0; i < OH * OW; i++)
                out[(n * M + m) * OH * OW + i] = bias ? bias[m] : 0.0f;
    for (int n = 0; n < num; n++)
        for (int c = 0; c < C; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    const float v = in[((n * C + c) * H + y) * W + x];
                    const int g = c / Cg;
                    for (int mm = 0; mm < Mg; mm++)
                        for (int i = 0; i < win->kh; i++)
                            for (int j = 0; j < win->kw; j++) {
                                int oy = y * win->sh - win->ph + i * win->dh;
                                int ox = x * win->sw - win->pw + j * win->dw;
                                if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                                int m = g * Mg + mm;
                                out[((n * M + m) * OH + oy) * OW + ox] +=
                                    v * w[((c * Mg + mm) * win->kh + i) * win->kw + j];
                            }
                }
}

void cliff_pool2d_naive(const float *in, int num, int C, int H, int W, int is_max,
                        const CliffNaiveWindow *win, int oh, int ow, float *out, float *mask)
{
    for (int n = 0; n < num; n++)
        for (int c = 0; c < C; c++) {
            const float *plane = in + (size_t)(n * C + c) * H * W;
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) {
                    const int y0 = y * win->sh - win->ph, x0 = x * win->sw - win->pw;
                    const size_t o = ((size_t)(n * C + c) * oh + y) * ow + x;
                    if (is_max) {
                        float best = -FLT_MAX;
                        int arg = -1;
                        for (int h = y0; h < y0 + win->kh; h++)
                            for (int w = x0; w < x0 + win->kw; w++) {
                                if (h < 0 || h >= H || w < 0 || w >= W) continue;
                                if (arg < 0 || plane[h * W + w] > best) {
                                    best = plane[h * W + w];
                                    arg = h * W + w;
                                }
                            }
                        out[o] = best;
                        if (mask) mask[o] = (float)arg;
                    } else {
                        double acc = 0;
                        int size = 0;
                        for (int h = y0; h < y0 + win->kh; h++)
                            for (int w = x0; w < x0 + win->kw; w++) {
                                if (h >= H + win->ph || w >= W + win->pw) continue;
                                size++; /* inside the padded image */
                                if (h >= 0 && h < H && w >= 0 && w < W) acc += plane[h * W + w];
                            }
                        out[o] = (float)(acc / size);
                    }
                }
        }
}

void cliff_ip_naive(const float *in, int M, int K, const float *w, const float *bias, int N,
                    int transpose, float *out)
{
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double acc = bias ? bias[n] : 0.0;
            for (int k = 0; k < K; k++)
                acc += (double)in[m * K + k] * (transpose ? w[k * N + n] : w[n * K + k]);
            out[m * N + n] = (float)acc;
        }
}
