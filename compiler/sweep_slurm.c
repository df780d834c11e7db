/* sweep_slurm.c — a sweep on a Slurm cluster: the runs not yet recorded
 * become one job array, task K making the K-th run of slurm-plan.txt
 * (written at submission, so later edits of the sweep file cannot shift
 * the numbering under running tasks). Each task runs this mdlc with the
 * hidden option --run-one K and writes its record into the shared results
 * folder, where --report reads it as it reads local runs. */
#include "sweep.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *plan_path(const SweepPlan *plan) {
  return arena_printf("%s/slurm-plan.txt", plan->results);
}

/* An absolute path, for the job's script: tasks may start elsewhere. */
static const char *absolute(const char *path) {
  if (path[0] == '/')
    return path;
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd))
    return path;
  return arena_printf("%s/%s", cwd, path);
}

/* Runs sbatch on the script; its job id, or NULL. */
static const char *submit(const char *script) {
  int fds[2];
  if (pipe(fds) != 0)
    return NULL;
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 1);
    execlp("sbatch", "sbatch", "--parsable", script, (char *)NULL);
    fprintf(stderr, "mdlc sweep: cannot run sbatch: %s\n", strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  char id[256] = "";
  size_t n = 0;
  ssize_t got;
  while (n < sizeof id - 1 &&
         (got = read(fds[0], id + n, sizeof id - 1 - n)) > 0)
    n += (size_t)got;
  id[n] = '\0';
  close(fds[0]);
  int status;
  while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return NULL;
  id[strcspn(id, ";\n")] = '\0'; /* "JOBID" or "JOBID;CLUSTER" */
  return id[0] ? arena_strdup(id) : NULL;
}

int sweep_slurm_submit(const SweepPlan *plan, const SlurmOptions *o) {
  bool *pending = arena_alloc(sizeof(bool) * (size_t)(plan->n_runs + 1));
  int n = 0;
  for (int k = 0; k < plan->n_runs; k++)
    if (sweep_record_read(plan, k, "").status == RUN_MISSING) {
      pending[k] = true;
      n++;
    }
  if (n == 0) {
    fprintf(stderr, "mdlc sweep: %s recorded; nothing to submit\n",
            plan->n_runs == 1 ? "the run is"
                              : arena_printf("all %d runs are", plan->n_runs));
    return 0;
  }
  /* Compiled here, on the submitting host, once for all the tasks. */
  if (!sweep_compile(plan, pending))
    return 1;
  const char *results = absolute(plan->results);
  const char *strings[] = {results, absolute(plan->sweep_path), o->mdlc};
  for (int i = 0; i < 3; i++)
    if (strchr(strings[i], '\'')) {
      diag_plain_error("the path %s has a quote in it; the job script cannot "
                       "hold it",
                       strings[i]);
      return 1;
    }
  FILE *list = fopen(plan_path(plan), "w");
  if (!list) {
    diag_plain_error("cannot write %s: %s", plan_path(plan), strerror(errno));
    return 1;
  }
  for (int k = 0; k < plan->n_runs; k++)
    if (pending[k])
      fprintf(list, "%s\n", plan->runs[k].id);
  fclose(list);

  mkdir(arena_printf("%s/slurm", plan->results), 0777);
  const char *script = arena_printf("%s/sweep.sbatch", plan->results);
  FILE *f = fopen(script, "w");
  if (!f) {
    diag_plain_error("cannot write %s: %s", script, strerror(errno));
    return 1;
  }
  const char *name = strrchr(plan->sweep_path, '/');
  name = name ? name + 1 : plan->sweep_path;
  fprintf(f, "#!/bin/sh\n");
  fprintf(f, "#SBATCH --job-name=mdlc-%.*s\n", (int)strcspn(name, "."), name);
  fprintf(f, "#SBATCH --array=0-%d\n", n - 1);
  fprintf(f, "#SBATCH --ntasks=1\n");
  fprintf(f, "#SBATCH --cpus-per-task=%d\n", plan->threads);
  fprintf(f, "#SBATCH --output=%s/slurm/task-%%a.out\n", results);
  if (o->partition)
    fprintf(f, "#SBATCH --partition=%s\n", o->partition);
  if (o->time)
    fprintf(f, "#SBATCH --time=%s\n", o->time);
  fprintf(f,
          "# Written by mdlc sweep --slurm: array task K makes the run on "
          "line K + 1 of\n# %s/slurm-plan.txt and writes its record.\n",
          results);
  char cwd[4096];
  fprintf(f, "cd '%s' || exit 1\n", getcwd(cwd, sizeof cwd) ? cwd : "/");
  fprintf(f,
          "exec '%s' sweep '%s' --results '%s' --scale %s --threads %d "
          "%s%s%s--run-one \"$SLURM_ARRAY_TASK_ID\"\n",
          o->mdlc, absolute(plan->sweep_path), results,
          sweep_number(plan->scale), plan->threads,
          plan->march ? "--march '" : "", plan->march ? plan->march : "",
          plan->march ? "' " : "");
  if (fclose(f) != 0) {
    diag_plain_error("cannot write %s: %s", script, strerror(errno));
    return 1;
  }
  const char *job = submit(script);
  if (!job) {
    diag_plain_error("sbatch did not take %s (is Slurm on PATH?)", script);
    return 1;
  }
  printf("%s\n", job);
  fprintf(stderr,
          "mdlc sweep: submitted job %s: %s as array tasks 0-%d; "
          "'mdlc sweep %s --report' collects %s\n",
          job, count_of(n, "run"), n - 1, plan->sweep_path,
          n == 1 ? "it" : "them");
  return 0;
}

int sweep_slurm_run_one(const SweepPlan *plan, long k) {
  FILE *list = fopen(plan_path(plan), "r");
  if (!list) {
    diag_plain_error("cannot read %s: %s", plan_path(plan), strerror(errno));
    return 1;
  }
  char line[4096];
  long i = 0;
  bool found = false;
  while (fgets(line, sizeof line, list))
    if (i++ == k) {
      found = true;
      break;
    }
  fclose(list);
  if (!found) {
    diag_plain_error("%s has no run %ld", plan_path(plan), k);
    return 1;
  }
  line[strcspn(line, "\n")] = '\0';
  for (int run = 0; run < plan->n_runs; run++)
    if (strcmp(plan->runs[run].id, line) == 0) {
      if (sweep_record_read(plan, run, "").status != RUN_MISSING)
        return 0; /* a task started twice: the record is there */
      return sweep_run_one_now(plan, run);
    }
  diag_plain_error("run %s of %s is not in the sweep any more", line,
                   plan_path(plan));
  return 1;
}
