/* mdl/rng.h — the reproducible pseudo-random number generator.
 *
 * xoshiro256** (Blackman & Vigna 2018), its 256-bit state filled from the
 * 64-bit seed by splitmix64. The same seed gives the same stream on every
 * machine: uniform doubles take the top 53 bits of a draw, integers below n
 * are drawn by rejection (no modulo bias), and Gaussian draws use the
 * Marsaglia polar method, keeping the second value of each pair. */
#ifndef MDL_RNG_H
#define MDL_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint64_t state[4];
  double spare_gaussian; /* the second value of the last polar pair */
  int has_spare;
} mdl_rng;

void mdl_rng_seed(mdl_rng *rng, uint64_t seed);
uint64_t mdl_rng_next(mdl_rng *rng);
double mdl_rng_uniform(mdl_rng *rng);             /* in [0, 1) */
uint64_t mdl_rng_below(mdl_rng *rng, uint64_t n); /* in [0, n), n > 0 */
double mdl_rng_gaussian(mdl_rng *rng);            /* N(0, 1) */

/* Fisher-Yates shuffle of perm[0..n). */
void mdl_rng_shuffle(mdl_rng *rng, int *perm, size_t n);

#endif
