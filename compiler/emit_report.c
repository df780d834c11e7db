/* emit_report.c — what the training loops of sgd, cm and nag (emit_train.c)
 * and of hf (emit_hf.c) share: the figures a report shows and the held-out
 * sets it measures, and the check for a stop signal between two updates. */
#include "mdlc.h"

/* ", const mdl_dataset *valid, const mdl_dataset *test": the held-out
 * sets train() measures at its reports, as the program has them. */
const char *emit_held_out_params(const Program *p) {
  return arena_printf("%s%s", p->valid.name ? ", const mdl_dataset *valid" : "",
                      p->test.name ? ", const mdl_dataset *test" : "");
}

/* The figures a report shows beside the training error and loss: a
 * classifier's accuracy, and each held-out set's error (and accuracy);
 * false when there are none. With a held-out set, also --save-best's
 * record of the best report. */
bool emit_figures(Emitter *e) {
  const Program *p = e->p;
  bool classifier = model_is_classifier(p);
  const char *sets[] = {p->valid.name ? "valid" : NULL,
                        p->test.name ? "test" : NULL};
  const char *names = classifier ? "\"train_accuracy\"" : "";
  int n = classifier;
  for (int i = 0; i < 2; i++) {
    if (!sets[i])
      continue;
    names = arena_printf("%s%s\"%s_error\"", names, n ? ", " : "", sets[i]);
    n++;
    if (classifier) {
      names = arena_printf("%s, \"%s_accuracy\"", names, sets[i]);
      n++;
    }
  }
  if (n == 0)
    return false;
  emit_line(e,
            "  /* What each report shows beside the training error and "
            "loss%s. */",
            classifier ? " (an accuracy\n   * is 1 - the error rate)" : "");
  emit_line(e, "  mdl_figures figures = {.n = %d, .name = {%s}};", n, names);
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
  bool classifier = model_is_classifier(p);
  const char *sets[] = {p->valid.name ? "valid" : NULL,
                        p->test.name ? "test" : NULL};
  for (int i = 0; i < 2; i++)
    if (sets[i])
      emit_line(e, "      evaluate(%s, %s, a, &%s_error, &%s_loss);", theta,
                sets[i], sets[i], sets[i]);
  int k = 0;
  if (classifier)
    emit_line(e, "      figures.value[%d] = 1 - error;", k++);
  for (int i = 0; i < 2; i++) {
    if (!sets[i])
      continue;
    emit_line(e, "      figures.value[%d] = %s_error;", k++, sets[i]);
    if (classifier)
      emit_line(e, "      figures.value[%d] = 1 - %s_error;", k++, sets[i]);
  }
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
