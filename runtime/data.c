/* data.c — what every data set shares: autoencoder targets, freeing, the
 * target mean, gathering a minibatch, and the minibatch sampler; see
 * mdl/data.h.
 *
 * The sampler, precisely. mdl_batcher_init fills perm with 0..n_cases-1 and
 * shuffles it with an mdl_rng seeded by seed (mdl_rng_shuffle). Each call of
 * mdl_batcher_next returns the next `batch` entries of perm, in order. When
 * fewer than `batch` entries remain unused, those few are skipped for this
 * epoch: perm is shuffled again (in place, continuing the same rng stream)
 * and the batch is taken from its start — a new epoch. So each epoch uses
 * floor(n_cases / batch) batches and every case at most once; when batch
 * divides n_cases, every case exactly once. A skipped case is as likely as
 * any other to be drawn in the next epoch. batch may equal n_cases (each
 * batch is then a fresh permutation of the whole set). batch < 1, n_cases < 1
 * or batch > n_cases is a caller error: mdl_batcher_init reports it with
 * mdl_die (the program cannot train with it, and the compiler checks it
 * where it can). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mdl/data.h"

void mdl_data_autoencode(mdl_dataset *ds) {
  if (ds->targets && ds->targets != ds->inputs)
    free(ds->targets);
  ds->targets = ds->inputs;
  ds->n_targets = ds->n_inputs;
}

void mdl_data_free(mdl_dataset *ds) {
  if (ds->targets != ds->inputs)
    free(ds->targets);
  free(ds->inputs);
  memset(ds, 0, sizeof *ds);
}

void mdl_data_target_mean(const mdl_dataset *ds, void *mean, mdl_dtype type) {
  size_t width = (size_t)ds->n_targets;
  /* Sums in double: 20000 float additions per column would lose digits. */
  double *sum = mdl_zalloc(width * sizeof(double));
  for (size_t r = 0; r < (size_t)ds->n_cases; r++) {
    const float *row = ds->targets + r * width;
    for (size_t c = 0; c < width; c++)
      sum[c] += row[c];
  }
  for (size_t c = 0; c < width; c++)
    mdl_set(mean, type, c, ds->n_cases > 0 ? sum[c] / ds->n_cases : 0.0);
  free(sum);
}

void mdl_data_gather(const mdl_dataset *ds, int which, const int *cases,
                     int rows, void *dst, mdl_dtype type) {
  if (which != 0 && which != 1)
    mdl_die("mdl_data_gather: which must be 0 (inputs) or 1 (targets), not %d",
            which);
  const float *src = which == 0 ? ds->inputs : ds->targets;
  size_t width = (size_t)(which == 0 ? ds->n_inputs : ds->n_targets);
  if (!src)
    mdl_die("mdl_data_gather: the data set (%s) has no targets", ds->source);
  for (size_t r = 0; r < (size_t)rows; r++) {
    if (cases[r] < 0 || cases[r] >= ds->n_cases)
      mdl_die("mdl_data_gather: case %d is outside the data set (%d cases)",
              cases[r], ds->n_cases);
    const float *row = src + (size_t)cases[r] * width;
    if (type == MDL_F32) {
      memcpy((float *)dst + r * width, row, width * sizeof(float));
      continue;
    }
    double *out = (double *)dst + r * width;
    for (size_t c = 0; c < width; c++)
      out[c] = row[c];
  }
}

int mdl_data_check_distributions(const mdl_dataset *ds, const char *path,
                                 mdl_error *err) {
  const char *file = path ? path : "", *colon = path ? ": " : "";
  for (int r = 0; r < ds->n_cases; r++) {
    const float *row = ds->targets + (size_t)r * (size_t)ds->n_targets;
    double sum = 0;
    for (int c = 0; c < ds->n_targets; c++) {
      if (row[c] < 0 || row[c] > 1)
        return mdl_fail(err,
                        "%s%ssoftmax outputs need targets in [0, 1], but "
                        "target %d of case %d is %g",
                        file, colon, c, r, row[c]);
      sum += row[c];
    }
    if (fabs(sum - 1) > 1e-4)
      return mdl_fail(err,
                      "%s%ssoftmax outputs need targets that sum to 1, but "
                      "those of case %d sum to %g",
                      file, colon, r, sum);
  }
  return 0;
}

void mdl_data_rows(const mdl_dataset *ds, int which, int first, int rows,
                   void *dst, mdl_dtype type) {
  if (first < 0 || rows < 0 || first + rows > ds->n_cases)
    mdl_die("mdl_data_rows: rows %d..%d are outside the data set (%d cases)",
            first, first + rows - 1, ds->n_cases);
  const float *src = which == 0 ? ds->inputs : ds->targets;
  size_t width = (size_t)(which == 0 ? ds->n_inputs : ds->n_targets);
  if (!src)
    mdl_die("mdl_data_rows: the data set (%s) has no targets", ds->source);
  /* Consecutive cases are one contiguous block: no index list, no copy
   * per row. */
  src += (size_t)first * width;
  size_t n = (size_t)rows * width;
  if (type == MDL_F32) {
    memcpy(dst, src, n * sizeof(float));
    return;
  }
  for (size_t i = 0; i < n; i++)
    ((double *)dst)[i] = src[i];
}

void mdl_batcher_init(mdl_batcher *b, int n_cases, int batch, uint64_t seed) {
  if (n_cases < 1 || batch < 1)
    mdl_die("minibatch of %d case%s from a data set of %d case%s: both must "
            "be positive",
            batch, mdl_plural(batch), n_cases, mdl_plural(n_cases));
  if (batch > n_cases)
    mdl_die("minibatch of %d cases is larger than the data set (%d case%s)",
            batch, n_cases, mdl_plural(n_cases));
  b->n_cases = n_cases;
  b->batch = batch;
  b->next = 0;
  b->perm = mdl_alloc((size_t)n_cases * sizeof(int));
  b->cases = mdl_alloc((size_t)batch * sizeof(int));
  for (int i = 0; i < n_cases; i++)
    b->perm[i] = i;
  mdl_rng_seed(&b->rng, seed);
  mdl_rng_shuffle(&b->rng, b->perm, (size_t)n_cases);
}

const int *mdl_batcher_next(mdl_batcher *b) {
  if (b->next + b->batch > b->n_cases) {
    mdl_rng_shuffle(&b->rng, b->perm, (size_t)b->n_cases);
    b->next = 0;
  }
  memcpy(b->cases, b->perm + b->next, (size_t)b->batch * sizeof(int));
  b->next += b->batch;
  return b->cases;
}

void mdl_batcher_free(mdl_batcher *b) {
  free(b->perm);
  free(b->cases);
  b->perm = NULL;
  b->cases = NULL;
}
