/* hf.c — the Hessian-free driver's set-up and its view of the net: the
 * settings, the buffers, and the three quantities every HF step is built
 * from — the gradient with weight decay, the damped curvature product, and
 * the diagonal preconditioner.
 *
 * The net's callbacks work in the program's precision; the driver keeps
 * double vectors and converts at the boundary (to_program/from_program),
 * so that CG keeps conjugacy even for a float32 program. Weight decay and
 * damping are added here, so the callbacks compute only the net's mean
 * loss, gradient and Gauss-Newton product. */
#include "mdl/hf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mdl_hf_default_settings(mdl_hf_settings *s) {
  /* Martens' nnet_train_2.m / nnet_demo_2.m and conjgrad_1.m. */
  s->max_cg_steps = 250;
  s->min_cg_steps = 1;
  s->initial_lambda = 45;
  s->decay = 0.95;
  s->weight_cost = 2e-5;
  s->structural_damping = 0;
  s->precondition = 1;
  s->precondition_exponent = 0.75;
  s->cg_tolerance = 5e-4;
  s->backtrack = 1;
  s->line_search = 1;
}

static int finite_at_least(double x, double lowest) {
  return isfinite(x) && x >= lowest;
}

static int check_settings(const mdl_hf_settings *s, const mdl_hf_net *net,
                          mdl_error *err) {
  if (s->max_cg_steps < 1)
    return mdl_fail(err, "HF: max CG steps must be at least 1, not %d",
                    s->max_cg_steps);
  if (s->min_cg_steps < 0 || s->min_cg_steps > s->max_cg_steps)
    return mdl_fail(err, "HF: min CG steps must be between 0 and %d, not %d",
                    s->max_cg_steps, s->min_cg_steps);
  if (!finite_at_least(s->initial_lambda, 0))
    return mdl_fail(err, "HF: the initial lambda must be >= 0, not %g",
                    s->initial_lambda);
  if (!finite_at_least(s->decay, 0) || s->decay > 1)
    return mdl_fail(err, "HF: the hot-start decay must be in [0, 1], not %g",
                    s->decay);
  if (!finite_at_least(s->weight_cost, 0))
    return mdl_fail(err, "HF: the weight cost must be >= 0, not %g",
                    s->weight_cost);
  if (!finite_at_least(s->structural_damping, 0))
    return mdl_fail(err, "HF: structural damping must be >= 0, not %g",
                    s->structural_damping);
  if (!finite_at_least(s->precondition_exponent, 0))
    return mdl_fail(err,
                    "HF: the preconditioner's exponent must be >= 0, "
                    "not %g",
                    s->precondition_exponent);
  if (!finite_at_least(s->cg_tolerance, 0))
    return mdl_fail(err, "HF: the CG tolerance must be >= 0, not %g",
                    s->cg_tolerance);
  if (s->precondition && !net->fisher_diagonal)
    return mdl_fail(err, "HF: preconditioning needs the net's Fisher "
                         "diagonal, which this program does not provide");
  return 0;
}

int mdl_hf_init(mdl_hf *hf, const mdl_hf_net *net,
                const mdl_hf_settings *settings, mdl_error *err) {
  if (net->n_params <= 0 || !net->loss || !net->gradient ||
      !net->prepare_curvature || !net->gauss_newton)
    mdl_die("mdl_hf_init: the net needs n_params > 0 and the loss, "
            "gradient, prepare_curvature and gauss_newton callbacks");
  if (check_settings(settings, net, err) < 0)
    return -1;
  memset(hf, 0, sizeof *hf);
  hf->net = *net;
  hf->settings = *settings;
  hf->lambda = settings->initial_lambda;
  size_t n = (size_t)net->n_params;
  hf->previous = mdl_zalloc(n * sizeof(double));
  hf->gradient = mdl_alloc(n * sizeof(double));
  hf->b = mdl_alloc(n * sizeof(double));
  hf->fisher = mdl_zalloc(n * sizeof(double));
  hf->precon = mdl_alloc(n * sizeof(double));
  hf->work = mdl_alloc(n * sizeof(double));
  hf->program_in = mdl_alloc(n * mdl_dtype_size(net->type));
  hf->program_out = mdl_alloc(n * mdl_dtype_size(net->type));
  mdl_cg_init(&hf->cg, net->n_params, settings->max_cg_steps,
              settings->backtrack);
  return 0;
}

void mdl_hf_free(mdl_hf *hf) {
  free(hf->previous);
  free(hf->gradient);
  free(hf->b);
  free(hf->fisher);
  free(hf->precon);
  free(hf->work);
  free(hf->program_in);
  free(hf->program_out);
  mdl_cg_free(&hf->cg);
  memset(hf, 0, sizeof *hf);
}

/* program_in = x, in the net's type: a loop per type, since a call per
 * element (mdl_set) costs a tenth of a Gauss-Newton product. */
static void to_program(mdl_hf *hf, const double *x) {
  long n = hf->net.n_params;
  if (hf->net.type == MDL_F32) {
    float *out = hf->program_in;
    for (long i = 0; i < n; i++)
      out[i] = (float)x[i];
  } else {
    memcpy(hf->program_in, x, (size_t)n * sizeof(double));
  }
}

/* x = program_out, from the net's type. */
static void from_program(mdl_hf *hf, double *x) {
  long n = hf->net.n_params;
  if (hf->net.type == MDL_F32) {
    const float *in = hf->program_out;
    for (long i = 0; i < n; i++)
      x[i] = in[i];
  } else {
    memcpy(x, hf->program_out, (size_t)n * sizeof(double));
  }
}

int mdl_hf_prepare(mdl_hf *hf, const void *theta, mdl_error *err) {
  const mdl_hf_net *net = &hf->net;
  long n = net->n_params;
  double wc = hf->settings.weight_cost;

  hf->loss = net->gradient(theta, hf->program_out, net->ctx);
  from_program(hf, hf->gradient);
  double norm2 = 0;
  int finite = isfinite(hf->loss);
  for (long i = 0; i < n; i++) {
    double t = mdl_get(theta, net->type, i);
    norm2 += t * t;
    hf->gradient[i] += wc * t; /* ∇ ½ wc ‖θ‖² = wc θ */
    hf->b[i] = -hf->gradient[i];
    finite = finite && isfinite(hf->gradient[i]);
  }
  hf->objective = hf->loss + 0.5 * wc * norm2;
  if (!finite)
    return mdl_fail(err,
                    "HF: the loss or its gradient is not finite "
                    "(loss %g)",
                    hf->loss);

  if (hf->settings.precondition) {
    net->fisher_diagonal(theta, hf->program_out, net->ctx);
    from_program(hf, hf->fisher);
  }
  net->prepare_curvature(theta, net->ctx);
  return 0;
}

void mdl_hf_curvature_product(mdl_hf *hf, const double *v, double lambda,
                              double *out) {
  const mdl_hf_net *net = &hf->net;
  /* Structural damping scales with λ (Martens & Sutskever 2011), so it
   * switches off with the Tikhonov term when λ = 0. */
  double structural = hf->settings.structural_damping * lambda;
  to_program(hf, v);
  net->gauss_newton(hf->program_in, structural, hf->program_out, net->ctx);
  hf->gv_products++;
  /* out = G v + (wc + λ) v, taking G v from the net's type in the same
   * pass: one pass over the vectors fewer in every CG step. */
  double diagonal = hf->settings.weight_cost + lambda;
  long n = net->n_params;
  if (net->type == MDL_F32) {
    const float *gv = hf->program_out;
    for (long i = 0; i < n; i++)
      out[i] = (double)gv[i] + diagonal * v[i];
  } else {
    const double *gv = hf->program_out;
    for (long i = 0; i < n; i++)
      out[i] = gv[i] + diagonal * v[i];
  }
}

const double *mdl_hf_preconditioner(mdl_hf *hf, double lambda) {
  if (!hf->settings.precondition)
    return NULL;
  double shift = lambda + hf->settings.weight_cost;
  for (long i = 0; i < hf->net.n_params; i++) {
    double base = hf->fisher[i] + shift;
    /* With λ = wc = 0 a parameter that no case moves has base 0; leave it
     * unscaled rather than divide by zero. */
    hf->precon[i] =
        base > 0 ? pow(base, hf->settings.precondition_exponent) : 1;
  }
  return hf->precon;
}
