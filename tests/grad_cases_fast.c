/* Gradient-check cases big enough to reach the layers' fast paths (on a CPU
 * with AVX-512; elsewhere they run the generic paths and still must pass):
 *
 *   InnerProduct  the matrix engine's tiles with tails (M = 20, 33 rows), its
 *                 transposed mode (few rows against wide W^T: N > 64) and a
 *                 weight gradient accumulated into
 *   Pooling       MAX 2x2 stride 2, even H and W, >= 8 outputs a row: pool_fast.c
 *   Convolution   stride_h = dilation_h = 1: conv_fast.c. Each case names the
 *                 branches of the dispatch it takes (layers/kernels/conv_fast.c,
 *                 conv_fast_kernels.c):
 *       mr_f      forward (the engine's view tiles, gemm_vtiles.c): output
 *                 channels per group 4, 5, 6 = one tile of that many rows
 *       mr_d      data gradient (the engine's scatter-add, gemm_scatter.c):
 *                 panel height pick(K = C/group * kh * kw): 4, 5, 6
 *       chunks    64-column chunks of the output plane: whole, and the masked
 *                 tail of 4, 3, 2, 1 vectors
 *       shift     ow == 8 all inside / ow <= 8 / one vector a row / several /
 *                 scalar (stride_w > 1 or ow > 256)
 *       unshift   vector (stride_w 1, kw <= 32) / scalar
 *       wgrad     the engine's dot-product kind (gemm_dot.c): 5 x 5 tiles with
 *                 partial rows (m and r tails, the > 4 rows branch), image
 *                 groups summed apart (num >= 2, uneven split)
 * Every blob here has at most 400 elements, so every point is checked. */
#include "gradcheck.h"

#define G4(n, c, h, w) {4, {n, c, h, w}, FILL_GAUSSIAN, 0, 0, 0}
#define G3(a, b, c) {3, {a, b, c}, FILL_GAUSSIAN, 0, 0, 0}
#define G2(a, b) {2, {a, b}, FILL_GAUSSIAN, 0, 0, 0}
#define FILLERS " weight_filler { type: 'gaussian' std: 0.5 } bias_filler { type: 'gaussian' std: 0.5 }"
#define CONV(text) "type: 'Convolution' convolution_param { " text FILLERS " }"

/* The tile matrix: every forward row block (mr_f = output channels 4, 5, 6) and
 * every data-gradient row block (mr_d = K 4, 5, 6) over a whole 64-column chunk
 * and each masked tail: planes 72 (64 + 1 vector), 84 (+ 2), 104 (+ 3) and
 * 120 (+ 4, the last masked). Named mrf_mrd_tail; 2 images each. */
#define TILE(nm, M, C, kh, kw, H, W)                                                     \
    {.name = "Convolution/fast_tiles_" nm,                                               \
     .layer = CONV("num_output: " #M " kernel_h: " #kh " kernel_w: " #kw),               \
     .nbottom = 1, .bottom = {G4(2, C, H, W)}, .ntop = 1}

const GradCase grad_cases_fast[] = {
    /* ---- InnerProduct on the matrix engine ---- */
    {.name = "InnerProduct/fast_20_rows",
     .layer = "type: 'InnerProduct' inner_product_param { num_output: 5" FILLERS " }",
     .nbottom = 1, .bottom = {G2(20, 7)}, .ntop = 1},
    {.name = "InnerProduct/fast_33_rows_axis2_no_bias",
     .layer = "type: 'InnerProduct' inner_product_param { num_output: 17 axis: 2 "
              "bias_term: false weight_filler { type: 'gaussian' std: 0.5 } }",
     .nbottom = 1, .bottom = {G3(3, 11, 6)}, .ntop = 1},
    {.name = "InnerProduct/engine_transposed_mode_70_outputs",
     .layer = "type: 'InnerProduct' inner_product_param { num_output: 70" FILLERS " }",
     .nbottom = 1, .bottom = {G2(3, 5)}, .ntop = 1},

    /* ---- Pooling MAX 2x2/2 on pool_fast.c ---- */
    {.name = "Pooling/max_2x2s2_fast_ow8_mask", .kinks = 1,
     .layer = "type: 'Pooling' pooling_param { pool: MAX kernel_size: 2 stride: 2 }",
     .nbottom = 1, .bottom = {G4(2, 3, 4, 16)}, .ntop = 2},
    {.name = "Pooling/max_2x2s2_fast_ow21", .kinks = 1, /* a vector and a 5-lane tail */
     .layer = "type: 'Pooling' pooling_param { pool: MAX kernel_size: 2 stride: 2 }",
     .nbottom = 1, .bottom = {G4(1, 2, 6, 42)}, .ntop = 1},

    /* ---- Convolution on conv_fast.c ---- */
    /* out 10x8, plane 80: a whole chunk + 1 vector; ow 8: kj 1 all inside, kj 0, 2
     * half vectors; mr_f 6, K 18: mr_d 6; wgrad m tail 1, r tail 3; 2 image groups */
    {.name = "Convolution/fast_ow8_pad1",
     .layer = CONV("num_output: 6 kernel_size: 3 pad: 1"),
     .nbottom = 1, .bottom = {G4(2, 2, 10, 8)}, .ntop = 1},
    /* out 2x16, plane 32: 2 vectors; one vector a row; mr_f 5, K 30: mr_d 6;
     * 3 images in 2 groups (2 + 1) */
    {.name = "Convolution/fast_ow16_k2x3",
     .layer = CONV("num_output: 5 kernel_h: 2 kernel_w: 3"),
     .nbottom = 1, .bottom = {G4(3, 5, 3, 18)}, .ntop = 1},
    /* out 5x10, plane 50: 4 vectors, masked; mr_f 4, K 5: mr_d 5 */
    {.name = "Convolution/fast_1x1_k5",
     .layer = CONV("num_output: 4 kernel_size: 1"),
     .nbottom = 1, .bottom = {G4(2, 5, 5, 10)}, .ntop = 1},
    /* dilation_w 2 (repeated form: h 1, w 2): out 3x36, plane 108: a whole chunk
     * + 3 vectors; 3 vectors a row; 3 outputs: mr_f 4 with one padded row, K 3:
     * mr_d 4 */
    {.name = "Convolution/fast_wide_rows_dilation_w2",
     .layer = CONV("num_output: 3 kernel_h: 1 kernel_w: 3 dilation: 1 dilation: 2"),
     .nbottom = 1, .bottom = {G4(2, 1, 3, 40)}, .ntop = 1},
    /* stride_w 2: the scalar shift and unshift; out 6x7, plane 42: 3 vectors */
    {.name = "Convolution/fast_stride_w2",
     .layer = CONV("num_output: 4 kernel_size: 3 stride_h: 1 stride_w: 2 pad: 1"),
     .nbottom = 1, .bottom = {G4(2, 2, 6, 13)}, .ntop = 1},
    /* kw 33 > 32: the scalar unshift; out 2x8 */
    {.name = "Convolution/fast_kw33",
     .layer = CONV("num_output: 2 kernel_h: 1 kernel_w: 33"),
     .nbottom = 1, .bottom = {G4(1, 1, 2, 40)}, .ntop = 1},
    /* ow 258 > 256: the scalar shift; plane 258: 4 whole chunks + 1 vector */
    {.name = "Convolution/fast_ow258",
     .layer = CONV("num_output: 2 kernel_h: 1 kernel_w: 3"),
     .nbottom = 1, .bottom = {G4(1, 1, 1, 260)}, .ntop = 1},
    /* group 2: 5 outputs a group (mr_f 5; wgrad tile of 5 rows), K 18 a group;
     * out 5x6, plane 30: 2 vectors; 3 images */
    {.name = "Convolution/fast_group2",
     .layer = CONV("num_output: 10 kernel_size: 3 pad: 1 group: 2"),
     .nbottom = 1, .bottom = {G4(3, 4, 5, 6)}, .ntop = 1},
    /* no bias and a bottom without propagate_down: the weight gradient alone */
    {.name = "Convolution/fast_weights_only",
     .layer = "type: 'Convolution' convolution_param { num_output: 4 kernel_size: 3 "
              "bias_term: false weight_filler { type: 'gaussian' std: 0.5 } }",
     .nbottom = 1, .bottom = {{4, {2, 3, 6, 10}, FILL_GAUSSIAN, 0, 0, 1}}, .ntop = 1},
    TILE("4_5_plane72", 4, 5, 1, 1, 8, 9),
    TILE("5_6_plane72", 5, 2, 1, 3, 8, 11),
    TILE("6_4_plane72", 6, 1, 2, 2, 9, 10),
    TILE("4_5_plane84", 4, 1, 1, 5, 7, 16),
    TILE("5_6_plane84", 5, 6, 1, 1, 7, 12),
    TILE("6_4_plane84", 6, 4, 1, 1, 7, 12),
    TILE("4_5_plane104", 4, 5, 1, 1, 8, 13),
    TILE("5_6_plane104", 5, 3, 1, 2, 8, 14),
    TILE("6_4_plane104", 6, 2, 2, 1, 9, 13),
    TILE("4_5_plane120", 4, 1, 1, 5, 8, 19),
    TILE("5_6_plane120", 5, 6, 1, 1, 8, 15),
    TILE("6_4_plane120", 6, 4, 1, 1, 8, 15),
    {0},
};
