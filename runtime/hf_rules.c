/* hf_rules.c — Martens' three heuristics around the CG solve, each as
 * nnet_train_2.m does it, in loss terms (his code maximizes the
 * log-likelihood, so every comparison there is the mirror of the one
 * here): the Levenberg-Marquardt rule for λ, CG-iterate backtracking, and
 * the Armijo line search. */
#include "mdl/hf.h"

#include <math.h>

/* Thresholds and factors of the λ rule (Martens 2010, sec. 4.1). */
static const double RHO_POOR = 0.25, RHO_GOOD = 0.75;
static const double BOOST = 3.0 / 2.0, DROP = 2.0 / 3.0;

/* The line search: shrink the rate by 0.8 per failure, accept a sufficient
 * decrease with Armijo's c = 1e-2, give up after 60 rates. */
static const double SHRINK = 0.8, ARMIJO_C = 1e-2;
enum { MAX_TRIES = 60 };

double mdl_hf_next_lambda(double lambda, double rho) {
  /* A model that predicted badly (or a NaN from a 0/0 ρ) calls for more
   * damping; one that predicted well allows less. */
  if (rho < RHO_POOR || isnan(rho))
    return lambda * BOOST;
  if (rho > RHO_GOOD)
    return lambda * DROP;
  return lambda;
}

static double nan_as_infinity(double f) { return isnan(f) ? INFINITY : f; }

int mdl_hf_walk_back(int n, double (*objective)(int k, void *ctx), void *ctx,
                     double *chosen) {
  int k = n - 1;
  double f = nan_as_infinity(objective(k, ctx));
  /* Martens stops at the first earlier iterate that is strictly worse, so
   * ties keep walking back: the shorter of two equal steps is preferred. */
  while (k > 0) {
    double earlier = nan_as_infinity(objective(k - 1, ctx));
    if (earlier > f)
      break;
    k--;
    f = earlier;
  }
  *chosen = f;
  return k;
}

double mdl_hf_line_search(double start, double f0, double slope, double known,
                          double (*objective)(double rate, void *ctx),
                          void *ctx, int *tries, double *f_rate) {
  double rate = start;
  for (int j = 0; j < MAX_TRIES; j++) {
    double f = j == 0 && !isnan(known) ? known : objective(rate, ctx);
    if (f <= f0 + ARMIJO_C * rate * slope) { /* false for a NaN f */
      *tries = j + 1;
      *f_rate = f;
      return rate;
    }
    rate *= SHRINK;
  }
  /* Every rate failed: Martens rejects the step altogether. */
  *tries = MAX_TRIES;
  *f_rate = f0;
  return 0;
}
