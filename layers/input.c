/* Input: tops whose contents are set from outside the net (Caffe's Input layer
 * and the upgraded net-level input/input_shape). Shapes from input_param.shape:
 * one for every top, or one per top. */
#include "blob_shape.h"
#include "layer.h"

static int input_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                       int nt, CliffError *err)
{
    (void)bottom;
    (void)nb;
    const Cliff__InputParameter *p = l->param->input_param;
    size_t n = p ? p->n_shape : 0;
    if (n != 1 && n != (size_t)nt)
        return cliff_error_set(err, "input_param needs one shape for all %d tops or one per top, "
                               "got %zu", nt, n);
    for (int t = 0; t < nt; t++)
        if (cliff_tensor_reshape_blob_shape(top[t], p->shape[n == 1 ? 0 : t], err)) return -1;
    return 0;
}

static void input_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                          CliffTensor *const *top, int nt)
{
    (void)l, (void)bottom, (void)nb, (void)top, (void)nt;
}

const CliffLayerOps cliff_ops_Input = {
    .type = "Input",
    .min_bottoms = 0, .max_bottoms = 0,
    .min_tops = 1, .max_tops = CLIFF_ANY,
    .setup = input_setup,
    .forward = input_forward,
};
