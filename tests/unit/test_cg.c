/* test_cg.c — the linear CG of HF against direct solves of explicit SPD
 * systems: convergence with and without the diagonal preconditioner,
 * monotone φ, the kept-iterate schedule, Martens' progress rule on
 * scripted φ sequences, hot starts, and the bail-out on non-positive
 * curvature. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dense.h"
#include "mdl/cg.h"

enum { N = 50 };

static double relative_error(const double *x, const double *y, int n) {
  double diff = 0, size = 0;
  for (int i = 0; i < n; i++) {
    diff += (x[i] - y[i]) * (x[i] - y[i]);
    size += y[i] * y[i];
  }
  return sqrt(diff / size);
}

/* Eigenvalues spread geometrically over [low, high]. */
static void geometric_spectrum(double *eig, int n, double low, double high) {
  for (int i = 0; i < n; i++)
    eig[i] = low * pow(high / low, (double)i / (n - 1));
}

static mdl_cg_limits limits(int max_steps, double tolerance,
                            double residual_tolerance) {
  mdl_cg_limits l = {max_steps, 1, tolerance, residual_tolerance};
  return l;
}

/* ---- Solving ------------------------------------------------------------ */

Test(cg, converges_to_the_direct_solution) {
  double eig[N], a[N * N], b[N], exact[N], precon[N];
  geometric_spectrum(eig, N, 1, 100);
  dense_with_spectrum(a, eig, N, 11);
  dense_gaussian(b, N, 12);
  dense_solve(a, b, exact, N);
  for (int i = 0; i < N; i++)
    precon[i] = 0.5 + (i % 7); /* any SPD preconditioner, same solution */

  dense_operator op = {a, N, 0};
  mdl_cg_operator apply = {dense_apply, &op};
  mdl_cg cg;
  mdl_cg_init(&cg, N, 500, 0);
  mdl_cg_limits l = limits(500, 0, 1e-12);
  for (int pre = 0; pre < 2; pre++) {
    op.products = 0;
    mdl_cg_solve(&cg, &apply, b, NULL, pre ? precon : NULL, &l);
    cr_assert_eq(cg.stop, MDL_CG_CONVERGED, "preconditioned %d", pre);
    cr_assert_lt(relative_error(cg.x, exact, N), 1e-9, "preconditioned %d",
                 pre);
    /* From x_0 = 0 each step is one product and r_0 costs none. */
    cr_assert_eq(op.products, cg.steps);
    cr_assert_eq(cg.products, cg.steps);
  }
  mdl_cg_free(&cg);
}

Test(cg, exact_diagonal_preconditioner_needs_fewer_steps) {
  /* A = D C D: a well-conditioned C (spectrum in [1, 3]) scaled by
   * D = diag(10^u), u in [-2, 2], which Jacobi preconditioning undoes. */
  double eig[N], c[N * N], a[N * N], d[N], b[N], diag[N], exact[N];
  geometric_spectrum(eig, N, 1, 3);
  dense_with_spectrum(c, eig, N, 21);
  for (int i = 0; i < N; i++)
    d[i] = pow(10, -2 + 4.0 * ((i * 17) % N) / (N - 1));
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++)
      a[i * N + j] = d[i] * c[i * N + j] * d[j];
  for (int i = 0; i < N; i++)
    diag[i] = a[i * N + i];
  dense_gaussian(b, N, 22);
  dense_solve(a, b, exact, N);

  dense_operator op = {a, N, 0};
  mdl_cg_operator apply = {dense_apply, &op};
  mdl_cg cg;
  mdl_cg_init(&cg, N, 1000, 0);
  mdl_cg_limits l = limits(1000, 0, 1e-10);
  mdl_cg_solve(&cg, &apply, b, NULL, NULL, &l);
  int plain_steps = cg.steps;
  mdl_cg_solve(&cg, &apply, b, NULL, diag, &l);
  int jacobi_steps = cg.steps;
  cr_assert_eq(cg.stop, MDL_CG_CONVERGED);
  cr_assert_lt(relative_error(cg.x, exact, N), 1e-6);
  cr_assert_lt(2 * jacobi_steps, plain_steps, "Jacobi %d vs plain %d steps",
               jacobi_steps, plain_steps);
  mdl_cg_free(&cg);
}

Test(cg, phi_decreases_and_is_the_quadratic) {
  double eig[N], a[N * N], b[N], x0[N], precon[N];
  geometric_spectrum(eig, N, 0.1, 1000);
  dense_with_spectrum(a, eig, N, 31);
  dense_gaussian(b, N, 32);
  dense_gaussian(x0, N, 33);
  for (int i = 0; i < N; i++)
    precon[i] = a[i * N + i];
  dense_operator op = {a, N, 0};
  mdl_cg_operator apply = {dense_apply, &op};
  mdl_cg cg;
  mdl_cg_init(&cg, N, 40, 0);
  mdl_cg_limits l = limits(40, 0, 0);
  for (int pre = 0; pre < 2; pre++) {
    mdl_cg_solve(&cg, &apply, b, x0, pre ? precon : NULL, &l);
    cr_assert_eq(cg.steps, 40);
    cr_assert_eq(cg.products, 41, "r_0 = A x_0 - b costs one product");
    cr_assert_float_eq(cg.values[0], dense_quadratic(a, b, x0, N), 1e-9);
    for (int i = 1; i <= cg.steps; i++)
      cr_assert_leq(cg.values[i], cg.values[i - 1], "step %d", i);
    double direct = dense_quadratic(a, b, cg.x, N);
    cr_assert_float_eq(cg.values[cg.steps], direct, 1e-8 * fabs(direct));
  }
  mdl_cg_free(&cg);
}

/* ---- Kept iterates ------------------------------------------------------ */

static const int MARTENS_SCHEDULE[] = {5,  7,  9,  11, 15,  19,  25, 32,
                                       41, 54, 69, 90, 117, 152, 197};
enum { N_MARTENS = sizeof MARTENS_SCHEDULE / sizeof MARTENS_SCHEDULE[0] };

Test(cg, schedule_is_martens) {
  int steps[64];
  cr_assert_eq(mdl_cg_schedule(250, steps), N_MARTENS);
  for (int j = 0; j < N_MARTENS; j++)
    cr_assert_eq(steps[j], MARTENS_SCHEDULE[j], "entry %d", j);
  cr_assert_eq(mdl_cg_schedule(4, NULL), 0);
  cr_assert_eq(mdl_cg_schedule(5, NULL), 1);
  cr_assert_eq(mdl_cg_schedule(256, steps), N_MARTENS + 1);
  cr_assert_eq(steps[N_MARTENS], 256);
}

/* A 300-dimensional diagonal system; with a wide spectrum CG cannot finish
 * it in 250 steps. */
enum { LONG_N = 300 };
static double long_diag[LONG_N], long_b[LONG_N];

static void apply_long(const double *v, double *out, void *ctx) {
  (void)ctx;
  for (int i = 0; i < LONG_N; i++)
    out[i] = long_diag[i] * v[i];
}

static void long_system(double low, double high) {
  geometric_spectrum(long_diag, LONG_N, low, high);
  dense_gaussian(long_b, LONG_N, 41);
}

Test(cg, keeps_the_schedule_iterates_and_the_last) {
  long_system(1e-3, 1e6);
  mdl_cg_operator apply = {apply_long, NULL};
  mdl_cg cg, shorter;
  mdl_cg_init(&cg, LONG_N, 250, 1);
  mdl_cg_init(&shorter, LONG_N, 250, 1);
  mdl_cg_limits l = limits(250, 0, 0);
  mdl_cg_solve(&cg, &apply, long_b, NULL, NULL, &l);
  cr_assert_eq(cg.stop, MDL_CG_MAX_STEPS);
  cr_assert_eq(cg.n_iterates, N_MARTENS + 1);
  for (int j = 0; j < N_MARTENS; j++)
    cr_assert_eq(cg.iterate_steps[j], MARTENS_SCHEDULE[j], "entry %d", j);
  cr_assert_eq(cg.iterate_steps[N_MARTENS], 250);
  cr_assert_eq(cg.iterates[N_MARTENS], cg.x);

  /* Each kept vector is the iterate of its step: a run stopped there ends
   * on the same vector, bit for bit. */
  for (int j = 0; j < N_MARTENS; j += 4) {
    mdl_cg_limits stop_there = limits(MARTENS_SCHEDULE[j], 0, 0);
    mdl_cg_solve(&shorter, &apply, long_b, NULL, NULL, &stop_there);
    cr_assert_eq(memcmp(shorter.x, cg.iterates[j], sizeof(double) * LONG_N), 0,
                 "step %d", MARTENS_SCHEDULE[j]);
  }

  /* A run that ends on a schedule step lists that iterate once. */
  mdl_cg_limits at_25 = limits(25, 0, 0);
  mdl_cg_solve(&shorter, &apply, long_b, NULL, NULL, &at_25);
  cr_assert_eq(shorter.n_iterates, 7);
  cr_assert_eq(shorter.iterate_steps[6], 25);
  mdl_cg_limits at_30 = limits(30, 0, 0);
  mdl_cg_solve(&shorter, &apply, long_b, NULL, NULL, &at_30);
  cr_assert_eq(shorter.n_iterates, 8);
  cr_assert_eq(shorter.iterate_steps[6], 25);
  cr_assert_eq(shorter.iterate_steps[7], 30);
  mdl_cg_free(&cg);
  mdl_cg_free(&shorter);
}

Test(cg, without_kept_iterates_only_the_last) {
  long_system(1e-3, 1e6);
  mdl_cg_operator apply = {apply_long, NULL};
  mdl_cg cg;
  mdl_cg_init(&cg, LONG_N, 100, 0);
  mdl_cg_limits l = limits(100, 0, 0);
  mdl_cg_solve(&cg, &apply, long_b, NULL, NULL, &l);
  cr_assert_eq(cg.n_iterates, 1);
  cr_assert_eq(cg.iterate_steps[0], 100);
  cr_assert_eq(cg.iterates[0], cg.x);
  mdl_cg_free(&cg);
}

/* ---- Martens' progress rule --------------------------------------------- */

/* The first step i in 1..n at which the rule stops, or -1. */
static int first_stop(const double *values, int n, double tolerance) {
  for (int i = 1; i <= n; i++)
    if (mdl_cg_progress_stop(values, i, tolerance))
      return i;
  return -1;
}

Test(cg, progress_rule_with_the_minimum_gap) {
  /* φ_i = −i up to i = 20, then flat at −20. With k = 10 (i <= 100) and
   * tolerance 5e-4 the threshold is 0.005; at i = 29 the relative progress
   * is (−20 + 19)/−20 = 0.05, at i = 30 it is 0: stop at 30. */
  double phi[301];
  for (int i = 0; i <= 300; i++)
    phi[i] = -(i < 20 ? i : 20);
  cr_assert_eq(first_stop(phi, 300, 5e-4), 30);
  /* A tolerance that lets 0.05 pass (0.05 < 10 · 0.0051) stops at 29; one
   * that lets 0.1 (i = 28) pass as well stops at 28. */
  cr_assert_eq(first_stop(phi, 300, 0.0051), 29);
  cr_assert_eq(first_stop(phi, 300, 0.0101), 28);
}

Test(cg, progress_rule_gap_grows_as_ceil_of_a_tenth) {
  /* φ_i = −i up to 100, then flat at −100. Past i = 100 the gap is
   * k = ceil(i/10): at i = 110 (k = 11) and 111 (k = 12) the value k steps
   * back is −99 and the progress 0.01 exceeds 5e-4·k; at i = 112 (k = 12)
   * it is −100 and the progress 0: stop at 112. (k = 10 would stop at 110,
   * k = floor(i/10) at 111.) */
  double phi[301];
  for (int i = 0; i <= 300; i++)
    phi[i] = -(i < 100 ? i : 100);
  cr_assert_eq(first_stop(phi, 300, 5e-4), 112);
}

Test(cg, progress_rule_needs_a_negative_value_and_more_than_k_steps) {
  double phi[301];
  for (int i = 0; i <= 300; i++)
    phi[i] = 1; /* stagnant, but above φ(0) = 0: a bad hot start */
  cr_assert_eq(first_stop(phi, 300, 5e-4), -1);
  for (int i = 0; i <= 300; i++)
    phi[i] = -1; /* stagnant below 0: stop as soon as i > k = 10 */
  cr_assert_eq(first_stop(phi, 300, 5e-4), 11);
}

Test(cg, progress_rule_tests_the_sign_k_steps_back) {
  /* For k·tolerance < 1 testing φ(x_{i−k}) < 0 (Martens' code) or
   * φ(x_i) < 0 (the paper) decides alike; a tolerance of 0.2 (threshold
   * 2 at k = 10) tells them apart. φ = +1 up to step 10, then −2: at
   * i = 11 the progress (−2 − 1)/−2 = 1.5 is below 2 but φ(x_1) > 0; the
   * first stop is at i = 21, where φ(x_11) = −2. */
  double phi[301];
  for (int i = 0; i <= 300; i++)
    phi[i] = i <= 10 ? 1 : -2;
  cr_assert_eq(first_stop(phi, 300, 0.2), 21);
}

Test(cg, stops_by_the_progress_rule_and_honours_min_steps) {
  long_system(1, 1e4);
  mdl_cg_operator apply = {apply_long, NULL};
  mdl_cg cg;
  mdl_cg_init(&cg, LONG_N, 250, 0);
  mdl_cg_limits l = limits(250, 5e-4, 0);
  mdl_cg_solve(&cg, &apply, long_b, NULL, NULL, &l);
  cr_assert_eq(cg.stop, MDL_CG_PROGRESS);
  int stopped = cg.steps;
  cr_assert(mdl_cg_progress_stop(cg.values, stopped, 5e-4));
  for (int i = 1; i < stopped; i++)
    cr_assert_not(mdl_cg_progress_stop(cg.values, i, 5e-4), "step %d", i);

  l.min_steps = stopped + 20;
  mdl_cg_solve(&cg, &apply, long_b, NULL, NULL, &l);
  cr_assert_geq(cg.steps, stopped + 20);
  mdl_cg_free(&cg);
}

/* ---- Hot start ---------------------------------------------------------- */

Test(cg, hot_start_from_the_solution_needs_no_steps) {
  double eig[N], a[N * N], b[N], exact[N];
  geometric_spectrum(eig, N, 1, 1e4);
  dense_with_spectrum(a, eig, N, 51);
  dense_gaussian(b, N, 52);
  dense_solve(a, b, exact, N);
  dense_operator op = {a, N, 0};
  mdl_cg_operator apply = {dense_apply, &op};
  mdl_cg cg;
  mdl_cg_init(&cg, N, 250, 1);
  /* HF's limits: Martens' rule and the residual floor. */
  mdl_cg_limits l = limits(250, 5e-4, MDL_CG_RESIDUAL_FLOOR);

  mdl_cg_solve(&cg, &apply, b, exact, NULL, &l);
  cr_assert_eq(cg.steps, 0);
  cr_assert_eq(cg.stop, MDL_CG_CONVERGED);
  cr_assert_eq(memcmp(cg.x, exact, sizeof exact), 0);
  cr_assert_eq(cg.n_iterates, 1);

  mdl_cg_solve(&cg, &apply, b, NULL, NULL, &l);
  cr_assert_gt(cg.steps, 30, "a cold start took only %d steps", cg.steps);
  mdl_cg_free(&cg);
}

/* ---- Non-positive curvature --------------------------------------------- */

Test(cg, bails_out_on_negative_curvature) {
  double eig[N], a[N * N], b[N];
  geometric_spectrum(eig, N, 1, 10);
  eig[N / 2] = -5;
  dense_with_spectrum(a, eig, N, 61);
  dense_gaussian(b, N, 62);
  dense_operator op = {a, N, 0};
  mdl_cg_operator apply = {dense_apply, &op};
  mdl_cg cg;
  mdl_cg_init(&cg, N, 250, 1);
  mdl_cg_limits l = limits(250, 0, 0);
  mdl_cg_solve(&cg, &apply, b, NULL, NULL, &l);
  cr_assert_eq(cg.stop, MDL_CG_NEGATIVE_CURVATURE);
  cr_assert_lt(cg.steps, 250);
  /* The failed step's product is counted but its update is not made. */
  cr_assert_eq(cg.products, cg.steps + 1);
  for (int i = 0; i < N; i++)
    cr_assert(isfinite(cg.x[i]));
  cr_assert_eq(cg.iterate_steps[cg.n_iterates - 1], cg.steps);
  mdl_cg_free(&cg);
}

static void apply_zero(const double *v, double *out, void *ctx) {
  (void)v;
  (void)ctx;
  memset(out, 0, sizeof(double) * N);
}

static void apply_nan(const double *v, double *out, void *ctx) {
  (void)v;
  (void)ctx;
  for (int i = 0; i < N; i++)
    out[i] = NAN;
}

Test(cg, bails_out_on_zero_or_nan_curvature_before_any_step) {
  double b[N];
  dense_gaussian(b, N, 71);
  mdl_cg cg;
  mdl_cg_init(&cg, N, 10, 1);
  mdl_cg_limits l = limits(10, 5e-4, 0);
  mdl_cg_operator zero = {apply_zero, NULL}, nan = {apply_nan, NULL};
  const mdl_cg_operator *ops[] = {&zero, &nan};
  for (int k = 0; k < 2; k++) {
    mdl_cg_solve(&cg, ops[k], b, NULL, NULL, &l);
    cr_assert_eq(cg.stop, MDL_CG_NEGATIVE_CURVATURE);
    cr_assert_eq(cg.steps, 0);
    cr_assert_eq(cg.n_iterates, 1);
    for (int i = 0; i < N; i++)
      cr_assert_eq(cg.x[i], 0);
  }
  mdl_cg_free(&cg);
}

Test(cg, zero_right_hand_side_from_zero_has_converged) {
  double eig[N], a[N * N], b[N] = {0};
  geometric_spectrum(eig, N, 1, 10);
  dense_with_spectrum(a, eig, N, 81);
  dense_operator op = {a, N, 0};
  mdl_cg_operator apply = {dense_apply, &op};
  mdl_cg cg;
  mdl_cg_init(&cg, N, 10, 0);
  mdl_cg_limits l = limits(10, 5e-4, 0);
  mdl_cg_solve(&cg, &apply, b, NULL, NULL, &l);
  cr_assert_eq(cg.stop, MDL_CG_CONVERGED);
  cr_assert_eq(cg.steps, 0);
  cr_assert_eq(op.products, 0);
  mdl_cg_free(&cg);
}

Test(cg, stop_reasons_have_names) {
  cr_assert_str_eq(mdl_cg_stop_name(MDL_CG_MAX_STEPS), "max steps");
  cr_assert_str_eq(mdl_cg_stop_name(MDL_CG_PROGRESS), "progress");
  cr_assert_str_eq(mdl_cg_stop_name(MDL_CG_CONVERGED), "converged");
  cr_assert_str_eq(mdl_cg_stop_name(MDL_CG_NEGATIVE_CURVATURE),
                   "negative curvature");
}
