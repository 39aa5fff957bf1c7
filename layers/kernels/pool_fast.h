/* MAX pooling with a 2x2 window, stride 2, no padding, over planes of even
 * height and width, on AVX-512 (layers/pool_fast.c): 16 windows at a time,
 * planes shared out by the fork-join (fork_join.h). The window order and
 * tie rule are pooling.c's: candidates (0,0), (0,1), (1,0), (1,1), a later
 * one wins only when strictly greater (so NaN never wins); mask gets the
 * winner's index h*W + w inside its plane. Call only when
 * cliff_gemm_avx512_usable() (blas.h) says 1; rows of fewer than 8 windows
 * waste most of each vector. */
#ifndef CLIFF_POOL_FAST_H
#define CLIFF_POOL_FAST_H

/* x: planes x H x W -> y, mask: planes x H/2 x W/2. fork 0: every plane in
 * the caller (a pass too short to pay for the fork-join); the bits are the
 * same either way. */
void cliff_pool_max2_forward(const float *x, int planes, int H, int W, float *y, int *mask,
                             int fork);
/* dx (planes x H x W, overwritten): dy at each window's winner, 0 elsewhere. */
void cliff_pool_max2_backward(const float *dy, const int *mask, int planes, int H, int W,
                              float *dx, int fork);

#endif
