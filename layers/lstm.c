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
 * hidden units (columns d of h, and the four gate columns of each d), one
 * chunk a thread (cliff_fj_available), so that each thread reads only its own
 * part of W_hc at every step: packed apart per chunk once per pass, it stays
 * in that core's L2 for all T steps (a cut by streams had every thread read
 * all of W_hc, 1 MiB at H = 256, at every step). A step costs one fork-join:
 * forward, a chunk makes its gate columns, its gates and its part of the next
 * step's cont_t h_{t-1}; backward, it makes its part of dh from the step
 * after (dG_{t+1} W_hc, whose every column needs all of dG_{t+1}, complete
 * at the join before) and then its gate gradients of this step. Elements of
 * an engine product are the same bits however its columns are cut (gemm.h)
 * and every gate value is computed alone: the cut never changes a result.
 * Steps whose product is under STEP_SPLIT_MACS stay whole.
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
 *   PW               W_hc packed for the engine once per pass (cliff_gemm_pack_b),
 *                    cut by the chunks' hidden units [d0, d1): forward, per
 *                    chunk and gate, W_hc^T's columns gate*H + [d0, d1) (H x dn);
 *                    backward, per chunk, W_hc's columns [d0, d1) (4H x dn)
 *   PA               per thread, the step's cont_t h_{t-1} packed (N x H) for
 *                    the four gate products of its chunk */
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
/* Hidden units are cut in whole vectors of this many. */
#define UNIT_BLOCK 16

/* Chunks a step is cut into: one a thread, when the step is big enough. */
static int step_parts(int N, int H)
{
    const int nt = cliff_fj_available(), blocks = (H + UNIT_BLOCK - 1) / UNIT_BLOCK;
    if (nt <= 1 || (double)N * 4 * H * H < STEP_SPLIT_MACS) return 1;
    return nt < blocks ? nt : blocks;
}

/* Chunk q of parts: hidden units [*d0, *d0 + return). */
static int part_units(int H, int q, int parts, int *d0)
{
    int lo, hi;
    cliff_fj_range((H + UNIT_BLOCK - 1) / UNIT_BLOCK, q, parts, &lo, &hi);
    *d0 = lo * UNIT_BLOCK;
    return (hi * UNIT_BLOCK < H ? hi * UNIT_BLOCK : H) - *d0;
}

/* Floats of W_hc packed for `parts` chunks: forward (4 gate blocks a chunk)
 * and backward; the larger is PW's size. */
static size_t packed_w_floats(int H, int parts, int backward)
{
    size_t f = 0;
    for (int q = 0, d0; q < parts; q++) {
        const int dn = part_units(H, q, parts, &d0);
        f += backward ? cliff_gemm_packed_b_floats(4 * H, dn)
                      : 4 * cliff_gemm_packed_b_floats(H, dn);
    }
    return f;
}

/* Packs W_hc for a pass cut into parts chunks; pw[q] (and pw[q] + gate *
 * gate_stride[q] forward) get chunk q's panels, all inside dst. */
static void pack_w(const float *Whc, int H, int parts, int backward, float *dst,
                   const float **pw, size_t *gate_stride)
{
    for (int q = 0, d0; q < parts; q++) {
        const int dn = part_units(H, q, parts, &d0);
        pw[q] = dst;
        if (backward) { /* W_hc's columns [d0, d0 + dn): 4H x dn */
            const CliffGemmB b = cliff_gemm_dense_b(Whc + d0, H, 0);
            cliff_gemm_pack_b(&b, 4 * H, dn, dst);
            dst += cliff_gemm_packed_b_floats(4 * H, dn);
            continue;
        }
        gate_stride[q] = cliff_gemm_packed_b_floats(H, dn);
        for (int gate = 0; gate < 4; gate++) { /* W_hc^T's columns gate*H + d0..: H x dn */
            const CliffGemmB b = cliff_gemm_dense_b(Whc + ((size_t)gate * H + d0) * H, H, 1);
            cliff_gemm_pack_b(&b, H, dn, dst);
            dst += gate_stride[q];
        }
    }
}

/* One step, forward or backward, cut into parts chunks by hidden units (see
 * lstm_forward and lstm_backward for what each pointer is). */
typedef struct StepJob {
    int N, H, parts;
    const float *pw[CLIFF_FJ_MAX];
    size_t gate_stride[CLIFF_FJ_MAX];
    const float *cont, *cprev;
    /* forward */
    float *pa;               /* per thread: packed_a floats of the packed Hc */
    size_t pa_floats;
    const float *next_cont;  /* cont of step t+1, NULL at the last step */
    float *hc, *next_hc, *gt, *c, *tc, *h;
    /* backward: the product of step t+1 (when dg_after), then the gates of
     * step t (when dt) */
    const float *dg_after, *cont_after;
    const float *dt, *g4, *tcs;
    float *dh, *dc, *dgt, *dhc;
} StepJob;

/* PW's floats: enough for every cut a pass may take (1 .. threads chunks). */
static size_t pw_floats(int H)
{
    size_t most = 0;
    for (int p = 1; p <= cliff_fj_threads(); p++)
        for (int bwd = 0; bwd < 2; bwd++) {
            const size_t f = packed_w_floats(H, p, bwd);
            most = f > most ? f : most;
        }
    return most;
}

/* One thread's PA: a multiple of 16 floats, so every thread's starts on 64 bytes. */
static size_t pa_floats(const Recur *r)
{
    return (cliff_gemm_packed_a_floats(r->N, r->H) + 15) / 16 * 16;
}

static size_t packed_floats(const Recur *r)
{
    return pw_floats(r->H) + 16 /* room to start PW on 64 bytes */ +
           cliff_fj_threads() * pa_floats(r) + 16;
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
    float *G, *C, *TC, *Hc, *dG, *dh, *dc, *dhc, *P, *PW, *PA;
    size_t pa_floats; /* one thread's PA, a multiple of 16 */
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
    b.PA = cliff_recur_align64(b.PW + pw_floats(r->H));
    b.pa_floats = pa_floats(r);
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

/* One step's gates for hidden units [d0, d0 + dn) of every stream: g4 (N x
 * 4H) pre-activations in, activations out; c, tc, h (N x H) get c_t,
 * tanh(c_t), h_t. */
static void gates_forward(float *g4, const float *cprev, const float *cont, float *c, float *tc,
                          float *h, int N, int H, int d0, int dn)
{
    for (int n = 0; n < N; n++) {
        float *row = g4 + (size_t)n * 4 * H + d0;
        const size_t o = (size_t)n * H + d0;
        gate_row_forward(row + GATE_I * H, row + GATE_F * H, row + GATE_O * H, row + GATE_G * H,
                         cprev + o, cont[n], c + o, tc + o, h + o, dn);
    }
}

/* dst[n][d0 + j] = cont[n] src[n][d0 + j], j < dn, for N rows of H. */
static void scale_units(float *dst, const float *src, const float *cont, int N, int H, int d0,
                        int dn)
{
    for (int n = 0; n < N; n++) {
        const size_t o = (size_t)n * H + d0;
        for (int j = 0; j < dn; j++) dst[o + j] = cont[n] * src[o + j];
    }
}

/* Chunk `chunk` of a forward step: its four gate column blocks of the
 * recurrent product, its gates, its part of the next step's cont h. */
static void forward_units(void *arg, int chunk, int thread)
{
    const StepJob *s = arg;
    int d0;
    const int N = s->N, H = s->H, G = 4 * H, dn = part_units(H, chunk, s->parts, &d0);
    float *pa = s->pa + (size_t)thread * s->pa_floats;
    cliff_gemm_pack_a(0, N, H, 1.0f, s->hc, H, pa);
    for (int gate = 0; gate < 4; gate++)
        cliff_gemm_prepacked(pa, 0, 1.0f, NULL, 0, s->pw[chunk] + gate * s->gate_stride[chunk],
                             NULL, N, dn, H, 1.0f, s->gt + (size_t)gate * H + d0, G);
    gates_forward(s->gt, s->cprev, s->cont, s->c, s->tc, s->h, N, H, d0, dn);
    if (s->next_cont) scale_units(s->next_hc, s->h, s->next_cont, N, H, d0, dn);
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
    StepJob s = {.N = N, .H = H, .parts = step_parts(N, H), .pa = b.PA,
                 .pa_floats = b.pa_floats};
    pack_w(Whc, H, s.parts, 0, b.PW, s.pw, s.gate_stride);
    cliff_recur_scale_rows(b.Hc, r->init, cont, N, H); /* step 0's cont h_{-1} */
    for (int t = 0; t < T; t++) {
        s.cprev = t ? b.C + (t - 1) * NH : r->init + NH;
        s.cont = cont + (size_t)t * N;
        s.next_cont = t + 1 < T ? cont + (size_t)(t + 1) * N : NULL;
        s.hc = b.Hc + t * NH, s.next_hc = s.hc + NH, s.gt = b.G + t * NH * 4;
        s.c = b.C + t * NH, s.tc = b.TC + t * NH, s.h = h + t * NH;
        cliff_fj_for(s.parts, forward_units, &s);
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

/* The gate gradients of hidden units [d0, d0 + dn) of every stream. */
static void gates_backward(const float *g4, const float *cprev, const float *tc,
                           const float *cont, const float *dh, float *dc, float *dg4, int N,
                           int H, int d0, int dn)
{
    for (int n = 0; n < N; n++) {
        const float *row = g4 + (size_t)n * 4 * H + d0;
        float *drow = dg4 + (size_t)n * 4 * H + d0;
        const size_t o = (size_t)n * H + d0;
        gate_row_backward(row + GATE_I * H, row + GATE_F * H, row + GATE_O * H,
                          row + GATE_G * H, cprev + o, tc + o, cont[n], dh + o, dc + o,
                          drow + GATE_I * H, drow + GATE_F * H, drow + GATE_O * H,
                          drow + GATE_G * H, dn);
    }
}

/* Chunk `chunk` of a backward step, its hidden units [d0, d0 + dn): the
 * recurrent gradient from the step after, dh = cont_{t+1} (dG_{t+1} W_hc)
 * (when there is a step after); then dh += dtop_t and the gate gradients of
 * step t (when there is a step t). */
static void backward_units(void *arg, int chunk, int thread)
{
    (void)thread;
    const StepJob *s = arg;
    int d0;
    const int N = s->N, H = s->H, G = 4 * H, dn = part_units(H, chunk, s->parts, &d0);
    if (s->dg_after) {
        cliff_gemm_prepacked(NULL, 0, 1.0f, s->dg_after, G, s->pw[chunk], NULL, N, dn, G, 0.0f,
                             s->dhc + d0, H);
        scale_units(s->dh, s->dhc, s->cont_after, N, H, d0, dn);
    }
    if (!s->dt) return;
    for (int n = 0; n < N; n++)
        for (size_t j = (size_t)n * H + d0; j < (size_t)n * H + d0 + dn; j++) s->dh[j] += s->dt[j];
    gates_backward(s->g4, s->cprev, s->tcs, s->cont, s->dh, s->dc, s->dgt, N, H, d0, dn);
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
    /* dh: the recurrent gradient of h_t (from step t+1), dc: that of c_t */
    if (r->expose) {
        memcpy(b.dh, top[1]->diff, NH * sizeof(float));
        memcpy(b.dc, top[2]->diff, NH * sizeof(float));
    } else {
        memset(b.dh, 0, NH * sizeof(float));
        memset(b.dc, 0, NH * sizeof(float));
    }
    StepJob s = {.N = N, .H = H, .parts = step_parts(N, H), .dh = b.dh, .dc = b.dc,
                 .dhc = b.dhc};
    pack_w(l->params[whc].data, H, s.parts, 1, b.PW, s.pw, s.gate_stride);
    /* job t: step t+1's recurrent product (t < T - 1), then step t's gates
     * (t >= 0); job -1 leaves dh = the gradient of h_{-1} */
    for (int t = T - 1; t >= -1; t--) {
        s.dg_after = t + 1 < T ? b.dG + (t + 1) * NH * 4 : NULL;
        s.cont_after = cont + (size_t)(t + 1) * N;
        s.dt = t >= 0 ? dtop + t * NH : NULL;
        s.cprev = t > 0 ? b.C + (t - 1) * NH : r->init + NH;
        s.cont = cont + (size_t)(t > 0 ? t : 0) * N;
        s.g4 = b.G + (t > 0 ? t : 0) * NH * 4, s.tcs = b.TC + (t > 0 ? t : 0) * NH;
        s.dgt = b.dG + (t > 0 ? t : 0) * NH * 4;
        cliff_fj_for(s.parts, backward_units, &s);
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
