/* sema_train.c — training: the method, its settings, the schedules of mu and
 * epsilon (with their phases, checked at every update), and reporting. */
#include "mdlc.h"

#include <math.h>
#include <string.h>

/* Every t at which a schedule is checked: all of them for runs up to ten
 * million updates, else an even sample (the bound keeps mdlc fast). */
static long check_stride(long steps) {
  return steps <= 10000000 ? 1 : steps / 10000000 + 1;
}

/* The value of a schedule at t, and which expression gave it. */
static double schedule_eval(const Program *p, const Schedule *s, double t,
                            const Expr **source) {
  for (int i = 0; i < s->n_phases; i++) {
    const Phase *ph = &s->phases[i];
    double n = expr_eval(p, ph->length, 0);
    bool active = ph->is_first ? t < n : t >= (double)p->steps - n;
    if (active) {
      *source = ph->value;
      return expr_eval(p, ph->value, t);
    }
  }
  *source = s->base;
  return expr_eval(p, s->base, t);
}

static void check_schedule_range(const Program *p, const Schedule *s,
                                 bool is_mu) {
  long stride = check_stride(p->steps);
  for (long t = 0; t < p->steps; t += stride) {
    const Expr *source;
    double v = schedule_eval(p, s, (double)t, &source);
    bool bad = is_mu ? !(v >= 0 && v < 1) : !(v > 0 && isfinite(v));
    if (bad) {
      diag_error(source->loc,
                 is_mu ? "mu must be in [0, 1), but at t = %ld this gives %g"
                       : "epsilon must be positive, but at t = %ld this "
                         "gives %g",
                 t, v);
      return;
    }
  }
}

static void add_phase(Schedule *s, bool is_first, Expr *length, Expr *value,
                      Loc loc) {
  Phase *grown = arena_alloc(sizeof(Phase) * (size_t)(s->n_phases + 1));
  if (s->n_phases)
    memcpy(grown, s->phases, sizeof(Phase) * (size_t)s->n_phases);
  grown[s->n_phases++] = (Phase){
      .is_first = is_first, .length = length, .value = value, .loc = loc};
  s->phases = grown;
}

/* A setting whose value must be a whole number known when compiling. */
static bool setting_int(Sema *S, const Stmt *s, long min, long max, long *out) {
  const char *what = s->kind == ST_PHASE
                         ? arena_printf("the length of a '%s' phase", s->head)
                         : arena_printf("'%s'", s->head);
  if (!check_number(S, s->expr, what, what))
    return false;
  double v = expr_eval(S->p, s->expr, 0);
  if (v != floor(v) || v < (double)min || v > (double)max) {
    diag_error(s->expr->loc,
               "%s must be a whole number from %ld to %ld, not %.15g", what,
               min, max, v);
    return false;
  }
  *out = (long)v;
  return true;
}

static void check_phase(Sema *S, const Stmt *s) {
  Program *p = S->p;
  long n;
  if (!setting_int(S, s, 1, 1000000000000L, &n))
    return;
  if (!s->body)
    diag_warning(s->loc, "this '%s' phase sets nothing", s->head);
  for (const Stmt *b = s->body; b; b = b->next) {
    bool mu = b->kind == ST_SET && strcmp(b->head, "mu") == 0;
    bool eps = b->kind == ST_SET && strcmp(b->head, "epsilon") == 0;
    if (!mu && !eps) {
      diag_error(b->loc, "a '%s' phase can set mu and epsilon only", s->head);
      continue;
    }
    if (!b->expr) {
      diag_error(b->loc, "'%s' needs an expression", b->head);
      continue;
    }
    if (mu && p->method == METHOD_SGD) {
      diag_error(b->loc, "sgd has no momentum; use cm or nag to set mu");
      continue;
    }
    if (!check_number(S, b->expr, arena_printf("'%s'", b->head), NULL))
      continue;
    add_phase(mu ? &p->mu : &p->epsilon, strcmp(s->head, "first") == 0, s->expr,
              b->expr, s->loc);
  }
}

static void check_report(Sema *S, const Stmt *s) {
  const Atom *a = s->atoms;
  long n;
  if (!a || a->kind != AT_NAME || strcmp(a->text, "every") != 0 || !a->next) {
    diag_error(s->loc, "write: report every 1000");
    return;
  }
  if (!positive_int(a->next, "the report interval", 1000000000000L, &n))
    return;
  S->p->report_every = n;
  bool sequences = model_is_sequence_problem(S->p->data_kind);
  const char *error_name = sequences ? "zero_one" : "train_error";
  for (const Atom *m = a->next->next; m; m = m->next) {
    const char *const metrics[] = {error_name, "loss", NULL};
    if (m->kind == AT_CALL && strcmp(m->text, "zero_one") == 0 && sequences) {
      /* zero_one(0.04): the tolerance of addition and multiplication */
      if (S->p->data_kind == DATA_MEMORIZATION) {
        diag_error(m->loc, "the zero-one loss of memorization counts wrong "
                           "symbols; it takes no tolerance (write: zero_one)");
        continue;
      }
      if (count_atoms(m->items) != 1 || m->items->key) {
        diag_error(m->loc, "write: zero_one(0.04)");
        continue;
      }
      positive_real(m->items, "the zero-one tolerance",
                    &S->p->zero_one_tolerance);
    } else if (m->kind != AT_NAME) {
      diag_error(m->loc, "expected the name of a measurement, not %s",
                 atom_text(m));
    } else if (find_word(m->text, metrics) < 0) {
      diag_error(m->loc,
                 "unknown measurement '%s'; a report always shows %s and "
                 "loss%s",
                 m->text, error_name, suggest(m->text, metrics));
    }
  }
}

void check_train(Sema *S, const Item *train) {
  Program *p = S->p;
  static const char *const methods[] = {"sgd", "cm", "nag", NULL};
  int m = find_word(train->kind_name, methods);
  if (m < 0) {
    if (strcmp(train->kind_name, "hf") == 0)
      diag_error(train->kind_loc, "Hessian-free optimization (hf) is not "
                                  "available yet; use sgd, cm or nag");
    else
      diag_error(train->kind_loc, "unknown optimizer '%s'; expected %s%s",
                 train->kind_name, one_of(methods),
                 suggest(train->kind_name, methods));
    return;
  }
  p->method = (Method)m;
  p->zero_one_tolerance = 0.04; /* sec. 4.2 */
  p->batch = 100;
  p->steps = 10000;
  p->seed = 1;
  static const char *const settings[] = {"batch", "steps", "seed", "epsilon",
                                         "mu",    "log",   NULL};
  for (const Stmt *s = train->body; s; s = s->next) {
    if (s->kind == ST_PHASE || s->kind == ST_REPORT) {
      if (s->kind == ST_REPORT && !repeated(s, train->body))
        check_report(S, s);
      continue;
    }
    if (find_word(s->head, settings) < 0) {
      diag_error(s->loc, "unknown setting '%s'; expected %s%s", s->head,
                 one_of(settings), suggest(s->head, settings));
      continue;
    }
    if (repeated(s, train->body))
      continue;
    if (strcmp(s->head, "log") == 0) {
      if (!s->string)
        diag_error(s->loc, "write: log \"curve.csv\"");
      else
        p->log_path = s->string->text;
      continue;
    }
    if (s->string) {
      diag_error(s->string->loc, "'%s' needs a number, not a string", s->head);
      continue;
    }
    long n;
    if (strcmp(s->head, "batch") == 0) {
      if (setting_int(S, s, 1, 1000000, &n))
        p->batch = (int)n;
    } else if (strcmp(s->head, "steps") == 0) {
      if (setting_int(S, s, 1, 1000000000000L, &n))
        p->steps = n;
    } else if (strcmp(s->head, "seed") == 0) {
      if (setting_int(S, s, 0, 1L << 62, &n))
        p->seed = n;
    } else if (strcmp(s->head, "mu") == 0 && p->method == METHOD_SGD) {
      diag_error(s->loc, "sgd has no momentum; use cm or nag to set mu");
    } else if (check_number(S, s->expr, arena_printf("'%s'", s->head), NULL)) {
      if (strcmp(s->head, "mu") == 0)
        p->mu.base = s->expr;
      else
        p->epsilon.base = s->expr;
    }
  }
  /* Phases after the settings, so they know the method and steps. */
  for (const Stmt *s = train->body; s; s = s->next)
    if (s->kind == ST_PHASE)
      check_phase(S, s);
  if (!p->epsilon.base && !find_stmt(train->body, "epsilon"))
    diag_error(train->kind_loc, "training needs a learning rate: epsilon 0.01");
  if (p->method != METHOD_SGD && !p->mu.base && !find_stmt(train->body, "mu"))
    diag_error(train->kind_loc, "%s needs a momentum schedule: mu 0.9",
               method_name(p->method));
  if (p->report_every == 0)
    p->report_every = p->steps / 20 > 0 ? p->steps / 20 : 1;
  if (diag_error_count > S->errors_before)
    return;
  check_schedule_range(p, &p->epsilon, false);
  if (p->method != METHOD_SGD)
    check_schedule_range(p, &p->mu, true);
}
