/* PReLU (Caffe's PReLULayer): y = x for x > 0, a_c x otherwise, with a learned
 * slope a_c per channel (axis 1) or one shared slope (channel_shared).
 *
 * bottom: N x C x ... (at least 2 axes); top: same shape.
 * param 0: slopes, shape [C] or a scalar when channel_shared; filler default
 *          constant 0.25.
 * Gradients: da_c += sum dy x over x <= 0;  dx = dy (x > 0 ? 1 : a_c).
 * In place: forward keeps a copy of x (buffer sized in reshape) because the
 * slope gradient needs x itself.
 */
#include <stdlib.h>
#include <string.h>

#include "filler.h"
#include "layer.h"

typedef struct PReLUState {
    int channels;      /* C, fixed at setup (the slope blob's size) */
    int shared;        /* one slope for all channels */
    CliffTensor saved; /* x when in place */
} PReLUState;

static int is_in_place(CliffTensor *const *bottom, CliffTensor *const *top)
{
    return top[0] == bottom[0] || (top[0]->data && top[0]->data == bottom[0]->data);
}

static int prelu_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                       int nt, CliffError *err)
{
    (void)nb, (void)top, (void)nt;
    const Cliff__PReLUParameter *p = l->param->prelu_param;
    if (bottom[0]->num_axes < 2)
        return cliff_error_set(err, "PReLU needs a bottom with at least 2 axes (N x C x ...)");
    int channels = bottom[0]->shape[1], shared = p && p->channel_shared;
    const Cliff__FillerParameter *filler = p ? p->filler : NULL;
    int naxes = shared ? 0 : 1;
    if (cliff_filler_validate(filler, naxes, &channels, err) ||
        cliff_layer_declare_param(l, naxes, &channels, filler, 0.25f, 1, err))
        return -1;
    PReLUState *s = calloc(1, sizeof *s);
    if (!s) return cliff_error_set(err, "out of memory");
    cliff_tensor_init(&s->saved);
    s->channels = channels;
    s->shared = shared;
    l->priv = s;
    return 0;
}

static int prelu_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)nt;
    PReLUState *s = l->priv;
    char buf[128];
    if (bottom[0]->num_axes < 2 || bottom[0]->shape[1] != s->channels)
        return cliff_error_set(err, "PReLU bottom %s must keep the %d channels it was set up with",
                               cliff_tensor_shape_str(bottom[0], buf, sizeof buf), s->channels);
    if (top[0] != bottom[0] && cliff_tensor_reshape_like(top[0], bottom[0], err)) return -1;
    if (is_in_place(bottom, top) && cliff_tensor_reshape_like(&s->saved, bottom[0], err))
        return -1;
    return 0;
}

static void prelu_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                          CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    PReLUState *s = l->priv;
    const float *slope = l->params[0].data;
    const float *x = bottom[0]->data;
    float *y = top[0]->data;
    size_t count = bottom[0]->count, C = (size_t)s->channels;
    size_t dim = cliff_tensor_count_range(bottom[0], 2, bottom[0]->num_axes);
    size_t outer = C && dim ? count / (C * dim) : 0;
    if (is_in_place(bottom, top)) memcpy(s->saved.data, x, count * sizeof(float));
    for (size_t n = 0; n < outer; n++)
        for (size_t c = 0; c < C; c++) {
            const float a = slope[s->shared ? 0 : c];
            const float *xc = x + (n * C + c) * dim;
            float *yc = y + (n * C + c) * dim;
            for (size_t k = 0; k < dim; k++) yc[k] = xc[k] > 0.0f ? xc[k] : a * xc[k];
        }
}

static void prelu_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                           const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt, (void)nb;
    PReLUState *s = l->priv;
    const float *slope = l->params[0].data;
    const float *x = is_in_place(bottom, top) ? s->saved.data : bottom[0]->data;
    const float *dy = top[0]->diff;
    float *dx = bottom[0]->diff;
    size_t count = bottom[0]->count, C = (size_t)s->channels;
    size_t dim = cliff_tensor_count_range(bottom[0], 2, bottom[0]->num_axes);
    size_t outer = C && dim ? count / (C * dim) : 0;
    /* The slope gradient first: in place, dx overwrites dy. */
    if (l->param_need_grad[0]) {
        float *da = l->params[0].diff;
        for (size_t c = 0; c < C; c++) {
            double acc = 0;
            for (size_t n = 0; n < outer; n++) {
                const float *xc = x + (n * C + c) * dim, *gc = dy + (n * C + c) * dim;
                for (size_t k = 0; k < dim; k++)
                    if (xc[k] <= 0.0f) acc += (double)gc[k] * xc[k];
            }
            da[s->shared ? 0 : c] += (float)acc;
        }
    }
    if (propagate_down[0]) {
        for (size_t n = 0; n < outer; n++)
            for (size_t c = 0; c < C; c++) {
                const float a = slope[s->shared ? 0 : c];
                size_t off = (n * C + c) * dim;
                for (size_t k = 0; k < dim; k++)
                    dx[off + k] = dy[off + k] * (x[off + k] > 0.0f ? 1.0f : a);
            }
    }
}

static void prelu_destroy(CliffLayer *l)
{
    PReLUState *s = l->priv;
    if (!s) return;
    cliff_tensor_free(&s->saved);
    free(s);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_PReLU = {
    .type = "PReLU",
    .min_bottoms = 1, .max_bottoms = 1, .min_tops = 1, .max_tops = 1,
    .allow_in_place = 1,
    .setup = prelu_setup,
    .reshape = prelu_reshape,
    .forward = prelu_forward,
    .backward = prelu_backward,
    .destroy = prelu_destroy,
};
