/* The finiteness scans (finite.h), compiled for each instruction set
 * (isa_variants.h): integer compares, the same answer in every copy. */
#include "finite.h"

#include <stdint.h>
#include <string.h>

#include "isa_variants.h"

/* 1 for inf or NaN: every exponent bit set. */
static inline uint32_t nonfinite(float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    return (b & 0x7f800000u) == 0x7f800000u;
}

static inline __attribute__((always_inline)) int all_finite_body(const float *x, size_t n)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) bad |= nonfinite(x[i]);
    return !bad;
}

static inline __attribute__((always_inline)) int all_finite_diff_body(const float *a,
                                                                      const float *b, size_t n)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) bad |= nonfinite(a[i] - b[i]);
    return !bad;
}

CLIFF_ISA_VARIANTS_RET(int, all_finite, (const float *x, size_t n), (x, n))
CLIFF_ISA_VARIANTS_RET(int, all_finite_diff, (const float *a, const float *b, size_t n), (a, b, n))

int cliff_all_finite(const float *x, size_t n) { return all_finite(x, n); }

int cliff_all_finite_diff(const float *a, const float *b, size_t n)
{
    return all_finite_diff(a, b, n);
}
