#include "finite.h"

#include <stdint.h>
#include <string.h>

/* 1 for inf or NaN: every exponent bit set. */
static inline uint32_t nonfinite(float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    return (b & 0x7f800000u) == 0x7f800000u;
}

int cliff_all_finite(const float *x, size_t n)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) bad |= nonfinite(x[i]);
    return !bad;
}

int cliff_all_finite_diff(const float *a, const float *b, size_t n)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) bad |= nonfinite(a[i] - b[i]);
    return !bad;
}
