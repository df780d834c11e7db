/* test_bptt.c — backpropagation through time in generated recurrent
 * programs against finite differences (`./prog --check-gradients`, in
 * double precision), for every kind of output and loss, with targets at
 * the last step and at every step, at sequence lengths 1, 2 and 30, with a
 * zero and a learned initial state (learned where targets at every step
 * give h_0 a gradient large enough to measure); and on the addition problem,
 * whose sequences in a minibatch differ in length. Mutants whose BPTT
 * skips the term through the recurrence, or one band's gradients, must
 * fail the check. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

enum { CASES = 6, INPUTS = 3, HIDDEN = 5 };

static char *check_output(const char *dir, const char *name, const char *flags,
                          const char *program, int *status) {
  const char *exe = e2e_compile(dir, name, flags, program);
  cr_assert(exe, "mdlc failed on %s", name);
  e2e_result r = e2e_run("%s --check-gradients --threads 1", exe);
  *status = r.status;
  return r.output;
}

static void expect_tight(const char *dir, const char *name,
                         const char *program) {
  int status;
  char *output =
      check_output(dir, name, "--precision double", program, &status);
  double worst = e2e_number_after(output, "max relative error:");
  cr_expect_eq(status, 0, "%s: --check-gradients exited %d:\n%s", name, status,
               output);
  cr_expect(worst < 1e-6, "%s: max relative error %g:\n%s", name, worst,
            output);
  cr_expect(worst > 0, "%s: nothing was compared:\n%s", name, output);
  free(output);
}

typedef struct {
  const char *output; /* "linear 2", "softmax 3", "sigmoid 2" */
  const char *loss;
  int every; /* targets at every step */
  const char *initial;
} Net;

/* A recurrent net on CASES sequences of `steps` steps from .npy files. */
static void sequence_case(const char *name, Net net, int steps) {
  const char *dir = e2e_fresh_dir(name);
  int units = atoi(strchr(net.output, ' ') + 1);
  int target_steps = net.every ? steps : 1;
  char *x = e2e_write_grid(dir, "x.npy", CASES, steps * INPUTS, -1, 1, 3);
  char *y =
      strncmp(net.output, "softmax", 7) == 0
          ? e2e_write_one_hot(dir, "y.npy", CASES, target_steps, units, 5)
      : strncmp(net.output, "sigmoid", 7) == 0
          ? e2e_write_grid(dir, "y.npy", CASES, target_steps * units, 0, 1, 5)
          : e2e_write_grid(dir, "y.npy", CASES, target_steps * units, -1, 1, 5);
  char program[2048];
  snprintf(
      program, sizeof program,
      "data d = npy(inputs \"%s\", targets \"%s\", length %d)\n"
      "net r : recurrent {\n  input %d\n  hidden tanh %d\n"
      "  initial %s\n  output %s at %s\n  loss %s\n}\n"
      "init r {\n  weights gaussian(0.5)\n  hidden_to_hidden gaussian(0.3)\n"
      "  biases 0.1\n%s}\n"
      "train r on d with nag {\n  batch %d\n  steps 10\n"
      "  epsilon 0.01\n  mu 0.9\n}\n",
      x, y, steps, INPUTS, HIDDEN, net.initial, net.output,
      net.every ? "every" : "last", net.loss,
      strcmp(net.initial, "learned") == 0 ? "  initial_hidden gaussian(0.3)\n"
                                          : "",
      CASES);
  expect_tight(dir, name, program);
  free(x);
  free(y);
}

static const Net linear_last = {"linear 2", "squared", 0, "zero"};
static const Net linear_every = {"linear 2", "squared", 1, "learned"};
static const Net softmax_every = {"softmax 3", "cross_entropy", 1, "learned"};
static const Net softmax_last = {"softmax 3", "cross_entropy", 0, "zero"};
static const Net sigmoid_every = {"sigmoid 2", "cross_entropy", 1, "learned"};
static const Net sigmoid_squared = {"sigmoid 2", "squared", 0, "zero"};

Test(bptt, linear_squared_at_last) {
  sequence_case("bptt_lin_last_1", linear_last, 1);
  sequence_case("bptt_lin_last_2", linear_last, 2);
  sequence_case("bptt_lin_last_30", linear_last, 30);
}

Test(bptt, linear_squared_at_every_step) {
  sequence_case("bptt_lin_every_1", linear_every, 1);
  sequence_case("bptt_lin_every_2", linear_every, 2);
  sequence_case("bptt_lin_every_30", linear_every, 30);
}

Test(bptt, softmax_cross_entropy_at_every_step) {
  sequence_case("bptt_soft_every_1", softmax_every, 1);
  sequence_case("bptt_soft_every_2", softmax_every, 2);
  sequence_case("bptt_soft_every_30", softmax_every, 30);
}

Test(bptt, softmax_cross_entropy_at_last) {
  sequence_case("bptt_soft_last_1", softmax_last, 1);
  sequence_case("bptt_soft_last_2", softmax_last, 2);
  sequence_case("bptt_soft_last_30", softmax_last, 30);
}

Test(bptt, logistic_cross_entropy_at_every_step) {
  sequence_case("bptt_sig_every_1", sigmoid_every, 1);
  sequence_case("bptt_sig_every_2", sigmoid_every, 2);
  sequence_case("bptt_sig_every_30", sigmoid_every, 30);
}

Test(bptt, logistic_squared_at_last) {
  sequence_case("bptt_sig_sq_1", sigmoid_squared, 1);
  sequence_case("bptt_sig_sq_2", sigmoid_squared, 2);
  sequence_case("bptt_sig_sq_30", sigmoid_squared, 30);
}

/* The addition problem: sequences of 21 and 22 steps in one minibatch, so
 * the shorter ones run past their end, and the output is gathered from each
 * sequence's own last step. */
static const char *addition_program =
    "data d = addition(T 20, test_cases 50, center [inputs, targets])\n"
    "net r : recurrent {\n  input 2\n  hidden tanh 8\n  initial learned\n"
    "  output linear 1 at last\n}\n"
    "init r {\n  input_to_hidden gaussian(0.5)\n"
    "  hidden_to_hidden sparse(fan_in 4) spectral_radius 1.1\n"
    "  hidden_to_output gaussian(0.5)\n  biases 0.1\n"
    "  initial_hidden gaussian(0.3)\n}\n"
    "train r on d with nag {\n  batch 10\n  steps 10\n  epsilon 0.01\n"
    "  mu 0.9\n}\n";

Test(bptt, addition_sequences_of_different_lengths) {
  expect_tight(e2e_fresh_dir("bptt_addition"), "addition", addition_program);
}

/* A BPTT that forgets δ_{s+1} W_hhᵀ (the gradient through the recurrence)
 * must fail the check: the check can fail at all. */
Test(bptt, a_recurrence_without_its_gradient_fails_the_check) {
  const char *dir = e2e_fresh_dir("bptt_mutant");
  char flags[1024];
  snprintf(flags, sizeof flags, "--precision double --cc %s",
           e2e_mutant_cc(dir, "s/if (s < t->steps) \\/\\* δ_{s+1} W_hhᵀ "
                              "\\*\\//if (0)/"));
  int status;
  char *output = check_output(dir, "mutant", flags, addition_program, &status);
  cr_expect_neq(status, 0, "the broken BPTT passed:\n%s", output);
  cr_expect(strstr(output, "gradient check FAILED"), "%s", output);
  free(output);
}

/* The minibatch goes back through time in two bands of sequences, each into
 * gradients of its own; a BPTT that leaves out the second band's must fail
 * the check too. */
Test(bptt, a_gradient_without_one_band_fails_the_check) {
  const char *dir = e2e_fresh_dir("bptt_band_mutant");
  char flags[1024];
  snprintf(flags, sizeof flags, "--precision double --cc %s",
           e2e_mutant_cc(dir, "s/+= second_band_gradients\\[i\\]/+= 0/"));
  int status;
  char *output = check_output(dir, "mutant", flags, addition_program, &status);
  cr_expect_neq(status, 0, "the broken BPTT passed:\n%s", output);
  cr_expect(strstr(output, "gradient check FAILED"), "%s", output);
  free(output);
}
