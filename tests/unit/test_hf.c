/* test_hf.c — the Hessian-free driver: Martens' λ rule, backtracking walk
 * and line search on scripted values, then whole updates on nets whose
 * Gauss-Newton matrix the test forms explicitly — linear least squares
 * (G = JᵀJ exactly) and a tiny two-layer net (G = Jᵀ H_L J) — in float32
 * and float64. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dense.h"
#include "mdl/hf.h"

/* ---- The λ rule --------------------------------------------------------- */

Test(hf_rules, lambda_rises_for_poor_rho_and_nan) {
  cr_assert_eq(mdl_hf_next_lambda(45, 0.2), 67.5);
  cr_assert_eq(mdl_hf_next_lambda(45, 0.24999999), 67.5);
  cr_assert_eq(mdl_hf_next_lambda(45, -3), 67.5);
  cr_assert_eq(mdl_hf_next_lambda(45, -INFINITY), 67.5);
  cr_assert_eq(mdl_hf_next_lambda(45, NAN), 67.5);
}

Test(hf_rules, lambda_falls_for_good_rho) {
  cr_assert_float_eq(mdl_hf_next_lambda(45, 0.75000001), 30, 1e-12);
  cr_assert_float_eq(mdl_hf_next_lambda(45, 1), 30, 1e-12);
  cr_assert_float_eq(mdl_hf_next_lambda(45, 7), 30, 1e-12);
  cr_assert_float_eq(mdl_hf_next_lambda(45, INFINITY), 30, 1e-12);
}

Test(hf_rules, lambda_stays_in_between_and_at_the_thresholds) {
  cr_assert_eq(mdl_hf_next_lambda(45, 0.25), 45);
  cr_assert_eq(mdl_hf_next_lambda(45, 0.5), 45);
  cr_assert_eq(mdl_hf_next_lambda(45, 0.75), 45);
  cr_assert_eq(mdl_hf_next_lambda(0, 0.1), 0, "λ = 0 stays 0");
}

Test(hf_rules, defaults_are_martens) {
  mdl_hf_settings s;
  mdl_hf_default_settings(&s);
  cr_assert_eq(s.max_cg_steps, 250);
  cr_assert_eq(s.min_cg_steps, 1);
  cr_assert_eq(s.cg_tolerance, 5e-4);
  cr_assert_eq(s.initial_lambda, 45);
  cr_assert_eq(s.decay, 0.95);
  cr_assert_eq(s.weight_cost, 2e-5);
  cr_assert_eq(s.structural_damping, 0);
  cr_assert_eq(s.precondition, 1);
  cr_assert_eq(s.precondition_exponent, 0.75);
  cr_assert_eq(s.backtrack, 1);
  cr_assert_eq(s.line_search, 1);
}

/* ---- Backtracking over scripted objective values ------------------------ */

typedef struct {
  const double *values;
  int asked[32]; /* how often each candidate's objective was asked */
} script;

static double scripted(int k, void *ctx) {
  script *s = ctx;
  s->asked[k]++;
  return s->values[k];
}

static int walk(const double *values, int n, script *s, double *chosen) {
  memset(s, 0, sizeof *s);
  s->values = values;
  return mdl_hf_walk_back(n, scripted, s, chosen);
}

Test(hf_rules, walk_back_stays_on_the_last_when_the_one_before_is_worse) {
  const double f[] = {5, 4, 3, 2, 1};
  script s;
  double chosen;
  cr_assert_eq(walk(f, 5, &s, &chosen), 4);
  cr_assert_eq(chosen, 1);
  cr_assert_eq(s.asked[4], 1);
  cr_assert_eq(s.asked[3], 1);
  cr_assert_eq(s.asked[2], 0, "the walk asks no further than it must");
}

Test(hf_rules, walk_back_goes_to_the_first_when_earlier_keeps_improving) {
  const double f[] = {1, 2, 3, 4, 5};
  script s;
  double chosen;
  cr_assert_eq(walk(f, 5, &s, &chosen), 0); /* the global best */
  cr_assert_eq(chosen, 1);
  for (int k = 0; k < 5; k++)
    cr_assert_eq(s.asked[k], 1, "candidate %d", k);
}

Test(hf_rules, walk_back_stops_at_a_local_best_not_the_global_one) {
  /* From 4 (f = 4) back to 2 (f = 2); 1 is worse (3), so 2 — although 0
   * (f = 0) is the global best. */
  const double f[] = {0, 3, 2, 4};
  script s;
  double chosen;
  cr_assert_eq(walk(f, 4, &s, &chosen), 2);
  cr_assert_eq(chosen, 2);
  cr_assert_eq(s.asked[0], 0);
  /* And where the local and global best agree. */
  const double g[] = {4, 2, 3, 1, 5};
  cr_assert_eq(walk(g, 5, &s, &chosen), 3);
}

Test(hf_rules, walk_back_moves_on_ties_and_treats_nan_as_worst) {
  const double ties[] = {1, 1, 1};
  script s;
  double chosen;
  cr_assert_eq(walk(ties, 3, &s, &chosen), 0);
  const double last_nan[] = {1, 2, NAN};
  cr_assert_eq(walk(last_nan, 3, &s, &chosen), 0);
  cr_assert_eq(chosen, 1);
  const double first_nan[] = {NAN, 2, 3};
  cr_assert_eq(walk(first_nan, 3, &s, &chosen), 1);
  const double one[] = {7};
  cr_assert_eq(walk(one, 1, &s, &chosen), 0);
  cr_assert_eq(chosen, 7);
  cr_assert_eq(s.asked[0], 1);
}

/* ---- The line search on a scripted line ---------------------------------- */

typedef struct {
  double f0, slope, curvature;
  int calls;
} line;

/* f(rate) = f0 + rate·slope + ½ rate²·curvature */
static double on_line(double rate, void *ctx) {
  line *l = ctx;
  l->calls++;
  return l->f0 + rate * l->slope + 0.5 * rate * rate * l->curvature;
}

static double flat_above(double rate, void *ctx) {
  line *l = ctx;
  (void)rate;
  l->calls++;
  return l->f0 + 1;
}

static double nan_until_small(double rate, void *ctx) {
  line *l = ctx;
  l->calls++;
  return rate > 0.5 ? NAN : l->f0 + rate * l->slope;
}

Test(hf_rules, line_search_takes_the_first_armijo_rate) {
  /* Armijo with c = 0.01 on this line accepts rate <= 1.98·|slope|/curv
   * = 0.495: tried 1, 0.8, 0.64, 0.512, then 0.4096 is accepted. */
  line l = {10, -1, 4, 0};
  int tries;
  double f;
  double rate = mdl_hf_line_search(1, 10, -1, NAN, on_line, &l, &tries, &f);
  cr_assert_float_eq(rate, 0.4096, 1e-15);
  cr_assert_eq(tries, 5);
  cr_assert_eq(l.calls, 5);
  cr_assert_float_eq(f, on_line(0.4096, &l), 1e-15);

  /* A known f(start) is not asked again. */
  l.calls = 0;
  rate = mdl_hf_line_search(1, 10, -1, on_line(1, &(line){10, -1, 4, 0}),
                            on_line, &l, &tries, &f);
  cr_assert_eq(tries, 5);
  cr_assert_eq(l.calls, 4);

  /* Accepted at once when the full rate decreases f enough. */
  line easy = {10, -1, 1, 0};
  rate = mdl_hf_line_search(1, 10, -1, NAN, on_line, &easy, &tries, &f);
  cr_assert_eq(rate, 1);
  cr_assert_eq(tries, 1);

  /* It starts from the rate it is given. */
  rate = mdl_hf_line_search(0.5, 10, -1, NAN, on_line, &l, &tries, &f);
  cr_assert_float_eq(rate, 0.4, 1e-15);
  cr_assert_eq(tries, 2);
}

Test(hf_rules, line_search_rejects_the_step_after_60_failures) {
  line l = {10, -1, 0, 0};
  int tries;
  double f;
  double rate = mdl_hf_line_search(1, 10, -1, NAN, flat_above, &l, &tries, &f);
  cr_assert_eq(rate, 0);
  cr_assert_eq(tries, 60);
  cr_assert_eq(l.calls, 60);
  cr_assert_eq(f, 10, "a rejected step leaves f at f0");
}

Test(hf_rules, line_search_shrinks_past_nan) {
  line l = {10, -1, 0, 0};
  int tries;
  double f;
  double rate =
      mdl_hf_line_search(1, 10, -1, NAN, nan_until_small, &l, &tries, &f);
  cr_assert_float_eq(rate, 0.4096, 1e-15, "NaN at 1, 0.8, 0.64, 0.512");
  cr_assert_eq(tries, 5);
}

/* ---- A linear least-squares net ----------------------------------------- */

/* loss(θ) = mean over the batch's cases c of ½ (J_c θ − t_c)²
 *           + κ ‖θ − θ_ref‖⁴ (κ on the gradient batch only, unless
 *           quartic_everywhere),
 * so G = (1/|C|) J_Cᵀ J_C exactly on the curvature batch's rows C.
 * Vectors are in the net's type; the arithmetic is double. */
typedef struct {
  mdl_dtype type;
  int n, m;                /* parameters, cases */
  const double *j;         /* m × n */
  const double *t;         /* m targets */
  int c_first, c_count;    /* the curvature batch: rows [c_first, +c_count) */
  const double *s;         /* n × n structural-damping matrix, or NULL */
  double quartic;          /* κ */
  int quartic_everywhere;  /* κ on the curvature batch's loss too */
  const double *reference; /* θ_ref */
  int poison;              /* gradient returns NaN */
  /* What the driver asked. */
  long gradients, losses, prepares, products, plain_products, fishers;
  double structural_weight; /* the last nonzero weight seen */
  int prepared;             /* prepare_curvature since the last gradient */
} ls_net;

static double ls_quartic(const ls_net *net, const void *theta, double *grad) {
  if (net->quartic == 0)
    return 0;
  double d2 = 0;
  for (int i = 0; i < net->n; i++) {
    double d = mdl_get(theta, net->type, i) - net->reference[i];
    d2 += d * d;
  }
  if (grad)
    for (int i = 0; i < net->n; i++)
      grad[i] += 4 * net->quartic * d2 *
                 (mdl_get(theta, net->type, i) - net->reference[i]);
  return net->quartic * d2 * d2;
}

static double ls_residual(const ls_net *net, const void *theta, int c) {
  double z = 0;
  for (int i = 0; i < net->n; i++)
    z += net->j[c * net->n + i] * mdl_get(theta, net->type, i);
  return z - net->t[c];
}

static double ls_loss(const void *theta, mdl_hf_batch batch, void *ctx) {
  ls_net *net = ctx;
  net->losses++;
  int first = batch == MDL_HF_CURVATURE_BATCH ? net->c_first : 0;
  int count = batch == MDL_HF_CURVATURE_BATCH ? net->c_count : net->m;
  double sum = 0;
  for (int c = first; c < first + count; c++) {
    double r = ls_residual(net, theta, c);
    sum += 0.5 * r * r;
  }
  if (batch == MDL_HF_CURVATURE_BATCH && !net->quartic_everywhere)
    return sum / count;
  return sum / count + ls_quartic(net, theta, NULL);
}

static double ls_gradient(const void *theta, void *grad, void *ctx) {
  ls_net *net = ctx;
  net->gradients++;
  net->prepared = 0;
  double *g = calloc(net->n, sizeof(double));
  double sum = 0;
  for (int c = 0; c < net->m; c++) {
    double r = ls_residual(net, theta, c);
    sum += 0.5 * r * r;
    for (int i = 0; i < net->n; i++)
      g[i] += r * net->j[c * net->n + i] / net->m;
  }
  double loss = sum / net->m + ls_quartic(net, theta, g);
  for (int i = 0; i < net->n; i++)
    mdl_set(grad, net->type, i, net->poison ? NAN : g[i]);
  free(g);
  return loss;
}

static void ls_prepare(const void *theta, void *ctx) {
  ls_net *net = ctx;
  (void)theta;
  net->prepares++;
  net->prepared = 1;
}

static void ls_gauss_newton(const void *v, double w, void *out, void *ctx) {
  ls_net *net = ctx;
  cr_assert(net->prepared, "a product before prepare_curvature");
  net->products++;
  if (w == 0)
    net->plain_products++;
  else
    net->structural_weight = w;
  double *gv = calloc(net->n, sizeof(double));
  for (int c = net->c_first; c < net->c_first + net->c_count; c++) {
    double jv = 0;
    for (int i = 0; i < net->n; i++)
      jv += net->j[c * net->n + i] * mdl_get(v, net->type, i);
    for (int i = 0; i < net->n; i++)
      gv[i] += net->j[c * net->n + i] * jv / net->c_count;
  }
  if (net->s && w != 0)
    for (int i = 0; i < net->n; i++)
      for (int k = 0; k < net->n; k++)
        gv[i] += w * net->s[i * net->n + k] * mdl_get(v, net->type, k);
  for (int i = 0; i < net->n; i++)
    mdl_set(out, net->type, i, gv[i]);
  free(gv);
}

static void ls_fisher(const void *theta, void *diag, void *ctx) {
  ls_net *net = ctx;
  net->fishers++;
  for (int i = 0; i < net->n; i++) {
    double sum = 0;
    for (int c = 0; c < net->m; c++) {
      double gi = ls_residual(net, theta, c) * net->j[c * net->n + i];
      sum += gi * gi;
    }
    mdl_set(diag, net->type, i, sum / net->m);
  }
}

static mdl_hf_net ls_callbacks(ls_net *net) {
  mdl_hf_net callbacks = {net->type,       net->n,      net,
                          ls_loss,         ls_gradient, ls_prepare,
                          ls_gauss_newton, ls_fisher};
  return callbacks;
}

/* The explicit G (n × n) of the curvature batch. */
static void ls_curvature_matrix(const ls_net *net, double *g) {
  int n = net->n;
  memset(g, 0, sizeof(double) * n * n);
  for (int c = net->c_first; c < net->c_first + net->c_count; c++)
    for (int i = 0; i < n; i++)
      for (int k = 0; k < n; k++)
        g[i * n + k] += net->j[c * n + i] * net->j[c * n + k] / net->c_count;
}

/* A problem of n parameters and m cases with columns of J scaled over two
 * orders of magnitude, so that CG has some work to do. */
typedef struct {
  int n, m;
  double *j, *t, *s, *theta0;
} ls_problem;

static ls_problem make_problem(int n, int m, uint64_t seed) {
  ls_problem p = {n,
                  m,
                  malloc(sizeof(double) * m * n),
                  malloc(sizeof(double) * m),
                  malloc(sizeof(double) * n * n),
                  malloc(sizeof(double) * n)};
  dense_gaussian(p.j, m * n, seed);
  for (int c = 0; c < m; c++)
    for (int i = 0; i < n; i++)
      p.j[c * n + i] *= pow(10, -1 + 2.0 * i / (n - 1));
  dense_gaussian(p.t, m, seed + 1);
  double *eig = malloc(sizeof(double) * n);
  for (int i = 0; i < n; i++)
    eig[i] = 0.5 + i;
  dense_with_spectrum(p.s, eig, n, seed + 2);
  free(eig);
  dense_gaussian(p.theta0, n, seed + 3);
  return p;
}

static void free_problem(ls_problem *p) {
  free(p->j);
  free(p->t);
  free(p->s);
  free(p->theta0);
}

static ls_net make_net(const ls_problem *p, mdl_dtype type) {
  ls_net net = {0};
  net.type = type;
  net.n = p->n;
  net.m = p->m;
  net.j = p->j;
  net.t = p->t;
  net.c_first = 0;
  net.c_count = p->m;
  net.s = p->s;
  net.reference = p->theta0;
  return net;
}

/* θ in the net's type, from doubles. */
static void *typed_vector(mdl_dtype type, const double *x, int n) {
  void *v = malloc(mdl_dtype_size(type) * n);
  for (int i = 0; i < n; i++)
    mdl_set(v, type, i, x[i]);
  return v;
}

/* The least-squares minimizer (JᵀJ)⁻¹ Jᵀt. */
static void ls_minimizer(const ls_problem *p, double *theta) {
  double *jtj = calloc(p->n * p->n, sizeof(double));
  double *jtt = calloc(p->n, sizeof(double));
  for (int c = 0; c < p->m; c++)
    for (int i = 0; i < p->n; i++) {
      jtt[i] += p->j[c * p->n + i] * p->t[c];
      for (int k = 0; k < p->n; k++)
        jtj[i * p->n + k] += p->j[c * p->n + i] * p->j[c * p->n + k];
    }
  dense_solve(jtj, jtt, theta, p->n);
  free(jtj);
  free(jtt);
}

static double max_abs_difference(const double *a, const double *b, int n) {
  double worst = 0;
  for (int i = 0; i < n; i++)
    worst = fmax(worst, fabs(a[i] - b[i]));
  return worst;
}

static double squared_norm(const double *a, int n) {
  double sum = 0;
  for (int i = 0; i < n; i++)
    sum += a[i] * a[i];
  return sum;
}

static double max_abs(const double *a, int n) {
  double worst = 0;
  for (int i = 0; i < n; i++)
    worst = fmax(worst, fabs(a[i]));
  return worst;
}

/* ---- Whole updates on least squares ------------------------------------ */

enum { P = 8, M = 40 };

/* tolerance: relative to the largest parameter; in float32 the products
 * carry rounding of 6e-8 times cond(JᵀJ) ≈ 1e4. */
static void one_undamped_update_reaches_the_minimizer(mdl_dtype type,
                                                      int precondition,
                                                      double tolerance) {
  ls_problem prob = make_problem(P, M, 101);
  ls_net net = make_net(&prob, type);
  mdl_hf_net callbacks = ls_callbacks(&net);
  mdl_hf_settings s;
  mdl_hf_default_settings(&s);
  s.initial_lambda = 0;
  s.weight_cost = 0;
  s.max_cg_steps = 3 * P;
  s.precondition = precondition;
  mdl_hf hf;
  mdl_error err;
  cr_assert_eq(mdl_hf_init(&hf, &callbacks, &s, &err), 0, "%s", err.message);

  void *theta = typed_vector(type, prob.theta0, P);
  mdl_hf_report report;
  cr_assert_eq(mdl_hf_update(&hf, theta, 1, 0.95, &report, &err), 0, "%s",
               err.message);
  double best[P], now[P];
  ls_minimizer(&prob, best);
  for (int i = 0; i < P; i++)
    now[i] = mdl_get(theta, type, i);
  cr_assert_lt(max_abs_difference(now, best, P), tolerance * max_abs(best, P),
               "type %d, preconditioned %d: off by %g of %g", type,
               precondition, max_abs_difference(now, best, P),
               max_abs(best, P));
  cr_assert_eq(report.rate, 1, "the full step passes Armijo on a quadratic");
  /* On an exact quadratic the last iterate is the best — in double; in
   * float32 the last few agree to rounding and the walk may step back. */
  if (type == MDL_F64)
    cr_assert_eq(report.chosen_step, report.cg_steps);
  cr_assert_float_eq(report.rho, 1, 10 * tolerance);
  cr_assert_float_eq(report.objective_after, ls_loss(theta, 0, &net), 1e-12);
  mdl_hf_free(&hf);
  free(theta);
  free_problem(&prob);
}

Test(hf, one_undamped_update_reaches_the_least_squares_minimizer) {
  one_undamped_update_reaches_the_minimizer(MDL_F64, 0, 1e-9);
  one_undamped_update_reaches_the_minimizer(MDL_F64, 1, 1e-9);
  one_undamped_update_reaches_the_minimizer(MDL_F32, 0, 2e-3);
  one_undamped_update_reaches_the_minimizer(MDL_F32, 1, 2e-3);
}

Test(hf, the_operator_cg_sees_has_weight_decay_and_structural_damping) {
  ls_problem prob = make_problem(P, M, 201);
  ls_net net = make_net(&prob, MDL_F64);
  net.c_first = 10;
  net.c_count = 20;
  mdl_hf_net callbacks = ls_callbacks(&net);
  mdl_hf_settings s;
  mdl_hf_default_settings(&s);
  s.weight_cost = 0.01;
  s.structural_damping = 0.5;
  mdl_hf hf;
  mdl_error err;
  cr_assert_eq(mdl_hf_init(&hf, &callbacks, &s, &err), 0, "%s", err.message);
  cr_assert_eq(mdl_hf_prepare(&hf, prob.theta0, &err), 0);

  /* g = ∇loss + wc θ, b = −g, and the objective has ½ wc ‖θ‖². */
  double norm2 = 0;
  for (int i = 0; i < P; i++) {
    double g = 0;
    for (int c = 0; c < M; c++)
      g += ls_residual(&net, prob.theta0, c) * prob.j[c * P + i] / M;
    g += 0.01 * prob.theta0[i];
    cr_assert_float_eq(hf.gradient[i], g, 1e-12, "gradient %d", i);
    cr_assert_eq(hf.b[i], -hf.gradient[i]);
    norm2 += prob.theta0[i] * prob.theta0[i];
  }
  cr_assert_float_eq(
      hf.objective,
      ls_loss(prob.theta0, MDL_HF_GRADIENT_BATCH, &net) + 0.005 * norm2, 1e-12);

  /* Column by column: (G + wc I + λ I + μ_s λ S) at λ = 3, and G + wc I
   * (structural damping off with λ) at λ = 0. */
  double g[P * P];
  ls_curvature_matrix(&net, g);
  const double lambdas[] = {3, 0};
  for (int l = 0; l < 2; l++) {
    double lambda = lambdas[l];
    for (int k = 0; k < P; k++) {
      double e[P] = {0}, column[P];
      e[k] = 1;
      mdl_hf_curvature_product(&hf, e, lambda, column);
      for (int i = 0; i < P; i++) {
        double expected = g[i * P + k] + 0.5 * lambda * prob.s[i * P + k] +
                          (i == k ? 0.01 + lambda : 0);
        cr_assert_float_eq(column[i], expected, 1e-12, "λ %g, (%d, %d)", lambda,
                           i, k);
      }
    }
  }
  cr_assert_eq(net.structural_weight, 1.5, "w = μ_s λ");
  cr_assert_eq(net.plain_products, P, "w = 0 when λ = 0");
  mdl_hf_free(&hf);
  free_problem(&prob);
}

Test(hf, an_update_solves_the_damped_system) {
  /* Enough CG steps, no backtracking, no line search: θ moves by ε·p with
   * p = −(G + (λ + wc) I + μ_s λ S)⁻¹ g, and p is the next hot start. */
  ls_problem prob = make_problem(P, M, 301);
  ls_net net = make_net(&prob, MDL_F64);
  net.c_first = 5;
  net.c_count = 25;
  mdl_hf_net callbacks = ls_callbacks(&net);
  mdl_hf_settings s;
  mdl_hf_default_settings(&s);
  s.initial_lambda = 2;
  s.weight_cost = 0.1;
  s.structural_damping = 0.3;
  s.max_cg_steps = 3 * P;
  s.precondition = 0;
  s.backtrack = 0;
  s.line_search = 0;
  mdl_hf hf;
  mdl_error err;
  cr_assert_eq(mdl_hf_init(&hf, &callbacks, &s, &err), 0, "%s", err.message);
  double theta[P];
  memcpy(theta, prob.theta0, sizeof theta);
  mdl_hf_report report;
  cr_assert_eq(mdl_hf_update(&hf, theta, 0.5, 0.95, &report, &err), 0);

  double a[P * P], g[P], minus_g[P], p[P];
  ls_curvature_matrix(&net, a);
  for (int i = 0; i < P; i++)
    for (int k = 0; k < P; k++)
      a[i * P + k] += 0.6 * prob.s[i * P + k] + (i == k ? 2.1 : 0);
  for (int i = 0; i < P; i++) {
    g[i] = 0.1 * prob.theta0[i];
    for (int c = 0; c < M; c++)
      g[i] += ls_residual(&net, prob.theta0, c) * prob.j[c * P + i] / M;
    minus_g[i] = -g[i];
  }
  dense_solve(a, minus_g, p, P);
  for (int i = 0; i < P; i++) {
    cr_assert_float_eq(theta[i], prob.theta0[i] + 0.5 * p[i], 1e-10, "%d", i);
    cr_assert_float_eq(hf.previous[i], p[i], 1e-10, "%d", i);
  }
  cr_assert_eq(report.rate, 0.5);
  cr_assert_eq(report.cg_stop, MDL_CG_CONVERGED);
  cr_assert_eq(net.structural_weight, 0.3 * 2, "w = μ_s λ during CG");
  /* Every product but ρ's denominator carries the structural weight. */
  cr_assert_eq(net.products - net.plain_products, report.cg_steps);
  cr_assert_eq(net.plain_products, 1);
  mdl_hf_free(&hf);
  free_problem(&prob);
}

Test(hf, rho_uses_the_undamped_quadratic_on_the_curvature_batch) {
  ls_problem prob = make_problem(P, M, 401);
  mdl_hf_settings s;
  mdl_hf_default_settings(&s);
  s.initial_lambda = 10; /* heavy damping: damped and undamped differ */
  s.weight_cost = 1e-3;
  s.max_cg_steps = 3 * P;
  s.backtrack = 0;
  s.line_search = 0;
  s.precondition = 0;
  for (int half = 0; half < 2; half++) {
    ls_net net = make_net(&prob, MDL_F64);
    if (half) { /* a curvature batch that differs from the gradient batch */
      net.c_first = 0;
      net.c_count = M / 2;
    }
    mdl_hf_net callbacks = ls_callbacks(&net);
    mdl_hf hf;
    mdl_error err;
    cr_assert_eq(mdl_hf_init(&hf, &callbacks, &s, &err), 0);
    double theta[P], p[P], g[P];
    memcpy(theta, prob.theta0, sizeof theta);
    mdl_hf_report report;
    cr_assert_eq(mdl_hf_update(&hf, theta, 1, 0.95, &report, &err), 0);
    for (int i = 0; i < P; i++) {
      p[i] = theta[i] - prob.theta0[i];
      g[i] = 1e-3 * prob.theta0[i];
      for (int c = 0; c < M; c++)
        g[i] += ls_residual(&net, prob.theta0, c) * prob.j[c * P + i] / M;
    }
    /* The model: gᵀp + ½ pᵀ(G + wc I)p, g on the gradient batch. */
    double gmat[P * P], gp[P];
    ls_curvature_matrix(&net, gmat);
    dense_matvec(gmat, p, gp, P, P);
    double model = 0, pp = 0;
    for (int i = 0; i < P; i++) {
      model += g[i] * p[i] + 0.5 * p[i] * (gp[i] + 1e-3 * p[i]);
      pp += p[i] * p[i];
    }
    cr_assert_float_eq(report.model_decrease, model, 1e-12 * fabs(model));
    /* The actual change on the curvature batch, weight decay included. */
    double n0 = 0, n1 = 0;
    for (int i = 0; i < P; i++) {
      n0 += prob.theta0[i] * prob.theta0[i];
      n1 += theta[i] * theta[i];
    }
    double change = ls_loss(theta, MDL_HF_CURVATURE_BATCH, &net) -
                    ls_loss(prob.theta0, MDL_HF_CURVATURE_BATCH, &net) +
                    0.5e-3 * (n1 - n0);
    double expected = change > 0 ? -INFINITY : change / model;
    if (!half) /* the model is exact for one batch */
      cr_assert_float_eq(report.rho, 1, 1e-9);
    else
      cr_assert_float_eq(report.rho, expected, 1e-9);
    /* The damped model would give a clearly different ρ. */
    double damped = change / (model + 0.5 * 10 * pp);
    cr_assert_gt(fabs(damped - report.rho), 0.1);
    cr_assert_eq(report.lambda_before, 10);
    cr_assert_eq(report.lambda_after, mdl_hf_next_lambda(10, report.rho));
    cr_assert_eq(hf.lambda, report.lambda_after);
    mdl_hf_free(&hf);
  }
  free_problem(&prob);
}

Test(hf, rho_is_minus_infinity_when_the_objective_goes_up) {
  /* A steep quartic penalty the curvature does not see: the full CG step
   * overshoots and, without backtracking, makes f worse. */
  ls_problem prob = make_problem(P, M, 451);
  ls_net net = make_net(&prob, MDL_F64);
  net.quartic = 100;
  net.quartic_everywhere = 1;
  mdl_hf_net callbacks = ls_callbacks(&net);
  mdl_hf_settings s;
  mdl_hf_default_settings(&s);
  s.initial_lambda = 1e-3;
  s.max_cg_steps = 3 * P;
  s.backtrack = 0;
  s.line_search = 0;
  mdl_hf hf;
  mdl_error err;
  cr_assert_eq(mdl_hf_init(&hf, &callbacks, &s, &err), 0);
  double theta[P];
  memcpy(theta, prob.theta0, sizeof theta);
  mdl_hf_report report;
  cr_assert_eq(mdl_hf_update(&hf, theta, 1, 0.95, &report, &err), 0);
  cr_assert_lt(report.model_decrease, 0);
  cr_assert_eq(report.rho, -INFINITY);
  cr_assert_float_eq(report.lambda_after, 1.5e-3, 1e-18);
  /* and, with no line search to shorten it, the step that made f worse is
   * not taken */
  cr_assert_eq(report.rate, 0);
  cr_assert_eq(report.objective_after, report.objective_before);
  cr_assert_eq(memcmp(theta, prob.theta0, sizeof theta), 0);
  mdl_hf_free(&hf);
  free_problem(&prob);
}

Test(hf, hot_start_from_an_unchanged_quadratic_needs_no_steps) {
  ls_problem prob = make_problem(P, M, 501);
  ls_net net = make_net(&prob, MDL_F64);
  mdl_hf_net callbacks = ls_callbacks(&net);
  mdl_hf_settings s;
  mdl_hf_default_settings(&s);
  s.initial_lambda = 1;
  s.max_cg_steps = 3 * P;
  s.line_search = 0;
  mdl_hf hf;
  mdl_error err;
  cr_assert_eq(mdl_hf_init(&hf, &callbacks, &s, &err), 0);
  double theta[P];
  memcpy(theta, prob.theta0, sizeof theta);
  mdl_hf_report first, again, cold;
  /* Rate 0 leaves θ, and with λ put back the quadratic is the same. */
  cr_assert_eq(mdl_hf_update(&hf, theta, 0, 0.95, &first, &err), 0);
  cr_assert_gt(first.cg_steps, 3);
  cr_assert_eq(memcmp(theta, prob.theta0, sizeof theta), 0);
  hf.lambda = 1;
  cr_assert_eq(mdl_hf_update(&hf, theta, 0, 1, &again, &err), 0);
  cr_assert_eq(again.cg_steps, 0);
  cr_assert_eq(again.cg_stop, MDL_CG_CONVERGED);
  hf.lambda = 1;
  cr_assert_eq(mdl_hf_update(&hf, theta, 0, 0, &cold, &err), 0);
  cr_assert_eq(cold.cg_steps, first.cg_steps, "decay 0 is a cold start");
  mdl_hf_free(&hf);
  free_problem(&prob);
}

Test(hf, backtracking_picks_martens_iterate_and_hot_start_keeps_the_last) {
  /* A quartic penalty on the distance from θ_0 (zero gradient and
   * curvature there) makes long CG steps worse than short ones on the
   * gradient batch, so the walk back leaves the last iterate; the next hot
   * start must not. (The curvature batch has no penalty: judged there, the
   * last iterate would win.) */
  enum { BIG = 60, CASES = 200 };
  ls_problem prob = make_problem(BIG, CASES, 601);
  ls_net net = make_net(&prob, MDL_F64);
  net.quartic = 2;
  mdl_hf_net callbacks = ls_callbacks(&net);
  mdl_hf_settings s;
  mdl_hf_default_settings(&s);
  s.initial_lambda = 1e-3;
  s.weight_cost = 0;
  s.line_search = 0;
  mdl_hf hf;
  mdl_error err;
  cr_assert_eq(mdl_hf_init(&hf, &callbacks, &s, &err), 0);
  double theta[BIG];
  memcpy(theta, prob.theta0, sizeof theta);
  mdl_hf_report report;
  cr_assert_eq(mdl_hf_update(&hf, theta, 1, 0.95, &report, &err), 0);
  mdl_cg *cg = &hf.cg;
  cr_assert_gt(cg->n_iterates, 4);

  /* The walk back, done here on the test's own objective: from the last
   * kept iterate, back while the one before is no worse. */
  double f[64];
  for (int k = 0; k < cg->n_iterates; k++) {
    double point[BIG];
    for (int i = 0; i < BIG; i++)
      point[i] = prob.theta0[i] + cg->iterates[k][i];
    f[k] = ls_loss(point, MDL_HF_GRADIENT_BATCH, &net);
  }
  int expected = cg->n_iterates - 1;
  while (expected > 0 && f[expected - 1] <= f[expected])
    expected--;
  cr_assert_lt(expected, cg->n_iterates - 1, "the test needs a walk back");
  cr_assert_eq(report.chosen_step, cg->iterate_steps[expected]);
  cr_assert_lt(report.chosen_step, report.cg_steps);
  /* Without a line search the step is the chosen iterate, or none when
   * even that one makes the gradient batch's objective worse. */
  double rate = f[expected] <= report.objective_before ? 1 : 0;
  cr_assert_eq(report.rate, rate);
  for (int i = 0; i < BIG; i++)
    cr_assert_float_eq(theta[i] - prob.theta0[i],
                       rate * cg->iterates[expected][i], 1e-12);
  cr_assert_eq(memcmp(hf.previous, cg->x, sizeof theta), 0,
               "the hot start is the last iterate");
  cr_assert_gt(max_abs_difference(hf.previous, cg->iterates[expected], BIG),
               1e-3);
  cr_assert_float_eq(report.objective_after,
                     ls_loss(theta, MDL_HF_GRADIENT_BATCH, &net), 1e-12);

  /* A rate other than 1, then the line search: the objective reported is
   * the gradient batch's at the new θ each time. */
  cr_assert_eq(mdl_hf_update(&hf, theta, 0.5, 0.95, &report, &err), 0);
  cr_assert(report.rate == 0.5 ||
                (report.rate == 0 &&
                 report.objective_after == report.objective_before),
            "rate %g", report.rate);
  cr_assert_float_eq(report.objective_after,
                     ls_loss(theta, MDL_HF_GRADIENT_BATCH, &net), 1e-12);
  hf.settings.line_search = 1;
  hf.settings.backtrack = 0;
  cr_assert_eq(mdl_hf_update(&hf, theta, 1, 0.95, &report, &err), 0);
  cr_assert_lt(report.rate, 1, "the quartic makes the full step too long");
  cr_assert_float_eq(report.objective_after,
                     ls_loss(theta, MDL_HF_GRADIENT_BATCH, &net), 1e-12);
  mdl_hf_free(&hf);
  free_problem(&prob);
}

Test(hf, the_updates_cg_is_preconditioned_at_the_current_lambda) {
  /* Five steps, so that the iterate depends on the preconditioner: p must
   * be what CG on the explicit system with M = (F + λ + wc)^0.75 gives. */
  ls_problem prob = make_problem(P, M, 751);
  ls_net net = make_net(&prob, MDL_F64);
  mdl_hf_net callbacks = ls_callbacks(&net);
  mdl_hf_settings s;
  mdl_hf_default_settings(&s);
  s.initial_lambda = 2;
  s.weight_cost = 0.01;
  s.max_cg_steps = 5;
  s.backtrack = 0;
  s.line_search = 0;
  mdl_hf hf;
  mdl_error err;
  cr_assert_eq(mdl_hf_init(&hf, &callbacks, &s, &err), 0);
  double theta[P];
  memcpy(theta, prob.theta0, sizeof theta);
  mdl_hf_report report;
  cr_assert_eq(mdl_hf_update(&hf, theta, 1, 0, &report, &err), 0);
  cr_assert_eq(report.cg_steps, 5);

  double a[P * P], b[P], m[P];
  ls_curvature_matrix(&net, a);
  for (int i = 0; i < P; i++) {
    a[i * P + i] += 2.01;
    double g = 0.01 * prob.theta0[i], fisher = 0;
    for (int c = 0; c < M; c++) {
      double gi = ls_residual(&net, prob.theta0, c) * prob.j[c * P + i];
      g += gi / M;
      fisher += gi * gi / M;
    }
    b[i] = -g;
    m[i] = pow(fisher + 2.01, 0.75);
  }
  dense_operator op = {a, P, 0};
  mdl_cg_operator apply = {dense_apply, &op};
  mdl_cg cg;
  mdl_cg_init(&cg, P, 5, 0);
  mdl_cg_limits limits = {5, 1, 0, 0};
  mdl_cg_solve(&cg, &apply, b, NULL, m, &limits);
  for (int i = 0; i < P; i++)
    cr_assert_float_eq(theta[i] - prob.theta0[i], cg.x[i], 1e-10, "%d", i);
  mdl_cg_solve(&cg, &apply, b, NULL, NULL, &limits);
  cr_assert_gt(max_abs_difference(cg.x, hf.previous, P), 1e-6,
               "without M the iterate would differ");
  mdl_cg_free(&cg);
  mdl_hf_free(&hf);
  free_problem(&prob);
}

Test(hf, preconditioner_is_fisher_plus_damping_to_the_exponent) {
  ls_problem prob = make_problem(P, M, 701);
  ls_net net = make_net(&prob, MDL_F32);
  mdl_hf_net callbacks = ls_callbacks(&net);
  mdl_hf_settings s;
  mdl_hf_default_settings(&s);
  s.weight_cost = 0.01;
  const double exponents[] = {0.75, 0.5};
  for (int e = 0; e < 2; e++) {
    s.precondition_exponent = exponents[e];
    mdl_hf hf;
    mdl_error err;
    cr_assert_eq(mdl_hf_init(&hf, &callbacks, &s, &err), 0);
    void *theta = typed_vector(MDL_F32, prob.theta0, P);
    cr_assert_eq(mdl_hf_prepare(&hf, theta, &err), 0);
    const double *m = mdl_hf_preconditioner(&hf, 2);
    cr_assert_not_null(m);
    for (int i = 0; i < P; i++) {
      double fisher = 0;
      for (int c = 0; c < M; c++) {
        double gi = ls_residual(&net, theta, c) * prob.j[c * P + i];
        fisher += gi * gi / M;
      }
      double expected = pow(fisher + 2 + 0.01, exponents[e]);
      cr_assert_float_eq(m[i], expected, 1e-6 * expected, "%d", i);
    }
    mdl_hf_free(&hf);
    free(theta);
  }
  s.precondition = 0;
  net.fishers = 0;
  mdl_hf hf;
  mdl_error err;
  cr_assert_eq(mdl_hf_init(&hf, &callbacks, &s, &err), 0);
  cr_assert_eq(mdl_hf_prepare(&hf, prob.theta0, &err), 0);
  cr_assert_null(mdl_hf_preconditioner(&hf, 2));
  cr_assert_eq(net.fishers, 0, "no Fisher pass without preconditioning");
  mdl_hf_free(&hf);
  free_problem(&prob);
}

Test(hf, reports_count_what_the_net_was_asked) {
  ls_problem prob = make_problem(P, M, 801);
  ls_net net = make_net(&prob, MDL_F64);
  net.quartic = 0.5;
  net.quartic_everywhere = 1;
  mdl_hf_net callbacks = ls_callbacks(&net);
  mdl_hf_settings s;
  mdl_hf_default_settings(&s);
  s.initial_lambda = 0.1;
  mdl_hf hf;
  mdl_error err;
  cr_assert_eq(mdl_hf_init(&hf, &callbacks, &s, &err), 0);
  double theta[P];
  memcpy(theta, prob.theta0, sizeof theta);
  for (int t = 0; t < 3; t++) {
    long products = net.products, losses = net.losses;
    mdl_hf_report report;
    cr_assert_eq(mdl_hf_update(&hf, theta, 1, 0.95, &report, &err), 0);
    cr_assert_eq(report.gv_products, net.products - products);
    cr_assert_eq(report.loss_evaluations, net.losses - losses);
    /* CG's products (r_0 from a hot start, one per step) plus ρ's. */
    cr_assert_eq(report.gv_products, hf.cg.products + 1);
    cr_assert_eq(report.gv_products, report.cg_steps + (t > 0) + 1);
    cr_assert_geq(report.rate, 0);
    cr_assert_leq(report.objective_after, report.objective_before);
    cr_assert_float_eq(report.objective_after,
                       ls_loss(theta, MDL_HF_GRADIENT_BATCH, &net) +
                           0.5 * 2e-5 * squared_norm(theta, P),
                       1e-12);
    cr_assert_float_eq(report.loss_after,
                       ls_loss(theta, MDL_HF_GRADIENT_BATCH, &net), 1e-12);
  }
  cr_assert_eq(net.gradients, 3);
  cr_assert_eq(net.prepares, 3);
  cr_assert_eq(net.fishers, 3);
  mdl_hf_free(&hf);
  free_problem(&prob);
}

Test(hf, bad_settings_and_arguments_are_refused_with_a_message) {
  ls_problem prob = make_problem(P, M, 901);
  ls_net net = make_net(&prob, MDL_F64);
  mdl_hf_net callbacks = ls_callbacks(&net);
  mdl_hf_settings s;
  mdl_hf hf;
  mdl_error err;
  mdl_hf_default_settings(&s);
  s.max_cg_steps = 0;
  cr_assert_eq(mdl_hf_init(&hf, &callbacks, &s, &err), -1);
  cr_assert(strstr(err.message, "max CG steps"), "%s", err.message);
  mdl_hf_default_settings(&s);
  s.decay = 1.5;
  cr_assert_eq(mdl_hf_init(&hf, &callbacks, &s, &err), -1);
  cr_assert(strstr(err.message, "decay"), "%s", err.message);
  mdl_hf_default_settings(&s);
  s.initial_lambda = NAN;
  cr_assert_eq(mdl_hf_init(&hf, &callbacks, &s, &err), -1);
  mdl_hf_default_settings(&s);
  s.min_cg_steps = 300;
  cr_assert_eq(mdl_hf_init(&hf, &callbacks, &s, &err), -1);
  mdl_hf_default_settings(&s);
  callbacks.fisher_diagonal = NULL;
  cr_assert_eq(mdl_hf_init(&hf, &callbacks, &s, &err), -1);
  cr_assert(strstr(err.message, "Fisher"), "%s", err.message);
  s.precondition = 0;
  cr_assert_eq(mdl_hf_init(&hf, &callbacks, &s, &err), 0);

  double theta[P];
  memcpy(theta, prob.theta0, sizeof theta);
  mdl_hf_report report;
  cr_assert_eq(mdl_hf_update(&hf, theta, -1, 0.95, &report, &err), -1);
  cr_assert_eq(mdl_hf_update(&hf, theta, 1, 1.01, &report, &err), -1);
  net.poison = 1;
  cr_assert_eq(mdl_hf_update(&hf, theta, 1, 0.95, &report, &err), -1);
  cr_assert(strstr(err.message, "not finite"), "%s", err.message);
  cr_assert_eq(memcmp(theta, prob.theta0, sizeof theta), 0);
  cr_assert_eq(hf.lambda, 45);
  mdl_hf_free(&hf);
  free_problem(&prob);
}

/* ---- A tiny two-layer net ------------------------------------------------ */

/* D inputs → H tanh units → O logistic outputs, cross-entropy, C cases.
 * θ = [W1 (H × D), b1 (H), W2 (O × H), b2 (O)]. The Jacobian J_c of the
 * output pre-activations z is written out, and with it the gradient
 * (1/C) Σ J_cᵀ(y − t) and G = (1/C) Σ J_cᵀ diag(y(1 − y)) J_c. */
enum { D = 3, H = 5, O = 2, C = 60 };
enum { NP = H * D + H + O * H + O };

typedef struct {
  mdl_dtype type;
  double x[C][D], t[C][O];
  double g[NP * NP]; /* the prepared G */
} tiny_net;

static void tiny_forward(const double *theta, const double *x, double *h,
                         double *z) {
  const double *w1 = theta, *b1 = theta + H * D;
  const double *w2 = b1 + H, *b2 = w2 + O * H;
  for (int j = 0; j < H; j++) {
    double a = b1[j];
    for (int i = 0; i < D; i++)
      a += w1[j * D + i] * x[i];
    h[j] = tanh(a);
  }
  for (int k = 0; k < O; k++) {
    z[k] = b2[k];
    for (int j = 0; j < H; j++)
      z[k] += w2[k * H + j] * h[j];
  }
}

/* jac[k][·] = ∂z_k/∂θ for one case. */
static void tiny_jacobian(const double *theta, const double *x, const double *h,
                          double jac[O][NP]) {
  const double *w2 = theta + H * D + H;
  memset(jac, 0, sizeof(double) * O * NP);
  for (int k = 0; k < O; k++) {
    for (int j = 0; j < H; j++) {
      double back = w2[k * H + j] * (1 - h[j] * h[j]);
      for (int i = 0; i < D; i++)
        jac[k][j * D + i] = back * x[i];
      jac[k][H * D + j] = back;
      jac[k][H * D + H + k * H + j] = h[j];
    }
    jac[k][H * D + H + O * H + k] = 1;
  }
}

static double sigmoid(double z) { return 1 / (1 + exp(-z)); }

/* log(1 + e^z) − t z, computed without overflow. */
static double cross_entropy(double z, double t) {
  return fmax(z, 0) + log1p(exp(-fabs(z))) - t * z;
}

static void read_theta(const tiny_net *net, const void *theta, double *out) {
  for (int i = 0; i < NP; i++)
    out[i] = mdl_get(theta, net->type, i);
}

static double tiny_loss_double(const tiny_net *net, const double *theta) {
  double sum = 0, h[H], z[O];
  for (int c = 0; c < C; c++) {
    tiny_forward(theta, net->x[c], h, z);
    for (int k = 0; k < O; k++)
      sum += cross_entropy(z[k], net->t[c][k]);
  }
  return sum / C;
}

static double tiny_loss(const void *theta, mdl_hf_batch batch, void *ctx) {
  tiny_net *net = ctx;
  (void)batch;
  double th[NP];
  read_theta(net, theta, th);
  return tiny_loss_double(net, th);
}

/* The per-case gradients J_cᵀ(y − t), summed into grad and, squared, into
 * fisher (either may be NULL); returns the loss. */
static double tiny_per_case(const tiny_net *net, const void *theta,
                            double *grad, double *fisher) {
  double th[NP], h[H], z[O], jac[O][NP], one[NP];
  read_theta(net, theta, th);
  if (grad)
    memset(grad, 0, sizeof(double) * NP);
  if (fisher)
    memset(fisher, 0, sizeof(double) * NP);
  for (int c = 0; c < C; c++) {
    tiny_forward(th, net->x[c], h, z);
    tiny_jacobian(th, net->x[c], h, jac);
    memset(one, 0, sizeof one);
    for (int k = 0; k < O; k++)
      for (int i = 0; i < NP; i++)
        one[i] += jac[k][i] * (sigmoid(z[k]) - net->t[c][k]);
    for (int i = 0; i < NP; i++) {
      if (grad)
        grad[i] += one[i] / C;
      if (fisher)
        fisher[i] += one[i] * one[i] / C;
    }
  }
  return tiny_loss_double(net, th);
}

static double tiny_gradient(const void *theta, void *grad, void *ctx) {
  tiny_net *net = ctx;
  double g[NP];
  double loss = tiny_per_case(net, theta, g, NULL);
  for (int i = 0; i < NP; i++)
    mdl_set(grad, net->type, i, g[i]);
  return loss;
}

static void tiny_fisher(const void *theta, void *diag, void *ctx) {
  tiny_net *net = ctx;
  double f[NP];
  tiny_per_case(net, theta, NULL, f);
  for (int i = 0; i < NP; i++)
    mdl_set(diag, net->type, i, f[i]);
}

/* G = (1/C) Σ J_cᵀ H_c J_c, H_c = diag(y(1 − y)): the Hessian of the
 * cross-entropy with respect to z. */
static void tiny_prepare(const void *theta, void *ctx) {
  tiny_net *net = ctx;
  double th[NP], h[H], z[O], jac[O][NP];
  read_theta(net, theta, th);
  memset(net->g, 0, sizeof net->g);
  for (int c = 0; c < C; c++) {
    tiny_forward(th, net->x[c], h, z);
    tiny_jacobian(th, net->x[c], h, jac);
    for (int k = 0; k < O; k++) {
      double y = sigmoid(z[k]), hk = y * (1 - y) / C;
      for (int i = 0; i < NP; i++)
        for (int l = 0; l < NP; l++)
          net->g[i * NP + l] += jac[k][i] * hk * jac[k][l];
    }
  }
}

static void tiny_gauss_newton(const void *v, double w, void *out, void *ctx) {
  tiny_net *net = ctx;
  (void)w;
  for (int i = 0; i < NP; i++) {
    double sum = 0;
    for (int l = 0; l < NP; l++)
      sum += net->g[i * NP + l] * mdl_get(v, net->type, l);
    mdl_set(out, net->type, i, sum);
  }
}

/* Inputs on scales 1, 10 and 0.1 (an ill-conditioned problem for gradient
 * descent), targets the outputs of a random teacher net. */
static void tiny_problem(tiny_net *net, double *theta0, mdl_dtype type) {
  net->type = type;
  double raw[C * D], teacher[NP], h[H], z[O];
  const double scales[D] = {1, 10, 0.1};
  dense_gaussian(raw, C * D, 1001);
  for (int c = 0; c < C; c++)
    for (int i = 0; i < D; i++)
      net->x[c][i] = scales[i] * raw[c * D + i];
  dense_gaussian(teacher, NP, 1002);
  for (int c = 0; c < C; c++) {
    tiny_forward(teacher, net->x[c], h, z);
    for (int k = 0; k < O; k++)
      net->t[c][k] = sigmoid(2 * z[k]);
  }
  dense_gaussian(theta0, NP, 1003);
  for (int i = 0; i < NP; i++)
    theta0[i] *= 0.3;
}

static mdl_hf_net tiny_callbacks(tiny_net *net) {
  mdl_hf_net callbacks = {net->type,
                          NP,
                          net,
                          tiny_loss,
                          tiny_gradient,
                          tiny_prepare,
                          tiny_gauss_newton,
                          tiny_fisher};
  return callbacks;
}

Test(hf_net, the_test_nets_gradient_matches_finite_differences) {
  static tiny_net net;
  double theta[NP], grad[NP];
  tiny_problem(&net, theta, MDL_F64);
  tiny_per_case(&net, theta, grad, NULL);
  for (int i = 0; i < NP; i++) {
    double up[NP], down[NP];
    memcpy(up, theta, sizeof up);
    memcpy(down, theta, sizeof down);
    up[i] += 1e-6;
    down[i] -= 1e-6;
    double fd =
        (tiny_loss_double(&net, up) - tiny_loss_double(&net, down)) / 2e-6;
    cr_assert_float_eq(grad[i], fd, 1e-7 + 1e-6 * fabs(fd), "parameter %d", i);
  }
}

/* The objective with weight decay after `steps` steps of plain gradient
 * descent at rate eps. */
static double gradient_descent(tiny_net *net, const double *theta0, double eps,
                               int steps, double wc) {
  double theta[NP], grad[NP];
  memcpy(theta, theta0, sizeof theta);
  for (int t = 0; t < steps; t++) {
    tiny_per_case(net, theta, grad, NULL);
    for (int i = 0; i < NP; i++)
      theta[i] -= eps * (grad[i] + wc * theta[i]);
  }
  double norm2 = 0;
  for (int i = 0; i < NP; i++)
    norm2 += theta[i] * theta[i];
  return tiny_loss_double(net, theta) + 0.5 * wc * norm2;
}

static void hf_beats_gradient_descent(mdl_dtype type) {
  enum { UPDATES = 10 };
  static tiny_net net;
  double theta0[NP];
  tiny_problem(&net, theta0, MDL_F64);
  double best_gd = INFINITY;
  const double rates[] = {0.01, 0.03, 0.1, 0.3, 1, 3};
  for (int r = 0; r < 6; r++) {
    double f = gradient_descent(&net, theta0, rates[r], UPDATES, 2e-5);
    if (f < best_gd)
      best_gd = f;
  }

  net.type = type;
  mdl_hf_net callbacks = tiny_callbacks(&net);
  mdl_hf_settings s;
  mdl_hf_default_settings(&s);
  s.initial_lambda = 1;
  mdl_hf hf;
  mdl_error err;
  cr_assert_eq(mdl_hf_init(&hf, &callbacks, &s, &err), 0, "%s", err.message);
  void *theta = typed_vector(type, theta0, NP);
  mdl_hf_report report;
  double first = NAN, last = NAN;
  for (int t = 0; t < UPDATES; t++) {
    cr_assert_eq(mdl_hf_update(&hf, theta, 1, 0.95, &report, &err), 0, "%s",
                 err.message);
    if (t == 0)
      first = report.objective_before;
    else
      cr_assert_float_eq(report.objective_before, last, 1e-12,
                         "update %d starts where the last ended", t);
    cr_assert_leq(report.objective_after, report.objective_before,
                  "the line search never goes uphill (update %d)", t);
    last = report.objective_after;
  }
  double floor = 0; /* the targets' entropy: no net can go below it */
  for (int c = 0; c < C; c++)
    for (int k = 0; k < O; k++) {
      double t = net.t[c][k];
      floor -= (t * log(t) + (1 - t) * log(1 - t)) / C;
    }
  cr_log_info("type %d: objective %g -> HF %g, best gradient descent %g "
              "(floor %g)",
              type, first, last, best_gd, floor);
  /* Measured from the floor, HF ends at least twice as close. */
  cr_assert_lt(last - floor, 0.5 * (best_gd - floor),
               "type %d: HF %g vs the best gradient descent %g after %d "
               "gradients (from %g, floor %g)",
               type, last, best_gd, UPDATES, first, floor);
  mdl_hf_free(&hf);
  free(theta);
}

Test(hf_net, hf_beats_gradient_descent_per_gradient_evaluation) {
  hf_beats_gradient_descent(MDL_F64);
  hf_beats_gradient_descent(MDL_F32);
}
