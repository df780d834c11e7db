/* cg.c — preconditioned linear conjugate gradient for Hessian-free
 * optimization, following Martens' conjgrad_1.m.
 *
 * The loop is the textbook preconditioned CG for A x = b with r = A x − b
 * (so r is the gradient of φ(x) = ½ xᵀAx − bᵀx) and the diagonal
 * preconditioner M (y = M⁻¹ r):
 *
 *   r_0 = A x_0 − b,  y_0 = M⁻¹ r_0,  p_0 = −y_0
 *   α_i = r_iᵀy_i / p_iᵀA p_i
 *   x_{i+1} = x_i + α_i p_i,   r_{i+1} = r_i + α_i A p_i
 *   β_i = r_{i+1}ᵀy_{i+1} / r_iᵀy_i,   p_{i+1} = −y_{i+1} + β_i p_i
 *
 * After every step it records φ(x_i) = ½ (r_i − b)ᵀx_i, which equals
 * ½ x_iᵀA x_i − bᵀx_i without another product, and asks Martens' progress
 * rule whether to stop.
 *
 * Beside the product A p, a step is three passes over the vectors, not
 * one per formula: pᵀA p; then x, r and y with the three sums the loop
 * needs next (rᵀy, rᵀr, φ); then p. With a million parameters the
 * vectors are megabytes each, so a step's vector work is bounded by
 * memory traffic, and a pass per formula would read r five times. */
#include "mdl/cg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mdl/base.h"

/* aᵀb in two interleaved partial sums: a fixed order (the same sum on
 * every run), and two chains of additions that the processor overlaps
 * instead of one that waits on each addition in turn. */
static double dot(const double *a, const double *b, long n) {
  double even = 0, odd = 0;
  long i = 0;
  for (; i + 1 < n; i += 2) {
    even += a[i] * b[i];
    odd += a[i + 1] * b[i + 1];
  }
  if (i < n)
    even += a[i] * b[i];
  return even + odd;
}

/* y += alpha x */
static void axpy(double alpha, const double *x, double *y, long n) {
  for (long i = 0; i < n; i++)
    y[i] += alpha * x[i];
}

static int all_zero(const double *x, long n) {
  for (long i = 0; i < n; i++)
    if (x[i] != 0)
      return 0;
  return 1;
}

/* ½ (r − b)ᵀx: the value of the quadratic at x, given r = A x − b. */
static double quadratic_value(const double *r, const double *b, const double *x,
                              long n) {
  double sum = 0;
  for (long i = 0; i < n; i++)
    sum += (r[i] - b[i]) * x[i];
  return 0.5 * sum;
}

/* y = M⁻¹ r for the diagonal preconditioner M (none: y = r). */
static void precondition(const double *r, const double *precon, double *y,
                         long n) {
  for (long i = 0; i < n; i++)
    y[i] = precon ? r[i] / precon[i] : r[i];
}

/* The sums that one step of CG leaves for the next. */
typedef struct {
  double ry;  /* r_{i+1}ᵀy_{i+1}, for β_i and the next α */
  double rr;  /* r_{i+1}ᵀr_{i+1}, for the residual test */
  double phi; /* (r_{i+1} − b)ᵀx_{i+1} = 2 φ(x_{i+1}) */
} step_sums;

/* x += α p, r += α A p, y = M⁻¹ r, in one pass that also forms the sums
 * of step_sums, each in two partial sums as dot() does. */
static step_sums advance(double alpha, const double *p, const double *ap,
                         const double *b, const double *precon, double *x,
                         double *r, double *y, long n) {
  double ry[2] = {0, 0}, rr[2] = {0, 0}, phi[2] = {0, 0};
  for (long i = 0; i < n; i++) {
    int half = (int)(i & 1);
    x[i] += alpha * p[i];
    r[i] += alpha * ap[i];
    y[i] = precon ? r[i] / precon[i] : r[i];
    ry[half] += r[i] * y[i];
    rr[half] += r[i] * r[i];
    phi[half] += (r[i] - b[i]) * x[i];
  }
  return (step_sums){ry[0] + ry[1], rr[0] + rr[1], phi[0] + phi[1]};
}

const char *mdl_cg_stop_name(mdl_cg_stop stop) {
  switch (stop) {
  case MDL_CG_MAX_STEPS:
    return "max steps";
  case MDL_CG_PROGRESS:
    return "progress";
  case MDL_CG_CONVERGED:
    return "converged";
  case MDL_CG_NEGATIVE_CURVATURE:
    return "negative curvature";
  }
  return "?";
}

int mdl_cg_schedule(int max_steps, int *steps) {
  int count = 0;
  double next = 5;
  for (int i = 1; i <= max_steps; i++)
    if (i == (int)ceil(next)) {
      if (steps)
        steps[count] = i;
      count++;
      next *= 1.3;
    }
  return count;
}

int mdl_cg_progress_stop(const double *values, int i, double tolerance) {
  int k = (i + 9) / 10; /* ceil(i / 10) */
  if (k < 10)
    k = 10;
  if (i <= k)
    return 0;
  double now = values[i], before = values[i - k];
  return before < 0 && (now - before) / now < k * tolerance;
}

void mdl_cg_init(mdl_cg *cg, long n, int capacity, int keep_iterates) {
  if (n <= 0 || capacity < 1)
    mdl_die("mdl_cg_init: dimension %ld and capacity %d must be positive", n,
            capacity);
  memset(cg, 0, sizeof *cg);
  cg->n = n;
  cg->capacity = capacity;
  size_t bytes = (size_t)n * sizeof(double);
  cg->x = mdl_alloc(bytes);
  cg->r = mdl_alloc(bytes);
  cg->y = mdl_alloc(bytes);
  cg->p = mdl_alloc(bytes);
  cg->ap = mdl_alloc(bytes);
  cg->values = mdl_alloc((size_t)(capacity + 1) * sizeof(double));
  cg->n_schedule = keep_iterates ? mdl_cg_schedule(capacity, NULL) : 0;
  cg->schedule = mdl_alloc((size_t)(cg->n_schedule + 1) * sizeof(int));
  mdl_cg_schedule(keep_iterates ? capacity : 0, cg->schedule);
  cg->kept = mdl_alloc((size_t)(cg->n_schedule + 1) * sizeof(double *));
  for (int j = 0; j < cg->n_schedule; j++)
    cg->kept[j] = mdl_alloc(bytes);
  cg->iterates = mdl_alloc((size_t)(cg->n_schedule + 1) * sizeof(double *));
  cg->iterate_steps = mdl_alloc((size_t)(cg->n_schedule + 1) * sizeof(int));
}

void mdl_cg_free(mdl_cg *cg) {
  free(cg->x);
  free(cg->r);
  free(cg->y);
  free(cg->p);
  free(cg->ap);
  free(cg->values);
  for (int j = 0; j < cg->n_schedule; j++)
    free(cg->kept[j]);
  free(cg->kept);
  free(cg->schedule);
  free(cg->iterates);
  free(cg->iterate_steps);
  memset(cg, 0, sizeof *cg);
}

/* Copies x into the next schedule slot when step i is a schedule step. */
static void keep_if_scheduled(mdl_cg *cg, int i) {
  int j = cg->n_iterates;
  if (j < cg->n_schedule && cg->schedule[j] == i) {
    memcpy(cg->kept[j], cg->x, (size_t)cg->n * sizeof(double));
    cg->iterates[j] = cg->kept[j];
    cg->iterate_steps[j] = i;
    cg->n_iterates++;
  }
}

void mdl_cg_solve(mdl_cg *cg, const mdl_cg_operator *a, const double *b,
                  const double *x0, const double *precon,
                  const mdl_cg_limits *limits) {
  long n = cg->n;
  if (limits->max_steps < 1 || limits->max_steps > cg->capacity)
    mdl_die("mdl_cg_solve: max_steps %d outside 1..%d", limits->max_steps,
            cg->capacity);
  double *x = cg->x, *r = cg->r, *y = cg->y, *p = cg->p, *ap = cg->ap;
  cg->products = 0;
  cg->n_iterates = 0;

  /* r_0 = A x_0 − b; from x_0 = 0 that is −b without a product. */
  if (x0 == NULL || all_zero(x0, n)) {
    memset(x, 0, (size_t)n * sizeof(double));
    for (long i = 0; i < n; i++)
      r[i] = -b[i];
  } else {
    memcpy(x, x0, (size_t)n * sizeof(double));
    a->apply(x, r, a->ctx);
    cg->products++;
    axpy(-1, b, r, n);
  }
  precondition(r, precon, y, n);
  for (long i = 0; i < n; i++)
    p[i] = -y[i];
  double ry = dot(r, y, n), rr = dot(r, r, n);
  double residual_limit = limits->residual_tolerance * sqrt(dot(b, b, n));
  cg->values[0] = quadratic_value(r, b, x, n);
  cg->steps = 0;
  cg->stop = MDL_CG_MAX_STEPS;

  for (int i = 1; i <= limits->max_steps; i++) {
    if (sqrt(rr) <= residual_limit) {
      cg->stop = MDL_CG_CONVERGED;
      break;
    }
    a->apply(p, ap, a->ctx);
    cg->products++;
    double curvature = dot(p, ap, n);
    /* A Gauss-Newton matrix has no negative curvature; meeting it means
     * the operator is broken or has lost positive definiteness in
     * rounding, and going on would step uphill. (!(c > 0) catches NaN.) */
    if (!(curvature > 0)) {
      cg->stop = MDL_CG_NEGATIVE_CURVATURE;
      break;
    }
    double alpha = ry / curvature;
    step_sums sums = advance(alpha, p, ap, b, precon, x, r, y, n);
    double beta = sums.ry / ry;
    for (long j = 0; j < n; j++)
      p[j] = -y[j] + beta * p[j];
    ry = sums.ry;
    rr = sums.rr;

    cg->steps = i;
    cg->values[i] = 0.5 * sums.phi;
    keep_if_scheduled(cg, i);
    if (i >= limits->min_steps && limits->tolerance > 0 &&
        mdl_cg_progress_stop(cg->values, i, limits->tolerance)) {
      cg->stop = MDL_CG_PROGRESS;
      break;
    }
  }

  /* The last iterate is always a candidate, once. */
  int j = cg->n_iterates;
  if (j == 0 || cg->iterate_steps[j - 1] != cg->steps) {
    cg->iterates[j] = x;
    cg->iterate_steps[j] = cg->steps;
    cg->n_iterates++;
  }
}
