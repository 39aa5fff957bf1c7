/* InnerProduct (Caffe's InnerProductLayer): a fully connected layer.
 *
 * bottom is viewed as M x K with M = product of the axes before `axis` and
 * K = product of the rest; top is (axes before axis) x N.
 * weight: N x K (or K x N with transpose: true), bias: N.
 *   forward   top[M x N] = bottom * W^T (+ 1 * bias^T)   [transpose: bottom * W]
 *   backward  dW[N x K] += dtop^T * bottom               [transpose: dW[K x N] += bottom^T * dtop]
 *             dbias[N]  += column sums of dtop
 *             dbottom   = dtop * W                       [transpose: dtop * W^T]
 *
 * Every product runs on the matrix engine (gemm.h), which picks its own
 * blocking for the shapes (a few rows against a wide W^T run as top^T = W *
 * bottom^T, W read in place): no scratch, no transposes here.
 */
#include <string.h>

#include "layers/kernels/gemm.h"
#include "vision_util.h"

typedef struct Ip {
    int axis, N, K, M;
    int bias, transpose;
} Ip;

static const Cliff__InnerProductParameter ip_defaults = CLIFF__INNER_PRODUCT_PARAMETER__INIT;

static int ip_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                    int nt, CliffError *err)
{
    (void)nb, (void)top, (void)nt;
    const Cliff__InnerProductParameter *ip =
        l->param && l->param->inner_product_param ? l->param->inner_product_param : &ip_defaults;
    Ip *p = cliff_priv_alloc(l, sizeof(Ip), err);
    if (!p) return -1;
    if (!ip->has_num_output || ip->num_output == 0)
        return cliff_error_set(err, "inner_product_param.num_output must be set (> 0)");
    if (cliff_param_int(ip->num_output, "inner_product_param.num_output", &p->N, err)) return -1;
    p->bias = ip->bias_term;
    p->transpose = ip->transpose;
    p->axis = cliff_canon_axis(l, bottom[0], 0, ip->axis, "inner_product_param.axis", err);
    if (p->axis < 0) return -1;
    size_t K = cliff_tensor_count_range(bottom[0], p->axis, bottom[0]->num_axes);
    if (K == 0 || K > (1u << 30))
        return cliff_error_set(err, "bottom '%s' has %zu inputs per row", cliff_bname(l, 0), K);
    p->K = (int)K;
    int wshape[2] = {p->transpose ? p->K : p->N, p->transpose ? p->N : p->K};
    if (cliff_layer_declare_param(l, 2, wshape, ip->weight_filler, 0.0f, 1, err)) return -1;
    if (p->bias && cliff_layer_declare_param(l, 1, &p->N, ip->bias_filler, 0.0f, 1, err))
        return -1;
    return 0;
}

static int ip_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                      CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)nt;
    Ip *p = l->priv;
    const CliffTensor *b = bottom[0];
    char s[128];
    if (p->axis >= b->num_axes ||
        cliff_tensor_count_range(b, p->axis, b->num_axes) != (size_t)p->K)
        return cliff_error_set(err, "bottom '%s' of shape %s has %zu inputs per row from axis "
                                    "%d; the weights were set up for %d",
                               cliff_bname(l, 0), cliff_tensor_shape_str(b, s, sizeof s),
                               p->axis < b->num_axes
                                   ? cliff_tensor_count_range(b, p->axis, b->num_axes)
                                   : 0,
                               p->axis, p->K);
    p->M = (int)cliff_tensor_count_range(b, 0, p->axis);
    int shape[CLIFF_MAX_AXES];
    for (int i = 0; i < p->axis; i++) shape[i] = b->shape[i];
    shape[p->axis] = p->N;
    return cliff_tensor_reshape(top[0], p->axis + 1, shape, err);
}

static void ip_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    const Ip *p = l->priv;
    const int M = p->M, N = p->N, K = p->K;
    float *y = top[0]->data;
    float beta = 0.0f;
    if (p->bias) { /* rows start as the bias, the product adds on top */
        const float *b = l->params[1].data;
        for (int m = 0; m < M; m++) memcpy(y + (size_t)m * N, b, (size_t)N * sizeof *y);
        beta = 1.0f;
    }
    /* W is N x K (op = W^T), or K x N with transpose */
    cliff_gemm_ex(0, !p->transpose, M, N, K, 1.0f, bottom[0]->data, K, l->params[0].data,
                  p->transpose ? N : K, beta, y, N);
}

static void ip_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                        const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt, (void)nb;
    const Ip *p = l->priv;
    const int M = p->M, N = p->N, K = p->K;
    const float *dy = top[0]->diff, *x = bottom[0]->data;
    if (l->param_need_grad[0]) {
        if (p->transpose) /* dW[K x N] += x^T dy */
            cliff_gemm_ex(1, 0, K, N, M, 1.0f, x, K, dy, N, 1.0f, l->params[0].diff, N);
        else /* dW[N x K] += dy^T x */
            cliff_gemm_ex(1, 0, N, K, M, 1.0f, dy, N, x, K, 1.0f, l->params[0].diff, K);
    }
    if (p->bias && l->param_need_grad[1]) {
        float *db = l->params[1].diff;
        for (int m = 0; m < M; m++) {
            const float *row = dy + (size_t)m * N;
            for (int n = 0; n < N; n++) db[n] += row[n];
        }
    }
    if (propagate_down[0]) /* dx[M x K] = dy W (W^T with transpose) */
        cliff_gemm_ex(0, p->transpose, M, K, N, 1.0f, dy, N, l->params[0].data,
                      p->transpose ? N : K, 0.0f, bottom[0]->diff, K);
}

static void ip_destroy(CliffLayer *l)
{
    free(l->priv);
    l->priv = NULL;
}

static double ip_flops(const CliffLayer *l)
{
    const Ip *p = l->priv;
    return p ? (double)p->M * p->N * p->K : 0;
}

const CliffLayerOps cliff_ops_InnerProduct = {
    .type = "InnerProduct",
    .min_bottoms = 1,
    .max_bottoms = 1,
    .min_tops = 1,
    .max_tops = 1,
    .setup = ip_setup,
    .reshape = ip_reshape,
    .forward = ip_forward,
    .backward = ip_backward,
    .destroy = ip_destroy,
    .forward_flops = ip_flops,
};
