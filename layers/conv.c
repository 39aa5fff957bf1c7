/* Convolution and Deconvolution (Caffe's ConvolutionLayer / DeconvolutionLayer).
 *
 * Bottom: (outer...) x C x H x W with the channel axis at convolution_param.axis;
 * every outer index ("num", the product of the axes before it) is an independent
 * image. Several bottoms may be given; each gets its own top and the same
 * weights (Caffe's semantics).
 *
 * Convolution: weight M x (C/G) x kh x kw, bias M; top (outer...) x M x oh x ow.
 * Deconvolution: the transpose. Weight C x (M/G) x kh x kw, bias M;
 *   top (outer...) x M x OH x OW with OH = stride*(H-1) + dil*(kh-1) + 1 - 2*pad.
 *
 * Both run on the matrix engine through conv_gemm.h, per chunk of images, with
 * the column matrix packed straight from the images (implicit im2col,
 * conv_pack.h): no column buffer, a workspace that does not grow with the
 * batch (workspace_bytes, printed by --dry-run).
 *   Convolution    forward  top = im2col product of the bottom
 *                  backward dW += dtop col(bottom)^T, dbottom = col2im product of dtop
 *   Deconvolution  forward  top = col2im product of the bottom
 *                  backward dW += bottom col(dtop)^T, dbottom = im2col product of dtop
 *
 * Convolutions with stride_h = dilation_h = 1 on a CPU with AVX-512 take the
 * shifted-row path of conv_fast.h instead; reshape decides, per geometry: the
 * column matrix is handed to the engine as a row-offset view of a small
 * shifted image (forward: cliff_gemm_rows_b; data gradient:
 * cliff_gemm_scatter_add), the weight gradient still on conv_fast's own
 * tile. It stays because it is faster wherever it applies. bench/micro_convg, one
 * thread, CPU time in ms (GFLOP/s), minimum of 4-10 reps, 2026-12-05 on a
 * shared machine (load ~9 on 2 cores: ratios hold, absolute figures are low):
 *                         forward          weight grad      data grad
 *   LeNet conv2  engine   2.19  ( 94)      1.94  (105)      2.30  ( 89)
 *   (64 images)  fast     0.99  (208)      1.13  (181)      1.09  (189)
 *   cifar conv2  engine  14.4   ( 91)     15.8   ( 83)     15.4   ( 85)
 *   (100)        fast     6.63  (198)      8.21  (160)      6.77  (193)
 *   CaffeNet     engine  46.3   (155)     49.1   (146)     53.0   (135)
 *   conv2 (16)   fast    38.9   (184)     42.8   (168)     41.7   (172)
 *   CaffeNet     engine  31.6   (151)     36.2   (132)     35.8   (134)
 *   conv3 (16)   fast    25.7   (186)     40.8   (117)     26.6   (180)
 *   CaffeNet     engine  19.4   (123)     19.4   (124)     18.7   (128)
 *   conv5 (16)   fast    14.3   (168)     20.2   (119)     13.8   (173)
 * The engine path loses on the packing: per image it packs the K x P column
 * matrix (forward), its transpose (weight gradient) and scatters the column
 * gradient back (col2im), each about one float per Mg multiply-adds, while
 * the shifted rows are built once per image in C*kw*(H + 2 pad)*ow floats.
 * Everything else (stride or dilation_h > 1, no AVX-512, CaffeNet's conv1 at
 * 26.5/32.1/29.6 ms = 127/105/114 GFLOP/s in the same run) is on the engine.
 */
#include <string.h>

#include "layers/kernels/conv_fast.h"
#include "layers/kernels/conv_gemm.h"
#include "vision_util.h"

typedef struct Conv {
    int deconv;
    CliffConvGeom g;   /* image side = bottom (conv) or top (deconv), all channels */
    int axis;          /* channel axis */
    int num;           /* images: product of the axes before the channel axis */
    int channels;      /* C of the bottom */
    int num_output;    /* M */
    int group;
    int bias;          /* has a bias blob (index 1) */
    CliffConvGemm eng; /* the engine path (every geometry but the fast ones) */
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

    p->fast = !p->deconv && cliff_conv_fast_usable(g);
    if (p->fast) return cliff_conv_fast_plan(&p->fp, g, p->group, p->num_output, p->num, err);
    return cliff_convg_plan(&p->eng, g, p->group, p->deconv ? p->channels : p->num_output,
                            p->num, err);
}

static void conv_destroy(CliffLayer *l)
{
    Conv *p = l->priv;
    if (!p) return;
    cliff_convg_free(&p->eng);
    cliff_conv_fast_plan_free(&p->fp);
    free(p);
    l->priv = NULL;
}

static double conv_flops(const CliffLayer *l)
{
    const Conv *p = l->priv;
    if (!p) return 0;
    /* multiply-adds: every column entry (K x P an image and group) meets M/G
     * (conv) or C/G (deconv) weights */
    const CliffConvGeom *g = &p->g;
    double col = (double)g->channels * g->kernel_h * g->kernel_w * g->out_h * g->out_w * p->num;
    double per = p->deconv ? (double)p->channels / p->group : (double)p->num_output / p->group;
    return per * col;
}

static size_t conv_workspace(const CliffLayer *l)
{
    const Conv *p = l->priv;
    if (!p) return 0;
    if (p->fast) return p->fp.buf_cap * sizeof(float) + (size_t)(p->fp.K * p->group + p->fp.Mg) * sizeof(int);
    return cliff_convg_workspace_bytes(&p->eng);
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
    const float *w = l->params[0].data, *bias = p->bias ? l->params[1].data : NULL;
    for (int b = 0; b < nb; b++) {
        if (p->fast)
            cliff_conv_fast_forward(&p->fp, bottom[b]->data, w, bias, top[b]->data);
        else
            cliff_convg_im2col(&p->eng, w, bottom[b]->data, bias, top[b]->data);
    }
}

static void conv_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                          const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt;
    Conv *p = l->priv;
    const float *w = l->params[0].data;
    float *dw = l->param_need_grad[0] ? l->params[0].diff : NULL;
    float *db = p->bias && l->param_need_grad[1] ? l->params[1].diff : NULL;
    for (int b = 0; b < nb; b++) {
        float *dx = propagate_down[b] ? bottom[b]->diff : NULL;
        if (p->fast)
            cliff_conv_fast_backward(&p->fp, bottom[b]->data, w, top[b]->diff, dw, db, dx);
        else
            cliff_convg_backward(&p->eng, w, top[b]->diff, bottom[b]->data, dw, db,
                                 dx ? CLIFF_CONVG_DATA_COL2IM : CLIFF_CONVG_NO_DATA, dx);
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
    .workspace_bytes = conv_workspace,
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
    const float *w = l->params[0].data, *bias = p->bias ? l->params[1].data : NULL;
    for (int b = 0; b < nb; b++)
        cliff_convg_col2im(&p->eng, w, bottom[b]->data, bias, top[b]->data);
}

/* The bias gradient: sums of the top's channels (the image side). */
static void deconv_bias_grad(const Conv *p, const float *dy, float *db)
{
    const size_t plane = (size_t)p->g.height * p->g.width;
    for (int m = 0; m < p->num_output; m++) {
        double acc = 0;
        for (int n = 0; n < p->num; n++) {
            const float *row = dy + ((size_t)n * p->num_output + m) * plane;
            float s = 0.0f;
            for (size_t i = 0; i < plane; i++) s += row[i];
            acc += s;
        }
        db[m] += (float)acc;
    }
}

static void deconv_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                            const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt;
    Conv *p = l->priv;
    const float *w = l->params[0].data;
    float *dw = l->param_need_grad[0] ? l->params[0].diff : NULL;
    float *db = p->bias && l->param_need_grad[1] ? l->params[1].diff : NULL;
    for (int b = 0; b < nb; b++) {
        if (db) deconv_bias_grad(p, top[b]->diff, db);
        float *dx = propagate_down[b] ? bottom[b]->diff : NULL;
        cliff_convg_backward(&p->eng, w, bottom[b]->data, top[b]->diff, dw, NULL,
                             dx ? CLIFF_CONVG_DATA_IM2COL : CLIFF_CONVG_NO_DATA, dx);
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
    .workspace_bytes = conv_workspace,
};
