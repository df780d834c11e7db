/* test_rng.c — the reproducible generator (runtime/rng.c). Tolerances are
 * several standard errors wide, so the tests do not flake for a fixed seed
 * yet catch a biased or broken generator. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "mdl/rng.h"

enum { DRAWS = 100000 };

Test(rng, same_seed_same_stream) {
  mdl_rng a, b;
  mdl_rng_seed(&a, 12345);
  mdl_rng_seed(&b, 12345);
  for (int i = 0; i < 1000; i++)
    cr_assert_eq(mdl_rng_next(&a), mdl_rng_next(&b), "draw %d differs", i);
  mdl_rng_seed(&a, 12345);
  mdl_rng_seed(&b, 12345);
  for (int i = 0; i < 1000; i++)
    cr_assert_eq(mdl_rng_gaussian(&a), mdl_rng_gaussian(&b),
                 "gaussian %d differs", i);
}

Test(rng, reseeding_restarts_the_stream) {
  mdl_rng a;
  mdl_rng_seed(&a, 5);
  (void)mdl_rng_gaussian(&a); /* leaves a spare behind */
  uint64_t first = mdl_rng_next(&a);
  mdl_rng_seed(&a, 5);
  double g = mdl_rng_gaussian(&a);
  mdl_rng_seed(&a, 5);
  cr_assert_eq(mdl_rng_gaussian(&a), g, "a stale spare survived reseeding");
  mdl_rng_seed(&a, 5);
  (void)mdl_rng_gaussian(&a);
  cr_assert_eq(mdl_rng_next(&a), first);
}

Test(rng, different_seeds_differ) {
  uint64_t seeds[4] = {0, 1, 2, 0xffffffffffffffffULL};
  uint64_t first[4][64];
  for (int s = 0; s < 4; s++) {
    mdl_rng r;
    mdl_rng_seed(&r, seeds[s]);
    for (int i = 0; i < 64; i++)
      first[s][i] = mdl_rng_next(&r);
  }
  for (int s = 0; s < 4; s++)
    for (int t = s + 1; t < 4; t++)
      for (int i = 0; i < 64; i++)
        cr_assert_neq(first[s][i], first[t][i], "seeds %d and %d, draw %d", s,
                      t, i);
}

Test(rng, uniform_is_in_unit_interval_with_right_moments) {
  mdl_rng r;
  mdl_rng_seed(&r, 1);
  double sum = 0, sum_sq = 0;
  for (int i = 0; i < DRAWS; i++) {
    double u = mdl_rng_uniform(&r);
    cr_assert(u >= 0.0 && u < 1.0, "draw %d is %.17g", i, u);
    sum += u;
    sum_sq += u * u;
  }
  double mean = sum / DRAWS, var = sum_sq / DRAWS - mean * mean;
  /* Standard errors: 0.0009 for the mean, 0.0002 for the variance. */
  cr_assert(fabs(mean - 0.5) < 0.005, "mean %g", mean);
  cr_assert(fabs(var - 1.0 / 12) < 0.002, "variance %g", var);
}

Test(rng, gaussian_has_zero_mean_unit_variance) {
  mdl_rng r;
  mdl_rng_seed(&r, 2);
  double sum = 0, sum_sq = 0, sum_4 = 0;
  for (int i = 0; i < DRAWS; i++) {
    double g = mdl_rng_gaussian(&r);
    cr_assert(isfinite(g));
    sum += g;
    sum_sq += g * g;
    sum_4 += g * g * g * g;
  }
  double mean = sum / DRAWS, var = sum_sq / DRAWS - mean * mean;
  /* Standard errors: 0.0032 for the mean, 0.0045 for the variance. */
  cr_assert(fabs(mean) < 0.02, "mean %g", mean);
  cr_assert(fabs(var - 1) < 0.03, "variance %g", var);
  cr_assert(fabs(sum_4 / DRAWS - 3) < 0.15, "fourth moment %g", sum_4 / DRAWS);
}

Test(rng, below_stays_in_range_and_hits_every_value) {
  mdl_rng r;
  mdl_rng_seed(&r, 3);
  int counts[7] = {0};
  for (int i = 0; i < 14000; i++) {
    uint64_t x = mdl_rng_below(&r, 7);
    cr_assert_lt(x, 7, "draw %d is %llu", i, (unsigned long long)x);
    counts[x]++;
  }
  for (int v = 0; v < 7; v++)
    cr_assert(counts[v] > 1800 && counts[v] < 2200, "value %d drawn %d times",
              v, counts[v]);
  for (int i = 0; i < 100; i++)
    cr_assert_eq(mdl_rng_below(&r, 1), 0);
  /* A bound near 2^64 must still be respected. */
  uint64_t big = 0xc000000000000000ULL;
  for (int i = 0; i < 1000; i++)
    cr_assert_lt(mdl_rng_below(&r, big), big);
}

Test(rng, shuffle_is_a_permutation) {
  mdl_rng r;
  mdl_rng_seed(&r, 4);
  int perm[100], seen[100] = {0};
  for (int i = 0; i < 100; i++)
    perm[i] = i;
  mdl_rng_shuffle(&r, perm, 100);
  int moved = 0;
  for (int i = 0; i < 100; i++) {
    cr_assert(perm[i] >= 0 && perm[i] < 100);
    seen[perm[i]]++;
    moved += perm[i] != i;
  }
  for (int i = 0; i < 100; i++)
    cr_assert_eq(seen[i], 1, "value %d appears %d times", i, seen[i]);
  cr_assert_gt(moved, 80, "only %d of 100 values moved", moved);
}

Test(rng, shuffle_positions_are_uniform) {
  /* Where element 0 of a 4-array ends up: each place with probability 1/4. */
  mdl_rng r;
  mdl_rng_seed(&r, 6);
  int where[4] = {0};
  for (int t = 0; t < 8000; t++) {
    int perm[4] = {0, 1, 2, 3};
    mdl_rng_shuffle(&r, perm, 4);
    for (int k = 0; k < 4; k++)
      if (perm[k] == 0)
        where[k]++;
  }
  for (int k = 0; k < 4; k++)
    cr_assert(where[k] > 1800 && where[k] < 2200, "place %d: %d", k, where[k]);
}
