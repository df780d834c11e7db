/* test_schedules.c — the schedules of μ and ε in the generated programs
 * against values computed by hand: eq. 5 of the paper with its cap μ_max,
 * `first N` and `last N` phases (Table 2's "μ = 0.9 for the last 1000
 * updates"), stepped learning rates, `steps` in expressions, --steps and
 * --schedule-steps, and --set.
 *
 * The values are read from the learning curve a program writes with --log
 * (columns update,mu,epsilon,train_error,loss,seconds; a row every
 * --report-every updates, holding μ_t and ε_t of update t). That the
 * updates use these values, not only the log, is checked by comparing the
 * parameters of programs with phases against programs that say the same
 * with `if ... else`. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

/* ---- helpers ---- */

/* A small data set (10 cases of 2 values) for a tiny autoencoder. */
static char *write_data(const char *dir) {
  double x[20];
  for (int i = 0; i < 20; i++)
    x[i] = ((i * 7) % 17) / 16.0;
  char *path = e2e_join(dir, "x.npy");
  e2e_write_f64(path, x, 10, 2);
  return path;
}

/* Compiles a 2-1-2 autoencoder trained with `method` and the given train
 * body lines. */
static const char *compile(const char *dir, const char *name, const char *flags,
                           const char *method, const char *body) {
  char *data = write_data(dir);
  char program[2048];
  snprintf(program, sizeof program,
           "const mu_max = 0.999\n"
           "data d = npy(\"%s\", cases 10)\n"
           "net ae : autoencoder {\n  input 2\n  code linear 1\n"
           "  output linear\n}\n"
           "train ae on d with %s {\n  batch 5\n%s}\n",
           data, method, body);
  free(data);
  const char *exe = e2e_compile(dir, name, flags, program);
  cr_assert(exe, "mdlc failed on %s", name);
  return exe;
}

typedef struct {
  long n;
  long *t;
  double *mu, *epsilon;
} Curve;

/* Runs exe with the extra options and --log, and reads the curve. */
static Curve run_curve(const char *exe, const char *options) {
  char log_path[4200];
  snprintf(log_path, sizeof log_path, "%s.csv", exe);
  e2e_result r =
      e2e_run("%s --quiet --threads 1 --log %s %s", exe, log_path, options);
  cr_assert_eq(r.status, 0, "%s %s:\n%s", exe, options, r.output);
  free(r.output);
  FILE *f = fopen(log_path, "r");
  cr_assert(f, "no log %s", log_path);
  Curve c = {0, NULL, NULL, NULL};
  long cap = 0;
  char line[512];
  cr_assert(fgets(line, sizeof line, f));
  cr_assert(strncmp(line, "update,mu,epsilon,", 18) == 0, "header %s", line);
  while (fgets(line, sizeof line, f)) {
    if (c.n == cap) {
      cap = cap ? 2 * cap : 256;
      c.t = realloc(c.t, sizeof(long) * (size_t)cap);
      c.mu = realloc(c.mu, sizeof(double) * (size_t)cap);
      c.epsilon = realloc(c.epsilon, sizeof(double) * (size_t)cap);
    }
    cr_assert_eq(
        sscanf(line, "%ld,%lf,%lf", &c.t[c.n], &c.mu[c.n], &c.epsilon[c.n]), 3,
        "row %s", line);
    c.n++;
  }
  fclose(f);
  return c;
}

static void free_curve(Curve *c) {
  free(c->t);
  free(c->mu);
  free(c->epsilon);
}

/* The logged row of update t (the rows are every update here). */
static long row_of(const Curve *c, long t) {
  for (long i = 0; i < c->n; i++)
    if (c->t[i] == t)
      return i;
  cr_assert_fail("no row for update %ld", t);
  return -1;
}

/* The log holds 9 significant digits. */
static int close_to(double got, double want) {
  return fabs(got - want) <= 1e-8 * fmax(1e-12, fabs(want));
}

static void expect_mu(const Curve *c, long t, double want) {
  double got = c->mu[row_of(c, t)];
  cr_expect(close_to(got, want), "mu at t = %ld is %.10g, want %.10g", t, got,
            want);
}

static void expect_epsilon(const Curve *c, long t, double want) {
  double got = c->epsilon[row_of(c, t)];
  cr_expect(close_to(got, want), "epsilon at t = %ld is %.10g, want %.10g", t,
            got, want);
}

static const char *const eq5 =
    "  mu min(1 - 2^(-1 - log2(floor(t / 250) + 1)), mu_max)\n";

/* Eq. 5 as the paper's text reads it: μ = 1 - 1/(2k), k = ⌊t/250⌋ + 1. */
static double eq5_by_hand(long t, double mu_max) {
  double k = (double)(t / 250 + 1);
  return fmin(1 - 1 / (2 * k), mu_max);
}

/* ---- eq. 5 ---- */

Test(schedules, eq5_with_mu_max_0_999) {
  const char *dir = e2e_dir("sched_eq5");
  char body[512];
  snprintf(body, sizeof body, "  steps 1300\n  epsilon 0.01\n%s", eq5);
  const char *exe = compile(dir, "eq5", "", "cm", body);
  Curve c = run_curve(exe, "--report-every 1");
  cr_assert_eq(c.n, 1301, "expected a row for every t in 0..1300");
  /* The paper's numbers, written out. */
  expect_mu(&c, 0, 0.5);
  expect_mu(&c, 249, 0.5);
  expect_mu(&c, 250, 0.75);
  expect_mu(&c, 499, 0.75);
  expect_mu(&c, 500, 1 - 1.0 / 6);
  expect_mu(&c, 749, 1 - 1.0 / 6);
  expect_mu(&c, 750, 0.875);
  expect_mu(&c, 999, 0.875);
  expect_mu(&c, 1000, 0.9);
  expect_mu(&c, 1250, 1 - 1.0 / 12);
  /* And every update. */
  int bad = 0;
  for (long i = 0; i < c.n; i++)
    if (c.t[i] != i || !close_to(c.mu[i], eq5_by_hand(i, 0.999)))
      bad++;
  cr_expect_eq(bad, 0, "%d updates have the wrong mu", bad);
  free_curve(&c);
}

/* The cap: a program declaring mu_max = 0.8, and --set mu_max=0.7 on the
 * program that declares 0.999. */
Test(schedules, eq5_is_capped_at_mu_max) {
  const char *dir = e2e_dir("sched_eq5_cap");
  char body[512];
  snprintf(body, sizeof body, "  steps 1000\n  epsilon 0.01\n%s", eq5);
  const char *exe = compile(dir, "eq5", "", "nag", body);

  Curve c = run_curve(exe, "--report-every 1 --set mu_max=0.7");
  expect_mu(&c, 0, 0.5);
  expect_mu(&c, 249, 0.5);
  expect_mu(&c, 250, 0.7);
  expect_mu(&c, 999, 0.7);
  int bad = 0;
  for (long i = 0; i < c.n; i++)
    if (!close_to(c.mu[i], eq5_by_hand(c.t[i], 0.7)))
      bad++;
  cr_expect_eq(bad, 0, "%d updates have the wrong mu", bad);
  free_curve(&c);

  /* A different declared cap, in a program of its own. */
  char program_body[512];
  snprintf(program_body, sizeof program_body,
           "  steps 1000\n  epsilon 0.01\n"
           "  mu min(1 - 2^(-1 - log2(floor(t / 250) + 1)), 0.8)\n");
  exe = compile(dir, "eq5_08", "", "cm", program_body);
  c = run_curve(exe, "--report-every 50");
  expect_mu(&c, 200, 0.5);
  expect_mu(&c, 250, 0.75);
  expect_mu(&c, 450, 0.75);
  expect_mu(&c, 500, 0.8);
  expect_mu(&c, 1000, 0.8);
  free_curve(&c);
}

/* ---- phases ---- */

/* Table 2: μ = 0.9 for the last 100 updates, from t = steps - 100 on, with
 * steps the program's 1000. --steps N makes the first N updates of that
 * schedule, so a run cut short never reaches the phase and every μ it uses
 * is the full run's; --schedule-steps N is a schedule of N updates, whose
 * last 100 are at 0.9. */
Test(schedules, steps_makes_the_first_updates_of_the_schedule) {
  const char *dir = e2e_dir("sched_last");
  char body[512];
  snprintf(body, sizeof body,
           "  steps 1000\n  epsilon 0.01\n%s"
           "  last 100 { mu 0.9 }\n",
           eq5);
  const char *exe = compile(dir, "last", "", "nag", body);
  Curve c = run_curve(exe, "--report-every 1");
  cr_assert_eq(c.n, 1001);
  expect_mu(&c, 0, 0.5);
  expect_mu(&c, 899, 0.875);
  expect_mu(&c, 900, 0.9);
  expect_mu(&c, 999, 0.9);
  free_curve(&c);

  /* The first 600 updates: eq. 5 at every one, by hand. */
  c = run_curve(exe, "--report-every 1 --steps 600");
  cr_assert_eq(c.n, 601);
  expect_mu(&c, 250, 0.75);
  expect_mu(&c, 499, 0.75);
  expect_mu(&c, 500, 1 - 1.0 / 6); /* not the last phase's 0.9 */
  expect_mu(&c, 599, 1 - 1.0 / 6);
  int bad = 0;
  for (long i = 0; i < c.n; i++)
    if (c.t[i] != i || !close_to(c.mu[i], eq5_by_hand(i, 0.999)))
      bad++;
  cr_expect_eq(bad, 0, "%d of the first 600 updates have the wrong mu", bad);
  free_curve(&c);

  /* Past the end of the schedule the last phase stays in force. */
  c = run_curve(exe, "--report-every 100 --steps 1300");
  expect_mu(&c, 800, 0.875);
  expect_mu(&c, 1000, 0.9);
  expect_mu(&c, 1300, 0.9);
  free_curve(&c);

  /* A schedule of 600 updates: its last 100 at 0.9. */
  c = run_curve(exe, "--report-every 1 --schedule-steps 600");
  cr_assert_eq(c.n, 601, "--schedule-steps alone sets the run's length");
  expect_mu(&c, 499, 0.75);
  expect_mu(&c, 500, 0.9);
  expect_mu(&c, 599, 0.9);
  free_curve(&c);

  /* The header says what the run is. */
  e2e_result r = e2e_run("%s --threads 1 --steps 600 --report-every 600", exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "# run         600 of 1000 updates (--steps: the "
                             "first 600 of the schedule), seed 1, 1 BLAS "
                             "thread\n"),
            "%s", r.output);
  free(r.output);
  r = e2e_run("%s --threads 1 --steps 1300 --report-every 1300", exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "# run         1300 updates (--steps: 300 past "
                             "the end of the schedule's 1000), seed 1"),
            "%s", r.output);
  free(r.output);
}

/* first N { ... }: μ and ε for t < N, then the base schedules. */
Test(schedules, first_phases) {
  const char *dir = e2e_dir("sched_first");
  char body[512];
  snprintf(body, sizeof body,
           "  steps 800\n  epsilon 0.01\n%s"
           "  first 300 { mu 0.95 }\n  first 50 { epsilon 0.001 }\n",
           eq5);
  const char *exe = compile(dir, "first", "", "cm", body);
  Curve c = run_curve(exe, "--report-every 1");
  expect_mu(&c, 0, 0.95);
  expect_mu(&c, 299, 0.95);
  expect_mu(&c, 300, 0.75);
  expect_mu(&c, 500, 1 - 1.0 / 6);
  expect_epsilon(&c, 0, 0.001);
  expect_epsilon(&c, 49, 0.001);
  expect_epsilon(&c, 50, 0.01);
  expect_epsilon(&c, 800, 0.01);
  /* A first phase does not move with --steps. */
  free_curve(&c);
  c = run_curve(exe, "--report-every 1 --steps 400");
  expect_mu(&c, 299, 0.95);
  expect_mu(&c, 300, 0.75);
  expect_epsilon(&c, 50, 0.01);
  free_curve(&c);
}

/* ---- learning rates ---- */

Test(schedules, stepped_epsilon) {
  const char *dir = e2e_dir("sched_epsilon");
  const char *exe = compile(dir, "eps", "", "sgd",
                            "  steps 1300\n"
                            "  epsilon 0.01 * 0.5^floor(t / 100)\n");
  Curve c = run_curve(exe, "--report-every 1");
  expect_epsilon(&c, 0, 0.01);
  expect_epsilon(&c, 99, 0.01);
  expect_epsilon(&c, 100, 0.005);
  expect_epsilon(&c, 199, 0.005);
  expect_epsilon(&c, 250, 0.0025);
  expect_epsilon(&c, 1299, 0.01 / 4096);
  int bad = 0;
  for (long i = 0; i < c.n; i++)
    if (!close_to(c.epsilon[i], 0.01 * ldexp(1, -(int)(c.t[i] / 100))))
      bad++;
  cr_expect_eq(bad, 0, "%d updates have the wrong epsilon", bad);
  free_curve(&c);
}

/* `steps` in an expression is the schedule's number of updates: the
 * program's, which --steps does not change, or --schedule-steps'. */
Test(schedules, steps_in_an_expression_is_the_schedules) {
  const char *dir = e2e_dir("sched_steps");
  const char *exe = compile(dir, "anneal", "", "sgd",
                            "  steps 1000\n"
                            "  epsilon 0.1 * (1 - t / (2 * steps))\n");
  Curve c = run_curve(exe, "--report-every 100");
  expect_epsilon(&c, 0, 0.1);
  expect_epsilon(&c, 100, 0.095);
  expect_epsilon(&c, 500, 0.075);
  free_curve(&c);
  c = run_curve(exe, "--report-every 100 --steps 200");
  expect_epsilon(&c, 100, 0.095);
  expect_epsilon(&c, 200, 0.09);
  free_curve(&c);
  c = run_curve(exe, "--report-every 100 --schedule-steps 200");
  expect_epsilon(&c, 100, 0.075);
  expect_epsilon(&c, 200, 0.05);
  free_curve(&c);
}

/* Plain numbers are settings: --set epsilon=... and --set mu=...; a μ
 * outside [0, 1) stops the program with a message. */
Test(schedules, set_plain_mu_and_epsilon) {
  const char *dir = e2e_dir("sched_set");
  const char *exe =
      compile(dir, "plain", "", "cm", "  steps 20\n  epsilon 0.01\n  mu 0.9\n");
  Curve c = run_curve(exe, "--report-every 10");
  expect_mu(&c, 10, 0.9);
  expect_epsilon(&c, 10, 0.01);
  free_curve(&c);
  c = run_curve(exe, "--report-every 10 --set mu=0.7 --set epsilon=0.02");
  expect_mu(&c, 0, 0.7);
  expect_mu(&c, 20, 0.7);
  expect_epsilon(&c, 20, 0.02);
  free_curve(&c);
  e2e_result r = e2e_run("%s --quiet --set mu=1.2", exe);
  cr_expect_eq(r.status, 1, "mu = 1.2 was accepted:\n%s", r.output);
  cr_expect(strstr(r.output, "outside [0, 1)"), "%s", r.output);
  free(r.output);
}

/* A --set that takes a schedule out of its range at some later update is
 * refused before the run starts, naming that update: ε_t = eps0 - t/10000
 * reaches 0 at t = 10 * eps0 * 1000. */
Test(schedules, a_set_that_breaks_a_later_update_is_refused_first) {
  const char *dir = e2e_dir("sched_set_later");
  char *data = write_data(dir);
  char program[1024];
  snprintf(program, sizeof program,
           "const eps0 = 0.01\n"
           "const mu_last = 0.5\n"
           "data d = npy(\"%s\", cases 10)\n"
           "net ae : autoencoder {\n  input 2\n  code linear 1\n"
           "  output linear\n}\n"
           "train ae on d with cm {\n  batch 5\n  steps 80\n"
           "  epsilon eps0 - t / 10000\n  mu 0.9\n  last 20 { mu mu_last }\n"
           "}\n",
           data);
  free(data);
  const char *exe = e2e_compile(dir, "later", "", program);
  cr_assert(exe);
  e2e_result r =
      e2e_run("%s --threads 1 --report-every 1 --set eps0=0.005", exe);
  cr_expect_eq(r.status, 1, "%s", r.output);
  cr_expect(strstr(r.output, "later: error: at update 50 the learning-rate "
                             "schedule gives epsilon = 0, which must be > 0"),
            "%s", r.output);
  cr_expect(!strstr(r.output, "# program") && !strstr(r.output, "  update "),
            "it started:\n%s", r.output);
  free(r.output);
  /* The last phase's μ, at update 60 of 80. */
  r = e2e_run("%s --threads 1 --set mu_last=1", exe);
  cr_expect_eq(r.status, 1, "%s", r.output);
  cr_expect(strstr(r.output, "later: error: at update 60 the momentum "
                             "schedule gives mu = 1, outside [0, 1)"),
            "%s", r.output);
  free(r.output);
  /* Not reached by a run cut short: --steps 60 makes updates 0 to 59. */
  r = e2e_run("%s --threads 1 --set mu_last=1 --steps 60 --quiet", exe);
  cr_expect_eq(r.status, 0, "%s", r.output);
  free(r.output);
}

/* A const computed from another follows a --set of it (and keeps a --set
 * of its own); a const that mdlc folded into the program (here the scale
 * of an initialization, and the const it is computed from) cannot be
 * changed by --set, which says so instead of doing nothing. */
Test(schedules, consts_computed_from_others_follow_set) {
  const char *dir = e2e_dir("sched_derived");
  char *data = write_data(dir);
  char program[1024];
  snprintf(program, sizeof program,
           "const eps0 = 0.02\n"
           "const eps_half = eps0 / 2\n"
           "const s0 = 0.5\n"
           "const scale = 2 * s0\n"
           "data d = npy(\"%s\", cases 10)\n"
           "net ae : autoencoder {\n  input 2\n  code linear 1\n"
           "  output linear\n}\n"
           "init ae { weights sparse(fan_in 1, scale scale) }\n"
           "train ae on d with sgd {\n  batch 5\n  steps 10\n"
           "  epsilon eps_half if t < 5 else eps0\n}\n",
           data);
  free(data);
  const char *exe = e2e_compile(dir, "derived", "", program);
  cr_assert(exe);
  Curve c = run_curve(exe, "--report-every 5");
  expect_epsilon(&c, 0, 0.01);
  expect_epsilon(&c, 5, 0.02);
  free_curve(&c);
  c = run_curve(exe, "--report-every 5 --set eps0=0.1");
  expect_epsilon(&c, 0, 0.05); /* eps0 / 2, from the new eps0 */
  expect_epsilon(&c, 5, 0.1);
  free_curve(&c);
  c = run_curve(exe, "--report-every 5 --set eps0=0.1 --set eps_half=0.03");
  expect_epsilon(&c, 0, 0.03);
  expect_epsilon(&c, 5, 0.1);
  free_curve(&c);
  const char *fixed[] = {"scale", "s0"};
  for (int i = 0; i < 2; i++) {
    e2e_result r = e2e_run("%s --set %s=3", exe, fixed[i]);
    cr_expect_eq(r.status, 2, "%s", r.output);
    char message[256];
    snprintf(message, sizeof message,
             "derived: error: setting '%s' cannot be changed with --set: "
             "mdlc folded it into the program when compiling; compile with "
             "mdlc -D %s=VALUE\n",
             fixed[i], fixed[i]);
    cr_expect(strstr(r.output, message), "%s", r.output);
    free(r.output);
  }
  e2e_result r = e2e_run("%s --help", exe);
  cr_expect(strstr(r.output, "  eps_half = 0.01         a const of the "
                             "program: eps0 / 2\n"),
            "%s", r.output);
  cr_expect(strstr(r.output, "  scale    = 1            a const of the "
                             "program: 2 * s0 (fixed when compiling: mdlc "
                             "-D)\n"),
            "%s", r.output);
  free(r.output);
}

/* ---- the updates use the schedule ---- */

/* Runs exe for its steps and returns the parameters it saved. */
static double *final_params(const char *exe, const char *options, long *n) {
  char out[4200];
  snprintf(out, sizeof out, "%s.final.npy", exe);
  e2e_result r =
      e2e_run("%s --quiet --threads 1 --save-params %s %s", exe, out, options);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  double *theta;
  *n = e2e_read_f64(out, &theta);
  cr_assert(*n > 0);
  return theta;
}

static double max_diff(const double *a, const double *b, long n) {
  double d = 0;
  for (long i = 0; i < n; i++)
    d = fmax(d, fabs(a[i] - b[i]));
  return d;
}

/* A program with `last 3 { mu 0.2 }` and `first 2 { epsilon 0.05 }` must
 * train exactly like one that writes the same schedule with conditions on
 * t, under --schedule-steps 8 and 9 (so the last phase starts at t = 5,
 * then t = 6); and unlike one without the phases. Both NAG forms and CM. */
Test(schedules, phases_drive_the_updates) {
  const char *dir = e2e_dir("sched_phases_update");
  const char *phased = "  steps 8\n  epsilon 0.02\n  mu 0.9\n"
                       "  last 3 { mu 0.2 }\n  first 2 { epsilon 0.05 }\n";
  const char *conditions = "  steps 8\n"
                           "  epsilon 0.05 if t < 2 else 0.02\n"
                           "  mu 0.2 if t >= steps - 3 else 0.9\n";
  const char *neither = "  steps 8\n  epsilon 0.02\n  mu 0.9\n";
  struct {
    const char *name, *method, *flags;
  } forms[] = {
      {"cm", "cm", "--precision double"},
      {"nag", "nag", "--precision double"},
      {"nag_direct", "nag", "--precision double --nag-form direct"},
  };
  for (int f = 0; f < 3; f++) {
    char name[64];
    snprintf(name, sizeof name, "%s_phased", forms[f].name);
    const char *a = compile(dir, name, forms[f].flags, forms[f].method, phased);
    snprintf(name, sizeof name, "%s_conditions", forms[f].name);
    const char *b =
        compile(dir, name, forms[f].flags, forms[f].method, conditions);
    snprintf(name, sizeof name, "%s_neither", forms[f].name);
    const char *c =
        compile(dir, name, forms[f].flags, forms[f].method, neither);
    for (long steps = 8; steps <= 9; steps++) {
      char options[64];
      snprintf(options, sizeof options, "--schedule-steps %ld", steps);
      long na, nb, nc;
      double *ta = final_params(a, options, &na);
      double *tb = final_params(b, options, &nb);
      double *tc = final_params(c, options, &nc);
      cr_assert(na == nb && nb == nc);
      cr_expect(max_diff(ta, tb, na) < 1e-14,
                "%s, %ld steps: phases and conditions differ by %g",
                forms[f].name, steps, max_diff(ta, tb, na));
      cr_expect(max_diff(ta, tc, na) > 1e-6,
                "%s, %ld steps: the phases changed nothing", forms[f].name,
                steps);
      free(ta);
      free(tb);
      free(tc);
    }
  }
}
