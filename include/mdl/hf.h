/* mdl/hf.h — Hessian-free optimization (Martens 2010) as a driver that a
 * generated program calls with its own gradient and Gauss-Newton-vector
 * product, plus the CG-versus-NAG experiment of the paper's Figure 5.
 *
 * One update (mdl_hf_update), in loss terms (the code minimizes):
 *   1. g = ∇f(θ) + wc·θ on the gradient batch; the curvature batch's forward
 *      pass at θ is prepared for the products G v that follow.
 *   2. CG on (G + (λ + wc) I + μ_s·λ·S) p = −g, i.e. it minimizes the
 *      damped quadratic q(p) = gᵀp + ½ pᵀ(G + wc I + λI + μ_s λ S) p, from
 *      the hot start p_0 = d_t · p_prev (p_prev: the previous update's last
 *      CG iterate), preconditioned by M = (diag F + λ + wc)^0.75.
 *   3. Backtracking: of the kept CG iterates, walking back from the last
 *      while the objective (gradient batch, weight decay included) does not
 *      get worse, take the last one reached.
 *   4. ρ = (f(θ+p) − f(θ)) / (q₀(p) − q₀(0)) on the curvature batch, where
 *      q₀ is q without the λ-proportional damping (wc kept); λ ← 3/2 λ when
 *      ρ < 1/4 or NaN, λ ← 2/3 λ when ρ > 3/4.
 *   5. θ ← θ + rate·p, with rate = ε_t, or from an Armijo line search;
 *      without the line search a step that would raise the objective on
 *      the gradient batch is not taken (rate 0).
 * Here f is the mean loss the program computes plus ½ wc ‖θ‖², G the
 * per-case mean Gauss-Newton matrix, S the structural-damping matrix
 * J_hᵀ D_h J_h of Martens & Sutskever (2011), and F the empirical Fisher.
 *
 * Vectors the program sees are in its precision (mdl_dtype) and hold
 * n_params elements of the one flat parameter vector; everything the
 * driver keeps is double. Every buffer is allocated once, in
 * mdl_hf_init. */
#ifndef MDL_HF_H
#define MDL_HF_H

#include <stdint.h>

#include "mdl/base.h"
#include "mdl/cg.h"
#include "mdl/data.h"
#include "mdl/program.h"

/* The two sets of cases the driver asks about; the program decides what
 * they are (a minibatch, 1/16 of the training set, the whole set). */
typedef enum { MDL_HF_GRADIENT_BATCH, MDL_HF_CURVATURE_BATCH } mdl_hf_batch;

/* The net, as callbacks of the generated program. None of them adds
 * weight decay or damping: the driver does. Within one update the driver
 * calls gradient, then fisher_diagonal (when preconditioning), both at θ,
 * then prepare_curvature at θ, then products and losses in any order:
 * loss must leave the prepared curvature state alone. */
typedef struct {
  mdl_dtype type;
  long n_params;
  void *ctx; /* passed back to every callback */

  /* The mean loss over the batch at theta. */
  double (*loss)(const void *theta, mdl_hf_batch batch, void *ctx);
  /* Writes the gradient of the mean loss on the gradient batch at theta
   * and returns that loss. */
  double (*gradient)(const void *theta, void *grad, void *ctx);
  /* Runs (and keeps) the curvature batch's forward pass at theta. */
  void (*prepare_curvature)(const void *theta, void *ctx);
  /* out = G v + w · J_hᵀ D_h J_h v at the prepared point: the per-case
   * mean Gauss-Newton product, plus structural damping of weight w (the
   * driver passes w = μ_s·λ, and 0 when it wants G alone). */
  void (*gauss_newton)(const void *v, double structural_weight, void *out,
                       void *ctx);
  /* Optional (NULL: no preconditioner available): the diagonal of the
   * empirical Fisher on the gradient batch at theta, the mean over cases
   * of the squared per-case gradients. A program may compute it in its
   * gradient pass, which comes just before at the same theta. */
  void (*fisher_diagonal)(const void *theta, void *diag, void *ctx);
} mdl_hf_net;

/* Settings, with Martens' defaults (mdl_hf_default_settings; from his
 * nnet_train_2.m, nnet_demo_2.m and conjgrad_1.m unless said). */
typedef struct {
  /* CG: at most 250 steps (300 in Sutskever's RNN code); the progress rule
   * may stop it from step 1 on, with tolerance 5e-4 (0 turns it off). */
  int max_cg_steps;
  int min_cg_steps;
  double cg_tolerance;
  /* The initial λ, 45, on the per-case mean curvature. */
  double initial_lambda;
  /* The hot-start decay d, 0.95. The driver does not read it: a program
   * passes it, or its schedule's value (A.6 raises it to 0.999), as d_t. */
  double decay;
  /* wc of the L2 penalty ½ wc ‖θ‖², 2e-5. */
  double weight_cost;
  /* μ_s, the structural damping constant: 0 = off (Sutskever's RNNs:
   * 0.03). */
  double structural_damping;
  /* 1: precondition CG by M = (diag F + λ + wc)^exponent, exponent 0.75;
   * needs net.fisher_diagonal. */
  int precondition;
  double precondition_exponent;
  /* 1: walk back through the kept CG iterates. */
  int backtrack;
  /* 1: the rate from Armijo's line search (classic HF); 0: rate = ε_t (the
   * A.6 hybrid). */
  int line_search;
} mdl_hf_settings;

void mdl_hf_default_settings(mdl_hf_settings *settings);

/* What one update did; the program prints its progress line and CSV row
 * from it. Objectives include the weight decay; losses do not. */
typedef struct {
  double lambda_before, lambda_after;
  double rho;            /* −∞ when f went up on the curvature batch */
  int cg_steps;          /* CG steps of this update */
  mdl_cg_stop cg_stop;   /* why CG stopped */
  int chosen_step;       /* the CG step whose iterate p was taken */
  double rate;           /* θ moved by rate·p (0: step rejected) */
  int line_search_tries; /* rates tried (0 without line search) */
  double loss_before, loss_after;           /* gradient batch, at θ_old/new */
  double objective_before, objective_after; /* the same plus ½ wc ‖θ‖² */
  double quadratic;      /* the damped q at CG's last iterate */
  double model_decrease; /* q₀(p) − q₀(0), ρ's denominator */
  long gv_products;      /* net.gauss_newton calls of this update */
  long loss_evaluations; /* net.loss calls of this update */
  double seconds;        /* wall-clock time of this update */
  double cg_seconds;     /* of it, the time inside CG (products included) */
  long cg_products;      /* the Gauss-Newton products CG made */
} mdl_hf_report;

/* The driver. lambda and previous are the optimizer's state, what a
 * checkpoint must save and restore (n_params doubles); the rest is
 * workspace. */
typedef struct {
  mdl_hf_net net;
  mdl_hf_settings settings;
  double lambda;    /* the current damping λ */
  double *previous; /* the last CG iterate of the previous update (not yet
                       decayed; zeros before the first update) */

  double *gradient;       /* g = ∇f(θ) + wc θ at the prepared point */
  double *b;              /* −g, CG's right-hand side */
  double *fisher;         /* diag F at the prepared point */
  double *precon;         /* M for the current λ */
  double *work;           /* (G + wc I) p for ρ */
  void *program_in;       /* vectors handed to the net, in its type */
  void *program_out;      /* vectors the net writes, in its type */
  double loss;            /* mean loss at the prepared point */
  double objective;       /* loss + ½ wc ‖θ‖² there */
  double operator_lambda; /* the λ of CG's operator during a solve */
  long gv_products;       /* net.gauss_newton calls since init */
  long loss_evaluations;  /* net.loss calls since init */
  mdl_cg cg;
} mdl_hf;

/* Checks the settings (a bad one, e.g. from --set, gives -1 and a
 * message) and allocates everything; λ starts at initial_lambda. */
int mdl_hf_init(mdl_hf *hf, const mdl_hf_net *net,
                const mdl_hf_settings *settings, mdl_error *err);
void mdl_hf_free(mdl_hf *hf);

/* One HF update of theta (in the net's type), with this update's rate ε_t
 * and hot-start decay d_t from the program's schedules. Returns -1 and
 * leaves theta as it was when the loss or gradient at theta is not finite
 * or rate/decay are out of range (rate >= 0, 0 <= decay <= 1). */
int mdl_hf_update(mdl_hf *hf, void *theta, double rate, double decay,
                  mdl_hf_report *report, mdl_error *err);

/* The parts of an update, for the Figure-5 experiment and for tests. */

/* Step 1: the gradient (with weight decay) into hf->gradient and −g into
 * hf->b, the Fisher diagonal when preconditioning, the curvature prepared,
 * hf->loss and hf->objective set. -1 when the loss or gradient is not
 * finite. */
int mdl_hf_prepare(mdl_hf *hf, const void *theta, mdl_error *err);

/* out = (G + wc I + λ I + μ_s λ S) v at the prepared point: the operator CG
 * sees for the damping λ; with λ = 0 the undamped curvature G + wc I. */
void mdl_hf_curvature_product(mdl_hf *hf, const double *v, double lambda,
                              double *out);

/* M = (diag F + λ + wc)^exponent in hf->precon, returned; NULL when the
 * settings do not precondition. */
const double *mdl_hf_preconditioner(mdl_hf *hf, double lambda);

/* Martens' heuristics, each on its own so that it can be tested. */

/* The Levenberg-Marquardt rule: 3/2 λ if ρ < 1/4 or ρ is NaN, 2/3 λ if
 * ρ > 3/4, else λ. */
double mdl_hf_next_lambda(double lambda, double rho);

/* Backtracking over n candidates (CG iterates in step order): starting from
 * the last, step back to candidate k − 1 while its objective is no worse
 * than candidate k's (NaN counts as +∞); returns the index where that
 * stops, and its objective in *chosen. objective(k) is asked only for the
 * candidates the walk reaches, each once. */
int mdl_hf_walk_back(int n, double (*objective)(int k, void *ctx), void *ctx,
                     double *chosen);

/* Armijo backtracking line search: the first of rate = start·0.8^j,
 * j = 0..59, with f(rate) <= f0 + 0.01·rate·slope (slope = gᵀp), or 0 when
 * all 60 fail. known is f(start) if already computed, else NaN. Sets
 * *tries and *f_rate (f0 when rejected). */
double mdl_hf_line_search(double start, double f0, double slope, double known,
                          double (*objective)(double rate, void *ctx),
                          void *ctx, int *tries, double *f_rate);

/* Figure 5: at theta, minimize the damped quadratic of an update with
 * damping λ, q(p) = gᵀp + ½ pᵀ(G + wc I + λ I + μ_s λ S) p, from p = 0 by CG
 * (plain, and preconditioned as in an update when hf's settings
 * precondition and cg_preconditioned is given) and by NAG on q:
 *   v ← μ_i v − ε ∇q(p + μ_i v),  p ← p + v,  ∇q(x) = g + A x,
 * with ε = 1/L, L the largest eigenvalue of A, estimated by power iteration
 * unless given. Each iteration of either method costs one product. */
typedef struct {
  int iterations;            /* N */
  double mu;                 /* NAG's μ when mu_schedule is NULL: 0.99 */
  const double *mu_schedule; /* μ_i, i = 0..N−1, or NULL */
  double largest_eigenvalue; /* L if known, or 0: estimate it */
  int power_iterations;      /* 100, for the estimate */
  uint64_t seed;             /* of the power iteration's start vector */
} mdl_hf_compare_settings;

void mdl_hf_compare_default_settings(mdl_hf_compare_settings *settings);

/* Caller-supplied arrays of N + 1 values: q after i iterations, i = 0..N
 * (q[0] = q(0) = 0). A CG run that converges or bails out early repeats
 * its last value. */
typedef struct {
  double *cg;
  double *cg_preconditioned; /* NULL: skip */
  double *nag;
  int cg_steps, cg_preconditioned_steps; /* steps CG actually took */
  double largest_eigenvalue;             /* L as used */
  double nag_rate;                       /* ε = 1/L */
  long gv_products; /* all of them, power iteration included */
} mdl_hf_comparison;

/* Uses hf's net and settings (hf need not have made any update; its λ and
 * state are left alone). Allocates its vectors for the one experiment.
 * -1 when the loss or gradient at theta is not finite, or the settings
 * are out of range. */
int mdl_hf_compare_cg_nag(mdl_hf *hf, const void *theta, double lambda,
                          const mdl_hf_compare_settings *settings,
                          mdl_hf_comparison *result, mdl_error *err);

/* ---- What an HF program prints and saves (runtime/hf_progress.c) ---- */

/* Progress lines of an HF run: after t updates, λ and ρ of the last
 * update, its rate ε (or the line search's), the mean CG steps and the mean
 * seconds per update since the previous line, the error and the loss. The
 * CSV log (opts->log_path) has one row per line: update, lambda, rho,
 * cg_steps, rate, decay, the error, loss, seconds_per_update,
 * ms_per_cg_step (CG's time over its Gauss-Newton products: one product and
 * CG's vector work, without the update's gradient, backtracking and line
 * search), seconds. */
typedef struct {
  mdl_progress base;     /* times, the log, --quiet, the error's name */
  mdl_hf_report last;    /* the last update's report */
  long updates;          /* since the previous line */
  double update_seconds; /* their time inside mdl_hf_update */
  long cg_steps;         /* their CG steps */
  double cg_seconds;     /* their time inside CG */
  long cg_products;      /* their Gauss-Newton products inside CG */
  long total_cg_steps;   /* of the whole run */
} mdl_hf_progress;

/* The same, with figures shown after the error (mdl/program.h). */
void mdl_hf_progress_start_with_figures(mdl_hf_progress *p,
                                        const mdl_options *opts,
                                        long first_step, const char *error_name,
                                        const mdl_figures *figures);
void mdl_hf_progress_start(mdl_hf_progress *p, const mdl_options *opts,
                           long first_step, const char *error_name);
/* Counts one update; call it after every mdl_hf_update. */
void mdl_hf_progress_add(mdl_hf_progress *p, const mdl_hf_report *r);
/* One line after t updates (decay: d_t of the last update); dies with a
 * message when the error or the loss is NaN or infinite. */
void mdl_hf_progress_report(mdl_hf_progress *p, long t, double decay,
                            double error, double loss);
void mdl_hf_progress_finish(mdl_hf_progress *p, long t, double error,
                            double loss);

/* A checkpoint of an HF run: θ, λ and the hot start (hf->previous), and
 * the sampler; see mdl/checkpoint.h for the format. */
int mdl_hf_checkpoint_save(const char *path, long t, const void *theta,
                           const mdl_hf *hf, const mdl_batcher *batches,
                           mdl_error *err);
int mdl_hf_checkpoint_load(const char *path, long *t, void *theta, mdl_hf *hf,
                           mdl_batcher *batches, mdl_error *err);

/* --check-gauss-newton: the program's product G v against Jᵀ H J formed
 * explicitly (or, when J, H and G would be too large, wᵀ(G v) against
 * (J w)ᵀ H (J v) with J w, J v and the form of H by finite differences
 * along w and v), J by centred differences of outputs(θ) (the loss's convex
 * argument u: the output units' total input for a matching loss, their
 * outputs for squared error on nonlinear units, n_outputs values) and H
 * by second differences of loss(u), the mean loss as a function of u.
 * Prints, for a few random directions, the relative error, the asymmetry
 * |wᵀGv - vᵀGw| / |wᵀGv| and vᵀGv / vᵀv; with structural > 0 also the
 * symmetry and curvature of G + structural·S. Returns the largest error or
 * asymmetry (at least 1 if a curvature came out negative). */
typedef void (*mdl_outputs_fn)(const void *theta, double *u, void *ctx);
typedef double (*mdl_outputs_loss_fn)(const double *u, void *ctx);
typedef void (*mdl_gv_fn)(const void *theta, const void *v, double structural,
                          void *gv, void *ctx);
double mdl_check_gauss_newton(void *theta, mdl_dtype type, long n_params,
                              long n_outputs, mdl_outputs_fn outputs,
                              mdl_outputs_loss_fn loss, mdl_gv_fn gv, void *ctx,
                              double structural, uint64_t seed);

/* Writes the Figure-5 comparison as CSV (iteration, cg,
 * cg_preconditioned, nag: q after each iteration) to path and prints it
 * every `every` iterations, with the CG steps taken and NAG's rate. */
int mdl_hf_comparison_write(const char *path,
                            const mdl_hf_compare_settings *settings,
                            const mdl_hf_comparison *result, int every,
                            mdl_error *err);

#endif
