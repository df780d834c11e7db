/* sweep_main.c — `mdlc sweep FILE.sweep [options]`: reads the sweep, plans
 * its runs, and makes them here, on Slurm, or reports on them. */
#include "sweep.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *out) {
  fprintf(out,
          "usage: mdlc sweep [options] FILE.sweep\n"
          "\n"
          "Makes every run of a sweep that has no record yet, then writes "
          "REPORT.md:\n"
          "the table laid out as the sweep file says, and learning "
          "curves.\n"
          "\n"
          "  --jobs N          runs at a time (default: cores / threads)\n"
          "  --threads T       BLAS threads per run (default 1)\n"
          "  --scale F         every run F times as long, for a preview "
          "(0.1: 10x shorter);\n"
          "                    its results go to a folder of their own; "
          "it reports\n"
          "                    about ten times per run\n"
          "  --seeds N         only the file's first N seeds (run and "
          "report)\n"
          "  --march ARCH      compile the programs for ARCH (mdlc --march; "
          "default native)\n"
          "  --results DIR     the results folder (default: "
          "results/NAME, or results/NAME@F)\n"
          "  --report          only write REPORT.md from the records so "
          "far\n"
          "  --list            print the runs and whether each is "
          "recorded, and stop\n"
          "  --slurm           submit the runs not recorded yet as a Slurm "
          "job array\n"
          "  --partition P     the Slurm partition (with --slurm)\n"
          "  --time T          the Slurm time limit of a run (with "
          "--slurm)\n"
          "  --help            print this help\n"
          "\n"
          "docs/sweeps.md describes sweep files and the results folder.\n");
}

typedef struct {
  const char *file, *results, *partition, *time;
  int jobs, threads;
  int seeds;         /* --seeds N, or 0: all the file's */
  const char *march; /* --march ARCH for mdlc, or NULL */
  double scale;
  bool report, list, slurm;
  long run_one; /* -1: not a Slurm task */
} SweepOptions;

static int bad_usage(const char *format, const char *arg) {
  fprintf(stderr, "mdlc sweep: error: ");
  fprintf(stderr, format, arg);
  fprintf(stderr, "\nTry 'mdlc sweep --help'.\n");
  return 1;
}

static bool whole(const char *text, long min, long max, long *out) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || end == text || *end || v < min || v > max)
    return false;
  *out = v;
  return true;
}

static int parse_args(int argc, char **argv, SweepOptions *o) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    static const char *const valued[] = {
        "--jobs",      "--threads", "--scale",   "--seeds", "--results",
        "--partition", "--time",    "--run-one", "--march", NULL};
    bool takes_value = find_word(a, valued) >= 0;
    if (takes_value && !value)
      return bad_usage("%s needs a value", a);
    if (takes_value)
      i++;
    long n;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--jobs")) {
      if (!whole(value, 1, 4096, &n))
        return bad_usage("--jobs takes a count from 1, not '%s'", value);
      o->jobs = (int)n;
    } else if (!strcmp(a, "--threads")) {
      if (!whole(value, 1, 4096, &n))
        return bad_usage("--threads takes a count from 1, not '%s'", value);
      o->threads = (int)n;
    } else if (!strcmp(a, "--scale")) {
      char *end;
      o->scale = strtod(value, &end);
      if (end == value || *end || !(o->scale > 0) || o->scale > 1000)
        return bad_usage("--scale takes a number above 0, such as 0.1; not "
                         "'%s'",
                         value);
    } else if (!strcmp(a, "--seeds")) {
      if (!whole(value, 1, 1000000, &n))
        return bad_usage("--seeds takes a count from 1, not '%s'", value);
      o->seeds = (int)n;
    } else if (!strcmp(a, "--march")) {
      o->march = value;
    } else if (!strcmp(a, "--results")) {
      o->results = value;
    } else if (!strcmp(a, "--partition")) {
      o->partition = value;
    } else if (!strcmp(a, "--time")) {
      o->time = value;
    } else if (!strcmp(a, "--run-one")) {
      if (!whole(value, 0, 1L << 40, &o->run_one))
        return bad_usage("--run-one takes a task number, not '%s'", value);
    } else if (!strcmp(a, "--report")) {
      o->report = true;
    } else if (!strcmp(a, "--list")) {
      o->list = true;
    } else if (!strcmp(a, "--slurm")) {
      o->slurm = true;
    } else if (a[0] == '-' && a[1]) {
      return bad_usage("unknown option '%s'", a);
    } else if (o->file) {
      return bad_usage("one sweep file at a time (also given: '%s')", a);
    } else {
      o->file = a;
    }
  }
  if (!o->file)
    return bad_usage("%s", "no sweep file");
  if ((o->partition || o->time) && !o->slurm)
    return bad_usage("%s goes with --slurm",
                     o->partition ? "--partition" : "--time");
  return -1;
}

/* mkdir -p */
static bool make_dirs(const char *path) {
  char *p = arena_strdup(path);
  for (char *s = p + 1;; s++) {
    if (*s != '/' && *s)
      continue;
    char saved = *s;
    *s = '\0';
    if (mkdir(p, 0777) != 0 && errno != EEXIST) {
      diag_plain_error("cannot create %s: %s", p, strerror(errno));
      return false;
    }
    *s = saved;
    if (!saved)
      return true;
  }
}

/* results/table5, or results/table5@0.1 for a preview */
static const char *default_results(const char *file, double scale) {
  const char *base = strrchr(file, '/');
  base = base ? base + 1 : file;
  int n = (int)strcspn(base, ".");
  const char *dir = arena_printf("results/%.*s", n, base);
  return scale == 1 ? dir : arena_printf("%s@%s", dir, sweep_number(scale));
}

static void list_runs(const SweepPlan *plan) {
  static const char *const said[] = {"to run", "ok", "diverged", "failed"};
  for (int k = 0; k < plan->n_runs; k++)
    printf("%4d  %-8s  %s\n", k, said[sweep_record_read(plan, k, "").status],
           plan->runs[k].id);
}

int sweep_main(int argc, char **argv) {
  SweepOptions o = {.scale = 1, .threads = 1, .run_one = -1};
  int status = parse_args(argc, argv, &o);
  if (status >= 0)
    return status;
  SourceFile *file = source_read(o.file);
  if (!file)
    return 1;
  diag_hold();
  Sweep *sweep = sweep_parse(file);
  diag_release();
  if (!sweep)
    return 1;
  if (o.seeds)
    sweep_keep_seeds(sweep, o.seeds);
  SweepPlan plan = {
      .sweep_path = o.file,
      .scale = o.scale,
      .threads = o.threads,
      .march = o.march,
      .results = o.results ? o.results : default_results(o.file, o.scale),
  };
  if (!sweep_plan(&plan, sweep))
    return 1;
  if (o.list) {
    list_runs(&plan);
    return 0;
  }
  if (!make_dirs(arena_printf("%s/runs", plan.results)))
    return 1;
  if (o.report)
    return sweep_report(&plan) ? 0 : 1;
  if (o.run_one >= 0)
    return sweep_slurm_run_one(&plan, o.run_one);
  if (o.slurm) {
    SlurmOptions so = {o.partition, o.time, sweep_self_path()};
    return sweep_slurm_submit(&plan, &so);
  }
  if (!o.jobs) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    o.jobs = cores > o.threads ? (int)(cores / o.threads) : 1;
  }
  status = sweep_run_local(&plan, o.jobs);
  if (status != 0)
    return status;
  return sweep_report(&plan) ? 0 : 1;
}
