/* test_program.c — the gradient check, schedule checks, the command line,
 * the header and the progress log of generated programs. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mdl/program.h"

/* ---- Running code that exits, and reading what it printed -----------------
 */

typedef struct {
  int status; /* exit status, or -1 when the code returned */
  char out[8192];
  char err[8192];
} captured;

static void read_all(FILE *file, char *buffer, size_t size) {
  rewind(file);
  size_t length = fread(buffer, 1, size - 1, file);
  buffer[length] = '\0';
  fclose(file);
}

/* Runs action(arg) in a child process with stdout and stderr going to
 * temporary files; a child whose action returns exits with 99. */
static void capture(void (*action)(void *), void *arg, captured *result) {
  FILE *out = tmpfile(), *err = tmpfile();
  cr_assert(out && err);
  fflush(stdout);
  fflush(stderr);
  pid_t child = fork();
  cr_assert(child >= 0);
  if (child == 0) {
    dup2(fileno(out), STDOUT_FILENO);
    dup2(fileno(err), STDERR_FILENO);
    action(arg);
    fflush(stdout);
    fflush(stderr);
    _exit(99);
  }
  int status;
  waitpid(child, &status, 0);
  cr_assert(WIFEXITED(status), "the child crashed");
  result->status = WEXITSTATUS(status) == 99 ? -1 : WEXITSTATUS(status);
  read_all(out, result->out, sizeof result->out);
  read_all(err, result->err, sizeof result->err);
}

/* ---- Gradient check -------------------------------------------------------
 */

/* L(θ) = Σ log(1 + exp(a_i θ_i)) + (Σ θ)^2 over two blocks, θ of 17. */
enum { N_THETA = 17 };
static const mdl_block check_blocks[] = {{"weights", 0, 3, 4},
                                         {"bias", 12, 1, 5}};

typedef struct {
  mdl_dtype type;
  int wrong_block; /* -1, or the block whose gradient is deliberately off */
} smooth_problem;

static double coefficient(int i) { return 0.5 + 0.25 * i; }

static double smooth_loss(const void *theta, void *ctx) {
  const smooth_problem *problem = ctx;
  double sum = 0, total = 0;
  for (int i = 0; i < N_THETA; i++) {
    double x = mdl_get(theta, problem->type, i);
    sum += log1p(exp(coefficient(i) * x));
    total += x;
  }
  return sum + total * total;
}

static void smooth_grad(const void *theta, void *grad, void *ctx) {
  const smooth_problem *problem = ctx;
  double total = 0;
  for (int i = 0; i < N_THETA; i++)
    total += mdl_get(theta, problem->type, i);
  for (int i = 0; i < N_THETA; i++) {
    double a = coefficient(i), x = mdl_get(theta, problem->type, i);
    double g = a / (1 + exp(-a * x)) + 2 * total;
    if (problem->wrong_block == 1 && i >= 12)
      g *= 1.5;
    mdl_set(grad, problem->type, i, g);
  }
}

static void fill_theta(void *theta, mdl_dtype type) {
  for (int i = 0; i < N_THETA; i++)
    mdl_set(theta, type, i, sin(1.0 + i) * 0.8);
}

static double run_check(void *theta, mdl_dtype type, int wrong_block) {
  smooth_problem problem = {type, wrong_block};
  return mdl_check_gradients(theta, type, N_THETA, check_blocks, 2, smooth_loss,
                             smooth_grad, &problem, 42);
}

Test(program, check_gradients_accepts_correct_gradient,
     .init = cr_redirect_stdout) {
  double theta[N_THETA], before[N_THETA];
  fill_theta(theta, MDL_F64);
  memcpy(before, theta, sizeof theta);
  double error = run_check(theta, MDL_F64, -1);
  cr_assert_lt(error, 1e-6, "max relative error %g", error);
  cr_assert(memcmp(theta, before, sizeof theta) == 0, "θ was not restored");
}

Test(program, check_gradients_rejects_wrong_block, .init = cr_redirect_stdout) {
  double theta[N_THETA], before[N_THETA];
  fill_theta(theta, MDL_F64);
  memcpy(before, theta, sizeof theta);
  double error = run_check(theta, MDL_F64, 1);
  cr_assert_gt(error, 0.1, "max relative error %g", error);
  cr_assert(memcmp(theta, before, sizeof theta) == 0, "θ was not restored");
}

Test(program, check_gradients_float32, .init = cr_redirect_stdout) {
  float theta[N_THETA], before[N_THETA];
  fill_theta(theta, MDL_F32);
  memcpy(before, theta, sizeof theta);
  double good = run_check(theta, MDL_F32, -1);
  cr_assert(memcmp(theta, before, sizeof theta) == 0, "θ was not restored");
  double bad = run_check(theta, MDL_F32, 1);
  cr_assert_lt(good, 1e-2, "correct gradient: %g", good);
  cr_assert_gt(bad, 0.1, "wrong gradient: %g", bad);
  cr_assert(memcmp(theta, before, sizeof theta) == 0, "θ was not restored");
}

static void check_wrong_gradient(void *unused) {
  (void)unused;
  double theta[N_THETA];
  fill_theta(theta, MDL_F64);
  run_check(theta, MDL_F64, 1);
}

Test(program, check_gradients_prints_one_line_per_block) {
  captured result;
  capture(check_wrong_gradient, NULL, &result);
  cr_assert_eq(result.status, -1);
  cr_assert(strstr(result.out, "weights") && strstr(result.out, "3 x 4"), "%s",
            result.out);
  cr_assert(strstr(result.out, "bias") && strstr(result.out, "1 x 5"), "%s",
            result.out);
  cr_assert(strstr(result.out, "\nmax relative error: "), "%s", result.out);
}

/* ---- Schedules ---------------------------------------------------------- */

Test(program, schedule_accepts_valid_values) {
  mdl_check_schedule(0, 0.0, 1e-6);
  mdl_check_schedule(1, 0.999, 0.05);
}

Test(program, schedule_rejects_mu_of_one, .exit_code = 1,
     .init = cr_redirect_stderr) {
  mdl_check_schedule(10, 1.0, 0.01);
}

Test(program, schedule_rejects_zero_epsilon, .exit_code = 1,
     .init = cr_redirect_stderr) {
  mdl_check_schedule(10, 0.9, 0.0);
}

typedef struct {
  long t;
  double mu, epsilon;
} schedule_case;

static void check_schedule_case(void *arg) {
  const schedule_case *c = arg;
  mdl_set_program_name("prog");
  mdl_check_schedule(c->t, c->mu, c->epsilon);
}

static void expect_schedule_error(schedule_case c, const char *message) {
  captured result;
  capture(check_schedule_case, &c, &result);
  cr_assert_eq(result.status, 1);
  cr_assert_str_eq(result.err, message);
}

Test(program, schedule_messages_name_update_and_value) {
  expect_schedule_error((schedule_case){1200, 1.02, 0.01},
                        "prog: error: at update 1200 the momentum schedule "
                        "gives mu = 1.02, outside [0, 1)\n");
  expect_schedule_error((schedule_case){3, -0.5, 0.01},
                        "prog: error: at update 3 the momentum schedule "
                        "gives mu = -0.5, outside [0, 1)\n");
  expect_schedule_error((schedule_case){7, NAN, 0.01},
                        "prog: error: at update 7 the momentum schedule "
                        "gives mu = nan, outside [0, 1)\n");
  expect_schedule_error((schedule_case){5, 0.9, -0.1},
                        "prog: error: at update 5 the learning-rate schedule "
                        "gives epsilon = -0.1, which must be > 0\n");
  expect_schedule_error((schedule_case){6, 0.9, NAN},
                        "prog: error: at update 6 the learning-rate schedule "
                        "gives epsilon = nan, which is not a finite number\n");
}

/* ---- Command line ---------------------------------------------------------
 */

static const mdl_program_info test_info = {"curves.mdl: nag on ae",
                                           "784-400-6-400-784",
                                           "nag",
                                           "float64",
                                           12345,
                                           NULL,
                                           NULL};

typedef struct {
  mdl_options opts;
  double epsilon, mu_max;
  mdl_setting settings[2];
} parsed;

static void default_options(parsed *p) {
  memset(p, 0, sizeof *p);
  p->opts.steps = 750000;
  p->opts.seed = 1;
  p->opts.report_every = 5000;
  p->epsilon = 0.005;
  p->mu_max = 0.999;
  p->settings[0] = (mdl_setting){"epsilon", &p->epsilon, "the learning rate"};
  p->settings[1] = (mdl_setting){"mu_max", &p->mu_max, "the largest momentum"};
}

static void parse(parsed *p, char **argv) {
  int argc = 0;
  while (argv[argc])
    argc++;
  mdl_parse_options(argc, argv, &test_info, &p->opts, p->settings, 2);
}

Test(program, options_keep_defaults_without_arguments) {
  parsed p;
  default_options(&p);
  parse(&p, (char *[]){"./prog", NULL});
  cr_assert_eq(p.opts.steps, 750000);
  cr_assert_eq(p.opts.seed, 1);
  cr_assert_eq(p.opts.report_every, 5000);
  cr_assert_null(p.opts.log_path);
  cr_assert_eq(p.opts.quiet, 0);
  cr_assert_eq(p.epsilon, 0.005);
}

Test(program, options_update_struct_and_settings) {
  parsed p;
  default_options(&p);
  parse(&p, (char *[]){"./build/prog", "--steps=10", "--seed", "3", "--set",
                       "epsilon=0.5", "--set=mu_max=0.99", "--log", "c.csv",
                       "--save-params=out.npy", "--load-params", "in.npy",
                       "--report-every", "7", "--threads=1",
                       "--check-gradients", "--quiet", NULL});
  cr_assert_eq(p.opts.steps, 10);
  cr_assert_eq(p.opts.seed, 3);
  cr_assert_eq(p.epsilon, 0.5);
  cr_assert_eq(p.mu_max, 0.99);
  cr_assert_str_eq(p.opts.log_path, "c.csv");
  cr_assert_str_eq(p.opts.save_params, "out.npy");
  cr_assert_str_eq(p.opts.load_params, "in.npy");
  cr_assert_eq(p.opts.report_every, 7);
  cr_assert_eq(p.opts.threads, 1);
  cr_assert_eq(p.opts.check_gradients, 1);
  cr_assert_eq(p.opts.quiet, 1);
  cr_assert_str_eq(mdl_program_name(), "prog");
}

Test(program, options_accept_large_seed) {
  parsed p;
  default_options(&p);
  parse(&p, (char *[]){"prog", "--seed", "18446744073709551615", NULL});
  cr_assert_eq(p.opts.seed, UINT64_MAX);
}

Test(program, options_reject_unknown_option, .exit_code = 2,
     .init = cr_redirect_stderr) {
  parsed p;
  default_options(&p);
  parse(&p, (char *[]){"prog", "--stpes", "10", NULL});
}

Test(program, options_reject_negative_steps, .exit_code = 2,
     .init = cr_redirect_stderr) {
  parsed p;
  default_options(&p);
  parse(&p, (char *[]){"prog", "--steps=-1", NULL});
}

static void parse_words(void *arg) {
  parsed p;
  default_options(&p);
  parse(&p, arg);
}

static void expect_usage_error(char **argv, const char *message) {
  captured result;
  capture(parse_words, argv, &result);
  char expected[1024];
  snprintf(expected, sizeof expected, "prog: error: %s\nTry 'prog --help'.\n",
           message);
  cr_assert_eq(result.status, 2, "%s", result.err);
  cr_assert_str_eq(result.err, expected);
}

Test(program, options_error_messages) {
  expect_usage_error((char *[]){"prog", "--set", "eta=1", NULL},
                     "unknown setting 'eta'; settings are: epsilon, mu_max");
  expect_usage_error((char *[]){"prog", "--stpes", "10", NULL},
                     "unknown option '--stpes'");
  expect_usage_error((char *[]){"prog", "-x", NULL}, "unknown option '-x'");
  expect_usage_error((char *[]){"prog", "extra", NULL},
                     "unexpected argument 'extra'");
  expect_usage_error((char *[]){"prog", "--steps", "1x", NULL},
                     "--steps needs a whole number, not '1x'");
  expect_usage_error((char *[]){"prog", "--steps", " 5", NULL},
                     "--steps needs a whole number, not ' 5'");
  expect_usage_error((char *[]){"prog", "--steps=-1", NULL},
                     "--steps must be between 0 and 9223372036854775807, not "
                     "'-1'");
  expect_usage_error((char *[]){"prog", "--report-every", "0", NULL},
                     "--report-every must be between 1 and "
                     "9223372036854775807, not '0'");
  expect_usage_error((char *[]){"prog", "--threads", "-2", NULL},
                     "--threads must be between 0 and 2147483647, not '-2'");
  expect_usage_error((char *[]){"prog", "--seed", "-1", NULL},
                     "--seed needs a whole number >= 0, not '-1'");
  expect_usage_error((char *[]){"prog", "--seed", "99999999999999999999", NULL},
                     "--seed must be below 2^64, not '99999999999999999999'");
  expect_usage_error((char *[]){"prog", "--set", "epsilon=fast", NULL},
                     "setting 'epsilon' needs a finite number, not 'fast'");
  expect_usage_error((char *[]){"prog", "--set", "epsilon=inf", NULL},
                     "setting 'epsilon' needs a finite number, not 'inf'");
  expect_usage_error((char *[]){"prog", "--set", "epsilon", NULL},
                     "--set needs NAME=VALUE, not 'epsilon'");
  expect_usage_error((char *[]){"prog", "--log", NULL},
                     "--log needs a value (FILE.csv)");
  expect_usage_error((char *[]){"prog", "--log=", NULL},
                     "--log needs a non-empty value (FILE.csv)");
  expect_usage_error((char *[]){"prog", "--quiet=1", NULL},
                     "--quiet takes no value");
}

Test(program, help_lists_options_and_settings) {
  captured result;
  capture(parse_words, (char *[]){"./prog", "--help", NULL}, &result);
  cr_assert_eq(result.status, 0);
  cr_assert_str_eq(result.err, "");
  const char *expected[] = {"Usage: prog [OPTIONS]",
                            "curves.mdl: nag on ae",
                            "784-400-6-400-784",
                            "nag",
                            "--help",
                            "--steps N",
                            "750000",
                            "--seed S",
                            "--threads N",
                            "--set NAME=VALUE",
                            "--log FILE.csv",
                            "--save-params",
                            "--load-params",
                            "--check-gradients",
                            "--report-every N",
                            "5000",
                            "--quiet",
                            "epsilon",
                            "0.005",
                            "the learning rate",
                            "mu_max",
                            "0.999",
                            "the largest momentum"};
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
    cr_assert(strstr(result.out, expected[i]), "no '%s' in:\n%s", expected[i],
              result.out);
}

Test(program, short_help_option) {
  captured result;
  capture(parse_words, (char *[]){"prog", "-h", NULL}, &result);
  cr_assert_eq(result.status, 0);
  cr_assert(strstr(result.out, "Usage: prog"), "%s", result.out);
}

/* ---- Header and progress --------------------------------------------------
 */

static void print_test_header(void *arg) {
  mdl_options opts = {.steps = 1000, .seed = 7, .quiet = *(int *)arg};
  mdl_print_header(&test_info, &opts, "curves", 20000);
}

Test(program, header_names_program_data_and_run) {
  captured result;
  int quiet = 0;
  capture(print_test_header, &quiet, &result);
  const char *expected[] = {"# program     curves.mdl: nag on ae\n",
                            "# network     784-400-6-400-784\n",
                            "# method      nag, float64, 12345 parameters\n",
                            "# data        curves, 20000 cases\n",
                            "# run         1000 updates, seed 7, "};
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
    cr_assert(strstr(result.out, expected[i]), "no '%s' in:\n%s", expected[i],
              result.out);
}

Test(program, header_is_silent_when_quiet) {
  captured result;
  int quiet = 1;
  capture(print_test_header, &quiet, &result);
  cr_assert_str_eq(result.out, "");
}

Test(program, clock_moves_forward) {
  double start = mdl_now();
  double end = mdl_now();
  cr_assert_geq(end, start);
  cr_assert_gt(start, 0);
}

typedef struct {
  const char *log_path;
  double last_error;
} progress_case;

static void run_progress(void *arg) {
  progress_case *c = arg;
  mdl_set_program_name("prog");
  mdl_options opts = {.steps = 100, .log_path = c->log_path};
  mdl_progress p;
  mdl_progress_start(&p, &opts, 0, "train_error");
  mdl_progress_report(&p, 0, 0.5, 0.01, 12.5, 0.75);
  mdl_progress_report(&p, 50, 0.9, 0.01, c->last_error, 0.5);
  mdl_progress_finish(&p, 100, 3.0, 0.25);
}

static char *temporary_path(char *dir, const char *name, char *path,
                            size_t size) {
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, size, "%s/%s", dir, name);
  return path;
}

Test(program, progress_prints_lines_and_writes_csv) {
  char dir[] = "/tmp/mdl_progress_XXXXXX", path[256];
  progress_case c = {temporary_path(dir, "curve.csv", path, sizeof path), 6.0};
  captured result;
  capture(run_progress, &c, &result);
  cr_assert_eq(result.status, -1, "%s", result.err);
  const char *expected =
      "  update        mu   epsilon   train_error        loss   upd/s       "
      "ETA\n"
      "       0  0.500000      0.01          12.5        0.75       -         "
      "-\n"
      "      50  0.900000      0.01             6         0.5  ";
  cr_assert(strncmp(result.out, expected, strlen(expected)) == 0, "%s",
            result.out);
  cr_assert(strstr(result.out, "# done: 100 updates in "), "%s", result.out);
  cr_assert(strstr(result.out, "final train_error 3, loss 0.25\n"), "%s",
            result.out);
  FILE *csv = fopen(path, "r");
  cr_assert_not_null(csv);
  char text[1024];
  read_all(csv, text, sizeof text);
  cr_assert(strstr(text, "update,mu,epsilon,train_error,loss,seconds\n0,0.5,"
                         "0.01,12.5,0.75,") == text,
            "%s", text);
  cr_assert(strstr(text, "\n50,0.9,0.01,6,0.5,"), "%s", text);
  remove(path);
  rmdir(dir);
}

/* With gradient statistics: two more columns (and the clipping and
 * saturation ones when asked for), reset after every line. */
static void run_progress_gradients(void *arg) {
  progress_case *c = arg;
  mdl_set_program_name("prog");
  mdl_options opts = {.steps = 100, .log_path = c->log_path};
  mdl_gradient_stats g = {.clip = 2, .track_saturation = 1};
  mdl_progress p;
  mdl_progress_start_with_gradients(&p, &opts, 0, "zero_one", &g);
  g.saturated = 0.25;
  mdl_progress_report(&p, 0, 0.5, 0.01, 12.5, 0.75);
  double norms[] = {1, 3, 2, 2}; /* one of four above the clip */
  for (int i = 0; i < 4; i++) {
    mdl_gradient_stats_add(&g, norms[i]);
    g.clipped += norms[i] > g.clip;
  }
  mdl_progress_report(&p, 4, 0.9, 0.01, 6, 0.5);
  cr_assert_eq(g.count, 0, "the counts start again after a line");
  cr_assert_eq(g.norm_max, 0);
  mdl_gradient_stats_add(&g, 5);
  mdl_progress_report(&p, 5, 0.9, 0.01, 5, 0.4);
  mdl_progress_finish(&p, 5, 5, 0.4);
}

Test(program, progress_reports_gradient_norms) {
  char dir[] = "/tmp/mdl_progress_XXXXXX", path[256];
  progress_case c = {temporary_path(dir, "curve.csv", path, sizeof path), 6.0};
  captured result;
  capture(run_progress_gradients, &c, &result);
  cr_assert_eq(result.status, -1, "%s", result.err);
  cr_assert(strstr(result.out, "  update        mu   epsilon      zero_one"
                               "        loss   |g| mean    |g| max  clipped"
                               "    sat   upd/s       ETA\n"),
            "%s", result.out);
  cr_assert(strstr(result.out, "0.75          -          -     0.0%    25%"),
            "%s", result.out);
  cr_assert(strstr(result.out, "0.5          2          3    25.0%    25%"),
            "%s", result.out);
  cr_assert(strstr(result.out, "0.4          5          5     0.0%    25%"),
            "%s", result.out);
  FILE *csv = fopen(path, "r");
  cr_assert_not_null(csv);
  char text[1024];
  read_all(csv, text, sizeof text);
  cr_assert(strstr(text,
                   "update,mu,epsilon,zero_one,loss,seconds,"
                   "grad_norm_mean,grad_norm_max,clipped,saturated\n") == text,
            "%s", text);
  cr_assert(strstr(text, ",,,,0.25\n4,0.9,0.01,6,0.5,"), "%s", text);
  cr_assert(strstr(text, ",2,3,1,0.25\n5,"), "%s", text);
  cr_assert(strstr(text, ",5,5,0,0.25\n"), "%s", text);
  remove(path);
  rmdir(dir);
}

/* A gradient that is NaN or Inf stops the program at that update. */
static void run_nan_gradient(void *arg) {
  (void)arg;
  mdl_set_program_name("prog");
  float g[3] = {1, NAN, 2};
  mdl_gradient_norm(42, g, MDL_F32, 3);
}

Test(program, gradient_norm_stops_on_nan) {
  captured result;
  capture(run_nan_gradient, NULL, &result);
  cr_assert_eq(result.status, 1);
  cr_assert_str_eq(result.err,
                   "prog: error: training diverged at update 42: the "
                   "gradient's norm is nan; try a smaller epsilon\n");
}

Test(program, gradient_norm_and_scale) {
  double g[2] = {3, 4};
  cr_assert_float_eq(mdl_gradient_norm(0, g, MDL_F64, 2), 5, 1e-15);
  mdl_scale(g, MDL_F64, 2, 0.5);
  cr_assert_float_eq(g[0], 1.5, 1e-15);
  cr_assert_float_eq(g[1], 2, 1e-15);
  float f[2] = {3, 4};
  cr_assert_float_eq(mdl_gradient_norm(0, f, MDL_F32, 2), 5, 1e-6);
}

Test(program, progress_stops_on_divergence) {
  char dir[] = "/tmp/mdl_progress_XXXXXX", path[256];
  progress_case c = {temporary_path(dir, "curve.csv", path, sizeof path), NAN};
  captured result;
  capture(run_progress, &c, &result);
  cr_assert_eq(result.status, 1);
  cr_assert_str_eq(result.err,
                   "prog: error: training diverged at update 50: the training "
                   "error is nan; try a smaller epsilon\n");
  remove(path);
  rmdir(dir);
}

Test(program, progress_reports_unwritable_log) {
  progress_case c = {"/nonexistent-dir/curve.csv", 1.0};
  captured result;
  capture(run_progress, &c, &result);
  cr_assert_eq(result.status, 1);
  cr_assert_str_eq(result.err, "prog: error: cannot open log file "
                               "'/nonexistent-dir/curve.csv': No such file or "
                               "directory\n");
}
