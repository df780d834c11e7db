/* test_sweep.c — mdlc sweep end to end on tests/sweeps/tiny.mdl: a grid
 * runs and is reported; a sweep killed mid-way resumes without making its
 * finished runs again, and the run it cut short goes on from its
 * checkpoint; a damaged record counts as missing; runs that
 * diverge or fail are recorded and reported as such; the compile-time
 * options the sweep relies on (--method, -D); and every sweep file in
 * tables/ still plans. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "e2e.h"

/* A fresh directory holding tiny.mdl and the given sweep file. */
static const char *sweep_dir(const char *name, const char *sweep) {
  const char *dir = e2e_fresh_dir(name);
  e2e_result r = e2e_run("cp '%s/sweeps/tiny.mdl' '%s/'", TESTS_DIR, dir);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  e2e_write(dir, "grid.sweep", sweep);
  return dir;
}

static char *slurp(const char *dir, const char *file) {
  e2e_result r = e2e_run("cat '%s/%s'", dir, file);
  cr_assert_eq(r.status, 0, "cannot read %s/%s", dir, file);
  return r.output;
}

static bool exists(const char *dir, const char *file) {
  struct stat st;
  char *path = e2e_join(dir, file);
  bool yes = stat(path, &st) == 0 && st.st_size > 0;
  free(path);
  return yes;
}

static int count_records(const char *dir) {
  e2e_result r = e2e_run("ls '%s'/results/grid/runs/*.json 2>/dev/null | "
                         "wc -l",
                         dir);
  int n = atoi(r.output);
  free(r.output);
  return n;
}

static const char *two_by_two = "title \"tiny\"\n"
                                "program \"tiny.mdl\"\n"
                                "row \"add T = 10\"\n"
                                "column \"0.9N\" { method nag; mu0 0.9 }\n"
                                "column \"0.9M\" { method cm; mu0 0.9 }\n"
                                "try epsilon [0.01, 0.003]\n"
                                "paper \"add T = 10\" [0.02, 0.43]\n";

/* A record says which kernels OpenBLAS was told to use (they round the
 * products): null where it chose them itself, the name where
 * OPENBLAS_CORETYPE did. Prescott's SSE3 kernels run on every x86-64. */
Test(sweep, records_say_which_blas_kernels_were_asked_for) {
  const char *dir =
      sweep_dir("sweep_kernels", "program \"tiny.mdl\"\n"
                                 "row \"add T = 10\"\n"
                                 "column \"0.9N\" { method nag; mu0 0.9 }\n"
                                 "epsilon 0.01\n");
  const char *record = "results/grid/runs/"
                       "tiny.nag.epsilon=0.01.mu0=0.9.seed=1.json";
  e2e_result r = e2e_run(
      "cd '%s' && env -u OPENBLAS_CORETYPE %s sweep grid.sweep", dir, MDLC);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  char *own = slurp(dir, record);
  cr_expect(strstr(own, "\"openblas_coretype\":null"), "%s", own);
  free(own);
  r = e2e_run("cd '%s' && rm -r results && OPENBLAS_CORETYPE=Prescott %s "
              "sweep grid.sweep",
              dir, MDLC);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  char *forced = slurp(dir, record);
  cr_expect(strstr(forced, "\"openblas_coretype\":\"Prescott\""), "%s", forced);
  free(forced);
}

Test(sweep, a_grid_runs_and_is_reported_like_the_paper) {
  const char *dir = sweep_dir("sweep_grid", two_by_two);
  e2e_result r = e2e_run("cd '%s' && %s sweep grid.sweep --jobs 2", dir, MDLC);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "[4/4]"), "progress:\n%s", r.output);
  cr_expect(strstr(r.output, "ETA"), "%s", r.output);
  free(r.output);
  cr_expect_eq(count_records(dir), 4);
  char *record = slurp(dir, "results/grid/runs/"
                            "tiny.cm.mu0=0.9.epsilon=0.003.seed=1.json");
  cr_expect(strstr(record, "\"status\":\"ok\""), "%s", record);
  cr_expect(strstr(record, "\"method\":\"cm\""), "%s", record);
  cr_expect(strstr(record, "\"settings\":{\"mu0\":0.9,\"epsilon\":0.003}"),
            "%s", record);
  cr_expect(strstr(record, "\"final\":{\"update\":300"), "%s", record);
  cr_expect(strstr(record, "\"zero_one\":"), "%s", record);
  cr_expect(strstr(record, "\"mdlc_version\":"), "%s", record);
  cr_expect_eq(strchr(record, '\n') - record + 1, (long)strlen(record),
               "one line");
  free(record);
  char *report = slurp(dir, "results/grid/REPORT.md");
  cr_expect(strstr(report, "# tiny\n"), "%s", report);
  cr_expect(strstr(report, "| | 0.9N | 0.9M |\n|---|---|---|\n| add T = 10 | "),
            "%s", report);
  cr_expect(strstr(report, "1/1 seeds) · paper 0.02 |"), "%s", report);
  cr_expect(strstr(report, "· paper 0.43 |"), "%s", report);
  cr_expect(strstr(report, "4 of 4 runs recorded (4 ok"), "%s", report);
  cr_expect(strstr(report, "| add T = 10 | 0.9M | ε 0.003"), "%s", report);
  cr_expect(strstr(report, "![add T = 10](curves/row1.png)"), "%s", report);
  free(report);
  cr_expect(exists(dir, "results/grid/curves/row1.png"));
  cr_expect(exists(dir, "results/grid/curves/row1.svg"));

  /* Again: everything is recorded, nothing runs. */
  r = e2e_run("cd '%s' && %s sweep grid.sweep", dir, MDLC);
  cr_expect_eq(r.status, 0);
  cr_expect(strstr(r.output, "4 runs, 4 recorded already, 0 to make"), "%s",
            r.output);
  free(r.output);
}

/* name followed by ext, malloc'ed. */
static char *concat(const char *name, const char *ext) {
  char *s = malloc(strlen(name) + strlen(ext) + 1);
  strcpy(s, name);
  strcat(s, ext);
  return s;
}

/* The number of lines in a file, or 0 when it cannot be read. */
static int lines_of(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  int n = 0;
  for (int c; (c = fgetc(f)) != EOF;)
    n += c == '\n';
  fclose(f);
  return n;
}

static void nap(long ms) {
  struct timespec ts = {ms / 1000, ms % 1000 * 1000000L};
  nanosleep(&ts, NULL);
}

static double mtime_of(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0)
    return -1;
  return (double)st.st_mtim.tv_sec + 1e-9 * (double)st.st_mtim.tv_nsec;
}

Test(sweep, a_killed_sweep_resumes_without_making_finished_runs_again) {
  const char *dir =
      sweep_dir("sweep_resume", "program \"tiny.mdl\"\nsteps 30000\n"
                                "try epsilon [0.01, 0.003, 0.001, 0.0003]\n");
  /* Compiled first, so the kill falls among the runs. */
  e2e_result r = e2e_run("cd '%s' && %s sweep grid.sweep --list", dir, MDLC);
  free(r.output);
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(e2e_join(dir, "first.log"), O_WRONLY | O_CREAT, 0666);
    dup2(out, 1);
    dup2(out, 2);
    if (chdir(dir) != 0)
      _exit(127);
    execl(MDLC, "mdlc", "sweep", "grid.sweep", "--jobs", "1", (char *)NULL);
    _exit(127);
  }
  cr_assert_gt(pid, 0);
  /* Killed once the first run is recorded and the second has reported a
   * few times (each report saves its checkpoint). */
  const char *runs = e2e_join(dir, "results/grid/runs");
  const char *second = "tiny.nag.epsilon=0.003.steps=30000.seed=1";
  char *second_log = e2e_join(runs, concat(second, ".csv"));
  for (int i = 0; i < 600 && count_records(dir) < 1; i++)
    nap(50);
  for (int i = 0; i < 600 && lines_of(second_log) < 5; i++)
    nap(50);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  int recorded = count_records(dir);
  cr_assert(recorded >= 1 && recorded < 4, "%d records at the kill", recorded);
  const char *done = e2e_join(runs, "tiny.nag.epsilon=0.01.steps=30000.seed=1"
                                    ".json");
  double before = mtime_of(done);
  cr_assert_gt(before, 0, "the first run has no record:\n%s",
               slurp(dir, "first.log"));

  r = e2e_run("cd '%s' && %s sweep grid.sweep --jobs 1", dir, MDLC);
  cr_assert_eq(r.status, 0, "%s", r.output);
  char said[128];
  snprintf(said, sizeof said, "4 runs, %d recorded already, %d to make",
           recorded, 4 - recorded);
  cr_expect(strstr(r.output, said), "%s", r.output);
  free(r.output);
  cr_expect_eq(count_records(dir), 4);
  cr_expect_eq(mtime_of(done), before, "a finished run was made again");
  /* The run cut short went on from its checkpoint, not from update 0, and
   * its output holds both parts; finished runs keep no checkpoint. */
  char *out = slurp(runs, concat(second, ".out"));
  double updates = e2e_number_after(out, "# done:");
  cr_expect(updates > 0 && updates < 30000,
            "the resumed run made %g updates:\n%s", updates, out);
  free(out);
  r = e2e_run("ls '%s'/*.ckpt 2>/dev/null | wc -l", runs);
  cr_expect_eq(atoi(r.output), 0, "checkpoints left: %s", r.output);
  free(r.output);
}

Test(sweep, a_damaged_record_is_a_run_to_make_again) {
  const char *dir = sweep_dir("sweep_damaged", two_by_two);
  e2e_result r = e2e_run("cd '%s' && %s sweep grid.sweep", dir, MDLC);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  /* Cut in the middle, as a crash while writing in place would leave it. */
  const char *name = "results/grid/runs/tiny.nag.mu0=0.9.epsilon=0.01.seed=1";
  r = e2e_run("cd '%s' && head -c 40 '%s.json' > cut && mv cut '%s.json' && "
              "printf garbage > '%s.json.tmp123'",
              dir, name, name, name);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  r = e2e_run("cd '%s' && %s sweep grid.sweep --list", dir, MDLC);
  cr_expect(strstr(r.output, "to run    tiny.nag.mu0=0.9.epsilon=0.01.seed=1"),
            "%s", r.output);
  free(r.output);
  r = e2e_run("cd '%s' && %s sweep grid.sweep", dir, MDLC);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "4 runs, 3 recorded already, 1 to make"), "%s",
            r.output);
  free(r.output);
  char *record = slurp(dir, "results/grid/runs/"
                            "tiny.nag.mu0=0.9.epsilon=0.01.seed=1.json");
  cr_expect(strstr(record, "\"status\":\"ok\""), "%s", record);
  free(record);
}

Test(sweep, runs_that_diverge_or_fail_are_recorded_and_reported) {
  const char *dir = sweep_dir("sweep_failures",
                              "program \"tiny.mdl\"\n"
                              "column \"fine\" { try epsilon [0.01, 1e6] }\n"
                              "column \"wild\" { epsilon 1e6 }\n"
                              "column \"bad mu\" { mu0 1.5 }\n");
  e2e_result r = e2e_run("cd '%s' && %s sweep grid.sweep", dir, MDLC);
  cr_expect_eq(r.status, 0, "failures are results, not errors:\n%s", r.output);
  cr_expect(strstr(r.output, "diverged"), "%s", r.output);
  free(r.output);
  char *wild = slurp(dir, "results/grid/runs/tiny.nag.epsilon=1000000.seed=1"
                          ".json");
  cr_expect(strstr(wild, "\"status\":\"diverged\""), "%s", wild);
  cr_expect(strstr(wild, "training diverged at update"), "%s", wild);
  free(wild);
  char *bad = slurp(dir, "results/grid/runs/tiny.nag.mu0=1.5.seed=1.json");
  cr_expect(strstr(bad, "\"status\":\"failed\""), "%s", bad);
  cr_expect(strstr(bad, "outside [0, 1)"), "%s", bad);
  cr_expect(strstr(bad, "\"exit_status\":1"), "%s", bad);
  free(bad);
  char *report = slurp(dir, "results/grid/REPORT.md");
  /* the diverged value is not the best; the other cells say what happened */
  cr_expect(strstr(report, "(ε 0.01, 1/1 seeds) |"), "%s", report);
  cr_expect(strstr(report, "| diverged (1 of 1 run) |"), "%s", report);
  cr_expect(strstr(report, "| failed (1 of 1 run) |"), "%s", report);
  cr_expect(strstr(report, "## Runs that diverged or failed"), "%s", report);
  cr_expect(strstr(report, "- `tiny.nag.mu0=1.5.seed=1`: failed: "), "%s",
            report);
  free(report);
  /* Recorded, so not tried again (the run of ε 1e6 serves two cells). */
  r = e2e_run("cd '%s' && %s sweep grid.sweep", dir, MDLC);
  cr_expect(strstr(r.output, "3 runs, 3 recorded already, 0 to make"), "%s",
            r.output);
  free(r.output);
}

Test(sweep, the_report_can_be_made_before_the_runs) {
  const char *dir = sweep_dir("sweep_early", two_by_two);
  e2e_result r = e2e_run("cd '%s' && %s sweep grid.sweep --report", dir, MDLC);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  char *report = slurp(dir, "results/grid/REPORT.md");
  cr_expect(strstr(report, "0 of 4 runs recorded"), "%s", report);
  cr_expect(strstr(report, "| not run yet · paper 0.02 |"), "%s", report);
  free(report);
}

Test(sweep, a_preview_has_a_results_folder_of_its_own) {
  const char *dir = sweep_dir("sweep_scale", two_by_two);
  e2e_result r =
      e2e_run("cd '%s' && %s sweep grid.sweep --scale 0.1 --jobs 2", dir, MDLC);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  char *record = slurp(dir, "results/grid@0.1/runs/"
                            "tiny.nag.mu0=0.9.epsilon=0.01.seed=1.json");
  cr_expect(strstr(record, "\"steps\":30,\"report_every\":5,"), "%s", record);
  cr_expect(strstr(record, "\"final\":{\"update\":30,\"mu\":0.5,"), "%s",
            record);
  free(record);
  cr_expect_eq(count_records(dir), 0, "nothing in results/grid");
}

Test(sweep, bad_command_lines) {
  const char *dir = sweep_dir("sweep_cli", two_by_two);
  struct {
    const char *args, *message;
  } cases[] = {
      {"", "mdlc sweep: error: no sweep file"},
      {"grid.sweep --jobs 0", "--jobs takes a count from 1, not '0'"},
      {"grid.sweep --seeds 0", "--seeds takes a count from 1, not '0'"},
      {"grid.sweep --threads", "--threads needs a value"},
      {"grid.sweep --scale -1", "--scale takes a number above 0"},
      {"grid.sweep --partition p", "--partition goes with --slurm"},
      {"grid.sweep --bogus", "unknown option '--bogus'"},
      {"grid.sweep other.sweep", "one sweep file at a time"},
      {"nothere.sweep", "cannot open 'nothere.sweep'"},
      {"grid.sweep --run-one 0", "slurm-plan.txt"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    e2e_result r = e2e_run("cd '%s' && %s sweep %s", dir, MDLC, cases[i].args);
    cr_expect_eq(r.status, 1, "sweep %s: status %d\n%s", cases[i].args,
                 r.status, r.output);
    cr_expect(strstr(r.output, cases[i].message),
              "sweep %s should say \"%s\", got:\n%s", cases[i].args,
              cases[i].message, r.output);
    free(r.output);
  }
  /* An sbatch that refuses, then one that takes the job (tests/slurm runs
   * a real one). */
  e2e_write(dir, "refuses", "#!/bin/sh\necho refused >&2\nexit 1\n");
  e2e_write(dir, "takes",
            "#!/bin/sh\necho \"$@\" > sbatch.args\n"
            "echo '4242;cluster'\n");
  e2e_result r = e2e_run("cd '%s' && mkdir -p no yes && cp refuses no/sbatch "
                         "&& cp takes yes/sbatch && chmod +x no/sbatch "
                         "yes/sbatch && PATH=\"$PWD/no:$PATH\" %s sweep "
                         "grid.sweep --slurm",
                         dir, MDLC);
  cr_expect_eq(r.status, 1);
  cr_expect(strstr(r.output, "sbatch did not take"), "%s", r.output);
  cr_expect(strstr(r.output, "refused"), "the fake sbatch ran:\n%s", r.output);
  free(r.output);
  r = e2e_run("cd '%s' && PATH=\"$PWD/yes:$PATH\" %s sweep grid.sweep --slurm "
              "--partition short --time 10:00",
              dir, MDLC);
  cr_expect_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "4242\n"), "the job id:\n%s", r.output);
  cr_expect(strstr(r.output, "submitted job 4242: 4 runs"), "%s", r.output);
  free(r.output);
  char *args = slurp(dir, "sbatch.args");
  cr_expect(strstr(args, "--parsable "), "%s", args);
  cr_expect(strstr(args, "results/grid/sweep.sbatch"), "%s", args);
  free(args);
  char *script = slurp(dir, "results/grid/sweep.sbatch");
  cr_expect(strstr(script, "#SBATCH --array=0-3\n"), "%s", script);
  cr_expect(strstr(script, "#SBATCH --cpus-per-task=1\n"), "%s", script);
  cr_expect(strstr(script, "#SBATCH --partition=short\n"), "%s", script);
  cr_expect(strstr(script, "#SBATCH --time=10:00\n"), "%s", script);
  cr_expect(strstr(script, "--run-one \"$SLURM_ARRAY_TASK_ID\""), "%s", script);
  free(script);
  /* A task runs its line of the plan and records it. */
  r = e2e_run("cd '%s' && %s sweep grid.sweep --run-one 2", dir, MDLC);
  cr_expect_eq(r.status, 0, "%s", r.output);
  free(r.output);
  char *plan = slurp(dir, "results/grid/slurm-plan.txt");
  char third[256] = "";
  sscanf(plan, "%*s %*s %255s", third);
  free(plan);
  char record[512];
  snprintf(record, sizeof record, "results/grid/runs/%s.json", third);
  cr_expect(exists(dir, record), "no %s", record);
  cr_expect_eq(count_records(dir), 1);
  /* --march: programs for a cluster's processors, beside the native ones,
   * and the tasks are told which to run. */
  r = e2e_run("cd '%s' && PATH=\"$PWD/yes:$PATH\" %s sweep grid.sweep --slurm "
              "--march x86-64 --results portable",
              dir, MDLC);
  cr_expect_eq(r.status, 0, "%s", r.output);
  free(r.output);
  script = slurp(dir, "portable/sweep.sbatch");
  cr_expect(strstr(script, "--march 'x86-64' --run-one"), "%s", script);
  free(script);
  r = e2e_run("cd '%s' && ls portable/bin", dir);
  cr_expect(strstr(r.output, "@x86-64"), "%s", r.output);
  free(r.output);
}

Test(sweep, mdlc_method_and_define) {
  const char *dir = e2e_fresh_dir("sweep_defines");
  e2e_result r = e2e_run("cd '%s' && %s --method cm -D scale=0.25 "
                         "'%s/sweeps/scaled.mdl' --dump-model",
                         dir, MDLC, TESTS_DIR);
  cr_expect_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "train with cm"), "%s", r.output);
  cr_expect(strstr(r.output, "init gaussian(0.25)"), "%s", r.output);
  free(r.output);
  r = e2e_run("cd '%s' && %s --method sgd '%s/sweeps/tiny.mdl' --dump-model",
              dir, MDLC, TESTS_DIR);
  cr_expect_eq(r.status, 0, "sgd drops mu:\n%s", r.output);
  cr_expect(strstr(r.output, "train with sgd"), "%s", r.output);
  free(r.output);
  struct {
    const char *args, *message;
  } cases[] = {
      {"--method adam", "--method is sgd, cm, nag or hf, not 'adam'"},
      {"-D scale", "-D takes NAME=VALUE with a number"},
      {"--define scale=big", "-D takes NAME=VALUE with a number"},
      {"-Dscal=1", "-D scal: " TESTS_DIR "/sweeps/scaled.mdl has no const "
                   "'scal'; did you mean 'scale'?"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    r = e2e_run("cd '%s' && %s %s '%s/sweeps/scaled.mdl' -o x", dir, MDLC,
                cases[i].args, TESTS_DIR);
    cr_expect_eq(r.status, 1, "%s: %s", cases[i].args, r.output);
    cr_expect(strstr(r.output, cases[i].message), "%s should say %s, got:\n%s",
              cases[i].args, cases[i].message, r.output);
    free(r.output);
  }
}

/* The sweep files in tables/ are how docs/results.md's tables are made
 * again: each must still plan, with every program it names where it says.
 * (--list reads the records too, and writes nothing.) */
Test(sweep, every_committed_sweep_file_plans) {
  e2e_result files = e2e_run("cd '%s/..' && ls tables/*.sweep "
                             "tables/explore/*.sweep",
                             TESTS_DIR);
  cr_assert_eq(files.status, 0, "%s", files.output);
  int planned = 0;
  for (char *name = strtok(files.output, "\n"); name;
       name = strtok(NULL, "\n")) {
    e2e_result r =
        e2e_run("cd '%s/..' && %s sweep --list '%s'", TESTS_DIR, MDLC, name);
    cr_expect_eq(r.status, 0, "%s does not plan:\n%s", name, r.output);
    free(r.output);
    planned++;
  }
  free(files.output);
  cr_expect_gt(planned, 10, "only %d sweep files found", planned);
}
