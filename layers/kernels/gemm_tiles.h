/* The register tiles of the matrix engine (gemm_tiles.c), one per instruction
 * set, all with one contract:
 *
 *   C[rows x cols] (row stride ldc) = (accumulate ? C : 0) + A * Bp
 *
 * where A(i, k) = a[i][k * acs] (MR row pointers: a packed panel has
 * a[i] = panel + i and acs = MR; a matrix read in place has its rows and any
 * step; pointers of rows past `rows` must still be readable: repeat the last)
 * and Bp a packed panel of NR columns (bp[k*NR + j]);
 * rows <= MR, cols <= NR; only C's first rows x cols are read or written. Every element is accumulated in
 * k order with one fused multiply-add per step, so all tiles give the same
 * bits. */
#ifndef CLIFF_GEMM_TILES_H
#define CLIFF_GEMM_TILES_H

#include <stddef.h>

#define CLIFF_GEMM_MR 6

#define CLIFF_GEMM_TILE_ARGS                                                               \
    int kc, const float *const *a, ptrdiff_t acs, const float *bp, float *c, ptrdiff_t ldc, \
        int rows, int cols, int accumulate

typedef void (*CliffGemmTile)(CLIFF_GEMM_TILE_ARGS);

/* The tile over a row-offset view of op(B) (gemm.h, cliff_gemm_rows_b), read
 * in place: B(k, j) = b[boff[k] + j]; only j < cols is read, and cols may be
 * any width (the tile steps over it 64 columns at a time). Otherwise the
 * contract above, with the same bits, and one more start: when init is not
 * NULL and accumulate is 0, row i's sums start from init[i] (a bias: the bits
 * of C filled with it and accumulated into). AVX-512 only (the other sets pack the
 * view); one specialization per row count, so a tile of fewer than MR rows
 * does only its own rows' work. */
#define CLIFF_GEMM_VTILE_ARGS                                                               \
    int kc, const float *const *a, ptrdiff_t acs, const float *b, const int *boff, float *c, \
        ptrdiff_t ldc, int rows, int cols, int accumulate, const float *init

void cliff_gemm_vtile_avx512(CLIFF_GEMM_VTILE_ARGS);

/* The scatter-add tile (gemm.h, cliff_gemm_scatter_add): rows (<= MR) of a
 * packed op(A) panel (a[i] = a[0] + i, step acs) against cols columns (any
 * width, 64 at a time) of a view read in place (B(k, j) = b[boff[k] + j]);
 * each sum runs from zero over all kc steps, then is added to
 * c[coff[i] + j]. Chunk by chunk, rows in order within a chunk. */
#define CLIFF_GEMM_STILE_ARGS                                                               \
    int kc, const float *const *a, ptrdiff_t acs, const float *b, const int *boff, float *c, \
        const int *coff, int rows, int cols

void cliff_gemm_stile_avx512(CLIFF_GEMM_STILE_ARGS);

void cliff_gemm_tile_generic(CLIFF_GEMM_TILE_ARGS);
/* Only on x86-64 with GCC or Clang; call only when the CPU has the set. */
void cliff_gemm_tile_avx2(CLIFF_GEMM_TILE_ARGS);
void cliff_gemm_tile_avx512(CLIFF_GEMM_TILE_ARGS);

#endif
