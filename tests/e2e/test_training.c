/* test_training.c — whole training runs: a small deep autoencoder
 * (64-32-8-32-64, logistic units, a linear code, cross-entropy, sparse
 * initialization) on structured 8 × 8 images, for 3000 updates in the
 * default precision (float32), as users run it.
 *
 * Its training error (the paper's: the squared reconstruction error summed
 * over the outputs, averaged over the cases) must fall by a large factor
 * with NAG and with CM under the eq.-5 schedule, and well below what the
 * best constant output (the mean image) achieves, so that the net learned
 * the images and not only its output biases; with the same ε, plain SGD
 * must decrease at every report but end far above them (momentum's
 * acceleration, the paper's subject). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

enum { CASES = 500, SIDE = 8, WIDTH = SIDE * SIDE, STEPS = 3000, EVERY = 500 };

/* Each image holds two bars, each a whole row or a whole column of the
 * 8 × 8 grid, at intensity 1, or 0.75 where two cross (or coincide): a few
 * degrees of freedom behind 64 pixels, which an 8-unit code can capture.
 * x is CASES × WIDTH. */
static void make_bars(double *x) {
  uint32_t seed = 2013;
  for (int n = 0; n < CASES; n++) {
    double *image = x + (size_t)n * WIDTH;
    for (int i = 0; i < WIDTH; i++)
      image[i] = 0;
    for (int b = 0; b < 2; b++) {
      int bar = e2e_draw(&seed, 2 * SIDE), k = bar % SIDE;
      for (int i = 0; i < SIDE; i++) {
        int pixel = bar < SIDE ? k * SIDE + i : i * SIDE + k;
        image[pixel] = image[pixel] > 0 ? 0.75 : 1;
      }
    }
  }
}

/* The error of the best constant reconstruction, the mean image: Σ_j of
 * the variance of pixel j over the cases. */
static double mean_image_error(const double *x) {
  double total = 0;
  for (int j = 0; j < WIDTH; j++) {
    double mean = 0, var = 0;
    for (int n = 0; n < CASES; n++)
      mean += x[(size_t)n * WIDTH + j] / CASES;
    for (int n = 0; n < CASES; n++) {
      double d = x[(size_t)n * WIDTH + j] - mean;
      var += d * d / CASES;
    }
    total += var;
  }
  return total;
}

typedef struct {
  double error[STEPS / EVERY + 1]; /* at t = 0, EVERY, ..., STEPS */
  double first, last;
  double baseline; /* the mean image's error */
} Run;

/* Writes the data, compiles and trains, and reads the learning curve. */
static Run train(const char *name, const char *method, const char *schedule) {
  const char *dir = e2e_dir(name);
  double *x = malloc(sizeof(double) * CASES * WIDTH);
  make_bars(x);
  Run run;
  run.baseline = mean_image_error(x);
  char *data = e2e_join(dir, "bars.npy");
  e2e_write_f64(data, x, CASES, WIDTH);
  free(x);
  char program[2048];
  snprintf(program, sizeof program,
           "data bars = npy(\"%s\", cases %d)\n"
           "net ae : autoencoder {\n  input %d\n  encoder sigmoid [32]\n"
           "  code linear 8\n  decoder mirror\n  output sigmoid\n"
           "  loss cross_entropy\n}\n"
           "init ae {\n  weights sparse(fan_in 15, scale 1.0)\n"
           "  biases 0\n}\n"
           "train ae on bars with %s {\n  batch 50\n  steps %d\n"
           "  seed 1\n%s  report every %d\n}\n",
           data, CASES, WIDTH, method, STEPS, schedule, EVERY);
  const char *exe = e2e_compile(dir, name, "", program);
  cr_assert(exe);
  char *log_path = e2e_join(dir, "curve.csv");
  e2e_result r = e2e_run("%s --threads 1 --log %s", exe, log_path);
  cr_assert_eq(r.status, 0, "%s:\n%s", name, r.output);
  free(r.output);

  FILE *f = fopen(log_path, "r");
  cr_assert(f);
  char line[512];
  cr_assert(fgets(line, sizeof line, f));
  int rows = 0;
  while (fgets(line, sizeof line, f)) {
    long t;
    double mu, epsilon, error, loss;
    cr_assert_eq(
        sscanf(line, "%ld,%lf,%lf,%lf,%lf", &t, &mu, &epsilon, &error, &loss),
        5, "row %s", line);
    cr_assert(rows <= STEPS / EVERY && t == (long)rows * EVERY,
              "%s: unexpected row %s", name, line);
    cr_assert(isfinite(error) && isfinite(loss), "%s: row %s", name, line);
    run.error[rows++] = error;
  }
  fclose(f);
  cr_assert_eq(rows, STEPS / EVERY + 1, "%s: %d rows in the curve", name, rows);
  run.first = run.error[0];
  run.last = run.error[rows - 1];
  cr_log_info("%s: train_error %g -> %g (mean image %g)", name, run.first,
              run.last, run.baseline);
  free(log_path);
  free(data);
  return run;
}

static const char *const eq5 =
    "  epsilon 0.01\n"
    "  mu min(1 - 2^(-1 - log2(floor(t / 250) + 1)), 0.99)\n";

static void expect_learned(const char *method, Run run) {
  cr_expect(run.last * 3 <= run.first, "%s: train_error %g -> %g", method,
            run.first, run.last);
  cr_expect(run.last * 3 <= run.baseline,
            "%s: train_error %g, not far below the mean image's %g", method,
            run.last, run.baseline);
}

Test(training, nag_autoencoder_error_falls) {
  expect_learned("nag", train("train_nag", "nag", eq5));
}

Test(training, cm_autoencoder_error_falls) {
  expect_learned("cm", train("train_cm", "cm", eq5));
}

/* The same ε without momentum: steady progress, but slow. */
Test(training, sgd_decreases_but_momentum_is_faster) {
  Run sgd = train("train_sgd", "sgd", "  epsilon 0.01\n");
  for (int i = 1; i <= STEPS / EVERY; i++)
    cr_expect(sgd.error[i] < sgd.error[i - 1],
              "SGD: train_error rose from %g to %g at t = %d", sgd.error[i - 1],
              sgd.error[i], i * EVERY);
  cr_expect(sgd.last * 2 <= sgd.first, "SGD: train_error %g -> %g", sgd.first,
            sgd.last);
  Run nag = train("train_nag_vs_sgd", "nag", eq5);
  cr_expect(nag.last * 3 <= sgd.last,
            "NAG (%g) is not much faster than SGD (%g) with the same epsilon",
            nag.last, sgd.last);
}
