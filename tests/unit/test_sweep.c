/* test_sweep.c — mdlc sweep without running anything: the messages for bad
 * sweep files, the plan of a grid (runs, names, which settings are
 * compiled in), and the scoring of cells from synthetic records.
 *
 * Each .sweep file in tests/diag states the diagnostics it must get, in order,
 * as the .mdl files there do ("# expect: 3:7: error: ..."). A diagnostic
 * in another file (a program the sweep names) is expected with that
 * file's name alone: "# expect: broken.mdl:2:1: error: ...". */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

#define DIAG_DIR TESTS_DIR "/diag"

static char *text;
static size_t size;

static void setup(void) {
  diag_reset();
  diag_out = open_memstream(&text, &size);
}

static void teardown(void) {
  fclose(diag_out);
  diag_out = NULL;
  free(text);
}

static char *take_diags(void) {
  fclose(diag_out);
  char *got = text;
  diag_out = open_memstream(&text, &size);
  return got;
}

TestSuite(sweep, .init = setup, .fini = teardown);

/* Parses and plans a sweep as mdlc sweep does; the plan, or NULL. */
static SweepPlan *plan_of(const SourceFile *file) {
  diag_hold();
  Sweep *s = sweep_parse(file);
  diag_release();
  if (!s)
    return NULL;
  SweepPlan *plan = arena_alloc(sizeof *plan);
  *plan = (SweepPlan){.sweep_path = file->name,
                      .scale = 1,
                      .threads = 1,
                      .results = "/nonexistent"};
  return sweep_plan(plan, s) ? plan : NULL;
}

static SweepPlan *plan_text(const char *name, const char *source) {
  return plan_of(source_from_string(name, source));
}

/* ---- diagnostics ---- */

/* The header lines of diag output, each with its file's directory cut. */
static int headers(char *output, char **lines, int max) {
  int n = 0;
  for (char *line = strtok(output, "\n"); line && n < max;
       line = strtok(NULL, "\n")) {
    if (line[0] == ' ')
      continue; /* a source line or a caret */
    char *colon = strchr(line, ':'), *base = line;
    for (char *p = line; colon && p < colon; p++)
      if (*p == '/')
        base = p + 1;
    lines[n++] = base;
  }
  return n;
}

static int check_file(const char *name) {
  const char *path = arena_printf("%s/%s", DIAG_DIR, name);
  SourceFile *file = source_read(path);
  cr_assert_not_null(file, "cannot read %s", path);
  const char *expected[64];
  int n_expected = 0;
  for (const char *p = file->text; *p == '#' && n_expected < 64;) {
    const char *end = strchr(p, '\n');
    if (!end)
      break;
    if (strncmp(p, "# expect: ", 10) == 0)
      expected[n_expected++] = arena_strndup(p + 10, (size_t)(end - p - 10));
    p = end + 1;
  }
  if (n_expected == 0) {
    cr_expect_fail("%s states no '# expect:' lines", name);
    return 1;
  }
  diag_reset();
  SweepPlan *plan = plan_of(file);
  char *output = take_diags();
  char *copy = arena_strdup(output);
  char *got[64];
  int n_got = headers(copy, got, 64);
  int problems = 0;
  for (int i = 0; i < n_got || i < n_expected; i++) {
    /* the sweep's own lines are expected without its name */
    const char *g = i < n_got ? got[i] : "(nothing)";
    if (strncmp(g, name, strlen(name)) == 0 && g[strlen(name)] == ':')
      g += strlen(name) + 1;
    const char *e = i < n_expected ? expected[i] : "(nothing)";
    if (strcmp(g, e) != 0) {
      cr_expect_fail("%s: diagnostic %d is\n  [%s]\nexpected\n  [%s]\nall:\n%s",
                     name, i + 1, g, e, output);
      problems++;
      break;
    }
  }
  if (plan) {
    cr_expect_fail("%s: errors were reported but there is a plan", name);
    problems++;
  }
  free(output);
  return problems;
}

Test(sweep, every_bad_sweep_file_gets_exactly_its_messages) {
  DIR *dir = opendir(DIAG_DIR);
  cr_assert_not_null(dir);
  int files = 0, failed = 0;
  for (struct dirent *e; (e = readdir(dir));) {
    size_t len = strlen(e->d_name);
    if (len > 6 && strcmp(e->d_name + len - 6, ".sweep") == 0) {
      files++;
      failed += check_file(arena_strdup(e->d_name)) > 0;
    }
  }
  closedir(dir);
  cr_expect_geq(files, 5, "only %d .sweep files in %s", files, DIAG_DIR);
  cr_expect_eq(failed, 0, "%d of %d sweep files failed", failed, files);
}

Test(sweep, errors_show_the_line_and_a_caret) {
  cr_expect_null(plan_text("x.sweep", "seeds 0\n"));
  char *out = take_diags();
  cr_expect_str_eq(out, "x.sweep:1:7: error: seeds is a count from 1 to 1000 "
                        "or a list of seeds, not 0\n"
                        "    1 | seeds 0\n"
                        "      |       ^\n");
  free(out);
}

/* ---- the plan ---- */

#define TINY TESTS_DIR "/sweeps/tiny.mdl"

static const char *grid = "program \"" TINY "\"\n"
                          "row \"a\"\n"
                          "row \"b\" { steps 100 }\n"
                          "column \"N\" { method nag; mu0 0.9 }\n"
                          "column \"M\" { method cm; mu0 0.5 }\n"
                          "try epsilon [0.01, 0.001, 1e-4]\n"
                          "seeds [3, 7]\n";

Test(sweep, a_grid_has_a_run_per_cell_value_and_seed) {
  SweepPlan *plan = plan_text("grid.sweep", grid);
  cr_assert_not_null(plan, "%s", take_diags());
  cr_expect_eq(plan->n_runs, 2 * 2 * 3 * 2);
  cr_expect_eq(plan->n_programs, 2);               /* nag and cm */
  const SweepCell *cell = &plan->cells[1 * 2 + 1]; /* row b, column M */
  cr_expect_eq(cell->n_combos, 3);
  const SweepRun *run = &plan->runs[cell->runs[1 * 2 + 1]];
  cr_expect_str_eq(run->id, "tiny.cm.mu0=0.5.epsilon=0.001.steps=100.seed=7");
  cr_expect_eq(run->seed, 7);
  cr_expect_eq(run->steps, 100);
  cr_expect_eq(run->report_every, 50); /* the program's */
  cr_expect_str_eq(plan->programs[run->program].key, "tiny.cm");
  cr_expect_str_eq(plan->programs[run->program].method, "cm");
  cr_expect_null(plan->programs[plan->runs[0].program].method,
                 "nag is tiny.mdl's own method: no --method");
  cr_expect_eq(run->n_sets, 2); /* mu0 and epsilon at run time */
  cr_expect_str_eq(cell->score, "zero_one");
  cr_expect_str_eq(sweep_combo_text(cell, 2), "ε 0.0001");
}

Test(sweep, scale_shortens_runs_and_their_reports) {
  SweepPlan *plan = arena_alloc(sizeof *plan);
  diag_hold();
  Sweep *s = sweep_parse(source_from_string("g.sweep", grid));
  diag_release();
  cr_assert_not_null(s);
  *plan = (SweepPlan){.sweep_path = "g", .scale = 0.1, .results = "/x"};
  cr_assert(sweep_plan(plan, s));
  const SweepRun *run = &plan->runs[plan->cells[0].runs[0]];
  cr_expect_eq(run->steps, 30);       /* ceil(300 × 0.1) */
  cr_expect_eq(run->report_every, 5); /* ceil(50 × 0.1) */
}

/* A preview reports about ten times, not after nearly every update. */
Test(sweep, a_preview_reports_about_ten_times) {
  SweepPlan *plan = arena_alloc(sizeof *plan);
  diag_hold();
  Sweep *s = sweep_parse(source_from_string(
      "p.sweep", "program \"" TINY "\"\nsteps 10000\ntry epsilon [0.01]\n"));
  diag_release();
  cr_assert_not_null(s);
  *plan = (SweepPlan){.sweep_path = "p", .scale = 0.1, .results = "/x"};
  cr_assert(sweep_plan(plan, s));
  cr_expect_eq(plan->runs[0].steps, 1000);
  cr_expect_eq(plan->runs[0].report_every, 100); /* not ceil(50 × 0.1) */
}

/* --seeds N keeps the first N seeds of the sweep file, to run and to report. */
Test(sweep, fewer_seeds_for_a_preview) {
  diag_hold();
  Sweep *s = sweep_parse(source_from_string("g.sweep", grid));
  diag_release();
  cr_assert_not_null(s);
  cr_assert(sweep_keep_seeds(s, 1));
  SweepPlan *plan = arena_alloc(sizeof *plan);
  *plan = (SweepPlan){.sweep_path = "g", .scale = 1, .results = "/x"};
  cr_assert(sweep_plan(plan, s));
  cr_expect_eq(plan->n_runs, 2 * 2 * 3 * 1);
  cr_expect_eq(plan->runs[0].seed, 3);
  cr_expect_not(sweep_keep_seeds(s, 0));
}

Test(sweep, a_const_folded_when_compiling_makes_programs) {
  const char *program =
      "data add = addition(T 10, test_cases 100)\n"
      "net rnn : recurrent { input 2; hidden tanh 10; output linear 1 }\n"
      "const scale = 0.1\n"
      "const mu0 = 0.9\n"
      "init rnn { input_to_hidden gaussian(scale) }\n"
      "train rnn on add with nag { steps 10; epsilon 0.01; mu mu0 }\n";
  FILE *f = fopen("/tmp/mdlc_test_sweep_scale.mdl", "w");
  cr_assert_not_null(f);
  fputs(program, f);
  fclose(f);
  SweepPlan *plan = plan_text(
      "s.sweep", "program \"/tmp/mdlc_test_sweep_scale.mdl\"\n"
                 "column \"small\" { scale 0.01 }\ncolumn \"big\" { scale 1 }\n"
                 "try mu0 [0.9, 0.99]\n");
  cr_assert_not_null(plan, "%s", take_diags());
  cr_expect_eq(plan->n_programs, 2);
  cr_expect_str_eq(plan->programs[1].key, "mdlc_test_sweep_scale.nag.scale=1");
  cr_expect_eq(plan->programs[1].n_defines, 1);
  const SweepRun *run = &plan->runs[plan->cells[1].runs[1]];
  cr_expect_eq(run->n_sets, 1);
  cr_expect_str_eq(run->sets[0].name, "mu0");
  remove("/tmp/mdlc_test_sweep_scale.mdl");
}

/* A const used by another is folded when compiling only when that other
 * is: the program computes a schedule's const again after --set. */
Test(sweep, a_const_computed_into_another_follows_that_ones_use) {
  const char *program =
      "data add = addition(T 10, test_cases 100)\n"
      "net rnn : recurrent { input 2; hidden tanh 10; output linear 1 }\n"
      "const s0 = 0.05\n"
      "const scale = 2 * s0\n"
      "const m0 = 0.9\n"
      "const mu0 = m0\n"
      "init rnn { input_to_hidden gaussian(scale) }\n"
      "train rnn on add with nag { steps 10; epsilon 0.01; mu mu0 }\n";
  FILE *f = fopen("/tmp/mdlc_test_sweep_derived.mdl", "w");
  cr_assert_not_null(f);
  fputs(program, f);
  fclose(f);
  SweepPlan *plan = plan_text(
      "s.sweep", "program \"/tmp/mdlc_test_sweep_derived.mdl\"\n"
                 "column \"small\" { s0 0.01 }\ncolumn \"big\" { s0 1 }\n"
                 "try m0 [0.9, 0.99]\n");
  cr_assert_not_null(plan, "%s", take_diags());
  cr_expect_eq(plan->n_programs, 2, "s0 is compiled in (-D)");
  const SweepRun *run = &plan->runs[plan->cells[1].runs[1]];
  cr_expect_eq(run->n_sets, 1);
  cr_expect_str_eq(run->sets[0].name, "m0", "m0 is set when the program runs");
  remove("/tmp/mdlc_test_sweep_derived.mdl");
}

/* A program's weight_decay is a setting its runs take with --set. */
Test(sweep, weight_decay_is_a_run_time_setting) {
  FILE *f = fopen("/tmp/mdlc_test_sweep_decay.mdl", "w");
  cr_assert_not_null(f);
  fputs("data d = curves(cases 100)\n"
        "net ae : autoencoder { input 784; code linear 2; output sigmoid }\n"
        "train ae on d with cm { batch 10; steps 10; epsilon 0.01; mu 0.9; "
        "weight_decay 0 }\n",
        f);
  fclose(f);
  SweepPlan *plan =
      plan_text("s.sweep", "program \"/tmp/mdlc_test_sweep_decay.mdl\"\n"
                           "try weight_decay [0, 1e-4]\n");
  cr_assert_not_null(plan, "%s", take_diags());
  cr_expect_eq(plan->n_programs, 1);
  cr_expect_eq(plan->n_runs, 2);
  const SweepRun *run = &plan->runs[1];
  cr_expect_eq(run->n_sets, 1);
  cr_expect_str_eq(run->sets[0].name, "weight_decay");
  remove("/tmp/mdlc_test_sweep_decay.mdl");
}

Test(sweep, the_same_run_in_two_cells_is_made_once) {
  SweepPlan *plan = plan_text("same.sweep", "program \"" TINY "\"\n"
                                            "column \"x\" { mu0 0.9 }\n"
                                            "column \"y\" { mu0 0.9 }\n");
  cr_assert_not_null(plan, "%s", take_diags());
  cr_expect_eq(plan->n_runs, 1);
  cr_expect_eq(plan->cells[0].runs[0], plan->cells[1].runs[0]);
}

Test(sweep, skipped_cells_have_no_runs) {
  SweepPlan *plan = plan_text("skip.sweep", "program \"" TINY "\"\n"
                                            "row \"r\"\ncolumn \"x\"\n"
                                            "column \"y\" { mu0 0.5 }\n"
                                            "skip \"r\" \"y\"\n");
  cr_assert_not_null(plan, "%s", take_diags());
  cr_expect(plan->cells[1].skipped);
  cr_expect_eq(plan->n_runs, 1);
}

Test(sweep, numbers_are_named_by_their_shortest_text) {
  cr_expect_str_eq(sweep_number(0.001), "0.001");
  cr_expect_str_eq(sweep_number(1e-5), "1e-05");
  cr_expect_str_eq(sweep_number(0.995), "0.995");
  cr_expect_str_eq(sweep_number(1.0 / 3), "0.3333333333333333");
  cr_expect_str_eq(sweep_number(750000), "750000");
}

/* ---- scoring ---- */

static RunRecord ok(double score) {
  return (RunRecord){.status = RUN_OK, .score = score};
}

static RunRecord bad(RunStatus status) {
  return (RunRecord){.status = status, .score = NAN};
}

/* A cell of three tried values × two seeds over records given in order. */
static CellScore score(const RunRecord *records) {
  static double values[] = {1, 2, 3};
  static SweepTry tries[] = {{.name = "epsilon", .values = values, .n = 3}};
  static long seeds[] = {1, 2};
  static Sweep s = {.n_seeds = 2, .seeds = seeds};
  static int runs[] = {0, 1, 2, 3, 4, 5};
  SweepCell cell = {.tries = tries, .n_tries = 1, .n_combos = 3, .runs = runs};
  SweepPlan plan = {.sweep = &s};
  return sweep_score_cell(&plan, &cell, records);
}

Test(sweep, the_best_value_has_the_lowest_mean_over_seeds) {
  RunRecord r[] = {ok(0.5), ok(0.7), ok(0.2), ok(0.9), ok(0.6), ok(0.4)};
  CellScore c = score(r);
  /* means 0.6, 0.55, 0.5: the last, though 0.2 is the single best run */
  cr_expect_eq(c.best, 2);
  cr_expect_float_eq(c.combos[2].mean, 0.5, 1e-12);
  cr_expect_float_eq(c.combos[2].spread, sqrt(0.02), 1e-12);
  cr_expect_float_eq(c.combos[0].spread, sqrt(0.02), 1e-12);
  cr_expect_eq(c.combos[1].n_ok, 2);
}

Test(sweep, a_value_that_diverged_is_picked_only_when_nothing_is_clean) {
  RunRecord r[] = {ok(0.5),           ok(0.5), ok(0.1),
                   bad(RUN_DIVERGED), ok(0.9), bad(RUN_MISSING)};
  CellScore c = score(r);
  cr_expect_eq(c.best, 0, "0.1 diverged on its other seed");
  cr_expect_eq(c.combos[1].n_diverged, 1);
  cr_expect_eq(c.combos[2].n_missing, 1);
  cr_expect_float_eq(c.combos[2].mean, 0.9, 1e-12);

  RunRecord all_bad[] = {bad(RUN_DIVERGED), ok(0.3),
                         ok(0.1),           bad(RUN_FAILED),
                         bad(RUN_DIVERGED), bad(RUN_DIVERGED)};
  c = score(all_bad);
  cr_expect_eq(c.best, 1, "no clean value: the lowest mean of the rest");
}

Test(sweep, a_cell_with_no_finished_run_has_no_best) {
  RunRecord r[] = {bad(RUN_DIVERGED), bad(RUN_MISSING), bad(RUN_FAILED),
                   bad(RUN_MISSING),  bad(RUN_MISSING), bad(RUN_MISSING)};
  CellScore c = score(r);
  cr_expect_eq(c.best, -1);
  cr_expect_eq(c.combos[0].n_diverged, 1);
  cr_expect_eq(c.combos[1].n_failed, 1);
  /* ok without a score: its log was empty; nothing of it can be shown */
  RunRecord empty[] = {ok(NAN),          bad(RUN_MISSING), bad(RUN_MISSING),
                       bad(RUN_MISSING), bad(RUN_MISSING), bad(RUN_MISSING)};
  c = score(empty);
  cr_expect_eq(c.best, -1);
  cr_expect_eq(c.combos[0].n_failed, 1);
}
