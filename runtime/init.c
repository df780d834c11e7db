/* init.c — random initialization of parameter blocks; see mdl/init.h. */
#include "mdl/init.h"

#include <stdlib.h>

/* Draws `count` distinct indices from 0..n-1 into units[0..count) by a
 * partial Fisher-Yates shuffle. units must hold 0..n-1 in some order on
 * entry; any order works, so the caller can reuse it without resetting. */
static void choose_distinct(int *units, int n, int count, mdl_rng *rng) {
  for (int i = 0; i < count; i++) {
    int j = i + (int)mdl_rng_below(rng, (uint64_t)(n - i));
    int tmp = units[i];
    units[i] = units[j];
    units[j] = tmp;
  }
}

void mdl_init_sparse(void *w, mdl_dtype type, int n_in, int n_out, int fan_in,
                     double scale, mdl_rng *rng) {
  size_t n = (size_t)n_in * (size_t)n_out;
  mdl_init_constant(w, type, n, 0.0);
  if (n_in <= 0 || n_out <= 0 || fan_in <= 0)
    return;
  int connections = fan_in < n_in ? fan_in : n_in;
  int *units = mdl_alloc((size_t)n_in * sizeof *units);
  for (int i = 0; i < n_in; i++)
    units[i] = i;
  for (int j = 0; j < n_out; j++) {
    choose_distinct(units, n_in, connections, rng);
    for (int c = 0; c < connections; c++) {
      size_t index = (size_t)units[c] * (size_t)n_out + (size_t)j;
      mdl_set(w, type, index, mdl_rng_gaussian(rng) * scale);
    }
  }
  free(units);
}

void mdl_init_gaussian(void *w, mdl_dtype type, size_t n, double stddev,
                       mdl_rng *rng) {
  for (size_t i = 0; i < n; i++)
    mdl_set(w, type, i, mdl_rng_gaussian(rng) * stddev);
}

void mdl_init_constant(void *w, mdl_dtype type, size_t n, double value) {
  for (size_t i = 0; i < n; i++)
    mdl_set(w, type, i, value);
}
