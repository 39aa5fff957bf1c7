/* RNN and LSTM beyond their gradient checks (tests/grad_cases_recurrent.c):
 *   - the forward against a naive reference written from Caffe's unrolled
 *     nets (gate order i, f, o, g; cont multiplying the carried h and, through
 *     f, the carried c; tanh on the RNN's output), in double;
 *   - truncated BPTT: one forward over 2T steps equals two forwards over T
 *     steps each, the second starting from the state the first left;
 *   - the same bits on every instruction set the engine offers (the gates'
 *     AVX-512, AVX2 and portable loops, and the products, sum the same terms
 *     in the same order);
 *   - the carried state's snapshot words: a round trip restores it exactly,
 *     and words of another shape are refused with the shapes named. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "layers/filler.h"
#include "layers/kernels/gemm.h"
#include "layers/layer.h"
#include "proto/textformat.h"

typedef struct Rig {
    Cliff__LayerParameter *param;
    CliffLayer l;
    CliffTensor bs[5], ts[3];
    CliffTensor *b[5], *t[3];
    int nb, nt;
    CliffRng rng;
} Rig;

/* Builds the layer from text over bottoms of the given shapes (3 axes each;
 * a 0 first entry ends the list), filled with N(0, 1) (cont: from `cont`).
 * Parameters are drawn with seed `seed`. */
static int rig_build(Rig *g, const char *text, int nb, const int (*shapes)[3], int nt,
                     const float *cont, uint64_t seed)
{
    CliffError err;
    memset(g, 0, sizeof *g);
    g->param = (Cliff__LayerParameter *)cliff_text_parse(&cliff__layer_parameter__descriptor,
                                                         "rig", text, strlen(text), NULL, &err);
    if (!g->param) {
        CHECK_FAILF("text: %s", err.msg);
        return -1;
    }
    g->l.ops = cliff_layer_find(g->param->type);
    g->l.param = g->param;
    g->l.name = "rig";
    g->l.rng = &g->rng;
    cliff_rng_seed(&g->rng, seed);
    g->nb = nb;
    g->nt = nt;
    for (int i = 0; i < 5; i++) cliff_tensor_init(&g->bs[i]), g->b[i] = &g->bs[i];
    for (int i = 0; i < 3; i++) cliff_tensor_init(&g->ts[i]), g->t[i] = &g->ts[i];
    for (int i = 0; i < nb; i++) {
        int axes = i == 1 ? 2 : (i == 2 && shapes[i][2] == 0 ? 2 : 3);
        if (cliff_tensor_reshape(g->b[i], axes, shapes[i], &err)) {
            CHECK_FAILF("bottom %d: %s", i, err.msg);
            return -1;
        }
        for (size_t j = 0; j < g->b[i]->count; j++)
            g->b[i]->data[j] = i == 1 ? cont[j] : cliff_rng_gaussian(&g->rng, 0, 1);
    }
    if (!g->l.ops || g->l.ops->setup(&g->l, g->b, nb, g->t, nt, &err)) {
        CHECK_FAILF("setup: %s", g->l.ops ? err.msg : "no such type");
        return -1;
    }
    for (int i = 0; i < g->l.nparams; i++) {
        CliffParamDecl *d = &g->l.decl[i];
        cliff_tensor_init(&g->l.params[i]);
        if (cliff_tensor_reshape(&g->l.params[i], d->num_axes, d->shape, &err) ||
            cliff_filler_fill(d->filler, d->default_value, g->l.params[i].data, d->num_axes,
                              d->shape, &g->rng, &err)) {
            CHECK_FAILF("param %d: %s", i, err.msg);
            return -1;
        }
    }
    if (g->l.ops->reshape(&g->l, g->b, nb, g->t, nt, &err)) {
        CHECK_FAILF("reshape: %s", err.msg);
        return -1;
    }
    return 0;
}

static void rig_free(Rig *g)
{
    if (g->l.ops && g->l.ops->destroy) g->l.ops->destroy(&g->l);
    for (int i = 0; i < g->l.nparams; i++) cliff_tensor_free(&g->l.params[i]);
    for (int i = 0; i < 5; i++) cliff_tensor_free(&g->bs[i]);
    for (int i = 0; i < 3; i++) cliff_tensor_free(&g->ts[i]);
    if (g->param) protobuf_c_message_free_unpacked(&g->param->base, NULL);
}

static void rig_forward(Rig *g) { g->l.ops->forward(&g->l, g->b, g->nb, g->t, g->nt); }

static double sigmoid(double x) { return 1 / (1 + exp(-x)); }

/* y[r] = sum_k W[r][k] v[k] for R rows of K. */
static void matvec(const float *W, const double *v, int R, int K, double *y)
{
    for (int r = 0; r < R; r++) {
        double s = 0;
        for (int k = 0; k < K; k++) s += (double)W[r * K + k] * v[k];
        y[r] += s;
    }
}

enum { T = 5, N = 3, I = 4, S = 2, H = 3 };
/* Resets inside the batch and cont values other than 0 and 1. */
static const float cont_vals[T * N] = {0, 1, 0.5f, 1, 1, 1, 0, 1, 2, 1, 0, 1, 1, 1, 0};

/* Caffe's LSTM over the rig's bottoms from zero states (static input when
 * the rig has 3 bottoms), compared with the layer's top. */
static void check_lstm_reference(Rig *g)
{
    const int st = g->nb == 3;
    const float *Wxc = g->l.params[0].data, *bc = g->l.params[1].data;
    const float *Ws = st ? g->l.params[2].data : NULL, *Whc = g->l.params[2 + st].data;
    double h[N][H] = {{0}}, c[N][H] = {{0}};
    for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++) {
            const double k = g->b[1]->data[t * N + n];
            double pre[4 * H], x[I], hc[H], xs[S];
            for (int j = 0; j < 4 * H; j++) pre[j] = bc[j];
            for (int i = 0; i < I; i++) x[i] = g->b[0]->data[(t * N + n) * I + i];
            matvec(Wxc, x, 4 * H, I, pre);
            if (st) {
                for (int i = 0; i < S; i++) xs[i] = g->b[2]->data[n * S + i];
                matvec(Ws, xs, 4 * H, S, pre);
            }
            for (int j = 0; j < H; j++) hc[j] = k * h[n][j];
            matvec(Whc, hc, 4 * H, H, pre);
            for (int d = 0; d < H; d++) {
                double ig = sigmoid(pre[d]), fg = k * sigmoid(pre[H + d]);
                double og = sigmoid(pre[2 * H + d]), gg = tanh(pre[3 * H + d]);
                c[n][d] = fg * c[n][d] + ig * gg;
                h[n][d] = og * tanh(c[n][d]);
                CHECK_NEAR(g->t[0]->data[(t * N + n) * H + d], h[n][d], 1e-5);
            }
        }
}

static void check_rnn_reference(Rig *g)
{
    const int st = g->nb == 3;
    const float *Wxh = g->l.params[0].data, *bh = g->l.params[1].data;
    const float *Ws = st ? g->l.params[2].data : NULL, *Whh = g->l.params[2 + st].data;
    const float *Who = g->l.params[3 + st].data, *bo = g->l.params[4 + st].data;
    double h[N][H] = {{0}};
    for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++) {
            const double k = g->b[1]->data[t * N + n];
            double pre[H], x[I], hc[H], xs[S], out[H];
            for (int j = 0; j < H; j++) pre[j] = bh[j], out[j] = bo[j];
            for (int i = 0; i < I; i++) x[i] = g->b[0]->data[(t * N + n) * I + i];
            matvec(Wxh, x, H, I, pre);
            if (st) {
                for (int i = 0; i < S; i++) xs[i] = g->b[2]->data[n * S + i];
                matvec(Ws, xs, H, S, pre);
            }
            for (int j = 0; j < H; j++) hc[j] = k * h[n][j];
            matvec(Whh, hc, H, H, pre);
            for (int j = 0; j < H; j++) h[n][j] = tanh(pre[j]);
            matvec(Who, h[n], H, H, out);
            for (int j = 0; j < H; j++)
                CHECK_NEAR(g->t[0]->data[(t * N + n) * H + j], tanh(out[j]), 1e-5);
        }
}

#define FILL "weight_filler { type: 'gaussian' std: 0.6 } bias_filler { type: 'gaussian' std: 0.6 }"

static void reference_case(const char *type, int with_static)
{
    char text[512];
    snprintf(text, sizeof text, "type: '%s' recurrent_param { num_output: %d " FILL " }", type, H);
    const int shapes[3][3] = {{T, N, I}, {T, N, 0}, {N, S, 0}};
    Rig g;
    if (rig_build(&g, text, 2 + with_static, shapes, 1, cont_vals, 7) == 0) {
        rig_forward(&g);
        if (type[0] == 'L')
            check_lstm_reference(&g);
        else
            check_rnn_reference(&g);
    }
    rig_free(&g);
}

static void test_lstm_matches_caffe_reference(void) { reference_case("LSTM", 0); }
static void test_lstm_static_matches_caffe_reference(void) { reference_case("LSTM", 1); }
static void test_rnn_matches_caffe_reference(void) { reference_case("RNN", 0); }
static void test_rnn_static_matches_caffe_reference(void) { reference_case("RNN", 1); }

/* One forward over 2T' steps against two over T' (T' = 3) with the same
 * weights: identical tops, bit for bit (the engine sums every product in the
 * same order whatever the number of rows). cont is 1 at the boundary, so the
 * second half depends on the carried state. */
static void split_case(const char *type)
{
    enum { TH = 3, NN = 2, II = 3 };
    static const float cont[2 * TH * NN] = {0, 0, 1, 1, 1, 0, /**/ 1, 1, 0, 1, 1, 1};
    char text[512];
    snprintf(text, sizeof text, "type: '%s' recurrent_param { num_output: 4 " FILL " }", type);
    const int whole_shape[2][3] = {{2 * TH, NN, II}, {2 * TH, NN, 0}};
    const int half_shape[2][3] = {{TH, NN, II}, {TH, NN, 0}};
    Rig whole, half;
    if (rig_build(&whole, text, 2, whole_shape, 1, cont, 3) ||
        rig_build(&half, text, 2, half_shape, 1, cont, 3)) {
        rig_free(&whole);
        rig_free(&half);
        return;
    }
    for (int p = 0; p < whole.l.nparams; p++) /* same weights (draws differ with x's size) */
        memcpy(half.l.params[p].data, whole.l.params[p].data,
               whole.l.params[p].count * sizeof(float));
    rig_forward(&whole);
    const size_t hcount = half.b[0]->count, ccount = half.b[1]->count;
    int differs_from_fresh = 0;
    for (int k = 0; k < 2; k++) {
        memcpy(half.b[0]->data, whole.b[0]->data + k * hcount, hcount * sizeof(float));
        memcpy(half.b[1]->data, cont + k * ccount, ccount * sizeof(float));
        rig_forward(&half);
        const size_t out = half.t[0]->count;
        CHECK(memcmp(half.t[0]->data, whole.t[0]->data + k * out, out * sizeof(float)) == 0);
        if (k == 1) { /* the carried state made a difference */
            Rig fresh;
            if (rig_build(&fresh, text, 2, half_shape, 1, cont + ccount, 3) == 0) {
                for (int p = 0; p < whole.l.nparams; p++)
                    memcpy(fresh.l.params[p].data, whole.l.params[p].data,
                           whole.l.params[p].count * sizeof(float));
                memcpy(fresh.b[0]->data, half.b[0]->data, hcount * sizeof(float));
                rig_forward(&fresh);
                differs_from_fresh = memcmp(fresh.t[0]->data, half.t[0]->data,
                                            out * sizeof(float)) != 0;
            }
            rig_free(&fresh);
        }
    }
    CHECK(differs_from_fresh);
    rig_free(&whole);
    rig_free(&half);
}

static void test_lstm_split_batches_equal_one(void) { split_case("LSTM"); }
static void test_rnn_split_batches_equal_one(void) { split_case("RNN"); }

/* The carried state through its snapshot words: save after a forward, run
 * another forward (the state moves on), load, and the next forward repeats
 * the second one exactly. Words of another shape are refused. */
static void state_case(const char *type)
{
    char text[512];
    snprintf(text, sizeof text, "type: '%s' recurrent_param { num_output: %d " FILL " }", type, H);
    const int shapes[2][3] = {{T, N, I}, {T, N, 0}};
    static const float ones[T * N] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    Rig g;
    if (rig_build(&g, text, 2, shapes, 1, ones, 11) == 0) {
        const CliffLayerOps *ops = g.l.ops;
        CliffError err;
        rig_forward(&g);
        size_t n = ops->state_size(&g.l);
        CHECK(n == 3 + (size_t)(type[0] == 'L' ? 2 : 1) * N * H);
        int64_t *w = calloc(n + 1, sizeof *w);
        ops->state_save(&g.l, w);
        float *a = malloc(g.t[0]->count * sizeof(float));
        rig_forward(&g);
        memcpy(a, g.t[0]->data, g.t[0]->count * sizeof(float));
        rig_forward(&g); /* from yet another state: differs */
        CHECK(memcmp(a, g.t[0]->data, g.t[0]->count * sizeof(float)) != 0);
        CHECK(ops->state_load(&g.l, w, n, &err) == 0);
        rig_forward(&g);
        CHECK(memcmp(a, g.t[0]->data, g.t[0]->count * sizeof(float)) == 0);
        w[1] = N + 1; /* another number of streams */
        CHECK(ops->state_load(&g.l, w, n, &err) != 0);
        CHECK(strstr(err.msg, "4 streams") && strstr(err.msg, "3 streams"));
        CHECK(ops->state_load(&g.l, w, n - 1, &err) != 0);
        free(w);
        free(a);
    }
    rig_free(&g);
}

static void test_lstm_state_round_trip(void) { state_case("LSTM"); }
static void test_rnn_state_round_trip(void) { state_case("RNN"); }

/* Forward and backward (tops, input and parameter gradients) under each
 * instruction set, from fresh layers with the same seed: identical bits. */
static void isa_case(const char *type)
{
    char text[512];
    snprintf(text, sizeof text, "type: '%s' recurrent_param { num_output: 20 " FILL " }", type);
    const int shapes[2][3] = {{T, N, 7}, {T, N, 0}};
    float *ref = NULL;
    size_t n = 0;
    const int isas[] = {CLIFF_ISA_AVX512, CLIFF_ISA_AVX2, CLIFF_ISA_GENERIC};
    for (int k = 0; k < 3; k++) {
        cliff_gemm_force_isa(isas[k]);
        Rig g;
        if (rig_build(&g, text, 2, shapes, 1, cont_vals, 5) == 0) {
            rig_forward(&g);
            for (size_t j = 0; j < g.t[0]->count; j++) g.t[0]->diff[j] = g.t[0]->data[j] - 0.25f;
            int prop[2] = {1, 0};
            g.l.ops->backward(&g.l, g.t, 1, prop, g.b, 2);
            size_t m = g.t[0]->count + g.b[0]->count;
            for (int p = 0; p < g.l.nparams; p++) m += g.l.params[p].count;
            float *v = malloc(m * sizeof *v), *q = v;
            memcpy(q, g.t[0]->data, g.t[0]->count * sizeof *q), q += g.t[0]->count;
            memcpy(q, g.b[0]->diff, g.b[0]->count * sizeof *q), q += g.b[0]->count;
            for (int p = 0; p < g.l.nparams; p++)
                memcpy(q, g.l.params[p].diff, g.l.params[p].count * sizeof *q),
                    q += g.l.params[p].count;
            if (!ref) {
                ref = v, n = m;
            } else {
                if (m != n || memcmp(v, ref, n * sizeof *v))
                    CHECK_FAILF("%s differs from the first set", cliff_gemm_isa_name(isas[k]));
                free(v);
            }
        }
        rig_free(&g);
    }
    cliff_gemm_force_isa(-1);
    free(ref);
}

static void test_lstm_same_bits_on_every_isa(void) { isa_case("LSTM"); }
static void test_rnn_same_bits_on_every_isa(void) { isa_case("RNN"); }

int main(void)
{
    RUN(test_lstm_matches_caffe_reference);
    RUN(test_lstm_static_matches_caffe_reference);
    RUN(test_rnn_matches_caffe_reference);
    RUN(test_rnn_static_matches_caffe_reference);
    RUN(test_lstm_split_batches_equal_one);
    RUN(test_rnn_split_batches_equal_one);
    RUN(test_lstm_same_bits_on_every_isa);
    RUN(test_rnn_same_bits_on_every_isa);
    RUN(test_lstm_state_round_trip);
    RUN(test_rnn_state_round_trip);
    return test_main_end();
}
