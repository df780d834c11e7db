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

/* ---- Nets too large for explicit matrices: the bilinear form ---- */

/* J d by centred differences of the outputs along d (in θ's own precision,
 * with Richardson extrapolation: D(h) and D(h/2) cancel the h² term). */
static void jacobian_times(check *c, const void *saved, const double *d,
                           double h, double *jd, double *up, double *down) {
  double *half = mdl_alloc((size_t)c->m * sizeof(double));
  for (int pass = 0; pass < 2; pass++) {
    double step = pass ? h / 2 : h;
    for (int side = 0; side < 2; side++) {
      for (long j = 0; j < c->n; j++)
        mdl_set(c->theta, c->type, (size_t)j,
                mdl_get(saved, c->type, (size_t)j) +
                    (side ? step : -step) * d[j]);
      c->outputs(c->theta, side ? up : down, c->ctx);
    }
    double *out = pass ? half : jd;
    for (long i = 0; i < c->m; i++)
      out[i] = (up[i] - down[i]) / (2 * step);
  }
  for (long i = 0; i < c->m; i++)
    jd[i] = (4 * half[i] - jd[i]) / 3;
  memcpy(c->theta, saved, (size_t)c->n * mdl_dtype_size(c->type));
  free(half);
}

/* aᵀ H b, H the loss's Hessian in u, by a mixed second difference (with
 * Richardson): four evaluations of the loss a step. */
static double hessian_form(check *c, const double *u0, const double *a,
                           const double *b, double *u) {
  double scale = 0;
  for (long i = 0; i < c->m; i++)
    scale = fmax(scale, fmax(fabs(a[i]), fabs(b[i])));
  if (scale == 0)
    return 0;
  double value[2];
  for (int pass = 0; pass < 2; pass++) {
    double h = (pass ? 5e-4 : 1e-3) / scale, sum = 0;
    for (int sa = -1; sa <= 1; sa += 2)
      for (int sb = -1; sb <= 1; sb += 2) {
        for (long i = 0; i < c->m; i++)
          u[i] = u0[i] + sa * h * a[i] + sb * h * b[i];
        sum += sa * sb * c->loss(u, c->ctx);
      }
    value[pass] = sum / (4 * h * h);
  }
  return (4 * value[1] - value[0]) / 3;
}

/* wᵀ G v = (J w)ᵀ H (J v) for random w and v against the program's wᵀ(Gv):
 * four forward passes a direction and four loss evaluations a pair, so it
 * scales to any net. G v enters only through these forms, so a product
 * wrong in any direction shows with probability one. */
static double check_bilinear(check *c, double structural, uint64_t seed) {
  long n = c->n, m = c->m;
  size_t bytes = (size_t)n * mdl_dtype_size(c->type);
  void *saved = mdl_alloc(bytes);
  memcpy(saved, c->theta, bytes);
  double *u0 = mdl_alloc((size_t)m * sizeof(double));
  double *u = mdl_alloc((size_t)m * sizeof(double));
  double *up = mdl_alloc((size_t)m * sizeof(double));
  double *down = mdl_alloc((size_t)m * sizeof(double));
  double *jv = mdl_alloc((size_t)m * sizeof(double));
  double *jw = mdl_alloc((size_t)m * sizeof(double));
  double *v = mdl_alloc((size_t)n * sizeof(double));
  double *w = mdl_alloc((size_t)n * sizeof(double));
  double *gv = mdl_alloc((size_t)n * sizeof(double));
  c->outputs(c->theta, u0, c->ctx);
  printf("# Gauss-Newton check: wᵀ G v against (J w)ᵀ H (J v) by finite "
         "differences along w and v (%ld parameters, %ld outputs: too many "
         "for explicit matrices), %s\n",
         n, m, c->type == MDL_F64 ? "float64" : "float32");
  mdl_rng rng;
  mdl_rng_seed(&rng, seed);
  /* θ's own scale sets the step: a relative change of about 1e-4. */
  double theta_norm = 0;
  for (long j = 0; j < n; j++)
    theta_norm +=
        mdl_get(saved, c->type, (size_t)j) * mdl_get(saved, c->type, (size_t)j);
  double h = 1e-6 * fmax(1, sqrt(theta_norm));
  double worst = 0;
  enum { PAIRS = 3 };
  for (int pair = 0; pair < PAIRS; pair++) {
    double vv = 0, ww = 0;
    for (long j = 0; j < n; j++) {
      v[j] = mdl_rng_gaussian(&rng);
      w[j] = mdl_rng_gaussian(&rng);
      vv += v[j] * v[j];
      ww += w[j] * w[j];
    }
    for (long j = 0; j < n; j++) {
      v[j] /= sqrt(vv);
      w[j] /= sqrt(ww);
    }
    jacobian_times(c, saved, v, h, jv, up, down);
    jacobian_times(c, saved, w, h, jw, up, down);
    program_gv(c, v, 0, gv);
    double forms[2][2] = {{dot(v, gv, n), hessian_form(c, u0, jv, jv, u)},
                          {dot(w, gv, n), hessian_form(c, u0, jw, jv, u)}};
    for (int k = 0; k < 2; k++) {
      double a = forms[k][0], b = forms[k][1];
      double error = fabs(a - b) / fmax(fmax(fabs(a), fabs(b)), 1e-300);
      printf("  pair %d, %s: program %.10g, finite differences %.10g, "
             "relative error %.2e\n",
             pair + 1, k ? "wᵀGv" : "vᵀGv", a, b, error);
      worst = fmax(worst, error);
      if (k == 0 && a < -1e-12 * fabs(b))
        worst = fmax(worst, 1); /* negative curvature: wrong whatever b */
    }
  }
  /* With structural damping the operator is G + w S: no explicit S here,
   * but it must stay symmetric and positive semi-definite. */
  double *gw = mdl_alloc((size_t)n * sizeof(double));
  if (structural > 0) {
    program_gv(c, v, structural, gv);
    program_gv(c, w, structural, gw);
    double wav = dot(w, gv, n), vaw = dot(v, gw, n), vav = dot(v, gv, n);
    double symmetry = fabs(wav - vaw) / fmax(fabs(wav), 1e-300);
    printf("  with structural damping %g: symmetry %.2e, vᵀ(G + wS)v/vᵀv "
           "%.4g\n",
           structural, symmetry, vav);
    worst = fmax(worst, symmetry);
    if (vav < 0)
      worst = fmax(worst, 1);
  }
  free(gw);
  printf("max relative error: %.2e\n", worst);
  free(saved);
  free(u0);
  free(u);
  free(up);
  free(down);
  free(jv);
  free(jw);
  free(v);
  free(w);
  free(gv);
  return worst;
}

double mdl_check_gauss_newton(void *theta, mdl_dtype type, long n_params,
                              long n_outputs, mdl_outputs_fn outputs,
                              mdl_outputs_loss_fn loss, mdl_gv_fn gv, void *ctx,
                              double structural, uint64_t seed) {
  check c = {theta, type, n_params, n_outputs, outputs, loss, gv, ctx};
  long n = n_params, m = n_outputs;
  /* J, H and G are dense: explicit matrices for small nets and batches,
   * and the bilinear form for the others. */
  double cells = (double)m * n + (double)m * m + (double)n * n;
  if (cells > 5e7)
    return check_bilinear(&c, structural, seed);
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
