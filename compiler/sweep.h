/* sweep.h — mdlc sweep: a grid of runs described by a .sweep file, run
 * here in parallel or on a Slurm cluster, and the paper's table made of it.
 *
 *   sweep_parse.c   .sweep text        -> Sweep (rows, columns, axes)
 *   sweep_plan.c    Sweep + .mdl files -> SweepPlan (programs, runs, cells)
 *   sweep_record.c  one run            -> its JSON record, and back
 *   sweep_run.c     the pending runs   -> compiled programs, records
 *   sweep_score.c   records of a cell  -> mean, spread, the best value tried
 *   sweep_report.c  the plan + records -> REPORT.md and the figures
 *   sweep_slurm.c   the pending runs   -> a job array; --run-one K
 *   sweep_main.c    the command line
 */
#ifndef SWEEP_H
#define SWEEP_H

#include "mdlc.h"

/* ---- sweep_parse.c ---- */

/* NAME VALUE: a const, epsilon or mu of every run of a row, column or the
 * whole sweep. */
typedef struct {
  const char *name;
  double value;
  Loc loc;
} SweepSetting;

/* `try NAME [v1, v2, ...]`: values tried in every cell, the best kept. */
typedef struct {
  const char *name;
  double *values;
  int n;
  Loc loc;
} SweepTry;

/* What the whole sweep, a row or a column says about its runs; a column's
 * word overrides its row's, a row's the sweep's. */
typedef struct {
  const char *program;      /* resolved against the sweep file's folder */
  const char *program_text; /* as written, for messages */
  Loc program_loc;
  const char *method;
  Loc method_loc;
  long steps; /* 0: the program's */
  Loc steps_loc;
  SweepSetting *settings;
  int n_settings;
  SweepTry *tries;
  int n_tries;
  bool tries_said; /* `try` appeared here, even as `try epsilon []` */
} SweepChoice;

/* A row or a column of the table. */
typedef struct {
  const char *label;
  Loc loc;
  SweepChoice choice;
  double *paper; /* rows: the paper's figure per column, NAN if none */
  bool implicit; /* the one row or column of a sweep that names none */
  Loc paper_loc;
} SweepLine;

typedef struct {
  const SourceFile *file;
  const char *dir; /* of the sweep file: programs are relative to it */
  const char *title;
  SweepChoice all;
  SweepLine *rows, *cols;
  int n_rows, n_cols;
  long *seeds;
  int n_seeds;
  const char *score; /* a CSV column, or "error": the program's own */
  Loc score_loc;
  bool *skipped; /* n_rows × n_cols: cells left out (`skip ROW COLUMN`) */
} Sweep;

/* Parses and checks the file's own words; NULL after errors (reported). */
Sweep *sweep_parse(const SourceFile *file);
/* "0.001", "1e-05": the shortest text that reads back as x. */
const char *sweep_number(double x);

/* ---- sweep_plan.c ---- */

/* One compiled program: a .mdl file with its compile-time choices. */
typedef struct {
  const char *key;    /* "addition.cm.scale=0.5": the binary's name */
  const char *source; /* the .mdl path */
  const char *method; /* --method, or NULL */
  Define *defines;    /* -D */
  int n_defines;
  const char *optimizer;    /* sgd, cm, nag or hf: what it trains with */
  const char *error_column; /* train_error or zero_one */
  long steps, report_every; /* as declared */
} SweepProgram;

/* One run of a compiled program. */
typedef struct {
  const char *id; /* a file name: "addition.cm.mu0=0.9.epsilon=1e-05.seed=1" */
  int program;
  long seed, steps, report_every;
  SweepSetting *sets; /* --set NAME=VALUE */
  int n_sets;
} SweepRun;

/* A cell of the table: its runs, one per (tried values, seed). */
typedef struct {
  bool skipped;
  SweepTry *tries; /* the axes tried here */
  int n_tries;
  int n_combos;      /* the product of their lengths (1 when none) */
  int *runs;         /* runs[combo * n_seeds + seed] */
  const char *score; /* the CSV column that scores it */
} SweepCell;

typedef struct {
  const Sweep *sweep;
  const char *sweep_path;
  double scale;      /* runs are scale × their steps long */
  const char *march; /* mdlc --march for the programs, or NULL: native */
  const char *results;
  int threads;
  SweepProgram *programs;
  int n_programs;
  SweepRun *runs;
  int n_runs;
  SweepCell *cells; /* n_rows × n_cols, row-major */
} SweepPlan;

/* Loads every program and lays out the runs; false after errors. */
bool sweep_plan(SweepPlan *plan, const Sweep *sweep);
/* mdlc sweep --seeds N: only the first n of the file's seeds, to run and
 * to report (a quicker preview); false when n is not from 1. */
bool sweep_keep_seeds(Sweep *sweep, int n);
/* The values of the tried axes of combination `combo`, in order. */
void sweep_combo_values(const SweepCell *cell, int combo, double *values);
/* "epsilon 1e-4, mu0 0.9" */
const char *sweep_combo_text(const SweepCell *cell, int combo);
const char *sweep_program_path(const SweepPlan *plan, int program);
const char *sweep_run_path(const SweepPlan *plan, int run, const char *ext);

/* ---- sweep_record.c ---- */

typedef enum { RUN_MISSING, RUN_OK, RUN_DIVERGED, RUN_FAILED } RunStatus;

typedef struct {
  RunStatus status;
  const char *message; /* why it failed or diverged */
  double wall_seconds;
  const char *final_json; /* the last CSV row as a JSON object */
  double score;           /* the cell's score column in it, or NAN */
} RunRecord;

typedef struct {
  RunStatus status;
  const char *message;
  int exit_status;
  double started, finished; /* seconds since the epoch */
} RunOutcome;

/* Writes runs/ID.json (through a temporary file and rename). */
bool sweep_record_write(const SweepPlan *plan, int run,
                        const RunOutcome *outcome);
/* Reads a run's record; RUN_MISSING when there is none or it does not
 * parse as a finished record. `score` names the CSV column to pick. */
RunRecord sweep_record_read(const SweepPlan *plan, int run, const char *score);
/* Reads a learning curve: the updates and the named column of a CSV log.
 * Returns the number of rows, or -1. */
int sweep_read_curve(const char *path, const char *column, double **x,
                     double **y);

/* ---- sweep_run.c ---- */

/* Compiles the programs that the given runs need (those not compiled
 * yet, or older than their source); false if one fails. */
bool sweep_compile(const SweepPlan *plan, const bool *needed_runs);
/* Runs every run without a record, `jobs` at a time; 0 when all ran (even
 * if some failed or diverged: they are recorded), 1 on an error of ours. */
int sweep_run_local(const SweepPlan *plan, int jobs);
/* Runs one run here and records it; its status as an exit status. */
int sweep_run_one_now(const SweepPlan *plan, int run);
/* This mdlc's own path, which compiles the programs and runs the tasks. */
const char *sweep_self_path(void);

/* ---- sweep_score.c ---- */

typedef struct {
  int n_ok, n_diverged, n_failed, n_missing;
  double mean, spread; /* over the ok seeds; spread: standard deviation */
} ComboScore;

typedef struct {
  int best; /* the combination picked, or -1 when none finished */
  ComboScore *combos;
} CellScore;

/* Scores a cell from its runs' records (indexed like plan->runs). The best
 * combination has the lowest mean among those whose seeds all finished
 * without diverging or failing; failing that, among those with any. */
CellScore sweep_score_cell(const SweepPlan *plan, const SweepCell *cell,
                           const RunRecord *records);

/* ---- sweep_report.c ---- */

/* Writes REPORT.md and the figures into the results folder. */
bool sweep_report(const SweepPlan *plan);

/* ---- sweep_slurm.c ---- */

typedef struct {
  const char *partition, *time; /* or NULL */
  const char *mdlc;             /* the absolute path of this mdlc */
} SlurmOptions;

int sweep_slurm_submit(const SweepPlan *plan, const SlurmOptions *o);
int sweep_slurm_run_one(const SweepPlan *plan, long k);

#endif
