/* The switch for the layers' own AVX-512 paths outside the matrix engine
 * (conv_fast.c): cliff_gemm_avx512_usable (blas.h). */
#include "blas.h"

static int avx512_allowed = 1;

void cliff_avx512_allow(int on) { avx512_allowed = on; }

int cliff_gemm_avx512_usable(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static int cpu = -1; /* a benign race: every thread computes the same value */
    if (cpu < 0) {
        __builtin_cpu_init();
        cpu = __builtin_cpu_supports("avx512f") ? 1 : 0;
    }
    return avx512_allowed && cpu;
#else
    return 0;
#endif
}
