/* test_recurrent.c — recurrent programs end to end: the echo-state
 * initialization as the program makes it (15 incoming weights per hidden
 * unit, the spectral radius before and after in the header), training on
 * the addition problem until its zero-one error is far below that of
 * predicting the mean, memorization's metric, the CSV log, and checkpoints
 * that resume the stream of fresh minibatches bit for bit. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

/* Addition at T = 20 (sequences of 21 or 22 steps): learnt in a few
 * thousand updates, where T = 80 takes tens of thousands. */
static const char *addition =
    "data add = addition(T 20, test_cases 2000, center [inputs, targets])\n"
    "net rnn : recurrent {\n  input 2\n  hidden tanh 100\n"
    "  output linear 1 at last\n}\n"
    "init rnn {\n  input_to_hidden gaussian(0.001)\n"
    "  hidden_to_hidden sparse(fan_in 15) spectral_radius 1.1\n"
    "  hidden_to_output gaussian(0.1)\n  biases 0\n"
    "  output_bias mean(targets)\n}\n"
    "train rnn on add with nag {\n  batch 100\n  steps 3000\n"
    "  epsilon 0.01\n  mu 0.9 if t < 1000 else 0.995\n"
    "  report every 500 zero_one(0.04)\n}\n";

Test(recurrent, addition_error_falls_far_below_predicting_the_mean) {
  const char *exe =
      e2e_compile(e2e_dir("rnn_addition"), "addition", "", addition);
  cr_assert_not_null(exe);
  e2e_result r = e2e_run("%s --threads 1 --log %s/curve.csv", exe,
                         e2e_dir("rnn_addition"));
  cr_assert_eq(r.status, 0, "%s", r.output);
  double final = e2e_number_after(r.output, "final zero_one");
  free(r.output);
  /* At t = 0 (the first row of the log) the net predicts about the mean
   * target, which is wrong for about 85% of sequences (Table 5's "biases"
   * column). */
  r = e2e_run("sed -n 2p %s/curve.csv | cut -d, -f4", e2e_dir("rnn_addition"));
  double first = atof(r.output);
  cr_expect(first > 0.75, "the zero-one error began at %g", first);
  cr_expect(final < 0.25, "the zero-one error ended at %g", final);
  free(r.output);
  r = e2e_run("head -1 %s/curve.csv", e2e_dir("rnn_addition"));
  cr_expect(strstr(r.output, "update,mu,epsilon,zero_one,loss,seconds"), "%s",
            r.output);
  free(r.output);
}

/* The initial hidden-to-hidden matrix: every unit has exactly 15 incoming
 * weights (sec. 3.1), and the radius after rescaling is 1.1. */
Test(recurrent, hidden_to_hidden_starts_sparse_at_radius_one_point_one) {
  const char *dir = e2e_dir("rnn_init");
  const char *exe =
      e2e_compile(dir, "addition", "--precision double", addition);
  cr_assert_not_null(exe);
  e2e_result r =
      e2e_run("cd %s && %s --steps 0 --save-params init.npy", dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  double before = e2e_number_after(r.output, "spectral radius");
  double after = e2e_number_after(r.output, "rescaled to");
  cr_expect(before > 1.5 && before < 10, "radius before %g:\n%s", before,
            r.output);
  cr_expect(fabs(after - 1.1) < 1e-5, "radius after %g:\n%s", after, r.output);
  free(r.output);
  double *theta;
  char *path = e2e_join(dir, "init.npy");
  long n = e2e_read_f64(path, &theta);
  cr_assert_eq(n, 2 * 100 + 100 * 100 + 100 + 100 + 1);
  const double *w = theta + 2 * 100; /* hidden_to_hidden, after input_to_ */
  for (int j = 0; j < 100; j++) {
    int nonzeros = 0;
    for (int i = 0; i < 100; i++)
      nonzeros += w[i * 100 + j] != 0;
    cr_expect_eq(nonzeros, 15, "hidden unit %d has %d incoming weights", j,
                 nonzeros);
  }
  free(theta);
  free(path);
}

/* The stream of fresh minibatches is part of the checkpoint: a run that
 * stops at 60 and resumes ends where an uninterrupted run of 120 ends. */
Test(recurrent, resume_continues_the_minibatch_stream_exactly) {
  const char *dir = e2e_dir("rnn_checkpoint");
  const char *exe =
      e2e_compile(dir, "prog", "",
                  "data d = addition(T 10, test_cases 100)\n"
                  "net r : recurrent {\n  input 2\n  hidden tanh 20\n"
                  "  initial learned\n  output linear 1\n}\n"
                  "train r on d with nag {\n  batch 20\n  steps 120\n"
                  "  epsilon 0.01\n  mu 0.9\n  report every 30\n}\n");
  cr_assert_not_null(exe);
  e2e_result r = e2e_run("cd %s && %s --threads 1 --steps 60 --checkpoint "
                         "half.ckpt --quiet && %s --threads 1 --resume "
                         "half.ckpt --save-params resumed.npy --quiet && %s "
                         "--threads 1 --save-params whole.npy --quiet && cmp "
                         "resumed.npy whole.npy",
                         dir, exe, exe, exe);
  cr_assert_eq(r.status, 0, "resumed and whole runs differ:\n%s", r.output);
  free(r.output);
  r = e2e_run("cd %s && %s --threads 1 --steps 60 --save-params half.npy "
              "--quiet && cmp -s half.npy whole.npy",
              dir, exe);
  cr_assert_neq(r.status, 0, "60 and 120 updates ended at the same place");
  free(r.output);
}

/* Memorization reports wrongly recalled symbols per sequence: with 2
 * symbols of a binary alphabet, between 0 and 2, and a trained net below
 * the 1.0 of guessing. */
Test(recurrent, memorization_reports_wrong_symbols_per_sequence) {
  const char *dir = e2e_dir("rnn_memorization");
  const char *exe = e2e_compile(
      dir, "mem", "",
      "data d = memorization(symbols 2, alphabet 2, T 8, test_cases 500, "
      "center inputs)\n"
      "net r : recurrent {\n  input 4\n  hidden tanh 30\n"
      "  output softmax 3 at every\n}\n"
      "init r {\n  input_to_hidden gaussian(0.1)\n}\n"
      "train r on d with nag {\n  batch 50\n  steps 1500\n"
      "  epsilon 0.01\n  mu 0.9\n  report every 500\n}\n");
  cr_assert_not_null(exe);
  e2e_result r = e2e_run("%s --threads 1 --log %s/curve.csv", exe, dir);
  cr_assert_eq(r.status, 0, "%s", r.output);
  double final = e2e_number_after(r.output, "final zero_one");
  cr_expect(final >= 0 && final < 0.5, "wrong symbols per sequence %g:\n%s",
            final, r.output);
  free(r.output);
  r = e2e_run("sed -n 2p %s/curve.csv | cut -d, -f4", dir);
  double first = atof(r.output);
  cr_expect(first > 0.5 && first <= 2, "at t = 0: %g wrong symbols", first);
  free(r.output);
}
