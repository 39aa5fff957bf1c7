/* Bulk normal draws (rng.h, cliff_rng_normal_fill): Box-Muller on blocks,
 * with the logarithm, sine and cosine as float polynomials that the compiler
 * vectorizes, blocks shared out by the fork-join.
 *
 * The numbers are a function of (key, n) alone. Pair j of the fill takes the
 * 64-bit word splitmix64(key + (j + 1) * GAMMA) (the splitmix64 stream that
 * starts at key; a counter-based generator, so any block can be drawn without
 * the ones before it): its high 32 bits give the radius, its low 32 bits the
 * angle. Block b holds the pairs [b * PAIRS, ...) and writes their cosines to
 * its first half and their sines to its second half; a short last block does
 * the same with its own half (an odd count drops the last sine). Which thread
 * runs a block never changes what it writes.
 *
 * Radius: u = (floor(hi / 2) + 1/2) * 2^-31 in (0, 1] (rounded to float),
 * r = sqrt(-2 ln u); the largest |z| is sqrt(64 ln 2) = 6.66, so the tail
 * past it, of probability 2.7e-11, is the only part of the normal law
 * missing. Angle: theta = q * pi/2 + phi, with the quadrant q the top two
 * bits of lo and phi = (the low 30 bits as a signed fraction) * pi/4 uniform
 * in [-pi/4, pi/4): theta is uniform modulo 2 pi.
 *
 * Polynomials (Taylor series, truncation error below float rounding on their
 * ranges): ln m for m in [sqrt(1/2), sqrt(2)) as 2 atanh(s), s = (m-1)/(m+1),
 * |s| <= 0.172, up to s^9 (next term < 1e-9); sin and cos on [-pi/4, pi/4]
 * up to x^9 and x^10 (next terms < 2e-9). Every operation is an IEEE add,
 * multiply, divide, square root or conversion, never contracted (ISO C), so
 * the bits do not depend on the vector width the compiler picked (checked:
 * the same bits with -march=x86-64, x86-64-v3, x86-64-v4 and -O0). */
#include "rng.h"

#include <math.h>
#include <string.h>

#include "fork_join.h"
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The block loop compiled for AVX-512, AVX2 and the baseline, picked at load
 * time by the CPU (GCC function multi-versioning): the same bits from each,
 * 3x faster on AVX-512 than with SSE2 alone. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

#define GAMMA 0x9E3779B97F4A7C15ull
/* Pairs a block: 16 KB of output, two 8 KB halves. */
#define PAIRS 2048

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint32_t bits_of(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

static inline float float_of(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

/* ln u for u in (0, 1], exponent and mantissa split by bits (selects by
 * masks, not branches, so that the loop vectorizes). */
static inline float ln01(float u)
{
    const uint32_t bits = bits_of(u);
    /* m in [1, 2); above sqrt(2) (mantissa bits past 0x3504F3) it is halved
     * by taking one from the exponent field instead */
    const uint32_t big = (uint32_t)((bits & 0x007FFFFFu) > 0x003504F3u);
    const float m = float_of((bits & 0x007FFFFFu) | (0x3F800000u - (big << 23)));
    const int32_t e = (int32_t)(bits >> 23) - 127 + (int32_t)big;
    const float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
    const float p =
        1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9))));
    return (float)e * 0.693147181f + 2.0f * s * p;
}

/* t[j] <- sqrt(t[j]), t[j] >= 0. A plain sqrtf loop does not vectorize
 * (errno handling); the instruction is the same correctly rounded root. */
static void sqrt_array(float *t, size_t n)
{
    size_t j = 0;
#ifdef __SSE2__
    for (; j + 4 <= n; j += 4) _mm_storeu_ps(t + j, _mm_sqrt_ps(_mm_loadu_ps(t + j)));
#endif
    for (; j < n; j++) t[j] = sqrtf(t[j]);
}

/* One block: n values at x from the pairs [pair0, pair0 + ceil(n / 2)). */
CLONES static void normal_block(uint64_t key, uint64_t pair0, size_t n, float mean, float stddev,
                         float *x)
{
    uint32_t hi[PAIRS], lo[PAIRS];
    const size_t np = (n + 1) / 2;
    uint64_t z = key + (pair0 + 1) * GAMMA;
    for (size_t j = 0; j < np; j++, z += GAMMA) {
        const uint64_t w = mix64(z);
        hi[j] = (uint32_t)(w >> 32);
        lo[j] = (uint32_t)w;
    }
    float r[PAIRS], c[PAIRS], s[PAIRS];
    for (size_t j = 0; j < np; j++) {
        const float u = ((float)(int32_t)(hi[j] >> 1) + 0.5f) * 0x1p-31f;
        r[j] = -2.0f * ln01(u);
    }
    sqrt_array(r, np);
    for (size_t j = 0; j < np; j++) {
        const float phi = (float)(int32_t)(lo[j] << 2) * (0x1p-31f * 0.785398163f);
        const float p2 = phi * phi;
        const float sn =
            phi * (1.0f + p2 * (-1.0f / 6 + p2 * (1.0f / 120 + p2 * (-1.0f / 5040 +
                                                                     p2 * (1.0f / 362880)))));
        const float cs =
            1.0f + p2 * (-0.5f + p2 * (1.0f / 24 + p2 * (-1.0f / 720 + p2 * (1.0f / 40320 +
                                                                            p2 * (-1.0f / 3628800)))));
        /* (cos, sin) of q*pi/2 + phi, q = lo >> 30: an odd q swaps them; the
         * cosine is negative for q = 1, 2, the sine for q = 2, 3 */
        const uint32_t q = lo[j] >> 30, swap = 0u - (q & 1u);
        const uint32_t bc = bits_of(cs), bs = bits_of(sn);
        const uint32_t cq = (bc & ~swap) | (bs & swap), sq = (bs & ~swap) | (bc & swap);
        c[j] = r[j] * float_of(cq ^ (((q ^ (q >> 1)) & 1u) << 31));
        s[j] = r[j] * float_of(sq ^ ((q >> 1) << 31));
    }
    for (size_t j = 0; j < np; j++) x[j] = mean + stddev * c[j];
    for (size_t j = np; j < n; j++) x[j] = mean + stddev * s[j - np];
}

typedef struct NormalJob {
    uint64_t key;
    float *x;
    size_t n;
    float mean, stddev;
} NormalJob;

/* Blocks a fork-join chunk (64 KB of output: worth a hand-off). */
#define BLOCKS_PER_CHUNK 4

static void normal_chunk(void *arg, int chunk, int thread)
{
    (void)thread;
    const NormalJob *j = arg;
    for (size_t b = (size_t)chunk * BLOCKS_PER_CHUNK; b < (size_t)(chunk + 1) * BLOCKS_PER_CHUNK;
         b++) {
        const size_t off = b * 2 * PAIRS;
        if (off >= j->n) break;
        const size_t len = j->n - off < 2 * PAIRS ? j->n - off : 2 * PAIRS;
        normal_block(j->key, (uint64_t)b * PAIRS, len, j->mean, j->stddev, j->x + off);
    }
}

void cliff_rng_normal_fill(uint64_t key, float *x, size_t n, float mean, float stddev)
{
    NormalJob j = {key, x, n, mean, stddev};
    const size_t per = (size_t)BLOCKS_PER_CHUNK * 2 * PAIRS;
    const size_t chunks = (n + per - 1) / per;
    /* chunks < 2^31 for any n that fits in memory (2^47 floats) */
    cliff_fj_for((int)chunks, normal_chunk, &j);
}
