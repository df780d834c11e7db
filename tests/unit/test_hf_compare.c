/* test_hf_compare.c — the Figure-5 experiment on explicit quadratics: CG
 * reaches the exact minimum within n steps, NAG follows its equation, and
 * on a clustered spectrum NAG decreases q but far more slowly than CG. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dense.h"
#include "mdl/hf.h"

enum { N = 30, ITERATIONS = 60 };

/* A net whose curvature is an explicit matrix and whose gradient is a fixed
 * vector: the quadratic q(p) = gᵀp + ½ pᵀ(G + λI)p, nothing else. */
typedef struct {
  mdl_dtype type;
  double g[N * N], grad[N], fisher[N];
  long products;
} quadratic_net;

static double qn_loss(const void *theta, mdl_hf_batch batch, void *ctx) {
  (void)theta;
  (void)batch;
  (void)ctx;
  return 0;
}

static double qn_gradient(const void *theta, void *grad, void *ctx) {
  quadratic_net *net = ctx;
  (void)theta;
  for (int i = 0; i < N; i++)
    mdl_set(grad, net->type, i, net->grad[i]);
  return 0;
}

static void qn_prepare(const void *theta, void *ctx) {
  (void)theta;
  (void)ctx;
}

static void qn_gauss_newton(const void *v, double w, void *out, void *ctx) {
  quadratic_net *net = ctx;
  (void)w;
  net->products++;
  for (int i = 0; i < N; i++) {
    double sum = 0;
    for (int k = 0; k < N; k++)
      sum += net->g[i * N + k] * mdl_get(v, net->type, k);
    mdl_set(out, net->type, i, sum);
  }
}

static void qn_fisher(const void *theta, void *diag, void *ctx) {
  quadratic_net *net = ctx;
  (void)theta;
  for (int i = 0; i < N; i++)
    mdl_set(diag, net->type, i, net->fisher[i]);
}

/* A quadratic net with G of the given spectrum, a random g, and the
 * diagonal of G as its "Fisher". */
static void make_net(quadratic_net *net, const double *eig, mdl_dtype type) {
  memset(net, 0, sizeof *net);
  net->type = type;
  dense_with_spectrum(net->g, eig, N, 7);
  dense_gaussian(net->grad, N, 8);
  for (int i = 0; i < N; i++)
    net->fisher[i] = net->g[i * N + i];
}

static void make_hf(mdl_hf *hf, quadratic_net *net, int precondition) {
  mdl_hf_net callbacks = {net->type,       N,           net,
                          qn_loss,         qn_gradient, qn_prepare,
                          qn_gauss_newton, qn_fisher};
  mdl_hf_settings s;
  mdl_hf_default_settings(&s);
  s.weight_cost = 0;
  s.precondition = precondition;
  mdl_error err;
  cr_assert_eq(mdl_hf_init(hf, &callbacks, &s, &err), 0, "%s", err.message);
}

/* The minimum −½ gᵀA⁻¹g of q with A = G + λI. */
static double minimum(const quadratic_net *net, double lambda) {
  double a[N * N], x[N], minus_g[N];
  memcpy(a, net->g, sizeof a);
  for (int i = 0; i < N; i++) {
    a[i * N + i] += lambda;
    minus_g[i] = -net->grad[i];
  }
  dense_solve(a, minus_g, x, N);
  double value = 0;
  for (int i = 0; i < N; i++)
    value += 0.5 * net->grad[i] * x[i];
  return value;
}

typedef struct {
  double cg[ITERATIONS + 1], pcg[ITERATIONS + 1], nag[ITERATIONS + 1];
  mdl_hf_comparison result;
} curves;

static void compare(mdl_hf *hf, double lambda, const mdl_hf_compare_settings *s,
                    curves *c) {
  c->result.cg = c->cg;
  c->result.cg_preconditioned = c->pcg;
  c->result.nag = c->nag;
  double theta[N] = {0};
  mdl_error err;
  cr_assert_eq(mdl_hf_compare_cg_nag(hf, theta, lambda, s, &c->result, &err), 0,
               "%s", err.message);
}

static void settings(mdl_hf_compare_settings *s) {
  mdl_hf_compare_default_settings(s);
  s->iterations = ITERATIONS;
}

Test(hf_compare, cg_reaches_the_minimum_within_n_steps) {
  double eig[N];
  for (int i = 0; i < N; i++)
    eig[i] = pow(100, (double)i / (N - 1)); /* distinct, in [1, 100] */
  const mdl_dtype types[] = {MDL_F64, MDL_F32};
  for (int t = 0; t < 2; t++) {
    quadratic_net net;
    make_net(&net, eig, types[t]);
    mdl_hf hf;
    make_hf(&hf, &net, 1);
    mdl_hf_compare_settings s;
    settings(&s);
    curves c;
    compare(&hf, 0.5, &s, &c);
    double best = minimum(&net, 0.5);
    /* In float32 the products themselves carry rounding of 1e-7. */
    double tolerance = types[t] == MDL_F64 ? 1e-10 : 1e-5;
    cr_assert_eq(c.cg[0], 0);
    cr_assert_float_eq(c.cg[N], best, tolerance * fabs(best), "type %d",
                       types[t]);
    cr_assert_float_eq(c.pcg[N], best, tolerance * fabs(best), "type %d",
                       types[t]);
    for (int i = 1; i <= ITERATIONS; i++) {
      cr_assert_geq(c.cg[i], best - tolerance * fabs(best));
      cr_assert_leq(c.cg[i], c.cg[i - 1] + tolerance * fabs(best));
    }
    cr_assert_leq(c.result.cg_steps, ITERATIONS);
    mdl_hf_free(&hf);
  }
}

/* NAG on q straight from the equations, with A explicit:
 * v ← μv − ε(g + A(p + μv)), p ← p + v. */
static void reference_nag(const quadratic_net *net, double lambda, double eps,
                          const double *mu, double *values) {
  double p[N] = {0}, v[N] = {0}, ahead[N], a_ahead[N], ap[N];
  values[0] = 0;
  for (int t = 0; t < ITERATIONS; t++) {
    for (int i = 0; i < N; i++)
      ahead[i] = p[i] + mu[t] * v[i];
    dense_matvec(net->g, ahead, a_ahead, N, N);
    for (int i = 0; i < N; i++) {
      double grad = net->grad[i] + a_ahead[i] + lambda * ahead[i];
      v[i] = mu[t] * v[i] - eps * grad;
      p[i] += v[i];
    }
    dense_matvec(net->g, p, ap, N, N);
    double q = 0;
    for (int i = 0; i < N; i++)
      q += net->grad[i] * p[i] + 0.5 * p[i] * (ap[i] + lambda * p[i]);
    values[t + 1] = q;
  }
}

Test(hf_compare, nag_follows_its_equation_with_a_constant_or_scheduled_mu) {
  double eig[N];
  for (int i = 0; i < N; i++)
    eig[i] = 1 + 9.0 * i / (N - 1);
  quadratic_net net;
  make_net(&net, eig, MDL_F64);
  mdl_hf hf;
  make_hf(&hf, &net, 0);
  mdl_hf_compare_settings s;
  settings(&s);
  s.largest_eigenvalue = 12; /* given, not estimated: ε = 1/12 */
  curves c;
  double expected[ITERATIONS + 1], mu[ITERATIONS];

  for (int i = 0; i < ITERATIONS; i++)
    mu[i] = 0.9;
  s.mu = 0.9;
  compare(&hf, 0.5, &s, &c);
  cr_assert_float_eq(c.result.nag_rate, 1.0 / 12, 1e-15);
  reference_nag(&net, 0.5, 1.0 / 12, mu, expected);
  for (int i = 0; i <= ITERATIONS; i++)
    cr_assert_float_eq(c.nag[i], expected[i], 1e-10 * fabs(expected[i]) + 1e-14,
                       "iteration %d", i);

  for (int i = 0; i < ITERATIONS; i++)
    mu[i] = fmin(0.99, 1 - 1.0 / (i + 2)); /* a rising schedule */
  s.mu_schedule = mu;
  compare(&hf, 0.5, &s, &c);
  reference_nag(&net, 0.5, 1.0 / 12, mu, expected);
  for (int i = 0; i <= ITERATIONS; i++)
    cr_assert_float_eq(c.nag[i], expected[i], 1e-10 * fabs(expected[i]) + 1e-14,
                       "iteration %d", i);
  /* Without preconditioning settings, no preconditioned curve. */
  cr_assert_eq(c.result.cg_preconditioned_steps, 0);
  mdl_hf_free(&hf);
}

Test(hf_compare, nag_is_slower_than_cg_on_a_clustered_spectrum) {
  /* Three tight clusters around 1, 10 and 100: CG needs a few steps per
   * cluster, NAG with ε = 1/L still crawls along the low one. */
  double eig[N];
  const double centres[] = {1, 10, 100};
  for (int i = 0; i < N; i++)
    eig[i] = centres[i % 3] * (1 + 1e-4 * i);
  quadratic_net net;
  make_net(&net, eig, MDL_F64);
  mdl_hf hf;
  make_hf(&hf, &net, 1);
  mdl_hf_compare_settings s;
  settings(&s);
  curves c;
  compare(&hf, 0, &s, &c);
  double best = minimum(&net, 0);

  double nag_gap = c.nag[ITERATIONS] - best, cg_gap = c.cg[10] - best;
  cr_assert_lt(c.nag[ITERATIONS], 0.5 * best, "NAG has decreased q");
  cr_assert_lt(cg_gap, 1e-8 * fabs(best), "CG is done after 10 steps");
  cr_assert_gt(nag_gap, 1e-3 * fabs(best),
               "NAG after %d iterations is still %g above the minimum",
               ITERATIONS, nag_gap);
  for (int i = 1; i <= ITERATIONS; i++)
    cr_assert_leq(c.cg[i] - best, c.nag[i] - best + 1e-12 * fabs(best),
                  "iteration %d", i);

  /* L from the power iteration: from below, within a cluster's width. */
  double top = 100 * (1 + 1e-4 * (N - 1));
  cr_assert_leq(c.result.largest_eigenvalue, top * (1 + 1e-12));
  cr_assert_geq(c.result.largest_eigenvalue, 100 * (1 - 1e-6));
  cr_assert_float_eq(c.result.nag_rate, 1 / c.result.largest_eigenvalue, 1e-15);
  mdl_hf_free(&hf);
}

Test(hf_compare, each_iteration_is_one_product) {
  double eig[N];
  for (int i = 0; i < N; i++)
    eig[i] = 1 + i;
  quadratic_net net;
  make_net(&net, eig, MDL_F64);
  mdl_hf hf;
  make_hf(&hf, &net, 1);
  mdl_hf_compare_settings s;
  settings(&s);
  s.iterations = 20; /* fewer than n: CG does not converge early */
  s.power_iterations = 7;
  curves c;
  compare(&hf, 0.1, &s, &c);
  cr_assert_eq(c.result.cg_steps, 20);
  cr_assert_eq(c.result.cg_preconditioned_steps, 20);
  cr_assert_eq(c.result.gv_products, 20 + 20 + 7 + 20);
  cr_assert_eq(net.products, c.result.gv_products);
  cr_assert_eq(hf.lambda, 45, "the experiment leaves the driver's λ");

  /* The preconditioned curve is CG with M = (diag F + λ + wc)^0.75. */
  double a[N * N], b[N], m[N];
  memcpy(a, net.g, sizeof a);
  for (int i = 0; i < N; i++) {
    a[i * N + i] += 0.1;
    b[i] = -net.grad[i];
    m[i] = pow(net.fisher[i] + 0.1, 0.75);
  }
  dense_operator op = {a, N, 0};
  mdl_cg_operator apply = {dense_apply, &op};
  mdl_cg cg;
  mdl_cg_init(&cg, N, 20, 0);
  mdl_cg_limits limits = {20, 0, 0, 0};
  mdl_cg_solve(&cg, &apply, b, NULL, m, &limits);
  int differ = 0;
  for (int i = 0; i <= 20; i++) {
    cr_assert_float_eq(c.pcg[i], cg.values[i], 1e-12 * fabs(cg.values[i]),
                       "step %d", i);
    differ |= fabs(c.pcg[i] - c.cg[i]) > 1e-6 * fabs(c.cg[i]);
  }
  cr_assert(differ, "preconditioning changed nothing");
  mdl_cg_free(&cg);
  mdl_hf_free(&hf);
}

Test(hf_compare, bad_settings_are_refused) {
  double eig[N];
  for (int i = 0; i < N; i++)
    eig[i] = 1 + i;
  quadratic_net net;
  make_net(&net, eig, MDL_F64);
  mdl_hf hf;
  make_hf(&hf, &net, 0);
  mdl_hf_compare_settings s;
  curves c = {0};
  c.result.cg = c.cg;
  c.result.nag = c.nag;
  double theta[N] = {0};
  mdl_error err;
  settings(&s);
  s.mu = 1;
  cr_assert_eq(mdl_hf_compare_cg_nag(&hf, theta, 0.1, &s, &c.result, &err), -1);
  cr_assert(strstr(err.message, "mu"), "%s", err.message);
  settings(&s);
  s.iterations = 0;
  cr_assert_eq(mdl_hf_compare_cg_nag(&hf, theta, 0.1, &s, &c.result, &err), -1);
  settings(&s);
  cr_assert_eq(mdl_hf_compare_cg_nag(&hf, theta, -1, &s, &c.result, &err), -1);
  mdl_hf_free(&hf);
}
