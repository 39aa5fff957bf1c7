/* The switch for the layers' own AVX-512 paths outside the matrix engine
 * (conv_fast.c, pool_fast.c): cliff_gemm_avx512_usable (blas.h). They follow
 * the engine's instruction set (gemm.h: the CPU, CLIFF_ISA, a forced set), so
 * CLIFF_ISA=avx2 runs a whole net without any AVX-512 instruction. */
#include "blas.h"

#include "gemm.h"

static int avx512_allowed = 1;

void cliff_avx512_allow(int on) { avx512_allowed = on; }

int cliff_gemm_avx512_usable(void)
{
    return avx512_allowed && cliff_gemm_isa() == CLIFF_ISA_AVX512;
}
