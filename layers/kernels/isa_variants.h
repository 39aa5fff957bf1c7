/* One loop, three instruction sets: CLIFF_ISA_VARIANTS compiles a loop body
 * for AVX-512, AVX2 and plain x86-64 (the build's target) and dispatches on
 * the matrix engine's instruction set (cliff_gemm_isa: CLIFF_ISA=avx2 or
 * generic selects the lower copies, as for every other AVX-512 path).
 *
 * Bits: a body of element-wise IEEE float arithmetic gives the same bits in
 * every copy (no contraction under -std=c11; a reduction keeps the order its
 * C states, as the compiler may not reassociate). From
 *     static inline __attribute__((always_inline)) void NAME_body PARAMS
 * CLIFF_ISA_VARIANTS(NAME, PARAMS, ARGS) defines `static void NAME PARAMS`;
 * CLIFF_ISA_VARIANTS_RET(TYPE, NAME, PARAMS, ARGS) the same for a body that
 * returns TYPE. */
#ifndef CLIFF_ISA_VARIANTS_H
#define CLIFF_ISA_VARIANTS_H

#include "gemm.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define CLIFF_ISA_VARIANTS_RET(type, name, params, args)                                \
    static type name##_generic params { return name##_body args; }                      \
    __attribute__((target("avx2"))) static type name##_avx2 params                      \
    {                                                                                   \
        return name##_body args;                                                        \
    }                                                                                   \
    __attribute__((target("avx512f"))) static type name##_avx512 params                 \
    {                                                                                   \
        return name##_body args;                                                        \
    }                                                                                   \
    static type name params                                                             \
    {                                                                                   \
        const int isa_ = cliff_gemm_isa();                                              \
        if (isa_ == CLIFF_ISA_AVX512) return name##_avx512 args;                        \
        if (isa_ == CLIFF_ISA_AVX2) return name##_avx2 args;                            \
        return name##_generic args;                                                     \
    }
#define CLIFF_ISA_VARIANTS(name, params, args)                                          \
    static void name##_generic params { name##_body args; }                             \
    __attribute__((target("avx2"))) static void name##_avx2 params { name##_body args; } \
    __attribute__((target("avx512f"))) static void name##_avx512 params                  \
    {                                                                                   \
        name##_body args;                                                               \
    }                                                                                   \
    static void name params                                                             \
    {                                                                                   \
        const int isa_ = cliff_gemm_isa();                                              \
        if (isa_ == CLIFF_ISA_AVX512)                                                   \
            name##_avx512 args;                                                         \
        else if (isa_ == CLIFF_ISA_AVX2)                                                \
            name##_avx2 args;                                                           \
        else                                                                            \
            name##_generic args;                                                        \
    }
#else
#define CLIFF_ISA_VARIANTS_RET(type, name, params, args) \
    static type name params { return name##_body args; }
#define CLIFF_ISA_VARIANTS(name, params, args) \
    static void name params { name##_body args; }
#endif

#endif
