/* emit_schedule.c — the program's settings and the schedules of μ and ε,
 * each a small function of the update counter t. */
#include "mdlc.h"

static void emit_settings(Emitter *e) {
  const Program *p = e->p;
  /* What each setting's declaration says of it; a const, nothing. */
  static const char *const comments[] = {
      [SETTING_CONST] = NULL,
      [SETTING_EPSILON] = "the learning rate ε",
      [SETTING_MU] = "the momentum μ",
      [SETTING_WEIGHT_DECAY] = "λ of the penalty (λ/2)‖W‖²",
      [SETTING_DECAY] = "the decay of CG's hot start"};
  emit_line(e, "/* ---- Settings ----");
  emit_line(e, " * The declared constants; --set NAME=VALUE changes them "
               "before training. */");
  emit_blank(e);
  for (int i = 0; i < p->n_settings; i++) {
    const Setting *s = &p->settings[i];
    emit_source_line(e, "", s->loc);
    fprintf(e->out, "static double %s = ", s->name);
    emit_number(e->out, s->value);
    if (comments[s->kind])
      fprintf(e->out, "; /* %s */\n", comments[s->kind]);
    else
      fputs(";\n", e->out);
  }
  emit_source_line(e, "", model_written(p, "steps"));
  emit_line(e, "/* The schedule is the declared run of %s: `steps` in its",
            count_of(p->steps, "update"));
  emit_line(e, " * expressions and the start of a `last` phase refer to it. "
               "--steps N makes");
  emit_line(e, " * only the first N of its updates (--schedule-steps "
               "changes the schedule). */");
  emit_line(e, "static long schedule_steps = %ld;", p->steps);
  emit_line(e, "static long n_steps = %ld; /* the updates this run makes */",
            p->steps);
  if (p->clip > 0) {
    emit_source_line(e, "", model_written(p, "clip"));
    fputs("static const double CLIP = ", e->out);
    emit_number(e->out, p->clip);
    fputs("; /* the longest gradient an update uses */\n", e->out);
  }
  emit_blank(e);
}

static void emit_schedule(Emitter *e, const Schedule *s, const char *name,
                          const char *symbol, const char *what) {
  /* The base and the phases, each where it was written. */
  Loc *parts = arena_alloc(sizeof(Loc) * (size_t)(s->n_phases + 1));
  parts[0] = s->is_default ? (Loc){0} : s->loc;
  int n = 1;
  for (int i = 0; i < s->n_phases; i++)
    parts[n++] = s->phases[i].loc;
  emit_source_lines(
      e, "",
      arena_printf("%s_t, %s at update t (t counts updates from 0).", symbol,
                   what),
      parts, n);
  emit_line(e, "static double %s_at(double t) {", name);
  if (s->constant)
    emit_line(e, "  (void)t; /* constant */");
  for (int i = 0; i < s->n_phases; i++) {
    const Phase *ph = &s->phases[i];
    fputs(ph->is_first ? "  if (t < " : "  if (t >= schedule_steps - ", e->out);
    emit_formula(e, ph->length);
    fprintf(e->out, ") /* the %s %ld updates */\n    return ",
            ph->is_first ? "first" : "last", ph->n);
    emit_formula(e, ph->value);
    fputc(';', e->out);
    emit_source_comment(e, ph->loc);
    fputc('\n', e->out);
  }
  fputs("  return ", e->out);
  if (s->is_setting)
    fputs(name, e->out);
  else
    emit_formula(e, s->base);
  fputc(';', e->out);
  emit_source_comment(e, s->loc);
  fputs("\n}\n\n", e->out);
}

void emit_schedules(Emitter *e) {
  const Program *p = e->p;
  emit_settings(e);
  emit_line(e, "/* ---- Schedules ---- */");
  emit_blank(e);
  emit_schedule(e, &p->epsilon, "epsilon", "ε", "the learning rate");
  if (p->method == METHOD_HF)
    emit_schedule(e, &p->decay, "decay", "d",
                  "the decay of CG's hot start (the previous solution times "
                  "d_t)");
  else if (p->method != METHOD_SGD)
    emit_schedule(e, &p->mu, "mu", "μ", "the momentum");
}
