/* test_hf.c — Hessian-free programs end to end: the Gauss-Newton product
 * of every kind of output and loss, feed-forward and recurrent, against
 * Jᵀ H J formed by finite differences (--check-gauss-newton, float64; the
 * check also demands symmetry and vᵀGv >= 0, with structural damping too);
 * HF against SGD per gradient evaluation; checkpoints; the Figure-5
 * experiment, where CG must do at least as well as NAG at every iteration
 * (both stay in the same Krylov subspace, where CG is optimal). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

/* Compiles in float64 and runs --check-gauss-newton; it must pass, and
 * not vacuously. */
static void expect_gauss_newton(const char *name, const char *program) {
  const char *dir = e2e_dir(name);
  const char *exe = e2e_compile(dir, name, "--precision double", program);
  cr_assert(exe, "mdlc failed on %s", name);
  e2e_result r = e2e_run("%s --check-gauss-newton --threads 1", exe);
  double worst = e2e_number_after(r.output, "max relative error:");
  double smallest = e2e_number_after(r.output, "smallest curvature:");
  cr_expect_eq(r.status, 0, "%s: exited %d:\n%s", name, r.status, r.output);
  cr_expect(worst < 1e-5 && worst > 0, "%s: error %g:\n%s", name, worst,
            r.output);
  cr_expect(smallest > 0, "%s: curvature %g:\n%s", name, smallest, r.output);
  free(r.output);
}

static const char *hf_train = "train n on d with hf {\n  batch 6\n"
                              "  curvature_batch 3\n  steps 5\n}\n";

/* An autoencoder on 6 cases of 5 values in [lo, hi]. */
static void autoencoder_case(const char *name, const char *output, double lo,
                             double hi) {
  const char *dir = e2e_dir(name);
  char *x = e2e_write_grid(dir, "x.npy", 6, 5, lo, hi, 7);
  char program[2048];
  snprintf(program, sizeof program,
           "data d = npy(\"%s\", cases 6)\n"
           "net n : autoencoder {\n  input 5\n  encoder tanh [4]\n"
           "  code linear 3\n  decoder sigmoid [4]\n%s}\n"
           "init n {\n  weights gaussian(0.5)\n  biases 0.1\n}\n%s",
           x, output, hf_train);
  expect_gauss_newton(name, program);
  free(x);
}

Test(gauss_newton, logistic_cross_entropy) {
  autoencoder_case("gn_sigmoid_ce", "  output sigmoid\n  loss cross_entropy\n",
                   0, 1);
}

Test(gauss_newton, linear_squared) {
  autoencoder_case("gn_linear_sq", "  output linear\n  loss squared\n", -1, 1);
}

Test(gauss_newton, logistic_squared_does_not_match) {
  autoencoder_case("gn_sigmoid_sq", "  output sigmoid\n  loss squared\n", 0, 1);
}

Test(gauss_newton, tanh_squared_does_not_match) {
  autoencoder_case("gn_tanh_sq", "  output tanh\n  loss squared\n", -1, 1);
}

Test(gauss_newton, softmax_cross_entropy) {
  const char *dir = e2e_dir("gn_softmax");
  char *x = e2e_write_grid(dir, "x.npy", 6, 4, -1, 1, 3);
  char *y = e2e_write_one_hot(dir, "y.npy", 6, 1, 3, 5);
  char program[2048];
  snprintf(program, sizeof program,
           "data d = npy(inputs \"%s\", targets \"%s\")\n"
           "net n : feedforward {\n  input 4\n  hidden sigmoid [5]\n"
           "  layer linear 4\n  output softmax 3\n}\n"
           "init n {\n  weights gaussian(0.7)\n  biases 0.1\n}\n%s",
           x, y, hf_train);
  expect_gauss_newton("gn_softmax", program);
  free(x);
  free(y);
}

/* Recurrent nets on .npy sequences of 4 steps; structural damping on, so
 * the check also tests G + S for symmetry and positive curvature. */
static void recurrent_case(const char *name, const char *hidden,
                           const char *output, int classes, int every) {
  const char *dir = e2e_dir(name);
  char *x = e2e_write_grid(dir, "x.npy", 6, 4 * 3, -1, 1, 3);
  char *y = classes
                ? e2e_write_one_hot(dir, "y.npy", 6, every ? 4 : 1, classes, 5)
                : e2e_write_grid(dir, "y.npy", 6, every ? 8 : 2, -1, 1, 5);
  char program[2048];
  snprintf(program, sizeof program,
           "data d = npy(inputs \"%s\", targets \"%s\", length 4)\n"
           "net n : recurrent {\n  input 3\n  hidden %s 5\n"
           "  initial learned\n  output %s at %s\n}\n"
           "init n {\n  weights gaussian(0.5)\n  biases 0.1\n"
           "  initial_hidden gaussian(0.3)\n}\n"
           "train n on d with hf {\n  batch 6\n  curvature_batch 3\n"
           "  steps 5\n  lambda 0.1\n  structural_damping 0.3\n}\n",
           x, y, hidden, output, every ? "every" : "last");
  expect_gauss_newton(name, program);
  free(x);
  free(y);
}

Test(gauss_newton, recurrent_linear_at_last) {
  recurrent_case("gn_rnn_linear", "tanh", "linear 2", 0, 0);
}

Test(gauss_newton, recurrent_softmax_at_every_step) {
  recurrent_case("gn_rnn_softmax", "tanh", "softmax 3", 3, 1);
}

Test(gauss_newton, recurrent_logistic_hidden_linear_at_every_step) {
  recurrent_case("gn_rnn_sigmoid", "sigmoid", "linear 2", 0, 1);
}

/* A broken R-operator (the recurrent term R{h_{s-1}} W_hh dropped) must
 * fail the check: the check can fail at all. */
Test(gauss_newton, a_product_without_its_recurrence_fails) {
  const char *dir = e2e_dir("gn_mutant");
  char *x = e2e_write_grid(dir, "x.npy", 6, 4 * 3, -1, 1, 3);
  char *y = e2e_write_grid(dir, "y.npy", 6, 2, -1, 1, 5);
  char program[2048];
  snprintf(program, sizeof program,
           "data d = npy(inputs \"%s\", targets \"%s\", length 4)\n"
           "net n : recurrent {\n  input 3\n  hidden tanh 5\n"
           "  output linear 2 at last\n}\n"
           "init n {\n  weights gaussian(0.5)\n  biases 0.1\n}\n"
           "train n on d with hf {\n  batch 6\n  curvature_batch 3\n"
           "  steps 5\n}\n",
           x, y);
  char flags[1024];
  snprintf(flags, sizeof flags, "--precision double --cc %s",
           e2e_mutant_cc(dir, "s/rh_s - BATCH \\* N_HIDDEN, theta/rh_s - "
                              "BATCH * N_HIDDEN, v/"));
  const char *exe = e2e_compile(dir, "mutant", flags, program);
  cr_assert(exe);
  e2e_result r = e2e_run("%s --check-gauss-newton --threads 1", exe);
  cr_expect_neq(r.status, 0, "the broken product passed:\n%s", r.output);
  free(r.output);
  free(x);
  free(y);
}

/* The HF example at its own size, 10,401 parameters and 200 curvature
 * sequences of up to 88 steps: too large for explicit matrices, so the
 * check compares the bilinear forms wᵀGv with (J w)ᵀ H (J v) from finite
 * differences along w and v. It passes, and a product whose output
 * curvature is 1 % off fails. */
static e2e_result check_example(const char *dir, const char *flags) {
  char source[512];
  snprintf(source, sizeof source, "%s/../examples/addition_hf.mdl", TESTS_DIR);
  char *exe = e2e_join(dir, "addition_hf");
  e2e_result r = e2e_run("%s --precision double %s %s -o %s && %s "
                         "--check-gauss-newton --threads 1",
                         MDLC, flags, source, exe, exe);
  free(exe);
  return r;
}

Test(gauss_newton, the_hf_example_at_its_own_size, .timeout = 120) {
  e2e_result r = check_example(e2e_fresh_dir("gn_example"), "");
  cr_expect_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "too many for explicit matrices"), "%s", r.output);
  cr_expect(e2e_number_after(r.output, "max relative error:") < 1e-7, "%s",
            r.output);
  free(r.output);
  const char *dir = e2e_fresh_dir("gn_example_mutant");
  char flags[1024];
  snprintf(flags, sizeof flags, "--cc %s",
           e2e_mutant_cc(dir, "s/counts ? rz_c \\* scale/counts ? rz_c * "
                              "scale * 1.01/"));
  r = check_example(dir, flags);
  cr_expect_neq(r.status, 0, "the broken product passed:\n%s", r.output);
  cr_expect(strstr(r.output, "Gauss-Newton check FAILED"), "%s", r.output);
  free(r.output);
}

/* ---- training ---- */

static const char *autoencoder_data =
    "data d = curves(cases 400, seed 4)\n"
    "net n : autoencoder {\n  input 784\n  encoder sigmoid [32, 16]\n"
    "  code linear 6\n  output sigmoid\n}\n";

/* The final training error a program prints. */
static double final_error(const char *dir, const char *name,
                          const char *program, const char *options) {
  const char *exe = e2e_compile(dir, name, "", program);
  cr_assert(exe);
  e2e_result r = e2e_run("%s --threads 1 %s", exe, options);
  cr_assert_eq(r.status, 0, "%s:\n%s", name, r.output);
  double error = e2e_number_after(r.output, "final train_error");
  free(r.output);
  return error;
}

/* Forty gradients each on the whole set (batch 400): SGD, with the best of
 * three learning rates, sits on the plateau of the mean image (about 28);
 * HF gets well below it (about 20). */
Test(hf, beats_sgd_per_gradient_evaluation) {
  const char *dir = e2e_dir("hf_vs_sgd");
  char program[4096];
  snprintf(program, sizeof program,
           "%strain n on d with hf {\n  batch 400\n  curvature_batch 100\n"
           "  steps 40\n  max_cg 50\n  lambda 1\n}\n",
           autoencoder_data);
  double hf = final_error(dir, "hf", program, "");
  snprintf(program, sizeof program,
           "%strain n on d with sgd {\n  batch 400\n  steps 40\n"
           "  epsilon 0.1\n}\n",
           autoencoder_data);
  double best = INFINITY;
  const char *rates[] = {"0.3", "1", "3"};
  for (int i = 0; i < 3; i++) {
    char option[64];
    snprintf(option, sizeof option, "--set epsilon=%s", rates[i]);
    double sgd = final_error(dir, "sgd", program, option);
    best = fmin(best, sgd);
  }
  cr_expect(hf < best, "HF %g, SGD at best %g", hf, best);
  cr_expect(hf < 0.85 * best, "HF %g is not far below SGD's %g", hf, best);
}

Test(hf, resume_is_exact) {
  const char *dir = e2e_dir("hf_checkpoint");
  char program[4096];
  snprintf(program, sizeof program,
           "%strain n on d with hf {\n  batch 200\n  curvature_batch 100\n"
           "  steps 8\n  max_cg 20\n  report every 4\n}\n",
           autoencoder_data);
  const char *exe = e2e_compile(dir, "prog", "", program);
  cr_assert(exe);
  e2e_result r = e2e_run("cd %s && %s --threads 1 --steps 4 --checkpoint "
                         "half.ckpt --quiet && %s --threads 1 --resume "
                         "half.ckpt --save-params resumed.npy --quiet && %s "
                         "--threads 1 --save-params whole.npy --quiet && cmp "
                         "resumed.npy whole.npy",
                         dir, exe, exe, exe);
  cr_assert_eq(r.status, 0, "resumed and whole runs differ:\n%s", r.output);
  free(r.output);
  /* A file that stops after the magic is refused as truncated. */
  r = e2e_run("cd %s && printf 'MDLCKPT2' > bad.ckpt && %s --resume bad.ckpt",
              dir, exe);
  cr_expect_eq(r.status, 1, "%s", r.output);
  cr_expect(strstr(r.output, "checkpoint bad.ckpt is truncated"), "%s",
            r.output);
  free(r.output);
}

/* The log times CG apart from the rest of the update: ms_per_cg_step is
 * CG's time over its products, so it is positive and, times the CG steps,
 * within the update's own time; before the first update it is nan. */
Test(hf, the_log_times_cg_steps) {
  const char *dir = e2e_fresh_dir("hf_cg_time");
  char program[4096];
  snprintf(program, sizeof program,
           "%strain n on d with hf {\n  batch 200\n  curvature_batch 100\n"
           "  steps 4\n  max_cg 20\n  report every 2\n}\n",
           autoencoder_data);
  const char *exe = e2e_compile(dir, "prog", "", program);
  cr_assert(exe);
  e2e_result r = e2e_run(
      "cd %s && %s --threads 1 --quiet --log cg.csv && awk -F, "
      "'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next } "
      "{ ms = $col[\"ms_per_cg_step\"]; steps = $col[\"cg_steps\"]; "
      "upd = $col[\"seconds_per_update\"] } "
      "NR == 2 && ms != \"nan\" { print \"row 0 has a CG time\"; bad = 1 } "
      "NR > 2 && !(ms > 0 && ms * steps <= 1000 * upd) "
      "{ print \"row \" NR \": \" ms \" ms x \" steps \" steps, update \" upd "
      "\" s\"; bad = 1 } "
      "END { if (NR != 4 || !col[\"ms_per_cg_step\"]) bad = 1; exit bad }' "
      "cg.csv || { cat cg.csv; exit 1; }",
      dir, exe);
  cr_expect_eq(r.status, 0, "%s", r.output);
  free(r.output);
}

/* Figure 5: the CSV has q after every iteration for CG (plain and
 * preconditioned) and NAG; q(0) = 0; plain CG is never above NAG. */
Test(hf, figure_5_cg_at_or_below_nag) {
  const char *dir = e2e_fresh_dir("hf_figure5");
  char program[4096];
  snprintf(program, sizeof program,
           "%strain n on d with hf {\n  batch 200\n  curvature_batch 100\n"
           "  steps 3\n  max_cg 40\n}\n",
           autoencoder_data);
  const char *exe = e2e_compile(dir, "prog", "", program);
  cr_assert(exe);
  e2e_result r =
      e2e_run("cd %s && %s --threads 1 --compare-cg-nag fig5.csv", dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "q (NAG)"), "%s", r.output);
  free(r.output);
  char *path = e2e_join(dir, "fig5.csv");
  FILE *f = fopen(path, "r");
  cr_assert(f, "no %s", path);
  char line[256];
  cr_assert(fgets(line, sizeof line, f));
  cr_expect_str_eq(line, "iteration,cg,cg_preconditioned,nag\n");
  int rows = 0;
  double cg, pre, nag, last_cg = 0;
  int i;
  while (fscanf(f, "%d,%lf,%lf,%lf", &i, &cg, &pre, &nag) == 4) {
    if (i == 0)
      cr_expect(cg == 0 && nag == 0, "q(0) is %g, %g", cg, nag);
    cr_expect(cg <= nag + 1e-9 * fabs(nag), "iteration %d: CG %g > NAG %g", i,
              cg, nag);
    cr_expect(cg <= last_cg + 1e-12, "CG went up at %d", i);
    last_cg = cg;
    rows++;
  }
  fclose(f);
  cr_expect_eq(rows, 41, "%d rows", rows);
  cr_expect(last_cg < 0, "CG did not reduce q: %g", last_cg);
  free(path);
}

Test(hf, its_options_are_refused_elsewhere) {
  const char *dir = e2e_dir("hf_options");
  char program[4096];
  snprintf(program, sizeof program,
           "%strain n on d with nag {\n  batch 100\n  steps 3\n"
           "  epsilon 0.01\n  mu 0.9\n}\n",
           autoencoder_data);
  const char *exe = e2e_compile(dir, "nag", "", program);
  cr_assert(exe);
  e2e_result r = e2e_run("%s --check-gauss-newton", exe);
  cr_expect_eq(r.status, 2, "%s", r.output);
  cr_expect(strstr(r.output, "--check-gauss-newton is for programs that "
                             "train with hf; this one trains with nag"),
            "%s", r.output);
  free(r.output);
  r = e2e_run("%s --compare-cg-nag q.csv", exe);
  cr_expect_eq(r.status, 2, "%s", r.output);
  cr_expect(strstr(r.output, "--compare-cg-nag is for programs that "
                             "train with hf; this one trains with nag"),
            "%s", r.output);
  free(r.output);
  /* --help lists the options a program takes: HF's for HF programs only
   * (both of these reconstruct square images: --save-images). */
  r = e2e_run("%s --help", exe);
  cr_expect_eq(r.status, 0, "%s", r.output);
  cr_expect(!strstr(r.output, "--check-gauss-newton"), "%s", r.output);
  cr_expect(!strstr(r.output, "--compare-cg-nag"), "%s", r.output);
  cr_expect(strstr(r.output, "--save-images FILE.png"), "%s", r.output);
  free(r.output);
  snprintf(program, sizeof program,
           "%strain n on d with hf {\n  batch 100\n  steps 3\n}\n",
           autoencoder_data);
  const char *hf = e2e_compile(dir, "hf", "", program);
  cr_assert(hf);
  r = e2e_run("%s --help", hf);
  cr_expect_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "--check-gauss-newton"), "%s", r.output);
  cr_expect(strstr(r.output, "--compare-cg-nag FILE.csv"), "%s", r.output);
  cr_expect(strstr(r.output, "--save-images FILE.png"), "%s", r.output);
  free(r.output);
}
