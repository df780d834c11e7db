/* test_quadratic.c — programs that minimize a quadratic (net kind
 * `quadratic`, examples/quadratic.mdl), end to end:
 *  - every θ_t of SGD, CM (eqs. 1-2) and NAG (eqs. 3-4, both forms) against
 *    the equations computed here, to rounding;
 *  - Theorem 2.1's rates as the program prints them against the spectral
 *    radius of each method's 2 × 2 step matrix, written here from eqs. 1-4
 *    (not from the theorem) and found by repeated squaring;
 *  - the rates the paths show against the theory's;
 *  - the example: its one command draws the figure, and its paths are the
 *    appendix's Figure 2 (CM swings across the high-curvature direction,
 *    NAG does not);
 *  - the options a quadratic's program takes. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define REPO TESTS_DIR "/.."

/* ---- helpers ---- */

/* A CSV of numbers with a header line: rows × cols values, row-major, and
 * the header in *header (both malloc'ed). */
static double *read_csv(const char *path, long *rows, long *cols,
                        char **header) {
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "no %s", path);
  char *line = NULL;
  size_t size = 0;
  cr_assert(getline(&line, &size, f) > 0);
  line[strcspn(line, "\n")] = '\0';
  *header = strdup(line);
  *cols = 1;
  for (const char *c = line; *c; c++)
    *cols += *c == ',';
  double *values = NULL;
  *rows = 0;
  while (getline(&line, &size, f) > 0) {
    values = realloc(values, sizeof(double) * (size_t)(*rows + 1) * *cols);
    char *at = line;
    for (long c = 0; c < *cols; c++) {
      values[*rows * *cols + c] = strtod(at, &at);
      at += *at == ',';
    }
    ++*rows;
  }
  free(line);
  fclose(f);
  return values;
}

/* The column of the CSV named `name`, or -1. */
static int column(const char *header, const char *name) {
  int c = 0;
  size_t n = strlen(name);
  for (const char *at = header; at; at = strchr(at, ','), at = at ? at + 1 : 0)
    if (strncmp(at, name, n) == 0 && (at[n] == ',' || at[n] == '\0'))
      return c;
    else
      c++;
  return -1;
}

/* The rows of the program's table of rates: after the line that names the
 * columns ("#    curvature  cm theory  measured ..."), each "# λ  theory
 * measured ..." row; "-" is NaN. Returns the rows read. */
static int read_rates(const char *output, double table[][8], int max_rows) {
  const char *at = strstr(output, "curvature ");
  cr_assert_not_null(at, "no table of rates in:\n%s", output);
  at = strchr(at, '\n');
  int rows = 0;
  while (at && strncmp(at, "\n# ", 3) == 0 && rows < max_rows) {
    at += 3;
    int k = 0;
    while (*at && *at != '\n' && k < 8) {
      while (*at == ' ')
        at++;
      if (*at == '-' && (at[1] == ' ' || at[1] == '\n')) {
        table[rows][k++] = NAN;
        at++;
      } else {
        char *end;
        table[rows][k++] = strtod(at, &end);
        cr_assert(end != at, "not a number: %.20s", at);
        at = end;
      }
    }
    rows++;
    at = strchr(at, '\n');
  }
  return rows;
}

/* ---- every θ_t, against eqs. 1-4 ---- */

static const char paths_program[] = "net bowl : quadratic {\n"
                                    "    curvatures [0.01, 1, 2.5]\n"
                                    "}\n"
                                    "init bowl { start [1, -2, 0.5] }\n"
                                    "train bowl with sgd, cm and nag {\n"
                                    "    steps 60\n"
                                    "    epsilon 0.45\n"
                                    "    last 10 { epsilon 0.3 }\n"
                                    "    mu 0.5 if t < 20 else 0.9\n"
                                    "    report every 1\n"
                                    "    log \"paths.csv\"\n"
                                    "}\n";

enum { PATH_STEPS = 60, N = 3 };

static double mu_at(long t) { return t < 20 ? 0.5 : 0.9; }
static double epsilon_at(long t) { return t >= PATH_STEPS - 10 ? 0.3 : 0.45; }

/* Compares each coordinate of a method's path in the CSV with the
 * equations: for SGD θ ← θ - ε∇f(θ); for CM eqs. 1-2; for NAG eqs. 3-4 as
 * printed, the gradient at θ + μv; ∇f(θ) = Aθ. Rounding (and clang's
 * fused multiply-adds) leave differences of a few ulps of the state. */
static void expect_path(const double *csv, long rows, const char *header,
                        long cols, const char *method) {
  const double lambda[N] = {0.01, 1, 2.5};
  double theta[N] = {1, -2, 0.5}, v[N] = {0, 0, 0}, before[N] = {1, -2, 0.5};
  char name[32];
  snprintf(name, sizeof name, "%s_theta_1", method);
  int first = column(header, name);
  cr_assert(first >= 0, "no column %s in %s", name, header);
  cr_assert_eq(rows, PATH_STEPS + 1, "a row per update");
  for (long t = 0; t <= PATH_STEPS; t++) {
    const double *row = csv + t * cols;
    cr_assert_eq(row[0], (double)t);
    for (int i = 0; i < N; i++) {
      double scale = fabs(theta[i]) + fabs(v[i]) + fabs(before[i]);
      cr_expect(fabs(row[first + i] - theta[i]) <= 1e-12 * scale,
                "%s, θ_%d at t = %ld: %.17g, the equations %.17g", method,
                i + 1, t, row[first + i], theta[i]);
    }
    if (t == PATH_STEPS)
      break;
    double mu = mu_at(t), epsilon = epsilon_at(t);
    cr_expect_eq(row[1], mu);
    cr_expect_eq(row[2], epsilon);
    for (int i = 0; i < N; i++) {
      before[i] = theta[i];
      if (strcmp(method, "sgd") == 0) {
        theta[i] -= epsilon * lambda[i] * theta[i];
      } else if (strcmp(method, "cm") == 0) {
        v[i] = mu * v[i] - epsilon * lambda[i] * theta[i]; /* eq. 1 */
        theta[i] += v[i];                                  /* eq. 2 */
      } else {
        v[i] = mu * v[i] - epsilon * lambda[i] * (theta[i] + mu * v[i]);
        theta[i] += v[i]; /* eqs. 3-4 */
      }
    }
  }
}

static void expect_paths(const char *name, const char *flags) {
  const char *dir = e2e_fresh_dir(name);
  const char *exe = e2e_compile(dir, "paths", flags, paths_program);
  cr_assert_not_null(exe);
  e2e_result r = e2e_run("cd %s && ./paths", dir);
  cr_assert_eq(r.status, 0, "%s", r.output);
  long rows, cols;
  char *header;
  char *csv_path = e2e_join(dir, "paths.csv");
  double *csv = read_csv(csv_path, &rows, &cols, &header);
  cr_expect_str_eq(header,
                   "update,mu,epsilon,sgd_f,sgd_theta_1,sgd_theta_2,"
                   "sgd_theta_3,cm_f,cm_theta_1,cm_theta_2,cm_theta_3,nag_f,"
                   "nag_theta_1,nag_theta_2,nag_theta_3");
  expect_path(csv, rows, header, cols, "sgd");
  expect_path(csv, rows, header, cols, "cm");
  expect_path(csv, rows, header, cols, "nag");
  /* f = ½ Σ λ_i θ_i² on every row. */
  const double lambda[N] = {0.01, 1, 2.5};
  for (long t = 0; t < rows; t++) {
    const double *row = csv + t * cols;
    double f = 0;
    for (int i = 0; i < N; i++)
      f += 0.5 * lambda[i] * row[8 + i] * row[8 + i];
    cr_expect(fabs(row[7] - f) <= 1e-14 * f, "cm_f at %ld", t);
  }
  free(csv);
  free(header);
  free(csv_path);
  free(r.output);
}

Test(quadratic, every_point_of_the_paths_follows_eqs_1_to_4) {
  expect_paths("quadratic_paths", "--precision double");
}

Test(quadratic, the_direct_nag_form_follows_them_too) {
  expect_paths("quadratic_paths_direct",
               "--precision double --nag-form direct");
}

/* ---- the rates: theory and paths ---- */

/* The spectral radius of a 2 × 2 matrix by Gelfand's formula, ρ(M) =
 * lim ‖M^k‖^(1/k): M squared 40 times (k = 2^40), rescaled each time. */
static double spectral_radius(double a, double b, double c, double d) {
  double log_scale = 0; /* log ‖M^k‖ so far is log_scale + log ‖M‖ */
  double k = 1;
  for (int j = 0; j < 40; j++) {
    double a2 = a * a + b * c, b2 = a * b + b * d;
    double c2 = c * a + d * c, d2 = c * b + d * d;
    double norm = fmax(fmax(fabs(a2), fabs(b2)), fmax(fabs(c2), fabs(d2)));
    if (norm == 0)
      return 0;
    log_scale = 2 * log_scale + log(norm);
    a = a2 / norm, b = b2 / norm, c = c2 / norm, d = d2 / norm;
    k *= 2;
  }
  return exp(log_scale / k);
}

/* One step along a direction of curvature λ, on (x, v), from the
 * equations themselves:
 *   SGD  x' = (1 - ελ) x
 *   CM   v' = μv - ελx,           x' = x + v'   (eqs. 1-2)
 *   NAG  v' = μv - ελ(x + μv),    x' = x + v'   (eqs. 3-4) */
static double step_radius(const char *method, double mu, double epsilon,
                          double lambda) {
  double el = epsilon * lambda;
  if (strcmp(method, "sgd") == 0)
    return spectral_radius(1 - el, 0, 0, 0);
  if (strcmp(method, "cm") == 0) /* rows: x', v' */
    return spectral_radius(1 - el, mu, -el, mu);
  return spectral_radius(1 - el, mu - el * mu, -el, mu - el * mu);
}

static const char rates_program[] =
    "net bowl : quadratic {\n"
    "    curvatures [0.001, 0.01, 0.2, 1.5, 3.5]\n"
    "}\n"
    "train bowl with sgd, cm and nag {\n"
    "    steps 2000; epsilon 0.5; mu 0.9; report every 1000\n"
    "}\n";

Test(quadratic, the_printed_theory_is_the_spectral_radius_of_each_step) {
  const char *dir = e2e_fresh_dir("quadratic_rates");
  const char *exe =
      e2e_compile(dir, "rates", "--precision double", rates_program);
  cr_assert_not_null(exe);
  e2e_result r = e2e_run("%s", exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  double table[8][8];
  cr_assert_eq(read_rates(r.output, table, 8), 5, "%s", r.output);
  const double lambda[] = {0.001, 0.01, 0.2, 1.5, 3.5};
  const char *methods[] = {"sgd", "cm", "nag"};
  for (int i = 0; i < 5; i++) {
    cr_expect_eq(table[i][0], lambda[i]);
    for (int m = 0; m < 3; m++) {
      double theory = table[i][1 + 2 * m], measured = table[i][2 + 2 * m];
      double radius = step_radius(methods[m], 0.9, 0.5, lambda[i]);
      /* printed to 6 decimals */
      cr_expect(fabs(theory - radius) <= 6e-7, "%s, λ = %g: %.6f, ρ = %.9f",
                methods[m], lambda[i], theory, radius);
      /* The path shows the rate: within a thousandth (the peaks of an
       * oscillation fall a little short of its envelope). */
      cr_expect(fabs(measured - radius) <= 1e-3,
                "%s, λ = %g: measured %.6f, ρ = %.9f", methods[m], lambda[i],
                measured, radius);
    }
  }
  /* NAG, with ελ = 1.75 > 1, has a negative effective momentum and
   * diverges where CM converges. */
  cr_expect_gt(table[4][6], 1.5);
  cr_expect_lt(table[4][4], 1);
  free(r.output);
}

/* ---- the example: Figure 2 ---- */

/* A PNG as PLplot's pngcairo driver draws it: the signature, then IHDR
 * with the figure's 960 × 640 pixels, and more than a blank page's bytes. */
static void expect_png(const char *path) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "no %s", path);
  unsigned char head[24];
  cr_assert_eq(fread(head, 1, 24, f), 24);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fclose(f);
  static const unsigned char signature[8] = {0x89, 'P',  'N',  'G',
                                             '\r', '\n', 0x1a, '\n'};
  cr_expect(memcmp(head, signature, 8) == 0, "%s is not a PNG", path);
  cr_expect(memcmp(head + 12, "IHDR", 4) == 0);
  unsigned width =
      (unsigned)head[16] << 24 | head[17] << 16 | head[18] << 8 | head[19];
  unsigned height =
      (unsigned)head[20] << 24 | head[21] << 16 | head[22] << 8 | head[23];
  cr_expect(width == 960 && height == 640, "%s: %ux%u", path, width, height);
  cr_expect_gt(size, 5000, "%s: a PNG of %ld bytes", path, size);
}

/* The command in the example's header comment, run as it is written. */
Test(quadratic, the_examples_one_command_draws_the_figure) {
  const char *dir = e2e_fresh_dir("quadratic_example");
  FILE *f = fopen(REPO "/examples/quadratic.mdl", "r");
  cr_assert_not_null(f);
  char line[512], command[512] = "";
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "#   mdlc ", 9) == 0) {
      snprintf(command, sizeof command, "%s", line + 4);
      command[strcspn(command, "\n")] = '\0';
      break;
    }
  fclose(f);
  cr_assert(strstr(command, "--plot quadratic.png"),
            "no command in the header: [%s]", command);
  /* mdlc as built, and the example where the repository has it. */
  char mdlc_dir[512];
  snprintf(mdlc_dir, sizeof mdlc_dir, "%s", MDLC);
  *strrchr(mdlc_dir, '/') = '\0';
  e2e_result r = e2e_run("cd %s && ln -sfn %s/examples examples && "
                         "PATH=%s:$PATH && %s",
                         dir, REPO, mdlc_dir, command);
  cr_assert_eq(r.status, 0, "%s\n%s", command, r.output);
  char *png = e2e_join(dir, "quadratic.png");
  expect_png(png);
  free(png);
  cr_expect(strstr(r.output, "# Rates of convergence"), "%s", r.output);
  free(r.output);
}

/* The appendix's Figure 2, in numbers: at the same μ and ε, CM's path
 * swings across the high-curvature direction θ_2 for many updates, while
 * NAG's settles almost at once, its effective momentum there being
 * μ(1 - ελ) = 0.09. */
Test(quadratic, cm_oscillates_where_nag_does_not) {
  const char *dir = e2e_fresh_dir("quadratic_figure_2");
  e2e_result r = e2e_run("%s %s/examples/quadratic.mdl -o %s/q && cd %s && "
                         "./q --log q.csv --report-every 1 --plot q.svg",
                         MDLC, REPO, dir, dir);
  cr_assert_eq(r.status, 0, "%s", r.output);
  long rows, cols;
  char *header, *path = e2e_join(dir, "q.csv");
  double *csv = read_csv(path, &rows, &cols, &header);
  int cm = column(header, "cm_theta_2"), nag = column(header, "nag_theta_2");
  cr_assert(cm > 0 && nag > 0, "%s", header);
  int cm_swings = 0, nag_swings = 0;
  for (long t = 1; t <= 100; t++) {
    const double *row = csv + t * cols, *prev = row - cols;
    /* a crossing of θ_2 = 0 while still a thousandth of the start away */
    cm_swings += row[cm] * prev[cm] < 0 && fabs(prev[cm]) > 1e-3;
    nag_swings += row[nag] * prev[nag] < 0 && fabs(prev[nag]) > 1e-3;
  }
  cr_expect_geq(cm_swings, 10, "CM crossed θ_2 = 0 %d times", cm_swings);
  /* NAG's roots there are complex too, but of modulus 0.3: it is within
   * a thousandth of 0 after two small swings ("almost entirely"). */
  cr_expect_leq(nag_swings, 2, "NAG crossed θ_2 = 0 %d times", nag_swings);
  cr_expect_gt(fabs(csv[50 * cols + cm]), 1e-2, "CM at update 50");
  cr_expect_lt(fabs(csv[50 * cols + nag]), 1e-10, "NAG at update 50");
  /* The SVG is drawn too, its legend in text. */
  char *svg = e2e_join(dir, "q.svg");
  FILE *f = fopen(svg, "r");
  cr_assert_not_null(f, "no %s", svg);
  char head[6] = "";
  cr_expect(fread(head, 1, 5, f) == 5 && strstr(head, "<"), "%s", head);
  fclose(f);
  free(svg);
  free(csv);
  free(header);
  free(path);
  free(r.output);
}

/* ---- the program's command line ---- */

static const char *small_program(const char *dir, const char *flags) {
  const char *exe = e2e_compile(dir, "small", flags,
                                "net b : quadratic { curvatures [0.1, 2] }\n"
                                "train b with cm and nag {\n"
                                "  steps 40; epsilon 0.4; mu 0.8\n"
                                "}\n");
  cr_assert_not_null(exe);
  return exe;
}

Test(quadratic, options_of_a_net_program_are_refused) {
  const char *exe = small_program(e2e_fresh_dir("quadratic_options"), "");
  const char *refused[] = {"--seed 2", "--checkpoint c", "--resume c",
                           "--save-params p.npy", "--check-gradients"};
  for (int i = 0; i < 5; i++) {
    e2e_result r = e2e_run("%s %s", exe, refused[i]);
    cr_expect_eq(r.status, 2, "%s: %s", refused[i], r.output);
    cr_expect(strstr(r.output, "is for programs that train a net on data; "
                               "this one minimizes a quadratic"),
              "%s: %s", refused[i], r.output);
    free(r.output);
  }
  e2e_result r = e2e_run("%s --plot path.jpg", exe);
  cr_expect_eq(r.status, 2, "%s", r.output);
  free(r.output);
  /* --quiet: no header and no progress table, the final line and the
   * rates all the same. */
  r = e2e_run("%s --quiet --set mu=0.5", exe);
  cr_expect_eq(r.status, 0, "%s", r.output);
  cr_expect_null(strstr(r.output, "# program"), "%s", r.output);
  cr_expect(strstr(r.output, "# done: 40 updates of cm and nag"), "%s",
            r.output);
  cr_expect(strstr(r.output, "at μ = 0.5, ε = 0.4"), "--set: %s", r.output);
  free(r.output);
}

Test(quadratic, mdlc_method_keeps_one_method) {
  const char *exe =
      small_program(e2e_fresh_dir("quadratic_method"), "--method cm");
  e2e_result r = e2e_run("%s", exe);
  cr_expect_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "# program     small.mdl: cm on b\n"), "%s",
            r.output);
  cr_expect_null(strstr(r.output, "nag"), "%s", r.output);
  free(r.output);
}
