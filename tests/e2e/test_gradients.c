/* test_gradients.c — backpropagation in the generated programs against
 * finite differences (`./prog --check-gradients`), for every pairing of
 * output units and loss the language accepts and for hidden layers of every
 * kind; and the loss and error a program reports against the same numbers
 * computed here from their definitions.
 *
 * The programs are compiled with `mdlc --precision double`, where the check
 * is tight (a relative error below 1e-6; a correct gradient gives about
 * 1e-9), except for one float32 run that must pass its looser tolerance.
 * A mutant program whose backward pass is slightly wrong must fail the
 * check, which shows that the check can fail at all. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

/* ---- data ---- */

static void put_u32(FILE *f, uint32_t v) {
  unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                        (unsigned char)(v >> 8), (unsigned char)v};
  fwrite(b, 1, 4, f);
}

/* IDX images (magic 0x00000803: n, rows, cols, then bytes) and labels
 * (magic 0x00000801: n, then bytes). */
static void write_idx(const char *images, const char *labels, int n, int rows,
                      int cols, const unsigned char *pixels,
                      const unsigned char *label) {
  FILE *f = fopen(images, "wb");
  cr_assert(f, "cannot write %s", images);
  put_u32(f, 0x00000803);
  put_u32(f, (uint32_t)n);
  put_u32(f, (uint32_t)rows);
  put_u32(f, (uint32_t)cols);
  fwrite(pixels, 1, (size_t)(n * rows * cols), f);
  fclose(f);
  f = fopen(labels, "wb");
  cr_assert(f, "cannot write %s", labels);
  put_u32(f, 0x00000801);
  put_u32(f, (uint32_t)n);
  fwrite(label, 1, (size_t)n, f);
  fclose(f);
}

/* ---- running the check ---- */

/* Compiles the program and runs --check-gradients; returns the largest
 * relative error it printed and sets *status to its exit status. */
static double check(const char *dir, const char *name, const char *flags,
                    const char *program, int *status, char **output) {
  const char *exe = e2e_compile(dir, name, flags, program);
  cr_assert(exe, "mdlc failed on %s", name);
  e2e_result r = e2e_run("%s --check-gradients --threads 1", exe);
  double worst = e2e_number_after(r.output, "max relative error:");
  *status = r.status;
  if (output)
    *output = r.output;
  else
    free(r.output);
  return worst;
}

/* The double-precision check must pass, tightly, and not vacuously: a
 * finite difference never agrees to the last bit, so an error of exactly 0
 * would mean that nothing was compared. */
static void expect_tight(const char *dir, const char *name,
                         const char *program) {
  int status;
  char *output;
  double worst =
      check(dir, name, "--precision double", program, &status, &output);
  cr_expect_eq(status, 0, "%s: --check-gradients exited %d:\n%s", name, status,
               output);
  cr_expect(worst < 1e-6, "%s: max relative error %g:\n%s", name, worst,
            output);
  cr_expect(worst > 0, "%s: nothing was compared:\n%s", name, output);
  cr_expect(strstr(output, "gradient check passed"), "%s:\n%s", name, output);
  free(output);
}

/* An autoencoder on 6 cases of 8 values in [lo, hi]. */
static void autoencoder_case(const char *name, const char *net, double lo,
                             double hi) {
  const char *dir = e2e_dir(name);
  char *data = e2e_write_grid(dir, "x.npy", 6, 8, lo, hi, 7);
  char program[2048];
  snprintf(program, sizeof program,
           "data d = npy(\"%s\", cases 6)\n"
           "net ae : autoencoder {\n%s}\n"
           "init ae {\n  weights gaussian(0.6)\n  biases 0.1\n}\n"
           "train ae on d with nag {\n  batch 3\n  steps 10\n"
           "  epsilon 0.01\n  mu 0.9\n}\n",
           data, net);
  expect_tight(dir, name, program);
  free(data);
}

/* ---- every output/loss pairing ---- */

Test(gradients, sigmoid_cross_entropy) {
  autoencoder_case("grad_sigmoid_ce",
                   "  input 8\n  encoder sigmoid [6, 5]\n  code linear 4\n"
                   "  decoder mirror\n  output sigmoid\n"
                   "  loss cross_entropy\n",
                   0, 1);
}

Test(gradients, linear_squared) {
  autoencoder_case("grad_linear_sq",
                   "  input 8\n  encoder tanh [6]\n  code linear 3\n"
                   "  output linear\n  loss squared\n",
                   -1, 1);
}

Test(gradients, sigmoid_squared) {
  autoencoder_case("grad_sigmoid_sq",
                   "  input 8\n  encoder sigmoid [5]\n  code linear 3\n"
                   "  output sigmoid\n  loss squared\n",
                   0, 1);
}

Test(gradients, tanh_squared) {
  autoencoder_case("grad_tanh_sq",
                   "  input 8\n  encoder linear [6]\n  code tanh 3\n"
                   "  decoder sigmoid [5]\n  output tanh\n  loss squared\n",
                   -1, 1);
}

/* Softmax outputs need one-hot targets: a classifier on IDX files. */
Test(gradients, softmax_cross_entropy) {
  const char *dir = e2e_dir("grad_softmax_ce");
  enum { N = 7, ROWS = 3, COLS = 4, CLASSES = 3 };
  unsigned char pixels[N * ROWS * COLS], labels[N];
  uint32_t seed = 11;
  for (int i = 0; i < N * ROWS * COLS; i++)
    pixels[i] = (unsigned char)e2e_draw(&seed, 256);
  for (int i = 0; i < N; i++)
    labels[i] = (unsigned char)(i % CLASSES);
  char *images = e2e_join(dir, "images.idx"),
       *label_file = e2e_join(dir, "labels.idx");
  write_idx(images, label_file, N, ROWS, COLS, pixels, labels);
  char program[2048];
  snprintf(program, sizeof program,
           "data d = idx(images \"%s\", labels \"%s\", cases %d, classes %d)\n"
           "net c : feedforward {\n  input %d\n  hidden tanh [5]\n"
           "  layer sigmoid 4\n  output softmax %d\n  loss cross_entropy\n}\n"
           "init c {\n  weights gaussian(0.7)\n  biases 0.1\n}\n"
           "train c on d with cm {\n  batch 7\n  steps 10\n"
           "  epsilon 0.01\n  mu 0.9\n}\n",
           images, label_file, N, CLASSES, ROWS * COLS, CLASSES);
  expect_tight(dir, "softmax", program);
  free(images);
  free(label_file);
}

/* ---- hidden layers of every kind ---- */

/* A regression net (real-valued .npy targets) through sigmoid, tanh and
 * linear hidden layers, with the default sparse initialization. */
Test(gradients, feedforward_every_hidden_kind) {
  const char *dir = e2e_dir("grad_ff_hidden");
  char *x = e2e_write_grid(dir, "x.npy", 6, 5, -1, 1, 3);
  char *y = e2e_write_grid(dir, "y.npy", 6, 2, -2, 2, 5);
  char program[2048];
  snprintf(program, sizeof program,
           "data d = npy(inputs \"%s\", targets \"%s\", cases 6)\n"
           "net r : feedforward {\n  input 5\n  hidden sigmoid [6]\n"
           "  hidden tanh [5]\n  layer linear 4\n  output linear 2\n"
           "  loss squared\n}\n"
           "init r {\n  weights sparse(fan_in 3, scale 1.0)\n  biases 0.2\n}\n"
           "train r on d with sgd {\n  batch 6\n  steps 10\n"
           "  epsilon 0.01\n}\n",
           x, y);
  expect_tight(dir, "every_hidden", program);
  free(x);
  free(y);
}

/* Autoencoders whose code layer is sigmoid, and whose layers mix all three
 * kinds between input and output. */
Test(gradients, autoencoder_code_and_decoder_kinds) {
  autoencoder_case("grad_ae_sigmoid_code",
                   "  input 8\n  encoder tanh [6]\n  code sigmoid 3\n"
                   "  decoder linear [5]\n  output sigmoid\n",
                   0, 1);
  autoencoder_case("grad_ae_linear_enc",
                   "  input 8\n  encoder linear [7]\n  code tanh 2\n"
                   "  decoder tanh [4]\n  output linear\n",
                   -1, 1);
}

/* ---- float32 ---- */

Test(gradients, float32_passes_its_tolerance) {
  const char *dir = e2e_dir("grad_float32");
  char *data = e2e_write_grid(dir, "x.npy", 6, 8, 0, 1, 9);
  char program[1024];
  snprintf(program, sizeof program,
           "data d = npy(\"%s\", cases 6)\n"
           "net ae : autoencoder {\n  input 8\n  encoder sigmoid [6]\n"
           "  code linear 3\n  output sigmoid\n}\n"
           "init ae {\n  weights gaussian(0.6)\n  biases 0.1\n}\n"
           "train ae on d with nag {\n  batch 3\n  steps 10\n"
           "  epsilon 0.01\n  mu 0.9\n}\n",
           data);
  int status;
  char *output;
  double worst = check(dir, "f32", "", program, &status, &output);
  cr_expect_eq(status, 0, "%s", output);
  cr_expect(worst < 5e-2, "max relative error %g:\n%s", worst, output);
  cr_expect(strstr(output, "float32"), "%s", output);
  cr_expect(strstr(output, "gradient check passed"), "%s", output);
  free(output);
  free(data);
}

/* ---- the check can fail ---- */

/* The logistic derivative a (1 - a) off by 1%: the check must notice. */
Test(gradients, a_wrong_backward_pass_fails_the_check) {
  const char *dir = e2e_dir("grad_mutant");
  char *data = e2e_write_grid(dir, "x.npy", 6, 8, 0, 1, 7);
  char *cc =
      e2e_mutant_cc(dir, "s/a\\[i\\] \\* (1 - a\\[i\\])/a[i] * (1.01 - a[i])/");
  char program[1024], flags[1200];
  snprintf(program, sizeof program,
           "data d = npy(\"%s\", cases 6)\n"
           "net ae : autoencoder {\n  input 8\n  encoder sigmoid [6]\n"
           "  code linear 3\n  output sigmoid\n}\n"
           "init ae {\n  weights gaussian(0.6)\n  biases 0.1\n}\n"
           "train ae on d with nag {\n  batch 3\n  steps 10\n"
           "  epsilon 0.01\n  mu 0.9\n}\n",
           data);
  snprintf(flags, sizeof flags, "--precision double --cc %s", cc);
  int status;
  char *output;
  double worst = check(dir, "mutant", flags, program, &status, &output);
  cr_expect_eq(status, 1, "the mutant passed:\n%s", output);
  cr_expect(worst > 1e-4, "max relative error only %g:\n%s", worst, output);
  cr_expect(strstr(output, "gradient check FAILED"), "%s", output);
  free(output);
  free(data);
}

/* ---- the loss and error themselves ---- */

/* Reads the first data row of a --log CSV: update,mu,epsilon,train_error,
 * loss,seconds. */
static void first_log_row(const char *path, double *error, double *loss) {
  FILE *f = fopen(path, "r");
  cr_assert(f, "no log %s", path);
  char line[512];
  cr_assert(fgets(line, sizeof line, f));
  cr_assert(strncmp(line, "update,mu,epsilon,train_error,loss", 34) == 0,
            "header: %s", line);
  cr_assert(fgets(line, sizeof line, f), "no rows in %s", path);
  fclose(f);
  long t;
  double mu, epsilon;
  cr_assert_eq(
      sscanf(line, "%ld,%lf,%lf,%lf,%lf", &t, &mu, &epsilon, error, loss), 5,
      "row: %s", line);
  cr_assert_eq(t, 0);
}

static double sigmoid(double z) { return 1 / (1 + exp(-z)); }

/* A 4-3-4 autoencoder (tanh code, logistic outputs, cross-entropy) at
 * parameters chosen here: the program's loss at t = 0 must be the mean
 * cross-entropy and its error the mean summed squared error (sec. 3, the
 * error the paper's tables report), computed here by hand. */
Test(gradients, autoencoder_loss_and_error_by_hand) {
  const char *dir = e2e_dir("loss_by_hand_ae");
  enum { N = 5, I = 4, H = 3 };
  double x[N * I];
  uint32_t seed = 21;
  for (int i = 0; i < N * I; i++)
    x[i] = e2e_draw(&seed, 17) / 16.0;
  char *data = e2e_join(dir, "x.npy");
  e2e_write_f64(data, x, N, I);
  /* θ: input_to_code (I × H), code_bias, code_to_output (H × I), bias. */
  double theta[I * H + H + H * I + I];
  for (int k = 0; k < (int)(sizeof theta / sizeof theta[0]); k++)
    theta[k] = (e2e_draw(&seed, 33) - 16) / 16.0;
  char *params = e2e_join(dir, "theta.npy");
  e2e_write_f64(params, theta, sizeof theta / sizeof theta[0], 0);
  char program[1024];
  snprintf(program, sizeof program,
           "data d = npy(\"%s\", cases %d)\n"
           "net ae : autoencoder {\n  input %d\n  code tanh %d\n"
           "  output sigmoid\n}\n"
           "train ae on d with sgd {\n  batch %d\n  epsilon 0.1\n}\n",
           data, N, I, H, N);
  const char *exe = e2e_compile(dir, "ae", "--precision double", program);
  cr_assert(exe);
  e2e_result r = e2e_run("%s --steps 0 --load-params %s --log %s/log.csv "
                         "--threads 1",
                         exe, params, dir);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  double error, loss;
  char *log_path = e2e_join(dir, "log.csv");
  first_log_row(log_path, &error, &loss);

  const double *w1 = theta, *b1 = theta + I * H, *w2 = b1 + H, *b2 = w2 + H * I;
  double want_loss = 0, want_error = 0;
  for (int n = 0; n < N; n++) {
    const double *xn = x + n * I;
    double code[H];
    for (int j = 0; j < H; j++) {
      double z = b1[j];
      for (int i = 0; i < I; i++)
        z += xn[i] * w1[i * H + j];
      code[j] = tanh(z);
    }
    for (int i = 0; i < I; i++) {
      double z = b2[i];
      for (int j = 0; j < H; j++)
        z += code[j] * w2[j * I + i];
      double y = sigmoid(z);
      want_loss -= xn[i] * log(y) + (1 - xn[i]) * log(1 - y);
      want_error += (y - xn[i]) * (y - xn[i]);
    }
  }
  want_loss /= N;
  want_error /= N;
  cr_expect(fabs(loss - want_loss) <= 1e-8 * want_loss,
            "loss %.10g, want %.10g", loss, want_loss);
  cr_expect(fabs(error - want_error) <= 1e-8 * want_error,
            "error %.10g, want %.10g", error, want_error);
  free(data);
  free(params);
  free(log_path);
}

/* A softmax classifier with one sigmoid hidden layer on IDX data: the loss
 * is the mean of -log y_label, the error the fraction misclassified. */
Test(gradients, classifier_loss_and_error_by_hand) {
  const char *dir = e2e_dir("loss_by_hand_softmax");
  enum { N = 6, I = 4, H = 3, K = 3 };
  unsigned char pixels[N * I], labels[N];
  uint32_t seed = 6;
  for (int i = 0; i < N * I; i++)
    pixels[i] = (unsigned char)e2e_draw(&seed, 256);
  for (int n = 0; n < N; n++)
    labels[n] = (unsigned char)e2e_draw(&seed, K);
  char *images = e2e_join(dir, "images.idx"),
       *label_file = e2e_join(dir, "labels.idx");
  write_idx(images, label_file, N, 2, 2, pixels, labels);
  double theta[I * H + H + H * K + K];
  for (int k = 0; k < (int)(sizeof theta / sizeof theta[0]); k++)
    theta[k] = (e2e_draw(&seed, 65) - 32) / 8.0;
  char *params = e2e_join(dir, "theta.npy");
  e2e_write_f64(params, theta, sizeof theta / sizeof theta[0], 0);
  char program[1024];
  snprintf(program, sizeof program,
           "data d = idx(images \"%s\", labels \"%s\", classes %d)\n"
           "net c : feedforward {\n  input %d\n  hidden sigmoid [%d]\n"
           "  output softmax %d\n}\n"
           "train c on d with sgd {\n  batch %d\n  epsilon 0.1\n}\n",
           images, label_file, K, I, H, K, N);
  const char *exe = e2e_compile(dir, "c", "--precision double", program);
  cr_assert(exe);
  e2e_result r = e2e_run("%s --steps 0 --load-params %s --log %s/log.csv "
                         "--threads 1",
                         exe, params, dir);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  double error, loss;
  char *log_path = e2e_join(dir, "log.csv");
  first_log_row(log_path, &error, &loss);

  const double *w1 = theta, *b1 = theta + I * H, *w2 = b1 + H, *b2 = w2 + H * K;
  double want_loss = 0, want_error = 0;
  int wrong = 0;
  for (int n = 0; n < N; n++) {
    double h[H], z[K], sum = 0;
    for (int j = 0; j < H; j++) {
      double s = b1[j];
      for (int i = 0; i < I; i++)
        s += (double)(pixels[n * I + i] / 255.0f) * w1[i * H + j];
      h[j] = sigmoid(s);
    }
    int guess = 0;
    for (int k = 0; k < K; k++) {
      z[k] = b2[k];
      for (int j = 0; j < H; j++)
        z[k] += h[j] * w2[j * K + k];
      sum += exp(z[k]);
      if (z[k] > z[guess])
        guess = k;
    }
    want_loss -= z[labels[n]] - log(sum);
    wrong += guess != labels[n];
  }
  want_loss /= N;
  want_error = (double)wrong / N;
  cr_expect(fabs(loss - want_loss) <= 1e-8 * want_loss,
            "loss %.10g, want %.10g", loss, want_loss);
  cr_expect(fabs(error - want_error) <= 1e-8, "error %.10g, want %.10g", error,
            want_error);
  cr_expect(want_error > 0 && want_error < 1,
            "choose parameters that classify some cases right, some wrong "
            "(error %g)",
            want_error);
  free(images);
  free(label_file);
  free(params);
  free(log_path);
}
