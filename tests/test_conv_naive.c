/* The fast Convolution, Deconvolution, Pooling and InnerProduct layers against
 * their naive loop twins (layers/conv_naive.c) on awkward shapes: ones, primes,
 * non-square, batch 1, group > 1, depthwise, dilation, stride, pad. Output
 * shapes of pooling are checked against values derived by hand from Caffe's
 * rounding rule. For Convolution and Deconvolution, backward is checked on the
 * same shapes through the adjoint identities of a linear map y = A(W) x + b:
 *   <dy, y - b> = <dx, x> = <dW, W>,   db[m] = sum of dy over channel m,
 * which hold for any dy and need no finite differences. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/kernels/blas.h"
#include "check.h"
#include "layers/kernels/conv_fast.h"
#include "layers/kernels/gemm.h"
#include "conv_naive.h"
#include "layers/layer.h"
#include "proto/textformat.h"

typedef struct Harness {
    Cliff__LayerParameter *param;
    CliffLayer l;
    CliffTensor bs, ts[2];
    CliffTensor *b[1], *t[2];
    int nt;
    CliffRng rng;
} Harness;

static void fill(float *x, size_t n, CliffRng *rng)
{
    for (size_t i = 0; i < n; i++) x[i] = cliff_rng_gaussian(rng, 0, 1);
}

/* Builds the layer from text over one bottom of the given shape; parameters and
 * the bottom get N(0,1) values. Returns 0 or fails the running test. */
static int build(Harness *h, const char *text, int num_axes, const int *shape, int nt)
{
    CliffError err;
    memset(h, 0, sizeof *h);
    cliff_rng_seed(&h->rng, 4242);
    h->param = (Cliff__LayerParameter *)cliff_text_parse(&cliff__layer_parameter__descriptor,
                                                          "case", text, strlen(text), NULL, &err);
    if (!h->param) {
        CHECK_FAILF("parse: %s", err.msg);
        return -1;
    }
    cliff_tensor_init(&h->bs);
    cliff_tensor_init(&h->ts[0]);
    cliff_tensor_init(&h->ts[1]);
    h->b[0] = &h->bs;
    h->t[0] = &h->ts[0];
    h->t[1] = &h->ts[1];
    h->nt = nt;
    if (cliff_tensor_reshape(&h->bs, num_axes, shape, &err)) {
        CHECK_FAILF("bottom: %s", err.msg);
        return -1;
    }
    fill(h->bs.data, h->bs.count, &h->rng);
    h->l.ops = cliff_layer_find(h->param->type);
    h->l.param = h->param;
    h->l.name = "case";
    h->l.rng = &h->rng;
    if (!h->l.ops) {
        CHECK_FAILF("unknown type %s", h->param->type);
        return -1;
    }
    if (h->l.ops->setup(&h->l, h->b, 1, h->t, nt, &err)) {
        CHECK_FAILF("setup: %s", err.msg);
        return -1;
    }
    for (int i = 0; i < h->l.nparams; i++) {
        cliff_tensor_init(&h->l.params[i]);
        if (cliff_tensor_reshape(&h->l.params[i], h->l.decl[i].num_axes, h->l.decl[i].shape,
                                 &err)) {
            CHECK_FAILF("param: %s", err.msg);
            return -1;
        }
        fill(h->l.params[i].data, h->l.params[i].count, &h->rng);
        h->l.param_need_grad[i] = 1;
    }
    if (h->l.ops->reshape(&h->l, h->b, 1, h->t, nt, &err)) {
        CHECK_FAILF("reshape: %s", err.msg);
        return -1;
    }
    h->l.ops->forward(&h->l, h->b, 1, h->t, nt);
    return 0;
}

static void release(Harness *h)
{
    if (h->l.ops && h->l.ops->destroy) h->l.ops->destroy(&h->l);
    for (int i = 0; i < h->l.nparams; i++) cliff_tensor_free(&h->l.params[i]);
    cliff_tensor_free(&h->bs);
    cliff_tensor_free(&h->ts[0]);
    cliff_tensor_free(&h->ts[1]);
    if (h->param) protobuf_c_message_free_unpacked(&h->param->base, NULL);
}

/* Fails the running test at the first element out of tolerance. */
static void compare(const char *what, const float *got, const float *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(got[i] - want[i]) <= 1e-4f * fmaxf(1.0f, fabsf(want[i])))) {
            CHECK_FAILF("%s[%zu] = %.7g, naive %.7g", what, i, got[i], want[i]);
            return;
        }
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static double dot_abs(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += fabs((double)a[i] * b[i]);
    return s;
}

/* Backward of a conv-like layer (bias at params[1] when has_bias) against the
 * adjoint identities; M output channels in axis 1 of the top. */
static void check_adjoint(Harness *h, int has_bias, int M)
{
    CliffTensor *x = h->b[0], *y = h->t[0], *W = &h->l.params[0];
    fill(y->diff, y->count, &h->rng);
    for (int i = 0; i < h->l.nparams; i++) memset(h->l.params[i].diff, 0, h->l.params[i].count * 4);
    int prop[1] = {1};
    h->l.ops->backward(&h->l, h->t, 1, prop, h->b, 1);
    const size_t plane = y->count / (size_t)y->shape[0] / (size_t)M;
    /* <dy, y - b> */
    double lhs = 0, scale = 0;
    for (size_t i = 0; i < y->count; i++) {
        float b = has_bias ? h->l.params[1].data[(i / plane) % (size_t)M] : 0.0f;
        lhs += (double)y->diff[i] * (y->data[i] - b);
        scale += fabs((double)y->diff[i] * (y->data[i] - b));
    }
    double via_x = dot(x->diff, x->data, x->count), via_w = dot(W->diff, W->data, W->count);
    scale = fmax(1.0, fmax(scale, fmax(dot_abs(x->diff, x->data, x->count),
                                       dot_abs(W->diff, W->data, W->count))));
    if (fabs(lhs - via_x) > 1e-5 * scale)
        CHECK_FAILF("<dy, y-b> = %.9g but <dx, x> = %.9g", lhs, via_x);
    if (fabs(lhs - via_w) > 1e-5 * scale)
        CHECK_FAILF("<dy, y-b> = %.9g but <dW, W> = %.9g", lhs, via_w);
    if (has_bias)
        for (int m = 0; m < M; m++) {
            double s = 0, a = 0;
            for (int n = 0; n < y->shape[0]; n++)
                for (size_t p = 0; p < plane; p++) {
                    float v = y->diff[((size_t)n * M + m) * plane + p];
                    s += v;
                    a += fabs(v);
                }
            if (fabs(s - h->l.params[1].diff[m]) > 1e-5 * fmax(1.0, a)) {
                CHECK_FAILF("dbias[%d] = %.9g, sum of dy = %.9g", m, h->l.params[1].diff[m], s);
                break;
            }
        }
}

typedef struct ConvCase {
    int N, C, H, W, M, G, kh, kw, sh, sw, ph, pw, dh, dw, bias;
} ConvCase;

static const ConvCase conv_cases[] = {
    {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1},     /* all ones */
    {2, 3, 7, 5, 4, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1},     /* primes, non-square, pad */
    {1, 6, 11, 13, 9, 3, 3, 2, 2, 3, 1, 0, 1, 1, 1},   /* batch 1, group 3, strides */
    {3, 4, 9, 9, 6, 2, 3, 3, 2, 2, 2, 2, 2, 2, 0},     /* dilation + stride + pad, no bias */
    {5, 2, 13, 7, 5, 1, 5, 2, 3, 1, 2, 1, 1, 3, 1},    /* non-square dilation */
    {2, 17, 5, 3, 7, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1},    /* 1x1 */
    {1, 1, 31, 29, 3, 1, 7, 5, 4, 3, 3, 2, 1, 1, 1},   /* big kernel, big strides */
    {7, 2, 3, 3, 2, 2, 3, 3, 1, 1, 1, 1, 1, 1, 0},     /* batch 7, group 2 */
    {2, 8, 10, 12, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1},   /* depthwise */
    {3, 2, 4, 4, 3, 1, 4, 4, 1, 1, 0, 0, 1, 1, 1},     /* kernel == input: 1x1 output */
    {8, 20, 12, 12, 50, 1, 5, 5, 1, 1, 0, 0, 1, 1, 1}, /* LeNet conv2 shape */
    /* the engine path's packers and chunks (layers/kernels/conv_gemm.c) */
    {2, 3, 23, 23, 4, 1, 11, 11, 4, 4, 0, 0, 1, 1, 1}, /* CaffeNet conv1's kernel and stride */
    {2, 3, 7, 6, 3, 1, 3, 3, 2, 2, 2, 2, 1, 1, 1},     /* pad 2 stride 2: zero edges */
    {1, 4, 4, 4, 2, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1},     /* 1x1 batch 1, group 2: dense source */
    {2, 4, 5, 5, 3, 1, 1, 1, 2, 2, 0, 0, 1, 1, 0},     /* 1x1 stride 2: not pointwise */
    {2, 2, 18, 17, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1},   /* 306 columns: data gradient in 2 blocks */
    {40, 2, 6, 6, 3, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1},    /* 16 images a product, 3 chunks */
    {3, 4, 9, 8, 6, 2, 3, 2, 2, 1, 1, 2, 2, 3, 1},     /* group 2, dilation 2x3, mixed strides */
    /* conv_pack512.c: rows of more than 8 (stride 4), 11 (3), 16 (2) outputs take
     * lanes from the second pair of vectors (in a 60-wide image the last rows are
     * read with masked loads); K > 64: whole transposed panels */
    {2, 3, 9, 60, 5, 1, 3, 5, 2, 4, 0, 0, 1, 1, 1},    /* stride_w 4, 14 outputs a row, in 60 */
    {1, 2, 8, 70, 3, 1, 2, 3, 2, 3, 0, 1, 1, 2, 1},    /* stride_w 3, dilation_w 2, pad */
    {2, 2, 6, 40, 3, 1, 3, 3, 2, 2, 1, 1, 1, 1, 0},    /* stride_w 2, 20 outputs a row */
    {1, 4, 7, 70, 2, 1, 3, 7, 2, 4, 0, 2, 1, 1, 1},    /* K = 84, pad_w 2: edge columns */
    /* stride_h = dilation_h = 1: the AVX-512 path of conv_fast.c where the CPU has it */
    {3, 1, 28, 28, 20, 1, 5, 5, 1, 1, 0, 0, 1, 1, 1},  /* LeNet conv1 shape */
    {3, 2, 42, 41, 7, 1, 3, 3, 1, 1, 1, 2, 1, 1, 1},   /* 43-wide rows, plane tail, 1 image a block */
    {2, 3, 9, 17, 6, 1, 3, 3, 1, 2, 1, 2, 1, 2, 1},    /* stride_w 2, dilation_w 2 */
    {2, 6, 8, 8, 10, 2, 3, 3, 1, 1, 0, 1, 1, 1, 0},    /* groups; 5 rows and K = 27 a group */
    {5, 4, 6, 30, 13, 1, 2, 4, 1, 1, 2, 0, 1, 1, 1},   /* pad_h only, 13 outputs */
};

static void make_conv_text(char *buf, size_t len, const char *type, const ConvCase *c)
{
    snprintf(buf, len,
             "type: '%s' convolution_param { num_output: %d group: %d kernel_h: %d kernel_w: %d "
             "stride_h: %d stride_w: %d pad_h: %d pad_w: %d dilation: %d dilation: %d "
             "bias_term: %s }",
             type, c->M, c->G, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, c->dh, c->dw,
             c->bias ? "true" : "false");
}

/* Every case on the current path; the failing case, if any, is named. */
static void conv_cases_vs_naive(const char *path)
{
    for (size_t k = 0; k < sizeof conv_cases / sizeof conv_cases[0]; k++) {
        const ConvCase *c = &conv_cases[k];
        char text[512];
        make_conv_text(text, sizeof text, "Convolution", c);
        Harness h;
        int shape[4] = {c->N, c->C, c->H, c->W};
        if (build(&h, text, 4, shape, 1) == 0) {
            CliffNaiveWindow win = {c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, c->dh, c->dw};
            int oh = cliff_conv_out_naive(c->H, c->kh, c->sh, c->ph, c->dh);
            int ow = cliff_conv_out_naive(c->W, c->kw, c->sw, c->pw, c->dw);
            int want[4] = {c->N, c->M, oh, ow};
            CHECK(h.t[0]->num_axes == 4 && !memcmp(h.t[0]->shape, want, sizeof want));
            if (h.t[0]->count == (size_t)c->N * c->M * oh * ow) {
                float *ref = malloc(h.t[0]->count * sizeof *ref);
                cliff_conv2d_naive(h.b[0]->data, c->N, c->C, c->H, c->W, h.l.params[0].data,
                                   c->bias ? h.l.params[1].data : NULL, c->M, c->G, &win, ref);
                compare("conv top", h.t[0]->data, ref, h.t[0]->count);
                free(ref);
                check_adjoint(&h, c->bias, c->M);
            }
        }
        release(&h);
        if (check_failures_in_test) {
            printf("  (conv case %zu, %s)\n", k, path);
            return;
        }
    }
}

/* Every case on the path the layer picks (conv_fast.c where the CPU has
 * AVX-512 and stride_h = dilation_h = 1), then all on the matrix-engine path
 * on each of its instruction sets. */
static void test_conv_vs_naive(void)
{
    CliffConvGeom lenet2 = {.channels = 20, .height = 12, .width = 12, .kernel_h = 5,
                            .kernel_w = 5, .stride_h = 1, .stride_w = 1, .dilation_h = 1,
                            .dilation_w = 1, .out_h = 8, .out_w = 8};
    printf("  (the AVX-512 convolution path is %s on this machine)\n",
           cliff_conv_fast_usable(&lenet2) ? "used" : "not available");
    conv_cases_vs_naive("default path");
    cliff_avx512_allow(0);
    const int best = cliff_gemm_isa();
    for (int isa = best; isa >= CLIFF_ISA_GENERIC && !check_failures_in_test; isa--) {
        char path[64];
        snprintf(path, sizeof path, "matrix engine path, %s", cliff_gemm_isa_name(isa));
        cliff_gemm_force_isa(isa);
        conv_cases_vs_naive(path);
    }
    cliff_gemm_force_isa(-1);
    cliff_avx512_allow(1);
}

/* The backward of a convolution gives the same bits every time, whichever
 * thread of the fork-join runs which images (weight-gradient groups are fixed
 * by the shapes; see conv_fast.c): 20 runs on LeNet's conv2 shape. */
static void test_conv_backward_repeatable(void)
{
    const ConvCase c = {16, 20, 12, 12, 50, 1, 5, 5, 1, 1, 0, 0, 1, 1, 1};
    char text[512];
    make_conv_text(text, sizeof text, "Convolution", &c);
    Harness h;
    int shape[4] = {c.N, c.C, c.H, c.W};
    if (build(&h, text, 4, shape, 1) == 0) {
        CliffTensor *W = &h.l.params[0], *b = &h.l.params[1], *x = h.b[0];
        fill(h.t[0]->diff, h.t[0]->count, &h.rng);
        float *first = malloc((W->count + b->count + x->count) * sizeof *first);
        int prop[1] = {1};
        for (int rep = 0; rep < 20 && !check_failures_in_test; rep++) {
            memset(W->diff, 0, W->count * sizeof *W->diff);
            memset(b->diff, 0, b->count * sizeof *b->diff);
            h.l.ops->backward(&h.l, h.t, 1, prop, h.b, 1);
            const float *now[3] = {W->diff, b->diff, x->diff};
            const size_t n[3] = {W->count, b->count, x->count};
            const char *what[3] = {"dW", "dbias", "dx"};
            size_t at = 0;
            for (int k = 0; k < 3; k++) {
                if (rep == 0)
                    memcpy(first + at, now[k], n[k] * sizeof *first);
                else if (memcmp(first + at, now[k], n[k] * sizeof *first))
                    CHECK_FAILF("run %d: %s differs from run 0", rep, what[k]);
                at += n[k];
            }
        }
        free(first);
    }
    release(&h);
}

static void deconv_cases_vs_naive(const char *path)
{
    for (size_t k = 0; k + 1 < sizeof conv_cases / sizeof conv_cases[0]; k++) {
        ConvCase c = conv_cases[k];
        char text[512];
        make_conv_text(text, sizeof text, "Deconvolution", &c);
        Harness h;
        int shape[4] = {c.N, c.C, c.H, c.W};
        if (build(&h, text, 4, shape, 1) == 0) {
            CliffNaiveWindow win = {c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, c.dh, c.dw};
            int OH = c.sh * (c.H - 1) + c.dh * (c.kh - 1) + 1 - 2 * c.ph;
            int OW = c.sw * (c.W - 1) + c.dw * (c.kw - 1) + 1 - 2 * c.pw;
            int want[4] = {c.N, c.M, OH, OW};
            CHECK(h.t[0]->num_axes == 4 && !memcmp(h.t[0]->shape, want, sizeof want));
            if (h.t[0]->count == (size_t)c.N * c.M * OH * OW) {
                float *ref = malloc(h.t[0]->count * sizeof *ref);
                cliff_deconv2d_naive(h.b[0]->data, c.N, c.C, c.H, c.W, h.l.params[0].data,
                                     c.bias ? h.l.params[1].data : NULL, c.M, c.G, &win, ref);
                compare("deconv top", h.t[0]->data, ref, h.t[0]->count);
                free(ref);
                check_adjoint(&h, c.bias, c.M);
            }
        }
        release(&h);
        if (check_failures_in_test) {
            printf("  (deconv case %zu, %s)\n", k, path);
            return;
        }
    }
}

/* Deconvolution runs on the matrix engine: every case on each of its
 * instruction sets. */
static void test_deconv_vs_naive(void)
{
    for (int isa = cliff_gemm_isa(); isa >= CLIFF_ISA_GENERIC && !check_failures_in_test; isa--) {
        cliff_gemm_force_isa(isa);
        deconv_cases_vs_naive(cliff_gemm_isa_name(isa));
    }
    cliff_gemm_force_isa(-1);
}

typedef struct PoolCase {
    int N, C, H, W, is_max, kh, kw, sh, sw, ph, pw;
    int oh, ow; /* by hand from Caffe's ceil rule and padding clip */
} PoolCase;

static const PoolCase pool_cases[] = {
    {2, 3, 7, 5, 1, 3, 3, 2, 2, 1, 1, 4, 3},
    {2, 3, 7, 5, 0, 3, 3, 2, 2, 1, 1, 4, 3},
    {1, 2, 6, 6, 1, 2, 2, 2, 2, 1, 1, 4, 4}, /* last window: one real row */
    {1, 1, 5, 5, 1, 2, 2, 2, 2, 1, 1, 3, 3}, /* ceil gives 4, the clip rule drops it */
    {1, 1, 5, 5, 0, 2, 2, 2, 2, 1, 1, 3, 3},
    {3, 2, 8, 11, 0, 3, 2, 3, 2, 1, 1, 3, 6}, /* both axes clipped */
    {3, 2, 8, 11, 1, 3, 2, 3, 2, 1, 1, 3, 6},
    {2, 2, 13, 13, 1, 3, 3, 2, 2, 0, 0, 6, 6},
    {1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1},
    {4, 5, 9, 7, 0, 3, 3, 3, 3, 0, 0, 3, 3}, /* last column window clipped to 1 */
    {64, 20, 24, 24, 1, 2, 2, 2, 2, 0, 0, 12, 12}, /* LeNet pool1 */
    {2, 3, 6, 14, 1, 2, 2, 2, 2, 0, 0, 3, 7},      /* 2x2/2 fast path: 4 windows + a tail of 3 */
};

/* Every case on the current path; the failing case, if any, is named. */
static void pool_cases_vs_naive(const char *path)
{
    for (size_t k = 0; k < sizeof pool_cases / sizeof pool_cases[0]; k++) {
        const PoolCase *c = &pool_cases[k];
        char text[512];
        snprintf(text, sizeof text,
                 "type: 'Pooling' pooling_param { pool: %s kernel_h: %d kernel_w: %d stride_h: %d "
                 "stride_w: %d pad_h: %d pad_w: %d }",
                 c->is_max ? "MAX" : "AVE", c->kh, c->kw, c->sh, c->sw, c->ph, c->pw);
        Harness h;
        int shape[4] = {c->N, c->C, c->H, c->W};
        int nt = c->is_max ? 2 : 1;
        if (build(&h, text, 4, shape, nt) == 0) {
            int want[4] = {c->N, c->C, c->oh, c->ow};
            CHECK(h.t[0]->num_axes == 4 && !memcmp(h.t[0]->shape, want, sizeof want));
            if (!check_failures_in_test) {
                CliffNaiveWindow win = {c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, 1, 1};
                float *ref = malloc(h.t[0]->count * sizeof *ref);
                float *mask = malloc(h.t[0]->count * sizeof *mask);
                cliff_pool2d_naive(h.b[0]->data, c->N, c->C, c->H, c->W, c->is_max, &win, c->oh,
                                   c->ow, ref, mask);
                compare("pool top", h.t[0]->data, ref, h.t[0]->count);
                if (c->is_max) compare("pool mask", h.t[1]->data, mask, h.t[0]->count);
                free(ref);
                free(mask);
            }
        }
        release(&h);
        if (check_failures_in_test) {
            printf("  (pool case %zu, %s)\n", k, path);
            return;
        }
    }
}

/* MAX pooling on inputs full of ties (values on a grid of 4) and a few NaNs,
 * 2x2/2 (the fast path, with a tail of 4 windows in 20 a row) and 3x3/2:
 * top and mask against the twin, and backward (dy to each window's winner,
 * accumulated where windows overlap, 0 elsewhere) against the twin's mask. */
static void pool_ties_and_backward(const char *path)
{
    const struct {
        int k, s;
    } win[2] = {{2, 2}, {3, 2}};
    for (int w = 0; w < 2; w++) {
        char text[256];
        snprintf(text, sizeof text,
                 "type: 'Pooling' pooling_param { pool: MAX kernel_size: %d stride: %d }", win[w].k,
                 win[w].s);
        Harness h;
        int shape[4] = {3, 2, 6, 40};
        if (build(&h, text, 4, shape, 2) != 0) {
            release(&h);
            return;
        }
        CliffTensor *x = h.b[0], *y = h.t[0];
        for (size_t i = 0; i < x->count; i++)
            x->data[i] = i % 97 == 5 ? NAN : (float)(cliff_rng_below(&h.rng, 4));
        h.l.ops->forward(&h.l, h.b, 1, h.t, 2);
        CliffNaiveWindow nw = {win[w].k, win[w].k, win[w].s, win[w].s, 0, 0, 1, 1};
        const int oh = y->shape[2], ow = y->shape[3];
        float *ref = malloc(y->count * sizeof *ref), *mask = malloc(y->count * sizeof *mask);
        float *dx = calloc(x->count, sizeof *dx);
        cliff_pool2d_naive(x->data, 3, 2, 6, 40, 1, &nw, oh, ow, ref, mask);
        for (size_t i = 0; i < y->count && !check_failures_in_test; i++)
            if (!(y->data[i] == ref[i] || (isnan(y->data[i]) && isnan(ref[i]))))
                CHECK_FAILF("top[%zu] = %g, naive %g", i, y->data[i], ref[i]);
        compare("pool mask", h.t[1]->data, mask, y->count);
        fill(y->diff, y->count, &h.rng);
        for (size_t i = 0; i < y->count; i++) /* plane of top i, then the winner in it */
            dx[i / ((size_t)oh * ow) * 6 * 40 + (size_t)mask[i]] += y->diff[i];
        int prop[1] = {1};
        h.l.ops->backward(&h.l, h.t, 2, prop, h.b, 1);
        compare("pool dx", x->diff, dx, x->count);
        free(ref), free(mask), free(dx);
        release(&h);
        if (check_failures_in_test) {
            printf("  (%dx%d/%d, %s)\n", win[w].k, win[w].k, win[w].s, path);
            return;
        }
    }
}

/* Every case on the path the layer picks (pool_fast.c for MAX 2x2/2 where the
 * CPU has AVX-512), then without the AVX-512 paths. */
static void test_pool_vs_naive(void)
{
    pool_cases_vs_naive("default path");
    if (!check_failures_in_test) pool_ties_and_backward("default path");
    cliff_avx512_allow(0);
    if (!check_failures_in_test) pool_cases_vs_naive("portable path");
    if (!check_failures_in_test) pool_ties_and_backward("portable path");
    cliff_avx512_allow(1);
}

static void test_global_pool_vs_naive(void)
{
    for (int is_max = 0; is_max < 2; is_max++) {
        Harness h;
        int shape[4] = {2, 3, 5, 4};
        if (build(&h, is_max ? "type: 'Pooling' pooling_param { pool: MAX global_pooling: true }"
                             : "type: 'Pooling' pooling_param { pool: AVE global_pooling: true }",
                  4, shape, 1) == 0) {
            int want[4] = {2, 3, 1, 1};
            CHECK(!memcmp(h.t[0]->shape, want, sizeof want));
            CliffNaiveWindow win = {5, 4, 1, 1, 0, 0, 1, 1};
            float ref[6];
            cliff_pool2d_naive(h.b[0]->data, 2, 3, 5, 4, is_max, &win, 1, 1, ref, NULL);
            compare("global pool", h.t[0]->data, ref, 6);
        }
        release(&h);
    }
}

typedef struct IpCase {
    int num_axes, shape[4], axis, N, transpose, bias;
} IpCase;

static const IpCase ip_cases[] = {
    {2, {1, 1}, 1, 1, 0, 1},
    {3, {3, 5, 7}, 1, 11, 1, 1},
    {4, {2, 3, 4, 5}, 2, 13, 0, 0},
    {3, {2, 3, 7}, -1, 5, 1, 0},
    {4, {64, 50, 4, 4}, 1, 500, 0, 1}, /* LeNet ip1 */
    /* 16 rows and more: the AVX-512 path where the CPU has it */
    {2, {20, 37}, 1, 45, 0, 1},        /* column and row tails */
    {4, {17, 3, 5, 7}, 1, 130, 0, 0},  /* 3 column panels, 17 rows */
    {2, {16, 1100}, 1, 70, 0, 1},      /* reduction longer than one block */
    {3, {2, 9, 11}, 2, 19, 0, 1},      /* 18 rows from two axes */
};

/* Every case on the current path: forward against the twin, backward
 * through the adjoint identities. */
static void ip_cases_vs_naive(const char *path)
{
    for (size_t k = 0; k < sizeof ip_cases / sizeof ip_cases[0]; k++) {
        const IpCase *c = &ip_cases[k];
        char text[256];
        snprintf(text, sizeof text,
                 "type: 'InnerProduct' inner_product_param { num_output: %d axis: %d transpose: %s "
                 "bias_term: %s }",
                 c->N, c->axis, c->transpose ? "true" : "false", c->bias ? "true" : "false");
        Harness h;
        if (build(&h, text, c->num_axes, c->shape, 1) == 0) {
            int axis = c->axis < 0 ? c->axis + c->num_axes : c->axis;
            int M = 1, K = 1;
            for (int i = 0; i < c->num_axes; i++) *(i < axis ? &M : &K) *= c->shape[i];
            CHECK(h.t[0]->num_axes == axis + 1 && h.t[0]->shape[axis] == c->N);
            CHECK(h.t[0]->count == (size_t)M * c->N);
            float *ref = malloc((size_t)M * c->N * sizeof *ref);
            cliff_ip_naive(h.b[0]->data, M, K, h.l.params[0].data,
                           c->bias ? h.l.params[1].data : NULL, c->N, c->transpose, ref);
            if (!check_failures_in_test) {
                compare("ip top", h.t[0]->data, ref, (size_t)M * c->N);
                /* top viewed as M x N: N channels over a plane of 1 */
                if (axis == 1) check_adjoint(&h, c->bias, c->N);
            }
            free(ref);
        }
        release(&h);
        if (check_failures_in_test) {
            printf("  (ip case %zu, %s)\n", k, path);
            return;
        }
    }
}

static void test_ip_vs_naive(void)
{
    ip_cases_vs_naive("default path");
    cliff_avx512_allow(0);
    if (!check_failures_in_test) ip_cases_vs_naive("OpenBLAS path");
    cliff_avx512_allow(1);
}

/* The naive twins themselves on a case small enough to do by hand:
 * 1x1x3x3 input 1..9, 2x2 kernel of ones, stride 1: sums of 2x2 blocks. */
static void test_naive_by_hand(void)
{
    const float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 1, 1, 1};
    CliffNaiveWindow win = {2, 2, 1, 1, 0, 0, 1, 1};
    float out[4];
    cliff_conv2d_naive(in, 1, 1, 3, 3, w, NULL, 1, 1, &win, out);
    CHECK(out[0] == 12 && out[1] == 16 && out[2] == 24 && out[3] == 28);
    /* the transpose of a 1x1 input is the kernel itself, plus bias */
    const float one = 2, bias = 0.5f;
    float dout[4];
    cliff_deconv2d_naive(&one, 1, 1, 1, 1, w, &bias, 1, 1, &win, dout);
    CHECK(dout[0] == 2.5f && dout[3] == 2.5f);
    /* MAX 2x2 stride 1 over 1..9: 5 6 8 9; AVE pad 1 kernel 2 stride 2: corners /4 */
    float pool[4], mask[4];
    cliff_pool2d_naive(in, 1, 1, 3, 3, 1, &win, 2, 2, pool, mask);
    CHECK(pool[0] == 5 && pool[1] == 6 && pool[2] == 8 && pool[3] == 9 && mask[3] == 8);
    CliffNaiveWindow ave = {2, 2, 2, 2, 1, 1, 1, 1};
    cliff_pool2d_naive(in, 1, 1, 3, 3, 0, &ave, 2, 2, pool, NULL);
    CHECK(pool[0] == 0.25f && pool[1] == (2 + 3) / 4.0f && pool[3] == (5 + 6 + 8 + 9) / 4.0f);
    CHECK(cliff_conv_out_naive(5, 3, 2, 1, 1) == 3 && cliff_conv_out_naive(4, 5, 1, 0, 1) == 0);
    const float x[6] = {1, 2, 3, 4, 5, 6}, wt[6] = {1, 0, -1, 2, 1, 0}, b2[2] = {10, 20};
    float y[4];
    cliff_ip_naive(x, 2, 3, wt, b2, 2, 0, y); /* rows [1 0 -1] and [2 1 0] */
    CHECK(y[0] == 8 && y[1] == 24 && y[2] == 8 && y[3] == 33);
}

/* Setup errors name the problem. */
static void test_conv_errors(void)
{
    const struct {
        const char *text;
        int shape[4];
        const char *needle;
    } cases[] = {
        {"type: 'Convolution' convolution_param { num_output: 2 kernel_size: 9 }",
         {1, 1, 8, 8}, "kernel 9x9 is larger than the padded input 8x8"},
        {"type: 'Convolution' convolution_param { num_output: 2 kernel_size: 3 group: 2 }",
         {1, 3, 8, 8}, "not divisible by group 2"},
        {"type: 'Convolution' convolution_param { kernel_size: 3 }", {1, 3, 8, 8}, "num_output"},
        {"type: 'Convolution' convolution_param { num_output: 2 kernel_size: 3 kernel_h: 2 "
         "kernel_w: 2 }",
         {1, 3, 8, 8}, "not both"},
        {"type: 'Convolution' convolution_param { num_output: 2 kernel_size: 1 kernel_size: 2 "
         "kernel_size: 3 }",
         {1, 3, 8, 8}, "once per spatial dimension"},
        {"type: 'Pooling' pooling_param { pool: STOCHASTIC kernel_size: 2 }", {1, 1, 4, 4},
         "STOCHASTIC"},
        {"type: 'Pooling' pooling_param { kernel_size: 2 pad: 2 }", {1, 1, 4, 4},
         "smaller than the kernel"},
        {"type: 'Pooling' pooling_param { global_pooling: true kernel_size: 2 }", {1, 1, 4, 4},
         "global_pooling"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        CliffError err = {0};
        Cliff__LayerParameter *p = (Cliff__LayerParameter *)cliff_text_parse(
            &cliff__layer_parameter__descriptor, "e", cases[k].text, strlen(cases[k].text), NULL,
            &err);
        CHECK(p != NULL);
        if (!p) continue;
        CliffTensor b, t;
        cliff_tensor_init(&b);
        cliff_tensor_init(&t);
        cliff_tensor_reshape(&b, 4, cases[k].shape, &err);
        CliffTensor *bp[1] = {&b}, *tp[1] = {&t};
        CliffLayer l = {0};
        l.ops = cliff_layer_find(p->type);
        l.param = p;
        int rc = l.ops->setup(&l, bp, 1, tp, 1, &err);
        if (!rc) rc = l.ops->reshape(&l, bp, 1, tp, 1, &err);
        if (rc == 0 || !strstr(err.msg, cases[k].needle))
            CHECK_FAILF("case %zu: rc %d, message '%s' lacks '%s'", k, rc, rc ? err.msg : "",
                        cases[k].needle);
        if (l.ops->destroy) l.ops->destroy(&l);
        cliff_tensor_free(&b);
        cliff_tensor_free(&t);
        protobuf_c_message_free_unpacked(&p->base, NULL);
    }
    /* 3 spatial axes are rejected with a clear message */
    {
        const char *text = "type: 'Convolution' convolution_param { num_output: 2 kernel_size: 2 }";
        CliffError err = {0};
        Cliff__LayerParameter *p = (Cliff__LayerParameter *)cliff_text_parse(
            &cliff__layer_parameter__descriptor, "e", text, strlen(text), NULL, &err);
        CliffTensor b, t;
        cliff_tensor_init(&b);
        cliff_tensor_init(&t);
        int shape[5] = {1, 2, 3, 4, 5};
        cliff_tensor_reshape(&b, 5, shape, &err);
        CliffTensor *bp[1] = {&b}, *tp[1] = {&t};
        CliffLayer l = {0};
        l.ops = cliff_layer_find("Convolution");
        l.param = p;
        CHECK(l.ops->setup(&l, bp, 1, tp, 1, &err) != 0 && strstr(err.msg, "3 spatial axes"));
        if (l.ops->destroy) l.ops->destroy(&l);
        cliff_tensor_free(&b);
        protobuf_c_message_free_unpacked(&p->base, NULL);
    }
}

int main(void)
{
    /* tests/run.sh exports 1 thread; 2 here so the layers' fork-join
     * (fork_join.h, count read once) splits their work as it does in training */
    openblas_set_num_threads(2);
    RUN(test_naive_by_hand);
    RUN(test_conv_vs_naive);
    RUN(test_conv_backward_repeatable);
    RUN(test_deconv_vs_naive);
    RUN(test_pool_vs_naive);
    RUN(test_global_pool_vs_naive);
    RUN(test_ip_vs_naive);
    RUN(test_conv_errors);
    return test_main_end();
}
