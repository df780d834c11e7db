/* test_init.c — sparse, Gaussian and constant initialization. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mdl/init.h"

static int column_nonzeros(const double *w, int n_in, int n_out, int j) {
  int count = 0;
  for (int i = 0; i < n_in; i++)
    count += w[i * n_out + j] != 0;
  return count;
}

static double *sparse_f64(int n_in, int n_out, int fan_in, double scale,
                          uint64_t seed) {
  double *w = malloc((size_t)n_in * n_out * sizeof *w);
  for (int i = 0; i < n_in * n_out; i++)
    w[i] = 7.0; /* every weight not drawn must be overwritten with 0 */
  mdl_rng rng;
  mdl_rng_seed(&rng, seed);
  mdl_init_sparse(w, MDL_F64, n_in, n_out, fan_in, scale, &rng);
  return w;
}

Test(init, sparse_every_column_has_fan_in_nonzeros) {
  double *w = sparse_f64(50, 40, 15, 1.0, 1);
  for (int j = 0; j < 40; j++)
    cr_assert_eq(column_nonzeros(w, 50, 40, j), 15, "column %d", j);
  for (int i = 0; i < 50 * 40; i++)
    cr_assert(w[i] != 7.0, "element %d was left untouched", i);
  free(w);
}

Test(init, sparse_small_layer_below_connects_all_units) {
  double *w = sparse_f64(7, 30, 15, 1.0, 2);
  for (int j = 0; j < 30; j++)
    cr_assert_eq(column_nonzeros(w, 7, 30, j), 7, "column %d", j);
  free(w);
}

Test(init, sparse_weights_scale_with_multiplier) {
  int n_in = 200, n_out = 2000, fan_in = 15;
  double *w = sparse_f64(n_in, n_out, fan_in, 0.3, 3);
  double sum = 0, sum_sq = 0;
  long count = 0;
  for (long i = 0; i < (long)n_in * n_out; i++)
    if (w[i] != 0) {
      sum += w[i];
      sum_sq += w[i] * w[i];
      count++;
    }
  cr_assert_eq(count, (long)fan_in * n_out);
  double mean = sum / count;
  double std = sqrt(sum_sq / count - mean * mean);
  cr_assert_float_eq(mean, 0.0, 0.01);
  cr_assert_float_eq(std, 0.3, 0.3 * 0.02, "std %g", std);
  free(w);
}

Test(init, sparse_chooses_units_below_uniformly) {
  /* Each of 20 units below should feed 4000 * 5 / 20 = 1000 units above;
   * the count's standard deviation is about 27. */
  int n_in = 20, n_out = 4000, fan_in = 5;
  double *w = sparse_f64(n_in, n_out, fan_in, 1.0, 4);
  for (int i = 0; i < n_in; i++) {
    int count = 0;
    for (int j = 0; j < n_out; j++)
      count += w[i * n_out + j] != 0;
    cr_assert(abs(count - 1000) < 150, "unit %d feeds %d units", i, count);
  }
  free(w);
}

Test(init, sparse_is_deterministic_per_seed) {
  double *a = sparse_f64(30, 20, 15, 1.0, 5);
  double *b = sparse_f64(30, 20, 15, 1.0, 5);
  double *c = sparse_f64(30, 20, 15, 1.0, 6);
  cr_assert(memcmp(a, b, 30 * 20 * sizeof *a) == 0);
  cr_assert(memcmp(a, c, 30 * 20 * sizeof *a) != 0);
  free(a);
  free(b);
  free(c);
}

Test(init, sparse_float32_matches_float64) {
  /* The same seed draws the same weights whatever the element type. */
  double *expected = sparse_f64(30, 20, 15, 0.5, 7);
  float w[30 * 20];
  mdl_rng rng;
  mdl_rng_seed(&rng, 7);
  mdl_init_sparse(w, MDL_F32, 30, 20, 15, 0.5, &rng);
  for (int i = 0; i < 30 * 20; i++)
    cr_assert_eq(w[i], (float)expected[i], "element %d", i);
  free(expected);
}

Test(init, gaussian_has_requested_stddev) {
  size_t n = 100000;
  double *w = malloc(n * sizeof *w);
  mdl_rng rng;
  mdl_rng_seed(&rng, 8);
  mdl_init_gaussian(w, MDL_F64, n, 0.01, &rng);
  double sum = 0, sum_sq = 0;
  for (size_t i = 0; i < n; i++) {
    sum += w[i];
    sum_sq += w[i] * w[i];
  }
  double mean = sum / n;
  cr_assert_float_eq(mean, 0.0, 0.0002);
  cr_assert_float_eq(sqrt(sum_sq / n - mean * mean), 0.01, 0.0002);
  free(w);
}

Test(init, gaussian_float32) {
  float w[1000];
  mdl_rng rng;
  mdl_rng_seed(&rng, 9);
  mdl_init_gaussian(w, MDL_F32, 1000, 2.0, &rng);
  mdl_rng_seed(&rng, 9);
  for (int i = 0; i < 1000; i++)
    cr_assert_eq(w[i], (float)(2.0 * mdl_rng_gaussian(&rng)), "element %d", i);
}

Test(init, constant_sets_every_element) {
  double d[17];
  float f[17];
  mdl_init_constant(d, MDL_F64, 17, -0.25);
  mdl_init_constant(f, MDL_F32, 17, 3.5);
  for (int i = 0; i < 17; i++) {
    cr_assert_eq(d[i], -0.25);
    cr_assert_eq(f[i], 3.5f);
  }
}
