/* quadratic.c — the services of a program that minimizes a quadratic; see
 * mdl/quadratic.h. The paths are kept whole (a quadratic has few
 * coordinates), so that the progress table, the CSV, the measured rates
 * and the figure are all made from the same numbers after the runs. */
#include "mdl/quadratic.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdl/plot.h"

void mdl_path_start(mdl_path *path, const char *method, int n, long steps) {
  *path = (mdl_path){.method = method, .n = n, .steps = steps};
  if (steps < 0 || (size_t)steps + 1 > (size_t)-1 / sizeof(double) / (size_t)n)
    mdl_die("a path of %ld updates does not fit in memory", steps);
  path->theta = mdl_alloc(sizeof(double) * (size_t)n * ((size_t)steps + 1));
}

void mdl_path_keep(mdl_path *path, long t, const void *theta, mdl_dtype dtype) {
  path->dtype = dtype;
  for (int i = 0; i < path->n; i++)
    path->theta[t * path->n + i] = mdl_get(theta, dtype, (size_t)i);
}

double mdl_quadratic_value(const mdl_quadratic *q, const mdl_path *path,
                           long t) {
  const double *theta = path->theta + t * path->n;
  double f = 0;
  for (int i = 0; i < q->n; i++)
    f += 0.5 * q->curvature[i] * theta[i] * theta[i];
  return f;
}

/* ---- The measured rate ---- */

/* The least-squares slope of y against t over the points kept. */
static double slope(const double *t, const double *y, long n) {
  double t_mean = 0, y_mean = 0;
  for (long k = 0; k < n; k++) {
    t_mean += t[k];
    y_mean += y[k];
  }
  t_mean /= (double)n;
  y_mean /= (double)n;
  double num = 0, den = 0;
  for (long k = 0; k < n; k++) {
    num += (t[k] - t_mean) * (y[k] - y_mean);
    den += (t[k] - t_mean) * (t[k] - t_mean);
  }
  return num / den;
}

/* |θ_i| at update t of a path. */
static double size_at(const mdl_path *path, long t, int i) {
  return fabs(path->theta[t * path->n + i]);
}

double mdl_path_rate(const mdl_path *path, int i) {
  double floor = path->dtype == MDL_F32 ? 1e-30 : 1e-290;
  /* The last update before the coordinate is lost in rounding, or runs
   * off to infinity. */
  long last = -1;
  while (last < path->steps && size_at(path, last + 1, i) > floor &&
         isfinite(size_at(path, last + 1, i)))
    last++;
  long first = last / 2, n = last - first + 1;
  if (last - first < 4)
    return NAN;
  double *t = mdl_alloc(sizeof(double) * (size_t)n);
  double *y = mdl_alloc(sizeof(double) * (size_t)n);
  /* The peaks first; a path that does not oscillate has at most one. */
  long kept = 0;
  for (long s = first + 1; s < last; s++) {
    double here = size_at(path, s, i);
    if (here >= size_at(path, s - 1, i) && here >= size_at(path, s + 1, i)) {
      t[kept] = (double)s;
      y[kept++] = log(here);
    }
  }
  if (kept < 2) {
    kept = 0;
    for (long s = first; s <= last; s++) {
      t[kept] = (double)s;
      y[kept++] = log(size_at(path, s, i));
    }
  }
  double rate = exp(slope(t, y, kept));
  free(t);
  free(y);
  return rate;
}

/* ---- What the program prints and logs ---- */

/* "cm and nag", "sgd, cm and nag" */
static void print_methods(FILE *out, const mdl_path *paths, int n_paths) {
  for (int k = 0; k < n_paths; k++)
    fprintf(out, "%s%s",
            k == 0             ? ""
            : k == n_paths - 1 ? " and "
                               : ", ",
            paths[k].method);
}

static void print_vector(const double *x, int n) {
  putchar('(');
  for (int i = 0; i < n; i++)
    printf("%s%g", i ? ", " : "", x[i]);
  putchar(')');
}

void mdl_quadratic_header(const mdl_program_info *info, const mdl_options *opts,
                          const mdl_quadratic *q) {
  if (opts->quiet)
    return;
  printf("# program     %s\n", info->title);
  printf("# objective   f(θ) = ½ θᵀAθ, A = diag");
  print_vector(q->curvature, q->n);
  printf(", from θ_0 = ");
  print_vector(q->start, q->n);
  printf(", v_0 = 0\n");
  printf("# method      %s, %s, %d coordinate%s\n", info->method,
         info->precision, q->n, mdl_plural(q->n));
  long schedule = opts->schedule_steps > 0 ? opts->schedule_steps : opts->steps;
  printf("# run         %ld update%s", opts->steps, mdl_plural(opts->steps));
  if (opts->steps < schedule)
    printf(" (--steps: the first %ld of the schedule's %ld)", opts->steps,
           schedule);
  else if (opts->steps > schedule)
    printf(" (--steps: %ld past the end of the schedule's %ld)",
           opts->steps - schedule, schedule);
  putchar('\n');
  fflush(stdout);
}

/* A column title as wide as `width` characters on the screen: θ is two
 * bytes of UTF-8 but one character. */
static void print_title(const char *title, int width) {
  int bytes = (int)strlen(title), chars = 0;
  for (const char *c = title; *c; c++)
    chars += ((unsigned char)*c & 0xC0) != 0x80;
  printf("  %*s", width + bytes - chars, title);
}

enum { F_WIDTH = 11, THETA_WIDTH = 10 };

static char *csv_header(const mdl_path *paths, int n_paths, int n) {
  size_t size = 64;
  for (int k = 0; k < n_paths; k++)
    size += (strlen(paths[k].method) + 20) * ((size_t)n + 1);
  char *header = mdl_alloc(size);
  int used = snprintf(header, size, "update,mu,epsilon");
  for (int k = 0; k < n_paths; k++) {
    used +=
        snprintf(header + used, size - (size_t)used, ",%s_f", paths[k].method);
    for (int i = 0; i < n; i++)
      used += snprintf(header + used, size - (size_t)used, ",%s_theta_%d",
                       paths[k].method, i + 1);
  }
  return header;
}

void mdl_quadratic_progress(const mdl_options *opts, const mdl_quadratic *q,
                            const mdl_path *paths, int n_paths,
                            mdl_schedule_fn mu, mdl_schedule_fn epsilon) {
  long steps = paths[0].steps;
  int show_theta = q->n <= 2;
  void *csv = NULL;
  if (opts->log_path) {
    char *header = csv_header(paths, n_paths, q->n);
    int kept_first;
    csv = mdl_log_open(opts->log_path, header, 0, &kept_first);
    free(header);
  }
  if (!opts->quiet) {
    printf("%8s  %8s  %8s", "update", "mu", "epsilon");
    for (int k = 0; k < n_paths; k++) {
      char title[64];
      snprintf(title, sizeof title, "%s f", paths[k].method);
      print_title(title, F_WIDTH);
      for (int i = 0; show_theta && i < q->n; i++) {
        snprintf(title, sizeof title, "%s θ_%d", paths[k].method, i + 1);
        print_title(title, THETA_WIDTH);
      }
    }
    putchar('\n');
  }
  for (long t = 0; t <= steps; t++) {
    if (t % opts->report_every != 0 && t != steps)
      continue;
    /* The rates of the update that follows θ_t; the last θ has none. */
    double m = mu ? mu((double)t) : 0, e = epsilon((double)t);
    if (csv)
      fprintf(csv, "%ld,%.17g,%.17g", t, m, e);
    if (!opts->quiet)
      printf("%8ld  %8.6f  %8.3g", t, m, e);
    for (int k = 0; k < n_paths; k++) {
      const double *theta = paths[k].theta + t * q->n;
      double f = mdl_quadratic_value(q, &paths[k], t);
      if (csv) {
        fprintf(csv, ",%.17g", f); /* exact: the path's every digit */
        for (int i = 0; i < q->n; i++)
          fprintf(csv, ",%.17g", theta[i]);
      }
      if (!opts->quiet) {
        printf("  %*.4g", F_WIDTH, f);
        for (int i = 0; show_theta && i < q->n; i++)
          printf("  %*.4g", THETA_WIDTH, theta[i]);
      }
    }
    if (csv)
      fputc('\n', csv);
    if (!opts->quiet)
      putchar('\n');
  }
  if (csv)
    mdl_log_close(csv, opts->log_path);
  printf("# done: %ld update%s of ", steps, mdl_plural(steps));
  print_methods(stdout, paths, n_paths);
  printf("; final f:");
  for (int k = 0; k < n_paths; k++)
    printf("%s %s %.6g", k ? "," : "", paths[k].method,
           mdl_quadratic_value(q, &paths[k], steps));
  putchar('\n');
  fflush(stdout);
}

/* A rate to 6 decimals, or "-" when it could not be measured. */
static void print_rate(double rate, int width) {
  if (isnan(rate))
    printf("  %*s", width, "-");
  else
    printf("  %*.6f", width, rate);
}

void mdl_quadratic_rates(const mdl_quadratic *q, const mdl_path *paths,
                         int n_paths, const double *predicted, double mu,
                         double epsilon) {
  printf("# Rates of convergence along each eigendirection, the factor by "
         "which |θ_i| shrinks\n# per update: theory, Theorem 2.1's at ");
  if (!isnan(mu))
    printf("μ = %g, ", mu);
  printf("ε = %g; measured, the path's over the second half of the run\n",
         epsilon);
  printf("# %12s", "curvature");
  for (int k = 0; k < n_paths; k++) {
    char title[64];
    snprintf(title, sizeof title, "%s theory", paths[k].method);
    printf("  %14s  %10s", title, "measured");
  }
  putchar('\n');
  for (int i = 0; i < q->n; i++) {
    printf("# %12g", q->curvature[i]);
    for (int k = 0; k < n_paths; k++) {
      print_rate(predicted[k * q->n + i], 14);
      print_rate(mdl_path_rate(&paths[k], i), 10);
    }
    putchar('\n');
  }
  fflush(stdout);
}

/* ---- The figure ---- */

int mdl_quadratic_plot(const char *file, const char *title,
                       const mdl_path *paths, int n_paths, double mu,
                       double epsilon, mdl_error *err) {
  const char *device = mdl_plot_device(file);
  if (!device)
    return mdl_fail(err, "%s: a figure is a .png or a .svg file", file);
  if (mdl_plot_check_device(device, err) != 0)
    return -1;
  int plane = paths[0].n >= 2;
  long points = paths[0].steps + 1;
  /* A program compares sgd, cm and nag at most: room to spare. */
  enum { MAX_PATHS = 8 };
  mdl_plot_line lines[MAX_PATHS];
  double *x[MAX_PATHS], *y[MAX_PATHS];
  char *labels[MAX_PATHS];
  if (n_paths > MAX_PATHS)
    n_paths = MAX_PATHS;
  for (int k = 0; k < n_paths; k++) {
    const mdl_path *p = &paths[k];
    x[k] = mdl_alloc(sizeof(double) * (size_t)points);
    y[k] = mdl_alloc(sizeof(double) * (size_t)points);
    for (long t = 0; t < points; t++) {
      x[k][t] = plane ? p->theta[t * p->n] : (double)t;
      y[k][t] = p->theta[t * p->n + (plane ? 1 : 0)];
    }
    /* "CM", as the paper names it */
    labels[k] = mdl_alloc(strlen(p->method) + 1);
    for (size_t c = 0; c <= strlen(p->method); c++)
      labels[k][c] = (char)toupper((unsigned char)p->method[c]);
    lines[k] = (mdl_plot_line){labels[k], (int)points, x[k], y[k]};
  }
  char full_title[512];
  title = title ? title : mdl_program_name();
  if (isnan(mu))
    snprintf(full_title, sizeof full_title, "%s, ε = %g", title, epsilon);
  else
    snprintf(full_title, sizeof full_title, "%s, μ = %g, ε = %g", title, mu,
             epsilon);
  mdl_plot plot = {full_title,
                   plane ? "θ1" : "updates",
                   plane ? "θ2" : "θ1",
                   MDL_PLOT_LINEAR,
                   n_paths,
                   lines};
  /* Drawn beside the file, then renamed over it: never half a figure. */
  size_t size = strlen(file) + 5;
  char *tmp = mdl_alloc(size);
  snprintf(tmp, size, "%s.tmp", file);
  int rc = mdl_plot_write(tmp, device, &plot, err);
  if (rc == 0 && rename(tmp, file) != 0)
    rc = mdl_fail(err, "cannot write %s: %s", file, strerror(errno));
  if (rc != 0)
    remove(tmp);
  free(tmp);
  for (int k = 0; k < n_paths; k++) {
    free(x[k]);
    free(y[k]);
    free(labels[k]);
  }
  return rc;
}
