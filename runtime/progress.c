/* progress.c — what a generated program prints as it trains: the header
 * that says what is being run, the progress lines with their rate and ETA,
 * the CSV learning curve's rows, and the final line. A NaN or Inf error
 * stops the run here, before its line. */
#include "mdl/program.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mdl/blas.h"

/* ---- The header --------------------------------------------------------- */

void mdl_print_header(const mdl_program_info *info, const mdl_options *opts,
                      const char *data_source, int n_cases) {
  if (opts->quiet)
    return;
  printf("# program     %s\n", info->title);
  printf("# network     %s\n", info->network);
  printf("# method      %s, %s, %ld parameters\n", info->method,
         info->precision, info->n_params);
  if (data_source && n_cases)
    printf("# data        %s, %d case%s\n", data_source, n_cases,
           mdl_plural(n_cases));
  else if (data_source)
    printf("# data        %s\n", data_source);
  /* --steps cuts the schedule short, or runs on past its end: say which,
   * since μ_t and ε_t follow the schedule, not the run. */
  long schedule = opts->schedule_steps > 0 ? opts->schedule_steps : opts->steps;
  char run[160];
  if (opts->steps < schedule)
    snprintf(run, sizeof run,
             "%ld of %ld updates (--steps: the first %ld of the schedule)",
             opts->steps, schedule, opts->steps);
  else if (opts->steps > schedule)
    snprintf(run, sizeof run,
             "%ld updates (--steps: %ld past the end of the schedule's %ld)",
             opts->steps, opts->steps - schedule, schedule);
  else
    snprintf(run, sizeof run, "%ld update%s", opts->steps,
             mdl_plural(opts->steps));
  printf("# run         %s, seed %llu, %d BLAS thread%s\n", run,
         (unsigned long long)opts->seed, mdl_threads(),
         mdl_plural(mdl_threads()));
  char kernels[160];
  mdl_blas_kernels(kernels, sizeof kernels);
  printf("# blas        %s\n", kernels);
  fflush(stdout);
}

void mdl_print_note(const mdl_options *opts, const char *format, ...) {
  if (opts->quiet)
    return;
  va_list ap;
  va_start(ap, format);
  fputs("# ", stdout);
  vprintf(format, ap);
  putchar('\n');
  va_end(ap);
  fflush(stdout);
}

double mdl_now(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

/* ---- Progress lines and the learning curve ------------------------------ */

void mdl_progress_start(mdl_progress *p, const mdl_options *opts,
                        long first_step, const char *error_name) {
  mdl_progress_start_with_gradients(p, opts, first_step, error_name, NULL);
}

void mdl_progress_start_with_gradients(mdl_progress *p, const mdl_options *opts,
                                       long first_step, const char *error_name,
                                       mdl_gradient_stats *gradients) {
  mdl_progress_start_with_figures(p, opts, first_step, error_name, gradients,
                                  NULL);
}

int mdl_shows_error(const mdl_progress *p) {
  return !(p->figures && p->figures->no_error_column);
}

int mdl_figure_width(const char *name) {
  int width = (int)strlen(name);
  return width > 12 ? width : 12;
}

void mdl_progress_start_with_figures(mdl_progress *p, const mdl_options *opts,
                                     long first_step, const char *error_name,
                                     mdl_gradient_stats *gradients,
                                     const mdl_figures *figures) {
  mdl_catch_stop_signals();
  p->figures = figures;
  p->gradients = gradients;
  p->steps = opts->steps;
  p->first_step = first_step;
  p->start_time = mdl_now();
  p->last_time = p->start_time;
  p->last_t = first_step;
  p->quiet = opts->quiet;
  p->error_name = error_name;
  p->csv = NULL;
  const mdl_gradient_stats *g = p->gradients;
  p->log_path = opts->log_path;
  if (opts->log_path) {
    char header[512];
    int n = snprintf(
        header, sizeof header, "update,mu,epsilon,%s%sloss,seconds%s",
        mdl_shows_error(p) ? error_name : "", mdl_shows_error(p) ? "," : "",
        g ? ",grad_norm_mean,grad_norm_max,clipped,saturated" : "");
    for (int i = 0; figures && i < figures->n; i++)
      n += snprintf(header + n, sizeof header - (size_t)n, ",%s",
                    figures->name[i]);
    int kept_first;
    p->csv = mdl_log_open(opts->log_path, header, first_step, &kept_first);
    p->logged = kept_first ? first_step : -1;
  }
  mdl_progress_plot_start(p, opts);
  if (!p->quiet) {
    printf("%8s  %8s  %8s", "update", "mu", "epsilon");
    if (mdl_shows_error(p))
      printf("  %12s", error_name);
    for (int i = 0; figures && i < figures->n; i++)
      printf("  %*s", mdl_figure_width(figures->name[i]), figures->name[i]);
    printf("  %10s", "loss");
    if (g)
      printf("  %9s  %9s", "|g| mean", "|g| max");
    if (g && g->clip > 0)
      printf("  %7s", "clipped");
    if (g && g->track_saturation)
      printf("  %5s", "sat");
    printf("  %6s  %8s\n", "upd/s", "ETA");
    fflush(stdout);
  }
}

/* The gradient statistics' part of a progress line and CSV row; "-" (or an
 * empty field) before the first update. */
static void print_gradients(FILE *out, const mdl_gradient_stats *g) {
  if (g->count)
    fprintf(out, "  %9.3g  %9.3g", g->norm_sum / (double)g->count, g->norm_max);
  else
    fprintf(out, "  %9s  %9s", "-", "-");
  if (g->clip > 0)
    fprintf(out, "  %6.1f%%",
            g->count ? 100.0 * (double)g->clipped / (double)g->count : 0.0);
  if (g->track_saturation)
    fprintf(out, "  %4.0f%%", 100 * g->saturated);
}

static void log_gradients(FILE *csv, const mdl_gradient_stats *g) {
  if (g->count)
    fprintf(csv, ",%.6g,%.6g,%ld,", g->norm_sum / (double)g->count, g->norm_max,
            g->clipped);
  else
    fprintf(csv, ",,,,");
  if (g->track_saturation)
    fprintf(csv, "%.6g", g->saturated);
}

void mdl_format_duration(char *out, size_t size, double seconds) {
  if (!isfinite(seconds) || seconds < 0) {
    snprintf(out, size, "-");
    return;
  }
  long s = lround(seconds);
  if (s >= 3600)
    snprintf(out, size, "%ldh%02ldm", s / 3600, s % 3600 / 60);
  else if (s >= 60)
    snprintf(out, size, "%ldm%02lds", s / 60, s % 60);
  else
    snprintf(out, size, "%lds", s);
}

static double rate(long updates, double seconds) {
  return updates > 0 && seconds > 0 ? (double)updates / seconds : NAN;
}

void mdl_progress_report(mdl_progress *p, long t, double mu, double epsilon,
                         double error, double loss) {
  /* A divergence stops the run before its row: no line of nan. */
  if (!isfinite(error))
    mdl_die("training diverged at update %ld: the training error is %g; "
            "try a smaller epsilon",
            t, fabs(error)); /* fabs: "nan", not "-nan" */
  if (!isfinite(loss))
    mdl_die("training diverged at update %ld: the loss is %g; "
            "try a smaller epsilon",
            t, fabs(loss));
  double now = mdl_now();
  mdl_gradient_stats *g = p->gradients;
  if (p->csv && t != p->logged) {
    fprintf(p->csv, "%ld,%.9g,%.9g,", t, mu, epsilon);
    if (mdl_shows_error(p))
      fprintf(p->csv, "%.9g,", error);
    fprintf(p->csv, "%.9g,%.3f", loss, now - p->start_time);
    if (g)
      log_gradients(p->csv, g);
    for (int i = 0; p->figures && i < p->figures->n; i++)
      fprintf(p->csv, ",%.9g", p->figures->value[i]);
    fputc('\n', p->csv);
    mdl_log_flush(p->csv, p->log_path);
  }
  if (!p->quiet) {
    double recent_rate = rate(t - p->last_t, now - p->last_time);
    /* The ETA uses the whole run's rate: steadier than the last interval. */
    double overall_rate = rate(t - p->first_step, now - p->start_time);
    long left = p->steps > t ? p->steps - t : 0;
    char eta[32], speed[32];
    mdl_format_duration(eta, sizeof eta,
                        left == 0 ? 0.0 : (double)left / overall_rate);
    if (isnan(recent_rate))
      snprintf(speed, sizeof speed, "-");
    else
      snprintf(speed, sizeof speed, "%.0f", recent_rate);
    printf("%8ld  %8.6f  %8.3g", t, mu, epsilon);
    if (mdl_shows_error(p))
      printf("  %12.6g", error);
    for (int i = 0; p->figures && i < p->figures->n; i++)
      printf("  %*.6g", mdl_figure_width(p->figures->name[i]),
             p->figures->value[i]);
    printf("  %10.6g", loss);
    if (g)
      print_gradients(stdout, g);
    printf("  %6s  %8s\n", speed, eta);
    fflush(stdout);
  }
  if (g) { /* the next line reports the updates after this one */
    g->count = g->clipped = 0;
    g->norm_sum = g->norm_max = 0;
  }
  p->last_t = t;
  p->last_time = now;
  mdl_progress_plot_add(p, t, error, loss);
}

void mdl_progress_finish(mdl_progress *p, long t, double error, double loss) {
  double elapsed = mdl_now() - p->start_time;
  long updates = t - p->first_step;
  double speed = rate(updates, elapsed);
  printf("# done: %ld update%s in %.1f s (%.0f upd/s), final ", updates,
         mdl_plural(updates), elapsed, isnan(speed) ? 0.0 : speed);
  if (mdl_shows_error(p))
    printf("%s %.6g, ", p->error_name, error);
  for (int i = 0; p->figures && i < p->figures->n; i++)
    printf("%s %.6g, ", p->figures->name[i], p->figures->value[i]);
  printf("loss %.6g\n", loss);
  fflush(stdout);
  if (p->csv) {
    mdl_log_close(p->csv, p->log_path);
    p->csv = NULL;
  }
  mdl_progress_plot_draw(p, 1);
}
