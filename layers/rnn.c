/* RNN (Caffe's RNNLayer: its unrolled net of InnerProduct, Eltwise and TanH
 * layers, computed directly). Bottoms, tops and the carried state:
 * recurrent.h. H = num_output; per step t, for every stream n:
 *
 *   h_t = tanh(W_xh x_t + b_h [+ W_xh_static x_static] + W_hh (cont_t h_{t-1}))
 *   o_t = tanh(W_ho h_t + b_o)                       (the top: T x N x H)
 *
 * Parameters, in Caffe's order and shapes: W_xh (H x I), b_h (H),
 * [W_xh_static (H x S)], W_hh (H x H), W_ho (H x H), b_o (H).
 *
 * Products on the matrix engine (cliff_gemm_ex): the input projection and the
 * output projection of all T steps are one product each, the recurrent one
 * is one (N x H) x (H x H) product per step; backward gathers the weight
 * gradients and the input gradient into one product each over all steps.
 * tanh from kernels/fastmath.h (within 2e-7 of the exact value), vectorized.
 *
 * Scratch (floats), sized at reshape:
 *   Hs  T x N x H   pre-activations, then h_t
 *   Hc  T x N x H   cont_t h_{t-1}: the recurrent product's input
 *   dO  T x N x H   gradient of W_ho h_t + b_o
 *   dA  T x N x H   gradient of h_t, then of its pre-activation
 *   dh, dhc         N x H each: the gradient carried between steps
 *   P   N x H       W_xh_static x_static, then its gradient summed over t
 *   PW              W_hh packed for the engine once per pass (cliff_gemm_pack_b):
 *                   as W_hh^T in forward, as W_hh in backward */
#include <string.h>

#include "layers/kernels/fastmath.h"
#include "layers/kernels/gemm.h"
#include "recurrent.h"

enum { P_WXH = 0, P_BH = 1 };

static int whh_index(const Recur *r) { return 2 + (r->b_static >= 0); }

static size_t rnn_scratch(const Recur *r)
{
    const size_t TN = (size_t)r->T * r->N, NH = (size_t)r->N * r->H;
    return TN * r->H * 4 + 3 * NH + cliff_gemm_packed_b_floats(r->H, r->H) + 16;
}

static int rnn_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                     int nt, CliffError *err)
{
    (void)top;
    Recur *r = cliff_recur_setup(l, bottom, nb, nt, 1, "h_0", err);
    if (!r) return -1;
    const Cliff__RecurrentParameter *rp = cliff_recur_param(l);
    int w[2] = {r->H, r->I};
    if (cliff_layer_declare_param(l, 2, w, rp->weight_filler, 0.0f, 1, err) ||
        cliff_layer_declare_param(l, 1, &r->H, rp->bias_filler, 0.0f, 1, err))
        return -1;
    if (r->b_static >= 0) {
        w[1] = r->S;
        if (cliff_layer_declare_param(l, 2, w, rp->weight_filler, 0.0f, 1, err)) return -1;
    }
    w[1] = r->H;
    return cliff_layer_declare_param(l, 2, w, cliff_recur_hh_filler(l), 0.0f, 1, err) ||
                   cliff_layer_declare_param(l, 2, w, rp->weight_filler, 0.0f, 1, err) ||
                   cliff_layer_declare_param(l, 1, &r->H, rp->bias_filler, 0.0f, 1, err)
               ? -1
               : 0;
}

static int rnn_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt, CliffError *err)
{
    return cliff_recur_reshape(l, l->priv, bottom, nb, top, nt, rnn_scratch, err);
}

typedef struct Bufs {
    float *Hs, *Hc, *dO, *dA, *dh, *dhc, *P, *PW;
} Bufs;

static Bufs bufs(const Recur *r)
{
    const size_t TNH = (size_t)r->T * r->N * r->H, NH = (size_t)r->N * r->H;
    Bufs b;
    b.Hs = r->scratch;
    b.Hc = b.Hs + TNH;
    b.dO = b.Hc + TNH;
    b.dA = b.dO + TNH;
    b.dh = b.dA + TNH;
    b.dhc = b.dh + NH;
    b.P = b.dhc + NH;
    b.PW = cliff_recur_align64(b.P + NH);
    return b;
}

static inline __attribute__((always_inline)) void tanh_in_place_body(float *x, size_t n)
{
    for (size_t j = 0; j < n; j++) x[j] = cliff_tanhf(x[j]);
}
CLIFF_ISA_VARIANTS(tanh_in_place, (float *x, size_t n), (x, n))

static void rnn_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    Recur *r = l->priv;
    const Bufs b = bufs(r);
    const int T = r->T, N = r->N, H = r->H, TN = T * N, whh = whh_index(r);
    const size_t NH = (size_t)N * H;
    const float *x = bottom[0]->data, *cont = bottom[1]->data;
    float *o = top[0]->data;
    cliff_recur_begin(r, bottom);
    const float *P = NULL;
    if (r->b_static >= 0) {
        cliff_gemm_ex(0, 1, N, H, r->S, 1.0f, bottom[r->b_static]->data, r->S,
                      l->params[2].data, r->S, 0.0f, b.P, H);
        P = b.P;
    }
    cliff_recur_fill_rows(b.Hs, l->params[P_BH].data, P, T, N, H);
    cliff_gemm_ex(0, 1, TN, H, r->I, 1.0f, x, r->I, l->params[P_WXH].data, r->I, 1.0f, b.Hs, H);
    const CliffGemmB wt = cliff_gemm_dense_b(l->params[whh].data, H, 1); /* op(B) = W_hh^T */
    cliff_gemm_pack_b(&wt, H, H, b.PW);
    for (int t = 0; t < T; t++) {
        const float *hprev = t ? b.Hs + (t - 1) * NH : r->init;
        float *hc = b.Hc + t * NH, *ht = b.Hs + t * NH;
        cliff_recur_scale_rows(hc, hprev, cont + (size_t)t * N, N, H);
        cliff_gemm_prepacked(NULL, 0, 1.0f, hc, H, b.PW, NULL, N, H, H, 1.0f, ht, H);
        tanh_in_place(ht, NH);
    }
    cliff_recur_fill_rows(o, l->params[whh + 2].data, NULL, T, N, H);
    cliff_gemm_ex(0, 1, TN, H, H, 1.0f, b.Hs, H, l->params[whh + 1].data, H, 1.0f, o, H);
    tanh_in_place(o, (size_t)TN * H);
    const float *final[1] = {b.Hs + (T - 1) * NH};
    cliff_recur_end(r, final, top);
}

static void rnn_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                         const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt, (void)nb;
    Recur *r = l->priv;
    const Bufs b = bufs(r);
    const int T = r->T, N = r->N, H = r->H, TN = T * N, whh = whh_index(r);
    const size_t NH = (size_t)N * H, TNH = (size_t)TN * H;
    const float *cont = bottom[1]->data;
    const float *o = top[0]->data, *dtop = top[0]->diff;
    for (size_t j = 0; j < TNH; j++) b.dO[j] = dtop[j] * (1.0f - o[j] * o[j]);
    if (l->param_need_grad[whh + 1])
        cliff_gemm_ex(1, 0, H, H, TN, 1.0f, b.dO, H, b.Hs, H, 1.0f, l->params[whh + 1].diff, H);
    if (l->param_need_grad[whh + 2]) cliff_recur_colsum(l->params[whh + 2].diff, b.dO, TN, H);
    cliff_gemm_ex(0, 0, TN, H, H, 1.0f, b.dO, H, l->params[whh + 1].data, H, 0.0f, b.dA, H);
    const CliffGemmB w = cliff_gemm_dense_b(l->params[whh].data, H, 0); /* op(B) = W_hh */
    cliff_gemm_pack_b(&w, H, H, b.PW);
    if (r->expose)
        memcpy(b.dh, top[1]->diff, NH * sizeof(float));
    else
        memset(b.dh, 0, NH * sizeof(float));
    for (int t = T - 1; t >= 0; t--) {
        float *da = b.dA + t * NH;
        const float *ht = b.Hs + t * NH;
        for (size_t j = 0; j < NH; j++) da[j] = (da[j] + b.dh[j]) * (1.0f - ht[j] * ht[j]);
        /* dh_{t-1} = cont_t (dA_t W_hh) */
        cliff_gemm_prepacked(NULL, 0, 1.0f, da, H, b.PW, NULL, N, H, H, 0.0f, b.dhc, H);
        cliff_recur_scale_rows(b.dh, b.dhc, cont + (size_t)t * N, N, H);
    }
    if (r->expose && propagate_down[r->b_hidden])
        memcpy(bottom[r->b_hidden]->diff, b.dh, NH * sizeof(float));
    if (l->param_need_grad[whh])
        cliff_gemm_ex(1, 0, H, H, TN, 1.0f, b.dA, H, b.Hc, H, 1.0f, l->params[whh].diff, H);
    cliff_recur_input_backward(l, r, b.dA, H, b.P, propagate_down, bottom);
}

/* Caffe's names of the parameters (its unrolled net's param names). */
static const char *rnn_param_name(const CliffLayer *l, int i)
{
    const Recur *r = l->priv;
    static const char *const plain[] = {"W_xh", "b_h", "W_hh", "W_ho", "b_o"};
    static const char *const with_static[] = {"W_xh", "b_h", "W_xh_static", "W_hh", "W_ho", "b_o"};
    if (!r || i < 0 || i > 4 + (r->b_static >= 0)) return NULL;
    return r->b_static >= 0 ? with_static[i] : plain[i];
}

static double rnn_flops(const CliffLayer *l)
{
    const Recur *r = l->priv;
    if (!r) return 0;
    const double TN = (double)r->T * r->N, H = r->H;
    return TN * H * (r->I + 2 * H) + (r->b_static >= 0 ? (double)r->N * H * r->S : 0);
}

static size_t rnn_workspace(const CliffLayer *l) { return cliff_recur_workspace_bytes(l->priv); }

const CliffLayerOps cliff_ops_RNN = {
    .type = "RNN",
    .min_bottoms = 2,
    .max_bottoms = 4, /* x, cont, [x_static], [h_0] */
    .min_tops = 1,
    .max_tops = 2, /* o, [h_T] */
    .label_bottoms = 1u << 1, /* cont */
    .setup = rnn_setup,
    .reshape = rnn_reshape,
    .forward = rnn_forward,
    .backward = rnn_backward,
    .destroy = cliff_recur_destroy,
    .state_size = cliff_recur_state_size,
    .state_save = cliff_recur_state_save,
    .state_load = cliff_recur_state_load,
    .forward_flops = rnn_flops,
    .param_name = rnn_param_name,
    .workspace_bytes = rnn_workspace,
};
