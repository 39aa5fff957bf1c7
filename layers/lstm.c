/* LSTM (Caffe's LSTMLayer: its unrolled net of InnerProduct, Scale and
 * LSTMUnit layers, computed directly). Bottoms, tops and the carried state:
 * recurrent.h. H = num_output; per step t, for every stream n:
 *
 *   [i' f' o' g'] = W_xc x_t + b_c [+ W_xc_static x_static] + W_hc (cont_t h_{t-1})
 *   i = sigmoid(i'), f = cont_t sigmoid(f'), o = sigmoid(o'), g = tanh(g')
 *   c_t = f c_{t-1} + i g        h_t = o tanh(c_t)
 *
 * (no clipping of any value, as Caffe's LSTMUnit). Parameters, in Caffe's
 * order and shapes: W_xc (4H x I), b_c (4H), [W_xc_static (4H x S)],
 * W_hc (4H x H); gate blocks of rows in the order i, f, o, g.
 *
 * The products run on the matrix engine (cliff_gemm_ex): the input
 * projection of all T steps is one (T N x I) x (I x 4H) product, the
 * recurrent one is one (N x H) x (H x 4H) product per step, and backward
 * gathers the weight gradients and the input gradient into one product each
 * over all steps. The gates are applied in one pass per step, vectorized
 * (sigmoid and tanh from kernels/fastmath.h, within 2e-7 of the exact values).
 *
 * Threads: a step's recurrent product and its gates are cut together by
 * streams (rows of N), one chunk a thread (cliff_fj_available), so the gates
 * run on the threads with the product and a step costs one fork-join. Rows
 * of an engine product are the same bits however they are cut (gemm.h) and
 * every gate value is computed alone: the cut never changes a result. Steps
 * whose product is under STEP_SPLIT_MACS stay whole.
 *
 * Gradient of f' where cont is neither 0 nor 1: the true derivative
 * cont sigmoid'(f') (Caffe's LSTMUnit uses f (1 - f) with the scaled f).
 *
 * Scratch (floats), sized at reshape:
 *   G   T x N x 4H   gate pre-activations, then (i, sigmoid(f'), o, g)
 *   C   T x N x H    cell states        TC  T x N x H   tanh(c)
 *   Hc  T x N x H    cont_t h_{t-1}: the recurrent product's input
 *   dG  T x N x 4H   gate gradients
 *   dh, dc, dhc      N x H each: the gradients carried between steps
 *   P   N x 4H       W_xc_static x_static, then its gradient summed over t
 *   PW               W_hc packed for the engine once per pass (cliff_gemm_pack_b):
 *                    as W_hc^T (H x 4H) in forward, as W_hc (4H x H) in backward */
#include <string.h>

#include "layers/kernels/fastmath.h"
#include "layers/kernels/fork_join.h"
#include "layers/kernels/gemm.h"
#include "recurrent.h"

enum { P_WXC = 0, P_BC = 1 };
/* Gate blocks within a row of 4H pre-activations (Caffe's order). */
enum { GATE_I = 0, GATE_F = 1, GATE_O = 2, GATE_G = 3 };

static int whc_index(const Recur *r) { return 2 + (r->b_static >= 0); }

/* A step's recurrent product (N x H x 4H multiply-adds) under this stays one
 * chunk: a fork-join costs a few microseconds. char_lstm (N 32, H 256): 8.4 M. */
#define STEP_SPLIT_MACS 1e6

/* Streams a chunk of one step takes. */
static int step_rows(int N, int H)
{
    const int nt = cliff_fj_available();
    if (nt <= 1 || (double)N * 4 * H * H < STEP_SPLIT_MACS) return N > 0 ? N : 1;
    return (N + nt - 1) / nt;
}

/* One step, forward or backward, for streams [n0, n0 + per) (see lstm_forward
 * and lstm_backward for what each pointer is). */
typedef struct StepJob {
    int N, H, per;
    const float *pw, *cont, *cprev;
    /* forward */
    const float *hprev;
    float *hc, *gt, *c, *tc, *h;
    /* backward */
    const float *dt, *g4, *tcs;
    float *dh, *dc, *dgt, *dhc;
} StepJob;

static size_t packed_floats(const Recur *r)
{
    const size_t f = cliff_gemm_packed_b_floats(r->H, 4 * r->H),
                 b = cliff_gemm_packed_b_floats(4 * r->H, r->H);
    return (f > b ? f : b) + 16; /* + 16: room to start it on 64 bytes */
}

static size_t lstm_scratch(const Recur *r)
{
    const size_t TN = (size_t)r->T * r->N, NH = (size_t)r->N * r->H;
    return TN * r->H * (4 + 3 + 4) + 3 * NH + (size_t)r->N * 4 * r->H + packed_floats(r);
}

static int lstm_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, CliffError *err)
{
    (void)top;
    Recur *r = cliff_recur_setup(l, bottom, nb, nt, 2, "h_0, c_0", err);
    if (!r) return -1;
    const Cliff__RecurrentParameter *rp = cliff_recur_param(l);
    const int G = 4 * r->H;
    int w[2] = {G, r->I};
    if (cliff_layer_declare_param(l, 2, w, rp->weight_filler, 0.0f, 1, err) ||
        cliff_layer_declare_param(l, 1, &G, rp->bias_filler, 0.0f, 1, err))
        return -1;
    if (r->b_static >= 0) {
        w[1] = r->S;
        if (cliff_layer_declare_param(l, 2, w, rp->weight_filler, 0.0f, 1, err)) return -1;
    }
    w[1] = r->H;
    return cliff_layer_declare_param(l, 2, w, cliff_recur_hh_filler(l), 0.0f, 1, err);
}

static int lstm_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt, CliffError *err)
{
    return cliff_recur_reshape(l, l->priv, bottom, nb, top, nt, lstm_scratch, err);
}

typedef struct Bufs {
    float *G, *C, *TC, *Hc, *dG, *dh, *dc, *dhc, *P, *PW;
} Bufs;

static Bufs bufs(const Recur *r)
{
    const size_t TN = (size_t)r->T * r->N, NH = (size_t)r->N * r->H;
    Bufs b;
    b.G = r->scratch;
    b.C = b.G + TN * 4 * r->H;
    b.TC = b.C + TN * r->H;
    b.Hc = b.TC + TN * r->H;
    b.dG = b.Hc + TN * r->H;
    b.dh = b.dG + TN * 4 * r->H;
    b.dc = b.dh + NH;
    b.dhc = b.dc + NH;
    b.P = b.dhc + NH;
    b.PW = cliff_recur_align64(b.P + (size_t)r->N * 4 * r->H);
    return b;
}

/* One stream's gates at one step, in one pass: gi, gf, go, gg (H each) hold
 * the pre-activations and get i, sigmoid(f'), o, g; cn, tn, hn get c_t,
 * tanh(c_t), h_t from cp = c_{t-1} and k = cont. (Separate restrict
 * arguments: the vectorizer cannot tell four blocks of one row apart.) */
static inline __attribute__((always_inline)) void
gate_row_forward_body(float *restrict gi, float *restrict gf, float *restrict go,
                      float *restrict gg, const float *restrict cp, float k, float *restrict cn,
                      float *restrict tn, float *restrict hn, int H)
{
    for (int d = 0; d < H; d++) {
        const float i = cliff_sigmoidf(gi[d]), sf = cliff_sigmoidf(gf[d]);
        const float og = cliff_sigmoidf(go[d]), g = cliff_tanhf(gg[d]);
        const float cv = k * sf * cp[d] + i * g, t = cliff_tanhf(cv); /* f = k sf */
        gi[d] = i;
        gf[d] = sf;
        go[d] = og;
        gg[d] = g;
        cn[d] = cv;
        tn[d] = t;
        hn[d] = og * t;
    }
}
CLIFF_ISA_VARIANTS(gate_row_forward,
                   (float *restrict gi, float *restrict gf, float *restrict go,
                    float *restrict gg, const float *restrict cp, float k, float *restrict cn,
                    float *restrict tn, float *restrict hn, int H),
                   (gi, gf, go, gg, cp, k, cn, tn, hn, H))

/* One step's gates: g4 (N x 4H) pre-activations in, activations out; c, tc,
 * h (N x H) get c_t, tanh(c_t), h_t. */
static void gates_forward(float *g4, const float *cprev, const float *cont, float *c, float *tc,
                          float *h, int N, int H)
{
    for (int n = 0; n < N; n++) {
        float *row = g4 + (size_t)n * 4 * H;
        const size_t o = (size_t)n * H;
        gate_row_forward(row + GATE_I * H, row + GATE_F * H, row + GATE_O * H, row + GATE_G * H,
                         cprev + o, cont[n], c + o, tc + o, h + o, H);
    }
}

/* The streams of chunk c: [*n0, *n0 + return). */
static int chunk_streams(const StepJob *s, int c, int *n0)
{
    *n0 = c * s->per;
    return s->N - *n0 < s->per ? s->N - *n0 : s->per;
}

static void forward_rows(void *arg, int chunk, int thread)
{
    (void)thread;
    const StepJob *s = arg;
    int n0;
    const int H = s->H, G = 4 * H, n = chunk_streams(s, chunk, &n0);
    const size_t o = (size_t)n0 * H, og = (size_t)n0 * G;
    cliff_recur_scale_rows(s->hc + o, s->hprev + o, s->cont + n0, n, H);
    cliff_gemm_prepacked(NULL, 0, 1.0f, s->hc + o, H, s->pw, NULL, n, G, H, 1.0f, s->gt + og, G);
    gates_forward(s->gt + og, s->cprev + o, s->cont + n0, s->c + o, s->tc + o, s->h + o, n, H);
}

static void lstm_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    Recur *r = l->priv;
    const Bufs b = bufs(r);
    const int T = r->T, N = r->N, H = r->H, G = 4 * H, TN = T * N;
    const size_t NH = (size_t)N * H;
    const float *x = bottom[0]->data, *cont = bottom[1]->data;
    const float *Wxc = l->params[P_WXC].data, *Whc = l->params[whc_index(r)].data;
    float *h = top[0]->data;
    cliff_recur_begin(r, bottom);
    const float *P = NULL;
    if (r->b_static >= 0) { /* P = x_static W_xc_static^T, added to every step */
        cliff_gemm_ex(0, 1, N, G, r->S, 1.0f, bottom[r->b_static]->data, r->S,
                      l->params[2].data, r->S, 0.0f, b.P, G);
        P = b.P;
    }
    cliff_recur_fill_rows(b.G, l->params[P_BC].data, P, T, N, G);
    cliff_gemm_ex(0, 1, TN, G, r->I, 1.0f, x, r->I, Wxc, r->I, 1.0f, b.G, G);
    const CliffGemmB wt = cliff_gemm_dense_b(Whc, H, 1); /* op(B) = W_hc^T, H x 4H */
    cliff_gemm_pack_b(&wt, H, G, b.PW);
    StepJob s = {.N = N, .H = H, .per = step_rows(N, H), .pw = b.PW};
    for (int t = 0; t < T; t++) {
        s.hprev = t ? h + (t - 1) * NH : r->init;
        s.cprev = t ? b.C + (t - 1) * NH : r->init + NH;
        s.cont = cont + (size_t)t * N;
        s.hc = b.Hc + t * NH, s.gt = b.G + t * NH * 4;
        s.c = b.C + t * NH, s.tc = b.TC + t * NH, s.h = h + t * NH;
        cliff_fj_for((N + s.per - 1) / s.per, forward_rows, &s);
    }
    const float *final[2] = {h + (T - 1) * NH, b.C + (T - 1) * NH};
    cliff_recur_end(r, final, top);
}

/* One stream's gate gradients at one step, in one pass: from dh (the
 * output's gradient plus the recurrent one) and dc (carried from step t+1),
 * writes di, df, dout, dg and replaces dc with the gradient of c_{t-1}. */
static inline __attribute__((always_inline)) void
gate_row_backward_body(const float *restrict gi, const float *restrict gf,
                       const float *restrict go, const float *restrict gg,
                       const float *restrict cp, const float *restrict tn, float k,
                       const float *restrict dh, float *restrict dc, float *restrict di,
                       float *restrict df, float *restrict dout, float *restrict dgg, int H)
{
    for (int d = 0; d < H; d++) {
        const float i = gi[d], sf = gf[d], og = go[d], g = gg[d], t = tn[d], dhv = dh[d];
        const float dcv = dc[d] + dhv * og * (1.0f - t * t);
        di[d] = dcv * g * i * (1.0f - i);
        df[d] = dcv * cp[d] * k * sf * (1.0f - sf);
        dout[d] = dhv * t * og * (1.0f - og);
        dgg[d] = dcv * i * (1.0f - g * g);
        dc[d] = dcv * k * sf;
    }
}
CLIFF_ISA_VARIANTS(gate_row_backward,
                   (const float *restrict gi, const float *restrict gf,
                    const float *restrict go, const float *restrict gg,
                    const float *restrict cp, const float *restrict tn, float k,
                    const float *restrict dh, float *restrict dc, float *restrict di,
                    float *restrict df, float *restrict dout, float *restrict dgg, int H),
                   (gi, gf, go, gg, cp, tn, k, dh, dc, di, df, dout, dgg, H))

static void gates_backward(const float *g4, const float *cprev, const float *tc,
                           const float *cont, const float *dh, float *dc, float *dg4, int N,
                           int H)
{
    for (int n = 0; n < N; n++) {
        const float *row = g4 + (size_t)n * 4 * H;
        float *drow = dg4 + (size_t)n * 4 * H;
        const size_t o = (size_t)n * H;
        gate_row_backward(row + GATE_I * H, row + GATE_F * H, row + GATE_O * H,
                          row + GATE_G * H, cprev + o, tc + o, cont[n], dh + o, dc + o,
                          drow + GATE_I * H, drow + GATE_F * H, drow + GATE_O * H,
                          drow + GATE_G * H, H);
    }
}

/* dh_t += dtop_t; the gate gradients; dh_{t-1} = cont_t (dG_t W_hc). */
static void backward_rows(void *arg, int chunk, int thread)
{
    (void)thread;
    const StepJob *s = arg;
    int n0;
    const int H = s->H, G = 4 * H, n = chunk_streams(s, chunk, &n0);
    const size_t o = (size_t)n0 * H, og = (size_t)n0 * G;
    for (size_t j = o; j < o + (size_t)n * H; j++) s->dh[j] += s->dt[j];
    gates_backward(s->g4 + og, s->cprev + o, s->tcs + o, s->cont + n0, s->dh + o, s->dc + o,
                   s->dgt + og, n, H);
    cliff_gemm_prepacked(NULL, 0, 1.0f, s->dgt + og, G, s->pw, NULL, n, H, G, 0.0f, s->dhc + o, H);
    cliff_recur_scale_rows(s->dh + o, s->dhc + o, s->cont + n0, n, H);
}

static void lstm_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                          const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt, (void)nb;
    Recur *r = l->priv;
    const Bufs b = bufs(r);
    const int T = r->T, N = r->N, H = r->H, G = 4 * H, TN = T * N, whc = whc_index(r);
    const size_t NH = (size_t)N * H;
    const float *cont = bottom[1]->data, *dtop = top[0]->diff;
    const CliffGemmB w = cliff_gemm_dense_b(l->params[whc].data, H, 0); /* W_hc, 4H x H */
    cliff_gemm_pack_b(&w, G, H, b.PW);
    /* dh: the recurrent gradient of h_t (from step t+1), dc: that of c_t */
    if (r->expose) {
        memcpy(b.dh, top[1]->diff, NH * sizeof(float));
        memcpy(b.dc, top[2]->diff, NH * sizeof(float));
    } else {
        memset(b.dh, 0, NH * sizeof(float));
        memset(b.dc, 0, NH * sizeof(float));
    }
    StepJob s = {.N = N, .H = H, .per = step_rows(N, H), .pw = b.PW,
                 .dh = b.dh, .dc = b.dc, .dhc = b.dhc};
    for (int t = T - 1; t >= 0; t--) {
        s.dt = dtop + t * NH;
        s.cprev = t ? b.C + (t - 1) * NH : r->init + NH;
        s.cont = cont + (size_t)t * N;
        s.g4 = b.G + t * NH * 4, s.tcs = b.TC + t * NH, s.dgt = b.dG + t * NH * 4;
        cliff_fj_for((N + s.per - 1) / s.per, backward_rows, &s);
    }
    if (r->expose) {
        if (propagate_down[r->b_hidden])
            memcpy(bottom[r->b_hidden]->diff, b.dh, NH * sizeof(float));
        if (propagate_down[r->b_hidden + 1])
            memcpy(bottom[r->b_hidden + 1]->diff, b.dc, NH * sizeof(float));
    }
    if (l->param_need_grad[whc])
        cliff_gemm_ex(1, 0, G, H, TN, 1.0f, b.dG, G, b.Hc, H, 1.0f, l->params[whc].diff, H);
    cliff_recur_input_backward(l, r, b.dG, G, b.P, propagate_down, bottom);
}

/* Caffe's names of the parameters (its unrolled net's param names). */
static const char *lstm_param_name(const CliffLayer *l, int i)
{
    const Recur *r = l->priv;
    static const char *const plain[] = {"W_xc", "b_c", "W_hc"};
    static const char *const with_static[] = {"W_xc", "b_c", "W_xc_static", "W_hc"};
    if (!r || i < 0 || i > 2 + (r->b_static >= 0)) return NULL;
    return r->b_static >= 0 ? with_static[i] : plain[i];
}

static double lstm_flops(const CliffLayer *l)
{
    const Recur *r = l->priv;
    if (!r) return 0;
    const double TN = (double)r->T * r->N, G = 4.0 * r->H;
    return TN * G * (r->I + r->H) + (r->b_static >= 0 ? (double)r->N * G * r->S : 0);
}

static size_t lstm_workspace(const CliffLayer *l) { return cliff_recur_workspace_bytes(l->priv); }

const CliffLayerOps cliff_ops_LSTM = {
    .type = "LSTM",
    .min_bottoms = 2,
    .max_bottoms = 5, /* x, cont, [x_static], [h_0, c_0] */
    .min_tops = 1,
    .max_tops = 3, /* h, [h_T, c_T] */
    .label_bottoms = 1u << 1, /* cont */
    .setup = lstm_setup,
    .reshape = lstm_reshape,
    .forward = lstm_forward,
    .backward = lstm_backward,
    .destroy = cliff_recur_destroy,
    .state_size = cliff_recur_state_size,
    .state_save = cliff_recur_state_save,
    .state_load = cliff_recur_state_load,
    .forward_flops = lstm_flops,
    .param_name = lstm_param_name,
    .workspace_bytes = lstm_workspace,
};
