/* sweep_report.c — REPORT.md: the table laid out as the paper's (its rows
 * and columns as the sweep file names them), every value tried, the runs
 * that failed, and a figure of learning curves per row. It reads only the
 * records, so it can be made at any time, also while the sweep runs. */
#include "plot.h"
#include "sweep.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct {
  const SweepPlan *plan;
  RunRecord *records;
  FILE *out;
} Report;

static const char *figure(double x) { return arena_printf("%.3g", x); }

/* The words of a cell that has no figure, or NULL when it has one. */
static const char *no_figure(const SweepCell *cell, const CellScore *cs) {
  if (cell->skipped)
    return "—";
  if (cs->best >= 0)
    return NULL;
  int diverged = 0, failed = 0, total = 0;
  for (int i = 0; i < cell->n_combos; i++) {
    const ComboScore *s = &cs->combos[i];
    diverged += s->n_diverged;
    failed += s->n_failed;
    total += s->n_ok + s->n_diverged + s->n_failed + s->n_missing;
  }
  if (diverged + failed == 0)
    return "not run yet";
  return arena_printf(
      "%s (%d of %s)", diverged >= failed ? "diverged" : "failed",
      diverged >= failed ? diverged : failed, count_of(total, "run"));
}

static int cell_missing(const CellScore *cs, const SweepCell *cell) {
  int n = 0;
  for (int i = 0; i < cell->n_combos && !cell->skipped; i++)
    n += cs->combos[i].n_missing;
  return n;
}

/* "0.0123 ± 0.004 (ε 1e-4, 4/4 seeds)" */
static const char *cell_text(const Report *R, const SweepCell *cell,
                             const CellScore *cs) {
  const char *none = no_figure(cell, cs);
  if (none)
    return none;
  const ComboScore *s = &cs->combos[cs->best];
  int n_seeds = R->plan->sweep->n_seeds;
  const char *text = figure(s->mean);
  if (s->n_ok > 1)
    text = arena_printf("%s ± %.2g", text, s->spread);
  const char *why = sweep_combo_text(cell, cs->best);
  text = arena_printf("%s (%s%s%d/%d seeds", text, why, *why ? ", " : "",
                      s->n_ok, n_seeds);
  if (s->n_diverged)
    text = arena_printf("%s, %d diverged", text, s->n_diverged);
  if (s->n_failed)
    text = arena_printf("%s, %d failed", text, s->n_failed);
  text = arena_printf("%s)", text);
  return cell_missing(cs, cell) ? arena_printf("%s \\*", text) : text;
}

/* Markdown cells cannot hold '|'. */
static const char *md(const char *s) {
  const char *out = "";
  for (const char *p = s; *p; p++)
    out = arena_printf("%s%s", out, *p == '|' ? "\\|" : arena_strndup(p, 1));
  return out;
}

static void main_table(Report *R, CellScore *scores) {
  const Sweep *s = R->plan->sweep;
  FILE *out = R->out;
  fprintf(out, "| |");
  for (int c = 0; c < s->n_cols; c++)
    fprintf(out, " %s |", md(s->cols[c].label));
  fprintf(out, "\n|---|");
  for (int c = 0; c < s->n_cols; c++)
    fprintf(out, "---|");
  fprintf(out, "\n");
  for (int r = 0; r < s->n_rows; r++) {
    fprintf(out, "| %s |", md(s->rows[r].label));
    for (int c = 0; c < s->n_cols; c++) {
      int i = r * s->n_cols + c;
      fprintf(out, " %s", cell_text(R, &R->plan->cells[i], &scores[i]));
      double paper = s->rows[r].paper ? s->rows[r].paper[c] : NAN;
      if (!isnan(paper))
        fprintf(out, " · paper %s", sweep_number(paper));
      fprintf(out, " |");
    }
    fprintf(out, "\n");
  }
}

/* Every value tried in every cell: the whole grid. */
static void grid_table(Report *R, CellScore *scores) {
  const Sweep *s = R->plan->sweep;
  FILE *out = R->out;
  fprintf(out, "| row | column | tried | mean ± sd | ok | diverged | "
               "failed | to run |\n|---|---|---|---|---|---|---|---|\n");
  for (int r = 0; r < s->n_rows; r++)
    for (int c = 0; c < s->n_cols; c++) {
      const SweepCell *cell = &R->plan->cells[r * s->n_cols + c];
      const CellScore *cs = &scores[r * s->n_cols + c];
      for (int i = 0; i < cell->n_combos && !cell->skipped; i++) {
        const ComboScore *k = &cs->combos[i];
        const char *tried = sweep_combo_text(cell, i);
        fprintf(out, "| %s | %s | %s%s | %s | %d | %d | %d | %d |\n",
                md(s->rows[r].label), md(s->cols[c].label),
                *tried ? tried : "—", i == cs->best ? " (best)" : "",
                k->n_ok > 1
                    ? arena_printf("%s ± %.2g", figure(k->mean), k->spread)
                : k->n_ok ? figure(k->mean)
                          : "—",
                k->n_ok, k->n_diverged, k->n_failed, k->n_missing);
      }
    }
}

/* The mean curve over the ok seeds of a cell's best value. */
static bool mean_curve(Report *R, const SweepCell *cell, const CellScore *cs,
                       PlotLine *line) {
  int n_seeds = R->plan->sweep->n_seeds, n = -1, used = 0;
  double *sum = NULL, *x = NULL;
  for (int k = 0; k < n_seeds && cs->best >= 0; k++) {
    int run = cell->runs[cs->best * n_seeds + k];
    if (R->records[run].status != RUN_OK)
      continue;
    double *rx, *ry;
    int m = sweep_read_curve(sweep_run_path(R->plan, run, ".csv"), cell->score,
                             &rx, &ry);
    if (m <= 0) {
      free(rx);
      free(ry);
      continue;
    }
    if (n < 0 || m < n)
      n = m;
    if (!sum) {
      sum = calloc((size_t)m, sizeof(double));
      x = rx;
    } else {
      free(rx);
    }
    for (int i = 0; i < n; i++)
      sum[i] += ry[i];
    free(ry);
    used++;
  }
  if (used == 0)
    return false;
  for (int i = 0; i < n; i++)
    sum[i] /= used;
  line->n = n;
  line->x = x;
  line->y = sum;
  return true;
}

static void figures(Report *R, CellScore *scores) {
  const Sweep *s = R->plan->sweep;
  mkdir(arena_printf("%s/curves", R->plan->results), 0777);
  for (int r = 0; r < s->n_rows; r++) {
    PlotLine *lines = arena_alloc(sizeof(PlotLine) * (size_t)s->n_cols);
    int n = 0;
    const char *column = NULL;
    for (int c = 0; c < s->n_cols; c++) {
      const SweepCell *cell = &R->plan->cells[r * s->n_cols + c];
      if (mean_curve(R, cell, &scores[r * s->n_cols + c], &lines[n])) {
        lines[n++].label = s->cols[c].label;
        column = cell->score;
      }
    }
    if (n == 0)
      continue;
    const char *name = arena_printf("curves/row%d", r + 1);
    char err[256] = "";
    int status = plot_curves(arena_printf("%s/%s", R->plan->results, name),
                             s->rows[r].label, "update", column, n, lines, err,
                             sizeof err);
    if (status == 0)
      fprintf(R->out, "![%s](%s.png)\n\n", md(s->rows[r].label), name);
    else
      fprintf(R->out, "(%s: the figure was not drawn: %s)\n\n",
              md(s->rows[r].label), err);
    for (int i = 0; i < n; i++) {
      free((double *)lines[i].x);
      free((double *)lines[i].y);
    }
  }
}

static void troubles(Report *R) {
  static const char *const said[] = {"", "ok", "diverged", "failed"};
  int n = 0;
  for (int k = 0; k < R->plan->n_runs; k++) {
    const RunRecord *r = &R->records[k];
    if (r->status != RUN_DIVERGED && r->status != RUN_FAILED)
      continue;
    if (n++ == 0)
      fprintf(R->out, "\n## Runs that diverged or failed\n\n");
    fprintf(R->out, "- `%s`: %s: %s\n", R->plan->runs[k].id, said[r->status],
            r->message ? r->message : "(no message)");
  }
}

bool sweep_report(const SweepPlan *plan) {
  const Sweep *s = plan->sweep;
  Report R = {.plan = plan};
  R.records = arena_alloc(sizeof(RunRecord) * (size_t)(plan->n_runs + 1));
  CellScore *scores =
      arena_alloc(sizeof(CellScore) * (size_t)(s->n_rows * s->n_cols));
  int counts[4] = {0};
  double wall = 0;
  for (int k = 0; k < plan->n_runs; k++) {
    /* each cell reads its own score column; the runs' records once here */
    R.records[k] = sweep_record_read(plan, k, "");
    counts[R.records[k].status]++;
    wall += R.records[k].wall_seconds;
  }
  for (int i = 0; i < s->n_rows * s->n_cols; i++) {
    SweepCell *cell = &plan->cells[i];
    for (int j = 0; j < cell->n_combos * s->n_seeds && !cell->skipped; j++) {
      int k = cell->runs[j];
      if (R.records[k].status != RUN_MISSING)
        R.records[k] = sweep_record_read(plan, k, cell->score);
    }
    scores[i] = sweep_score_cell(plan, cell, R.records);
  }

  const char *path = arena_printf("%s/REPORT.md", plan->results);
  const char *tmp = arena_printf("%s.tmp", path);
  R.out = fopen(tmp, "w");
  if (!R.out) {
    diag_plain_error("cannot write %s: %s", tmp, strerror(errno));
    return false;
  }
  time_t t = time(NULL);
  char date[32];
  strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&t));
  fprintf(R.out, "# %s\n\n", md(s->title));
  fprintf(
      R.out,
      "From `mdlc sweep %s%s`, %s: %d of %s recorded (%d ok, %d "
      "diverged, %d failed), which took %s",
      plan->sweep_path,
      plan->scale != 1 ? arena_printf(" --scale %s", sweep_number(plan->scale))
                       : "",
      date, plan->n_runs - counts[RUN_MISSING], count_of(plan->n_runs, "run"),
      counts[RUN_OK], counts[RUN_DIVERGED], counts[RUN_FAILED],
      wall < 60     ? arena_printf("%.1f s", wall)
      : wall < 3600 ? arena_printf("%.1f min", wall / 60)
                    : arena_printf("%.1f h", wall / 3600));
  if (plan->scale != 1)
    fprintf(R.out, "; every run %s× as long as the sweep says",
            sweep_number(plan->scale));
  /* The score column, when every cell has the same. */
  const char *score = NULL;
  for (int i = 0; i < s->n_rows * s->n_cols; i++) {
    const char *c = plan->cells[i].score;
    if (c)
      score = !score || strcmp(score, c) == 0 ? c : "error";
  }
  fprintf(R.out,
          ".\n\nEach cell: the mean over %d seed%s of the final `%s` of "
          "the runs' CSV logs, at the value tried that gives the lowest "
          "mean, ± the standard deviation over the seeds; then the paper's "
          "figure. \\* marks a cell with runs still to make.\n\n",
          s->n_seeds, s->n_seeds == 1 ? "" : "s", score ? score : "error");
  main_table(&R, scores);
  fprintf(R.out, "\n## Every value tried\n\n");
  grid_table(&R, scores);
  fprintf(R.out, "\n## Learning curves\n\nThe mean over the seeds of each "
                 "column's best value.\n\n");
  figures(&R, scores);
  troubles(&R);
  bool ok = fclose(R.out) == 0;
  if (!ok || rename(tmp, path) != 0) {
    diag_plain_error("cannot write %s: %s", path, strerror(errno));
    return false;
  }
  fprintf(stderr, "mdlc sweep: wrote %s\n", path);
  return true;
}
