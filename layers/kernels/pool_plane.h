/* Pooling of one plane, any window, stride and padding (Caffe's PoolingLayer
 * semantics, layers/pooling.c), vectorized across the output columns whose
 * window lies inside the image; edge columns take the scalar path. The
 * candidates of a window are visited in the same row-major order on both
 * paths, so the results (and the MAX argmax, first maximum wins) are the
 * same bits as the scalar definition. */
#ifndef CLIFF_POOL_PLANE_H
#define CLIFF_POOL_PLANE_H

typedef struct CliffPoolGeom {
    int H, W, oh, ow; /* input plane, output plane */
    int kh, kw, sh, sw, ph, pw;
} CliffPoolGeom;

/* MAX: window rows [py*sh - ph, +kh) and columns likewise, clipped to the
 * image; y gets the first maximum in row-major order (a later candidate wins
 * only when strictly greater, so NaN never takes over), mask its index
 * h*W + w in the plane. */
void cliff_pool_max_plane(const CliffPoolGeom *g, const float *x, float *y, int *mask);
/* The same as cliff_pool_max_plane (same bits) on AVX-512 for horizontal
 * stride 1 or 2 (pool_max512.c): call only when sw <= 2 and
 * cliff_gemm_avx512_usable() (blas.h) says 1. */
void cliff_pool_max_plane_avx512(const CliffPoolGeom *g, const float *x, float *y, int *mask);
/* AVE: the sum over the window clipped to the image (row-major order, from
 * 0), divided by the window's size clipped to [-pad, size + pad). */
void cliff_pool_ave_plane(const CliffPoolGeom *g, const float *x, float *y);
/* The same as cliff_pool_ave_plane (same bits) on AVX-512 for horizontal
 * stride 1 or 2 (pool_ave512.c): call only when sw <= 2 and
 * cliff_gemm_avx512_usable() (blas.h) says 1. */
void cliff_pool_ave_plane_avx512(const CliffPoolGeom *g, const float *x, float *y);

#endif
