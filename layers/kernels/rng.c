#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void cliff_rng_seed(CliffRng *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t cliff_rng_next(CliffRng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float cliff_rng_uniform01(CliffRng *rng)
{
    return (float)(cliff_rng_next(rng) >> 40) * (1.0f / 16777216.0f);
}

float cliff_rng_uniform(CliffRng *rng, float a, float b)
{
    return a + (b - a) * cliff_rng_uniform01(rng);
}

float cliff_rng_gaussian(CliffRng *rng, float mean, float stddev)
{
    /* u1 in (0, 1]: avoids log(0). */
    double u1 = ((double)(cliff_rng_next(rng) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(cliff_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
    double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    return (float)(mean + stddev * z);
}

uint64_t cliff_rng_below(CliffRng *rng, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = cliff_rng_next(rng);
    while (x >= limit);
    return x % n;
}

int cliff_rng_bernoulli(CliffRng *rng, float p) { return cliff_rng_uniform01(rng) < p; }
