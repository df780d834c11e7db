/* hf_progress.c — what an HF program shows and keeps: its progress lines
 * and learning curve, its checkpoints, and the table of the Figure-5
 * experiment; see mdl/hf.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdl/checkpoint.h"
#include "mdl/hf.h"

void mdl_hf_progress_start(mdl_hf_progress *p, const mdl_options *opts,
                           long first_step, const char *error_name) {
  mdl_hf_progress_start_with_figures(p, opts, first_step, error_name, NULL);
}

void mdl_hf_progress_start_with_figures(mdl_hf_progress *p,
                                        const mdl_options *opts,
                                        long first_step, const char *error_name,
                                        const mdl_figures *figures) {
  memset(p, 0, sizeof *p);
  mdl_catch_stop_signals();
  mdl_progress *b = &p->base;
  b->steps = opts->steps;
  b->first_step = first_step;
  b->start_time = b->last_time = mdl_now();
  b->last_t = first_step;
  b->quiet = opts->quiet;
  b->error_name = error_name;
  b->log_path = opts->log_path;
  b->figures = figures;
  if (opts->log_path) {
    char header[512];
    int n = snprintf(header, sizeof header,
                     "update,lambda,rho,cg_steps,rate,decay,%s%sloss,"
                     "seconds_per_update,ms_per_cg_step,seconds",
                     mdl_shows_error(b) ? error_name : "",
                     mdl_shows_error(b) ? "," : "");
    for (int i = 0; figures && i < figures->n; i++)
      n += snprintf(header + n, sizeof header - (size_t)n, ",%s",
                    figures->name[i]);
    int kept_first;
    b->csv = mdl_log_open(opts->log_path, header, first_step, &kept_first);
    b->logged = kept_first ? first_step : -1;
  }
  mdl_progress_plot_start(b, opts);
  if (!b->quiet) {
    printf("%8s  %9s  %8s  %5s  %6s", "update", "lambda", "rho", "cg", "rate");
    if (mdl_shows_error(b))
      printf("  %12s", error_name);
    for (int i = 0; figures && i < figures->n; i++)
      printf("  %*s", mdl_figure_width(figures->name[i]), figures->name[i]);
    printf("  %10s  %7s  %8s\n", "loss", "s/upd", "ETA");
    fflush(stdout);
  }
}

void mdl_hf_progress_add(mdl_hf_progress *p, const mdl_hf_report *r) {
  p->last = *r;
  p->updates++;
  p->update_seconds += r->seconds;
  p->cg_steps += r->cg_steps;
  p->cg_seconds += r->cg_seconds;
  p->cg_products += r->cg_products;
  p->total_cg_steps += r->cg_steps;
}

void mdl_hf_progress_report(mdl_hf_progress *p, long t, double decay,
                            double error, double loss) {
  mdl_progress *b = &p->base;
  double now = mdl_now();
  /* Before the first update there is no λ, ρ or CG step to show. */
  int none = p->updates == 0;
  double cg = none ? NAN : (double)p->cg_steps / p->updates;
  double per_update = none ? NAN : p->update_seconds / p->updates;
  double ms_per_cg_step =
      p->cg_products == 0 ? NAN : 1e3 * p->cg_seconds / p->cg_products;
  double lambda = none ? NAN : p->last.lambda_after;
  double rho = none ? NAN : p->last.rho;
  double rate = none ? NAN : p->last.rate;
  if (b->csv && t != b->logged) {
    fprintf(b->csv, "%ld,%.9g,%.9g,%.6g,%.9g,%.9g,", t, lambda, rho, cg, rate,
            decay);
    if (mdl_shows_error(b))
      fprintf(b->csv, "%.9g,", error);
    fprintf(b->csv, "%.9g,%.6g,%.6g,%.3f", loss, per_update, ms_per_cg_step,
            now - b->start_time);
    for (int i = 0; b->figures && i < b->figures->n; i++)
      fprintf(b->csv, ",%.9g", b->figures->value[i]);
    fputc('\n', b->csv);
    mdl_log_flush(b->csv, b->log_path);
  }
  if (!b->quiet) {
    long left = b->steps > t ? b->steps - t : 0;
    double so_far = t > b->first_step
                        ? (now - b->start_time) / (double)(t - b->first_step)
                        : NAN;
    char eta[32];
    mdl_format_duration(eta, sizeof eta, left == 0 ? 0.0 : left * so_far);
    if (none)
      printf("%8ld  %9s  %8s  %5s  %6s", t, "-", "-", "-", "-");
    else
      printf("%8ld  %9.4g  %8.3g  %5.0f  %6.3g", t, lambda, rho, cg, rate);
    if (mdl_shows_error(b))
      printf("  %12.6g", error);
    for (int i = 0; b->figures && i < b->figures->n; i++)
      printf("  %*.6g", mdl_figure_width(b->figures->name[i]),
             b->figures->value[i]);
    if (none)
      printf("  %10.6g  %7s  %8s\n", loss, "-", eta);
    else
      printf("  %10.6g  %7.3g  %8s\n", loss, per_update, eta);
    fflush(stdout);
  }
  b->last_t = t;
  b->last_time = now;
  p->updates = 0;
  p->update_seconds = 0;
  p->cg_steps = 0;
  p->cg_seconds = 0;
  p->cg_products = 0;
  mdl_progress_plot_add(b, t, error, loss);
  if (!isfinite(error) || !isfinite(loss))
    mdl_die("training diverged at update %ld: the %s is %g and the loss %g", t,
            b->error_name, fabs(error), fabs(loss));
}

void mdl_hf_progress_finish(mdl_hf_progress *p, long t, double error,
                            double loss) {
  mdl_progress *b = &p->base;
  double elapsed = mdl_now() - b->start_time;
  long updates = t - b->first_step;
  printf("# done: %ld update%s (%ld CG step%s) in %.1f s, final ", updates,
         mdl_plural(updates), p->total_cg_steps, mdl_plural(p->total_cg_steps),
         elapsed);
  if (mdl_shows_error(b))
    printf("%s %.6g, ", b->error_name, error);
  for (int i = 0; b->figures && i < b->figures->n; i++)
    printf("%s %.6g, ", b->figures->name[i], b->figures->value[i]);
  printf("loss %.6g\n", loss);
  fflush(stdout);
  if (b->csv) {
    mdl_log_close(b->csv, b->log_path);
    b->csv = NULL;
  }
  mdl_progress_plot_draw(b, 1);
}

/* ---- Checkpoints: θ, then λ and the hot start ---- */

enum { HF_STATE = 3 };

int mdl_hf_checkpoint_save(const char *path, long t, const void *theta,
                           const mdl_hf *hf, const mdl_batcher *batches,
                           mdl_error *err) {
  long n = hf->net.n_params;
  double *state = mdl_alloc((size_t)(n + 1) * sizeof(double));
  state[0] = hf->lambda;
  memcpy(state + 1, hf->previous, (size_t)n * sizeof(double));
  int rc = mdl_checkpoint_save_state(path, t, theta, hf->net.type, n, HF_STATE,
                                     state, (size_t)(n + 1) * sizeof(double),
                                     batches, err);
  free(state);
  return rc;
}

int mdl_hf_checkpoint_load(const char *path, long *t, void *theta, mdl_hf *hf,
                           mdl_batcher *batches, mdl_error *err) {
  long n = hf->net.n_params;
  double *state = mdl_alloc((size_t)(n + 1) * sizeof(double));
  int rc = mdl_checkpoint_load_state(path, t, theta, hf->net.type, n, HF_STATE,
                                     state, (size_t)(n + 1) * sizeof(double),
                                     batches, err);
  if (rc == 0 && !(state[0] > 0 && isfinite(state[0])))
    rc = mdl_fail(err, "checkpoint %s is damaged (lambda %g)", path, state[0]);
  if (rc == 0) {
    hf->lambda = state[0];
    memcpy(hf->previous, state + 1, (size_t)n * sizeof(double));
  }
  free(state);
  return rc;
}

/* ---- Figure 5 ---- */

int mdl_hf_comparison_write(const char *path,
                            const mdl_hf_compare_settings *settings,
                            const mdl_hf_comparison *result, int every,
                            mdl_error *err) {
  FILE *f = fopen(path, "w");
  if (!f)
    return mdl_fail(err, "cannot write %s", path);
  int precondition = result->cg_preconditioned != NULL;
  fprintf(f, "iteration,cg,%snag\n", precondition ? "cg_preconditioned," : "");
  printf("# the quadratic q(p) = g'p + p'(G + lambda I)p/2 of this point, "
         "minimized from p = 0\n");
  printf("# CG took %d step%s", result->cg_steps, mdl_plural(result->cg_steps));
  if (precondition)
    printf(" (%d preconditioned)", result->cg_preconditioned_steps);
  printf("; NAG ran with rate 1/L = %.4g (L = %.4g) and mu %g\n",
         result->nag_rate, result->largest_eigenvalue, settings->mu);
  printf("%9s  %14s  %s%14s\n", "iteration", "q (CG)",
         precondition ? "q (CG, precond.)  " : "", "q (NAG)");
  for (int i = 0; i <= settings->iterations; i++) {
    if (precondition)
      fprintf(f, "%d,%.12g,%.12g,%.12g\n", i, result->cg[i],
              result->cg_preconditioned[i], result->nag[i]);
    else
      fprintf(f, "%d,%.12g,%.12g\n", i, result->cg[i], result->nag[i]);
    if (i % every == 0 || i == settings->iterations) {
      if (precondition)
        printf("%9d  %14.8g  %16.8g  %14.8g\n", i, result->cg[i],
               result->cg_preconditioned[i], result->nag[i]);
      else
        printf("%9d  %14.8g  %14.8g\n", i, result->cg[i], result->nag[i]);
    }
  }
  fflush(stdout);
  if (fclose(f) != 0)
    return mdl_fail(err, "cannot write %s", path);
  return 0;
}
