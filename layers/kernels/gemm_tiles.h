/* The register tiles of the matrix engine (gemm_tiles.c), one per instruction
 * set, all with one contract:
 *
 *   C[rows x cols] (row stride ldc) = (accumulate ? C : 0) + Ap * Bp
 *
 * where Ap is a packed panel of MR rows (ap[k*MR + i], kc steps) and Bp a
 * packed panel of NR columns (bp[k*NR + j]); rows <= MR, cols <= NR; only
 * C's first rows x cols are read or written. Every element is accumulated in
 * k order with one fused multiply-add per step, so all tiles give the same
 * bits. */
#ifndef CLIFF_GEMM_TILES_H
#define CLIFF_GEMM_TILES_H

#include <stddef.h>

#define CLIFF_GEMM_MR 6

typedef void (*CliffGemmTile)(int kc, const float *ap, const float *bp, float *c,
                              ptrdiff_t ldc, int rows, int cols, int accumulate);

void cliff_gemm_tile_generic(int kc, const float *ap, const float *bp, float *c, ptrdiff_t ldc,
                             int rows, int cols, int accumulate);
/* Only on x86-64 with GCC or Clang; call only when the CPU has the set. */
void cliff_gemm_tile_avx2(int kc, const float *ap, const float *bp, float *c, ptrdiff_t ldc,
                          int rows, int cols, int accumulate);
void cliff_gemm_tile_avx512(int kc, const float *ap, const float *bp, float *c, ptrdiff_t ldc,
                            int rows, int cols, int accumulate);

#endif
