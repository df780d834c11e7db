/* test_sequences.c — sequence data for recurrent nets (runtime/data_seq.c):
 * the four generators against the rules of mdl/sequences.h, their streams,
 * centering, the zero-one losses, the "bias-only" figures of Table 5,
 * sequences from .npy files, and checkpoints of the training stream. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdl/checkpoint.h"
#include "mdl/npy.h"
#include "mdl/sequences.h"
#include "scratch.h"

static const double SENTINEL = 7.0; /* in columns a draw must not touch */

static mdl_seq_spec arith(mdl_seq_problem problem, int T, int target_sum) {
  mdl_seq_spec spec = {0};
  spec.problem = problem;
  spec.T = T;
  spec.target_sum = target_sum;
  return spec;
}

static mdl_seq_spec memorization(int T, int K, int A) {
  mdl_seq_spec spec = {0};
  spec.problem = MDL_SEQ_MEMORIZATION;
  spec.T = T;
  spec.symbols = K;
  spec.alphabet = A;
  return spec;
}

static int f(int x, int T) { return x * T / 100; }

/* A minibatch as drawn, converted to double for checking. */
typedef struct {
  int rows, batch, n_in, n_out, steps, every;
  double *in, *tg;
  int *len;
} drawn;

static double in_at(const drawn *d, int s, int b, int c) {
  return d->in[((size_t)s * d->batch + b) * d->n_in + c];
}

/* Targets of step s (every-step problems) or the single target row. */
static double tg_at(const drawn *d, int s, int b, int c) {
  return d->tg[((size_t)(d->every ? s : 0) * d->batch + b) * d->n_out + c];
}

static double *to_double(const void *a, mdl_dtype type, size_t n) {
  double *out = malloc(n * sizeof *out);
  for (size_t i = 0; i < n; i++)
    out[i] = type == MDL_F32 ? ((const float *)a)[i] : ((const double *)a)[i];
  return out;
}

static void fill(void *a, mdl_dtype type, size_t n, double v) {
  for (size_t i = 0; i < n; i++)
    if (type == MDL_F32)
      ((float *)a)[i] = (float)v;
    else
      ((double *)a)[i] = v;
}

/* Draws `rows` sequences into a minibatch of `batch` columns filled with
 * SENTINEL, and checks that the columns beyond rows kept it. */
static drawn draw(const mdl_seq_spec *spec, mdl_rng *rng, int rows, int batch,
                  mdl_dtype type) {
  drawn d = {rows,
             batch,
             mdl_seq_n_inputs(spec),
             mdl_seq_n_outputs(spec),
             mdl_seq_max_steps(spec),
             mdl_seq_every_step(spec),
             NULL,
             NULL,
             NULL};
  size_t n_in = (size_t)d.steps * batch * d.n_in;
  size_t n_tg = (size_t)(d.every ? d.steps : 1) * batch * d.n_out;
  size_t size = mdl_dtype_size(type);
  void *in = malloc(n_in * size), *tg = malloc(n_tg * size);
  fill(in, type, n_in, SENTINEL);
  fill(tg, type, n_tg, SENTINEL);
  d.len = malloc((size_t)batch * sizeof *d.len);
  for (int b = 0; b < batch; b++)
    d.len[b] = -7;
  mdl_seq_draw(spec, rng, rows, batch, in, tg, d.len, type);
  d.in = to_double(in, type, n_in);
  d.tg = to_double(tg, type, n_tg);
  free(in);
  free(tg);
  for (int b = rows; b < batch; b++) {
    cr_assert_eq(d.len[b], -7, "length of column %d was written", b);
    for (int s = 0; s < d.steps; s++)
      for (int c = 0; c < d.n_in; c++)
        cr_assert_eq(in_at(&d, s, b, c), SENTINEL, "input of column %d", b);
    for (int s = 0; s < (d.every ? d.steps : 1); s++)
      for (int c = 0; c < d.n_out; c++)
        cr_assert_eq(tg_at(&d, s, b, c), SENTINEL, "target of column %d", b);
  }
  return d;
}

static void drawn_free(drawn *d) {
  free(d->in);
  free(d->tg);
  free(d->len);
}

/* The extremes of Tseq, I and J seen over many sequences. */
typedef struct {
  int tseq[2], i[2], j[2];
} seen_range;

static void widen(int *range, int v) {
  if (v < range[0])
    range[0] = v;
  if (v > range[1])
    range[1] = v;
}

/* Checks every column of an addition or multiplication minibatch against
 * the rules of mdl/sequences.h. */
static void check_arith(const mdl_seq_spec *spec, const drawn *d,
                        mdl_dtype type, seen_range *seen) {
  int T = spec->T;
  for (int b = 0; b < d->rows; b++) {
    int len = d->len[b], tseq = len - 1;
    cr_assert(tseq >= f(100, T) && tseq < f(110, T), "Tseq %d for T %d", tseq,
              T);
    widen(seen->tseq, tseq);
    int plus[2] = {-1, -1}, n_plus = 0, n_minus = 0;
    for (int s = 0; s < d->steps; s++) {
      double v = in_at(d, s, b, 0), m = in_at(d, s, b, 1);
      if (s >= len) {
        cr_assert(v == 0 && m == 0, "padding at step %d of %d", s, len);
        continue;
      }
      cr_assert(v >= 0 && v < 1, "value %g at step %d", v, s);
      cr_assert_eq(v * 0x1p24, floor(v * 0x1p24), "value %a not 24-bit", v);
      cr_assert(m == 0 || m == 1 || m == -1, "marker %g at step %d", m, s);
      if (m == 1) {
        cr_assert(n_plus < 2, "a third +1 marker at step %d", s);
        plus[n_plus++] = s;
      }
      if (m == -1) {
        cr_assert(s == 0 || s == tseq - 3, "-1 marker at step %d of %d", s,
                  len);
        n_minus++;
      }
    }
    cr_assert_eq(n_plus, 2, "%d +1 markers", n_plus);
    int i = plus[0], j = plus[1];
    cr_assert(i >= f(1, T) && i < f(10, T), "I = %d for T %d", i, T);
    cr_assert(j >= f(10, T) && j < f(50, T), "J = %d for T %d", j, T);
    cr_assert_eq(n_minus, i == 0 ? 1 : 2, "%d -1 markers with I = %d", n_minus,
                 i);
    cr_assert_eq(in_at(d, tseq - 3, b, 1), -1);
    widen(seen->i, i);
    widen(seen->j, j);
    double a = in_at(d, i, b, 0), bv = in_at(d, j, b, 0);
    double want = spec->problem == MDL_SEQ_MULTIPLICATION ? a * bv
                  : spec->target_sum                      ? a + bv
                                                          : (a + bv) / 2;
    if (type == MDL_F32)
      want = (float)want;
    cr_assert_eq(tg_at(d, 0, b, 0), want, "target %.9g, not %.9g",
                 tg_at(d, 0, b, 0), want);
  }
}

/* Draws `batches` minibatches of 100 and checks them; then checks that Tseq,
 * I and J reached both ends of their ranges. */
static void check_arith_problem(mdl_seq_spec spec, mdl_dtype type,
                                int batches) {
  mdl_rng rng;
  mdl_rng_seed(&rng, (uint64_t)spec.T * 31 + spec.problem);
  seen_range seen = {{1 << 30, -1}, {1 << 30, -1}, {1 << 30, -1}};
  for (int k = 0; k < batches; k++) {
    drawn d = draw(&spec, &rng, 100, 100, type);
    check_arith(&spec, &d, type, &seen);
    drawn_free(&d);
  }
  int T = spec.T;
  cr_assert(seen.tseq[0] == f(100, T) && seen.tseq[1] == f(110, T) - 1,
            "Tseq in [%d, %d]", seen.tseq[0], seen.tseq[1]);
  cr_assert(seen.i[0] == f(1, T) && seen.i[1] == f(10, T) - 1, "I in [%d, %d]",
            seen.i[0], seen.i[1]);
  cr_assert(seen.j[0] == f(10, T) && seen.j[1] == f(50, T) - 1, "J in [%d, %d]",
            seen.j[0], seen.j[1]);
}

Test(sequences, sizes_of_the_problems) {
  mdl_seq_spec add = arith(MDL_SEQ_ADDITION, 80, 0);
  cr_assert_eq(mdl_seq_n_inputs(&add), 2);
  cr_assert_eq(mdl_seq_n_outputs(&add), 1);
  cr_assert_eq(mdl_seq_max_steps(&add), 88);
  cr_assert_eq(mdl_seq_every_step(&add), 0);
  mdl_seq_spec mul = arith(MDL_SEQ_MULTIPLICATION, 200, 0);
  cr_assert_eq(mdl_seq_max_steps(&mul), 220);
  mdl_seq_spec mem20 = memorization(80, 10, 5);
  cr_assert_eq(mdl_seq_n_inputs(&mem20), 7);
  cr_assert_eq(mdl_seq_n_outputs(&mem20), 6);
  cr_assert_eq(mdl_seq_max_steps(&mem20), 80);
  cr_assert_eq(mdl_seq_every_step(&mem20), 1);
}

Test(sequences, addition_T80) {
  /* T = 80: Tseq in [80, 88), I in [0, 8) (so +1 sometimes replaces the -1
   * of step 0), J in [8, 40). */
  check_arith_problem(arith(MDL_SEQ_ADDITION, 80, 0), MDL_F32, 30);
  check_arith_problem(arith(MDL_SEQ_ADDITION, 80, 0), MDL_F64, 30);
}

Test(sequences, addition_T200_target_sum) {
  /* T = 200: Tseq in [200, 220), I in [2, 20), J in [20, 100). */
  check_arith_problem(arith(MDL_SEQ_ADDITION, 200, 1), MDL_F64, 30);
  check_arith_problem(arith(MDL_SEQ_ADDITION, 200, 0), MDL_F32, 30);
}

Test(sequences, multiplication_T80_and_T200) {
  check_arith_problem(arith(MDL_SEQ_MULTIPLICATION, 80, 0), MDL_F32, 30);
  check_arith_problem(arith(MDL_SEQ_MULTIPLICATION, 200, 0), MDL_F64, 30);
}

Test(sequences, smallest_T) {
  /* T = 10: Tseq = 10 always, I = 0 always (one -1 marker, at step 7),
   * J in [1, 5). T = 15 and 150 test the rounding down of f. */
  check_arith_problem(arith(MDL_SEQ_ADDITION, 10, 0), MDL_F64, 5);
  check_arith_problem(arith(MDL_SEQ_MULTIPLICATION, 15, 0), MDL_F32, 5);
  check_arith_problem(arith(MDL_SEQ_ADDITION, 150, 1), MDL_F32, 10);
}

Test(sequences, partial_minibatch_leaves_other_columns) {
  /* draw() checks that columns 3 .. 7 keep their sentinel. */
  mdl_rng rng;
  mdl_rng_seed(&rng, 3);
  mdl_seq_spec add = arith(MDL_SEQ_ADDITION, 80, 0);
  seen_range seen = {{1 << 30, -1}, {1 << 30, -1}, {1 << 30, -1}};
  drawn d = draw(&add, &rng, 3, 8, MDL_F32);
  check_arith(&add, &d, MDL_F32, &seen);
  drawn_free(&d);
  mdl_seq_spec mem = memorization(20, 3, 4);
  d = draw(&mem, &rng, 5, 6, MDL_F64);
  drawn_free(&d);
}

/* Checks a memorization minibatch; counts the symbols in count[0 .. A). */
static void check_memorization(const mdl_seq_spec *spec, const drawn *d,
                               long *count) {
  int T = spec->T, K = spec->symbols, A = spec->alphabet;
  for (int b = 0; b < d->rows; b++) {
    cr_assert_eq(d->len[b], T);
    for (int s = 0; s < T; s++) {
      int hot = -1;
      for (int c = 0; c < A + 2; c++) {
        double v = in_at(d, s, b, c);
        cr_assert(v == 0 || v == 1, "input %g", v);
        if (v == 1) {
          cr_assert_eq(hot, -1, "two hot inputs at step %d", s);
          hot = c;
        }
      }
      if (s < K) {
        cr_assert(hot >= 0 && hot < A, "symbol %d at step %d", hot, s);
        count[hot]++;
      } else if (s == T - K - 1) {
        cr_assert_eq(hot, A + 1, "no trigger at step %d", s);
      } else {
        cr_assert_eq(hot, A, "channel %d, not the blank, at step %d", hot, s);
      }
      int want = s < T - K ? A : -1;
      if (s >= T - K)
        for (int c = 0; c < A; c++)
          if (in_at(d, s - (T - K), b, c) == 1)
            want = c;
      for (int c = 0; c < A + 1; c++)
        cr_assert_eq(tg_at(d, s, b, c), c == want ? 1.0 : 0.0,
                     "target channel %d at step %d (want %d)", c, s, want);
    }
  }
}

static void check_memorization_problem(mdl_seq_spec spec, mdl_dtype type,
                                       int batches) {
  mdl_rng rng;
  mdl_rng_seed(&rng, (uint64_t)spec.T * 7 + spec.symbols);
  long count[16] = {0};
  for (int k = 0; k < batches; k++) {
    drawn d = draw(&spec, &rng, 100, 100, type);
    check_memorization(&spec, &d, count);
    drawn_free(&d);
  }
  /* Symbols are uniform: each count is binomial(n, 1/A); allow 5 SD. */
  double n = (double)batches * 100 * spec.symbols, p = 1.0 / spec.alphabet;
  for (int c = 0; c < spec.alphabet; c++)
    cr_assert(fabs(count[c] - n * p) <= 5 * sqrt(n * p * (1 - p)),
              "symbol %d drawn %ld times of %g", c, count[c], n);
}

Test(sequences, memorization_5_bit_T200) {
  check_memorization_problem(memorization(200, 5, 2), MDL_F32, 10);
}

Test(sequences, memorization_20_bit_T80) {
  check_memorization_problem(memorization(80, 10, 5), MDL_F64, 10);
}

Test(sequences, memorization_small) {
  /* T = 2K + 1: the trigger follows the last symbol at once. */
  check_memorization_problem(memorization(3, 1, 2), MDL_F64, 2);
  check_memorization_problem(memorization(7, 3, 4), MDL_F32, 2);
  check_memorization_problem(memorization(12, 2, 3), MDL_F32, 2);
}

Test(sequences, float32_and_float64_draw_the_same_numbers) {
  mdl_seq_spec specs[2] = {arith(MDL_SEQ_MULTIPLICATION, 80, 0),
                           memorization(30, 4, 3)};
  for (int k = 0; k < 2; k++) {
    mdl_rng r32, r64;
    mdl_rng_seed(&r32, 5);
    mdl_rng_seed(&r64, 5);
    drawn a = draw(&specs[k], &r32, 10, 10, MDL_F32);
    drawn b = draw(&specs[k], &r64, 10, 10, MDL_F64);
    size_t n_in = (size_t)a.steps * 10 * a.n_in;
    for (size_t i = 0; i < n_in; i++)
      cr_assert_eq(a.in[i], b.in[i], "input %zu", i);
    for (int c = 0; c < 10; c++)
      cr_assert_eq(a.len[c], b.len[c]);
    cr_assert_eq(r32.state[0], r64.state[0], "the streams moved apart");
    drawn_free(&a);
    drawn_free(&b);
  }
}

Test(sequences, check_messages) {
  struct {
    mdl_seq_spec spec;
    const char *message;
  } cases[] = {
      {arith(MDL_SEQ_ADDITION, 5, 0), "addition needs T of at least 10, not 5"},
      {arith(MDL_SEQ_MULTIPLICATION, 9, 0),
       "multiplication needs T of at least 10, not 9"},
      {arith(MDL_SEQ_ADDITION, 100001, 0),
       "addition needs T of at most 100000, not 100001"},
      {memorization(200, 0, 2), "memorization needs at least 1 symbol, not 0"},
      {memorization(200, 10001, 2),
       "memorization needs at most 10000 symbols, not 10001"},
      {memorization(200, 5, 1),
       "memorization needs an alphabet of at least 2 symbols, not 1"},
      {memorization(200, 5, 1001),
       "memorization needs an alphabet of at most 1000 symbols, not 1001"},
      {memorization(10, 5, 2), "memorization of 5 symbols needs T of at least "
                               "11 (the symbols, the trigger and the recall), "
                               "not 10"},
      {memorization(100001, 5, 2),
       "memorization needs T of at most 100000, not 100001"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    mdl_error err = {""};
    cr_assert_eq(mdl_seq_check(&cases[k].spec, &err), -1, "case %zu passed", k);
    cr_assert_str_eq(err.message, cases[k].message);
  }
  mdl_seq_spec good[] = {arith(MDL_SEQ_ADDITION, 10, 0),
                         arith(MDL_SEQ_MULTIPLICATION, 100000, 0),
                         memorization(11, 5, 2), memorization(80, 10, 5)};
  for (size_t k = 0; k < sizeof good / sizeof good[0]; k++) {
    mdl_error err = {""};
    cr_assert_eq(mdl_seq_check(&good[k], &err), 0, "%s", err.message);
  }
  mdl_seq_spec npy = {0};
  npy.problem = MDL_SEQ_NPY;
  mdl_error err = {""};
  cr_assert_eq(mdl_seq_check(&npy, &err), -1);
}

/* ---- mdl_seq_open: streams, held-out set, centering ---- */

static mdl_seq_data *open_generated(mdl_seq_spec spec, uint64_t data_seed,
                                    int n_test, int center_in, int center_out,
                                    int batch, uint64_t train_seed) {
  mdl_seq_data *d = calloc(1, sizeof *d);
  mdl_error err = {""};
  cr_assert_eq(mdl_seq_open(d, &spec, data_seed, n_test, center_in, center_out,
                            batch, train_seed, &err),
               0, "%s", err.message);
  return d;
}

static void close_generated(mdl_seq_data *d) {
  mdl_seq_close(d);
  free(d);
}

/* Buffers for one minibatch of an opened problem. */
typedef struct {
  int batch;
  size_t n_in, n_tg;
  void *in, *tg;
  int *len;
} buffers;

static buffers buffers_for(const mdl_seq_data *d, int batch, mdl_dtype type) {
  buffers m = {batch,
               (size_t)d->max_steps * batch * d->n_inputs,
               (size_t)(d->every_step ? d->max_steps : 1) * batch *
                   d->n_outputs,
               NULL,
               NULL,
               NULL};
  m.in = malloc(m.n_in * mdl_dtype_size(type));
  m.tg = malloc(m.n_tg * mdl_dtype_size(type));
  m.len = malloc((size_t)batch * sizeof *m.len);
  return m;
}

static void buffers_free(buffers *m) {
  free(m->in);
  free(m->tg);
  free(m->len);
}

static int same_batch(const buffers *a, const buffers *b, mdl_dtype type) {
  size_t size = mdl_dtype_size(type);
  return memcmp(a->in, b->in, a->n_in * size) == 0 &&
         memcmp(a->tg, b->tg, a->n_tg * size) == 0 &&
         memcmp(a->len, b->len, (size_t)a->batch * sizeof(int)) == 0;
}

Test(sequences, training_stream_is_deterministic_per_train_seed) {
  mdl_seq_spec add = arith(MDL_SEQ_ADDITION, 80, 0);
  mdl_seq_data *d1 = open_generated(add, 1, 10, 1, 1, 20, 42);
  mdl_seq_data *d2 = open_generated(add, 1, 10, 1, 1, 20, 42);
  mdl_seq_data *d3 = open_generated(add, 1, 10, 1, 1, 20, 43);
  buffers a = buffers_for(d1, 20, MDL_F32), b = buffers_for(d1, 20, MDL_F32);
  buffers c = buffers_for(d1, 20, MDL_F32);
  for (int k = 0; k < 3; k++) {
    mdl_seq_next_batch(d1, 20, a.in, a.tg, a.len, MDL_F32);
    mdl_seq_next_batch(d2, 20, b.in, b.tg, b.len, MDL_F32);
    mdl_seq_next_batch(d3, 20, c.in, c.tg, c.len, MDL_F32);
    cr_assert(same_batch(&a, &b, MDL_F32), "batch %d differs", k);
    cr_assert(!same_batch(&a, &c, MDL_F32), "another seed, the same batch");
  }
  /* Consecutive batches are fresh sequences, not one batch again. */
  mdl_seq_next_batch(d2, 20, b.in, b.tg, b.len, MDL_F32);
  cr_assert(!same_batch(&a, &b, MDL_F32));
  buffers_free(&a);
  buffers_free(&b);
  buffers_free(&c);
  close_generated(d1);
  close_generated(d2);
  close_generated(d3);
}

Test(sequences, sampler_is_only_the_train_seeded_rng) {
  mdl_seq_spec mul = arith(MDL_SEQ_MULTIPLICATION, 80, 0);
  mdl_seq_data *d = open_generated(mul, 9, 3, 0, 0, 16, 77);
  cr_assert_eq(d->sampler.n_cases, 0);
  cr_assert_eq(d->sampler.batch, 16);
  cr_assert_eq(d->sampler.next, 0);
  cr_assert_null(d->sampler.perm);
  cr_assert_null(d->sampler.cases);
  /* Uncentered, the training batch is mdl_seq_draw from an rng seeded by
   * train_seed. */
  buffers a = buffers_for(d, 16, MDL_F64), b = buffers_for(d, 16, MDL_F64);
  mdl_seq_next_batch(d, 16, a.in, a.tg, a.len, MDL_F64);
  mdl_rng rng;
  mdl_rng_seed(&rng, 77);
  mdl_seq_draw(&d->spec, &rng, 16, 16, b.in, b.tg, b.len, MDL_F64);
  cr_assert(same_batch(&a, &b, MDL_F64));
  cr_assert_str_eq(mdl_seq_error_name(d), "zero_one");
  cr_assert(strstr(d->source, "multiplication T=80") != NULL, "%s", d->source);
  buffers_free(&a);
  buffers_free(&b);
  close_generated(d);
}

static size_t test_input_size(const mdl_seq_data *d) {
  return (size_t)d->n_test * d->max_steps * d->n_inputs * sizeof(float);
}

Test(sequences, held_out_set_depends_on_the_data_seed_only) {
  mdl_seq_spec mem = memorization(30, 4, 3);
  mdl_seq_data *a = open_generated(mem, 5, 40, 0, 0, 10, 1);
  mdl_seq_data *b = open_generated(mem, 5, 40, 1, 0, 25, 2);
  mdl_seq_data *c = open_generated(mem, 6, 40, 0, 0, 10, 1);
  mdl_seq_data *prefix = open_generated(mem, 5, 15, 0, 0, 10, 3);
  cr_assert(memcmp(a->test_inputs, b->test_inputs, test_input_size(a)) == 0);
  cr_assert(memcmp(a->test_targets, b->test_targets,
                   (size_t)40 * 30 * 4 * sizeof(float)) == 0);
  cr_assert(memcmp(a->test_inputs, c->test_inputs, test_input_size(a)) != 0);
  /* Drawn one sequence after another: a smaller set is a prefix. */
  cr_assert(memcmp(a->test_inputs, prefix->test_inputs,
                   test_input_size(prefix)) == 0);
  cr_assert_eq(a->raw_target_mean[0], b->raw_target_mean[0]);
  close_generated(a);
  close_generated(b);
  close_generated(c);
  close_generated(prefix);
}

Test(sequences, held_out_set_is_not_the_training_stream) {
  /* Even with train_seed == data_seed, the training batch and the held-out
   * sequences differ. */
  mdl_seq_spec add = arith(MDL_SEQ_ADDITION, 80, 0);
  mdl_seq_data *d = open_generated(add, 8, 20, 0, 0, 20, 8);
  buffers train = buffers_for(d, 20, MDL_F32),
          test = buffers_for(d, 20, MDL_F32);
  mdl_seq_next_batch(d, 20, train.in, train.tg, train.len, MDL_F32);
  mdl_seq_test_batch(d, 0, 20, 20, test.in, test.tg, test.len, MDL_F32);
  cr_assert(memcmp(train.tg, test.tg, 20 * sizeof(float)) != 0);
  cr_assert(memcmp(train.in, test.in, train.n_in * sizeof(float)) != 0);
  buffers_free(&train);
  buffers_free(&test);
  close_generated(d);
}

Test(sequences, centering_sample_is_not_the_held_out_set) {
  /* With n_test = MDL_SEQ_STATS_CASES, a held-out set drawn from the
   * centering stream would have exactly its target mean. The two means
   * must differ, by about the sampling error (SD 0.29 / 100 for A * B). */
  mdl_seq_spec mul = arith(MDL_SEQ_MULTIPLICATION, 20, 0);
  mdl_seq_data *d = open_generated(mul, 3, MDL_SEQ_STATS_CASES, 0, 0, 10, 3);
  double sum = 0;
  for (int i = 0; i < d->n_test; i++)
    sum += d->test_targets[i];
  double held_out = sum / d->n_test;
  cr_assert_neq(held_out, d->raw_target_mean[0]);
  cr_assert(fabs(held_out - d->raw_target_mean[0]) < 0.02, "%g vs %g", held_out,
            d->raw_target_mean[0]);
  close_generated(d);
}

/* Channel means of the centered held-out set, over every real step, with
 * their standard errors; checks that padding stays 0. */
static void centered_means(const mdl_seq_data *d, mdl_dtype type,
                           double *in_mean, double *in_se, double *tg_mean,
                           double *tg_se) {
  int batch = 100, n_in = d->n_inputs, n_out = d->n_outputs;
  buffers m = buffers_for(d, batch, type);
  double in_sum[8] = {0}, in_sq[8] = {0}, tg_sum[8] = {0}, tg_sq[8] = {0};
  double steps = 0, targets = 0;
  for (int first = 0; first < d->n_test; first += batch) {
    int rows = d->n_test - first < batch ? d->n_test - first : batch;
    fill(m.in, type, m.n_in, SENTINEL); /* the padding must be written */
    mdl_seq_test_batch(d, first, rows, batch, m.in, m.tg, m.len, type);
    double *in = to_double(m.in, type, m.n_in);
    double *tg = to_double(m.tg, type, m.n_tg);
    for (int b = 0; b < rows; b++) {
      for (int s = 0; s < d->max_steps; s++)
        for (int c = 0; c < n_in; c++) {
          double v = in[((size_t)s * batch + b) * n_in + c];
          if (s >= m.len[b]) {
            cr_assert_eq(v, 0.0, "padding at step %d of %d is %g", s, m.len[b],
                         v);
            continue;
          }
          in_sum[c] += v;
          in_sq[c] += v * v;
          steps += c == 0;
        }
      int target_steps = d->every_step ? m.len[b] : 1;
      for (int s = 0; s < target_steps; s++)
        for (int c = 0; c < n_out; c++) {
          double v = tg[((size_t)s * batch + b) * n_out + c];
          tg_sum[c] += v;
          tg_sq[c] += v * v;
          targets += c == 0;
        }
    }
    free(in);
    free(tg);
  }
  /* The difference of two independent sample means (held-out and
   * centering sample, the latter MDL_SEQ_STATS_CASES / n_test times as
   * large): SE = SD * sqrt(1/n + 1/n_stats). */
  double ratio = 1 + (double)d->n_test / MDL_SEQ_STATS_CASES;
  for (int c = 0; c < n_in; c++) {
    in_mean[c] = in_sum[c] / steps;
    double var = in_sq[c] / steps - in_mean[c] * in_mean[c];
    in_se[c] = sqrt(var * ratio / steps);
  }
  for (int c = 0; c < n_out; c++) {
    tg_mean[c] = tg_sum[c] / targets;
    double var = tg_sq[c] / targets - tg_mean[c] * tg_mean[c];
    tg_se[c] = sqrt(var * ratio / targets);
  }
  buffers_free(&m);
}

static void check_centered_problem(mdl_seq_spec spec, mdl_dtype type) {
  mdl_seq_data *d = open_generated(spec, 21, 2000, 1, 1, 100, 1);
  double in_mean[8], in_se[8], tg_mean[8], tg_se[8];
  centered_means(d, type, in_mean, in_se, tg_mean, tg_se);
  for (int c = 0; c < d->n_inputs; c++)
    cr_assert(fabs(in_mean[c]) <= 5 * in_se[c],
              "input channel %d has mean %g (SE %g)", c, in_mean[c], in_se[c]);
  cr_assert(fabs(tg_mean[0]) <= 5 * tg_se[0], "target mean %g (SE %g)",
            tg_mean[0], tg_se[0]);
  /* The means subtracted are the problem's: values U[0, 1). */
  cr_assert(fabs(d->input_mean[0] - 0.5) < 0.005, "%g", d->input_mean[0]);
  double mean;
  mdl_seq_target_mean(d, &mean, MDL_F64);
  cr_assert_eq(mean, 0.0, "centered targets have mean %g", mean);
  close_generated(d);
}

Test(sequences, centered_held_out_has_zero_means) {
  check_centered_problem(arith(MDL_SEQ_ADDITION, 80, 0), MDL_F32);
  check_centered_problem(arith(MDL_SEQ_MULTIPLICATION, 200, 0), MDL_F64);
}

Test(sequences, raw_target_means) {
  /* Uncentered, the mean target is the raw one: E[(A + B) / 2] = 0.5,
   * E[A + B] = 1, E[A B] = 0.25, with SDs 0.20, 0.41 and 0.22 over 10,000
   * sequences (SE <= 0.0041). */
  struct {
    mdl_seq_spec spec;
    double mean;
  } cases[] = {{arith(MDL_SEQ_ADDITION, 80, 0), 0.5},
               {arith(MDL_SEQ_ADDITION, 80, 1), 1.0},
               {arith(MDL_SEQ_MULTIPLICATION, 80, 0), 0.25}};
  for (int k = 0; k < 3; k++) {
    mdl_seq_data *d = open_generated(cases[k].spec, 2, 1, 1, 0, 10, 1);
    float mean;
    mdl_seq_target_mean(d, &mean, MDL_F32);
    cr_assert_eq(mean, (float)d->raw_target_mean[0]);
    cr_assert(fabs(mean - cases[k].mean) < 0.02, "case %d: %g", k, mean);
    cr_assert_eq(d->target_mean[0], 0.0);
    close_generated(d);
  }
}

/* A centered training batch is the raw draw less the means, exactly as the
 * dtype rounds it, and 0 beyond each sequence. */
static void check_centering_arithmetic(mdl_seq_spec spec, int center_in,
                                       int center_out, mdl_dtype type) {
  mdl_seq_data *d = open_generated(spec, 4, 1, center_in, center_out, 30, 12);
  buffers got = buffers_for(d, 30, type), raw = buffers_for(d, 30, type);
  fill(got.in, type, got.n_in, SENTINEL);
  fill(got.tg, type, got.n_tg, SENTINEL);
  mdl_seq_next_batch(d, 30, got.in, got.tg, got.len, type);
  mdl_rng rng;
  mdl_rng_seed(&rng, 12);
  mdl_seq_draw(&spec, &rng, 30, 30, raw.in, raw.tg, raw.len, type);
  double *g_in = to_double(got.in, type, got.n_in);
  double *r_in = to_double(raw.in, type, raw.n_in);
  double *g_tg = to_double(got.tg, type, got.n_tg);
  double *r_tg = to_double(raw.tg, type, raw.n_tg);
  int n_in = d->n_inputs, n_out = d->n_outputs;
  for (int b = 0; b < 30; b++) {
    cr_assert_eq(got.len[b], raw.len[b]);
    for (int s = 0; s < d->max_steps; s++) {
      for (int c = 0; c < n_in; c++) {
        size_t i = ((size_t)s * 30 + b) * n_in + c;
        double want = s < raw.len[b] ? r_in[i] - d->input_mean[c] : 0;
        if (type == MDL_F32)
          want = (float)want;
        cr_assert_eq(g_in[i], want, "step %d channel %d: %g, not %g", s, c,
                     g_in[i], want);
      }
      if (!d->every_step && s > 0)
        continue;
      for (int c = 0; c < n_out; c++) {
        size_t i = ((size_t)s * 30 + b) * n_out + c;
        int real = d->every_step ? s < raw.len[b] : 1;
        double want = real ? r_tg[i] - d->target_mean[c] : 0;
        if (type == MDL_F32)
          want = (float)want;
        cr_assert_eq(g_tg[i], want, "target at step %d", s);
      }
    }
  }
  cr_assert_eq(d->input_mean[0] != 0, center_in != 0);
  cr_assert_eq(d->target_mean[0] != 0, center_out != 0);
  free(g_in);
  free(r_in);
  free(g_tg);
  free(r_tg);
  buffers_free(&got);
  buffers_free(&raw);
  close_generated(d);
}

Test(sequences, centering_subtracts_the_means_at_real_steps_only) {
  check_centering_arithmetic(arith(MDL_SEQ_ADDITION, 80, 0), 1, 1, MDL_F32);
  check_centering_arithmetic(arith(MDL_SEQ_MULTIPLICATION, 80, 0), 1, 0,
                             MDL_F64);
  check_centering_arithmetic(arith(MDL_SEQ_ADDITION, 30, 1), 0, 1, MDL_F64);
  check_centering_arithmetic(memorization(40, 5, 3), 1, 0, MDL_F32);
  check_centering_arithmetic(memorization(40, 5, 3), 0, 0, MDL_F64);
}

Test(sequences, memorization_means) {
  /* The blank target comes at T - K of T steps of every sequence and the
   * blank input at T - K - 1: those means are exact; the trigger's is 1/T. */
  mdl_seq_data *d = open_generated(memorization(80, 10, 5), 1, 1, 1, 0, 10, 1);
  cr_assert_float_eq(d->raw_target_mean[5], 70.0 / 80, 1e-12);
  cr_assert_float_eq(d->input_mean[5], 69.0 / 80, 1e-12);
  cr_assert_float_eq(d->input_mean[6], 1.0 / 80, 1e-12);
  double total = 0;
  for (int c = 0; c < 5; c++) {
    /* 10 symbols of 5 over 80 steps: 0.025 each, SE 0.0005. */
    cr_assert(fabs(d->raw_target_mean[c] - 0.025) < 0.0025, "%g",
              d->raw_target_mean[c]);
    cr_assert_eq(d->raw_target_mean[c], d->input_mean[c]);
    total += d->raw_target_mean[c];
  }
  cr_assert_float_eq(total + d->raw_target_mean[5], 1.0, 1e-12);
  close_generated(d);
}

Test(sequences, memorization_target_centering_is_refused) {
  mdl_seq_data *d = calloc(1, sizeof *d);
  mdl_seq_spec mem = memorization(200, 5, 2);
  mdl_error err = {""};
  cr_assert_eq(mdl_seq_open(d, &mem, 1, 10, 0, 1, 10, 1, &err), -1);
  cr_assert(strstr(err.message, "memorization targets cannot be centered"),
            "%s", err.message);
  mdl_seq_close(d); /* a failed open leaves nothing to free */
  free(d);
}

Test(sequences, open_refuses_bad_arguments) {
  mdl_seq_data *d = calloc(1, sizeof *d);
  mdl_seq_spec add = arith(MDL_SEQ_ADDITION, 80, 0);
  mdl_seq_spec bad = arith(MDL_SEQ_ADDITION, 8, 0);
  mdl_error err = {""};
  cr_assert_eq(mdl_seq_open(d, &add, 1, 0, 0, 0, 10, 1, &err), -1);
  cr_assert_str_eq(err.message,
                   "the held-out set needs at least 1 sequence, not 0");
  cr_assert_eq(mdl_seq_open(d, &add, 1, 10, 0, 0, 0, 1, &err), -1);
  cr_assert_str_eq(err.message, "a minibatch needs at least 1 sequence, not 0");
  cr_assert_eq(mdl_seq_open(d, &bad, 1, 10, 0, 0, 10, 1, &err), -1);
  cr_assert_str_eq(err.message, "addition needs T of at least 10, not 8");
  free(d);
}

/* ---- mdl_seq_error ---- */

Test(sequences, arithmetic_error_counts_misses_beyond_tolerance) {
  mdl_seq_data *d =
      open_generated(arith(MDL_SEQ_ADDITION, 10, 0), 1, 1, 0, 0, 6, 1);
  /* Columns 0 .. 4 counted; column 5 is beyond rows. */
  double t[6] = {0.5, 0.5, 0.5, 0.5, 0.25, 0.5};
  double y[6] = {0.5 + 0.039, 0.5 - 0.041, 0.5 + 0.041, 0.5, NAN, 9};
  int len[6] = {11, 11, 11, 11, 11, 11};
  /* Misses: 0.041 twice and the NaN. */
  cr_assert_eq(mdl_seq_error(d, 5, 6, len, y, t, MDL_F64, 0.04), 3.0);
  float t32[6], y32[6];
  for (int b = 0; b < 6; b++) {
    t32[b] = (float)t[b];
    y32[b] = (float)y[b];
  }
  cr_assert_eq(mdl_seq_error(d, 5, 6, len, y32, t32, MDL_F32, 0.04), 3.0);
  cr_assert_eq(mdl_seq_error(d, 6, 6, len, y32, t32, MDL_F32, 0.04), 4.0);
  cr_assert_eq(mdl_seq_error(d, 2, 6, len, y, t, MDL_F64, 0.04), 1.0);
  cr_assert_eq(mdl_seq_error(d, 5, 6, len, y, t, MDL_F64, 0.05), 1.0);
  close_generated(d);
}

Test(sequences, memorization_error_counts_wrong_symbols) {
  /* K = 2 symbols of A = 3, T = 6: recall at steps 4 and 5; 3 columns.
   * Each output row is (symbol 0, symbol 1, symbol 2, blank). */
  enum { T = 6, B = 3, W = 4 };
  mdl_seq_data *d = open_generated(memorization(T, 2, 3), 1, 1, 0, 0, B, 1);
  double y[T * B * W] = {0}, t[T * B * W] = {0};
  int len[B] = {T, T, T};
  /* Targets: column 0 recalls (2, 0), column 1 (1, 1), column 2 (0, 2). */
  int want[B][2] = {{2, 0}, {1, 1}, {0, 2}};
  for (int b = 0; b < B; b++)
    for (int s = 0; s < T; s++)
      t[(s * B + b) * W + (s < 4 ? 3 : want[b][s - 4])] = 1;
  /* Outputs at the recall steps, row by row. */
  double rows[B][2][W] = {
      /* column 0: right (clear max); a tie 0.4 / 0.4 on symbols 0 and 2
       * recalls 0, the lowest: right. */
      {{0.1, 0.2, 0.7, 0}, {0.4, 0.2, 0.4, 0}},
      /* column 1: a tie of 1 and 2 recalls 1: right; the blank wins (0.9)
       * but the best symbol is 0: wrong. */
      {{0.0, 0.3, 0.3, 0.4}, {0.05, 0.0, 0.0, 0.9}},
      /* column 2: the blank wins but symbol 0 is the best symbol: right; a
       * tie of 0 and 2 recalls 0, not the target 2: wrong. */
      {{0.2, 0.1, 0.1, 0.6}, {0.3, 0.1, 0.3, 0.3}}};
  for (int b = 0; b < B; b++)
    for (int k = 0; k < 2; k++)
      for (int c = 0; c < W; c++)
        y[((4 + k) * B + b) * W + c] = rows[b][k][c];
  /* Earlier steps are not recall steps: wrong symbols there do not count. */
  y[(0 * B + 0) * W + 1] = 5;
  y[(3 * B + 2) * W + 2] = 5;
  cr_assert_eq(mdl_seq_error(d, B, B, len, y, t, MDL_F64, 0.04), 2.0);
  cr_assert_eq(mdl_seq_error(d, 1, B, len, y, t, MDL_F64, 0.04), 0.0);
  cr_assert_eq(mdl_seq_error(d, 2, B, len, y, t, MDL_F64, 0.04), 1.0);
  float y32[T * B * W], t32[T * B * W];
  for (int i = 0; i < T * B * W; i++) {
    y32[i] = (float)y[i];
    t32[i] = (float)t[i];
  }
  cr_assert_eq(mdl_seq_error(d, B, B, len, y32, t32, MDL_F32, 0.04), 2.0);
  /* A NaN among the symbol channels is a wrong recall. */
  y[(4 * B + 0) * W + 1] = NAN;
  cr_assert_eq(mdl_seq_error(d, B, B, len, y, t, MDL_F64, 0.04), 3.0);
  close_generated(d);
}

/* ---- the bias-only figures of Table 5 ---- */

/* The error over the whole held-out set of a net that predicts the mean
 * target (as it sees it) at every step, per sequence. */
static double bias_only_error(const mdl_seq_data *d, mdl_dtype type) {
  int batch = 100, n_out = d->n_outputs;
  buffers m = buffers_for(d, batch, type);
  void *y = malloc(m.n_tg * mdl_dtype_size(type));
  double mean[8];
  mdl_seq_target_mean(d, mean, MDL_F64);
  for (size_t r = 0; r < m.n_tg / n_out; r++)
    for (int c = 0; c < n_out; c++)
      fill((char *)y + (r * n_out + c) * mdl_dtype_size(type), type, 1,
           mean[c]);
  double error = 0;
  for (int first = 0; first < d->n_test; first += batch) {
    int rows = d->n_test - first < batch ? d->n_test - first : batch;
    mdl_seq_test_batch(d, first, rows, batch, m.in, m.tg, m.len, type);
    error += mdl_seq_error(d, rows, batch, m.len, y, m.tg, type, 0.04);
  }
  free(y);
  buffers_free(&m);
  return error / d->n_test;
}

/* CDFs of the targets: (A + B) / 2 and A + B are triangular, A B has
 * F(x) = x - x ln x. */
static double cdf_half_sum(double s) {
  return s <= 0     ? 0
         : s <= 0.5 ? 2 * s * s
         : s < 1    ? 1 - 2 * (1 - s) * (1 - s)
                    : 1;
}

static double cdf_sum(double s) {
  return s <= 0   ? 0
         : s <= 1 ? s * s / 2
         : s < 2  ? 1 - (2 - s) * (2 - s) / 2
                  : 1;
}

static double cdf_product(double x) {
  return x <= 0 ? 0 : x >= 1 ? 1 : x - x * log(x);
}

/* P(|target - m| > 0.04) for a prediction m. */
static double miss_rate(double (*cdf)(double), double m) {
  return 1 - (cdf(m + 0.04) - cdf(m - 0.04));
}

static void check_bias_only_arith(mdl_seq_spec spec, double (*cdf)(double),
                                  int center, mdl_dtype type, double paper) {
  int n = 10000;
  mdl_seq_data *d = open_generated(spec, 2013, n, center, center, 100, 1);
  double got = bias_only_error(d, type);
  /* The prediction is the measured mean, not the exact one. */
  double p = miss_rate(cdf, d->raw_target_mean[0]);
  double se = sqrt(p * (1 - p) / n);
  cr_log_info("bias-only %s: measured %.4f, expected %.4f (SE %.4f; paper "
              "%.2f)",
              d->source, got, p, se, paper);
  cr_assert(fabs(got - p) <= 4 * se, "%s: %g, expected %g (SE %g)", d->source,
            got, p, se);
  close_generated(d);
}

Test(sequences, bias_only_formulas) {
  /* The closed forms at the exact means. */
  cr_assert_float_eq(miss_rate(cdf_half_sum, 0.5), 0.8464, 1e-12);
  cr_assert_float_eq(miss_rate(cdf_sum, 1.0), 0.9216, 1e-12);
  double F29 = 0.29 - 0.29 * log(0.29), F21 = 0.21 - 0.21 * log(0.21);
  cr_assert_float_eq(miss_rate(cdf_product, 0.25), 1 - (F29 - F21), 1e-12);
  cr_assert_float_eq(miss_rate(cdf_product, 0.25), 0.8888, 1e-4);
}

Test(sequences, bias_only_addition) {
  check_bias_only_arith(arith(MDL_SEQ_ADDITION, 80, 0), cdf_half_sum, 1,
                        MDL_F32, 0.82);
  check_bias_only_arith(arith(MDL_SEQ_ADDITION, 80, 1), cdf_sum, 0, MDL_F64,
                        0.82);
}

Test(sequences, bias_only_multiplication) {
  check_bias_only_arith(arith(MDL_SEQ_MULTIPLICATION, 80, 0), cdf_product, 1,
                        MDL_F64, 0.84);
}

static void check_bias_only_memorization(mdl_seq_spec spec, double paper) {
  int n = 10000, K = spec.symbols, A = spec.alphabet;
  mdl_seq_data *d = open_generated(spec, 2013, n, 0, 0, 100, 1);
  double got = bias_only_error(d, MDL_F32);
  /* Each of the K recalls is the most frequent symbol, right with
   * probability 1/A: binomial(K, (A - 1) / A) wrong symbols per sequence. */
  double want = K * (A - 1.0) / A;
  double se = sqrt(K * (A - 1.0) / ((double)A * A) / n);
  cr_log_info("bias-only %s: measured %.4f, expected %.4f (SE %.4f; paper "
              "%.1f)",
              d->source, got, want, se, paper);
  cr_assert(fabs(got - want) <= 4 * se, "%s: %g, expected %g (SE %g)",
            d->source, got, want, se);
  close_generated(d);
}

Test(sequences, bias_only_memorization) {
  check_bias_only_memorization(memorization(200, 5, 2), 2.5);
  check_bias_only_memorization(memorization(80, 10, 5), 8.0);
}

/* ---- sequences from .npy files ---- */

static char npy_dir[64];

static void npy_setup(void) { scratch_make(npy_dir, "seq"); }

static void npy_teardown(void) { scratch_remove(npy_dir); }

static const char *npy_file(const char *name, const float *data, long rows,
                            long cols) {
  static char paths[4][512];
  static int next;
  char *path = paths[next++ % 4];
  snprintf(path, 512, "%s/%s", npy_dir, name);
  mdl_error err = {""};
  cr_assert_eq(mdl_npy_write(path, data, MDL_F32, rows, cols, &err), 0, "%s",
               err.message);
  return path;
}

/* 6 sequences of 3 steps of 2 inputs: step s of sequence i holds
 * (10 i + s, -s); the target of sequence i is i / 10. */
static void write_last_step_files(const char **inputs, const char **targets) {
  float in[6 * 6], tg[6];
  for (int i = 0; i < 6; i++) {
    for (int s = 0; s < 3; s++) {
      in[i * 6 + s * 2] = (float)(10 * i + s);
      in[i * 6 + s * 2 + 1] = (float)-s;
    }
    tg[i] = (float)i / 10;
  }
  *inputs = npy_file("in.npy", in, 6, 6);
  *targets = npy_file("tg.npy", tg, 6, 1);
}

static mdl_seq_data *open_npy(const char *inputs, const char *targets,
                              int n_cases, int n_in, int n_out, int every,
                              int center_in, int center_out, int batch) {
  mdl_seq_data *d = calloc(1, sizeof *d);
  mdl_error err = {""};
  cr_assert_eq(mdl_seq_open_npy(d, inputs, targets, n_cases, n_in, n_out, every,
                                center_in, center_out, batch, 5, &err),
               0, "%s", err.message);
  return d;
}

Test(sequence_files, last_step_targets, .init = npy_setup,
     .fini = npy_teardown) {
  const char *inputs, *targets;
  write_last_step_files(&inputs, &targets);
  mdl_seq_data *d = open_npy(inputs, targets, 0, 2, 1, 0, 0, 0, 2);
  cr_assert_eq(d->n_test, 6);
  cr_assert_eq(d->max_steps, 3);
  cr_assert_eq(d->n_inputs, 2);
  cr_assert_eq(d->every_step, 0);
  cr_assert_str_eq(mdl_seq_error_name(d), "train_error");
  /* The held-out set is the file, put time-major: sequences 2 .. 4. */
  float in[3 * 4 * 2], tg[4];
  int len[4];
  mdl_seq_test_batch(d, 2, 3, 4, in, tg, len, MDL_F32);
  for (int b = 0; b < 3; b++) {
    cr_assert_eq(len[b], 3);
    cr_assert_float_eq(tg[b], (2 + b) / 10.0, 1e-7);
    for (int s = 0; s < 3; s++) {
      cr_assert_eq(in[(s * 4 + b) * 2], 10 * (2 + b) + s);
      cr_assert_eq(in[(s * 4 + b) * 2 + 1], -s);
    }
  }
  /* An epoch of 3 batches of 2 covers every sequence once. */
  int seen[6] = {0};
  for (int k = 0; k < 3; k++) {
    double bin[3 * 2 * 2], btg[2];
    int blen[2];
    mdl_seq_next_batch(d, 2, bin, btg, blen, MDL_F64);
    for (int b = 0; b < 2; b++) {
      int i = (int)bin[b * 2] / 10;
      seen[i]++;
      cr_assert_float_eq(btg[b], i / 10.0, 1e-7);
      cr_assert_eq(bin[(2 * 2 + b) * 2], 10 * i + 2);
      cr_assert_eq(blen[b], 3);
    }
  }
  for (int i = 0; i < 6; i++)
    cr_assert_eq(seen[i], 1, "sequence %d drawn %d times", i, seen[i]);
  close_generated(d);
}

Test(sequence_files, centering_over_the_file, .init = npy_setup,
     .fini = npy_teardown) {
  const char *inputs, *targets;
  write_last_step_files(&inputs, &targets);
  mdl_seq_data *d = open_npy(inputs, targets, 4, 2, 1, 0, 1, 1, 4);
  /* Four sequences: channel 0 means (0+1+2 + 10+11+12 + ...) / 12 = 16,
   * channel 1 -1, targets (0 + .1 + .2 + .3) / 4. */
  cr_assert_float_eq(d->input_mean[0], 16.0, 1e-12);
  cr_assert_float_eq(d->input_mean[1], -1.0, 1e-12);
  cr_assert_float_eq(d->raw_target_mean[0], 0.15, 1e-7);
  double mean;
  mdl_seq_target_mean(d, &mean, MDL_F64);
  cr_assert_eq(mean, 0.0);
  double in[3 * 4 * 2], tg[4];
  int len[4];
  mdl_seq_test_batch(d, 0, 4, 4, in, tg, len, MDL_F64);
  cr_assert_float_eq(in[(1 * 4 + 3) * 2], 31 - 16.0, 1e-12);
  cr_assert_float_eq(in[(1 * 4 + 3) * 2 + 1], -1 + 1.0, 1e-12);
  cr_assert_float_eq(tg[2], 0.2 - 0.15, 1e-7);
  close_generated(d);
}

Test(sequence_files, every_step_targets_and_squared_error, .init = npy_setup,
     .fini = npy_teardown) {
  /* 4 sequences of 2 steps of 1 input, 3 outputs at every step: target
   * channel c of step s of sequence i is i + s + c / 10. */
  float in[4 * 2], tg[4 * 6];
  for (int i = 0; i < 4; i++)
    for (int s = 0; s < 2; s++) {
      in[i * 2 + s] = (float)(i * 2 + s);
      for (int c = 0; c < 3; c++)
        tg[i * 6 + s * 3 + c] = (float)(i + s + c / 10.0);
    }
  const char *inputs = npy_file("in.npy", in, 4, 2);
  const char *targets = npy_file("tg.npy", tg, 4, 6);
  mdl_seq_data *d = open_npy(inputs, targets, 0, 1, 3, 1, 0, 0, 4);
  cr_assert_eq(d->every_step, 1);
  double x[2 * 3], t[2 * 3 * 3];
  int len[3];
  mdl_seq_test_batch(d, 1, 3, 3, x, t, len, MDL_F64);
  for (int b = 0; b < 3; b++)
    for (int s = 0; s < 2; s++)
      for (int c = 0; c < 3; c++)
        cr_assert_float_eq(t[(s * 3 + b) * 3 + c], 1 + b + s + c / 10.0, 1e-6);
  /* Predictions off by 0.5 everywhere in column 0 and by 1 at one value of
   * column 2: 6 * 0.25 + 1 = 2.5. */
  double y[2 * 3 * 3];
  memcpy(y, t, sizeof y);
  for (int s = 0; s < 2; s++)
    for (int c = 0; c < 3; c++)
      y[(s * 3 + 0) * 3 + c] += 0.5;
  y[(1 * 3 + 2) * 3 + 1] -= 1;
  cr_assert_float_eq(mdl_seq_error(d, 3, 3, len, y, t, MDL_F64, 0.04), 2.5,
                     1e-12);
  cr_assert_float_eq(mdl_seq_error(d, 2, 3, len, y, t, MDL_F64, 0.04), 1.5,
                     1e-12);
  close_generated(d);
}

Test(sequence_files, last_step_squared_error, .init = npy_setup,
     .fini = npy_teardown) {
  const char *inputs, *targets;
  write_last_step_files(&inputs, &targets);
  mdl_seq_data *d = open_npy(inputs, targets, 0, 2, 1, 0, 0, 0, 3);
  float y[3] = {1, 2, 3}, t[3] = {1.5f, 2, 0};
  int len[3] = {3, 3, 3};
  cr_assert_float_eq(mdl_seq_error(d, 3, 3, len, y, t, MDL_F32, 0.04), 9.25,
                     1e-6);
  close_generated(d);
}

static void assert_npy_refused(const char *inputs, const char *targets,
                               int n_cases, int n_in, int n_out, int every,
                               int batch, const char *phrase) {
  mdl_seq_data *d = calloc(1, sizeof *d);
  mdl_error err = {""};
  cr_assert_eq(mdl_seq_open_npy(d, inputs, targets, n_cases, n_in, n_out, every,
                                0, 0, batch, 1, &err),
               -1, "opening succeeded");
  cr_assert(strstr(err.message, phrase) != NULL, "message \"%s\" lacks \"%s\"",
            err.message, phrase);
  cr_assert_null(d->test_inputs);
  mdl_seq_close(d);
  free(d);
}

Test(sequence_files, shape_errors, .init = npy_setup, .fini = npy_teardown) {
  const char *inputs, *targets;
  write_last_step_files(&inputs, &targets); /* 6 × 6 and 6 × 1 */
  assert_npy_refused(inputs, targets, 0, 4, 1, 0, 2,
                     "rows of 6 values are not a whole number of steps of 4 "
                     "inputs");
  assert_npy_refused(inputs, targets, 0, 2, 2, 0, 2,
                     "rows of 1 value, but targets of 2 outputs at the last "
                     "step need 2");
  assert_npy_refused(inputs, targets, 0, 2, 1, 1, 2,
                     "rows of 1 value, but targets of 1 output at each of 3 "
                     "steps need 3");
  assert_npy_refused(inputs, targets, 0, 2, 1, 0, 7,
                     "a minibatch of 7 sequences is larger than the 6 "
                     "sequences of");
  assert_npy_refused(inputs, targets, 0, MDL_SEQ_MAX_CHANNELS + 1, 1, 0, 2,
                     "sequences need 1 to 4096 inputs per step, not 4097");
  assert_npy_refused(inputs, targets, 0, 2, MDL_SEQ_MAX_CHANNELS + 1, 0, 2,
                     "sequences need 1 to 4096 outputs per step, not 4097");
  assert_npy_refused(inputs, targets, 0, 0, 1, 0, 2,
                     "sequences need 1 to 4096 inputs per step, not 0");
  assert_npy_refused(inputs, targets, 0, 2, 1, 0, 0,
                     "a minibatch needs at least 1 sequence, not 0");
  assert_npy_refused(inputs, NULL, 0, 2, 1, 0, 2,
                     "sequences need a file of targets");
  assert_npy_refused(inputs, targets, 9, 2, 1, 0, 2,
                     "asked for 9 cases but the file holds only 6 rows");
  float few[4] = {0};
  const char *short_targets = npy_file("few.npy", few, 4, 1);
  assert_npy_refused(inputs, short_targets, 0, 2, 1, 0, 2,
                     "4 rows of targets for 6 sequences");
  /* Taking only 4 cases, those 4 target rows are enough. */
  mdl_seq_data *d = open_npy(inputs, short_targets, 4, 2, 1, 0, 0, 0, 2);
  cr_assert_eq(d->n_test, 4);
  close_generated(d);
  char missing[600];
  snprintf(missing, sizeof missing, "%s/none.npy", npy_dir);
  assert_npy_refused(missing, targets, 0, 2, 1, 0, 2, "none.npy");
  assert_npy_refused(inputs, missing, 0, 2, 1, 0, 2, "none.npy");
}

/* ---- checkpoints of the training stream ---- */

Test(sequence_files, checkpoint_restores_the_generator_stream,
     .init = npy_setup, .fini = npy_teardown) {
  mdl_seq_spec mem = memorization(30, 4, 3);
  mdl_seq_data *d = open_generated(mem, 1, 5, 1, 0, 8, 99);
  buffers m = buffers_for(d, 8, MDL_F32);
  buffers after[3] = {buffers_for(d, 8, MDL_F32), buffers_for(d, 8, MDL_F32),
                      buffers_for(d, 8, MDL_F32)};
  for (int k = 0; k < 2; k++)
    mdl_seq_next_batch(d, 8, m.in, m.tg, m.len, MDL_F32);
  char path[600];
  snprintf(path, sizeof path, "%s/run.ckpt", npy_dir);
  float theta[3] = {1, 2, 3}, velocity[3] = {-1, -2, -3};
  mdl_error err = {""};
  cr_assert_eq(mdl_checkpoint_save(path, 2, theta, velocity, 0, MDL_F32, 3,
                                   &d->sampler, &err),
               0, "%s", err.message);
  for (int k = 0; k < 3; k++)
    mdl_seq_next_batch(d, 8, after[k].in, after[k].tg, after[k].len, MDL_F32);

  /* Restored into the same data, and into a fresh run with another seed:
   * the same three batches again. */
  mdl_seq_data *fresh = open_generated(mem, 1, 5, 1, 0, 8, 12345);
  mdl_seq_data *runs[2] = {d, fresh};
  for (int r = 0; r < 2; r++) {
    long t = -1;
    float th[3], v[3];
    cr_assert_eq(mdl_checkpoint_load(path, &t, th, v, 0, MDL_F32, 3,
                                     &runs[r]->sampler, &err),
                 0, "%s", err.message);
    cr_assert_eq(t, 2);
    cr_assert_eq(th[2], 3.0f);
    cr_assert_eq(v[1], -2.0f);
    for (int k = 0; k < 3; k++) {
      mdl_seq_next_batch(runs[r], 8, m.in, m.tg, m.len, MDL_F32);
      cr_assert(same_batch(&m, &after[k], MDL_F32), "run %d batch %d", r, k);
    }
  }
  /* A checkpoint of another minibatch size is refused. */
  mdl_seq_data *other = open_generated(mem, 1, 5, 1, 0, 9, 99);
  long t;
  float th[3];
  cr_assert_eq(mdl_checkpoint_load(path, &t, th, NULL, 0, MDL_F32, 3,
                                   &other->sampler, &err),
               -1);
  for (int k = 0; k < 3; k++)
    buffers_free(&after[k]);
  buffers_free(&m);
  close_generated(d);
  close_generated(fresh);
  close_generated(other);
}

static void silence_stderr(void) { cr_redirect_stderr(); }

Test(sequences, wrong_minibatch_size_dies, .init = silence_stderr,
     .exit_code = 1) {
  mdl_seq_data *d =
      open_generated(arith(MDL_SEQ_ADDITION, 10, 0), 1, 1, 0, 0, 4, 1);
  float in[11 * 5 * 2], tg[5];
  int len[5];
  mdl_seq_next_batch(d, 5, in, tg, len, MDL_F32);
}
