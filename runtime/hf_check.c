/* hf_check.c — --check-gauss-newton: a program's Gauss-Newton product
 * against the matrix formed explicitly; see mdl/hf.h.
 *
 * The oracle knows nothing of the R-operator. J is the Jacobian of the
 * loss's convex argument u (the output units' total input for a matching
 * loss, their outputs for squared error on nonlinear units) by centred
 * differences of the forward pass; H is the Hessian of the loss in u by
 * second differences; G = Jᵀ H J. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdl/hf.h"
#include "mdl/rng.h"

typedef struct {
  void *theta;
  mdl_dtype type;
  long n, m; /* parameters, outputs */
  mdl_outputs_fn outputs;
  mdl_outputs_loss_fn loss;
  mdl_gv_fn gv;
  void *ctx;
} check;

/* J[i * n + j] = ∂u_i / ∂θ_j. */
static double *jacobian(check *c) {
  double *J = mdl_alloc((size_t)(c->m * c->n) * sizeof(double));
  double *up = mdl_alloc((size_t)c->m * sizeof(double));
  double *down = mdl_alloc((size_t)c->m * sizeof(double));
  for (long j = 0; j < c->n; j++) {
    double x = mdl_get(c->theta, c->type, (size_t)j);
    double h = 1e-5 * fmax(1, fabs(x));
    mdl_set(c->theta, c->type, (size_t)j, x + h);
    double x_up = mdl_get(c->theta, c->type, (size_t)j);
    c->outputs(c->theta, up, c->ctx);
    mdl_set(c->theta, c->type, (size_t)j, x - h);
    double x_down = mdl_get(c->theta, c->type, (size_t)j);
    c->outputs(c->theta, down, c->ctx);
    mdl_set(c->theta, c->type, (size_t)j, x);
    for (long i = 0; i < c->m; i++)
      J[i * c->n + j] = (up[i] - down[i]) / (x_up - x_down);
  }
  free(up);
  free(down);
  return J;
}

/* H[i * m + k] = ∂²ℓ / ∂u_i ∂u_k at u, by second differences; outputs the
 * loss does not depend on (masked steps) get exact zeros. */
static double *hessian(check *c, const double *u0) {
  long m = c->m;
  double *H = mdl_zalloc((size_t)(m * m) * sizeof(double));
  double *u = mdl_alloc((size_t)m * sizeof(double));
  const double h = 1e-4;
  memcpy(u, u0, (size_t)m * sizeof(double));
  for (long i = 0; i < m; i++)
    for (long k = i; k < m; k++) {
      double sum = 0;
      for (int si = -1; si <= 1; si += 2)
        for (int sk = -1; sk <= 1; sk += 2) {
          u[i] += si * h;
          u[k] += sk * h;
          sum += si * sk * c->loss(u, c->ctx);
          u[i] = u0[i];
          u[k] = u0[k];
        }
      H[i * m + k] = H[k * m + i] = sum / (4 * h * h);
    }
  free(u);
  return H;
}

static double norm(const double *x, long n) {
  double sum = 0;
  for (long i = 0; i < n; i++)
    sum += x[i] * x[i];
  return sqrt(sum);
}

static double dot(const double *a, const double *b, long n) {
  double sum = 0;
  for (long i = 0; i < n; i++)
    sum += a[i] * b[i];
  return sum;
}

/* The program's product, in double. */
static void program_gv(check *c, const double *v, double weight, double *out) {
  size_t bytes = (size_t)c->n * mdl_dtype_size(c->type);
  void *vv = mdl_alloc(bytes), *gv = mdl_alloc(bytes);
  for (long i = 0; i < c->n; i++)
    mdl_set(vv, c->type, (size_t)i, v[i]);
  c->gv(c->theta, vv, weight, gv, c->ctx);
  for (long i = 0; i < c->n; i++)
    out[i] = mdl_get(gv, c->type, (size_t)i);
  free(vv);
  free(gv);
}

double mdl_check_gauss_newton(void *theta, mdl_dtype type, long n_params,
                              long n_outputs, mdl_outputs_fn outputs,
                              mdl_outputs_loss_fn loss, mdl_gv_fn gv, void *ctx,
                              double structural, uint64_t seed) {
  check c = {theta, type, n_params, n_outputs, outputs, loss, gv, ctx};
  long n = n_params, m = n_outputs;
  /* J, H and G are dense: a check for small nets and batches. */
  double cells = (double)m * n + (double)m * m + (double)n * n;
  if (cells > 5e7)
    mdl_die("--check-gauss-newton forms J (%ld × %ld), H and G explicitly; "
            "that is too large here: check a smaller net or a smaller "
            "curvature batch",
            m, n);
  double *u = mdl_alloc((size_t)m * sizeof(double));
  outputs(theta, u, ctx);
  double *J = jacobian(&c), *H = hessian(&c, u);
  /* HJ, then G = Jᵀ (H J) */
  double *HJ = mdl_zalloc((size_t)(m * n) * sizeof(double));
  for (long i = 0; i < m; i++)
    for (long k = 0; k < m; k++)
      if (H[i * m + k] != 0)
        for (long j = 0; j < n; j++)
          HJ[i * n + j] += H[i * m + k] * J[k * n + j];
  double *G = mdl_zalloc((size_t)(n * n) * sizeof(double));
  for (long i = 0; i < m; i++)
    for (long a = 0; a < n; a++)
      if (J[i * n + a] != 0)
        for (long b = 0; b < n; b++)
          G[a * n + b] += J[i * n + a] * HJ[i * n + b];

  printf("# Gauss-Newton check: G v against Jᵀ H J formed by finite "
         "differences (%ld parameters, %ld outputs), %s\n",
         n, m, type == MDL_F64 ? "float64" : "float32");
  mdl_rng rng;
  mdl_rng_seed(&rng, seed);
  double *v = mdl_alloc((size_t)n * sizeof(double));
  double *w = mdl_alloc((size_t)n * sizeof(double));
  double *gv_v = mdl_alloc((size_t)n * sizeof(double));
  double *gv_w = mdl_alloc((size_t)n * sizeof(double));
  double *want = mdl_alloc((size_t)n * sizeof(double));
  double worst = 0, worst_symmetry = 0, smallest = INFINITY;
  enum { DIRECTIONS = 4 };
  for (int trial = 0; trial < DIRECTIONS; trial++) {
    for (long i = 0; i < n; i++) {
      v[i] = mdl_rng_gaussian(&rng);
      w[i] = mdl_rng_gaussian(&rng);
    }
    program_gv(&c, v, 0, gv_v);
    program_gv(&c, w, 0, gv_w);
    for (long a = 0; a < n; a++)
      want[a] = dot(G + a * n, v, n);
    for (long a = 0; a < n; a++)
      want[a] -= gv_v[a];
    double error = norm(want, n) / fmax(norm(gv_v, n), 1e-300);
    double symmetry = fabs(dot(w, gv_v, n) - dot(v, gv_w, n)) /
                      fmax(fabs(dot(w, gv_v, n)), 1e-300);
    double curvature = dot(v, gv_v, n) / dot(v, v, n);
    printf("  direction %d: |Gv - JᵀHJv| / |Gv| %.2e, symmetry %.2e, "
           "vᵀGv/vᵀv %.4g\n",
           trial + 1, error, symmetry, curvature);
    worst = fmax(worst, error);
    worst_symmetry = fmax(worst_symmetry, symmetry);
    smallest = fmin(smallest, curvature);
  }
  /* With structural damping the operator is G + w S: no explicit S here,
   * but it must stay symmetric and positive semi-definite. */
  if (structural > 0)
    for (int trial = 0; trial < DIRECTIONS; trial++) {
      for (long i = 0; i < n; i++) {
        v[i] = mdl_rng_gaussian(&rng);
        w[i] = mdl_rng_gaussian(&rng);
      }
      program_gv(&c, v, structural, gv_v);
      program_gv(&c, w, structural, gv_w);
      double symmetry = fabs(dot(w, gv_v, n) - dot(v, gv_w, n)) /
                        fmax(fabs(dot(w, gv_v, n)), 1e-300);
      double curvature = dot(v, gv_v, n) / dot(v, v, n);
      printf("  with structural damping %g: symmetry %.2e, vᵀ(G + wS)v/vᵀv "
             "%.4g\n",
             structural, symmetry, curvature);
      worst_symmetry = fmax(worst_symmetry, symmetry);
      smallest = fmin(smallest, curvature);
    }
  printf("max relative error: %.2e\n", worst);
  printf("max asymmetry: %.2e\n", worst_symmetry);
  printf("smallest curvature: %.6g\n", smallest);
  free(u);
  free(J);
  free(H);
  free(HJ);
  free(G);
  free(v);
  free(w);
  free(gv_v);
  free(gv_w);
  free(want);
  /* A product that is not symmetric or has negative curvature is wrong
   * whatever its error against J. */
  if (smallest < -1e-9)
    worst = fmax(worst, 1);
  return fmax(worst, worst_symmetry);
}
