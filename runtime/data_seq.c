/* data_seq.c — sequence data for recurrent nets: the generators of the four
 * problems of appendix A.3, sequences from .npy files, centering and the
 * zero-one losses; see mdl/sequences.h for the layouts and the problems.
 *
 * Random streams. Each generated sequence is drawn by draw_sequence in this
 * order: addition and multiplication take Tseq, I and J (mdl_rng_below,
 * offset to their ranges), then the value of every step 0 .. Tseq in order;
 * memorization takes its K symbols in order (mdl_rng_below(A)). Values are
 * uniform24: U[0, 1) at a resolution of 2^-24, so that each is a float
 * exactly — float32 and float64 minibatches hold the same numbers, and no
 * value rounds up to 1 in float32. The training stream is sampler.rng,
 * seeded by train_seed. The held-out set and the centering sample have
 * streams of their own, seeded by stream_seed(data_seed, 1) and
 * stream_seed(data_seed, 2): the splitmix64 finaliser of data_seed +
 * purpose · 0x9e3779b97f4a7c15, so that they differ from each other and from
 * the training stream even when train_seed equals data_seed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdl/npy.h"
#include "mdl/sequences.h"

enum { HELD_OUT_STREAM = 1, CENTERING_STREAM = 2 };

static uint64_t stream_seed(uint64_t data_seed, uint64_t purpose) {
  uint64_t z = data_seed + purpose * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static const char *problem_name(mdl_seq_problem problem) {
  switch (problem) {
  case MDL_SEQ_ADDITION:
    return "addition";
  case MDL_SEQ_MULTIPLICATION:
    return "multiplication";
  case MDL_SEQ_MEMORIZATION:
    return "memorization";
  case MDL_SEQ_NPY:
    break;
  }
  return "npy sequences";
}

/* f(x) = floor(x · T / 100), Sutskever's scaling of every length and
 * position; x · T stays below 2^31 for T <= MDL_SEQ_MAX_T. */
static int scaled(int x, int T) { return x * T / 100; }

int mdl_seq_check(const mdl_seq_spec *spec, mdl_error *err) {
  const char *name = problem_name(spec->problem);
  int T = spec->T, K = spec->symbols, A = spec->alphabet;
  switch (spec->problem) {
  case MDL_SEQ_ADDITION:
  case MDL_SEQ_MULTIPLICATION:
    if (T < 10)
      return mdl_fail(err, "%s needs T of at least 10, not %d", name, T);
    if (T > MDL_SEQ_MAX_T)
      return mdl_fail(err, "%s needs T of at most %d, not %d", name,
                      MDL_SEQ_MAX_T, T);
    return 0;
  case MDL_SEQ_MEMORIZATION:
    if (K < 1)
      return mdl_fail(err, "memorization needs at least 1 symbol, not %d", K);
    if (K > MDL_SEQ_MAX_SYMBOLS)
      return mdl_fail(err, "memorization needs at most %d symbols, not %d",
                      MDL_SEQ_MAX_SYMBOLS, K);
    if (A < 2)
      return mdl_fail(err,
                      "memorization needs an alphabet of at least 2 symbols, "
                      "not %d",
                      A);
    if (A > MDL_SEQ_MAX_ALPHABET)
      return mdl_fail(err,
                      "memorization needs an alphabet of at most %d symbols, "
                      "not %d",
                      MDL_SEQ_MAX_ALPHABET, A);
    if (T > MDL_SEQ_MAX_T)
      return mdl_fail(err, "memorization needs T of at most %d, not %d",
                      MDL_SEQ_MAX_T, T);
    if (T < 2 * K + 1)
      return mdl_fail(err,
                      "memorization of %d symbols needs T of at least %d (the "
                      "symbols, the trigger and the recall), not %d",
                      K, 2 * K + 1, T);
    return 0;
  case MDL_SEQ_NPY:
    return mdl_fail(err, "sequences from .npy files have no generator to "
                         "check; mdl_seq_open_npy checks the files");
  }
  return mdl_fail(err, "unknown sequence problem %d", (int)spec->problem);
}

static _Noreturn void not_generated(const char *function,
                                    const mdl_seq_spec *spec) {
  mdl_die("%s: %s have no generator (problem %d)", function,
          problem_name(spec->problem), (int)spec->problem);
}

int mdl_seq_n_inputs(const mdl_seq_spec *spec) {
  switch (spec->problem) {
  case MDL_SEQ_ADDITION:
  case MDL_SEQ_MULTIPLICATION:
    return 2;
  case MDL_SEQ_MEMORIZATION:
    return spec->alphabet + 2;
  case MDL_SEQ_NPY:
    break;
  }
  not_generated("mdl_seq_n_inputs", spec);
}

int mdl_seq_n_outputs(const mdl_seq_spec *spec) {
  switch (spec->problem) {
  case MDL_SEQ_ADDITION:
  case MDL_SEQ_MULTIPLICATION:
    return 1;
  case MDL_SEQ_MEMORIZATION:
    return spec->alphabet + 1;
  case MDL_SEQ_NPY:
    break;
  }
  not_generated("mdl_seq_n_outputs", spec);
}

int mdl_seq_max_steps(const mdl_seq_spec *spec) {
  switch (spec->problem) {
  case MDL_SEQ_ADDITION:
  case MDL_SEQ_MULTIPLICATION:
    return scaled(110, spec->T); /* Tseq + 1 <= f(110) */
  case MDL_SEQ_MEMORIZATION:
    return spec->T;
  case MDL_SEQ_NPY:
    break;
  }
  not_generated("mdl_seq_max_steps", spec);
}

int mdl_seq_every_step(const mdl_seq_spec *spec) {
  switch (spec->problem) {
  case MDL_SEQ_ADDITION:
  case MDL_SEQ_MULTIPLICATION:
    return 0;
  case MDL_SEQ_MEMORIZATION:
    return 1;
  case MDL_SEQ_NPY:
    break;
  }
  not_generated("mdl_seq_every_step", spec);
}

/* Element access for arrays of either type. They are inlined, so the loops
 * below pay one well-predicted branch per element, not a call. */
static inline void put(void *a, mdl_dtype type, size_t i, double v) {
  if (type == MDL_F32)
    ((float *)a)[i] = (float)v;
  else
    ((double *)a)[i] = v;
}

static inline double get(const void *a, mdl_dtype type, size_t i) {
  return type == MDL_F32 ? ((const float *)a)[i] : ((const double *)a)[i];
}

static void *element(void *a, mdl_dtype type, size_t i) {
  return (char *)a + i * mdl_dtype_size(type);
}

static double uniform24(mdl_rng *rng) {
  return floor(mdl_rng_uniform(rng) * 0x1p24) * 0x1p-24;
}

/* Draws one sequence into zeroed arrays: input channel c of step s at
 * in[s * in_step + c]; the target of step s at tg[s * tg_step + c] when
 * every step has one, the single target at tg[c] otherwise. Returns the
 * sequence's length. */
static int draw_sequence(const mdl_seq_spec *spec, mdl_rng *rng, void *in,
                         size_t in_step, void *tg, size_t tg_step,
                         mdl_dtype type) {
  int T = spec->T;
  if (spec->problem == MDL_SEQ_MEMORIZATION) {
    int K = spec->symbols, A = spec->alphabet;
    for (int k = 0; k < K; k++) {
      size_t symbol = (size_t)mdl_rng_below(rng, (uint64_t)A);
      put(in, type, (size_t)k * in_step + symbol, 1);
      put(tg, type, (size_t)(T - K + k) * tg_step + symbol, 1);
    }
    for (int s = K; s < T; s++) {
      /* The trigger at T - K - 1, the blank at every other step. */
      size_t channel = (size_t)(s == T - K - 1 ? A + 1 : A);
      put(in, type, (size_t)s * in_step + channel, 1);
    }
    for (int s = 0; s < T - K; s++)
      put(tg, type, (size_t)s * tg_step + (size_t)A, 1);
    return T;
  }
  int lo = scaled(100, T), hi = scaled(110, T);
  int tseq = lo + (int)mdl_rng_below(rng, (uint64_t)(hi - lo));
  int i = scaled(1, T) +
          (int)mdl_rng_below(rng, (uint64_t)(scaled(10, T) - scaled(1, T)));
  int j = scaled(10, T) +
          (int)mdl_rng_below(rng, (uint64_t)(scaled(50, T) - scaled(10, T)));
  double a = 0, b = 0;
  for (int s = 0; s <= tseq; s++) {
    double v = uniform24(rng);
    put(in, type, (size_t)s * in_step, v);
    if (s == i)
      a = v;
    if (s == j)
      b = v;
  }
  /* The markers, +1 last so that it wins where I = 0. */
  put(in, type, 1, -1);
  put(in, type, (size_t)(tseq - 3) * in_step + 1, -1);
  put(in, type, (size_t)i * in_step + 1, 1);
  put(in, type, (size_t)j * in_step + 1, 1);
  double target = spec->problem == MDL_SEQ_MULTIPLICATION ? a * b
                  : spec->target_sum                      ? a + b
                                                          : (a + b) / 2;
  put(tg, type, 0, target);
  return tseq + 1;
}

/* Zeroes columns 0 .. rows-1 of every one of `steps` steps of a time-major
 * array of `batch` columns of `width` values: one memset per step, or one in
 * all when the columns fill the minibatch. */
static void zero_columns(void *a, mdl_dtype type, int steps, int rows,
                         int batch, int width) {
  size_t size = mdl_dtype_size(type);
  size_t step = (size_t)batch * (size_t)width;
  if (rows == batch) {
    memset(a, 0, (size_t)steps * step * size);
    return;
  }
  for (size_t s = 0; s < (size_t)steps; s++)
    memset(element(a, type, s * step), 0, (size_t)rows * (size_t)width * size);
}

void mdl_seq_draw(const mdl_seq_spec *spec, mdl_rng *rng, int rows, int batch,
                  void *inputs, void *targets, int *lengths, mdl_dtype type) {
  if (rows < 0 || rows > batch)
    mdl_die("mdl_seq_draw: %d sequences do not fit a minibatch of %d", rows,
            batch);
  int n_in = mdl_seq_n_inputs(spec), n_out = mdl_seq_n_outputs(spec);
  int steps = mdl_seq_max_steps(spec), every = mdl_seq_every_step(spec);
  zero_columns(inputs, type, steps, rows, batch, n_in);
  zero_columns(targets, type, every ? steps : 1, rows, batch, n_out);
  size_t in_step = (size_t)batch * (size_t)n_in;
  size_t tg_step = (size_t)batch * (size_t)n_out;
  for (int b = 0; b < rows; b++)
    lengths[b] = draw_sequence(
        spec, rng, element(inputs, type, (size_t)b * (size_t)n_in), in_step,
        element(targets, type, (size_t)b * (size_t)n_out), tg_step, type);
}

/* Subtracts mean[0 .. width) from the width values at a[i ..]. */
static void subtract_row(void *a, mdl_dtype type, size_t i, int width,
                         const double *mean) {
  if (type == MDL_F32) {
    float *row = (float *)a + i;
    for (int c = 0; c < width; c++)
      row[c] = (float)(row[c] - mean[c]);
  } else {
    double *row = (double *)a + i;
    for (int c = 0; c < width; c++)
      row[c] -= mean[c];
  }
}

/* Writes src[0 .. width), less mean when mean is not NULL, to a[i ..]. */
static void put_row(void *a, mdl_dtype type, size_t i, const float *src,
                    int width, const double *mean) {
  if (type == MDL_F32 && !mean) {
    memcpy((float *)a + i, src, (size_t)width * sizeof(float));
  } else if (type == MDL_F32) {
    float *row = (float *)a + i;
    for (int c = 0; c < width; c++)
      row[c] = (float)(src[c] - mean[c]);
  } else {
    double *row = (double *)a + i;
    for (int c = 0; c < width; c++)
      row[c] = mean ? src[c] - mean[c] : src[c];
  }
}

/* Centers columns 0 .. rows-1 of a drawn minibatch: every real step of the
 * inputs, every target; the padding beyond a sequence stays 0. */
static void center_columns(const mdl_seq_data *d, int rows, int batch,
                           void *inputs, void *targets, const int *lengths,
                           mdl_dtype type) {
  int n_in = d->n_inputs, n_out = d->n_outputs;
  for (int s = 0; s < d->max_steps; s++)
    for (int b = 0; b < rows; b++) {
      if (s >= lengths[b])
        continue;
      size_t column = (size_t)s * (size_t)batch + (size_t)b;
      if (d->center_inputs)
        subtract_row(inputs, type, column * (size_t)n_in, n_in, d->input_mean);
      if (d->center_targets && d->every_step)
        subtract_row(targets, type, column * (size_t)n_out, n_out,
                     d->target_mean);
    }
  if (d->center_targets && !d->every_step)
    for (int b = 0; b < rows; b++)
      subtract_row(targets, type, (size_t)b * (size_t)n_out, n_out,
                   d->target_mean);
}

/* Target rows a held-out sequence keeps: one per step, or one in all. */
static size_t target_rows(const mdl_seq_data *d) {
  return d->every_step ? (size_t)d->max_steps : 1;
}

/* Copies held-out sequences (cases[b], or first + b when cases is NULL)
 * into columns 0 .. rows-1 of a time-major minibatch, centered. */
static void copy_sequences(const mdl_seq_data *d, const int *cases, int first,
                           int rows, int batch, void *inputs, void *targets,
                           int *lengths, mdl_dtype type) {
  int n_in = d->n_inputs, n_out = d->n_outputs;
  const double *in_mean = d->center_inputs ? d->input_mean : NULL;
  const double *tg_mean = d->center_targets ? d->target_mean : NULL;
  zero_columns(inputs, type, d->max_steps, rows, batch, n_in);
  zero_columns(targets, type, (int)target_rows(d), rows, batch, n_out);
  for (int b = 0; b < rows; b++) {
    size_t i = (size_t)(cases ? cases[b] : first + b);
    int length = d->test_lengths[i];
    lengths[b] = length;
    const float *in = d->test_inputs + i * (size_t)d->max_steps * n_in;
    const float *tg = d->test_targets + i * target_rows(d) * n_out;
    for (int s = 0; s < length; s++) {
      size_t column = (size_t)s * (size_t)batch + (size_t)b;
      put_row(inputs, type, column * (size_t)n_in, in + (size_t)s * n_in, n_in,
              in_mean);
      if (d->every_step)
        put_row(targets, type, column * (size_t)n_out, tg + (size_t)s * n_out,
                n_out, tg_mean);
    }
    if (!d->every_step)
      put_row(targets, type, (size_t)b * (size_t)n_out, tg, n_out, tg_mean);
  }
}

/* Adds each column of rows × width values to sum[column]. */
static void sum_rows(const float *a, size_t rows, int width, double *sum) {
  for (size_t r = 0; r < rows; r++)
    for (int c = 0; c < width; c++)
      sum[c] += a[r * (size_t)width + (size_t)c];
}

/* Sets the means from sums over in_count input steps and tg_count target
 * rows; only the centered ones are subtracted. */
static void set_means(mdl_seq_data *d, const double *in_sum, double in_count,
                      const double *tg_sum, double tg_count) {
  for (int c = 0; c < d->n_inputs; c++)
    d->input_mean[c] = d->center_inputs ? in_sum[c] / in_count : 0;
  for (int c = 0; c < d->n_outputs; c++) {
    d->raw_target_mean[c] = tg_sum[c] / tg_count;
    d->target_mean[c] = d->center_targets ? d->raw_target_mean[c] : 0;
  }
}

/* The means of a generated problem, over MDL_SEQ_STATS_CASES sequences
 * drawn one at a time from the centering stream. */
static void measure_generated(mdl_seq_data *d, uint64_t seed) {
  mdl_rng rng;
  mdl_rng_seed(&rng, seed);
  size_t in_n = (size_t)d->max_steps * (size_t)d->n_inputs;
  size_t tg_n = target_rows(d) * (size_t)d->n_outputs;
  float *in = mdl_alloc(in_n * sizeof *in);
  float *tg = mdl_alloc(tg_n * sizeof *tg);
  double *in_sum = mdl_zalloc((size_t)d->n_inputs * sizeof *in_sum);
  double *tg_sum = mdl_zalloc((size_t)d->n_outputs * sizeof *tg_sum);
  double in_count = 0, tg_count = 0;
  for (int k = 0; k < MDL_SEQ_STATS_CASES; k++) {
    memset(in, 0, in_n * sizeof *in);
    memset(tg, 0, tg_n * sizeof *tg);
    int length = draw_sequence(&d->spec, &rng, in, (size_t)d->n_inputs, tg,
                               (size_t)d->n_outputs, MDL_F32);
    size_t rows = d->every_step ? (size_t)length : 1;
    sum_rows(in, (size_t)length, d->n_inputs, in_sum);
    sum_rows(tg, rows, d->n_outputs, tg_sum);
    in_count += length;
    tg_count += (double)rows;
  }
  set_means(d, in_sum, in_count, tg_sum, tg_count);
  free(in);
  free(tg);
  free(in_sum);
  free(tg_sum);
}

/* A short description of a generated problem, for the program's header. */
static void describe(mdl_seq_data *d) {
  const mdl_seq_spec *spec = &d->spec;
  const char *centered = d->center_inputs && d->center_targets ? ", centered"
                         : d->center_inputs  ? ", inputs centered"
                         : d->center_targets ? ", targets centered"
                                             : "";
  if (spec->problem == MDL_SEQ_MEMORIZATION) {
    snprintf(d->source, sizeof d->source,
             "memorization T=%d: %d symbol%s of %d, %d steps%s; %d held-out "
             "sequence%s",
             spec->T, spec->symbols, mdl_plural(spec->symbols), spec->alphabet,
             spec->T, centered, d->n_test, mdl_plural(d->n_test));
    return;
  }
  const char *target = spec->problem == MDL_SEQ_MULTIPLICATION ? "A*B"
                       : spec->target_sum                      ? "A+B"
                                                               : "(A+B)/2";
  snprintf(d->source, sizeof d->source,
           "%s T=%d: %d-%d steps, target %s%s; %d held-out sequence%s",
           problem_name(spec->problem), spec->T, scaled(100, spec->T) + 1,
           scaled(110, spec->T), target, centered, d->n_test,
           mdl_plural(d->n_test));
}

int mdl_seq_open(mdl_seq_data *d, const mdl_seq_spec *spec, uint64_t data_seed,
                 int n_test, int center_inputs, int center_targets, int batch,
                 uint64_t train_seed, mdl_error *err) {
  memset(d, 0, sizeof *d);
  if (mdl_seq_check(spec, err) < 0)
    return -1;
  if (n_test < 1)
    return mdl_fail(err, "the held-out set needs at least 1 sequence, not %d",
                    n_test);
  if (batch < 1)
    return mdl_fail(err, "a minibatch needs at least 1 sequence, not %d",
                    batch);
  /* Softmax outputs with cross-entropy need targets that are distributions;
   * centered one-hot targets are not. */
  if (spec->problem == MDL_SEQ_MEMORIZATION && center_targets)
    return mdl_fail(err, "memorization targets cannot be centered: softmax "
                         "outputs need targets that are distributions");
  d->spec = *spec;
  d->n_inputs = mdl_seq_n_inputs(spec);
  d->n_outputs = mdl_seq_n_outputs(spec);
  d->max_steps = mdl_seq_max_steps(spec);
  d->every_step = mdl_seq_every_step(spec);
  d->center_inputs = center_inputs != 0;
  d->center_targets = center_targets != 0;
  measure_generated(d, stream_seed(data_seed, CENTERING_STREAM));

  d->n_test = n_test;
  size_t in_n = (size_t)d->max_steps * (size_t)d->n_inputs;
  size_t tg_n = target_rows(d) * (size_t)d->n_outputs;
  d->test_inputs = mdl_zalloc((size_t)n_test * in_n * sizeof(float));
  d->test_targets = mdl_zalloc((size_t)n_test * tg_n * sizeof(float));
  d->test_lengths = mdl_alloc((size_t)n_test * sizeof(int));
  mdl_rng rng;
  mdl_rng_seed(&rng, stream_seed(data_seed, HELD_OUT_STREAM));
  for (size_t i = 0; i < (size_t)n_test; i++)
    d->test_lengths[i] = draw_sequence(
        spec, &rng, d->test_inputs + i * in_n, (size_t)d->n_inputs,
        d->test_targets + i * tg_n, (size_t)d->n_outputs, MDL_F32);

  /* No cases to permute: the sampler is only the stream's rng, which is
   * what mdl_checkpoint_save and _load keep. */
  d->sampler.batch = batch;
  mdl_rng_seed(&d->sampler.rng, train_seed);
  describe(d);
  return 0;
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* Checks the shape of the targets file against the inputs before reading
 * it, so that a wrong file gets a message about sequences, not rows. */
static int check_npy_targets(const char *path, const mdl_dataset *ds, int steps,
                             int n_outputs, int every_step, mdl_error *err) {
  mdl_npy shape;
  if (mdl_npy_read_shape(path, &shape, err) < 0)
    return -1;
  if (shape.ndim != 2)
    return 0; /* mdl_data_npy_targets says what is wrong */
  if (shape.rows < ds->n_cases)
    return mdl_fail(err, "%s: %ld row%s of targets for %d sequence%s", path,
                    shape.rows, mdl_plural(shape.rows), ds->n_cases,
                    mdl_plural(ds->n_cases));
  long want = every_step ? (long)steps * n_outputs : n_outputs;
  if (shape.cols == want)
    return 0;
  if (every_step)
    return mdl_fail(err,
                    "%s: rows of %ld value%s, but targets of %d output%s at "
                    "each of %d step%s need %ld",
                    path, shape.cols, mdl_plural(shape.cols), n_outputs,
                    mdl_plural(n_outputs), steps, mdl_plural(steps), want);
  return mdl_fail(err,
                  "%s: rows of %ld value%s, but targets of %d output%s at "
                  "the last step need %ld",
                  path, shape.cols, mdl_plural(shape.cols), n_outputs,
                  mdl_plural(n_outputs), want);
}

/* Reads and checks the two files into ds; frees it on failure. */
static int read_npy(mdl_dataset *ds, const char *inputs_path,
                    const char *targets_path, int n_cases, int n_inputs,
                    int n_outputs, int every_step, int batch, mdl_error *err) {
  if (mdl_data_npy(ds, inputs_path, n_cases, err) < 0)
    return -1;
  int rc = 0;
  int steps = ds->n_inputs / n_inputs;
  if (ds->n_inputs % n_inputs != 0)
    rc = mdl_fail(err,
                  "%s: rows of %d value%s are not a whole number of steps of "
                  "%d input%s",
                  inputs_path, ds->n_inputs, mdl_plural(ds->n_inputs), n_inputs,
                  mdl_plural(n_inputs));
  else if (batch > ds->n_cases)
    rc = mdl_fail(err,
                  "a minibatch of %d sequence%s is larger than the %d "
                  "sequence%s of %s",
                  batch, mdl_plural(batch), ds->n_cases,
                  mdl_plural(ds->n_cases), inputs_path);
  else if (check_npy_targets(targets_path, ds, steps, n_outputs, every_step,
                             err) < 0 ||
           mdl_data_npy_targets(ds, targets_path, err) < 0)
    rc = -1;
  if (rc < 0)
    mdl_data_free(ds);
  return rc;
}

int mdl_seq_open_npy(mdl_seq_data *d, const char *inputs_path,
                     const char *targets_path, int n_cases, int n_inputs,
                     int n_outputs, int every_step, int center_inputs,
                     int center_targets, int batch, uint64_t train_seed,
                     mdl_error *err) {
  memset(d, 0, sizeof *d);
  if (n_inputs < 1 || n_inputs > MDL_SEQ_MAX_CHANNELS)
    return mdl_fail(err, "sequences need 1 to %d inputs per step, not %d",
                    MDL_SEQ_MAX_CHANNELS, n_inputs);
  if (n_outputs < 1 || n_outputs > MDL_SEQ_MAX_CHANNELS)
    return mdl_fail(err, "sequences need 1 to %d outputs per step, not %d",
                    MDL_SEQ_MAX_CHANNELS, n_outputs);
  if (batch < 1)
    return mdl_fail(err, "a minibatch needs at least 1 sequence, not %d",
                    batch);
  if (!targets_path)
    return mdl_fail(err, "%s: sequences need a file of targets", inputs_path);
  mdl_dataset ds;
  if (read_npy(&ds, inputs_path, targets_path, n_cases, n_inputs, n_outputs,
               every_step, batch, err) < 0)
    return -1;

  d->spec.problem = MDL_SEQ_NPY;
  d->spec.T = ds.n_inputs / n_inputs;
  d->n_inputs = n_inputs;
  d->n_outputs = n_outputs;
  d->max_steps = d->spec.T;
  d->every_step = every_step != 0;
  d->center_inputs = center_inputs != 0;
  d->center_targets = center_targets != 0;
  /* The file's rows are already sequence-major: they are the held-out set. */
  d->n_test = ds.n_cases;
  d->test_inputs = ds.inputs;
  d->test_targets = ds.targets;
  d->test_lengths = mdl_alloc((size_t)d->n_test * sizeof(int));
  for (int i = 0; i < d->n_test; i++)
    d->test_lengths[i] = d->max_steps;

  double *in_sum = mdl_zalloc((size_t)n_inputs * sizeof *in_sum);
  double *tg_sum = mdl_zalloc((size_t)n_outputs * sizeof *tg_sum);
  size_t steps = (size_t)d->n_test * (size_t)d->max_steps;
  size_t rows = (size_t)d->n_test * target_rows(d);
  sum_rows(d->test_inputs, steps, n_inputs, in_sum);
  sum_rows(d->test_targets, rows, n_outputs, tg_sum);
  set_means(d, in_sum, (double)steps, tg_sum, (double)rows);
  free(in_sum);
  free(tg_sum);

  mdl_batcher_init(&d->sampler, d->n_test, batch, train_seed);
  snprintf(d->source, sizeof d->source,
           "npy %s: %d sequence%s of %d step%s × %d, targets %s%s",
           base_name(inputs_path), d->n_test, mdl_plural(d->n_test),
           d->max_steps, mdl_plural(d->max_steps), n_inputs,
           base_name(targets_path), d->every_step ? " at every step" : "");
  return 0;
}

int mdl_seq_open_npy_held_out(mdl_seq_data *d, const mdl_seq_data *train,
                              const char *inputs_path, const char *targets_path,
                              int n_cases, mdl_error *err) {
  memset(d, 0, sizeof *d);
  if (train->spec.problem != MDL_SEQ_NPY)
    return mdl_fail(err,
                    "%s: a generated problem has its own held-out "
                    "sequences",
                    inputs_path);
  mdl_dataset ds; /* batch 1: evaluated a slice at a time, any size will do */
  if (read_npy(&ds, inputs_path, targets_path, n_cases, train->n_inputs,
               train->n_outputs, train->every_step, 1, err) < 0)
    return -1;
  int steps = ds.n_inputs / train->n_inputs;
  if (steps != train->max_steps) {
    mdl_data_free(&ds);
    return mdl_fail(err,
                    "%s: sequences of %d step%s, but the training set's have "
                    "%d",
                    inputs_path, steps, mdl_plural(steps), train->max_steps);
  }
  /* The training set's form and means: the net sees held-out sequences
   * as it saw the training sequences. */
  d->spec = train->spec;
  d->n_inputs = train->n_inputs;
  d->n_outputs = train->n_outputs;
  d->max_steps = train->max_steps;
  d->every_step = train->every_step;
  d->center_inputs = train->center_inputs;
  d->center_targets = train->center_targets;
  memcpy(d->input_mean, train->input_mean, sizeof d->input_mean);
  memcpy(d->target_mean, train->target_mean, sizeof d->target_mean);
  memcpy(d->raw_target_mean, train->raw_target_mean, sizeof d->raw_target_mean);
  d->n_test = ds.n_cases;
  d->test_inputs = ds.inputs;
  d->test_targets = ds.targets;
  d->test_lengths = mdl_alloc((size_t)d->n_test * sizeof(int));
  for (int i = 0; i < d->n_test; i++)
    d->test_lengths[i] = d->max_steps;
  snprintf(d->source, sizeof d->source,
           "npy %s: %d sequence%s of %d step%s × %d, targets %s%s",
           base_name(inputs_path), d->n_test, mdl_plural(d->n_test),
           d->max_steps, mdl_plural(d->max_steps), d->n_inputs,
           base_name(targets_path), d->every_step ? " at every step" : "");
  return 0;
}

void mdl_seq_close(mdl_seq_data *d) {
  free(d->test_inputs);
  free(d->test_targets);
  free(d->test_lengths);
  mdl_batcher_free(&d->sampler);
  memset(d, 0, sizeof *d);
}

void mdl_seq_next_batch(mdl_seq_data *d, int batch, void *inputs, void *targets,
                        int *lengths, mdl_dtype type) {
  if (batch != d->sampler.batch)
    mdl_die("mdl_seq_next_batch: a minibatch of %d sequences, but the data "
            "was opened for %d",
            batch, d->sampler.batch);
  if (d->spec.problem == MDL_SEQ_NPY) {
    copy_sequences(d, mdl_batcher_next(&d->sampler), 0, batch, batch, inputs,
                   targets, lengths, type);
    return;
  }
  mdl_seq_draw(&d->spec, &d->sampler.rng, batch, batch, inputs, targets,
               lengths, type);
  center_columns(d, batch, batch, inputs, targets, lengths, type);
}

void mdl_seq_test_batch(const mdl_seq_data *d, int first, int rows, int batch,
                        void *inputs, void *targets, int *lengths,
                        mdl_dtype type) {
  if (first < 0 || rows < 0 || rows > batch || first > d->n_test - rows)
    mdl_die("mdl_seq_test_batch: sequences %d..%d of a held-out set of %d "
            "into a minibatch of %d",
            first, first + rows - 1, d->n_test, batch);
  copy_sequences(d, NULL, first, rows, batch, inputs, targets, lengths, type);
}

void mdl_seq_target_mean(const mdl_seq_data *d, void *mean, mdl_dtype type) {
  for (int c = 0; c < d->n_outputs; c++)
    put(mean, type, (size_t)c, d->raw_target_mean[c] - d->target_mean[c]);
}

/* The symbol a row of A symbol channels (and the blank after them) stands
 * for: the largest of the symbol channels, the lowest on a tie; -1 when one
 * is NaN, so that a diverged net never counts as right. */
static int recalled_symbol(const void *a, mdl_dtype type, size_t i, int A) {
  int best = 0;
  for (int c = 0; c < A; c++) {
    double v = get(a, type, i + (size_t)c);
    if (isnan(v))
      return -1;
    if (v > get(a, type, i + (size_t)best))
      best = c;
  }
  return best;
}

double mdl_seq_error(const mdl_seq_data *d, int rows, int batch,
                     const int *lengths, const void *outputs,
                     const void *targets, mdl_dtype type, double tolerance) {
  if (rows < 0 || rows > batch)
    mdl_die("mdl_seq_error: %d sequences do not fit a minibatch of %d", rows,
            batch);
  size_t n_out = (size_t)d->n_outputs;
  double error = 0;
  switch (d->spec.problem) {
  case MDL_SEQ_ADDITION:
  case MDL_SEQ_MULTIPLICATION:
    /* Written as !(|y - t| <= tolerance) so that NaN counts as wrong. */
    for (int b = 0; b < rows; b++) {
      size_t i = (size_t)b * n_out;
      error +=
          !(fabs(get(outputs, type, i) - get(targets, type, i)) <= tolerance);
    }
    break;
  case MDL_SEQ_MEMORIZATION: {
    int K = d->spec.symbols, A = d->spec.alphabet;
    for (int b = 0; b < rows; b++)
      for (int s = lengths[b] - K; s < lengths[b]; s++) {
        size_t i = ((size_t)s * (size_t)batch + (size_t)b) * n_out;
        error += recalled_symbol(outputs, type, i, A) !=
                 recalled_symbol(targets, type, i, A);
      }
    break;
  }
  case MDL_SEQ_NPY:
    for (int b = 0; b < rows; b++) {
      int steps = d->every_step ? lengths[b] : 1;
      for (int s = 0; s < steps; s++) {
        size_t i = ((size_t)s * (size_t)batch + (size_t)b) * n_out;
        for (size_t c = 0; c < n_out; c++) {
          double e = get(outputs, type, i + c) - get(targets, type, i + c);
          error += e * e;
        }
      }
    }
    break;
  }
  return error;
}

const char *mdl_seq_error_name(const mdl_seq_data *d) {
  return d->spec.problem == MDL_SEQ_NPY ? "train_error" : "zero_one";
}

/* ---- --predict: new input sequences ---- */

int mdl_seq_read_inputs(const mdl_seq_data *d, mdl_dataset *in,
                        const char *path, mdl_error *err) {
  if (mdl_data_npy(in, path, 0, err) != 0)
    return -1;
  int width = d->max_steps * d->n_inputs;
  if (in->n_inputs != width) {
    int got = in->n_inputs;
    mdl_data_free(in);
    return mdl_fail(err,
                    "%s: rows of %d values, but the net reads sequences of "
                    "%d steps × %d inputs (%d values per row)",
                    path, got, d->max_steps, d->n_inputs, width);
  }
  return 0;
}

void mdl_seq_input_batch(const mdl_seq_data *d, const mdl_dataset *in,
                         int first, int rows, int batch, void *inputs,
                         int *lengths, mdl_dtype type) {
  int n_in = d->n_inputs;
  const double *in_mean = d->center_inputs ? d->input_mean : NULL;
  zero_columns(inputs, type, d->max_steps, batch, batch, n_in);
  for (int b = 0; b < batch; b++) {
    lengths[b] = d->max_steps; /* the columns past rows: zeros, unread */
    if (b >= rows)
      continue;
    const float *row = in->inputs + (size_t)(first + b) * (size_t)in->n_inputs;
    for (int s = 0; s < d->max_steps; s++)
      put_row(inputs, type, ((size_t)s * (size_t)batch + (size_t)b) * n_in,
              row + (size_t)s * n_in, n_in, in_mean);
  }
}
