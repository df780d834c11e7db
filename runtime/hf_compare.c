/* hf_compare.c — the experiment of the paper's Figure 5: take the damped
 * quadratic an HF update would hand to CG,
 *   q(p) = gᵀp + ½ pᵀA p,   A = G + wc I + λ I + μ_s λ S,
 * and minimize it from p = 0 by CG (as HF does, but with no stopping rule)
 * and by NAG with a fixed rate, one curvature product per iteration each,
 * recording q after every iteration. NAG's rate is 1/L for L the largest
 * eigenvalue of A, estimated by power iteration: the usual choice for a
 * first-order method on a quadratic of known smoothness. */
#include "mdl/hf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mdl/rng.h"

void mdl_hf_compare_default_settings(mdl_hf_compare_settings *s) {
  s->iterations = 250; /* Martens' CG cap */
  s->mu = 0.99;
  s->mu_schedule = NULL;
  s->largest_eigenvalue = 0;
  s->power_iterations = 100;
  s->seed = 1;
}

static double dot(const double *a, const double *b, long n) {
  double sum = 0;
  for (long i = 0; i < n; i++)
    sum += a[i] * b[i];
  return sum;
}

/* The quadratic's A as a CG operator. */
typedef struct {
  mdl_hf *hf;
  double lambda;
} quadratic;

static void quadratic_product(const double *v, double *out, void *ctx) {
  quadratic *q = ctx;
  mdl_hf_curvature_product(q->hf, v, q->lambda, out);
}

/* CG from 0 for up to n_iter steps, q after each step into values[0..N];
 * returns the steps taken (fewer when it converged or bailed out; the
 * remaining entries repeat the last value). */
static int run_cg(mdl_cg *cg, const mdl_cg_operator *a, const double *b,
                  const double *precon, int n_iter, double *values) {
  mdl_cg_limits limits = {n_iter, 0, 0, MDL_CG_RESIDUAL_FLOOR};
  mdl_cg_solve(cg, a, b, NULL, precon, &limits);
  for (int i = 0; i <= n_iter; i++)
    values[i] = cg->values[i <= cg->steps ? i : cg->steps];
  return cg->steps;
}

/* The Rayleigh quotient vᵀAv of the unit vector v after `iterations` steps
 * of v ← A v / ‖A v‖ from a random start: a lower estimate of λ_max(A)
 * that approaches it from below. */
static double power_iteration(const mdl_cg_operator *a, long n, int iterations,
                              uint64_t seed, double *v, double *av) {
  mdl_rng rng;
  mdl_rng_seed(&rng, seed);
  for (long i = 0; i < n; i++)
    v[i] = mdl_rng_gaussian(&rng);
  double norm = sqrt(dot(v, v, n));
  for (long i = 0; i < n; i++)
    v[i] /= norm;
  double estimate = 0;
  for (int k = 0; k < iterations; k++) {
    a->apply(v, av, a->ctx);
    estimate = dot(v, av, n);
    norm = sqrt(dot(av, av, n));
    if (!(norm > 0))
      break;
    for (long i = 0; i < n; i++)
      v[i] = av[i] / norm;
  }
  return estimate;
}

/* NAG on q from p = v = 0, with rate eps:
 *   v ← μ v − ε ∇q(p + μ v),  p ← p + v,  ∇q(x) = g + A x.
 * By linearity A(p + μv) = Ap + μ Av, so with Ap and Av carried along the
 * look-ahead gradient costs no product; the iteration's one product is
 * A w for w = ∇q(p + μv), which updates Av and Ap, and with them
 * q(p) = gᵀp + ½ pᵀAp exactly. */
static void run_nag(const mdl_cg_operator *a, const double *g, long n,
                    double eps, const mdl_hf_compare_settings *s,
                    double *values) {
  double *p = mdl_zalloc((size_t)n * sizeof(double));
  double *v = mdl_zalloc((size_t)n * sizeof(double));
  double *ap = mdl_zalloc((size_t)n * sizeof(double));
  double *av = mdl_zalloc((size_t)n * sizeof(double));
  double *w = mdl_alloc((size_t)n * sizeof(double));
  double *aw = mdl_alloc((size_t)n * sizeof(double));
  values[0] = 0;
  for (int i = 0; i < s->iterations; i++) {
    double mu = s->mu_schedule ? s->mu_schedule[i] : s->mu;
    for (long j = 0; j < n; j++)
      w[j] = g[j] + ap[j] + mu * av[j]; /* ∇q(p + μ v) */
    a->apply(w, aw, a->ctx);
    for (long j = 0; j < n; j++) {
      v[j] = mu * v[j] - eps * w[j];
      av[j] = mu * av[j] - eps * aw[j];
      p[j] += v[j];
      ap[j] += av[j];
    }
    values[i + 1] = dot(g, p, n) + 0.5 * dot(p, ap, n);
  }
  free(p);
  free(v);
  free(ap);
  free(av);
  free(w);
  free(aw);
}

static int check_compare_settings(const mdl_hf_compare_settings *s,
                                  double lambda, mdl_error *err) {
  if (s->iterations < 1)
    return mdl_fail(err, "Figure 5: iterations must be at least 1, not %d",
                    s->iterations);
  if (!isfinite(lambda) || lambda < 0)
    return mdl_fail(err, "Figure 5: lambda must be >= 0, not %g", lambda);
  if (!isfinite(s->largest_eigenvalue) || s->largest_eigenvalue < 0)
    return mdl_fail(err,
                    "Figure 5: the largest eigenvalue must be > 0 (or "
                    "0 to estimate it), not %g",
                    s->largest_eigenvalue);
  if (s->largest_eigenvalue == 0 && s->power_iterations < 1)
    return mdl_fail(err, "Figure 5: estimating the largest eigenvalue needs "
                         "at least 1 power iteration");
  for (int i = 0; i < (s->mu_schedule ? s->iterations : 1); i++) {
    double mu = s->mu_schedule ? s->mu_schedule[i] : s->mu;
    if (!isfinite(mu) || mu < 0 || mu >= 1)
      return mdl_fail(err,
                      "Figure 5: mu must be in [0, 1), not %g (at "
                      "iteration %d)",
                      mu, i);
  }
  return 0;
}

int mdl_hf_compare_cg_nag(mdl_hf *hf, const void *theta, double lambda,
                          const mdl_hf_compare_settings *s,
                          mdl_hf_comparison *result, mdl_error *err) {
  if (!result->cg || !result->nag)
    mdl_die("mdl_hf_compare_cg_nag: the cg and nag arrays are required");
  if (check_compare_settings(s, lambda, err) < 0)
    return -1;
  if (mdl_hf_prepare(hf, theta, err) < 0)
    return -1;
  long n = hf->net.n_params;
  long products_before = hf->gv_products;
  quadratic q = {hf, lambda};
  mdl_cg_operator a = {quadratic_product, &q};

  mdl_cg cg;
  mdl_cg_init(&cg, n, s->iterations, 0);
  result->cg_steps = run_cg(&cg, &a, hf->b, NULL, s->iterations, result->cg);
  const double *precon = mdl_hf_preconditioner(hf, lambda);
  result->cg_preconditioned_steps = 0;
  if (result->cg_preconditioned && precon)
    result->cg_preconditioned_steps = run_cg(
        &cg, &a, hf->b, precon, s->iterations, result->cg_preconditioned);

  /* The power iteration borrows CG's direction and product vectors. */
  double L = s->largest_eigenvalue;
  if (L == 0)
    L = power_iteration(&a, n, s->power_iterations, s->seed, cg.p, cg.ap);
  mdl_cg_free(&cg);
  if (!(L > 0))
    return mdl_fail(err,
                    "Figure 5: the curvature's largest eigenvalue came "
                    "out as %g; the quadratic is not positive definite",
                    L);
  result->largest_eigenvalue = L;
  result->nag_rate = 1 / L;
  run_nag(&a, hf->gradient, n, result->nag_rate, s, result->nag);
  result->gv_products = hf->gv_products - products_before;
  return 0;
}
