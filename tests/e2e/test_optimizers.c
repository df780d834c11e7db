/* test_optimizers.c — SGD, classical momentum (eqs. 1-2) and Nesterov's
 * accelerated gradient (eqs. 3-4) as the generated programs run them,
 * against the equations computed here, independently of the generated
 * update code; and the paper's Theorem 2.1 (sec. 2.1).
 *
 * Two gradient oracles, neither of which is the update code under test:
 *  - a linear net (`feedforward`, no hidden layer, linear outputs, squared
 *    error) on real-valued .npy targets, whose loss is exactly quadratic in
 *    θ: its gradient is written out here in closed form;
 *  - for a nonlinear autoencoder, an SGD program run for one update with
 *    ε = 1 from θ: it leaves θ - ∇f(θ), so ∇f(θ) = θ - θ'.
 * A trajectory of k updates is read with --steps k --save-params from the
 * same --load-params starting point (the velocity starts at zero), for
 * k = 1, 2, ...: the programs are deterministic.
 *
 * Everything runs in double precision (mdlc --precision double) and must
 * agree to about 1e-12 relative. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

/* ---- helpers ---- */

/* n values k/16 in [-scale, scale], exact in float32. */
static void fill(double *x, long n, double scale, uint32_t seed) {
  for (long i = 0; i < n; i++)
    x[i] = scale * (e2e_draw(&seed, 33) - 16) / 16.0;
}

/* max |a - b| / max |b|: the difference relative to the vector's size. */
static double rel_diff(const double *a, const double *b, long n) {
  double diff = 0, size = 0;
  for (long i = 0; i < n; i++) {
    diff = fmax(diff, fabs(a[i] - b[i]));
    size = fmax(size, fabs(b[i]));
  }
  return size > 0 ? diff / size : diff;
}

/* Runs exe for `steps` updates from the parameters in start and returns the
 * parameters it saved (n of them). */
static double *run_from(const char *exe, const char *start, long steps, long n,
                        const char *extra) {
  char out[4200];
  snprintf(out, sizeof out, "%s.after%ld.npy", exe, steps);
  e2e_result r = e2e_run("%s --quiet --threads 1 --steps %ld --load-params %s "
                         "--save-params %s %s",
                         exe, steps, start, out, extra ? extra : "");
  cr_assert_eq(r.status, 0, "%s failed:\n%s", exe, r.output);
  free(r.output);
  double *theta;
  long got = e2e_read_f64(out, &theta);
  cr_assert_eq(got, n, "%s saved %ld parameters, expected %ld", out, got, n);
  return theta;
}

static char *write_params(const char *dir, const char *file, const double *x,
                          long n) {
  char *path = e2e_join(dir, file);
  e2e_write_f64(path, x, n, 0);
  return path;
}

/* ---- the equations, with any gradient ---- */

typedef enum { SGD, CM, NAG } Method;

typedef void (*GradFn)(const double *theta, double *grad, void *ctx);

/* One update of eqs. 1-2 (CM), 3-4 (NAG) or plain SGD, as the paper
 * writes them: the NAG gradient is taken at θ + μ v. */
static void step(Method m, long n, double *theta, double *v, double mu,
                 double epsilon, GradFn grad, void *ctx) {
  double *at = malloc(sizeof(double) * (size_t)n);
  double *g = malloc(sizeof(double) * (size_t)n);
  for (long i = 0; i < n; i++)
    at[i] = m == NAG ? theta[i] + mu * v[i] : theta[i];
  grad(at, g, ctx);
  for (long i = 0; i < n; i++) {
    if (m == SGD) {
      theta[i] -= epsilon * g[i];
    } else {
      v[i] = mu * v[i] - epsilon * g[i]; /* eq. 1 / eq. 3 */
      theta[i] += v[i];                  /* eq. 2 / eq. 4 */
    }
  }
  free(at);
  free(g);
}

/* ---- the quadratic: a linear net with squared error ---- */

/* f(θ) = 1/N Σ_n ½ |x_n W + b - t_n|^2, θ = (W row-major I × K, b). */
typedef struct {
  int n, in, out;
  const double *x, *t;
} Quadratic;

static void quadratic_grad(const double *theta, double *g, void *ctx) {
  const Quadratic *q = ctx;
  const double *w = theta, *b = theta + q->in * q->out;
  long n_params = (long)q->in * q->out + q->out;
  for (long i = 0; i < n_params; i++)
    g[i] = 0;
  for (int c = 0; c < q->n; c++)
    for (int k = 0; k < q->out; k++) {
      double r = b[k] - q->t[c * q->out + k];
      for (int i = 0; i < q->in; i++)
        r += q->x[c * q->in + i] * w[i * q->out + k];
      for (int i = 0; i < q->in; i++)
        g[i * q->out + k] += q->x[c * q->in + i] * r / q->n;
      g[q->in * q->out + k] += r / q->n;
    }
}

/* The program text for the linear net on x.npy/y.npy in dir. */
static void quadratic_program(char *out, size_t size, const char *dir,
                              const Quadratic *q, const char *method,
                              const char *schedules) {
  snprintf(out, size,
           "data d = npy(inputs \"%s/x.npy\", targets \"%s/y.npy\", "
           "cases %d)\n"
           "net lin : feedforward {\n  input %d\n  output linear %d\n"
           "  loss squared\n}\n"
           "train lin on d with %s {\n  batch %d\n  steps 100\n%s}\n",
           dir, dir, q->n, q->in, q->out, method, q->n, schedules);
}

static void write_quadratic(const char *dir, const Quadratic *q) {
  char *x = e2e_join(dir, "x.npy"), *y = e2e_join(dir, "y.npy");
  e2e_write_f64(x, q->x, q->n, q->in);
  e2e_write_f64(y, q->t, q->n, q->out);
  free(x);
  free(y);
}

/* The schedules used for the trajectories: μ and ε change between
 * updates, so an update that used μ_{t+1} for μ_t, or a stale ε, shows. */
static const char *const trajectory_schedules =
    "  mu 0.5 if t < 2 else 0.9\n  epsilon 0.1 / (t + 1)\n";
static double trajectory_mu(long t) { return t < 2 ? 0.5 : 0.9; }
static double trajectory_epsilon(long t) { return 0.1 / ((double)t + 1); }

enum { QN = 6, QI = 3, QK = 2, QP = QI * QK + QK, STEPS = 6 };

/* A general quadratic (its Hessian couples all inputs): 6 cases, 3 inputs,
 * 2 outputs. */
static Quadratic general_quadratic(double *x, double *t) {
  fill(x, QN * QI, 1, 3);
  fill(t, QN * QK, 1, 4);
  return (Quadratic){QN, QI, QK, x, t};
}

/* Compares a program's trajectory over STEPS updates with the equations;
 * returns the largest relative difference. */
static double trajectory_error(const char *exe, const char *start,
                               const double *theta0, Method m, GradFn grad,
                               void *ctx, double **last) {
  double theta[QP], v[QP] = {0};
  memcpy(theta, theta0, sizeof theta);
  double worst = 0;
  for (long k = 1; k <= STEPS; k++) {
    step(m, QP, theta, v, trajectory_mu(k - 1), trajectory_epsilon(k - 1), grad,
         ctx);
    double *got = run_from(exe, start, k, QP, NULL);
    worst = fmax(worst, rel_diff(got, theta, QP));
    if (k == STEPS && last)
      *last = got;
    else
      free(got);
  }
  return worst;
}

static void check_method_on_quadratic(const char *name, const char *method,
                                      const char *flags, Method m) {
  const char *dir = e2e_dir(name);
  double x[QN * QI], t[QN * QK], theta0[QP];
  Quadratic q = general_quadratic(x, t);
  write_quadratic(dir, &q);
  fill(theta0, QP, 0.5, 9);
  char *start = write_params(dir, "start.npy", theta0, QP);
  char program[2048];
  quadratic_program(program, sizeof program, dir, &q, method,
                    m == SGD ? "  epsilon 0.1 / (t + 1)\n"
                             : trajectory_schedules);
  const char *exe = e2e_compile(dir, method, flags, program);
  cr_assert(exe);
  double *last;
  double error =
      trajectory_error(exe, start, theta0, m, quadratic_grad, &q, &last);
  cr_log_info("%s: trajectory vs equations %.3g", name, error);
  cr_expect(error < 1e-12, "%s: trajectory differs from the equations by %g",
            name, error);
  /* Not vacuous: the other methods' equations give other points. */
  for (Method other = SGD; other <= NAG; other++) {
    if (other == m)
      continue;
    double theta[QP], v[QP] = {0};
    memcpy(theta, theta0, sizeof theta);
    for (long k = 0; k < STEPS; k++)
      step(other, QP, theta, v, trajectory_mu(k), trajectory_epsilon(k),
           quadratic_grad, &q);
    cr_log_info("%s vs method %d: %.3g", name, other,
                rel_diff(last, theta, QP));
    cr_expect(rel_diff(last, theta, QP) > 1e-3,
              "%s: method %d and method %d end at the same point", name, m,
              other);
  }
  free(last);
  free(start);
}

Test(optimizers, sgd_on_a_quadratic) {
  check_method_on_quadratic("opt_quad_sgd", "sgd", "--precision double", SGD);
}

Test(optimizers, cm_follows_eqs_1_2_on_a_quadratic) {
  check_method_on_quadratic("opt_quad_cm", "cm", "--precision double", CM);
}

Test(optimizers, nag_follows_eqs_3_4_on_a_quadratic) {
  check_method_on_quadratic("opt_quad_nag", "nag", "--precision double", NAG);
}

Test(optimizers, nag_direct_follows_eqs_3_4_on_a_quadratic) {
  check_method_on_quadratic("opt_quad_nag_direct", "nag",
                            "--precision double --nag-form direct", NAG);
}

/* ---- weight decay ---- */

/* The linear net's weights come first in θ, its QK biases after them. */
enum { QW = QI * QK };
static const double LAMBDA = 0.3;

/* The gradient of f(θ) + (λ/2)‖W‖²: the quadratic's plus λW on the weights
 * only, so that SGD is θ ← θ - ε(g + λθ) there, CM v ← μv - ε(g + λθ), and
 * NAG the same at the look-ahead point, where step() takes it. */
static void decayed_grad(const double *theta, double *g, void *ctx) {
  quadratic_grad(theta, g, ctx);
  for (long i = 0; i < QW; i++)
    g[i] += LAMBDA * theta[i];
}

/* The same penalty on every parameter, biases included (as HF's is):
 * what the program must not do. */
static void decayed_everything_grad(const double *theta, double *g, void *ctx) {
  quadratic_grad(theta, g, ctx);
  for (long i = 0; i < QP; i++)
    g[i] += LAMBDA * theta[i];
}

static void check_weight_decay(const char *name, const char *method,
                               const char *flags, Method m) {
  const char *dir = e2e_dir(name);
  double x[QN * QI], t[QN * QK], theta0[QP];
  Quadratic q = general_quadratic(x, t);
  write_quadratic(dir, &q);
  fill(theta0, QP, 0.5, 9);
  char *start = write_params(dir, "start.npy", theta0, QP);
  char schedules[512], program[2048];
  snprintf(schedules, sizeof schedules, "%s  weight_decay 0.3\n",
           m == SGD ? "  epsilon 0.1 / (t + 1)\n" : trajectory_schedules);
  quadratic_program(program, sizeof program, dir, &q, method, schedules);
  const char *exe = e2e_compile(dir, method, flags, program);
  cr_assert(exe);
  double *last;
  double error =
      trajectory_error(exe, start, theta0, m, decayed_grad, &q, &last);
  cr_log_info("%s: trajectory vs equations with weight decay %.3g", name,
              error);
  cr_expect(error < 1e-12,
            "%s: trajectory differs from the equations with g + λW by %g", name,
            error);
  /* Not vacuous: without the decay, or with the biases decayed too, the
   * equations end elsewhere. */
  double theta[QP], v[QP] = {0};
  memcpy(theta, theta0, sizeof theta);
  for (long k = 0; k < STEPS; k++)
    step(m, QP, theta, v, trajectory_mu(k), trajectory_epsilon(k),
         quadratic_grad, &q);
  cr_expect(rel_diff(last, theta, QP) > 1e-3, "%s: the decay changed nothing",
            name);
  /* --set weight_decay=0 is the plain method. */
  double *plain = run_from(exe, start, STEPS, QP, "--set weight_decay=0");
  cr_expect(rel_diff(plain, theta, QP) < 1e-12,
            "%s: weight_decay 0 is not the plain method (%g)", name,
            rel_diff(plain, theta, QP));
  free(plain);
  memcpy(theta, theta0, sizeof theta);
  memset(v, 0, sizeof v);
  for (long k = 0; k < STEPS; k++)
    step(m, QP, theta, v, trajectory_mu(k), trajectory_epsilon(k),
         decayed_everything_grad, &q);
  cr_expect(rel_diff(last, theta, QP) > 1e-6, "%s: the biases were decayed too",
            name);
  free(last);
  /* A negative λ is refused. */
  e2e_result r = e2e_run("%s --set weight_decay=-1", exe);
  cr_expect_eq(r.status, 1, "%s", r.output);
  cr_expect(strstr(r.output, "error: weight_decay must be >= 0, not -1"), "%s",
            r.output);
  free(r.output);
  free(start);
}

Test(optimizers, sgd_with_weight_decay) {
  check_weight_decay("opt_decay_sgd", "sgd", "--precision double", SGD);
}

Test(optimizers, cm_with_weight_decay) {
  check_weight_decay("opt_decay_cm", "cm", "--precision double", CM);
}

Test(optimizers, nag_with_weight_decay) {
  check_weight_decay("opt_decay_nag", "nag", "--precision double", NAG);
}

Test(optimizers, nag_direct_with_weight_decay) {
  check_weight_decay("opt_decay_nag_direct", "nag",
                     "--precision double --nag-form direct", NAG);
}

/* The carried form with the constant-μ rewriting that libraries use,
 * φ += (1 + μ_t) v_{t+1} - μ_t v_t, is exact only while μ stays put; the
 * trajectory test must catch it when μ changes at t = 2. */
Test(optimizers, a_constant_mu_nag_rewrite_is_caught) {
  const char *dir = e2e_dir("opt_mutant_nag");
  double x[QN * QI], t[QN * QK], theta0[QP];
  Quadratic q = general_quadratic(x, t);
  write_quadratic(dir, &q);
  fill(theta0, QP, 0.5, 9);
  char *start = write_params(dir, "start.npy", theta0, QP);
  char program[2048], flags[1200];
  quadratic_program(program, sizeof program, dir, &q, "nag",
                    trajectory_schedules);
  char *cc = e2e_mutant_cc(dir, "s/(1 + mu_next)/(1 + mu)/");
  snprintf(flags, sizeof flags, "--precision double --cc %s", cc);
  const char *exe = e2e_compile(dir, "nag", flags, program);
  cr_assert(exe);
  double error =
      trajectory_error(exe, start, theta0, NAG, quadratic_grad, &q, NULL);
  cr_log_info("constant-mu mutant vs eqs. 3-4: %.3g", error);
  cr_expect(error > 1e-6, "the mutant follows eqs. 3-4 (difference %g)", error);
  free(start);
}

/* ---- a nonlinear net, with an SGD program as the gradient oracle ---- */

typedef struct {
  const char *sgd; /* the oracle: sgd with ε = 1 */
  const char *dir;
  long n;
  int calls;
} Oracle;

/* ∇f(θ) = θ - θ' where θ' is one SGD update with ε = 1 from θ. */
static void oracle_grad(const double *theta, double *g, void *ctx) {
  Oracle *o = ctx;
  char file[64];
  snprintf(file, sizeof file, "oracle%d.npy", o->calls++);
  char *at = write_params(o->dir, file, theta, o->n);
  double *after = run_from(o->sgd, at, 1, o->n, NULL);
  for (long i = 0; i < o->n; i++)
    g[i] = theta[i] - after[i];
  free(after);
  free(at);
}

Test(optimizers, cm_and_nag_on_a_nonlinear_net_with_an_sgd_oracle) {
  const char *dir = e2e_dir("opt_oracle");
  enum { N = 5, I = 4 };
  double x[N * I];
  uint32_t seed = 17;
  for (int i = 0; i < N * I; i++)
    x[i] = e2e_draw(&seed, 17) / 16.0;
  char *data = e2e_join(dir, "x.npy");
  e2e_write_f64(data, x, N, I);
  const char *net = "net ae : autoencoder {\n  input 4\n  encoder tanh [3]\n"
                    "  code linear 2\n  output sigmoid\n}\n";
  /* 4-3-2-3-4: 4*3+3 + 3*2+2 + 2*3+3 + 3*4+4 parameters */
  enum { P = 15 + 8 + 9 + 16 };
  char program[2048];
  snprintf(program, sizeof program,
           "data d = npy(\"%s\", cases %d)\n%s"
           "train ae on d with sgd {\n  batch %d\n  epsilon 1\n}\n",
           data, N, net, N);
  const char *sgd = e2e_compile(dir, "sgd", "--precision double", program);
  cr_assert(sgd);
  double theta0[P];
  fill(theta0, P, 0.75, 23);
  char *start = write_params(dir, "start.npy", theta0, P);
  Oracle oracle = {sgd, dir, P, 0};

  struct {
    const char *name, *method, *flags;
    Method m;
  } cases[] = {
      {"cm", "cm", "--precision double", CM},
      {"nag", "nag", "--precision double", NAG},
      {"nag_direct", "nag", "--precision double --nag-form direct", NAG},
  };
  double *ends[3];
  for (int c = 0; c < 3; c++) {
    snprintf(program, sizeof program,
             "data d = npy(\"%s\", cases %d)\n%s"
             "train ae on d with %s {\n  batch %d\n%s}\n",
             data, N, net, cases[c].method, N, trajectory_schedules);
    const char *exe = e2e_compile(dir, cases[c].name, cases[c].flags, program);
    cr_assert(exe);
    double theta[P], v[P] = {0};
    memcpy(theta, theta0, sizeof theta);
    double worst = 0;
    for (long k = 1; k <= 5; k++) {
      step(cases[c].m, P, theta, v, trajectory_mu(k - 1),
           trajectory_epsilon(k - 1), oracle_grad, &oracle);
      double *got = run_from(exe, start, k, P, NULL);
      worst = fmax(worst, rel_diff(got, theta, P));
      if (k == 5)
        ends[c] = got;
      else
        free(got);
    }
    cr_log_info("oracle %s: %.3g", cases[c].name, worst);
    cr_expect(worst < 1e-12, "%s: differs from the equations by %g",
              cases[c].name, worst);
  }
  /* Not vacuous: NAG's look-ahead gradient leads somewhere else than CM. */
  cr_expect(rel_diff(ends[1], ends[0], P) > 1e-6, "NAG and CM agree: %g",
            rel_diff(ends[1], ends[0], P));
  for (int c = 0; c < 3; c++)
    free(ends[c]);
  free(start);
  free(data);
}

/* ---- NAG carried and direct ---- */

/* The default NAG program carries the look-ahead point φ = θ + μ v from
 * update to update; --nag-form direct forms it each time. On a small
 * autoencoder with minibatches, the fast eq.-5 schedule (μ changes every 7
 * updates) and a stepped ε, both must give the same θ after 300 updates,
 * and CM must not. */
Test(optimizers, nag_carried_equals_nag_direct) {
  const char *dir = e2e_dir("opt_carried_direct");
  enum { N = 40, I = 6 };
  double x[N * I];
  uint32_t seed = 31;
  for (int i = 0; i < N * I; i++)
    x[i] = e2e_draw(&seed, 17) / 16.0;
  char *data = e2e_join(dir, "x.npy");
  e2e_write_f64(data, x, N, I);
  char program[2048];
  const char *names[] = {"carried", "direct", "cm"};
  const char *flags[] = {"--precision double",
                         "--precision double --nag-form direct",
                         "--precision double"};
  double *theta[3];
  long n = 0;
  for (int c = 0; c < 3; c++) {
    snprintf(program, sizeof program,
             "data d = npy(\"%s\", cases %d)\n"
             "net ae : autoencoder {\n  input %d\n  encoder sigmoid [5]\n"
             "  code linear 2\n  output sigmoid\n}\n"
             "train ae on d with %s {\n  batch 10\n  steps 300\n"
             "  epsilon 0.05 * 0.5^floor(t / 100)\n"
             "  mu min(1 - 2^(-1 - log2(floor(t / 7) + 1)), 0.99)\n}\n",
             data, N, I, c == 2 ? "cm" : "nag");
    const char *exe = e2e_compile(dir, names[c], flags[c], program);
    cr_assert(exe);
    char *out = e2e_join(dir, names[c]);
    e2e_result r =
        e2e_run("%s --quiet --threads 1 --save-params %s.npy", exe, out);
    cr_assert_eq(r.status, 0, "%s", r.output);
    cr_expect(strstr(r.output, "# done: 300 updates"), "%s", r.output);
    free(r.output);
    char *file = malloc(strlen(out) + 5);
    sprintf(file, "%s.npy", out);
    long got = e2e_read_f64(file, &theta[c]);
    cr_assert(got > 0);
    cr_assert(c == 0 || got == n);
    n = got;
    free(file);
    free(out);
  }
  double same = rel_diff(theta[0], theta[1], n);
  double other = rel_diff(theta[0], theta[2], n);
  cr_log_info("carried vs direct %.3g, vs cm %.3g", same, other);
  cr_expect(same < 1e-9, "carried and direct NAG differ by %g", same);
  cr_expect(other > 1e-3, "NAG and CM differ by only %g", other);
  for (int c = 0; c < 3; c++)
    free(theta[c]);
  free(data);
}

/* ---- Theorem 2.1 ---- */

/* A quadratic whose Hessian is diagonal, with the curvatures chosen here.
 * The 4 cases' inputs are the columns 2-4 of a Hadamard matrix, scaled by
 * s_i: they have mean 0 and are orthogonal, so with the bias input 1,
 * (1/N) Σ [x;1][x;1]ᵀ = diag(s_1², s_2², s_3², 1), and each coordinate of θ
 * is an eigen-direction of f: W[i][k] with curvature λ = s_i², b[k] with
 * λ = 1. Along one, ∂f/∂θ_j = λ_j θ_j - β_j, β_j = (1/N) Σ_n [x_n;1]_i t_nk.
 */
enum { HN = 4, HI = 3, HK = 2, HP = HI * HK + HK };

static void hadamard_quadratic(const double s[HI], double *x, double *t,
                               double *lambda, double *beta) {
  static const int h[4][4] = {
      {1, 1, 1, 1}, {1, -1, 1, -1}, {1, 1, -1, -1}, {1, -1, -1, 1}};
  for (int n = 0; n < HN; n++)
    for (int i = 0; i < HI; i++)
      x[n * HI + i] = s[i] * h[n][i + 1];
  fill(t, HN * HK, 1, 41);
  /* The Hessian of one output's block, to confirm it is diagonal. */
  for (int i = 0; i <= HI; i++)
    for (int j = 0; j <= HI; j++) {
      double m = 0;
      for (int n = 0; n < HN; n++)
        m += (i < HI ? x[n * HI + i] : 1) * (j < HI ? x[n * HI + j] : 1) / HN;
      double want = i != j ? 0 : i < HI ? s[i] * s[i] : 1;
      cr_assert(m == want, "Hessian entry (%d, %d) is %g", i, j, m);
    }
  for (int i = 0; i <= HI; i++)
    for (int k = 0; k < HK; k++) {
      int j = i * HK + k; /* W[i][k], or b[k] when i == HI */
      lambda[j] = i < HI ? s[i] * s[i] : 1;
      beta[j] = 0;
      for (int n = 0; n < HN; n++)
        beta[j] += (i < HI ? x[n * HI + i] : 1) * t[n * HK + k] / HN;
    }
}

static double theorem_mu(long t) { return t < 3 ? 0.6 : 0.95; }
static double theorem_epsilon(long t) { return 0.1 * pow(0.5, floor(t / 4.0)); }

/* Along every eigen-direction, the NAG program's θ_t is the trajectory of
 * CM with momentum μ_t (1 - λ ε_t) (Theorem 2.1), to rounding; and not that
 * of CM with μ_t, which the CM program follows instead. */
Test(optimizers, theorem_2_1_per_eigendirection) {
  const char *dir = e2e_dir("opt_theorem_21");
  const double s[HI] = {2, 1.5, 0.5}; /* λ = 4, 2.25, 0.25 and 1 */
  double x[HN * HI], t[HN * HK], lambda[HP], beta[HP], theta0[HP];
  hadamard_quadratic(s, x, t, lambda, beta);
  Quadratic q = {HN, HI, HK, x, t};
  write_quadratic(dir, &q);
  fill(theta0, HP, 1, 43);
  char *start = write_params(dir, "start.npy", theta0, HP);
  const char *schedules =
      "  mu 0.6 if t < 3 else 0.95\n  epsilon 0.1 * 0.5^floor(t / 4)\n";
  char program[2048];
  quadratic_program(program, sizeof program, dir, &q, "nag", schedules);
  const char *nag = e2e_compile(dir, "nag", "--precision double", program);
  quadratic_program(program, sizeof program, dir, &q, "cm", schedules);
  const char *cm = e2e_compile(dir, "cm", "--precision double", program);
  cr_assert(nag && cm);

  /* y: CM with μ (1 - λ ε); z: CM with μ; per coordinate. */
  double y[HP], vy[HP] = {0}, z[HP], vz[HP] = {0};
  memcpy(y, theta0, sizeof y);
  memcpy(z, theta0, sizeof z);
  double nag_vs_theorem = 0, nag_vs_cm = 0, cm_vs_cm = 0;
  for (long k = 1; k <= 10; k++) {
    double mu = theorem_mu(k - 1), epsilon = theorem_epsilon(k - 1);
    for (int j = 0; j < HP; j++) {
      double reduced = mu * (1 - lambda[j] * epsilon);
      vy[j] = reduced * vy[j] - epsilon * (lambda[j] * y[j] - beta[j]);
      y[j] += vy[j];
      vz[j] = mu * vz[j] - epsilon * (lambda[j] * z[j] - beta[j]);
      z[j] += vz[j];
    }
    double *from_nag = run_from(nag, start, k, HP, NULL);
    double *from_cm = run_from(cm, start, k, HP, NULL);
    /* Distances from the minimum θ*_j = β_j / λ_j, so that the agreement
     * is measured on what is still to be optimized. */
    double ey[HP], ez[HP], enag[HP], ecm[HP];
    for (int j = 0; j < HP; j++) {
      double best = beta[j] / lambda[j];
      ey[j] = y[j] - best;
      ez[j] = z[j] - best;
      enag[j] = from_nag[j] - best;
      ecm[j] = from_cm[j] - best;
    }
    nag_vs_theorem = fmax(nag_vs_theorem, rel_diff(enag, ey, HP));
    nag_vs_cm = fmax(nag_vs_cm, rel_diff(enag, ez, HP));
    cm_vs_cm = fmax(cm_vs_cm, rel_diff(ecm, ez, HP));
    free(from_nag);
    free(from_cm);
  }
  cr_log_info("theorem 2.1: nag vs theorem %.3g, nag vs cm %.3g, cm %.3g",
              nag_vs_theorem, nag_vs_cm, cm_vs_cm);
  cr_expect(nag_vs_theorem < 1e-12,
            "NAG differs from CM with momentum mu (1 - lambda epsilon) by %g",
            nag_vs_theorem);
  cr_expect(cm_vs_cm < 1e-12, "CM differs from its own equations by %g",
            cm_vs_cm);
  cr_expect(nag_vs_cm > 1e-2, "NAG is CM with the plain mu (%g)", nag_vs_cm);
  free(start);
}

/* With every curvature λ = 1 (unscaled Hadamard inputs), Theorem 2.1 says
 * the NAG program with μ_t is the CM program with μ_t (1 - ε_t): two
 * compiled programs, 25 updates under the eq.-5 schedule with a fast period
 * and a decaying ε, end at the same point. */
Test(optimizers, theorem_2_1_nag_program_is_a_cm_program) {
  const char *dir = e2e_dir("opt_theorem_21_iso");
  const double s[HI] = {1, 1, 1};
  double x[HN * HI], t[HN * HK], lambda[HP], beta[HP], theta0[HP];
  hadamard_quadratic(s, x, t, lambda, beta);
  Quadratic q = {HN, HI, HK, x, t};
  write_quadratic(dir, &q);
  fill(theta0, HP, 2, 47);
  char *start = write_params(dir, "start.npy", theta0, HP);
  const char *mu = "min(1 - 2^(-1 - log2(floor(t / 3) + 1)), 0.95)";
  const char *epsilon = "0.1 / (1 + t / 10)";
  char schedules[512], program[2048];
  snprintf(schedules, sizeof schedules, "  mu %s\n  epsilon %s\n", mu, epsilon);
  quadratic_program(program, sizeof program, dir, &q, "nag", schedules);
  const char *nag = e2e_compile(dir, "nag", "--precision double", program);
  snprintf(schedules, sizeof schedules, "  mu %s * (1 - %s)\n  epsilon %s\n",
           mu, epsilon, epsilon);
  quadratic_program(program, sizeof program, dir, &q, "cm", schedules);
  const char *cm = e2e_compile(dir, "cm", "--precision double", program);
  snprintf(schedules, sizeof schedules, "  mu %s\n  epsilon %s\n", mu, epsilon);
  quadratic_program(program, sizeof program, dir, &q, "cm", schedules);
  const char *plain =
      e2e_compile(dir, "cm_plain", "--precision double", program);
  cr_assert(nag && cm && plain);
  double *a = run_from(nag, start, 25, HP, NULL);
  double *b = run_from(cm, start, 25, HP, NULL);
  double *c = run_from(plain, start, 25, HP, NULL);
  for (int j = 0; j < HP; j++) { /* distances from the minimum */
    a[j] -= beta[j];
    b[j] -= beta[j];
    c[j] -= beta[j];
  }
  cr_log_info("isotropic: nag vs cm(mu(1-eps)) %.3g, vs cm(mu) %.3g",
              rel_diff(a, b, HP), rel_diff(a, c, HP));
  cr_expect(rel_diff(a, b, HP) < 1e-12,
            "NAG and CM with mu (1 - epsilon) differ by %g",
            rel_diff(a, b, HP));
  cr_expect(rel_diff(a, c, HP) > 1e-2, "NAG and CM with mu agree (%g)",
            rel_diff(a, c, HP));
  free(a);
  free(b);
  free(c);
  free(start);
}
