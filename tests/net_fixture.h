/* Helpers for the net construction tests: build a net from prototxt text,
 * fill parameters with fixed values, and a double-precision InnerProduct /
 * EuclideanLoss reference for hand computations. Header-only (static inline). */
#ifndef CLIFF_NET_FIXTURE_H
#define CLIFF_NET_FIXTURE_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "layers/net/net.h"
#include "proto/textformat.h"

typedef struct NetFx {
    Cliff__NetParameter *param;
    CliffSrcMap map;
    CliffRng rng;
    CliffNet *net;
    CliffError err;
} NetFx;

/* Parses text (named "net.prototxt" in errors) and builds it for phase with
 * extra (may be NULL). Returns the net, or NULL with fx->err filled (a parse
 * error fails the running test; a build error is left to the caller). */
static inline CliffNet *nfx_build(NetFx *fx, const char *text, int phase,
                                  const Cliff__NetState *extra)
{
    memset(fx, 0, sizeof *fx);
    cliff_srcmap_init(&fx->map);
    cliff_rng_seed(&fx->rng, 5);
    fx->param = (Cliff__NetParameter *)cliff_text_parse(&cliff__net_parameter__descriptor,
                                                         "net.prototxt", text, strlen(text),
                                                         &fx->map, &fx->err);
    if (!fx->param) {
        CHECK_FAILF("parse: %s", fx->err.msg);
        return NULL;
    }
    fx->net = cliff_net_build(fx->param, phase, extra, &fx->rng, &fx->map, &fx->err);
    return fx->net;
}

/* Like nfx_build, but a build error fails the running test. */
static inline CliffNet *nfx_build_ok(NetFx *fx, const char *text, int phase,
                                     const Cliff__NetState *extra)
{
    CliffNet *net = nfx_build(fx, text, phase, extra);
    if (!net && fx->param) CHECK_FAILF("build: %s", fx->err.msg);
    return net;
}

static inline void nfx_free(NetFx *fx)
{
    cliff_net_free(fx->net);
    if (fx->param) protobuf_c_message_free_unpacked(&fx->param->base, NULL);
    cliff_srcmap_free(&fx->map);
    memset(fx, 0, sizeof *fx);
}

/* The tensor of blob `name` (fails the test and returns NULL when absent). */
static inline CliffTensor *nfx_blob(CliffNet *net, const char *name)
{
    int b = cliff_net_blob_index(net, name);
    if (b < 0) {
        CHECK_FAILF("no blob '%s'", name);
        return NULL;
    }
    return net->blobs[b];
}

/* The net layer named `name` (fails the test and returns NULL when absent). */
static inline CliffNetLayer *nfx_layer(CliffNet *net, const char *name)
{
    int i = cliff_net_layer_index(net, name);
    if (i < 0) {
        CHECK_FAILF("no layer '%s'", name);
        return NULL;
    }
    return &net->layers[i];
}

/* Fixed, distinct values: t[i] = scale * sin(1.7 i + seed). */
static inline void nfx_fill(float *t, size_t n, double seed, double scale)
{
    for (size_t i = 0; i < n; i++) t[i] = (float)(scale * sin(1.7 * (double)i + seed));
}

/* Double-precision InnerProduct: y[n][o] = sum_k W[o][k] x[n][k] + b[o]. */
static inline void nfx_ip(const float *W, const float *b, const double *x, int N, int K, int O,
                          double *y)
{
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
            double s = b ? b[o] : 0;
            for (int k = 0; k < K; k++) s += (double)W[o * K + k] * x[n * K + k];
            y[n * O + o] = s;
        }
}

/* Accumulates the InnerProduct gradients for top gradient dy (N x O):
 * dW += dy^T x, db += sum_n dy, dx = dy W (dx may be NULL). */
static inline void nfx_ip_back(const float *W, const double *x, const double *dy, int N, int K,
                               int O, double *dW, double *db, double *dx)
{
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
            if (db) db[o] += dy[n * O + o];
            for (int k = 0; k < K; k++) {
                if (dW) dW[o * K + k] += dy[n * O + o] * x[n * K + k];
            }
        }
    if (dx)
        for (int n = 0; n < N; n++)
            for (int k = 0; k < K; k++) {
                double s = 0;
                for (int o = 0; o < O; o++) s += dy[n * O + o] * W[o * K + k];
                dx[n * K + k] = s;
            }
}

/* EuclideanLoss w * sum (a - t)^2 / (2N) over N x D; da = w (a - t) / N. */
static inline double nfx_euclid(const double *a, const float *t, int N, int D, double w,
                                double *da)
{
    double s = 0;
    for (int i = 0; i < N * D; i++) {
        double d = a[i] - t[i];
        s += d * d;
        if (da) da[i] = w * d / N;
    }
    return w * s / (2.0 * N);
}

static inline void nfx_to_double(const float *f, size_t n, double *d)
{
    for (size_t i = 0; i < n; i++) d[i] = f[i];
}

/* Every element of got within tol * max(1, |want|) of want. */
static inline void nfx_check_close(const char *what, const float *got, const double *want,
                                   size_t n, double tol)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs(got[i] - want[i]) <= tol * fmax(1.0, fabs(want[i])))) {
            CHECK_FAILF("%s[%zu] = %.9g, expected %.9g", what, i, got[i], want[i]);
            return;
        }
}

static inline int nfx_all_zero(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (x[i] != 0) return 0;
    return 1;
}

#endif
