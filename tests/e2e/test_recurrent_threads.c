/* test_recurrent_threads.c — BPTT's weight gradients are summed on a
 * helper thread when a program has more than one (mdl/helper.h), in the
 * order one thread sums them: training comes out the same to the last bit
 * with 1, 2 and 3 threads, for targets at the last step and at every step,
 * and for HF, whose Gauss-Newton products backpropagate through time too. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "e2e.h"

static void expect_same_with_threads(const char *name, const char *program) {
  const char *dir = e2e_dir(name);
  const char *exe = e2e_compile(dir, "prog", "", program);
  cr_assert_not_null(exe, "mdlc failed on %s", name);
  e2e_result r = e2e_run("cd %s && %s --threads 1 --save-params one.npy "
                         "--quiet && %s --threads 2 --save-params two.npy "
                         "--quiet && %s --threads 3 --save-params three.npy "
                         "--quiet && cmp one.npy two.npy && cmp one.npy "
                         "three.npy",
                         dir, exe, exe, exe);
  cr_expect_eq(r.status, 0, "%s: the threads changed the result:\n%s", name,
               r.output);
  free(r.output);
}

Test(recurrent_threads, addition_is_the_same_with_any_threads) {
  expect_same_with_threads("threads_addition",
                           "data d = addition(T 10, test_cases 100)\n"
                           "net r : recurrent {\n  input 2\n  hidden tanh 37\n"
                           "  initial learned\n  output linear 1\n}\n"
                           "train r on d with nag {\n  batch 21\n  steps 40\n"
                           "  epsilon 0.01\n  mu 0.9\n  report every 20\n}\n");
}

Test(recurrent_threads, memorization_is_the_same_with_any_threads) {
  expect_same_with_threads(
      "threads_memorization",
      "data d = memorization(symbols 3, alphabet 2, T 12, test_cases 40)\n"
      "net r : recurrent {\n  input 4\n  hidden tanh 30\n"
      "  output softmax 3 at every\n}\n"
      "train r on d with nag {\n  batch 13\n  steps 40\n"
      "  epsilon 0.01\n  mu 0.9\n  report every 20\n}\n");
}

Test(recurrent_threads, hf_is_the_same_with_any_threads) {
  expect_same_with_threads(
      "threads_hf",
      "data d = addition(T 10, test_cases 100, center [inputs, targets])\n"
      "net r : recurrent {\n  input 2\n  hidden tanh 20\n"
      "  output linear 1\n}\n"
      "train r on d with hf {\n  batch 40\n  curvature_batch 20\n"
      "  steps 4\n  max_cg 10\n  structural_damping 0.03\n"
      "  report every 2\n}\n");
}
