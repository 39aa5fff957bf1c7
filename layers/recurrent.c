/* The shared part of RNN and LSTM; see recurrent.h. */
#include "recurrent.h"

#include <string.h>

#include "layers/kernels/gemm.h"
#include "vision_util.h"

static const Cliff__RecurrentParameter recur_defaults = CLIFF__RECURRENT_PARAMETER__INIT;

const Cliff__RecurrentParameter *cliff_recur_param(const CliffLayer *l)
{
    return l->param && l->param->recurrent_param ? l->param->recurrent_param : &recur_defaults;
}

const Cliff__FillerParameter *cliff_recur_hh_filler(const CliffLayer *l)
{
    const Cliff__RecurrentParameter *rp = cliff_recur_param(l);
    return rp->recurrent_weight_filler ? rp->recurrent_weight_filler : rp->weight_filler;
}

/* Checks every bottom's shape against x's T and N and the sizes fixed at
 * setup (I, S: the weights are sized for them; I < 0 and S < 0 at setup). */
static int check_shapes(const CliffLayer *l, Recur *r, CliffTensor *const *bottom, int nb,
                        int at_setup, CliffError *err)
{
    char s[128], s2[128];
    const CliffTensor *x = bottom[0], *cont = bottom[1];
    if (x->num_axes < 2)
        return cliff_error_set(err, "bottom '%s' has shape %s; a recurrent input needs at "
                               "least 2 axes (T time steps x N streams x ...)",
                               cliff_bname(l, 0), cliff_tensor_shape_str(x, s, sizeof s));
    const int T = x->shape[0], N = x->shape[1];
    if (T <= 0 || N <= 0)
        return cliff_error_set(err, "bottom '%s' has shape %s: no time steps or no streams",
                               cliff_bname(l, 0), cliff_tensor_shape_str(x, s, sizeof s));
    if (cont->num_axes != 2 || cont->shape[0] != T || cont->shape[1] != N)
        return cliff_error_set(err, "bottom '%s' (sequence continuation) has shape %s; it must "
                               "be T x N = %dx%d as bottom '%s' (%s)",
                               cliff_bname(l, 1), cliff_tensor_shape_str(cont, s, sizeof s), T, N,
                               cliff_bname(l, 0), cliff_tensor_shape_str(x, s2, sizeof s2));
    size_t I = cliff_tensor_count_range(x, 2, x->num_axes);
    if (I == 0 || I > (1u << 30))
        return cliff_error_set(err, "bottom '%s' has %zu inputs per step", cliff_bname(l, 0), I);
    if (!at_setup && (int)I != r->I)
        return cliff_error_set(err, "bottom '%s' (%s) has %zu inputs per step; the weights "
                               "were set up for %d",
                               cliff_bname(l, 0), cliff_tensor_shape_str(x, s, sizeof s), I, r->I);
    r->T = T;
    r->N = N;
    r->I = (int)I;
    if (r->b_static >= 0) {
        const CliffTensor *xs = bottom[r->b_static];
        if (xs->num_axes < 1 || xs->shape[0] != N)
            return cliff_error_set(err, "bottom '%s' (x_static) has shape %s; its first axis "
                                   "must be N = %d streams as in bottom '%s' (%s)",
                                   cliff_bname(l, r->b_static),
                                   cliff_tensor_shape_str(xs, s, sizeof s), N, cliff_bname(l, 0),
                                   cliff_tensor_shape_str(x, s2, sizeof s2));
        size_t S = cliff_tensor_count_range(xs, 1, xs->num_axes);
        if (S == 0 || S > (1u << 30) || (!at_setup && (int)S != r->S))
            return cliff_error_set(err, "bottom '%s' (x_static) has %zu inputs per stream%s",
                                   cliff_bname(l, r->b_static), S,
                                   at_setup ? "" : "; the weights were set up for another size");
        r->S = (int)S;
    }
    if (r->b_hidden >= 0)
        for (int k = 0; k < r->nstate; k++) {
            const CliffTensor *h = bottom[r->b_hidden + k];
            if (h->num_axes != 3 || h->shape[0] != 1 || h->shape[1] != N ||
                h->shape[2] != r->H)
                return cliff_error_set(err, "bottom '%s' (initial %s state) has shape %s; it "
                                       "must be 1 x N x num_output = 1x%dx%d",
                                       cliff_bname(l, r->b_hidden + k), k ? "cell" : "hidden",
                                       cliff_tensor_shape_str(h, s, sizeof s), N, r->H);
        }
    (void)nb;
    return 0;
}

Recur *cliff_recur_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, int nt, int nstate,
                         const char *names, CliffError *err)
{
    const Cliff__RecurrentParameter *rp = cliff_recur_param(l);
    Recur *r = cliff_priv_alloc(l, sizeof(Recur), err);
    if (!r) return NULL;
    if (!rp->has_num_output || rp->num_output == 0 || rp->num_output > (1u << 24)) {
        cliff_error_set(err, "recurrent_param.num_output must be set (> 0)");
        return NULL;
    }
    r->H = (int)rp->num_output;
    r->nstate = nstate;
    r->expose = rp->expose_hidden;
    const int base = 2 + (r->expose ? nstate : 0); /* bottoms without a static input */
    if (nb < base || nb > base + 1) {
        if (r->expose)
            cliff_error_set(err, "expose_hidden needs bottoms x, cont, [x_static], %s (%d or "
                            "%d bottoms); %d given", names, base, base + 1, nb);
        else
            cliff_error_set(err, "takes bottoms x, cont and an optional x_static (2 or 3 "
                            "bottoms; the initial states %s are bottoms only with "
                            "expose_hidden); %d given", names, nb);
        return NULL;
    }
    const int tops = 1 + (r->expose ? nstate : 0);
    if (nt != tops) {
        cliff_error_set(err, "takes %d top%s (the output%s%s); %d given", tops,
                        tops > 1 ? "s" : "", r->expose ? " and the final states " : "",
                        r->expose ? (nstate == 2 ? "h_T, c_T" : "h_T") : "", nt);
        return NULL;
    }
    r->b_static = nb == base + 1 ? 2 : -1;
    r->b_hidden = r->expose ? 2 + (r->b_static >= 0) : -1;
    if (check_shapes(l, r, bottom, nb, 1, err)) return NULL;
    return r;
}

int cliff_recur_reshape(CliffLayer *l, Recur *r, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt, size_t (*scratch_floats)(const Recur *),
                        CliffError *err)
{
    const int oldN = r->N;
    if (check_shapes(l, r, bottom, nb, 0, err)) return -1;
    int shape[3] = {r->T, r->N, r->H};
    if (cliff_tensor_reshape(top[0], 3, shape, err)) return -1;
    shape[0] = 1;
    for (int k = 1; k < nt; k++)
        if (cliff_tensor_reshape(top[k], 3, shape, err)) return -1;
    const size_t states = (size_t)r->nstate * r->N * r->H;
    if (!r->carry || r->N != oldN || states > r->carry_cap) {
        if (cliff_scratch_reserve(&r->carry, &r->carry_cap, states, err)) return -1;
        free(r->init);
        r->init = malloc(states * sizeof *r->init + 1);
        if (!r->init) return cliff_error_set(err, "out of memory");
        memset(r->carry, 0, states * sizeof *r->carry);
        memset(r->init, 0, states * sizeof *r->init);
    }
    return cliff_scratch_reserve(&r->scratch, &r->scratch_cap, scratch_floats(r), err);
}

void cliff_recur_begin(Recur *r, CliffTensor *const *bottom)
{
    const size_t NH = (size_t)r->N * r->H;
    for (int k = 0; k < r->nstate; k++)
        memcpy(r->init + k * NH, r->expose ? bottom[r->b_hidden + k]->data : r->carry + k * NH,
               NH * sizeof(float));
}

void cliff_recur_end(Recur *r, const float *const *final, CliffTensor *const *top)
{
    const size_t NH = (size_t)r->N * r->H;
    for (int k = 0; k < r->nstate; k++)
        memcpy(r->expose ? top[1 + k]->data : r->carry + k * NH, final[k], NH * sizeof(float));
}

void cliff_recur_scale_rows(float *dst, const float *src, const float *cont, int N, int H)
{
    for (int n = 0; n < N; n++) {
        const float c = cont[n];
        const float *s = src + (size_t)n * H;
        float *d = dst + (size_t)n * H;
        for (int j = 0; j < H; j++) d[j] = c * s[j];
    }
}

void cliff_recur_fill_rows(float *rows, const float *b, const float *p, int T, int N, int G)
{
    for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++) {
            float *row = rows + ((size_t)t * N + n) * G;
            if (p) {
                const float *pn = p + (size_t)n * G;
                for (int j = 0; j < G; j++) row[j] = b[j] + pn[j];
            } else {
                memcpy(row, b, (size_t)G * sizeof *row);
            }
        }
}

void cliff_recur_colsum(float *db, const float *d, int M, int G)
{
    for (int m = 0; m < M; m++) {
        const float *row = d + (size_t)m * G;
        for (int j = 0; j < G; j++) db[j] += row[j];
    }
}

void cliff_recur_input_backward(CliffLayer *l, const Recur *r, const float *dpre, int W,
                                float *P, const int *propagate_down, CliffTensor *const *bottom)
{
    const int T = r->T, N = r->N, TN = T * N;
    const size_t NW = (size_t)N * W;
    const float *x = bottom[0]->data;
    if (l->param_need_grad[0])
        cliff_gemm_ex(1, 0, W, r->I, TN, 1.0f, dpre, W, x, r->I, 1.0f, l->params[0].diff, r->I);
    if (l->param_need_grad[1]) cliff_recur_colsum(l->params[1].diff, dpre, TN, W);
    if (r->b_static >= 0 && (l->param_need_grad[2] || propagate_down[r->b_static])) {
        memset(P, 0, NW * sizeof(float)); /* sum over t of dpre_t */
        for (int t = 0; t < T; t++) cliff_recur_colsum(P, dpre + t * NW, 1, (int)NW);
        const float *xs = bottom[r->b_static]->data;
        if (l->param_need_grad[2])
            cliff_gemm_ex(1, 0, W, r->S, N, 1.0f, P, W, xs, r->S, 1.0f, l->params[2].diff, r->S);
        if (propagate_down[r->b_static])
            cliff_gemm_ex(0, 0, N, r->S, W, 1.0f, P, W, l->params[2].data, r->S, 0.0f,
                          bottom[r->b_static]->diff, r->S);
    }
    if (propagate_down[0])
        cliff_gemm_ex(0, 0, TN, r->I, W, 1.0f, dpre, W, l->params[0].data, r->I, 0.0f,
                      bottom[0]->diff, r->I);
    if (propagate_down[1]) /* sequence indicators: no gradient */
        memset(bottom[1]->diff, 0, bottom[1]->count * sizeof(float));
}

size_t cliff_recur_workspace_bytes(const Recur *r)
{
    return r ? (r->scratch_cap + 2 * r->carry_cap) * sizeof(float) : 0;
}

void cliff_recur_destroy(CliffLayer *l)
{
    Recur *r = l->priv;
    if (r) {
        free(r->carry);
        free(r->init);
        free(r->scratch);
    }
    free(r);
    l->priv = NULL;
}

/* State words: nstate, N, H, then nstate x N x H floats, one float's bits
 * per word (exact). Nothing is carried with expose_hidden. */
size_t cliff_recur_state_size(const CliffLayer *l)
{
    const Recur *r = l->priv;
    if (!r || r->expose || !r->carry) return 0;
    return 3 + (size_t)r->nstate * r->N * r->H;
}

void cliff_recur_state_save(const CliffLayer *l, int64_t *out)
{
    const Recur *r = l->priv;
    const size_t n = (size_t)r->nstate * r->N * r->H;
    out[0] = r->nstate;
    out[1] = r->N;
    out[2] = r->H;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &r->carry[i], sizeof bits);
        out[3 + i] = (int64_t)bits;
    }
}

int cliff_recur_state_load(CliffLayer *l, const int64_t *in, size_t n, CliffError *err)
{
    Recur *r = l->priv;
    const size_t want = cliff_recur_state_size(l);
    if (n != want || n < 3 || in[0] != r->nstate || in[1] != r->N || in[2] != r->H)
        return cliff_error_set(err, "the saved recurrent state (%lld x %lld streams x %lld, %zu "
                               "words) does not match this layer's (%d x %d streams x %d): "
                               "num_output, expose_hidden or the batch changed",
                               n >= 3 ? (long long)in[0] : -1LL, n >= 3 ? (long long)in[1] : -1LL,
                               n >= 3 ? (long long)in[2] : -1LL, n, r->nstate, r->N, r->H);
    for (size_t i = 3; i < n; i++)
        if (in[i] < 0 || in[i] > (int64_t)UINT32_MAX)
            return cliff_error_set(err, "the saved recurrent state is corrupt (word %zu)", i);
    for (size_t i = 3; i < n; i++) {
        uint32_t bits = (uint32_t)in[i];
        memcpy(&r->carry[i - 3], &bits, sizeof bits);
    }
    return 0;
}
