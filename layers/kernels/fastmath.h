/* exp, sigmoid and tanh in plain branch-free float arithmetic, so that a loop
 * over them vectorizes (libm's expf and tanhf are calls that stop the
 * vectorizer; they were a third of an LSTM's time). Every operation is
 * element-wise IEEE float arithmetic with no contraction (-std=c11), so a
 * vectorized loop gives the bits of the scalar one, on every instruction set
 * (isa_variants.h builds such a loop for AVX-512, AVX2 and plain
 * x86-64).
 *
 * Accuracy: cliff_expf within 2 ulp of exp for x in [-87, 88] (arguments are
 * clamped there: exp(-87) ~ 1.6e-38, exp(88) ~ 1.7e38); cliff_sigmoidf and
 * cliff_tanhf within 2e-7 absolute of the exact values, saturating to 0, 1
 * and -1, 1 without inf or NaN for finite inputs. NaN inputs give NaN. */
#ifndef CLIFF_FASTMATH_H
#define CLIFF_FASTMATH_H

#include <stdint.h>
#include <string.h>

#include "isa_variants.h" /* CLIFF_ISA_VARIANTS, for the loops over these */

/* exp(x) = 2^n e^r, n = round(x / ln 2), r = x - n ln 2 (ln 2 in two parts,
 * so r is exact), e^r by its Taylor series to r^7 (|r| <= 0.347: the
 * remainder is below 6e-9 relative). */
static inline float cliff_expf(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    const float shifter = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    const float t = x * 1.44269504088896341f + shifter;
    const float nf = t - shifter;
    const float r = (x - nf * 0.693145751953125f) - nf * 1.428606765330187045e-06f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    /* n sits in the low mantissa bits of t: 2^n = (n + 127) << 23, n in [-126, 127]
     * (unsigned arithmetic: no conversion or shift of a NaN's garbage is undefined) */
    uint32_t tb, sb;
    memcpy(&tb, &t, sizeof tb);
    memcpy(&sb, &shifter, sizeof sb);
    const uint32_t bits = (tb - sb + 127u) * (1u << 23);
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float cliff_sigmoidf(float x) { return 1.0f / (1.0f + cliff_expf(-x)); }

/* tanh(x) = 1 - 2 / (e^{2x} + 1) */
static inline float cliff_tanhf(float x) { return 1.0f - 2.0f / (cliff_expf(2.0f * x) + 1.0f); }

#endif
