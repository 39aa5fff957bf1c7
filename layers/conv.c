/* Convolution and Deconvolution (Caffe's ConvolutionLayer / DeconvolutionLayer).
 *
 * Bottom: (outer...) x C x H x W with the channel axis at convolution_param.axis;
 * every outer index ("num", the product of the axes before it) is an independent
 * image. Several bottoms may be given; each gets its own top and the same
 * weights (Caffe's semantics).
 *
 * Convolution: weight M x (C/G) x kh x kw, bias M; top (outer...) x M x oh x ow.
 *   forward: im2col of all num images into col [C*kh*kw] x [num*oh*ow], ONE gemm
 *   per group  out_g[M/G x num*ohw] = W_g[M/G x K] * col_g[K x num*ohw]
 *   (K = C/G*kh*kw), then a reorder to num x M x ohw with the bias fused.
 *   The column buffer of each bottom is kept for backward (the net calls
 *   backward after forward on unchanged bottoms, as Caffe does); backward
 *   then reuses it for the column gradient (one buffer less to keep in cache)
 *   and marks it stale, so a second backward without a forward redoes im2col.
 * Deconvolution: the transpose. Weight C x (M/G) x kh x kw, bias M;
 *   top (outer...) x M x OH x OW with OH = stride*(H-1) + dil*(kh-1) + 1 - 2*pad.
 *   forward: col_g[M/G*kh*kw x num*HW] = W_g^T * x_g, col2im onto the top.
 *
 * With num == 1 the channel-major layout equals NCHW and the reorders are
 * skipped.
 *
 * Convolutions with stride_h = dilation_h = 1 on a CPU with AVX-512 take the
 * shifted-row path of conv_fast.h instead (no column buffer, no reorders,
 * output straight in NCHW); reshape decides, per geometry.
 */
#include <string.h>

#include "layers/kernels/blas.h"
#include "layers/kernels/conv_fast.h"
#include "layers/kernels/im2col.h"
#include "vision_util.h"

typedef struct Conv {
    int deconv;
    CliffConvGeom g;   /* im2col geometry: image = bottom (conv) or top (deconv) */
    int axis;          /* channel axis */
    int num;           /* images: product of the axes before the channel axis */
    int channels;      /* C of the bottom */
    int num_output;    /* M */
    int group;
    int bias;          /* has a bias blob (index 1) */
    size_t col_size;   /* floats of one column buffer */
    float *col;        /* conv: one cached column buffer per bottom; deconv: one */
    size_t col_cap;
    int *col_valid;    /* conv: per bottom, col holds im2col of the bottom */
    int ncol_valid;
    float *cm;         /* channel-major scratch: [M or C] x [num*plane] */
    size_t cm_cap;
    int fast;          /* conv: this geometry runs on conv_fast (fp) */
    CliffConvFastPlan fp;
} Conv;

static const Cliff__ConvolutionParameter conv_defaults = CLIFF__CONVOLUTION_PARAMETER__INIT;

static const Cliff__ConvolutionParameter *conv_param(const CliffLayer *l)
{
    return l->param && l->param->convolution_param ? l->param->convolution_param
                                                   : &conv_defaults;
}

static int conv_setup_common(CliffLayer *l, CliffTensor *const *bottom, int nb, int nt,
                             int deconv, CliffError *err)
{
    const Cliff__ConvolutionParameter *cp = conv_param(l);
    if (nb != nt)
        return cliff_error_set(err, "needs as many tops as bottoms (%d bottoms, %d tops)", nb,
                               nt);
    Conv *p = cliff_priv_alloc(l, sizeof(Conv), err);
    if (!p) return -1;
    p->deconv = deconv;
    const CliffTensor *b0 = bottom[0];
    p->axis = cliff_canon_axis(l, b0, 0, cp->axis, "convolution axis", err);
    if (p->axis < 0) return -1;
    char s[128];
    int num_spatial = b0->num_axes - p->axis - 1;
    if (num_spatial != 2)
        return cliff_error_set(err,
                               "bottom '%s' of shape %s has %d spatial axes after channel axis "
                               "%d; only 2-D (N x C x H x W) convolution is supported",
                               cliff_bname(l, 0), cliff_tensor_shape_str(b0, s, sizeof s),
                               num_spatial, p->axis);
    if (cliff_conv_geom_read(cp, num_spatial, &p->g, err)) return -1;
    if (!cp->has_num_output || cp->num_output == 0)
        return cliff_error_set(err, "convolution_param.num_output must be set (> 0)");
    if (cp->group == 0) return cliff_error_set(err, "convolution_param.group must be > 0");
    if (cliff_param_int(cp->num_output, "convolution_param.num_output", &p->num_output, err) ||
        cliff_param_int(cp->group, "convolution_param.group", &p->group, err))
        return -1;
    p->channels = b0->shape[p->axis];
    if (p->channels % p->group)
        return cliff_error_set(err, "bottom '%s' has %d channels, not divisible by group %d",
                               cliff_bname(l, 0), p->channels, p->group);
    if (p->num_output % p->group)
        return cliff_error_set(err, "num_output %d is not divisible by group %d",
                               p->num_output, p->group);
    p->bias = cp->bias_term;
    int wshape[4] = {deconv ? p->channels : p->num_output,
                     (deconv ? p->num_output : p->channels) / p->group, p->g.kernel_h,
                     p->g.kernel_w};
    if (cliff_layer_declare_param(l, 4, wshape, cp->weight_filler, 0.0f, 1, err)) return -1;
    if (p->bias && cliff_layer_declare_param(l, 1, &p->num_output, cp->bias_filler, 0.0f, 1, err))
        return -1;
    return 0;
}

static int conv_reshape_common(CliffLayer *l, CliffTensor *const *bottom, int nb,
                               CliffTensor *const *top, CliffError *err)
{
    Conv *p = l->priv;
    const CliffTensor *b0 = bottom[0];
    char s[128], s2[128];
    if (b0->num_axes != p->axis + 3 || b0->shape[p->axis] != p->channels)
        return cliff_error_set(err,
                               "bottom '%s' changed to shape %s; the layer was set up for %d "
                               "channels at axis %d and 2 spatial axes",
                               cliff_bname(l, 0), cliff_tensor_shape_str(b0, s, sizeof s),
                               p->channels, p->axis);
    for (int i = 1; i < nb; i++)
        if (!cliff_tensor_same_shape(bottom[i], b0))
            return cliff_error_set(err, "all bottoms must have the same shape: '%s' is %s, '%s' is %s",
                                   cliff_bname(l, 0), cliff_tensor_shape_str(b0, s, sizeof s),
                                   cliff_bname(l, i),
                                   cliff_tensor_shape_str(bottom[i], s2, sizeof s2));
    p->num = (int)cliff_tensor_count_range(b0, 0, p->axis);
    const int H = b0->shape[p->axis + 1], W = b0->shape[p->axis + 2];
    CliffConvGeom *g = &p->g;
    int out_h, out_w;
    if (!p->deconv) {
        g->channels = p->channels;
        g->height = H;
        g->width = W;
        if (cliff_conv_geom_output(g, err))
            return cliff_error_prefix(err, "bottom '%s' (%s): ", cliff_bname(l, 0),
                                      cliff_tensor_shape_str(b0, s, sizeof s));
        out_h = g->out_h;
        out_w = g->out_w;
    } else {
        long oh = (long)g->stride_h * (H - 1) + (long)g->dilation_h * (g->kernel_h - 1) + 1 -
                  2L * g->pad_h;
        long ow = (long)g->stride_w * (W - 1) + (long)g->dilation_w * (g->kernel_w - 1) + 1 -
                  2L * g->pad_w;
        if (oh <= 0 || ow <= 0 || H <= 0 || W <= 0)
            return cliff_error_set(err,
                                   "deconvolution of bottom '%s' (%dx%d) with kernel %dx%d, "
                                   "stride %dx%d, pad %dx%d gives an empty output %ldx%ld",
                                   cliff_bname(l, 0), H, W, g->kernel_h, g->kernel_w,
                                   g->stride_h, g->stride_w, g->pad_h, g->pad_w, oh, ow);
        g->channels = p->num_output;
        g->height = (int)oh;
        g->width = (int)ow;
        g->out_h = H;
        g->out_w = W;
        out_h = (int)oh;
        out_w = (int)ow;
    }
    int shape[CLIFF_MAX_AXES];
    for (int i = 0; i < p->axis; i++) shape[i] = b0->shape[i];
    shape[p->axis] = p->num_output;
    shape[p->axis + 1] = out_h;
    shape[p->axis + 2] = out_w;
    for (int t = 0; t < nb; t++)
        if (cliff_tensor_reshape(top[t], p->axis + 3, shape, err)) return -1;

    p->col_size = (size_t)g->channels * g->kernel_h * g->kernel_w * (size_t)p->num *
                  (size_t)g->out_h * g->out_w;
    p->fast = !p->deconv && cliff_conv_fast_usable(g);
    if (p->fast) /* no column buffer, no channel-major scratch */
        return cliff_conv_fast_plan(&p->fp, g, p->group, p->num_output, p->num, err);
    size_t cm_rows = p->deconv ? (size_t)p->channels : (size_t)p->num_output;
    size_t plane = p->deconv ? (size_t)H * W : (size_t)out_h * out_w;
    if (cliff_scratch_reserve(&p->col, &p->col_cap, p->col_size * (p->deconv ? 1 : nb), err) ||
        cliff_scratch_reserve(&p->cm, &p->cm_cap, cm_rows * p->num * plane, err))
        return -1;
    if (!p->deconv && nb > p->ncol_valid) {
        int *v = realloc(p->col_valid, (size_t)nb * sizeof *v);
        if (!v) return cliff_error_set(err, "out of memory");
        p->col_valid = v;
        p->ncol_valid = nb;
    }
    if (!p->deconv)
        for (int b = 0; b < nb; b++) p->col_valid[b] = 0;
    return 0;
}

static void conv_destroy(CliffLayer *l)
{
    Conv *p = l->priv;
    if (!p) return;
    free(p->col);
    free(p->col_valid);
    free(p->cm);
    cliff_conv_fast_plan_free(&p->fp);
    free(p);
    l->priv = NULL;
}

static double conv_flops(const CliffLayer *l)
{
    const Conv *p = l->priv;
    if (!p) return 0;
    /* multiply-adds: every column entry meets M/G (conv) or C/G (deconv) weights */
    double per = p->deconv ? (double)p->channels / p->group : (double)p->num_output / p->group;
    return per * (double)p->col_size;
}

/* ---- Convolution ---- */

static int conv_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, CliffError *err)
{
    (void)top;
    return conv_setup_common(l, bottom, nb, nt, 0, err);
}

static int conv_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nt;
    return conv_reshape_common(l, bottom, nb, top, err);
}

static void conv_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt)
{
    (void)nt;
    Conv *p = l->priv;
    const CliffConvGeom *g = &p->g;
    const int G = p->group, M = p->num_output, Mg = M / G;
    const int K = p->channels / G * g->kernel_h * g->kernel_w;
    const int plane = g->out_h * g->out_w, P = p->num * plane;
    const float *w = l->params[0].data, *bias = p->bias ? l->params[1].data : NULL;
    if (p->fast) {
        for (int b = 0; b < nb; b++)
            cliff_conv_fast_forward(&p->fp, bottom[b]->data, w, bias, top[b]->data);
        return;
    }
    for (int b = 0; b < nb; b++) {
        float *col = p->col + (size_t)b * p->col_size;
        cliff_im2col(bottom[b]->data, p->num, g, col);
        p->col_valid[b] = 1;
        float *out = p->num == 1 ? top[b]->data : p->cm; /* [M] x [P] */
        for (int gi = 0; gi < G; gi++)
            cliff_gemm(0, 0, Mg, P, K, 1.0f, w + (size_t)gi * Mg * K, col + (size_t)gi * K * P,
                       0.0f, out + (size_t)gi * Mg * P);
        if (p->num == 1) {
            if (bias)
                for (int m = 0; m < M; m++) {
                    float *row = out + (size_t)m * plane;
                    for (int i = 0; i < plane; i++) row[i] += bias[m];
                }
        } else {
            cliff_cm_to_nchw(p->cm, p->num, M, plane, bias, top[b]->data);
        }
    }
}

static void conv_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                          const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt;
    Conv *p = l->priv;
    const CliffConvGeom *g = &p->g;
    const int G = p->group, M = p->num_output, Mg = M / G;
    const int K = p->channels / G * g->kernel_h * g->kernel_w;
    const int plane = g->out_h * g->out_w, P = p->num * plane;
    const float *w = l->params[0].data;
    float *dw = l->param_need_grad[0] ? l->params[0].diff : NULL;
    float *db = p->bias && l->param_need_grad[1] ? l->params[1].diff : NULL;
    if (p->fast) {
        for (int b = 0; b < nb; b++)
            cliff_conv_fast_backward(&p->fp, bottom[b]->data, w, top[b]->diff, dw, db,
                                     propagate_down[b] ? bottom[b]->diff : NULL);
        return;
    }
    for (int b = 0; b < nb; b++) {
        if (!dw && !db && !propagate_down[b]) continue;
        float *col = p->col + (size_t)b * p->col_size;
        if (!p->col_valid[b]) { /* a previous backward reused it */
            cliff_im2col(bottom[b]->data, p->num, g, col);
            p->col_valid[b] = 1;
        }
        const float *dy; /* [M] x [P] */
        if (p->num == 1) {
            dy = top[b]->diff;
            if (db)
                for (int m = 0; m < M; m++) {
                    double acc = 0;
                    for (int i = 0; i < plane; i++) acc += dy[(size_t)m * plane + i];
                    db[m] += (float)acc;
                }
        } else {
            cliff_nchw_to_cm(top[b]->diff, p->num, M, plane, p->cm, db);
            dy = p->cm;
        }
        if (dw)
            for (int gi = 0; gi < G; gi++)
                cliff_gemm(0, 1, Mg, K, P, 1.0f, dy + (size_t)gi * Mg * P,
                           col + (size_t)gi * K * P, 1.0f, dw + (size_t)gi * Mg * K);
        if (propagate_down[b]) {
            for (int gi = 0; gi < G; gi++)
                cliff_gemm(1, 0, K, P, Mg, 1.0f, w + (size_t)gi * Mg * K, dy + (size_t)gi * Mg * P,
                           0.0f, col + (size_t)gi * K * P);
            p->col_valid[b] = 0; /* col now holds the column gradient */
            cliff_col2im(col, p->num, g, bottom[b]->diff);
        }
    }
}

const CliffLayerOps cliff_ops_Convolution = {
    .type = "Convolution",
    .min_bottoms = 1,
    .max_bottoms = CLIFF_ANY,
    .min_tops = 1,
    .max_tops = CLIFF_ANY,
    .setup = conv_setup,
    .reshape = conv_reshape,
    .forward = conv_forward,
    .backward = conv_backward,
    .destroy = conv_destroy,
    .forward_flops = conv_flops,
};

/* ---- Deconvolution ---- */

static int deconv_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt, CliffError *err)
{
    (void)top;
    return conv_setup_common(l, bottom, nb, nt, 1, err);
}

static void deconv_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                           CliffTensor *const *top, int nt)
{
    (void)nt;
    Conv *p = l->priv;
    const CliffConvGeom *g = &p->g;
    const int G = p->group, C = p->channels, Cg = C / G, M = p->num_output;
    const int Kd = M / G * g->kernel_h * g->kernel_w; /* column rows per group */
    const int plane = g->out_h * g->out_w, P = p->num * plane;    /* bottom plane */
    const int oplane = g->height * g->width;                      /* top plane */
    const float *w = l->params[0].data, *bias = p->bias ? l->params[1].data : NULL;
    for (int b = 0; b < nb; b++) {
        const float *x; /* [C] x [P] */
        if (p->num == 1) {
            x = bottom[b]->data;
        } else {
            cliff_nchw_to_cm(bottom[b]->data, p->num, C, plane, p->cm, NULL);
            x = p->cm;
        }
        for (int gi = 0; gi < G; gi++)
            cliff_gemm(1, 0, Kd, P, Cg, 1.0f, w + (size_t)gi * Cg * Kd, x + (size_t)gi * Cg * P,
                       0.0f, p->col + (size_t)gi * Kd * P);
        float *y = top[b]->data;
        cliff_col2im(p->col, p->num, g, y);
        if (bias)
            for (int nm = 0; nm < p->num * M; nm++) {
                float *row = y + (size_t)nm * oplane, bm = bias[nm % M];
                for (int i = 0; i < oplane; i++) row[i] += bm;
            }
    }
}

static void deconv_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                            const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt;
    Conv *p = l->priv;
    const CliffConvGeom *g = &p->g;
    const int G = p->group, C = p->channels, Cg = C / G, M = p->num_output;
    const int Kd = M / G * g->kernel_h * g->kernel_w;
    const int plane = g->out_h * g->out_w, P = p->num * plane;
    const int oplane = g->height * g->width;
    const float *w = l->params[0].data;
    float *dw = l->param_need_grad[0] ? l->params[0].diff : NULL;
    float *db = p->bias && l->param_need_grad[1] ? l->params[1].diff : NULL;
    for (int b = 0; b < nb; b++) {
        if (!dw && !db && !propagate_down[b]) continue;
        const float *dy = top[b]->diff;
        if (db)
            for (int m = 0; m < M; m++) {
                double acc = 0;
                for (int n = 0; n < p->num; n++) {
                    const float *row = dy + ((size_t)n * M + m) * oplane;
                    for (int i = 0; i < oplane; i++) acc += row[i];
                }
                db[m] += (float)acc;
            }
        if (!dw && !propagate_down[b]) continue;
        cliff_im2col(dy, p->num, g, p->col); /* [M*kh*kw] x [P] */
        if (dw) {
            const float *x;
            if (p->num == 1) {
                x = bottom[b]->data;
            } else {
                cliff_nchw_to_cm(bottom[b]->data, p->num, C, plane, p->cm, NULL);
                x = p->cm;
            }
            for (int gi = 0; gi < G; gi++)
                cliff_gemm(0, 1, Cg, Kd, P, 1.0f, x + (size_t)gi * Cg * P,
                           p->col + (size_t)gi * Kd * P, 1.0f, dw + (size_t)gi * Cg * Kd);
        }
        if (propagate_down[b]) {
            float *dx = p->num == 1 ? bottom[b]->diff : p->cm;
            for (int gi = 0; gi < G; gi++)
                cliff_gemm(0, 0, Cg, P, Kd, 1.0f, w + (size_t)gi * Cg * Kd,
                           p->col + (size_t)gi * Kd * P, 0.0f, dx + (size_t)gi * Cg * P);
            if (p->num != 1) cliff_cm_to_nchw(p->cm, p->num, C, plane, NULL, bottom[b]->diff);
        }
    }
}

const CliffLayerOps cliff_ops_Deconvolution = {
    .type = "Deconvolution",
    .min_bottoms = 1,
    .max_bottoms = CLIFF_ANY,
    .min_tops = 1,
    .max_tops = CLIFF_ANY,
    .setup = deconv_setup,
    .reshape = conv_reshape,
    .forward = deconv_forward,
    .backward = deconv_backward,
    .destroy = conv_destroy,
    .forward_flops = conv_flops,
};
