/* sweep_plan.c — from a sweep to its runs: which programs to compile, which
 * runs to make of them, and which runs fill each cell of the table.
 *
 * Each program is checked here, in-process, as mdlc would check it: so a
 * setting the program does not have is an error in the sweep file, before
 * anything runs. A setting goes to a run as --set when the program reads
 * it at run time, and to mdlc as -D when some use of it is folded when
 * compiling (an initialization's scale, another const): then each of its
 * values is a program of its own. */
#include "sweep.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* ---- programs, checked once per (file, method, defines) ---- */

typedef struct {
  const char *key;
  Program *p; /* NULL: it has errors */
} Loaded;

static Loaded *loaded;
static int n_loaded;

static Program *load(const char *source, const char *method,
                     const Define *defines, int n_defines) {
  const char *key = arena_printf("%s|%s", source, method ? method : "");
  for (int i = 0; i < n_defines; i++)
    key = arena_printf("%s|%s=%s", key, defines[i].name,
                       sweep_number(defines[i].value));
  for (int i = 0; i < n_loaded; i++)
    if (strcmp(loaded[i].key, key) == 0)
      return loaded[i].p;
  Program *p = NULL;
  SourceFile *file = source_read(source);
  Ast ast;
  if (file && parse_source(file, &ast)) {
    SemaOverrides o = {method, defines, n_defines};
    p = sema_check_with(&ast, &o);
  }
  Loaded *grown = arena_alloc(sizeof *grown * (size_t)(n_loaded + 1));
  if (n_loaded)
    memcpy(grown, loaded, sizeof *grown * (size_t)n_loaded);
  grown[n_loaded++] = (Loaded){key, p};
  loaded = grown;
  return p;
}

/* ---- what a cell says: the column's word over the row's over the
 * sweep's ---- */

typedef struct {
  const char *program, *program_text;
  Loc program_loc;
  const char *method;
  long steps;
  SweepSetting *settings;
  int n_settings;
  const SweepTry *tries;
  int n_tries;
} CellChoice;

static void merge_settings(CellChoice *c, const SweepChoice *from) {
  for (int i = 0; i < from->n_settings; i++) {
    bool replaced = false;
    for (int j = 0; j < c->n_settings; j++)
      if (strcmp(c->settings[j].name, from->settings[i].name) == 0) {
        c->settings[j] = from->settings[i];
        replaced = true;
      }
    if (!replaced)
      c->settings[c->n_settings++] = from->settings[i];
  }
}

static CellChoice cell_choice(const Sweep *s, int r, int c) {
  const SweepChoice *levels[] = {&s->all, &s->rows[r].choice,
                                 &s->cols[c].choice};
  CellChoice out = {0};
  int most = 0;
  for (int i = 0; i < 3; i++)
    most += levels[i]->n_settings;
  out.settings = arena_alloc(sizeof(SweepSetting) * (size_t)(most + 1));
  for (int i = 0; i < 3; i++) {
    const SweepChoice *l = levels[i];
    if (l->program) {
      out.program = l->program;
      out.program_text = l->program_text;
      out.program_loc = l->program_loc;
    }
    if (l->method)
      out.method = l->method;
    if (l->steps)
      out.steps = l->steps;
    if (l->tries_said || i == 0) {
      out.tries = l->tries;
      out.n_tries = l->n_tries;
    }
    merge_settings(&out, l);
  }
  return out;
}

/* ---- settings: at run time (--set) or when compiling (-D) ---- */

typedef enum { NOT_A_SETTING, AT_RUN_TIME, WHEN_COMPILING } SettingTime;

static SettingTime setting_kind(Program *p, const char *name) {
  const Setting *s = model_setting(p, name);
  if (!s)
    return NOT_A_SETTING;
  return s->c && s->c->compile_time ? WHEN_COMPILING : AT_RUN_TIME;
}

/* "its settings are mu0, epsilon" */
static const char *settings_of(Program *p) {
  const char *list = "";
  int n = 0;
  for (int i = 0; i < p->n_settings; i++, n++)
    list = arena_printf("%s%s%s", list, n ? ", " : "", p->settings[i].name);
  return n ? arena_printf("its settings are %s", list)
           : "it has no settings (no consts, and no plain-number epsilon or "
             "mu)";
}

/* Whether an error at loc was reported already: a row's or the sweep's
 * words are checked once per cell, and said once. */
static bool reported(Loc loc) {
  static Loc *seen;
  static int n_seen;
  for (int i = 0; i < n_seen; i++)
    if (seen[i].file == loc.file && seen[i].line == loc.line &&
        seen[i].col == loc.col)
      return true;
  Loc *grown = arena_alloc(sizeof *grown * (size_t)(n_seen + 1));
  if (n_seen)
    memcpy(grown, seen, sizeof *grown * (size_t)n_seen);
  grown[n_seen++] = loc;
  seen = grown;
  return false;
}

static bool check_setting(Program *p, const char *source, const char *name,
                          Loc loc, const char *method) {
  if (setting_kind(p, name) != NOT_A_SETTING)
    return true;
  if (reported(loc))
    return false;
  if (strcmp(name, "epsilon") == 0 || strcmp(name, "mu") == 0 ||
      strcmp(name, "decay") == 0) {
    if (sema_const(p, name) == NULL &&
        ((strcmp(name, "mu") == 0 &&
          (p->method == METHOD_SGD || p->method == METHOD_HF)) ||
         (strcmp(name, "decay") == 0 && p->method != METHOD_HF)))
      diag_error(loc, "%s with %s has no %s", source,
                 method ? method : method_name(p->method), name);
    else
      diag_error(loc,
                 "the %s of %s is a schedule, not one number, so it cannot "
                 "be set; write it with a const and set that",
                 name, source);
    return false;
  }
  diag_error(loc, "%s has no const '%s'; %s", source, name, settings_of(p));
  return false;
}

/* ---- runs ---- */

static int add_program(SweepPlan *plan, const char *source, const char *method,
                       Define *defines, int n_defines, Program *p) {
  const char *key =
      arena_printf("%s.%s", path_stem(source), method_name(p->method));
  for (int i = 0; i < n_defines; i++)
    key = arena_printf("%s.%s=%s", key, defines[i].name,
                       sweep_number(defines[i].value));
  for (int i = 0; i < plan->n_programs; i++)
    if (strcmp(plan->programs[i].key, key) == 0)
      return i;
  SweepProgram *grown =
      arena_alloc(sizeof *grown * (size_t)(plan->n_programs + 1));
  if (plan->n_programs)
    memcpy(grown, plan->programs, sizeof *grown * (size_t)plan->n_programs);
  bool sequences = p->is_recurrent && model_is_sequence_problem(p->data_kind);
  grown[plan->n_programs] = (SweepProgram){
      .key = key,
      .source = source,
      .method = method,
      .defines = defines,
      .n_defines = n_defines,
      .optimizer = method_name(p->method),
      .error_column = sequences ? "zero_one" : "train_error",
      .steps = p->steps,
      .report_every = p->report_every,
  };
  plan->programs = grown;
  return plan->n_programs++;
}

static int add_run(SweepPlan *plan, SweepRun run) {
  for (int i = 0; i < plan->n_runs; i++)
    if (strcmp(plan->runs[i].id, run.id) == 0)
      return i;
  SweepRun *grown = arena_alloc(sizeof *grown * (size_t)(plan->n_runs + 1));
  if (plan->n_runs)
    memcpy(grown, plan->runs, sizeof *grown * (size_t)plan->n_runs);
  grown[plan->n_runs] = run;
  plan->runs = grown;
  return plan->n_runs++;
}

void sweep_combo_values(const SweepCell *cell, int combo, double *values) {
  for (int i = cell->n_tries - 1; i >= 0; i--) {
    values[i] = cell->tries[i].values[combo % cell->tries[i].n];
    combo /= cell->tries[i].n;
  }
}

const char *sweep_combo_text(const SweepCell *cell, int combo) {
  double values[16];
  sweep_combo_values(cell, combo, values);
  const char *text = "";
  for (int i = 0; i < cell->n_tries; i++)
    text = arena_printf(
        "%s%s%s %s", text, i ? ", " : "",
        strcmp(cell->tries[i].name, "epsilon") == 0 ? "ε" : cell->tries[i].name,
        sweep_number(values[i]));
  return text;
}

/* Plans the runs of one cell; false after errors. */
static bool plan_cell(SweepPlan *plan, int r, int c) {
  const Sweep *s = plan->sweep;
  SweepCell *cell = &plan->cells[r * s->n_cols + c];
  CellChoice ch = cell_choice(s, r, c);
  cell->tries = (SweepTry *)ch.tries;
  cell->n_tries = ch.n_tries;
  cell->n_combos = 1;
  for (int i = 0; i < ch.n_tries; i++)
    cell->n_combos *= ch.tries[i].n;
  if (ch.n_tries > 16 || cell->n_combos > 100000) {
    diag_error(ch.tries[0].loc, "too many combinations of tried values");
    return false;
  }
  if (s->skipped[r * s->n_cols + c]) {
    cell->skipped = true;
    return true;
  }
  if (!ch.program) {
    const SweepLine *col = &s->cols[c], *row = &s->rows[r];
    const char *which =
        col->implicit ? arena_printf("row \"%s\"", row->label)
        : row->implicit
            ? arena_printf("column \"%s\"", col->label)
            : arena_printf("row \"%s\", column \"%s\"", row->label, col->label);
    diag_error(col->implicit ? row->loc : col->loc,
               "no program for %s; say program \"FILE.mdl\" at the top, in "
               "the row or in the column",
               which);
    return false;
  }
  /* The program's own method needs no --method (nor a program of its
   * own). */
  const char *method = ch.method;
  FILE *exists = fopen(ch.program, "r");
  if (!exists) {
    if (!reported(ch.program_loc))
      diag_error(ch.program_loc, "cannot open '%s' (beside the sweep file): %s",
                 ch.program_text, strerror(errno));
    return false;
  }
  fclose(exists);
  Program *own = load(ch.program, NULL, NULL, 0);
  if (own && method && strcmp(method, method_name(own->method)) == 0)
    method = NULL;
  Program *base = method ? load(ch.program, method, NULL, 0) : own;
  if (!base) {
    if (!reported(ch.program_loc))
      diag_error(ch.program_loc, "%s%s%s has errors (above)", ch.program_text,
                 method ? " with method " : "", method ? method : "");
    return false;
  }
  const char *source = ch.program;
  bool ok = true;
  for (int i = 0; i < ch.n_settings; i++)
    ok &= check_setting(base, ch.program_text, ch.settings[i].name,
                        ch.settings[i].loc, method);
  for (int i = 0; i < ch.n_tries; i++)
    ok &= check_setting(base, ch.program_text, ch.tries[i].name,
                        ch.tries[i].loc, method);
  if (!ok)
    return false;

  cell->runs = arena_alloc(sizeof(int) * (size_t)(cell->n_combos * s->n_seeds));
  cell->score = strcmp(s->score, "error") == 0 ? NULL : s->score;
  int n_values = ch.n_settings + ch.n_tries;
  for (int combo = 0; combo < cell->n_combos; combo++) {
    double tried[16];
    sweep_combo_values(cell, combo, tried);
    SweepSetting *all = arena_alloc(sizeof *all * (size_t)(n_values + 1));
    for (int i = 0; i < ch.n_settings; i++)
      all[i] = ch.settings[i];
    for (int i = 0; i < ch.n_tries; i++)
      all[ch.n_settings + i] =
          (SweepSetting){ch.tries[i].name, tried[i], ch.tries[i].loc};
    Define *defines = arena_alloc(sizeof *defines * (size_t)(n_values + 1));
    SweepSetting *sets = arena_alloc(sizeof *sets * (size_t)(n_values + 1));
    int n_defines = 0, n_sets = 0;
    for (int i = 0; i < n_values; i++) {
      if (setting_kind(base, all[i].name) == WHEN_COMPILING)
        defines[n_defines++] = (Define){all[i].name, all[i].value};
      else
        sets[n_sets++] = all[i];
    }
    Program *p = n_defines ? load(source, method, defines, n_defines) : base;
    if (!p) {
      diag_error(ch.program_loc, "%s has errors with these settings (above)",
                 ch.program_text);
      return false;
    }
    int program = add_program(plan, source, method, defines, n_defines, p);
    const SweepProgram *prog = &plan->programs[program];
    if (!cell->score)
      cell->score = prog->error_column;
    long steps = ch.steps ? ch.steps : prog->steps;
    long scaled = (long)ceil((double)steps * plan->scale);
    long every = (long)ceil((double)prog->report_every * plan->scale);
    /* A preview reports at most about ten times: at a tiny scale the
     * program's interval would evaluate the whole data set after nearly
     * every update. */
    if (plan->scale < 1 && every < (scaled + 9) / 10)
      every = (scaled + 9) / 10;
    const char *id = prog->key;
    for (int i = 0; i < n_sets; i++)
      id = arena_printf("%s.%s=%s", id, sets[i].name,
                        sweep_number(sets[i].value));
    if (ch.steps)
      id = arena_printf("%s.steps=%ld", id, ch.steps);
    for (int k = 0; k < s->n_seeds; k++) {
      SweepRun run = {
          .id = arena_printf("%s.seed=%ld", id, s->seeds[k]),
          .program = program,
          .seed = s->seeds[k],
          .steps = scaled > 0 ? scaled : 1,
          .report_every = every > 0 ? every : 1,
          .sets = sets,
          .n_sets = n_sets,
      };
      cell->runs[combo * s->n_seeds + k] = add_run(plan, run);
    }
  }
  return true;
}

bool sweep_keep_seeds(Sweep *sweep, int n) {
  if (n < 1)
    return false;
  if (n < sweep->n_seeds)
    sweep->n_seeds = n;
  return true;
}

bool sweep_plan(SweepPlan *plan, const Sweep *sweep) {
  plan->sweep = sweep;
  plan->cells =
      arena_alloc(sizeof(SweepCell) * (size_t)(sweep->n_rows * sweep->n_cols));
  bool ok = true;
  for (int r = 0; r < sweep->n_rows; r++)
    for (int c = 0; c < sweep->n_cols; c++)
      ok &= plan_cell(plan, r, c);
  return ok;
}

const char *sweep_program_path(const SweepPlan *plan, int program) {
  /* Programs for another processor live beside the native ones, so that
   * changing --march never reuses a binary made for the wrong one. */
  if (plan->march && strcmp(plan->march, "native") != 0)
    return arena_printf("%s/bin/%s@%s", plan->results,
                        plan->programs[program].key, plan->march);
  return arena_printf("%s/bin/%s", plan->results, plan->programs[program].key);
}

const char *sweep_run_path(const SweepPlan *plan, int run, const char *ext) {
  return arena_printf("%s/runs/%s%s", plan->results, plan->runs[run].id, ext);
}
