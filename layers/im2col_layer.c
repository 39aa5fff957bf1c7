/* Im2col (Caffe's Im2colLayer): exposes the column matrix of each image.
 * bottom (outer...) x C x H x W with the channel axis at convolution_param.axis;
 * top (outer...) x (C*kh*kw) x oh x ow, each image's [C*kh*kw] x [oh*ow] column
 * matrix (see im2col.h). backward is col2im. */
#include "layers/kernels/im2col.h"
#include "vision_util.h"

typedef struct Im2col {
    CliffConvGeom g;
    int axis, num;
} Im2col;

static const Cliff__ConvolutionParameter im2col_defaults = CLIFF__CONVOLUTION_PARAMETER__INIT;

static int im2col_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)nt;
    const Cliff__ConvolutionParameter *cp = l->param && l->param->convolution_param
                                                ? l->param->convolution_param
                                                : &im2col_defaults;
    Im2col *p = cliff_priv_alloc(l, sizeof(Im2col), err);
    if (!p) return -1;
    if (top[0] == bottom[0]) return cliff_error_set(err, "Im2col cannot run in place");
    p->axis = cliff_canon_axis(l, bottom[0], 0, cp->axis, "convolution axis", err);
    if (p->axis < 0) return -1;
    char s[128];
    int num_spatial = bottom[0]->num_axes - p->axis - 1;
    if (num_spatial != 2)
        return cliff_error_set(err,
                               "bottom '%s' of shape %s has %d spatial axes after channel axis "
                               "%d; only 2-D im2col is supported",
                               cliff_bname(l, 0), cliff_tensor_shape_str(bottom[0], s, sizeof s),
                               num_spatial, p->axis);
    return cliff_conv_geom_read(cp, num_spatial, &p->g, err);
}

static int im2col_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                          CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)nt;
    Im2col *p = l->priv;
    const CliffTensor *b = bottom[0];
    char s[128];
    if (b->num_axes != p->axis + 3)
        return cliff_error_set(err, "bottom '%s' changed to shape %s; 2 spatial axes after axis "
                                    "%d are needed",
                               cliff_bname(l, 0), cliff_tensor_shape_str(b, s, sizeof s), p->axis);
    p->g.channels = b->shape[p->axis];
    p->g.height = b->shape[p->axis + 1];
    p->g.width = b->shape[p->axis + 2];
    if (cliff_conv_geom_output(&p->g, err)) return -1;
    p->num = (int)cliff_tensor_count_range(b, 0, p->axis);
    int shape[CLIFF_MAX_AXES];
    for (int i = 0; i < p->axis; i++) shape[i] = b->shape[i];
    shape[p->axis] = p->g.channels * p->g.kernel_h * p->g.kernel_w;
    shape[p->axis + 1] = p->g.out_h;
    shape[p->axis + 2] = p->g.out_w;
    return cliff_tensor_reshape(top[0], p->axis + 3, shape, err);
}

static void im2col_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                           CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    const Im2col *p = l->priv;
    const size_t in = (size_t)p->g.channels * p->g.height * p->g.width;
    const size_t out = (size_t)p->g.channels * p->g.kernel_h * p->g.kernel_w * p->g.out_h *
                       p->g.out_w;
    for (int n = 0; n < p->num; n++)
        cliff_im2col(bottom[0]->data + n * in, 1, &p->g, top[0]->data + n * out);
}

static void im2col_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                            const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt, (void)nb;
    if (!propagate_down[0]) return;
    const Im2col *p = l->priv;
    const size_t in = (size_t)p->g.channels * p->g.height * p->g.width;
    const size_t out = (size_t)p->g.channels * p->g.kernel_h * p->g.kernel_w * p->g.out_h *
                       p->g.out_w;
    for (int n = 0; n < p->num; n++)
        cliff_col2im(top[0]->diff + n * out, 1, &p->g, bottom[0]->diff + n * in);
}

static void im2col_destroy(CliffLayer *l)
{
    free(l->priv);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_Im2col = {
    .type = "Im2col",
    .min_bottoms = 1,
    .max_bottoms = 1,
    .min_tops = 1,
    .max_tops = 1,
    .setup = im2col_setup,
    .reshape = im2col_reshape,
    .forward = im2col_forward,
    .backward = im2col_backward,
    .destroy = im2col_destroy,
};
