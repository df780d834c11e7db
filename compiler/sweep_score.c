/* sweep_score.c — the figure of a cell, as the paper makes it: for each
 * value tried (each ε), the mean of the final errors over the seeds; the
 * cell shows the best of those means, with the spread over the seeds. */
#include "sweep.h"

#include <math.h>

static ComboScore score_combo(const SweepPlan *plan, const SweepCell *cell,
                              int combo, const RunRecord *records) {
  int n_seeds = plan->sweep->n_seeds;
  ComboScore s = {.mean = NAN, .spread = NAN};
  double sum = 0, sum2 = 0;
  for (int k = 0; k < n_seeds; k++) {
    const RunRecord *r = &records[cell->runs[combo * n_seeds + k]];
    switch (r->status) {
    case RUN_MISSING:
      s.n_missing++;
      break;
    case RUN_DIVERGED:
      s.n_diverged++;
      break;
    case RUN_FAILED:
      s.n_failed++;
      break;
    case RUN_OK:
      /* A run that ended without its score (an empty log) counts as failed:
       * nothing of it can be shown. */
      if (isnan(r->score)) {
        s.n_failed++;
        break;
      }
      s.n_ok++;
      sum += r->score;
      break;
    }
  }
  if (s.n_ok == 0)
    return s;
  s.mean = sum / s.n_ok;
  for (int k = 0; k < n_seeds; k++) {
    const RunRecord *r = &records[cell->runs[combo * n_seeds + k]];
    if (r->status == RUN_OK && !isnan(r->score))
      sum2 += (r->score - s.mean) * (r->score - s.mean);
  }
  s.spread = s.n_ok > 1 ? sqrt(sum2 / (s.n_ok - 1)) : 0;
  return s;
}

CellScore sweep_score_cell(const SweepPlan *plan, const SweepCell *cell,
                           const RunRecord *records) {
  CellScore c = {.best = -1};
  if (cell->skipped)
    return c;
  c.combos = arena_alloc(sizeof(ComboScore) * (size_t)cell->n_combos);
  /* Values whose every finished seed is ok come first; a value that made
   * some seed diverge is picked only when no value is clean. */
  int best_clean = -1, best_any = -1;
  for (int i = 0; i < cell->n_combos; i++) {
    ComboScore *s = &c.combos[i];
    *s = score_combo(plan, cell, i, records);
    if (s->n_ok == 0)
      continue;
    bool clean = s->n_diverged == 0 && s->n_failed == 0;
    if (clean && (best_clean < 0 || s->mean < c.combos[best_clean].mean))
      best_clean = i;
    if (best_any < 0 || s->mean < c.combos[best_any].mean)
      best_any = i;
  }
  c.best = best_clean >= 0 ? best_clean : best_any;
  return c;
}
