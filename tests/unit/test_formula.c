/* test_formula.c — the model's schedules and settings as sema leaves them:
 * the one evaluator (schedule_at, formula_eval) against the paper's
 * formulas computed here independently, phases' lengths folded, and which
 * values --set may change. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mdlc.h"

static void formula_setup(void) {
  diag_reset();
  diag_out = stderr;
}

TestSuite(formula, .init = formula_setup);

/* A checked program from source text; fails the test when it has errors. */
static Program *checked(const char *text) {
  Ast ast;
  cr_assert(parse_source(source_from_string("p.mdl", text), &ast));
  Program *p = sema_check(&ast);
  cr_assert_not_null(p);
  return p;
}

#define NET                                                                    \
  "data d = curves(cases 200, seed 1)\n"                                       \
  "net ae : autoencoder {\n"                                                   \
  "    input 784\n"                                                            \
  "    encoder sigmoid [20]\n"                                                 \
  "    code linear 6\n"                                                        \
  "    decoder mirror\n"                                                       \
  "    output sigmoid\n"                                                       \
  "    loss cross_entropy\n"                                                   \
  "}\n"

/* Eq. 5 of the paper with mu_max, and Table 2's last 1000 updates at 0.9. */
static double eq5(double t, double mu_max, long steps) {
  if (t >= (double)steps - 1000)
    return 0.9;
  double k = floor(t / 250) + 1;
  double mu = 1 - 1 / (2 * k); /* 1 - 2^(-1 - log2 k) */
  return mu < mu_max ? mu : mu_max;
}

Test(formula, eq5_and_its_last_phase) {
  Program *p = checked(NET "const mu_max = 0.999\n"
                           "train ae on d with nag {\n"
                           "    batch 20\n"
                           "    steps 100000\n"
                           "    epsilon 0.005\n"
                           "    mu min(1 - 2^(-1 - log2(floor(t / 250) + 1)), "
                           "mu_max)\n"
                           "    last 1000 { mu 0.9 }\n"
                           "}\n");
  const Schedule *mu = &p->mu;
  cr_assert_eq(mu->n_phases, 1);
  cr_expect_eq(mu->phases[0].n, 1000);
  cr_expect(!mu->is_setting && !mu->constant);
  long ts[] = {0, 249, 250, 999, 1000, 5000, 62499, 62500, 98999, 99000, 99999};
  for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
    int part;
    double got = schedule_at(mu, (double)ts[i], p->steps, &part);
    cr_expect(fabs(got - eq5((double)ts[i], 0.999, p->steps)) < 1e-15,
              "mu at t = %ld: %.17g, not %.17g", ts[i], got,
              eq5((double)ts[i], 0.999, p->steps));
    cr_expect_eq(part, ts[i] >= 99000 ? 0 : -1, "t = %ld", ts[i]);
  }
  /* A shorter schedule moves the last phase with it. */
  int part;
  cr_expect_eq(schedule_at(mu, 500, 1200, &part), 0.9);
  cr_expect(p->epsilon.is_setting && p->epsilon.constant);
}

Test(formula, first_phase_with_a_const_length_and_conditions) {
  Program *p = checked(NET "const warm = 10\n"
                           "const base = 0.01\n"
                           "train ae on d with cm {\n"
                           "    batch 20\n"
                           "    steps 100\n"
                           "    epsilon base if t < 50 and not (t == 20) "
                           "else base * (1 - t / steps)\n"
                           "    mu 0.9\n"
                           "    first warm { epsilon 0.5 * base }\n"
                           "}\n");
  const Schedule *eps = &p->epsilon;
  cr_assert_eq(eps->n_phases, 1);
  cr_expect_eq(eps->phases[0].n, 10);
  cr_expect(eps->phases[0].is_first);
  int part;
  cr_expect_eq(schedule_at(eps, 9, p->steps, &part), 0.005);
  cr_expect_eq(part, 0);
  cr_expect_eq(schedule_at(eps, 10, p->steps, &part), 0.01);
  cr_expect_eq(part, -1);
  cr_expect_eq(schedule_at(eps, 20, p->steps, &part), 0.01 * (1 - 0.2));
  cr_expect_eq(schedule_at(eps, 60, p->steps, &part), 0.01 * (1 - 0.6));
  /* The phase's length folds warm into the program: only -D reaches it. */
  cr_expect(sema_const(p, "warm")->compile_time);
  cr_expect(!sema_const(p, "base")->compile_time);
}

Test(formula, functions_fold_as_c_computes_them) {
  Program *p =
      checked(NET "const x1 = 2^-3 * sqrt(abs(-4)) + exp(0) * log(1)\n"
                  "const x2 = ceil(0.2) - log2(8) + floor(1.5)\n"
                  "const x3 = max(0.1, 0.7, 0.3) - min(3, 1, 2)\n"
                  "train ae on d with sgd { batch 20; epsilon 0.1 }\n");
  cr_expect_eq(sema_const(p, "x1")->folded, 0.25);
  cr_expect_eq(sema_const(p, "x2")->folded, -1);
  cr_expect(fabs(sema_const(p, "x3")->folded - (0.7 - 1)) < 1e-15);
}

Test(formula, settings_are_listed_once) {
  Program *p = checked(NET "const mu0 = 0.9\n"
                           "const half = mu0 / 2\n"
                           "train ae on d with nag {\n"
                           "    batch 20\n"
                           "    epsilon 0.01\n"
                           "    mu 0.5\n"
                           "    weight_decay 1e-5\n"
                           "}\n");
  const char *names[] = {"mu0", "half", "epsilon", "mu", "weight_decay"};
  cr_assert_eq(p->n_settings, 5);
  for (int i = 0; i < 5; i++)
    cr_expect_str_eq(p->settings[i].name, names[i]);
  cr_expect_eq(model_setting(p, "mu")->value, 0.5);
  cr_expect_str_eq(model_setting(p, "half")->help,
                   "a const of the program: mu0 / 2");
  cr_expect(sema_const(p, "half")->recomputed);
  cr_expect(!sema_const(p, "mu0")->recomputed);
  cr_expect_null(model_setting(p, "decay"));
}

Test(formula, a_schedule_with_phases_is_no_setting) {
  Program *p = checked(NET "train ae on d with cm {\n"
                           "    batch 20\n"
                           "    steps 100\n"
                           "    epsilon 0.01\n"
                           "    mu 0.9\n"
                           "    last 10 { mu 0.5 }\n"
                           "}\n");
  cr_expect_null(model_setting(p, "mu"));
  cr_expect_not_null(model_setting(p, "epsilon"));
  cr_expect(!p->mu.constant);
}

Test(formula, hf_defaults_come_from_the_runtime) {
  Program *p = checked(NET "train ae on d with hf { batch 20 }\n");
  cr_expect(p->epsilon.is_setting);
  cr_expect_eq(model_setting(p, "epsilon")->value, 1);
  /* Martens' 0.95 (runtime/hf.c), offered as the setting decay. */
  cr_expect_eq(model_setting(p, "decay")->value, 0.95);
  cr_expect_null(model_setting(p, "mu"));
}
