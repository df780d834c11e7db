/* test_loss_steps.c — what a recurrent net's objective is (which steps
 * carry loss, and what the summed loss is divided by), checked against
 * closed forms; and --check-gradients on the examples at their own sizes in
 * float64, where forward mode makes the check exact at any length, with a
 * mutant of BPTT that must still fail it. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

/* A small memorization problem: 3 binary symbols in sequences of 12. */
static const char *memorization_format =
    "data d = memorization(symbols 3, alphabet 2, T 12, test_cases 40)\n"
    "net r : recurrent {\n  input 4\n  hidden tanh 6\n"
    "  output softmax 3 at %s\n  loss cross_entropy per %s\n}\n"
    "init r {\n  weights gaussian(0.5)\n  biases 0\n}\n"
    "train r on d with sgd {\n  batch 8\n  steps 5\n  epsilon %s\n"
    "  report every 5\n}\n";

static const char *memorization(const char *name, const char *at,
                                const char *per, const char *epsilon) {
  char program[1024];
  snprintf(program, sizeof program, memorization_format, at, per, epsilon);
  const char *exe = e2e_compile(e2e_fresh_dir(name), name,
                                "--precision "
                                "double",
                                program);
  cr_assert(exe, "mdlc failed on %s", name);
  return exe;
}

/* The loss of the first progress line (update 0) and of the final line. */
static void losses(const char *exe, double *first, double *last) {
  e2e_result r = e2e_run("%s --threads 1", exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  const char *line = strstr(r.output, "\n       0  ");
  cr_assert(line, "%s", r.output);
  double t, mu, eps, error;
  cr_assert_eq(
      sscanf(line, "%lf %lf %lf %lf %lf", &t, &mu, &eps, &error, first), 5,
      "%s", r.output);
  *last = e2e_number_after(r.output, ", loss");
  cr_assert(isfinite(*last), "%s", r.output);
  free(r.output);
}

/* per target divides the summed loss of a sequence by its target steps:
 * 12 at every step, 3 at the recall. */
Test(loss_steps, per_target_divides_by_the_target_steps) {
  double every_seq, every_target, recall_seq, recall_target, unused;
  losses(memorization("every_seq", "every", "sequence", "0.1"), &every_seq,
         &unused);
  losses(memorization("every_target", "every", "target", "0.1"), &every_target,
         &unused);
  losses(memorization("recall_seq", "recall", "sequence", "0.1"), &recall_seq,
         &unused);
  losses(memorization("recall_target", "recall", "target", "0.1"),
         &recall_target, &unused);
  /* the lines print 6 digits */
  cr_expect(fabs(every_seq / every_target - 12) < 12e-5, "%.17g / %.17g",
            every_seq, every_target);
  cr_expect(fabs(recall_seq / recall_target - 3) < 3e-5, "%.17g / %.17g",
            recall_seq, recall_target);
  /* the recall is a part of every step's loss: less, and not nothing */
  cr_expect(recall_seq < every_seq && recall_seq > 0, "%g %g", recall_seq,
            every_seq);
}

/* The gradient scales with the loss: SGD on the mean per target step with
 * ε · 12 takes exactly the steps of SGD on the mean per sequence with ε. */
Test(loss_steps, per_target_is_per_sequence_with_epsilon_scaled) {
  double first_seq, last_seq, first_target, last_target;
  losses(memorization("sgd_seq", "every", "sequence", "0.01"), &first_seq,
         &last_seq);
  losses(memorization("sgd_target", "every", "target", "0.12"), &first_target,
         &last_target);
  cr_expect(fabs(last_seq / last_target - 12) < 12e-5, "%.17g / %.17g",
            last_seq, last_target);
  cr_expect(last_seq < first_seq, "five steps of SGD lowered nothing");
}

/* Forward mode checks BPTT at recall-only loss too, and a BPTT whose tanh'
 * is off by 1 % fails the check. */
Test(loss_steps, recall_gradients_are_exact) {
  const char *exe = memorization("recall_check", "recall", "target", "0.1");
  e2e_result r = e2e_run("%s --check-gradients", exe);
  cr_expect_eq(r.status, 0, "%s", r.output);
  cr_expect(e2e_number_after(r.output, "max relative error:") < 1e-9, "%s",
            r.output);
  free(r.output);
}

/* Every example that needs no data file, compiled in float64 at its own
 * sizes (T up to 200), passes --check-gradients. */
static void check_example(const char *name) {
  char source[512];
  snprintf(source, sizeof source, "%s/../examples/%s.mdl", TESTS_DIR, name);
  const char *dir = e2e_fresh_dir(name);
  char *exe = e2e_join(dir, name);
  e2e_result r = e2e_run("%s --precision double %s -o %s && %s "
                         "--check-gradients --threads 1",
                         MDLC, source, exe, exe);
  cr_expect_eq(r.status, 0, "%s:\n%s", name, r.output);
  cr_expect(strstr(r.output, "gradient check passed"), "%s:\n%s", name,
            r.output);
  free(r.output);
  free(exe);
}

Test(loss_steps, examples_pass_the_gradient_check, .timeout = 300) {
  static const char *const examples[] = {
      "addition",    "multiplication",   "mem5",      "mem20",
      "addition_hf", "curves",           "curves_hf", "curves_hf_momentum",
      "mem20_hf",    "multiplication_hf"};
  for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++)
    check_example(examples[i]);
}

Test(loss_steps, a_wrong_bptt_fails_at_the_examples_length) {
  char source[512];
  snprintf(source, sizeof source, "%s/../examples/addition.mdl", TESTS_DIR);
  const char *dir = e2e_fresh_dir("addition_mutant");
  char *cc = e2e_mutant_cc(dir, "s/x\\[i\\] \\*= 1 - a\\[i\\] \\* a\\[i\\]/"
                                "x[i] *= 1.01 - a[i] * a[i]/");
  char *exe = e2e_join(dir, "mutant");
  e2e_result r = e2e_run("%s --precision double --cc %s %s -o %s && %s "
                         "--check-gradients --threads 1",
                         MDLC, cc, source, exe, exe);
  cr_expect_neq(r.status, 0, "the broken BPTT passed:\n%s", r.output);
  cr_expect(strstr(r.output, "gradient check FAILED"), "%s", r.output);
  free(r.output);
  free(exe);
}
