/*
 * rng.h — explicit-state random numbers (splitmix64 seeding, xoshiro256** stream).
 * rand() is not used anywhere; every consumer owns a struct rng seeded from the run seed.
 */
#ifndef DN_RNG_H
#define DN_RNG_H

#include <stdint.h>

struct rng {
    uint64_t s[4];
};

/* Seeds a stream; different (seed, stream) pairs give independent sequences. */
void rng_seed(struct rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_next(struct rng *r);
/* Uniform float in [0,1) with 24 random bits. */
float rng_uniform01(struct rng *r);
/* Uniform float in [lo,hi). */
float rng_uniform(struct rng *r, float lo, float hi);
/* Uniform integer in [lo,hi] inclusive. */
int rng_int(struct rng *r, int lo, int hi);

#endif
