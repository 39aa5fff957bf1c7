/* Gradient-check cases for the matrix-engine convolution path
 * (layers/kernels/conv_gemm.c, conv_pack.c): the geometries its packers and
 * chunking must get right. test_gradcheck runs them on the default path and
 * again with the shifted-row path off (cliff_avx512_allow(0), so stride-1
 * cases reach the engine too) on each instruction set of the engine
 * (AVX-512, AVX2, generic). Each case names what it reaches:
 *   k11_s4     stride 4 with a kernel wider than the stride, 9 columns an image
 *   group2     group offsets of the image and of the weights
 *   dilation2  dilated rows and columns with pad
 *   1x1        the pointwise rewrite: several images a product / one image
 *              through the dense source (batch 1)
 *   pad2_s2    pad larger than half the kernel with stride 2: zero edges
 *   p289       289 columns an image: one image a product, the data gradient
 *              in two blocks of columns (256 + 33), 5 chunks in 4
 *              weight-gradient groups (2 + 1 + 1 + 1)
 *   Deconvolution stride 2 group 2: the col2im product as forward, the im2col
 *              product as data gradient */
#include "gradcheck.h"

#define G4(n, c, h, w) {4, {n, c, h, w}, FILL_GAUSSIAN, 0, 0, 0}
#define FILLERS " weight_filler { type: 'gaussian' std: 0.5 } bias_filler { type: 'gaussian' std: 0.5 }"
#define CONV(text) "type: 'Convolution' convolution_param { " text FILLERS " }"
#define DECONV(text) "type: 'Deconvolution' convolution_param { " text FILLERS " }"

const GradCase grad_cases_engine[] = {
    {.name = "Convolution/engine_k11_s4",
     .layer = CONV("num_output: 3 kernel_size: 11 stride: 4"),
     .nbottom = 1, .bottom = {G4(2, 1, 19, 19)}, .ntop = 1},
    {.name = "Convolution/engine_group2",
     .layer = CONV("num_output: 4 kernel_size: 3 pad: 1 group: 2"),
     .nbottom = 1, .bottom = {G4(2, 4, 5, 6)}, .ntop = 1},
    {.name = "Convolution/engine_dilation2",
     .layer = CONV("num_output: 3 kernel_size: 3 dilation: 2 pad: 2"),
     .nbottom = 1, .bottom = {G4(2, 2, 7, 6)}, .ntop = 1},
    {.name = "Convolution/engine_1x1",
     .layer = CONV("num_output: 5 kernel_size: 1"),
     .nbottom = 1, .bottom = {G4(3, 4, 3, 5)}, .ntop = 1},
    {.name = "Convolution/engine_1x1_batch1",
     .layer = CONV("num_output: 2 kernel_size: 1 group: 2"),
     .nbottom = 1, .bottom = {G4(1, 4, 4, 4)}, .ntop = 1},
    {.name = "Convolution/engine_pad2_s2",
     .layer = CONV("num_output: 3 kernel_size: 3 pad: 2 stride: 2"),
     .nbottom = 1, .bottom = {G4(2, 3, 7, 6)}, .ntop = 1},
    {.name = "Convolution/engine_p289",
     .layer = CONV("num_output: 2 kernel_size: 3 pad: 1"),
     .nbottom = 1, .bottom = {G4(5, 1, 17, 17)}, .ntop = 1},
    {.name = "Deconvolution/engine_s2_group2",
     .layer = DECONV("num_output: 4 kernel_size: 3 stride: 2 pad: 1 group: 2"),
     .nbottom = 1, .bottom = {G4(2, 4, 3, 3)}, .ntop = 1},
    {0},
};
