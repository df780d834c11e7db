/* test_quadratic.c — the quadratic objective (net kind `quadratic`): what
 * the parser and sema make of it (the methods a train item compares, the
 * curvatures and the start, --method), and the runtime's measured rate of
 * a path, against sequences whose rate is known in closed form. The
 * generated program is tested end to end in tests/e2e/test_quadratic.c;
 * its diagnostics in tests/diag/quadratic_*.mdl. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mdl/quadratic.h"
#include "mdlc.h"

static char *quadratic_diag_text;
static size_t quadratic_diag_size;

static void quadratic_setup(void) {
  diag_reset();
  diag_out = open_memstream(&quadratic_diag_text, &quadratic_diag_size);
}

static void quadratic_teardown(void) {
  fclose(diag_out);
  diag_out = NULL;
  free(quadratic_diag_text);
}

TestSuite(quadratic, .init = quadratic_setup, .fini = quadratic_teardown);

static const char *diags(void) {
  fflush(diag_out);
  return quadratic_diag_text ? quadratic_diag_text : "";
}

static Program *check(const char *source, const SemaOverrides *o) {
  Ast ast;
  cr_assert(parse_source(source_from_string("q.mdl", source), &ast), "%s",
            diags());
  return sema_check_with(&ast, o);
}

static const char three_methods[] =
    "net bowl : quadratic { curvatures [0.01, 1, 2.5] }\n"
    "init bowl { start [1, -2, 0.5] }\n"
    "train bowl with sgd, cm and nag {\n"
    "  steps 300; epsilon 0.5; mu 0.9; report every 10\n"
    "}\n";

Test(quadratic, a_train_item_compares_methods_in_the_order_given) {
  Ast ast;
  cr_assert(parse_source(source_from_string("q.mdl", three_methods), &ast));
  const Item *train = ast.items->next->next;
  cr_assert_eq(train->kind, IT_TRAIN);
  cr_expect_null(train->data_name, "no `on DATA`");
  cr_expect_str_eq(train->kind_name, "sgd");
  const char *names[] = {"sgd", "cm", "nag"};
  int n = 0;
  for (const Atom *m = train->methods; m; m = m->next, n++)
    cr_expect_str_eq(m->text, names[n]);
  cr_expect_eq(n, 3);

  Program *p = sema_check_with(&ast, NULL);
  cr_assert_not_null(p, "%s", diags());
  cr_expect_eq(p->net_kind, NET_QUADRATIC);
  cr_expect_eq(p->n_methods, 3);
  cr_expect_eq(p->methods[0], METHOD_SGD);
  cr_expect_eq(p->methods[1], METHOD_CM);
  cr_expect_eq(p->methods[2], METHOD_NAG);
  /* The settings are a momentum method's: mu is taken. */
  cr_expect_eq(p->method, METHOD_CM);
  cr_expect_eq(p->n_params, 3);
  double curvatures[] = {0.01, 1, 2.5}, start[] = {1, -2, 0.5};
  for (int i = 0; i < 3; i++) {
    cr_expect_eq(p->curvatures[i], curvatures[i]);
    cr_expect_eq(p->start[i], start[i]);
  }
  cr_expect_eq(p->steps, 300);
  cr_expect_eq(p->report_every, 10);
  cr_expect_eq(p->n_blocks, 0, "a quadratic has no layers and no blocks");
}

Test(quadratic, and_or_commas_between_two_methods) {
  Program *p = check("net b : quadratic { curvatures 2 }\n"
                     "train b with nag, cm { epsilon 0.1; mu 0.5 }\n",
                     NULL);
  cr_assert_not_null(p, "%s", diags());
  cr_expect_eq(p->n_methods, 2);
  cr_expect_eq(p->methods[0], METHOD_NAG);
  cr_expect_eq(p->methods[1], METHOD_CM);
  cr_expect_eq(p->method, METHOD_NAG, "the first momentum method");
  cr_expect_eq(p->n_params, 1, "one number is one curvature");
  cr_expect_eq(p->curvatures[0], 2);
  cr_expect_eq(p->start[0], 1, "without an init, θ_0 is all ones");
}

Test(quadratic, sgd_alone_takes_no_mu) {
  Program *p = check("net b : quadratic { curvatures [1, 3] }\n"
                     "train b with sgd { epsilon 0.1 }\n",
                     NULL);
  cr_assert_not_null(p, "%s", diags());
  cr_expect_eq(p->n_methods, 1);
  cr_expect_eq(p->method, METHOD_SGD);
  cr_expect_null(p->mu.base);
}

/* mdlc --method M: the quadratic is minimized with M alone (sgd drops the
 * mu settings, as for a net). */
Test(quadratic, method_override_keeps_one_method) {
  SemaOverrides nag = {.method = "nag"};
  Program *p = check(three_methods, &nag);
  cr_assert_not_null(p, "%s", diags());
  cr_expect_eq(p->n_methods, 1);
  cr_expect_eq(p->methods[0], METHOD_NAG);
  SemaOverrides sgd = {.method = "sgd"};
  p = check(three_methods, &sgd);
  cr_assert_not_null(p, "%s", diags());
  cr_expect_eq(p->n_methods, 1);
  cr_expect_eq(p->method, METHOD_SGD);
  SemaOverrides hf = {.method = "hf"};
  cr_expect_null(check(three_methods, &hf));
  cr_expect(strstr(diags(), "hf is not for a quadratic"), "%s", diags());
}

Test(quadratic, the_model_dump_names_the_objective) {
  Program *p = check(three_methods, NULL);
  cr_assert_not_null(p, "%s", diags());
  p->program_name = "q";
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  model_dump(out, p);
  fclose(out);
  cr_expect(strstr(text, "net bowl: quadratic, f = 1/2 theta' A theta, A = "
                         "diag(0.01, 1, 2.5)\n"),
            "%s", text);
  cr_expect(strstr(text, "start (1, -2, 0.5)\n"), "%s", text);
  cr_expect(strstr(text, "train with sgd, cm and nag: steps 300"), "%s", text);
  cr_expect(strstr(text, "  mu: 0.9\n"), "%s", text);
  free(text);
}

/* ---- mdl_path_rate: the rate a path shows ---- */

/* A one-coordinate path x_t = f(t) of `steps` updates. */
static mdl_path path_of(long steps, double (*f)(long t, const double *k),
                        const double *k, mdl_dtype dtype) {
  mdl_path path;
  mdl_path_start(&path, "test", 1, steps);
  for (long t = 0; t <= steps; t++) {
    double x = f(t, k);
    float xf = (float)x;
    mdl_path_keep(&path, t, dtype == MDL_F32 ? (const void *)&xf : &x, dtype);
  }
  return path;
}

/* k[0]^t cos(k[1] t + k[2]) */
static double damped(long t, const double *k) {
  return pow(k[0], (double)t) * cos(k[1] * (double)t + k[2]);
}

static double rate_of(long steps, double rho, double omega, double phase,
                      mdl_dtype dtype) {
  double k[] = {rho, omega, phase};
  mdl_path path = path_of(steps, damped, k, dtype);
  double rate = mdl_path_rate(&path, 0);
  free(path.theta);
  return rate;
}

Test(quadratic, a_geometric_path_has_its_ratio) {
  cr_expect_float_eq(rate_of(200, 0.7, 0, 0, MDL_F64), 0.7, 1e-12);
  /* A negative ratio: the sign flips, |x| falls steadily. */
  cr_expect_float_eq(rate_of(200, 0.6, 3.14159265358979323846, 0, MDL_F64), 0.6,
                     1e-12);
  /* Growth is a rate above 1. */
  cr_expect_float_eq(rate_of(200, 1.05, 0, 0, MDL_F64), 1.05, 1e-12);
}

/* An oscillating path: the peaks of |x| follow ρ^t whatever the phase of
 * the samples, within a small fraction of the rate. */
Test(quadratic, an_oscillating_path_has_its_envelope_rate) {
  double omegas[] = {0.05, 0.3, 1.25, 2.0, 3.0};
  double phases[] = {0, 0.4, 1.3};
  for (int i = 0; i < 5; i++)
    for (int j = 0; j < 3; j++) {
      double r = rate_of(2000, 0.95, omegas[i], phases[j], MDL_F64);
      cr_expect(fabs(r - 0.95) < 1e-3, "ω %g, phase %g: %.6f", omegas[i],
                phases[j], r);
      r = rate_of(400, 1.01, omegas[i], phases[j], MDL_F64);
      cr_expect(fabs(r - 1.01) < 1e-3, "growing, ω %g, phase %g: %.6f",
                omegas[i], phases[j], r);
    }
}

/* In float32 a fast path falls below the floor (1e-30) and into
 * subnormals and 0 long before the run ends: the rate is measured before. */
Test(quadratic, a_path_lost_in_rounding_is_measured_before) {
  cr_expect_float_eq(rate_of(1000, 0.3, 0, 0, MDL_F32), 0.3, 1e-5);
  double r = rate_of(1000, 0.3, 1.25, 0.2, MDL_F32);
  cr_expect(fabs(r - 0.3) < 0.01, "%.6f", r);
  /* Measured over the whole run, it would be about 0.3^(55/1000). */
}

Test(quadratic, too_short_a_path_has_no_rate) {
  cr_expect(isnan(rate_of(0, 0.5, 0, 0, MDL_F64)));
  cr_expect(isnan(rate_of(6, 0.5, 0, 0, MDL_F64)));
  cr_expect(!isnan(rate_of(10, 0.5, 0, 0, MDL_F64)));
  /* A coordinate that reaches 0 at once (ελ = 1): nothing to measure. */
  double zero[] = {0, 0, 0};
  mdl_path path = path_of(100, damped, zero, MDL_F64);
  cr_expect(isnan(mdl_path_rate(&path, 0)), "0^t: 0 after the start");
  free(path.theta);
}

/* The value of f along a path: ½ Σ λ_i θ_i². */
Test(quadratic, the_value_of_the_objective) {
  double curvature[] = {0.5, 4}, start[] = {2, -1}, theta[] = {2, -1};
  mdl_quadratic q = {2, curvature, start};
  mdl_path path;
  mdl_path_start(&path, "cm", 2, 0);
  mdl_path_keep(&path, 0, theta, MDL_F64);
  cr_expect_float_eq(mdl_quadratic_value(&q, &path, 0), 0.5 * (0.5 * 4 + 4),
                     1e-15);
  free(path.theta);
}
