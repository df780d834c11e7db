/* hf_update.c — one Hessian-free update, step by step as mdl/hf.h lists
 * them and in the order of Martens' nnet_train_2.m: gradient and curvature
 * at θ, CG from the decayed previous solution, backtracking over the kept
 * iterates, the reduction ratio ρ and the λ rule, then the step. */
#include "mdl/hf.h"

#include <math.h>
#include <string.h>

#include "mdl/program.h"

static double dot(const double *a, const double *b, long n) {
  double sum = 0;
  for (long i = 0; i < n; i++)
    sum += a[i] * b[i];
  return sum;
}

/* CG's operator: the curvature damped with the λ of this update. */
static void damped_product(const double *v, double *out, void *ctx) {
  mdl_hf *hf = ctx;
  mdl_hf_curvature_product(hf, v, hf->operator_lambda, out);
}

/* out = θ + rate·p in the net's type (out may be theta); returns ‖out‖²
 * as stored, the norm the weight decay sees. */
static double form_point(const mdl_hf *hf, const void *theta, double rate,
                         const double *p, void *out) {
  long n = hf->net.n_params;
  double norm2 = 0;
  if (hf->net.type == MDL_F32) { /* a loop per type: no call per element */
    const float *t = theta;
    float *o = out;
    for (long i = 0; i < n; i++) {
      o[i] = rate == 0 ? t[i] : (float)(t[i] + rate * p[i]);
      norm2 += (double)o[i] * o[i];
    }
  } else {
    const double *t = theta;
    double *o = out;
    for (long i = 0; i < n; i++) {
      o[i] = rate == 0 ? t[i] : t[i] + rate * p[i];
      norm2 += o[i] * o[i];
    }
  }
  return norm2;
}

/* The objective, loss + ½ wc ‖·‖², on a batch at θ + rate·p. */
static double objective_at(mdl_hf *hf, const void *theta, double rate,
                           const double *p, mdl_hf_batch batch) {
  double norm2 = form_point(hf, theta, rate, p, hf->program_in);
  hf->loss_evaluations++;
  return hf->net.loss(hf->program_in, batch, hf->net.ctx) +
         0.5 * hf->settings.weight_cost * norm2;
}

/* What the backtracking and line-search callbacks need. */
typedef struct {
  mdl_hf *hf;
  const void *theta;
  const double *p;
} trial;

/* The objective at θ + (CG iterate k), for mdl_hf_walk_back. */
static double iterate_objective(int k, void *ctx) {
  trial *t = ctx;
  return objective_at(t->hf, t->theta, 1, t->hf->cg.iterates[k],
                      MDL_HF_GRADIENT_BATCH);
}

/* The objective at θ + rate·p, for mdl_hf_line_search. */
static double rate_objective(double rate, void *ctx) {
  trial *t = ctx;
  return objective_at(t->hf, t->theta, rate, t->p, MDL_HF_GRADIENT_BATCH);
}

/* q₀(p) − q₀(0) = gᵀp + ½ pᵀ(G + wc I)p: the model's predicted change with
 * the λ-proportional damping switched off, as Martens computes ρ. */
static double model_decrease(mdl_hf *hf, const double *p) {
  long n = hf->net.n_params;
  mdl_hf_curvature_product(hf, p, 0, hf->work);
  return dot(hf->gradient, p, n) + 0.5 * dot(p, hf->work, n);
}

int mdl_hf_update(mdl_hf *hf, void *theta, double rate, double decay,
                  mdl_hf_report *report, mdl_error *err) {
  const mdl_hf_settings *s = &hf->settings;
  long n = hf->net.n_params;
  if (!isfinite(rate) || rate < 0)
    return mdl_fail(err, "HF: the learning rate must be >= 0, not %g", rate);
  if (!isfinite(decay) || decay < 0 || decay > 1)
    return mdl_fail(err, "HF: the hot-start decay must be in [0, 1], not %g",
                    decay);
  double start_time = mdl_now();
  long products_before = hf->gv_products;
  long losses_before = hf->loss_evaluations;
  memset(report, 0, sizeof *report);

  /* 1. Gradient (with weight decay) and curvature at θ. */
  if (mdl_hf_prepare(hf, theta, err) < 0)
    return -1;
  report->lambda_before = hf->lambda;
  report->loss_before = hf->loss;
  report->objective_before = hf->objective;

  /* 2. CG on (G + (λ + wc) I + μ_s λ S) p = −g, hot-started from the
   * decayed last iterate of the previous update. */
  for (long i = 0; i < n; i++)
    hf->previous[i] *= decay;
  hf->operator_lambda = hf->lambda;
  mdl_cg_operator op = {damped_product, hf};
  mdl_cg_limits limits = {s->max_cg_steps, s->min_cg_steps, s->cg_tolerance,
                          MDL_CG_RESIDUAL_FLOOR};
  mdl_cg *cg = &hf->cg;
  const double *precon = mdl_hf_preconditioner(hf, hf->lambda);
  double cg_start = mdl_now();
  mdl_cg_solve(cg, &op, hf->b, hf->previous, precon, &limits);
  report->cg_seconds = mdl_now() - cg_start;
  /* The next hot start is CG's last iterate, not the backtracked one. */
  memcpy(hf->previous, cg->x, (size_t)n * sizeof(double));
  report->cg_products = cg->products;
  report->cg_steps = cg->steps;
  report->cg_stop = cg->stop;
  report->quadratic = cg->values[cg->steps];

  /* 3. Backtracking: the kept iterate Martens' walk back picks, judged by
   * the objective on the gradient batch; without it, the last one. */
  trial t = {hf, theta, NULL};
  int chosen = cg->n_iterates - 1;
  double f_chosen = NAN; /* the objective at θ + p, when known */
  if (s->backtrack)
    chosen = mdl_hf_walk_back(cg->n_iterates, iterate_objective, &t, &f_chosen);
  const double *p = cg->iterates[chosen];
  t.p = p;
  report->chosen_step = cg->iterate_steps[chosen];

  /* 4. ρ on the curvature batch against the undamped model; a step that
   * made f worse gets ρ = −∞ whatever the model said. */
  double model = model_decrease(hf, p);
  double f_before = objective_at(hf, theta, 0, p, MDL_HF_CURVATURE_BATCH);
  double f_after = objective_at(hf, theta, 1, p, MDL_HF_CURVATURE_BATCH);
  double rho = (f_after - f_before) / model;
  if (f_after - f_before > 0)
    rho = -INFINITY;
  hf->lambda = mdl_hf_next_lambda(hf->lambda, rho);
  report->rho = rho;
  report->model_decrease = model;
  report->lambda_after = hf->lambda;

  /* 5. The step θ ← θ + rate·p: rate = ε_t, or the line search's, which
   * starts from ε_t (1 in classic HF) and must decrease f by Armijo's
   * rule along the slope gᵀp. */
  double f_new;
  double known = rate == 1 ? f_chosen : NAN;
  if (s->line_search) {
    rate = mdl_hf_line_search(rate, hf->objective, dot(hf->gradient, p, n),
                              known, rate_objective, &t,
                              &report->line_search_tries, &f_new);
  } else {
    f_new = isnan(known) ? rate_objective(rate, &t) : known;
    /* No line search: the step is ε_t p, unless it would make the
     * objective on the update's own gradient batch worse (or not finite),
     * as when ρ = −∞ at a λ that has fallen too far. Then, like a failed
     * line search, no step: one bad minibatch must not throw θ away. */
    if (!(f_new <= hf->objective)) {
      rate = 0;
      f_new = hf->objective;
    }
  }
  report->rate = rate;
  report->objective_after = f_new;
  report->loss_after = hf->loss;
  if (rate > 0) {
    double norm2 = form_point(hf, theta, rate, p, theta);
    report->loss_after = f_new - 0.5 * s->weight_cost * norm2;
  }

  report->gv_products = hf->gv_products - products_before;
  report->loss_evaluations = hf->loss_evaluations - losses_before;
  report->seconds = mdl_now() - start_time;
  return 0;
}
