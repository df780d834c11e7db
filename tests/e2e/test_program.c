/* test_program.c — the generated program as a user meets it: --help, --set,
 * --steps and --report-every, the CSV log (by option and by `log` in the
 * .mdl), --save-params / --load-params and the documented parameter layout,
 * divergence and schedule errors, --quiet, seeds and --threads.
 *
 * All tests share one small program (a 4-5-2 tanh net fitting .npy targets
 * with NAG), compiled once by whichever test comes first; see
 * shared_program(). Its data files have absolute paths, so each test runs it
 * from a directory of its own, where `log "curve.csv"` lands. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e.h"
#include "mdl/npy.h"

enum { N_CASES = 40, N_IN = 4, N_HID = 5, N_OUT = 2 };
enum { N_PARAMS = N_IN * N_HID + N_HID + N_HID * N_OUT + N_OUT }; /* 37 */

static const char *const program_format =
    "# prog.mdl — a 4-5-2 regression net for the generated program's tests\n"
    "data pairs = npy(inputs \"%s/x.npy\", targets \"%s/y.npy\")\n"
    "\n"
    "net fit : feedforward {\n"
    "    input 4\n"
    "    layer tanh 5\n"
    "    output linear 2\n"
    "    loss squared\n"
    "}\n"
    "\n"
    "init fit {\n"
    "    weights gaussian(0.5)\n"
    "    hid1_bias 0.25\n"
    "    output_bias -0.5\n"
    "}\n"
    "\n"
    "const mu0 = 0.9\n"
    "\n"
    "train fit on pairs with nag {\n"
    "    batch 10\n"
    "    steps 100\n"
    "    seed 5\n"
    "    epsilon 0.01\n"
    "    mu mu0\n"
    "    report every 10\n"
    "    log \"curve.csv\"\n"
    "}\n";

/* The training set, a smooth function of the inputs. */
static void make_data(double x[N_CASES][N_IN], double y[N_CASES][N_OUT]) {
  for (int i = 0; i < N_CASES; i++) {
    for (int c = 0; c < N_IN; c++)
      x[i][c] = sin(1.3 * i + 0.7 * c + 0.1 * i * c);
    y[i][0] = 0.6 * x[i][0] - 0.4 * x[i][1] + 0.3;
    y[i][1] = 0.8 * x[i][2] * x[i][3] - 0.2;
  }
}

static int build_program(const char *dir, void *unused) {
  (void)unused;
  static double x[N_CASES][N_IN], y[N_CASES][N_OUT];
  make_data(x, y);
  char path[600];
  snprintf(path, sizeof path, "%s/x.npy", dir);
  e2e_write_f64(path, &x[0][0], N_CASES, N_IN);
  snprintf(path, sizeof path, "%s/y.npy", dir);
  e2e_write_f64(path, &y[0][0], N_CASES, N_OUT);
  char text[4096];
  snprintf(text, sizeof text, program_format, dir, dir);
  return e2e_compile(dir, "prog", "", text) ? 0 : -1;
}

/* The program all the tests of this file share, compiled once per run of
 * the tests (see e2e_once). */
static const char *shared_program(void) {
  const char *dir = e2e_once("program_shared", build_program, NULL);
  cr_assert_not_null(dir, "mdlc failed on the test program");
  return e2e_join(dir, "prog");
}

/* ---- Reading what the program prints ---------------------------------- */

typedef struct {
  long t;
  double mu, epsilon, error, loss;
  double grad_mean, grad_max; /* CSV only; -1 where the field is empty */
} progress_line;

/* The progress lines of an output (lines that start with a number), at most
 * max; returns how many. */
static int progress_lines(const char *output, progress_line *lines, int max) {
  int n = 0;
  for (const char *line = output; *line;) {
    const char *end = strchr(line, '\n');
    size_t length = end ? (size_t)(end - line) : strlen(line);
    char buffer[512];
    snprintf(buffer, sizeof buffer, "%.*s", (int)length, line);
    progress_line p;
    if (n < max && sscanf(buffer, "%ld %lf %lf %lf %lf", &p.t, &p.mu,
                          &p.epsilon, &p.error, &p.loss) == 5)
      lines[n++] = p;
    line += length + (end != NULL);
  }
  return n;
}

/* The rows of a CSV learning curve; -1 if the header is not the documented
 * one. seconds may be NULL. */
static int csv_rows(const char *path, progress_line *rows, double *seconds,
                    int max) {
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  char line[512];
  int n = -1;
  if (fgets(line, sizeof line, f) &&
      strcmp(line, "update,mu,epsilon,train_error,loss,seconds,"
                   "grad_norm_mean,grad_norm_max,clipped,saturated\n") == 0) {
    n = 0;
    progress_line p;
    double s;
    while (n < max && fgets(line, sizeof line, f) &&
           sscanf(line, "%ld,%lf,%lf,%lf,%lf,%lf", &p.t, &p.mu, &p.epsilon,
                  &p.error, &p.loss, &s) == 6) {
      /* the gradient's norms: empty before the first update */
      const char *field = line;
      for (int comma = 0; comma < 6 && field; comma++)
        field = strchr(field, ',') ? strchr(field, ',') + 1 : NULL;
      p.grad_mean = p.grad_max = -1;
      if (field && *field != ',')
        sscanf(field, "%lf,%lf", &p.grad_mean, &p.grad_max);
      rows[n] = p;
      if (seconds)
        seconds[n] = s;
      n++;
    }
  }
  fclose(f);
  return n;
}

static int count_lines(const char *text) {
  int n = 0;
  for (; *text; text++)
    n += *text == '\n';
  return n;
}

/* The text from the first line that starts with prefix to its end. */
static const char *line_starting(const char *text, const char *prefix) {
  for (const char *line = text; line && *line;) {
    if (strncmp(line, prefix, strlen(prefix)) == 0)
      return line;
    line = strchr(line, '\n');
    if (line)
      line++;
  }
  return NULL;
}

static int close_to(double a, double b, double tolerance) {
  return fabs(a - b) <= tolerance * fmax(fabs(a), fabs(b));
}

/* Reads a 1-D float32 or float64 .npy into doubles; returns its length. */
static long read_vector(const char *path, double *out, long max) {
  mdl_npy a;
  mdl_error err;
  if (mdl_npy_read(path, &a, &err) != 0)
    return -1;
  long n = a.rows * a.cols;
  for (long i = 0; i < n && i < max; i++)
    out[i] = a.kind == MDL_NPY_F32 ? ((const float *)a.data)[i]
                                   : ((const double *)a.data)[i];
  mdl_npy_free(&a);
  return a.ndim == 1 ? n : -2;
}

/* ---- Tests ------------------------------------------------------------- */

Test(program, help) {
  const char *exe = shared_program();
  e2e_result r = e2e_run("'%s' --help", exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect(strncmp(r.output, "Usage: prog [OPTIONS]", 21) == 0, "%s",
            r.output);
  cr_expect(strstr(r.output, "prog.mdl: nag on fit"), "%s", r.output);
  cr_expect(strstr(r.output, "4-5-2"), "%s", r.output);
  cr_expect(strstr(r.output, "nag (float32, 37 parameters)"), "%s", r.output);
  const char *options[] = {
      "-h, --help",         "--steps N",         "--schedule-steps N",
      "--seed S",           "--threads N",       "--set NAME=VALUE",
      "--log FILE.csv",     "--report-every N",  "--save-params FILE",
      "--load-params FILE", "--check-gradients", "--quiet",
  };
  for (size_t i = 0; i < sizeof options / sizeof *options; i++)
    cr_expect(strstr(r.output, options[i]), "--help does not list %s:\n%s",
              options[i], r.output);
  /* Only the options this program takes: a regression net with nag has no
   * images to save, no Gauss-Newton product and no held-out set. */
  const char *others[] = {"--save-images", "--check-gauss-newton",
                          "--compare-cg-nag", "--save-best"};
  for (size_t i = 0; i < sizeof others / sizeof *others; i++)
    cr_expect(!strstr(r.output, others[i]), "--help lists %s:\n%s", others[i],
              r.output);
  /* The defaults the .mdl declares. */
  const char *steps = strstr(r.output, "--steps N");
  cr_expect(steps && strstr(steps, "(default 100)") &&
                strstr(steps, "(default 100)") < strchr(steps, '\n'),
            "--steps should show its default 100:\n%s", r.output);
  const char *seed = strstr(r.output, "--seed S");
  cr_expect(seed && strstr(seed, "(default 5)") &&
                strstr(seed, "(default 5)") < strchr(seed, '\n'),
            "--seed should show its default 5:\n%s", r.output);
  const char *every = strstr(r.output, "--report-every N");
  cr_expect(every && strstr(every, "(default 10)") &&
                strstr(every, "(default 10)") < strchr(every, '\n'),
            "--report-every should show its default 10:\n%s", r.output);
  /* Each setting with its value. */
  const char *settings = strstr(r.output, "Settings");
  cr_assert(settings, "--help lists no settings:\n%s", r.output);
  char name[64];
  double value;
  const char *mu0 = strstr(settings, "  mu0 ");
  cr_expect(mu0 && sscanf(mu0, " %63s = %lf", name, &value) == 2 &&
                value == 0.9,
            "mu0 = 0.9 is not listed:\n%s", settings);
  const char *epsilon = strstr(settings, "  epsilon ");
  cr_expect(epsilon && sscanf(epsilon, " %63s = %lf", name, &value) == 2 &&
                value == 0.01,
            "epsilon = 0.01 is not listed:\n%s", settings);
  free(r.output);

  /* The values are the current ones: --set before --help shows through. */
  r = e2e_run("'%s' --set mu0=0.75 --steps 7 --help", exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  mu0 = strstr(r.output, "  mu0 ");
  cr_expect(mu0 && sscanf(mu0, " %63s = %lf", name, &value) == 2 &&
                value == 0.75,
            "--help after --set mu0=0.75:\n%s", r.output);
  cr_expect(strstr(r.output, "(default 7)"), "%s", r.output);
  free(r.output);
}

/* Bad options and --set of unknown names: exit 2 and a message. */
Test(program, bad_options) {
  const char *exe = shared_program();
  const char *dir = e2e_fresh_dir("program_bad_options");
  struct {
    const char *args, *message;
  } cases[] = {
      {"--set bogus=1",
       "prog: error: unknown setting 'bogus'; settings are: mu0, epsilon"},
      {"--set mu=0.5", "unknown setting 'mu'"},
      {"--set epsilon=fast",
       "setting 'epsilon' needs a finite number, not 'fast'"},
      {"--set epsilon", "--set needs NAME=VALUE"},
      {"--steps -3", "--steps must be between 0 and"},
      {"--steps 1e3", "--steps needs a whole number, not '1e3'"},
      {"--report-every 0", "--report-every must be between 1 and"},
      {"--seed -1", "--seed needs a whole number >= 0"},
      {"--frobnicate", "unknown option '--frobnicate'"},
      {"-x", "unknown option '-x'"},
      {"stray", "unexpected argument 'stray'"},
      {"--steps", "--steps needs a value"},
      {"--quiet=1", "--quiet takes no value"},
      {"--resume a.ckpt --load-params b.npy",
       "--resume continues a run from its checkpoint; it cannot also start "
       "from --load-params"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    e2e_result r = e2e_run("cd '%s' && '%s' %s", dir, exe, cases[i].args);
    cr_expect_eq(r.status, 2, "prog %s: exit status %d:\n%s", cases[i].args,
                 r.status, r.output);
    cr_expect(strstr(r.output, cases[i].message),
              "prog %s should say \"%s\", got:\n%s", cases[i].args,
              cases[i].message, r.output);
    cr_expect(strstr(r.output, "Try 'prog --help'."), "prog %s:\n%s",
              cases[i].args, r.output);
    free(r.output);
  }
  /* None of them trained (the log "curve.csv" would be there). */
  struct stat st;
  char path[600];
  snprintf(path, sizeof path, "%s/curve.csv", dir);
  cr_expect(stat(path, &st) != 0, "a bad command line still trained");
}

/* The run as written: 100 updates, a line every 10, and `log "curve.csv"`
 * in the .mdl writes the learning curve without --log. */
Test(program, default_run_and_log_in_mdl) {
  const char *exe = shared_program();
  const char *dir = e2e_fresh_dir("program_default_run");
  e2e_result r = e2e_run("cd '%s' && '%s'", dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "# program     prog.mdl: nag on fit\n"), "%s",
            r.output);
  cr_expect(strstr(r.output, "# run         100 updates, seed 5"), "%s",
            r.output);
  cr_expect(strstr(r.output, "40 cases"), "%s", r.output);
  progress_line lines[64];
  int n = progress_lines(r.output, lines, 64);
  cr_assert_eq(n, 11, "expected 11 progress lines:\n%s", r.output);
  for (int i = 0; i < n; i++) {
    cr_expect_eq(lines[i].t, 10 * i);
    cr_expect_eq(lines[i].mu, 0.9);
    cr_expect_eq(lines[i].epsilon, 0.01);
  }
  cr_expect_lt(lines[10].error, lines[0].error, "the error did not fall:\n%s",
               r.output);
  const char *done = line_starting(r.output, "# done: 100 updates");
  cr_expect(done, "no final line:\n%s", r.output);
  cr_expect_eq(e2e_number_after(done ? done : "", "final train_error"),
               lines[10].error);

  char path[600];
  snprintf(path, sizeof path, "%s/curve.csv", dir);
  progress_line rows[64];
  double seconds[64];
  int m = csv_rows(path, rows, seconds, 64);
  cr_assert_eq(m, 11, "curve.csv: %d rows (-1: missing or bad header)", m);
  for (int i = 0; i < m; i++) {
    cr_expect_eq(rows[i].t, lines[i].t);
    cr_expect(close_to(rows[i].error, lines[i].error, 1e-5), "row %d: %g %g", i,
              rows[i].error, lines[i].error);
    cr_expect(close_to(rows[i].loss, lines[i].loss, 1e-5));
    cr_expect(i == 0 || seconds[i] >= seconds[i - 1]);
    /* No gradient before the first update; after it, the mean and the
     * largest norm of the interval's gradients. */
    if (i == 0)
      cr_expect(rows[i].grad_mean == -1 && rows[i].grad_max == -1);
    else
      cr_expect(rows[i].grad_mean > 0 && rows[i].grad_max >= rows[i].grad_mean,
                "row %d: |g| mean %g max %g", i, rows[i].grad_mean,
                rows[i].grad_max);
  }
  free(r.output);
}

/* --steps and --report-every change the lines; --log writes one row per
 * line, in a file of its own choosing. */
Test(program, steps_report_every_and_log_option) {
  const char *exe = shared_program();
  const char *dir = e2e_fresh_dir("program_steps");
  e2e_result r = e2e_run(
      "cd '%s' && '%s' --steps 30 --report-every 7 --log other.csv", dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "# run         30 of 100 updates (--steps: the "
                             "first 30 of the schedule), seed 5"),
            "%s", r.output);
  progress_line lines[64];
  int n = progress_lines(r.output, lines, 64);
  long want[] = {0, 7, 14, 21, 28, 30};
  cr_assert_eq(n, 6, "expected lines at 0, 7, ..., 28, 30:\n%s", r.output);
  for (int i = 0; i < n; i++)
    cr_expect_eq(lines[i].t, want[i]);
  cr_expect(line_starting(r.output, "# done: 30 updates"), "%s", r.output);

  char path[600];
  snprintf(path, sizeof path, "%s/other.csv", dir);
  progress_line rows[64];
  int m = csv_rows(path, rows, NULL, 64);
  cr_assert_eq(m, 6, "other.csv: %d rows (-1: missing or bad header)", m);
  for (int i = 0; i < m; i++) {
    cr_expect_eq(rows[i].t, want[i]);
    cr_expect(close_to(rows[i].error, lines[i].error, 1e-5));
    cr_expect_eq(rows[i].mu, 0.9);
    cr_expect_eq(rows[i].epsilon, 0.01);
  }
  free(r.output);
}

/* --set epsilon=... changes the epsilon column and the learning curve. */
Test(program, set_epsilon) {
  const char *exe = shared_program();
  const char *dir = e2e_fresh_dir("program_set_epsilon");
  e2e_result r = e2e_run("cd '%s' && '%s' --steps 20 --set epsilon=0.0123 "
                         "--set mu0=0.5 --log e.csv",
                         dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  progress_line lines[64], rows[64];
  int n = progress_lines(r.output, lines, 64);
  cr_assert_eq(n, 3, "%s", r.output);
  for (int i = 0; i < n; i++) {
    cr_expect_eq(lines[i].epsilon, 0.0123, "line %d: epsilon %g", i,
                 lines[i].epsilon);
    cr_expect_eq(lines[i].mu, 0.5, "line %d: mu %g", i, lines[i].mu);
  }
  char path[600];
  snprintf(path, sizeof path, "%s/e.csv", dir);
  int m = csv_rows(path, rows, NULL, 64);
  cr_assert_eq(m, 3);
  for (int i = 0; i < m; i++) {
    cr_expect_eq(rows[i].epsilon, 0.0123);
    cr_expect_eq(rows[i].mu, 0.5);
  }
  free(r.output);
}

/* Train, save θ; start from it with --steps 0: the same error. The file
 * holds N_PARAMS numbers, as many as mdlc --dump-model counts. */
Test(program, save_and_load_params) {
  const char *exe = shared_program();
  const char *dir = e2e_fresh_dir("program_params");
  e2e_result r =
      e2e_run("cd '%s' && '%s' --save-params theta.npy --log a.csv", dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  r = e2e_run("cd '%s' && '%s' --steps 0 --load-params theta.npy --log b.csv",
              dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect(line_starting(r.output, "# done: 0 updates"), "%s", r.output);
  free(r.output);

  char path[600];
  progress_line a[64], b[64];
  snprintf(path, sizeof path, "%s/a.csv", dir);
  int na = csv_rows(path, a, NULL, 64);
  snprintf(path, sizeof path, "%s/b.csv", dir);
  int nb = csv_rows(path, b, NULL, 64);
  cr_assert_eq(na, 11);
  cr_assert_eq(nb, 1);
  cr_expect_eq(b[0].error, a[10].error,
               "loaded parameters give error %.9g, the run ended at %.9g",
               b[0].error, a[10].error);
  cr_expect_eq(b[0].loss, a[10].loss);
  cr_expect_neq(a[10].error, a[0].error, "training changed nothing");

  double theta[N_PARAMS + 1];
  snprintf(path, sizeof path, "%s/theta.npy", dir);
  long n = read_vector(path, theta, N_PARAMS + 1);
  r = e2e_run("'%s' --dump-model '%s/../program_shared/prog.mdl'", MDLC, dir);
  double counted = e2e_number_after(r.output, "parameters:");
  free(r.output);
  cr_expect_eq(counted, N_PARAMS);
  cr_expect_eq(n, (long)counted, "theta.npy has %ld elements (-2: not 1-D)", n);
}

/* The documented layout: for each layer above the input its weights, then
 * its biases; a weight block m × n row-major, [i * n + j] from unit i below
 * to unit j above. Checked twice: the initial θ has the declared bias
 * constants in the right places, and a θ written here by that layout gives
 * the error computed here by hand. */
Test(program, parameter_layout) {
  const char *exe = shared_program();
  const char *dir = e2e_fresh_dir("program_layout");
  e2e_result r =
      e2e_run("cd '%s' && '%s' --steps 0 --save-params init.npy", dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  char path[600];
  snprintf(path, sizeof path, "%s/init.npy", dir);
  double theta[N_PARAMS];
  cr_assert_eq(read_vector(path, theta, N_PARAMS), N_PARAMS);
  enum {
    W1 = 0,
    B1 = W1 + N_IN * N_HID,
    W2 = B1 + N_HID,
    B2 = W2 + N_HID * N_OUT
  };
  for (int i = 0; i < N_PARAMS; i++) {
    if (i >= B1 && i < W2)
      cr_expect_eq(theta[i], 0.25, "θ[%d] = %g should be hid1_bias 0.25", i,
                   theta[i]);
    else if (i >= B2)
      cr_expect_eq(theta[i], -0.5, "θ[%d] = %g should be output_bias -0.5", i,
                   theta[i]);
    else
      cr_expect(theta[i] != 0 && theta[i] != 0.25 && theta[i] != -0.5,
                "θ[%d] = %g should be a Gaussian weight", i, theta[i]);
  }

  /* A θ of our own with no symmetry, and its error by hand. */
  for (int i = 0; i < N_PARAMS; i++)
    theta[i] = 0.4 * sin(0.9 * i + 0.3) + (i % 3 == 0 ? 0.2 : -0.1);
  snprintf(path, sizeof path, "%s/mine.npy", dir);
  e2e_write_f64(path, theta, N_PARAMS, 0);
  static double x[N_CASES][N_IN], y[N_CASES][N_OUT];
  make_data(x, y);
  double error = 0;
  for (int c = 0; c < N_CASES; c++) {
    double h[N_HID];
    for (int j = 0; j < N_HID; j++) {
      double z = theta[B1 + j];
      for (int i = 0; i < N_IN; i++)
        z += x[c][i] * theta[W1 + i * N_HID + j];
      h[j] = tanh(z);
    }
    for (int k = 0; k < N_OUT; k++) {
      double out = theta[B2 + k];
      for (int j = 0; j < N_HID; j++)
        out += h[j] * theta[W2 + j * N_OUT + k];
      error += (out - y[c][k]) * (out - y[c][k]);
    }
  }
  error /= N_CASES;
  r = e2e_run("cd '%s' && '%s' --steps 0 --load-params mine.npy --log m.csv",
              dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  progress_line rows[4];
  snprintf(path, sizeof path, "%s/m.csv", dir);
  cr_assert_eq(csv_rows(path, rows, NULL, 4), 1);
  cr_expect(close_to(rows[0].error, error, 1e-5),
            "the program reports %.9g for our θ, by hand it is %.9g",
            rows[0].error, error);
}

/* Parameters of the wrong length or kind: exit 1 and a message naming the
 * file. */
Test(program, load_params_errors) {
  const char *exe = shared_program();
  const char *dir = e2e_fresh_dir("program_load_errors");
  double theta[N_PARAMS + 1] = {0};
  char path[600];
  snprintf(path, sizeof path, "%s/short.npy", dir);
  e2e_write_f64(path, theta, N_PARAMS - 1, 0);
  snprintf(path, sizeof path, "%s/matrix.npy", dir);
  e2e_write_f64(path, theta, 1, N_PARAMS);
  struct {
    const char *file, *message;
  } cases[] = {
      {"short.npy", "short.npy: expected 37 elements, found 36"},
      {"matrix.npy", "matrix.npy: expected a 1-D array of 37 elements"},
      {"absent.npy", "absent.npy"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    e2e_result r =
        e2e_run("cd '%s' && '%s' --load-params %s", dir, exe, cases[i].file);
    cr_expect_eq(r.status, 1, "%s: exit status %d:\n%s", cases[i].file,
                 r.status, r.output);
    cr_expect(strncmp(r.output, "prog: error: ", 13) == 0 &&
                  strstr(r.output, cases[i].message),
              "%s: should say \"%s\", got:\n%s", cases[i].file,
              cases[i].message, r.output);
    cr_expect_eq(count_lines(r.output), 1, "%s", r.output);
    free(r.output);
  }
}

/* Output files that cannot be written: exit 1 and a message naming them.
 * The log is opened before the first update. */
Test(program, output_file_errors) {
  const char *exe = shared_program();
  const char *dir = e2e_fresh_dir("program_output_errors");
  e2e_result r = e2e_run("cd '%s' && '%s' --log no/such/dir/x.csv", dir, exe);
  cr_expect_eq(r.status, 1, "exit status %d:\n%s", r.status, r.output);
  cr_expect(strstr(r.output, "prog: error: cannot open no/such/dir/x.csv for "
                             "writing (--log)"),
            "%s", r.output);
  progress_line lines[4];
  cr_expect_eq(progress_lines(r.output, lines, 4), 0,
               "it trained before finding the log unwritable:\n%s", r.output);
  free(r.output);
  r = e2e_run("cd '%s' && '%s' --steps 5 --save-params no/such/dir/t.npy", dir,
              exe);
  cr_expect_eq(r.status, 1, "exit status %d:\n%s", r.status, r.output);
  cr_expect(strstr(r.output, "prog: error: cannot open no/such/dir/t.npy for "
                             "writing"),
            "%s", r.output);
  free(r.output);
}

/* An unwritable --save-params is found before the first update, like an
 * unwritable --log: a mistyped path must not cost a long run. */
Test(program, save_params_path_checked_before_training) {
  const char *exe = shared_program();
  const char *dir = e2e_fresh_dir("program_save_early");
  e2e_result r = e2e_run(
      "cd '%s' && '%s' --steps 5 --save-params no/such/dir/t.npy", dir, exe);
  cr_expect_eq(r.status, 1, "exit status %d:\n%s", r.status, r.output);
  progress_line lines[16];
  cr_expect_eq(progress_lines(r.output, lines, 16), 0,
               "it trained before finding --save-params unwritable:\n%s",
               r.output);
  free(r.output);
}

/* A learning rate far too large: exit 1, "diverged", no crash. */
Test(program, divergence) {
  const char *exe = shared_program();
  const char *dir = e2e_fresh_dir("program_divergence");
  e2e_result r = e2e_run("cd '%s' && '%s' --set epsilon=1e6", dir, exe);
  cr_expect_eq(r.status, 1, "exit status %d:\n%s", r.status, r.output);
  const char *message = strstr(r.output, "prog: error: training diverged at "
                                         "update ");
  cr_expect(message, "%s", r.output);
  cr_expect(message && strstr(message, "try a smaller epsilon"), "%s",
            r.output);
  cr_expect(!line_starting(r.output, "# done"), "%s", r.output);
  free(r.output);
}

/* A divergence stops the run at the update whose gradient is NaN or Inf,
 * with no progress line of nan or inf before it (at a report every update
 * or every 10), and --save-params saves the parameters before that update:
 * exactly those a run of that many updates ends with. */
Test(program, divergence_stops_at_its_update_and_keeps_the_last_parameters) {
  const char *exe = shared_program();
  const char *dir = e2e_fresh_dir("program_divergence_update");
  long where[2];
  const char *every[] = {"1", "10"};
  for (int i = 0; i < 2; i++) {
    e2e_result r = e2e_run("cd '%s' && '%s' --set epsilon=3 --report-every "
                           "%s --save-params last%d.npy",
                           dir, exe, every[i], i);
    cr_assert_eq(r.status, 1, "exit status %d:\n%s", r.status, r.output);
    const char *message =
        strstr(r.output, "prog: error: training diverged at update ");
    cr_assert(message, "%s", r.output);
    where[i] = strtol(message + strlen("prog: error: training diverged at "
                                       "update "),
                      NULL, 10);
    char tail[256];
    snprintf(tail, sizeof tail,
             ": the gradient's norm is nan; try a smaller epsilon; the "
             "parameters before update %ld, the last the run reached, are "
             "saved in last%d.npy\n",
             where[i], i);
    cr_expect(strstr(message, tail), "%s", r.output);
    progress_line lines[128];
    int n = progress_lines(r.output, lines, 128);
    cr_expect(n > 0, "%s", r.output);
    for (int k = 0; k < n; k++)
      cr_expect(isfinite(lines[k].error) && isfinite(lines[k].loss) &&
                    lines[k].t <= where[i],
                "a line of update %ld after or at the divergence:\n%s",
                lines[k].t, r.output);
    free(r.output);
  }
  cr_assert_eq(where[0], where[1], "the reports moved the divergence");
  cr_expect(where[0] > 3, "update %ld: too early to be a test", where[0]);
  e2e_result r = e2e_run("cd '%s' && '%s' --set epsilon=3 --steps %ld "
                         "--save-params good.npy --quiet && cmp last0.npy "
                         "good.npy && cmp last1.npy good.npy",
                         dir, exe, where[0]);
  cr_expect_eq(r.status, 0, "not the parameters after %ld updates:\n%s",
               where[0], r.output);
  free(r.output);
}

/* A schedule that leaves its range after --set: exit 1 and the message,
 * before the header, the first progress line or the log. */
Test(program, schedule_out_of_range) {
  const char *exe = shared_program();
  const char *dir = e2e_fresh_dir("program_schedule");
  struct {
    const char *set, *message;
  } cases[] = {
      {"epsilon=-1", "prog: error: at update 0 the learning-rate schedule "
                     "gives epsilon = -1, which must be > 0\n"},
      {"epsilon=0", "prog: error: at update 0 the learning-rate schedule "
                    "gives epsilon = 0, which must be > 0\n"},
      {"mu0=1.5", "prog: error: at update 0 the momentum schedule gives mu = "
                  "1.5, outside [0, 1)\n"},
      {"mu0=1", "prog: error: at update 0 the momentum schedule gives mu = "
                "1, outside [0, 1)\n"},
      {"mu0=-0.1", "outside [0, 1)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    e2e_result r = e2e_run("cd '%s' && '%s' --set %s --report-every 1", dir,
                           exe, cases[i].set);
    cr_expect_eq(r.status, 1, "--set %s: exit status %d:\n%s", cases[i].set,
                 r.status, r.output);
    cr_expect(strstr(r.output, cases[i].message), "--set %s:\n%s", cases[i].set,
              r.output);
    cr_expect(!strstr(r.output, "# program"), "--set %s: it started:\n%s",
              cases[i].set, r.output);
    progress_line lines[4];
    cr_expect_eq(progress_lines(r.output, lines, 4), 0, "--set %s:\n%s",
                 cases[i].set, r.output);
    free(r.output);
  }
  struct stat st;
  char path[600];
  snprintf(path, sizeof path, "%s/curve.csv", dir);
  cr_expect(stat(path, &st) != 0, "a refused --set still wrote the log");
}

/* --quiet: only the final line (the log is still written). */
Test(program, quiet) {
  const char *exe = shared_program();
  const char *dir = e2e_fresh_dir("program_quiet");
  e2e_result r = e2e_run("cd '%s' && '%s' --quiet", dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect_eq(count_lines(r.output), 1, "--quiet printed:\n%s", r.output);
  cr_expect(strncmp(r.output, "# done: 100 updates in ", 23) == 0, "%s",
            r.output);
  char path[600];
  progress_line rows[64];
  snprintf(path, sizeof path, "%s/curve.csv", dir);
  cr_expect_eq(csv_rows(path, rows, NULL, 64), 11);
  free(r.output);
}

/* The same seed gives the same run; another seed another start. */
Test(program, seeds) {
  const char *exe = shared_program();
  const char *dir = e2e_fresh_dir("program_seeds");
  e2e_result first = e2e_run("cd '%s' && '%s'", dir, exe);
  e2e_result again = e2e_run("cd '%s' && '%s' --seed 5", dir, exe);
  e2e_result other = e2e_run("cd '%s' && '%s' --seed 6", dir, exe);
  cr_assert_eq(first.status, 0, "%s", first.output);
  cr_assert_eq(again.status, 0, "%s", again.output);
  cr_assert_eq(other.status, 0, "%s", other.output);
  progress_line a[64], b[64], c[64];
  int na = progress_lines(first.output, a, 64);
  int nb = progress_lines(again.output, b, 64);
  int nc = progress_lines(other.output, c, 64);
  cr_assert_eq(na, 11);
  cr_assert_eq(nb, 11);
  cr_assert_eq(nc, 11);
  /* Everything but the timings is the same. */
  for (int i = 0; i < na; i++)
    cr_expect(a[i].t == b[i].t && a[i].mu == b[i].mu &&
                  a[i].epsilon == b[i].epsilon && a[i].error == b[i].error &&
                  a[i].loss == b[i].loss,
              "line %d differs between two runs with seed 5:\n%s\n%s", i,
              first.output, again.output);
  cr_expect(strstr(other.output, "seed 6"), "%s", other.output);
  cr_expect_neq(c[0].error, a[0].error,
                "--seed 6 starts from the same error as seed 5");
  free(first.output);
  free(again.output);
  free(other.output);
}

Test(program, one_thread) {
  const char *exe = shared_program();
  const char *dir = e2e_fresh_dir("program_threads");
  e2e_result r = e2e_run("cd '%s' && '%s' --threads 1 --steps 20", dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, ", 1 BLAS thread\n"), "%s", r.output);
  cr_expect(line_starting(r.output, "# done: 20 updates"), "%s", r.output);
  free(r.output);
}

/* The header names OpenBLAS's kernels, since a float32 run's numbers depend
 * on them, and says whether OPENBLAS_CORETYPE chose them: first OpenBLAS's
 * own choice, then the same core asked for by name. */
Test(program, header_names_the_blas_kernels) {
  const char *exe = shared_program();
  const char *dir = e2e_fresh_dir("program_kernels");
  e2e_result own =
      e2e_run("cd '%s' && env -u OPENBLAS_CORETYPE '%s' --threads 1 --steps 0",
              dir, exe);
  cr_assert_eq(own.status, 0, "%s", own.output);
  const char *line = line_starting(own.output, "# blas        OpenBLAS ");
  cr_assert(line, "%s", own.output);
  cr_expect(strstr(line, " kernels (its choice for this CPU)\n"), "%s", line);
  /* "..., Cooperlake kernels (...": the core's name is the word before */
  const char *kernels = strstr(line, " kernels (");
  cr_assert(kernels);
  const char *name = kernels;
  while (name > line && name[-1] != ' ')
    name--;
  int len = (int)(kernels - name);
  cr_assert(len > 0 && len < 32, "%s", line);
  e2e_result forced =
      e2e_run("cd '%s' && OPENBLAS_CORETYPE='%.*s' '%s' --threads 1 --steps 0",
              dir, len, name, exe);
  cr_assert_eq(forced.status, 0, "%s", forced.output);
  char want[96];
  snprintf(want, sizeof want, "%.*s kernels (OPENBLAS_CORETYPE=%.*s)\n", len,
           name, len, name);
  cr_expect(strstr(forced.output, want), "want '%s' in\n%s", want,
            forced.output);
  free(own.output);
  free(forced.output);
}

/* One of a thing is not "1 things": one update, one case of data. */
Test(program, one_update_is_singular) {
  const char *exe = shared_program();
  const char *dir = e2e_fresh_dir("program_one_update");
  e2e_result r = e2e_run("cd '%s' && '%s' --threads 1 --schedule-steps 1 "
                         "--report-every 1",
                         dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "# run         1 update, seed 5, 1 BLAS "
                             "thread\n"),
            "%s", r.output);
  cr_expect(line_starting(r.output, "# done: 1 update in "), "%s", r.output);
  free(r.output);
}
