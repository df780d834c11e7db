/* test_emitted_c.c — whatever valid program mdlc accepts, the C it emits
 * compiles without a warning: a deterministic sample of programs over every
 * kind of net, activation, loss, method, schedule form, init and precision,
 * each emitted and checked with clang -Wall -Wextra -Werror. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

static const char *const hidden_acts[] = {"sigmoid", "tanh", "linear"};
static const char *const methods[] = {"sgd", "cm", "nag"};
static const char *const schedules[] = {
    "0.9",
    "min(1 - 2^(-1 - log2(floor(t / 250) + 1)), 0.999)",
    "0.5 if t < 10 else 0.9 if t < 100 else 0.99",
    "max(0.5, 0.99 - exp(-t / 1000))",
};
static const char *const epsilons[] = {"0.01", "0.1 / (1 + t / 100)",
                                       "0.01 * 0.5 ^ floor(t / steps * 4)"};
static const char *const inits[] = {
    "weights sparse(fan_in 15, scale 1.0)", "weights gaussian(0.01)",
    "weights sparse(3, 0.5); biases 0.1", "weights 0.01; output_bias 0"};

/* One random program: an autoencoder or a feed-forward net. */
static void random_program(uint32_t *state, char *text, size_t size,
                           const char **flags) {
  int n_hidden = e2e_draw(state, 3);
  const char *act = hidden_acts[e2e_draw(state, 3)];
  const char *method = methods[e2e_draw(state, 3)];
  char sizes[64] = "";
  for (int i = 0; i < n_hidden; i++)
    snprintf(sizes + strlen(sizes), sizeof sizes - strlen(sizes), "%s%d",
             i ? ", " : "", 2 + e2e_draw(state, 9));
  char mu[128] = "";
  if (strcmp(method, "sgd") != 0)
    snprintf(mu, sizeof mu, "mu %s\n", schedules[e2e_draw(state, 4)]);
  char phase[64] = "";
  if (strcmp(method, "sgd") != 0 && e2e_draw(state, 2))
    snprintf(phase, sizeof phase, "%s 5 { mu 0.9 }\n",
             e2e_draw(state, 2) ? "last" : "first");
  char net[512];
  bool autoencoder = e2e_draw(state, 2);
  if (autoencoder) {
    static const char *const outputs[] = {"sigmoid", "linear", "tanh",
                                          "sigmoid\nloss squared"};
    char encoder[128] = "";
    if (n_hidden)
      snprintf(encoder, sizeof encoder, " encoder %s [%s]\n", act, sizes);
    snprintf(net, sizeof net,
             "data d = npy(\"x.npy\")\n"
             "net n : autoencoder {\n input 9\n%s code %s 2\n output %s\n}\n",
             encoder, act, outputs[e2e_draw(state, 4)]);
  } else {
    static const char *const outputs[] = {"softmax 3", "linear 3", "sigmoid 3",
                                          "tanh 3"};
    char hidden[128] = "";
    if (n_hidden)
      snprintf(hidden, sizeof hidden, " hidden %s [%s]\n", act, sizes);
    snprintf(net, sizeof net,
             "data d = npy(inputs \"x.npy\", targets \"y.npy\")\n"
             "net n : feedforward {\n input 9\n%s output %s\n}\n",
             hidden, outputs[e2e_draw(state, 4)]);
  }
  const char *init = inits[e2e_draw(state, 4)];
  int batch = 1 + e2e_draw(state, 8);
  const char *epsilon = epsilons[e2e_draw(state, 3)];
  /* Held-out sets print their own header lines and progress columns. */
  static const char *const held_out[] = {"", " test on h\n",
                                         " validate on h\n test on h\n"};
  int held = e2e_draw(state, 3);
  char held_data[128] = "";
  if (held)
    snprintf(held_data, sizeof held_data, "%s\n",
             autoencoder ? "data h = npy(\"x.npy\")"
                         : "data h = npy(inputs \"x.npy\", targets "
                           "\"y.npy\")");
  snprintf(text, size,
           "%s%sinit n { %s }\n"
           "train n on d with %s {\n batch %d\n steps 50\n epsilon %s\n"
           "%s%s report every 10\n%s}\n",
           held_data, net, init, method, batch, epsilon, mu, phase,
           held_out[held]);
  static const char *const flag_sets[] = {"", "--precision double",
                                          "--nag-form direct"};
  *flags = flag_sets[e2e_draw(state, 3)];
}

Test(emitted_c, compiles_cleanly_for_a_sample_of_programs, .timeout = 120) {
  const char *dir = e2e_fresh_dir("emitted_c");
  uint32_t state = 2013;
  int compiled = 0;
  for (int k = 0; k < 40; k++) {
    char text[2048];
    const char *flags;
    random_program(&state, text, sizeof text, &flags);
    char name[32];
    snprintf(name, sizeof name, "p%02d.mdl", k);
    e2e_write(dir, name, text);
    e2e_result r = e2e_run("cd %s && %s %s --emit-c %s -o p%02d.c && clang "
                           "-std=c11 -Wall -Wextra -Werror -fsyntax-only -I%s/"
                           "../include p%02d.c",
                           dir, MDLC, flags, name, k, TESTS_DIR, k);
    cr_expect_eq(r.status, 0, "program %d (%s):\n%s\n%s", k, flags, text,
                 r.output);
    compiled += r.status == 0;
    free(r.output);
  }
  cr_expect_eq(compiled, 40);
}

/* The comment that ends a schedule's source line travels into the C that
 * computes it, so a student reading mu_at() sees "eq. 5" and "Table 2";
 * a comment's own end is broken so the C comment stays one comment. */
Test(emitted_c, schedules_keep_their_source_comments) {
  const char *dir = e2e_fresh_dir("schedule_comments");
  e2e_result r =
      e2e_run("%s --emit-c '%s/../examples/curves.mdl' -o '%s/curves.c' && "
              "grep -E 'return 0[.]9; +/[*] Table 2 [*]/' '%s/curves.c' && "
              "grep -F 'mu_max); /* eq. 5 */' '%s/curves.c'",
              MDLC, TESTS_DIR, dir, dir, dir);
  cr_expect_eq(r.status, 0, "%s", r.output);
  free(r.output);
  e2e_write(dir, "c.mdl",
            "data d = curves(cases 100)\n"
            "net ae : autoencoder {\n input 784\n encoder sigmoid [8]\n"
            " code linear 2\n output sigmoid\n}\n"
            "train ae on d with nag {\n batch 20; steps 10\n"
            " epsilon 0.01 / (1 + t)  # a */ in \"#\" a comment\n"
            " mu 0.9\n}\n");
  r = e2e_run(
      "cd %s && %s --emit-c c.mdl -o c.c && grep -F "
      "'/ (1 + t); /* a * / in \"#\" a comment */' c.c && %s c.mdl -o c",
      dir, MDLC, MDLC);
  cr_expect_eq(r.status, 0, "%s", r.output);
  free(r.output);
}

/* Above each setting, schedule and initialization, the .mdl line it came
 * from with its comment (`FILE:LINE  SOURCE  # COMMENT`), so that a student
 * finds in the C where each line of the program went; a setting left at
 * its default has none. The C passes through clang-format unchanged. */
Test(emitted_c, settings_show_the_line_they_came_from) {
  const char *dir = e2e_fresh_dir("provenance");
  e2e_write(dir, "p.mdl",
            "data d = curves(cases 100)\n"                               /* 1 */
            "net ae : autoencoder {\n input 784\n encoder sigmoid [8]\n" /* 4 */
            " code linear 2\n output sigmoid\n}\n"                       /* 7 */
            "init ae {\n weights sparse(fan_in 3)  # sec. 3.1\n"         /* 9 */
            " biases 0\n}\n"               /* 11 */
            "const top = 0.99  # mu_max\n" /* 12 */
            "train ae on d with nag {\n"   /* 13 */
            " batch 20  # a minibatch\n"   /* 14 */
            " steps 10\n"                  /* 15 */
            " mu min(1 - 2^(-1 - log2(floor(t / 250) + 1)), top)  "
            "# eq. 5, whose comment does not fit beside it\n" /* 16 */
            " last 2 { mu 0.9 }  # Table 2 */ here\n"         /* 17 */
            " report every 5\n"                               /* 18 */
            " epsilon 0.01\n"                                 /* 19 */
            "}\n");
  /* Each grep -A1 prints the comment's last line and the C below it. */
  e2e_result r = e2e_run(
      "cd %s && %s --emit-c p.mdl -o p.c && "
      "clang-format --style=LLVM p.c | cmp - p.c && "
      "grep -A1 -Fx '  /* p.mdl:14  batch 20  # a minibatch */' p.c | "
      "grep -q 'BATCH = 20,' && "
      "grep -A1 -Fx '/* p.mdl:12  const top = 0.99  # mu_max */' p.c | "
      "grep -q 'static double top = 0.99;' && "
      "grep -A1 -Fx '/* p.mdl:15  steps 10 */' p.c | grep -q 'The schedule' && "
      "grep -A4 -Fx '/* μ_t, the momentum at update t (t counts updates "
      "from 0).' p.c > mu.txt && "
      "printf '%%s\\n' "
      "' * p.mdl:16  mu min(1 - 2^(-1 - log2(floor(t / 250) + 1)), top)' "
      "' *           # eq. 5, whose comment does not fit beside it' "
      "' * p.mdl:17  last 2 { mu 0.9 }  # Table 2 * / here */' "
      "'static double mu_at(double t) {' > want.txt && "
      "tail -n 4 mu.txt | diff want.txt - && "
      "grep -A2 -Fx '  /* p.mdl:9  weights sparse(fan_in 3)  # sec. 3.1' p.c "
      "| grep -q 'p.mdl:10  biases 0 [*]/' && "
      "grep -A1 -Fx '  /* p.mdl:18  report every 5 */' p.c | "
      "grep -q 'mdl_options opts' && "
      "! grep -q 'p.mdl:13' p.c",
      dir, MDLC);
  cr_expect_eq(r.status, 0, "%s", r.output);
  free(r.output);
}

/* Every BLAS call says what it computes: the line above it is a comment
 * (`∂L/∂W_hh = Σ_s h_{s-1}ᵀ δ_s`) or ends in one (`if (s < steps)`, then
 * `+ δ_{s+1} W_hhᵀ` in a comment), in the feed-forward, recurrent and HF
 * programs alike. */
Test(emitted_c, every_blas_call_has_a_formula, .timeout = 60) {
  static const char *const examples[] = {"curves",      "addition", "curves_hf",
                                         "addition_hf", "mem20",    "mem20_hf"};
  const char *dir = e2e_fresh_dir("blas_formulas");
  for (size_t i = 0; i < sizeof examples / sizeof *examples; i++) {
    e2e_result r = e2e_run(
        "%s --emit-c '%s/../examples/%s.mdl' -o '%s/%s.c' && "
        "awk '/mdl_[sd]gem[mv]\\(/ && !/^ *(static|void)/ && "
        "prev !~ /\\*\\/ *$/ { print FILENAME \":\" FNR \": \" $0; bad = 1 } "
        "/mdl_[sd]gem[mv]\\(/ { calls++ } { prev = $0 } "
        "END { if (calls < 4) print \"only\", calls, \"calls\"; "
        "exit bad || calls < 4 }' '%s/%s.c'",
        MDLC, TESTS_DIR, examples[i], dir, examples[i], dir, examples[i]);
    cr_expect_eq(r.status, 0, "%s: a BLAS call without a comment above:\n%s",
                 examples[i], r.output);
    free(r.output);
  }
}

/* Numbers beyond long long's range are written in exponent form: the fuzzer
 * found emit_number converting 1e30 to long long (undefined; UBSan stops
 * on it under make check SANITIZE=1) before it checked the range. */
Test(emitted_c, huge_numbers_print_in_exponent_form) {
  const char *dir = e2e_fresh_dir("huge_numbers");
  e2e_result r = e2e_run(
      "cd %s && sed 's/gaussian(0[.]001)/gaussian(1e30)/' "
      "'%s/../examples/addition.mdl' > a.mdl && grep -q 'gaussian(1e30)' "
      "a.mdl && %s --emit-c a.mdl -o a.c && grep -q '1e+30' a.c",
      dir, TESTS_DIR, MDLC);
  cr_expect_eq(r.status, 0, "%s", r.output);
  free(r.output);
}
