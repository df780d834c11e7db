/* rng.c — xoshiro256** seeded by splitmix64; see mdl/rng.h. */
#include "mdl/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void mdl_rng_seed(mdl_rng *rng, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++)
    rng->state[i] = splitmix64(&x);
  rng->has_spare = 0;
  rng->spare_gaussian = 0;
}

uint64_t mdl_rng_next(mdl_rng *rng) {
  uint64_t *s = rng->state;
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

double mdl_rng_uniform(mdl_rng *rng) {
  return (double)(mdl_rng_next(rng) >> 11) * 0x1.0p-53;
}

uint64_t mdl_rng_below(mdl_rng *rng, uint64_t n) {
  /* Reject the top partial copy of [0, n) so every value is equally likely. */
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do
    x = mdl_rng_next(rng);
  while (x >= limit);
  return x % n;
}

double mdl_rng_gaussian(mdl_rng *rng) {
  if (rng->has_spare) {
    rng->has_spare = 0;
    return rng->spare_gaussian;
  }
  double u, v, s;
  do {
    u = 2 * mdl_rng_uniform(rng) - 1;
    v = 2 * mdl_rng_uniform(rng) - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  double f = sqrt(-2 * log(s) / s);
  rng->spare_gaussian = v * f;
  rng->has_spare = 1;
  return u * f;
}

void mdl_rng_shuffle(mdl_rng *rng, int *perm, size_t n) {
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)mdl_rng_below(rng, i);
    int tmp = perm[i - 1];
    perm[i - 1] = perm[j];
    perm[j] = tmp;
  }
}
