/* Gradient-check cases for the vision and shape layers (see gradcheck.h).
 *
 * Every configuration that changes the math gets a case: convolution with
 * group / pad / stride / dilation / no bias / axis / _h _w and repeated forms,
 * deconvolution, pooling MAX / AVE / global / padded / ceil / floor, both LRN
 * regions, InnerProduct transpose / axis, each Eltwise op, Softmax on several
 * axes, each Reduction op... Shapes stay tiny so the table runs in seconds.
 * Forward values are checked by the functions of vision_checks.c.
 */
#include "gradcheck.h"
#include "vision_checks.h"

#define B4(n, c, h, w) {4, {n, c, h, w}, FILL_GAUSSIAN, 0, 0, 0}
#define B5(a, b, c, d, e) {5, {a, b, c, d, e}, FILL_GAUSSIAN, 0, 0, 0}
#define B3(a, b, c) {3, {a, b, c}, FILL_GAUSSIAN, 0, 0, 0}
#define B2(a, b) {2, {a, b}, FILL_GAUSSIAN, 0, 0, 0}
#define BPOS3(a, b, c) {3, {a, b, c}, FILL_POSITIVE, 0, 0, 0}
#define FILLERS " weight_filler { type: 'gaussian' std: 0.5 } bias_filler { type: 'gaussian' std: 0.5 }"

/* ---- the table ---- */

const GradCase grad_cases_vision[] = {
    /* Convolution */
    {.name = "Convolution/basic",
     .layer = "type: 'Convolution' convolution_param { num_output: 4 kernel_size: 3" FILLERS " }",
     .nbottom = 1, .bottom = {B4(2, 3, 5, 5)}, .ntop = 1},
    {.name = "Convolution/batch1",
     .layer = "type: 'Convolution' convolution_param { num_output: 3 kernel_size: 2" FILLERS " }",
     .nbottom = 1, .bottom = {B4(1, 2, 4, 5)}, .ntop = 1},
    {.name = "Convolution/group2_pad1_stride2",
     .layer = "type: 'Convolution' convolution_param { num_output: 6 kernel_size: 3 group: 2 "
              "pad: 1 stride: 2" FILLERS " }",
     .nbottom = 1, .bottom = {B4(2, 4, 6, 5)}, .ntop = 1},
    {.name = "Convolution/dilation2",
     .layer = "type: 'Convolution' convolution_param { num_output: 2 kernel_size: 3 dilation: 2"
              FILLERS " }",
     .nbottom = 1, .bottom = {B4(2, 2, 7, 6)}, .ntop = 1},
    {.name = "Convolution/no_bias",
     .layer = "type: 'Convolution' convolution_param { num_output: 3 kernel_size: 2 bias_term: "
              "false weight_filler { type: 'gaussian' std: 0.5 } }",
     .nbottom = 1, .bottom = {B4(2, 2, 4, 4)}, .ntop = 1},
    {.name = "Convolution/hw_forms",
     .layer = "type: 'Convolution' convolution_param { num_output: 2 kernel_h: 3 kernel_w: 2 "
              "stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 0" FILLERS " }",
     .nbottom = 1, .bottom = {B4(2, 2, 5, 4)}, .ntop = 1},
    {.name = "Convolution/repeated_forms",
     .layer = "type: 'Convolution' convolution_param { num_output: 2 kernel_size: 2 kernel_size: 3 "
              "stride: 1 stride: 2 pad: 0 pad: 1 dilation: 2 dilation: 1" FILLERS " }",
     .nbottom = 1, .bottom = {B4(2, 3, 5, 6)}, .ntop = 1},
    {.name = "Convolution/axis2",
     .layer = "type: 'Convolution' convolution_param { num_output: 2 kernel_size: 2 axis: 2"
              FILLERS " }",
     .nbottom = 1, .bottom = {B5(2, 2, 3, 4, 3)}, .ntop = 1},
    {.name = "Convolution/1x1_group3",
     .layer = "type: 'Convolution' convolution_param { num_output: 3 kernel_size: 1 group: 3"
              FILLERS " }",
     .nbottom = 1, .bottom = {B4(2, 3, 3, 4)}, .ntop = 1},
    {.name = "Convolution/two_bottoms",
     .layer = "type: 'Convolution' convolution_param { num_output: 2 kernel_size: 3 pad: 1 "
              "stride: 2" FILLERS " }",
     .nbottom = 2, .bottom = {B4(2, 2, 4, 3), B4(2, 2, 4, 3)}, .ntop = 2},
    /* Deconvolution */
    {.name = "Deconvolution/basic",
     .layer = "type: 'Deconvolution' convolution_param { num_output: 2 kernel_size: 3 stride: 2 "
              "pad: 1" FILLERS " }",
     .nbottom = 1, .bottom = {B4(2, 3, 3, 3)}, .ntop = 1},
    {.name = "Deconvolution/group2_dilation2",
     .layer = "type: 'Deconvolution' convolution_param { num_output: 4 kernel_size: 2 group: 2 "
              "dilation: 2" FILLERS " }",
     .nbottom = 1, .bottom = {B4(2, 4, 3, 2)}, .ntop = 1},
    {.name = "Deconvolution/batch1_no_bias_hw",
     .layer = "type: 'Deconvolution' convolution_param { num_output: 3 kernel_h: 2 kernel_w: 3 "
              "stride_h: 2 stride_w: 1 bias_term: false weight_filler { type: 'gaussian' } }",
     .nbottom = 1, .bottom = {B4(1, 2, 3, 3)}, .ntop = 1},
    /* Im2col */
    {.name = "Im2col/k3x2_s2x1_p1x0",
     .layer = "type: 'Im2col' convolution_param { kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 "
              "pad_h: 1 pad_w: 0 }",
     .nbottom = 1, .bottom = {B4(2, 2, 5, 4)}, .ntop = 1, .check_forward = vcheck_im2col},
    /* Pooling */
    {.name = "Pooling/max_k3s2p1_mask", .kinks = 1,
     .layer = "type: 'Pooling' pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 }",
     .nbottom = 1, .bottom = {B4(1, 1, 5, 5)}, .ntop = 2, .check_forward = vcheck_pool_max_k3s2p1},
    {.name = "Pooling/ave_k3s2p1",
     .layer = "type: 'Pooling' pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 }",
     .nbottom = 1, .bottom = {B4(1, 1, 5, 5)}, .ntop = 1, .check_forward = vcheck_pool_ave_k3s2p1},
    {.name = "Pooling/max_k2s2_mask", .kinks = 1,
     .layer = "type: 'Pooling' pooling_param { pool: MAX kernel_size: 2 stride: 2 }",
     .nbottom = 1, .bottom = {B4(1, 1, 4, 4)}, .ntop = 2, .check_forward = vcheck_pool_max_k2s2},
    {.name = "Pooling/max_2x2s2_wide", .kinks = 1,
     .layer = "type: 'Pooling' pooling_param { pool: MAX kernel_size: 2 stride: 2 }",
     .nbottom = 1, .bottom = {B4(2, 2, 4, 10)}, .ntop = 1},
    {.name = "Pooling/ave_k3s2_ceil_clipped",
     .layer = "type: 'Pooling' pooling_param { pool: AVE kernel_size: 3 stride: 2 }",
     .nbottom = 1, .bottom = {B4(1, 1, 4, 4)}, .ntop = 1,
     .check_forward = vcheck_pool_ave_k3s2_ceil},
    {.name = "Pooling/max_k3s2_ceil_clipped", .kinks = 1,
     .layer = "type: 'Pooling' pooling_param { pool: MAX kernel_size: 3 stride: 2 }",
     .nbottom = 1, .bottom = {B4(1, 1, 4, 4)}, .ntop = 1,
     .check_forward = vcheck_pool_max_k3s2_ceil},
    {.name = "Pooling/max_floor", .kinks = 1,
     .layer = "type: 'Pooling' pooling_param { pool: MAX kernel_size: 3 stride: 2 round_mode: "
              "FLOOR }",
     .nbottom = 1, .bottom = {B4(1, 1, 4, 4)}, .ntop = 1, .check_forward = vcheck_pool_floor},
    {.name = "Pooling/global_ave",
     .layer = "type: 'Pooling' pooling_param { pool: AVE global_pooling: true }",
     .nbottom = 1, .bottom = {B4(2, 3, 4, 5)}, .ntop = 1, .check_forward = vcheck_pool_global_ave},
    {.name = "Pooling/global_max", .kinks = 1,
     .layer = "type: 'Pooling' pooling_param { pool: MAX global_pooling: true }",
     .nbottom = 1, .bottom = {B4(2, 2, 3, 3)}, .ntop = 1, .check_forward = vcheck_pool_global_max},
    {.name = "Pooling/ave_hw_padded",
     .layer = "type: 'Pooling' pooling_param { pool: AVE kernel_h: 2 kernel_w: 3 stride_h: 1 "
              "stride_w: 2 pad_h: 1 pad_w: 2 }",
     .nbottom = 1, .bottom = {B4(2, 2, 4, 5)}, .ntop = 1},
    {.name = "Pooling/max_hw_padded", .kinks = 1,
     .layer = "type: 'Pooling' pooling_param { pool: MAX kernel_h: 3 kernel_w: 2 stride_h: 2 "
              "stride_w: 1 pad_h: 1 pad_w: 1 }",
     .nbottom = 1, .bottom = {B4(2, 2, 5, 4)}, .ntop = 1},
    /* LRN */
    {.name = "LRN/across_channels",
     .layer = "type: 'LRN' lrn_param { local_size: 5 alpha: 0.5 beta: 0.75 k: 2 }",
     .nbottom = 1, .bottom = {B4(2, 7, 3, 2)}, .ntop = 1, .check_forward = vcheck_lrn_across},
    {.name = "LRN/across_channels_defaults",
     .layer = "type: 'LRN'", .nbottom = 1, .bottom = {B4(2, 3, 2, 2)}, .ntop = 1,
     .check_forward = vcheck_lrn_defaults},
    {.name = "LRN/within_channel",
     .layer = "type: 'LRN' lrn_param { norm_region: WITHIN_CHANNEL local_size: 3 alpha: 0.8 "
              "beta: 0.6 }",
     .nbottom = 1, .bottom = {B4(2, 2, 5, 4)}, .ntop = 1, .check_forward = vcheck_lrn_within},
    /* InnerProduct */
    {.name = "InnerProduct/basic",
     .layer = "type: 'InnerProduct' inner_product_param { num_output: 5" FILLERS " }",
     .nbottom = 1, .bottom = {B4(3, 4, 2, 2)}, .ntop = 1},
    {.name = "InnerProduct/transpose",
     .layer = "type: 'InnerProduct' inner_product_param { num_output: 4 transpose: true"
              FILLERS " }",
     .nbottom = 1, .bottom = {B3(3, 2, 3)}, .ntop = 1},
    {.name = "InnerProduct/axis2",
     .layer = "type: 'InnerProduct' inner_product_param { num_output: 3 axis: 2" FILLERS " }",
     .nbottom = 1, .bottom = {B4(2, 3, 4, 2)}, .ntop = 1},
    {.name = "InnerProduct/axis_neg1_no_bias",
     .layer = "type: 'InnerProduct' inner_product_param { num_output: 3 axis: -1 bias_term: false "
              "weight_filler { type: 'gaussian' } }",
     .nbottom = 1, .bottom = {B3(2, 3, 4)}, .ntop = 1},
    /* Flatten / Reshape */
    {.name = "Flatten/default",
     .layer = "type: 'Flatten'", .nbottom = 1, .bottom = {B4(2, 3, 4, 2)}, .ntop = 1,
     .check_forward = vcheck_flatten_default},
    {.name = "Flatten/axis1_end2",
     .layer = "type: 'Flatten' flatten_param { axis: 1 end_axis: 2 }", .nbottom = 1,
     .bottom = {B4(2, 3, 4, 2)}, .ntop = 1, .check_forward = vcheck_flatten_range},
    {.name = "Reshape/zero_and_inferred",
     .layer = "type: 'Reshape' reshape_param { shape { dim: 0 dim: -1 dim: 2 } }", .nbottom = 1,
     .bottom = {B3(2, 3, 4)}, .ntop = 1, .check_forward = vcheck_reshape_inferred},
    {.name = "Reshape/axis_num_axes",
     .layer = "type: 'Reshape' reshape_param { shape { dim: 3 dim: 1 } axis: 1 num_axes: 1 }",
     .nbottom = 1, .bottom = {B3(2, 3, 4)}, .ntop = 1, .check_forward = vcheck_reshape_axis},
    {.name = "Reshape/drop_axis",
     .layer = "type: 'Reshape' reshape_param { shape { } axis: 1 num_axes: 1 }", .nbottom = 1,
     .bottom = {B3(3, 1, 4)}, .ntop = 1, .check_forward = vcheck_reshape_scalar_axes},
    /* Concat / Slice / Split */
    {.name = "Concat/axis1",
     .layer = "type: 'Concat'", .nbottom = 3, .bottom = {B3(2, 3, 2), B3(2, 1, 2), B3(2, 2, 2)},
     .ntop = 1, .check_forward = vcheck_concat_axis1},
    {.name = "Concat/concat_dim0",
     .layer = "type: 'Concat' concat_param { concat_dim: 0 }", .nbottom = 2,
     .bottom = {B3(1, 2, 3), B3(2, 2, 3)}, .ntop = 1, .check_forward = vcheck_concat_axis0},
    {.name = "Concat/axis_neg1",
     .layer = "type: 'Concat' concat_param { axis: -1 }", .nbottom = 2,
     .bottom = {B3(2, 2, 3), B3(2, 2, 1)}, .ntop = 1, .check_forward = vcheck_concat_axis2},
    {.name = "Slice/points",
     .layer = "type: 'Slice' slice_param { slice_point: 1 slice_point: 4 }", .nbottom = 1,
     .bottom = {B3(2, 6, 2)}, .ntop = 3, .check_forward = vcheck_slice_points},
    {.name = "Slice/slice_dim0_equal",
     .layer = "type: 'Slice' slice_param { slice_dim: 0 }", .nbottom = 1, .bottom = {B3(4, 3, 2)},
     .ntop = 2, .check_forward = vcheck_slice_equal},
    {.name = "Split/three",
     .layer = "type: 'Split'", .nbottom = 1, .bottom = {B3(2, 3, 2)}, .ntop = 3,
     .check_forward = vcheck_split},
    /* Eltwise */
    {.name = "Eltwise/sum",
     .layer = "type: 'Eltwise'", .nbottom = 2, .bottom = {B3(2, 3, 2), B3(2, 3, 2)}, .ntop = 1},
    {.name = "Eltwise/sum_coeff",
     .layer = "type: 'Eltwise' eltwise_param { operation: SUM coeff: 1 coeff: -2 coeff: 0.5 }",
     .nbottom = 3, .bottom = {B3(2, 3, 2), B3(2, 3, 2), B3(2, 3, 2)}, .ntop = 1,
     .check_forward = vcheck_eltwise_sum_coeff},
    {.name = "Eltwise/prod",
     .layer = "type: 'Eltwise' eltwise_param { operation: PROD }", .nbottom = 3,
     .bottom = {B3(2, 3, 2), B3(2, 3, 2), B3(2, 3, 2)}, .ntop = 1,
     .check_forward = vcheck_eltwise_prod},
    {.name = "Eltwise/prod_unstable",
     .layer = "type: 'Eltwise' eltwise_param { operation: PROD stable_prod_grad: false }",
     .nbottom = 2, .bottom = {BPOS3(2, 3, 2), BPOS3(2, 3, 2)}, .ntop = 1},
    {.name = "Eltwise/max", .kinks = 1,
     .layer = "type: 'Eltwise' eltwise_param { operation: MAX }", .nbottom = 3,
     .bottom = {B3(2, 3, 2), B3(2, 3, 2), B3(2, 3, 2)}, .ntop = 1,
     .check_forward = vcheck_eltwise_max},
    /* Softmax */
    {.name = "Softmax/axis1",
     .layer = "type: 'Softmax'", .nbottom = 1, .bottom = {B4(2, 5, 2, 2)}, .ntop = 1,
     .check_forward = vcheck_softmax1},
    {.name = "Softmax/axis_neg1",
     .layer = "type: 'Softmax' softmax_param { axis: -1 }", .nbottom = 1, .bottom = {B3(2, 3, 4)},
     .ntop = 1, .check_forward = vcheck_softmax_last},
    {.name = "Softmax/axis0",
     .layer = "type: 'Softmax' softmax_param { axis: 0 }", .nbottom = 1, .bottom = {B2(4, 3)},
     .ntop = 1, .check_forward = vcheck_softmax0},
    /* Tile */
    {.name = "Tile/axis1",
     .layer = "type: 'Tile' tile_param { tiles: 3 }", .nbottom = 1, .bottom = {B3(2, 3, 2)},
     .ntop = 1, .check_forward = vcheck_tile_axis1},
    {.name = "Tile/axis_neg1",
     .layer = "type: 'Tile' tile_param { axis: -1 tiles: 2 }", .nbottom = 1,
     .bottom = {B3(2, 2, 3)}, .ntop = 1, .check_forward = vcheck_tile_last},
    /* Crop */
    {.name = "Crop/axis2_offset1",
     .layer = "type: 'Crop' crop_param { offset: 1 }", .nbottom = 2,
     .bottom = {B4(2, 3, 6, 5), {4, {2, 3, 3, 3}, FILL_GAUSSIAN, 0, 0, 1}}, .ntop = 1,
     .check_forward = vcheck_crop_axis2},
    {.name = "Crop/axis1_per_axis_offsets",
     .layer = "type: 'Crop' crop_param { axis: 1 offset: 1 offset: 2 offset: 0 }", .nbottom = 2,
     .bottom = {B4(2, 4, 5, 3), {4, {1, 2, 2, 3}, FILL_GAUSSIAN, 0, 0, 1}}, .ntop = 1,
     .check_forward = vcheck_crop_axis1},
    /* Reduction */
    {.name = "Reduction/sum_all",
     .layer = "type: 'Reduction'", .nbottom = 1, .bottom = {B3(2, 3, 2)}, .ntop = 1,
     .check_forward = vcheck_red_sum},
    {.name = "Reduction/asum_axis1", .kinks = 1,
     .layer = "type: 'Reduction' reduction_param { operation: ASUM axis: 1 }", .nbottom = 1,
     .bottom = {B3(2, 3, 2)}, .ntop = 1, .check_forward = vcheck_red_asum},
    {.name = "Reduction/sumsq_axis_neg1_coeff",
     .layer = "type: 'Reduction' reduction_param { operation: SUMSQ axis: -1 coeff: -0.5 }",
     .nbottom = 1, .bottom = {B3(2, 3, 2)}, .ntop = 1, .check_forward = vcheck_red_sumsq},
    {.name = "Reduction/mean_axis2_coeff",
     .layer = "type: 'Reduction' reduction_param { operation: MEAN axis: 2 coeff: 3 }",
     .nbottom = 1, .bottom = {B4(2, 2, 3, 2)}, .ntop = 1, .check_forward = vcheck_red_mean},
    /* ArgMax (forward only) */
    {.name = "ArgMax/top1",
     .layer = "type: 'ArgMax'", .nbottom = 1, .bottom = {B2(2, 5)}, .ntop = 1, .forward_only = 1,
     .check_forward = vcheck_argmax_top1},
    {.name = "ArgMax/top3_out_max_val",
     .layer = "type: 'ArgMax' argmax_param { top_k: 3 out_max_val: true }", .nbottom = 1,
     .bottom = {B2(2, 5)}, .ntop = 1, .forward_only = 1, .check_forward = vcheck_argmax_top3_val},
    {.name = "ArgMax/axis0",
     .layer = "type: 'ArgMax' argmax_param { axis: 0 }", .nbottom = 1, .bottom = {B2(2, 5)},
     .ntop = 1, .forward_only = 1, .check_forward = vcheck_argmax_axis0},
    {.name = "ArgMax/axis1_top2_val",
     .layer = "type: 'ArgMax' argmax_param { axis: 1 top_k: 2 out_max_val: true }", .nbottom = 1,
     .bottom = {B2(2, 5)}, .ntop = 1, .forward_only = 1, .check_forward = vcheck_argmax_axis1_val},
    /* Silence */
    {.name = "Silence/two_bottoms",
     .layer = "type: 'Silence'", .nbottom = 2, .bottom = {B2(2, 3), B3(1, 2, 2)}, .ntop = 0},
    /* Filter: selector of labels in {0, 1} */
    {.name = "Filter/two_blobs",
     .layer = "type: 'Filter'", .nbottom = 3,
     .bottom = {B2(6, 3), B3(6, 2, 2), {2, {6, 1}, FILL_LABELS, 2, 0, 1}}, .ntop = 2,
     .check_forward = vcheck_filter},
    /* BatchReindex: 7 indices into 4 items (repeats accumulate) */
    {.name = "BatchReindex/repeats",
     .layer = "type: 'BatchReindex'", .nbottom = 2,
     .bottom = {B3(4, 2, 2), {1, {7}, FILL_LABELS, 4, 0, 1}}, .ntop = 1,
     .check_forward = vcheck_reindex},
    /* Embed */
    {.name = "Embed/basic",
     .layer = "type: 'Embed' embed_param { num_output: 4 input_dim: 5" FILLERS " }",
     .nbottom = 1, .bottom = {{2, {2, 3}, FILL_LABELS, 5, 0, 1}}, .ntop = 1,
     .check_forward = vcheck_embed},
    {.name = "Embed/no_bias",
     .layer = "type: 'Embed' embed_param { num_output: 3 input_dim: 4 bias_term: false "
              "weight_filler { type: 'gaussian' } }",
     .nbottom = 1, .bottom = {{1, {5}, FILL_LABELS, 4, 0, 1}}, .ntop = 1,
     .check_forward = vcheck_embed},
    {0},
};
