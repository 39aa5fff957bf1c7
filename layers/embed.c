/* Embed (Caffe's EmbedLayer): a lookup table. bottom holds integer indices in
 * [0, input_dim) (any shape); top has the bottom's shape plus a last axis of
 * num_output. weight: input_dim x num_output, bias: num_output.
 *   top[i, :] = W[idx_i, :] + bias
 *   backward: dW[idx_i, :] += dtop[i, :], dbias += sum_i dtop[i, :];
 *   the indices' gradient is zero (written when asked for).
 * Indices are checked before each forward (labels.h): data can bring a bad
 * one in any batch, not just the first. forward writes only the bias for an
 * index outside the table (a memory guard for callers that skip the check). */
#include <string.h>

#include "labels.h"
#include "vision_util.h"

typedef struct Embed {
    int N, K; /* num_output, input_dim */
    int bias;
} Embed;

static const Cliff__EmbedParameter embed_defaults = CLIFF__EMBED_PARAMETER__INIT;

static int embed_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)top, (void)nt;
    const Cliff__EmbedParameter *ep =
        l->param && l->param->embed_param ? l->param->embed_param : &embed_defaults;
    Embed *p = cliff_priv_alloc(l, sizeof(Embed), err);
    if (!p) return -1;
    if (!ep->has_num_output || ep->num_output == 0 || ep->num_output > (1u << 30))
        return cliff_error_set(err, "embed_param.num_output must be set (> 0)");
    if (!ep->has_input_dim || ep->input_dim == 0 || ep->input_dim > (1u << 30))
        return cliff_error_set(err, "embed_param.input_dim must be set (> 0)");
    p->N = (int)ep->num_output;
    p->K = (int)ep->input_dim;
    p->bias = ep->bias_term;
    int wshape[2] = {p->K, p->N};
    if (cliff_layer_declare_param(l, 2, wshape, ep->weight_filler, 0.0f, 1, err)) return -1;
    if (p->bias && cliff_layer_declare_param(l, 1, &p->N, ep->bias_filler, 0.0f, 1, err))
        return -1;
    return 0;
}

static int embed_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)nt;
    const Embed *p = l->priv;
    const CliffTensor *b = bottom[0];
    if (b->num_axes + 1 > CLIFF_MAX_AXES)
        return cliff_error_set(err, "bottom '%s' has too many axes", cliff_bname(l, 0));
    int shape[CLIFF_MAX_AXES];
    memcpy(shape, b->shape, sizeof(int) * (size_t)b->num_axes);
    shape[b->num_axes] = p->N;
    return cliff_tensor_reshape(top[0], b->num_axes + 1, shape, err);
}

static int embed_check(const CliffLayer *l, CliffTensor *const *bottom, int nb, CliffError *err)
{
    (void)nb;
    const Embed *p = l->priv;
    return cliff_index_check(l, bottom, 0, p->K, NULL, "index", err);
}

static void embed_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                          CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    const Embed *p = l->priv;
    const float *w = l->params[0].data, *bias = p->bias ? l->params[1].data : NULL;
    const size_t N = (size_t)p->N;
    for (size_t i = 0; i < bottom[0]->count; i++) {
        float v = bottom[0]->data[i];
        float *y = top[0]->data + i * N;
        if (v >= 0 && v < (float)p->K)
            memcpy(y, w + (size_t)v * N, N * sizeof *y);
        else
            memset(y, 0, N * sizeof *y);
        if (bias)
            for (size_t j = 0; j < N; j++) y[j] += bias[j];
    }
}

static void embed_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                           const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt, (void)nb;
    const Embed *p = l->priv;
    if (propagate_down[0]) /* indices: zero gradient */
        memset(bottom[0]->diff, 0, bottom[0]->count * sizeof(float));
    const size_t N = (size_t)p->N;
    const float *dy = top[0]->diff;
    if (l->param_need_grad[0]) {
        float *dw = l->params[0].diff;
        for (size_t i = 0; i < bottom[0]->count; i++) {
            float v = bottom[0]->data[i];
            if (!(v >= 0 && v < (float)p->K)) continue;
            float *d = dw + (size_t)v * N;
            for (size_t j = 0; j < N; j++) d[j] += dy[i * N + j];
        }
    }
    if (p->bias && l->param_need_grad[1]) {
        float *db = l->params[1].diff;
        for (size_t i = 0; i < bottom[0]->count; i++)
            for (size_t j = 0; j < N; j++) db[j] += dy[i * N + j];
    }
}

static void embed_destroy(CliffLayer *l)
{
    free(l->priv);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_Embed = {
    .type = "Embed",
    .min_bottoms = 1,
    .max_bottoms = 1,
    .min_tops = 1,
    .max_tops = 1,
    .label_bottoms = 1u << 0, /* the indices */
    .setup = embed_setup,
    .reshape = embed_reshape,
    .check_bottoms = embed_check,
    .forward = embed_forward,
    .backward = embed_backward,
    .destroy = embed_destroy,
};
