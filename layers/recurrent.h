/* What RNN and LSTM (rnn.c, lstm.c) share: reading recurrent_param, the
 * bottom and top layout and its shape checks, the carried state (truncated
 * BPTT) and its snapshot words.
 *
 * Bottoms, in Caffe's order:
 *   x         T x N x ...   (I = product of the axes after the second)
 *   cont      T x N         cont[t][n] multiplies the state carried into step
 *                           t of stream n: 0 starts a new sequence there; any
 *                           other value is multiplied in, as Caffe does
 *   x_static  N x ...       optional (S = product of the axes after the first)
 *   h_0 [, c_0]  1 x N x H  only with expose_hidden: the initial states
 * Tops: the output (T x N x H), then with expose_hidden the final states
 * h_T [, c_T] (1 x N x H each).
 *
 * Carried state: without expose_hidden, a forward starts from the final
 * states of the previous forward (zeros at first, and again whenever N
 * changes), as Caffe's RecurrentLayer does; no gradient flows into the
 * previous batch. Those states are the layer's snapshot state (state_save),
 * so a resumed run continues bit for bit.
 *
 * Gradients beyond Caffe: with expose_hidden, the gradients of h_T, c_T tops
 * flow in and h_0, c_0 bottoms get theirs (Caffe shares only the data of
 * these blobs, so its gradients stop there). */
#ifndef CLIFF_RECURRENT_H
#define CLIFF_RECURRENT_H

#include "layer.h"

typedef struct Recur {
    int T, N, I, S, H; /* steps, streams, input size, static size (0: none), hidden size */
    int nstate;        /* carried states: 1 (RNN: h) or 2 (LSTM: h, c) */
    int expose;        /* recurrent_param.expose_hidden */
    int b_static;      /* bottom index of x_static, -1 without one */
    int b_hidden;      /* bottom index of h_0 with expose_hidden, -1 without */
    float *carry;      /* nstate x N x H: final states of the last forward */
    float *init;       /* nstate x N x H: initial states the last forward used */
    size_t carry_cap;
    float *scratch;    /* the layer's per-batch buffers, sized at reshape */
    size_t scratch_cap;
} Recur;

/* Reads recurrent_param, checks the bottom and top counts and shapes, fills
 * r (nstate given by the layer) and allocates it as l->priv. `names` names
 * the states in messages ("h_0" or "h_0, c_0"). */
Recur *cliff_recur_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, int nt, int nstate,
                         const char *names, CliffError *err);

/* Re-checks the shapes (they may change between reshapes: T and N may, I and
 * S may not), shapes the tops, sizes the carried state (zeroed when N
 * changed) and the scratch to `scratch_floats(T, N)` floats. */
int cliff_recur_reshape(CliffLayer *l, Recur *r, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt, size_t (*scratch_floats)(const Recur *),
                        CliffError *err);

/* The filler of the hidden-to-hidden weights (recurrent_weight_filler, else
 * weight_filler). */
const Cliff__FillerParameter *cliff_recur_hh_filler(const CliffLayer *l);
const Cliff__RecurrentParameter *cliff_recur_param(const CliffLayer *l);

/* Start of a forward: copies the initial states (exposed bottoms, or the
 * carried states) into r->init. End of a forward: stores the final states
 * (state k at final[k], N x H each) as the carry, or into the exposed tops. */
void cliff_recur_begin(Recur *r, CliffTensor *const *bottom);
void cliff_recur_end(Recur *r, const float *const *final, CliffTensor *const *top);

/* dst[n][:] = cont[n] * src[n][:] for N rows of H. */
void cliff_recur_scale_rows(float *dst, const float *src, const float *cont, int N, int H);
/* rows[m][:] = b[:] (+ p[m % N][:] when p) for T*N rows of width G. */
void cliff_recur_fill_rows(float *rows, const float *b, const float *p, int T, int N, int G);
/* db[:] += column sums of the M x G matrix d. */
void cliff_recur_colsum(float *db, const float *d, int M, int G);

/* The input side of a backward, the same for RNN and LSTM: dpre (T*N x W) is
 * the gradient at the pre-activations W_x x + b (+ W_s x_static), W the
 * width (H for RNN, 4H for LSTM). Accumulates the gradients of parameters 0
 * (W_x), 1 (b) and 2 (W_s, with a static input) when they need one, writes
 * dx and dx_static when propagated, zeroes cont's. P: N x W scratch. */
void cliff_recur_input_backward(CliffLayer *l, const Recur *r, const float *dpre, int W,
                                float *P, const int *propagate_down, CliffTensor *const *bottom);

/* p rounded up to 64 bytes (the scratch reserves 16 floats for it). */
static inline float *cliff_recur_align64(float *p)
{
    return (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}
/* Bytes of the scratch, the carried and the initial states (for --dry-run). */
size_t cliff_recur_workspace_bytes(const Recur *r);

void cliff_recur_destroy(CliffLayer *l);
size_t cliff_recur_state_size(const CliffLayer *l);
void cliff_recur_state_save(const CliffLayer *l, int64_t *out);
int cliff_recur_state_load(CliffLayer *l, const int64_t *in, size_t n, CliffError *err);

#endif
