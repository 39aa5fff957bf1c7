/* The one random number generator of a run (xoshiro256**, seeded through
 * splitmix64). Seeded once by the solver from random_seed and passed down to
 * fillers and layers; its whole state is four words so a snapshot can hold it
 * and a resumed run draws the same numbers. Never use rand(). */
#ifndef CLIFF_RNG_H
#define CLIFF_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct CliffRng {
    uint64_t s[4];
} CliffRng;

void cliff_rng_seed(CliffRng *rng, uint64_t seed);
uint64_t cliff_rng_next(CliffRng *rng);
/* Uniform in [0, 1) with 24 random bits (exactly representable as float). */
float cliff_rng_uniform01(CliffRng *rng);
/* Uniform in [a, b) (Caffe's caffe_rng_uniform; a == b gives a). */
float cliff_rng_uniform(CliffRng *rng, float a, float b);
/* Normal(mean, stddev) by Box-Muller, one draw per call (no cached spare, so
 * the state stays the four words). */
float cliff_rng_gaussian(CliffRng *rng, float mean, float stddev);
/* x[0..n) <- Normal(mean, stddev), a function of (key, n) only, whatever the
 * thread count (rng_normal.c: vectorized Box-Muller over blocks, split over
 * the fork-join). Callers take key = cliff_rng_next(rng): one draw per fill. */
void cliff_rng_normal_fill(uint64_t key, float *x, size_t n, float mean, float stddev);
/* Uniform integer in [0, n); n > 0. Unbiased (rejection). */
uint64_t cliff_rng_below(CliffRng *rng, uint64_t n);
/* 1 with probability p. */
int cliff_rng_bernoulli(CliffRng *rng, float p);

#endif
