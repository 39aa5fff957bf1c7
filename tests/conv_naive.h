/* Naive loop twins of Convolution, Deconvolution, Pooling and InnerProduct
 * forward: the textbook definitions, one output element at a time, with double
 * accumulators. tests/test_conv_naive.c compares the fast layers against them
 * on awkward shapes. Not used by the layers themselves. */
#ifndef CLIFF_CONV_NAIVE_H
#define CLIFF_CONV_NAIVE_H

typedef struct CliffNaiveWindow {
    int kh, kw, sh, sw, ph, pw, dh, dw; /* kernel, stride, pad, dilation */
} CliffNaiveWindow;

/* Output extent of a convolution along one axis: the number of kernel
 * placements inside the padded input (0 when none fits). */
int cliff_conv_out_naive(int in, int k, int s, int p, int d);

/* in: num x C x H x W; w: M x (C/group) x kh x kw; bias: M or NULL;
 * out: num x M x oh x ow with oh, ow from cliff_conv_out_naive.
 * out[n,m,y,x] = bias[m] + sum_{c in m's group, i, j} w[m,c',i,j] *
 *                in[n, c, y*sh - ph + i*dh, x*sw - pw + j*dw]  (0 outside). */
void cliff_conv2d_naive(const float *in, int num, int C, int H, int W, const float *w,
                        const float *bias, int M, int group, const CliffNaiveWindow *win,
                        float *out);

/* The transpose: in: num x C x H x W; w: C x (M/group) x kh x kw; bias: M or NULL;
 * out: num x M x OH x OW with OH = sh*(H-1) + dh*(kh-1) + 1 - 2*ph. Every input
 * pixel scatters in[n,c,y,x] * w[c,m',i,j] to out[n, m, y*sh - ph + i*dh, x*sw - pw + j*dw]. */
void cliff_deconv2d_naive(const float *in, int num, int C, int H, int W, const float *w,
                          const float *bias, int M, int group, const CliffNaiveWindow *win,
                          float *out);

/* Caffe pooling: in num x C x H x W -> out num x C x oh x ow (oh, ow given).
 * is_max: window [y*sh - ph, +kh) x [..) clipped to the image, first maximum
 * wins, mask (may be NULL) gets h*W + w. Otherwise AVE: the sum over the clipped
 * window divided by the window size clipped to the padded image. */
void cliff_pool2d_naive(const float *in, int num, int C, int H, int W, int is_max,
                        const CliffNaiveWindow *win, int oh, int ow, float *out, float *mask);

/* in: M x K; w: N x K (transpose: K x N); bias: N or NULL; out: M x N. */
void cliff_ip_naive(const float *in, int M, int K, const float *w, const float *bias, int N,
                    int transpose, float *out);

#endif
