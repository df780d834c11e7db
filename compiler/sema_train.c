/* sema_train.c — training: the method, its settings, the schedules of mu and
 * epsilon (with their phases, checked at every update), and reporting. */
#include "mdl/hf.h"
#include "mdlc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Every t at which a schedule is checked: all of them for runs up to ten
 * million updates of a schedule up to 32 nodes long, else an even sample
 * of that cost (the bound keeps mdlc fast: without the bound on nodes, a
 * 2 KB schedule over 10^7 updates took minutes, found by
 * tests/fuzz/fuzz_frontend.c). */
static long check_stride(const Schedule *s, long steps) {
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  /* Under the fuzzer (tests/fuzz), a second a program is too slow. */
  enum { MAX_TIMES = 10000, MAX_NODES = 32 * MAX_TIMES };
#else
  enum { MAX_TIMES = 10000000, MAX_NODES = 32 * MAX_TIMES };
#endif
  long nodes = formula_size(s->base);
  for (int i = 0; i < s->n_phases; i++)
    nodes +=
        formula_size(s->phases[i].length) + formula_size(s->phases[i].value);
  double work = (double)steps * (double)nodes;
  long by_times = steps <= MAX_TIMES ? 1 : steps / MAX_TIMES + 1;
  long by_work = work <= MAX_NODES ? 1 : (long)(work / MAX_NODES) + 1;
  return by_times > by_work ? by_times : by_work;
}

typedef enum { RANGE_EPSILON, RANGE_MU, RANGE_DECAY } Range;

static void check_schedule_range(const Program *p, const Schedule *s,
                                 Range range) {
  static const char *const messages[] = {
      "epsilon must be positive, but at t = %ld this gives %g",
      "mu must be in [0, 1), but at t = %ld this gives %g",
      "decay must be in [0, 1], but at t = %ld this gives %g"};
  long stride = check_stride(s, p->steps);
  for (long t = 0; t < p->steps; t += stride) {
    int part;
    double v = schedule_at(s, (double)t, p->steps, &part);
    bool bad = range == RANGE_EPSILON ? !(v > 0 && isfinite(v))
               : range == RANGE_MU    ? !(v >= 0 && v < 1)
                                      : !(v >= 0 && v <= 1);
    if (bad) {
      diag_error(part < 0 ? s->loc : s->phases[part].value_loc, messages[range],
                 t, v);
      return;
    }
  }
}

static void add_phase(Schedule *s, Phase phase) {
  Phase *grown = arena_alloc(sizeof(Phase) * (size_t)(s->n_phases + 1));
  if (s->n_phases)
    memcpy(grown, s->phases, sizeof(Phase) * (size_t)s->n_phases);
  grown[s->n_phases++] = phase;
  s->phases = grown;
}

/* A setting whose value must be a whole number known when compiling; its
 * formula, or NULL when it is in error. */
static Formula *setting_int(Sema *S, const Stmt *s, long min, long max,
                            long *out) {
  const char *what = s->kind == ST_PHASE
                         ? arena_printf("the length of a '%s' phase", s->head)
                         : arena_printf("'%s'", s->head);
  Formula *f = check_number(S, s->expr, what, what);
  if (!f)
    return NULL;
  double v = formula_eval(f, 0, S->p->steps);
  if (v != floor(v) || v < (double)min || v > (double)max) {
    diag_error(s->expr->loc,
               "%s must be a whole number from %ld to %ld, not %.15g", what,
               min, max, v);
    return NULL;
  }
  *out = (long)v;
  return f;
}

static const char *no_momentum(Method method) {
  return method == METHOD_HF
             ? "hf has no momentum; the hot start of its CG decays by "
               "'decay' (sec. 5)"
             : "sgd has no momentum; use cm or nag to set mu";
}

static void check_phase(Sema *S, const Stmt *s) {
  Program *p = S->p;
  long n;
  Formula *length = setting_int(S, s, 1, 1000000000000L, &n);
  if (!length)
    return;
  if (!s->body)
    diag_warning(s->loc, "this '%s' phase sets nothing", s->head);
  bool hf = p->method == METHOD_HF;
  for (const Stmt *b = s->body; b; b = b->next) {
    bool mu = b->kind == ST_SET && strcmp(b->head, "mu") == 0;
    bool eps = b->kind == ST_SET && strcmp(b->head, "epsilon") == 0;
    bool decay = b->kind == ST_SET && strcmp(b->head, "decay") == 0;
    if (!mu && !eps && !(decay && hf)) {
      diag_error(b->loc, "a '%s' phase can set %s only", s->head,
                 hf ? "epsilon and decay" : "mu and epsilon");
      continue;
    }
    if (!b->expr) {
      diag_error(b->loc, "'%s' needs an expression", b->head);
      continue;
    }
    if (mu && (p->method == METHOD_SGD || hf)) {
      diag_error(b->loc, "%s", no_momentum(p->method));
      continue;
    }
    Formula *value =
        check_number(S, b->expr, arena_printf("'%s'", b->head), NULL);
    if (!value)
      continue;
    add_phase(mu      ? &p->mu
              : decay ? &p->decay
                      : &p->epsilon,
              (Phase){.is_first = strcmp(s->head, "first") == 0,
                      .length = length,
                      .n = n,
                      .value = value,
                      .loc = s->loc,
                      .value_loc = b->expr->loc});
  }
}

/* The metrics this net's reports can show, for the hints. */
static const char *reportable(const Program *p) {
  if (model_is_sequence_problem(p->data_kind))
    return p->data_kind == DATA_MEMORIZATION ? "error (or zero_one), loss"
                                             : "error (or zero_one(TOL)), loss";
  return model_is_classifier(p) ? "error, accuracy, loss" : "error, loss";
}

/* zero_one(0.04): the error of addition and multiplication with its
 * tolerance; plain zero_one is the sequence problems' error. */
static bool check_zero_one(Sema *S, const Atom *m) {
  if (m->kind != AT_CALL)
    return true;
  if (S->p->data_kind == DATA_MEMORIZATION) {
    diag_error(m->loc, "the zero-one loss of memorization counts wrong "
                       "symbols; it takes no tolerance (write: zero_one)");
    return false;
  }
  if (count_atoms(m->items) != 1 || m->items->key) {
    diag_error(m->loc, "write: zero_one(0.04)");
    return false;
  }
  return positive_real(m->items, "the zero-one tolerance",
                       &S->p->zero_one_tolerance);
}

/* One metric of `report every N METRIC ...`, or -1 (after a message). */
static int check_metric(Sema *S, const Atom *m) {
  const Program *p = S->p;
  bool sequences = model_is_sequence_problem(p->data_kind);
  static const char *const names[] = {"error", "accuracy", "loss", "zero_one",
                                      NULL};
  if (p->net_kind == NET_QUADRATIC) {
    diag_error(m->loc, "a quadratic's report shows its own figures; write: "
                       "report every 1000");
    return -1;
  }
  if (m->kind != AT_NAME &&
      !(m->kind == AT_CALL && strcmp(m->text, "zero_one") == 0)) {
    diag_error(m->loc,
               "expected the name of a measurement, not %s; this net can "
               "report %s",
               atom_text(m), reportable(p));
    return -1;
  }
  int k = find_word(m->text, names);
  if (k < 0) {
    /* train_error, valid_accuracy: a column's title, not a metric */
    const char *column = strrchr(m->text, '_');
    int metric = column ? find_word(column + 1, names) : -1;
    diag_error(m->loc, "unknown measurement '%s'; this net can report %s%s",
               m->text, reportable(p),
               metric >= 0
                   ? arena_printf("; did you mean '%s'? (a metric "
                                  "names a column of every data "
                                  "set: train_%s, test_%s, ...)",
                                  names[metric], names[metric], names[metric])
                   : suggest(m->text, names));
    return -1;
  }
  if (k == 3 && !sequences) {
    diag_error(m->loc,
               "zero_one is the error of the sequence problems (addition, "
               "multiplication, memorization); this net can report %s",
               reportable(p));
    return -1;
  }
  if (k == 1 && !model_is_classifier(p)) {
    diag_error(m->loc,
               "accuracy is for softmax classifiers (1 - the error rate); "
               "this net can report %s",
               reportable(p));
    return -1;
  }
  if (k == 3)
    return check_zero_one(S, m) ? METRIC_ERROR : -1;
  return k;
}

/* report every N [METRIC, ...]: the interval, and the figures each line
 * shows for every data set (none named: the default columns). */
static void check_report(Sema *S, const Stmt *s) {
  const Atom *a = s->atoms;
  long n;
  if (!a || a->kind != AT_NAME || strcmp(a->text, "every") != 0 || !a->next) {
    diag_error(s->loc, "write: report every 1000");
    return;
  }
  if (!positive_int(a->next, "the report interval", 1000000000000L, &n))
    return;
  Program *p = S->p;
  p->report_every = n;
  for (const Atom *m = a->next->next; m; m = m->next) {
    int k = check_metric(S, m);
    if (k < 0)
      continue;
    bool twice = false;
    for (int i = 0; i < p->n_metrics; i++)
      twice = twice || p->metrics[i] == (Metric)k;
    if (twice)
      diag_error(m->loc, "the %s is named twice in this report",
                 k == METRIC_ERROR      ? "error"
                 : k == METRIC_ACCURACY ? "accuracy"
                                        : "loss");
    else
      p->metrics[p->n_metrics++] = (Metric)k;
  }
}

/* A number known when compiling, in [min, max]. */
static bool setting_real(Sema *S, const Stmt *s, double min, double max,
                         double *out) {
  const char *what = arena_printf("'%s'", s->head);
  Formula *f = check_number(S, s->expr, what, what);
  if (!f)
    return false;
  double v = formula_eval(f, 0, S->p->steps);
  if (!(v >= min && v <= max)) {
    diag_error(s->expr->loc, "%s must be from %g to %g, not %g", what, min, max,
               v);
    return false;
  }
  *out = v;
  return true;
}

/* on or off (or 1 or 0). */
static bool setting_switch(const Stmt *s, bool *out) {
  const Expr *e = s->expr;
  if (e->kind == EX_NAME &&
      (strcmp(e->name, "on") == 0 || strcmp(e->name, "off") == 0)) {
    *out = strcmp(e->name, "on") == 0;
    return true;
  }
  if (e->kind == EX_NUMBER && (e->number == 0 || e->number == 1)) {
    *out = e->number == 1;
    return true;
  }
  diag_error(e->loc, "'%s' is on or off", s->head);
  return false;
}

/* The settings only hf has; returns false when the head is none of them. */
static bool check_hf_setting(Sema *S, const Stmt *s) {
  Program *p = S->p;
  HfSettings *hf = &p->hf;
  long n;
  const char *h = s->head;
  if (strcmp(h, "curvature_batch") == 0) {
    if (setting_int(S, s, 1, 1000000, &n))
      hf->curvature_batch = (int)n;
  } else if (strcmp(h, "max_cg") == 0) {
    if (setting_int(S, s, 1, 100000, &n))
      hf->max_cg = (int)n;
  } else if (strcmp(h, "min_cg") == 0) {
    if (setting_int(S, s, 1, 100000, &n))
      hf->min_cg = (int)n;
  } else if (strcmp(h, "cg_tolerance") == 0) {
    setting_real(S, s, 0, 1, &hf->cg_tolerance);
  } else if (strcmp(h, "lambda") == 0) {
    setting_real(S, s, 0, 1e30, &hf->lambda);
  } else if (strcmp(h, "weight_decay") == 0) {
    setting_real(S, s, 0, 1e30, &hf->weight_decay);
  } else if (strcmp(h, "structural_damping") == 0) {
    if (setting_real(S, s, 0, 1e30, &hf->structural) && hf->structural &&
        !p->is_recurrent)
      diag_error(s->loc,
                 "structural damping keeps a recurrent net's hidden "
                 "states from changing too fast; net '%s' has none",
                 p->net_name);
  } else if (strcmp(h, "precondition") == 0) {
    if (setting_switch(s, &hf->precondition) && hf->precondition &&
        p->is_recurrent)
      diag_error(s->loc,
                 "the diagonal preconditioner needs per-case gradients, "
                 "which mdlc computes for feed-forward nets only (Sutskever's "
                 "RNNs use none)");
  } else if (strcmp(h, "backtrack") == 0) {
    setting_switch(s, &hf->backtrack);
  } else if (strcmp(h, "line_search") == 0) {
    setting_switch(s, &hf->line_search);
  } else {
    return false;
  }
  return true;
}

/* Martens' defaults, from the runtime's one list of them (mdlc links the
 * runtime), with the preconditioner off for recurrent nets as in
 * Sutskever's code. */
static void hf_defaults(Program *p) {
  mdl_hf_settings d;
  mdl_hf_default_settings(&d);
  p->hf = (HfSettings){.max_cg = d.max_cg_steps,
                       .min_cg = d.min_cg_steps,
                       .cg_tolerance = d.cg_tolerance,
                       .lambda = d.initial_lambda,
                       .weight_decay = d.weight_cost,
                       .structural = d.structural_damping,
                       .precondition = d.precondition && !p->is_recurrent,
                       .backtrack = d.backtrack,
                       .line_search = d.line_search};
}

/* The decay of CG's hot start when the program gives none. */
static double hf_default_decay(void) {
  mdl_hf_settings d;
  mdl_hf_default_settings(&d);
  return d.decay;
}

static Formula *number(double value) {
  Formula *f = arena_alloc(sizeof *f);
  f->kind = FO_NUMBER;
  f->number = value;
  return f;
}

/* A schedule's base, as written at loc. */
static void set_base(Schedule *s, Formula *base, Loc loc) {
  s->base = base;
  s->loc = loc;
}

/* Whether a schedule is one of the program's --set settings (one plain
 * number, and the method's own), and whether it depends on t. */
static void decide_schedule(Schedule *s, bool the_methods) {
  if (!s->base)
    return;
  s->is_setting = the_methods && s->base->kind == FO_NUMBER && s->n_phases == 0;
  s->constant = !formula_uses_t(s->base) && s->n_phases == 0;
}

/* What the program's --help says of a const: "a const of the program", or
 * for one computed from others "a const of the program: mu0 / 2". */
static const char *const_help(const Const *c) {
  if (!formula_uses_consts(c->value))
    return "a const of the program";
  char *text;
  size_t size;
  FILE *out = open_memstream(&text, &size);
  if (!out)
    return "a const of the program";
  formula_print(out, c->value);
  fclose(out);
  /* formula_print brackets every operation; the outermost pair says
   * nothing. */
  int depth = 0, outer = text[0] == '(';
  for (size_t i = 0; outer && text[i + 1]; i++) {
    depth += text[i] == '(' ? 1 : text[i] == ')' ? -1 : 0;
    outer = depth > 0;
  }
  const char *help = outer ? arena_printf("a const of the program: %.*s",
                                          (int)size - 2, text + 1)
                           : arena_printf("a const of the program: %s", text);
  free(text);
  return help;
}

void check_train(Sema *S, const Item *train) {
  Program *p = S->p;
  if (!check_methods(S, train))
    return;
  bool hf = p->method == METHOD_HF;
  if (hf)
    hf_defaults(p);
  p->zero_one_tolerance = 0.04; /* sec. 4.2 */
  p->batch = 100;
  p->steps = 10000;
  p->seed = 1;
  static const char *const settings[] = {
      "batch",        "steps", "seed", "epsilon",  "mu", "clip",
      "weight_decay", "log",   "test", "validate", NULL};
  static const char *const hf_settings[] = {"batch",
                                            "steps",
                                            "seed",
                                            "epsilon",
                                            "decay",
                                            "curvature_batch",
                                            "max_cg",
                                            "min_cg",
                                            "cg_tolerance",
                                            "lambda",
                                            "weight_decay",
                                            "structural_damping",
                                            "precondition",
                                            "backtrack",
                                            "line_search",
                                            "log",
                                            "test",
                                            "validate",
                                            NULL};
  const char *const *names = hf ? hf_settings : settings;
  int n_lines = 0;
  for (const Stmt *s = train->body; s; s = s->next)
    n_lines++;
  p->written = arena_alloc(sizeof(Written) * (size_t)(n_lines + 1));
  for (const Stmt *s = train->body; s; s = s->next) {
    if (s->kind == ST_PHASE || s->kind == ST_REPORT) {
      if (s->kind == ST_REPORT && !repeated(s, train->body)) {
        p->written[p->n_written++] = (Written){s->head, s->loc};
        check_report(S, s);
      }
      continue;
    }
    if (p->net_kind == NET_QUADRATIC && !quadratic_setting(S, s))
      continue;
    if (find_word(s->head, names) < 0) {
      if (strcmp(s->head, "mu") == 0 && hf)
        diag_error(s->loc, "%s", no_momentum(p->method));
      else
        diag_error(s->loc, "unknown setting '%s'; expected %s%s", s->head,
                   one_of(names), suggest(s->head, names));
      continue;
    }
    if (repeated(s, train->body))
      continue;
    p->written[p->n_written++] = (Written){s->head, s->loc};
    /* `test on NAME`: the data set is checked with the others (sema.c). */
    if (strcmp(s->head, "test") == 0 || strcmp(s->head, "validate") == 0) {
      if (!s->atoms)
        diag_error(s->loc,
                   "write: %s on DATA, naming a data set declared "
                   "with `data`",
                   s->head);
      continue;
    }
    if (s->atoms) {
      diag_error(s->loc,
                 "'%s on ...' is not a setting; only test and "
                 "validate name a data set",
                 s->head);
      continue;
    }
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
    if (hf && check_hf_setting(S, s))
      continue;
    if (strcmp(s->head, "batch") == 0) {
      if (setting_int(S, s, 1, 1000000, &n))
        p->batch = (int)n;
    } else if (strcmp(s->head, "steps") == 0) {
      if (setting_int(S, s, 1, 1000000000000L, &n))
        p->steps = n;
    } else if (strcmp(s->head, "seed") == 0) {
      if (setting_int(S, s, 0, 1L << 62, &n))
        p->seed = n;
    } else if (strcmp(s->head, "clip") == 0) {
      Formula *f = check_number(S, s->expr, "'clip'", "'clip'");
      if (f) {
        double v = formula_eval(f, 0, p->steps);
        if (v > 0 && isfinite(v))
          p->clip = v;
        else
          diag_error(s->expr->loc,
                     "clip is the largest gradient norm kept, so it must be "
                     "a positive number, not %g",
                     v);
      }
    } else if (strcmp(s->head, "weight_decay") == 0) {
      /* λ of (λ/2)‖W‖², as hf's weight_decay (whose penalty covers the
       * biases too, as in Martens' code). */
      if (setting_real(S, s, 0, 1e30, &p->weight_decay))
        p->has_weight_decay = true;
    } else if (strcmp(s->head, "mu") == 0 && p->method == METHOD_SGD) {
      diag_error(s->loc, "%s", no_momentum(p->method));
    } else {
      Formula *f =
          check_number(S, s->expr, arena_printf("'%s'", s->head), NULL);
      if (f)
        set_base(strcmp(s->head, "mu") == 0      ? &p->mu
                 : strcmp(s->head, "decay") == 0 ? &p->decay
                                                 : &p->epsilon,
                 f, s->expr->loc);
    }
  }
  /* Phases after the settings, so they know the method and steps. */
  for (const Stmt *s = train->body; s; s = s->next)
    if (s->kind == ST_PHASE)
      check_phase(S, s);
  if (hf) {
    /* Martens' HF takes rate 1 (then its line search), and decays the hot
     * start by his 0.95. */
    if (!p->epsilon.base && !find_stmt(train->body, "epsilon")) {
      set_base(&p->epsilon, number(1), train->kind_loc);
      p->epsilon.is_default = true;
    }
    if (!p->decay.base && !find_stmt(train->body, "decay")) {
      set_base(&p->decay, number(hf_default_decay()), train->kind_loc);
      p->decay.is_default = true;
    }
    if (!p->hf.curvature_batch)
      p->hf.curvature_batch = p->batch;
    if (p->batch % p->hf.curvature_batch != 0)
      diag_error(find_stmt(train->body, "curvature_batch")->loc,
                 "the gradient batch (batch %d) is made of whole curvature "
                 "batches (chunks of %d), so it must be a multiple of it",
                 p->batch, p->hf.curvature_batch);
    if (p->hf.min_cg > p->hf.max_cg)
      diag_error(find_stmt(train->body, "min_cg")->loc,
                 "min_cg (%d) is more than max_cg (%d)", p->hf.min_cg,
                 p->hf.max_cg);
  }
  if (!p->epsilon.base && !find_stmt(train->body, "epsilon"))
    diag_error(train->kind_loc, "training needs a learning rate: epsilon 0.01");
  if (p->method != METHOD_SGD && !hf && !p->mu.base &&
      !find_stmt(train->body, "mu"))
    diag_error(method_loc(train, p->method),
               "%s needs a momentum schedule: mu 0.9", method_name(p->method));
  if (p->report_every == 0)
    p->report_every = p->steps / 20 > 0 ? p->steps / 20 : 1;
  if (diag_error_count > S->errors_before)
    return;
  check_schedule_range(p, &p->epsilon, RANGE_EPSILON);
  if (hf)
    check_schedule_range(p, &p->decay, RANGE_DECAY);
  else if (p->method != METHOD_SGD)
    check_schedule_range(p, &p->mu, RANGE_MU);
  /* Which schedules the program's --set may change: those that are one
   * number, of the method's own. */
  decide_schedule(&p->epsilon, true);
  decide_schedule(&p->mu, p->method == METHOD_CM || p->method == METHOD_NAG);
  decide_schedule(&p->decay, hf);
}

/* Where a schedule was written; nowhere when it is the default. */
static Loc written(const Schedule *s) {
  return s->is_default ? (Loc){0} : s->loc;
}

static void add_setting(Program *p, Setting s) {
  p->settings[p->n_settings++] = s;
}

void list_settings(Program *p) {
  p->settings = arena_alloc(sizeof(Setting) * (size_t)(p->n_consts + 4));
  for (int i = 0; i < p->n_consts; i++) {
    const Const *c = &p->consts[i];
    add_setting(p, (Setting){.kind = SETTING_CONST,
                             .name = c->name,
                             .value = c->folded,
                             .help = const_help(c),
                             .c = c,
                             .loc = c->loc});
  }
  if (p->epsilon.is_setting)
    add_setting(p, (Setting){.kind = SETTING_EPSILON,
                             .name = "epsilon",
                             .value = p->epsilon.base->number,
                             .help = "the learning rate",
                             .loc = written(&p->epsilon)});
  if (p->mu.is_setting)
    add_setting(p, (Setting){.kind = SETTING_MU,
                             .name = "mu",
                             .value = p->mu.base->number,
                             .help = "the momentum",
                             .loc = written(&p->mu)});
  if (p->has_weight_decay)
    add_setting(p, (Setting){.kind = SETTING_WEIGHT_DECAY,
                             .name = "weight_decay",
                             .value = p->weight_decay,
                             .help = "λ of the penalty (λ/2)‖W‖² on the "
                                     "weights",
                             .loc = model_written(p, "weight_decay")});
  if (p->decay.is_setting)
    add_setting(p, (Setting){.kind = SETTING_DECAY,
                             .name = "decay",
                             .value = p->decay.base->number,
                             .help = "the decay of CG's hot start",
                             .loc = written(&p->decay)});
}
