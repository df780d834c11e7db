/* emit_report.c — what the training loops of sgd, cm and nag (emit_train.c)
 * and of hf (emit_hf.c) share: the figures a report shows and the held-out
 * sets it measures, and the check for a stop signal between two updates. */
#include "mdlc.h"

#include <string.h>

/* As many figures as the runtime's mdl_figures holds. */
enum { MDL_FIGURES = 8 };

/* ", const mdl_dataset *valid, const mdl_dataset *test" (mdl_seq_data for
 * a recurrent net): the held-out sets train() measures at its reports, as
 * the program has them. */
const char *emit_held_out_params(const Program *p) {
  const char *type = p->is_recurrent ? "mdl_seq_data" : "mdl_dataset";
  return arena_printf(
      "%s%s", p->valid.name ? arena_printf(", const %s *valid", type) : "",
      p->test.name ? arena_printf(", const %s *test", type) : "");
}

/* One figure of a report: its column's title and the expression of its
 * value in train() (error and loss: the training set's). */
typedef struct {
  const char *name, *value;
} Figure;

/* The training error's column title: the sequence problems' Table 5 error
 * is measured on their held-out sequences, hence not "train_". */
static const char *training_error_name(const Program *p) {
  return model_is_sequence_problem(p->data_kind) ? "zero_one" : "train_error";
}

/* One set's figure: the training set's ("train") or a held-out set's. */
static Figure figure_of(const Program *p, const char *set, Metric m) {
  bool train = strcmp(set, "train") == 0;
  const char *error = train ? "error" : arena_printf("%s_error", set);
  switch (m) {
  case METRIC_ERROR:
    return (Figure){
        train ? training_error_name(p) : arena_printf("%s_error", set), error};
  case METRIC_ACCURACY:
    return (Figure){arena_printf("%s_accuracy", set),
                    arena_printf("1 - %s", error)};
  default:
    return (Figure){train ? "loss" : arena_printf("%s_loss", set),
                    train ? "loss" : arena_printf("%s_loss", set)};
  }
}

/* The figures a report shows between ε_t and the loss, beyond the error
 * column; *error_column: whether the training error has its own column
 * (always, unless `report every N ...` leaves it out). Without a list of
 * metrics: a classifier's accuracy, then each held-out set's error (and
 * accuracy). With one: those metrics of the training set, then of each
 * held-out set; the training loss always has its column, since it is what
 * training minimizes. */
static int report_figures(const Program *p, Figure out[MDL_FIGURES],
                          bool *error_column) {
  bool classifier = model_is_classifier(p);
  const char *sets[] = {"train", p->valid.name ? "valid" : NULL,
                        p->test.name ? "test" : NULL};
  Metric defaults[] = {METRIC_ERROR, METRIC_ACCURACY};
  const Metric *metrics = p->n_metrics ? p->metrics : defaults;
  int n_metrics = p->n_metrics ? p->n_metrics : 1 + classifier;
  int n = 0;
  for (int i = 0; i < 3; i++)
    for (int k = 0; sets[i] && k < n_metrics; k++)
      if (i > 0 || metrics[k] != METRIC_LOSS)
        out[n++] = figure_of(p, sets[i], metrics[k]);
  /* The training error first: the column every program has. */
  *error_column = n > 0 && strcmp(out[0].value, "error") == 0;
  if (*error_column) {
    memmove(out, out + 1, (size_t)(n - 1) * sizeof *out);
    n--;
  }
  return n;
}

/* The figures a report shows beside the training error and loss: a
 * classifier's accuracy, and each held-out set's error (and accuracy), or
 * the metrics `report every N ...` names; false when there are none and
 * the error has its column. With a held-out set, also --save-best's
 * record of the best report. */
bool emit_figures(Emitter *e) {
  const Program *p = e->p;
  Figure figures[MDL_FIGURES];
  bool error_column;
  int n = report_figures(p, figures, &error_column);
  const char *names = "";
  for (int i = 0; i < n; i++)
    names = arena_printf("%s%s\"%s\"", names, i ? ", " : "", figures[i].name);
  const char *sets[] = {p->valid.name ? "valid" : NULL,
                        p->test.name ? "test" : NULL};
  if (n == 0 && error_column)
    return false;
  if (p->n_metrics)
    emit_line(e,
              "  /* What each report shows beside the training loss, as "
              "`report every` says%s. */",
              model_is_classifier(p)
                  ? " (an accuracy\n   * is 1 - the error rate)"
                  : "");
  else
    emit_line(e,
              "  /* What each report shows beside the training error and "
              "loss%s. */",
              model_is_classifier(p)
                  ? " (an accuracy\n   * is 1 - the error rate)"
                  : "");
  if (n == 0)
    emit_line(e, "  mdl_figures figures = {.n = 0, .no_error_column = 1};");
  else
    emit_line(e, "  mdl_figures figures = {.n = %d, %s.name = {%s}};", n,
              error_column ? "" : ".no_error_column = 1, ", names);
  if (sets[0] || sets[1]) {
    emit_line(e, "  double %s%s%s;", sets[0] ? "valid_error, valid_loss" : "",
              sets[0] && sets[1] ? ", " : "",
              sets[1] ? "test_error, test_loss" : "");
    const char *best = sets[0] ? "valid_error" : "test_error";
    emit_line(e, "  mdl_best best; /* --save-best: the lowest %s so far */",
              best);
    emit_line(e, "  mdl_best_start(&best, opts, \"%s\");", best);
  }
  return true;
}

/* At a report, after the training set: the held-out sets, measured as the
 * training set is, and the figures' values in the order they were named. */
void emit_held_out_report(Emitter *e, const char *theta) {
  const Program *p = e->p;
  const char *sets[] = {p->valid.name ? "valid" : NULL,
                        p->test.name ? "test" : NULL};
  for (int i = 0; i < 2; i++)
    if (sets[i])
      emit_line(e, "      evaluate(%s, %s, a, &%s_error, &%s_loss%s);", theta,
                sets[i], sets[i], sets[i],
                emit_tracks_saturation(p) ? ", NULL" : "");
  Figure figures[MDL_FIGURES];
  bool error_column;
  int n = report_figures(p, figures, &error_column);
  for (int k = 0; k < n; k++)
    emit_line(e, "      figures.value[%d] = %s;", k, figures[k].value);
}

/* Ctrl-C, kill or scancel: between two updates the state is whole, so it
 * is saved there (with --checkpoint) before the run stops. */
void emit_stop_check(Emitter *e, const char *state) {
  emit_line(e, "    /* Asked to stop (Ctrl-C, kill, scancel): the state "
               "after t updates is");
  emit_line(e, "     * whole here, so --checkpoint saves it and --resume "
               "goes on from it. */");
  emit_line(e, "    if (mdl_stop_requested()) {");
  emit_line(e, "      if (opts->checkpoint)");
  emit_line(e, "        save_checkpoint(opts->checkpoint, t, %s);", state);
  emit_line(e, "      mdl_progress_stop(&progress%s, t, opts->checkpoint);",
            e->p->method == METHOD_HF ? ".base" : "");
  emit_line(e, "    }");
}
