/* sweep_run.c — making the runs: each distinct program compiled once (by
 * this same mdlc, as a child), then the runs without a record started
 * `jobs` at a time with fork and exec, each writing its CSV log and its
 * output into the results folder, and recorded when it ends. */
#include "sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double mtime(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0)
    return -1;
  return (double)st.st_mtim.tv_sec + 1e-9 * (double)st.st_mtim.tv_nsec;
}

const char *sweep_self_path(void) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0)
    return "mdlc";
  exe[n] = '\0';
  return arena_strdup(exe);
}

/* Waits for a child; its wait status, or -1. */
static int wait_for(pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return status;
}

/* ---- compiling ---- */

static bool compile_program(const SweepPlan *plan, int k) {
  const SweepProgram *prog = &plan->programs[k];
  const char *binary = sweep_program_path(plan, k);
  const char *mdlc = sweep_self_path();
  /* Up to date: newer than its source and than mdlc itself. */
  double made = mtime(binary);
  if (made >= mtime(prog->source) && made >= mtime(mdlc))
    return true;
  const char **argv =
      arena_alloc(sizeof(char *) * (size_t)(10 + 2 * prog->n_defines));
  int n = 0;
  argv[n++] = mdlc;
  argv[n++] = prog->source;
  argv[n++] = "-o";
  argv[n++] = binary;
  if (prog->method) {
    argv[n++] = "--method";
    argv[n++] = prog->method;
  }
  if (plan->march) {
    argv[n++] = "--march";
    argv[n++] = plan->march;
  }
  for (int i = 0; i < prog->n_defines; i++) {
    argv[n++] = "-D";
    argv[n++] = arena_printf("%s=%s", prog->defines[i].name,
                             sweep_number(prog->defines[i].value));
  }
  fprintf(stderr, "mdlc sweep: compiling %s\n", prog->key);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    execv(mdlc, (char *const *)argv);
    _exit(127);
  }
  int status = pid > 0 ? wait_for(pid) : -1;
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    diag_plain_error("mdlc could not compile %s (as %s)", prog->source,
                     prog->key);
    return false;
  }
  return true;
}

bool sweep_compile(const SweepPlan *plan, const bool *needed_runs) {
  mkdir(arena_printf("%s/bin", plan->results), 0777);
  bool *needed = arena_alloc(sizeof(bool) * (size_t)(plan->n_programs + 1));
  for (int i = 0; i < plan->n_runs; i++)
    if (!needed_runs || needed_runs[i])
      needed[plan->runs[i].program] = true;
  for (int k = 0; k < plan->n_programs; k++)
    if (needed[k] && !compile_program(plan, k))
      return false;
  return true;
}

/* ---- one run ---- */

static pid_t start_run(const SweepPlan *plan, int k) {
  const SweepRun *run = &plan->runs[k];
  const char **argv =
      arena_alloc(sizeof(char *) * (size_t)(20 + 2 * run->n_sets));
  int n = 0;
  argv[n++] = sweep_program_path(plan, run->program);
  argv[n++] = "--quiet";
  argv[n++] = "--seed";
  argv[n++] = arena_printf("%ld", run->seed);
  argv[n++] = "--threads";
  argv[n++] = arena_printf("%d", plan->threads);
  /* The run is the whole experiment at its length: `steps` and `last`
   * phases follow it, as they would in a program that said `steps N`
   * (--steps alone would only cut the program's schedule short). */
  argv[n++] = "--schedule-steps";
  argv[n++] = arena_printf("%ld", run->steps);
  argv[n++] = "--report-every";
  argv[n++] = arena_printf("%ld", run->report_every);
  argv[n++] = "--log";
  argv[n++] = sweep_run_path(plan, k, ".csv");
  for (int i = 0; i < run->n_sets; i++) {
    argv[n++] = "--set";
    argv[n++] = arena_printf("%s=%s", run->sets[i].name,
                             sweep_number(run->sets[i].value));
  }
  /* Every report saves the run's state, so a run that was killed, or
   * stopped with its sweep, goes on from there next time instead of from
   * update 0; its log keeps the rows up to that point. */
  const char *checkpoint = sweep_run_path(plan, k, ".ckpt");
  bool resume = access(checkpoint, F_OK) == 0;
  argv[n++] = "--checkpoint";
  argv[n++] = checkpoint;
  if (resume) {
    argv[n++] = "--resume";
    argv[n++] = checkpoint;
  }
  const char *out = sweep_run_path(plan, k, ".out");
  if (!resume)
    remove(sweep_run_path(plan, k, ".csv"));
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid != 0)
    return pid;
  /* The run dies with the sweep: a killed sweep leaves no run behind to
   * write into a log that its successor starts again. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1)
    _exit(127);
  int fd = open(out, O_WRONLY | O_CREAT | (resume ? O_APPEND : O_TRUNC), 0666);
  int null = open("/dev/null", O_RDONLY);
  if (fd < 0 || null < 0)
    _exit(127);
  dup2(null, 0);
  dup2(fd, 1);
  dup2(fd, 2);
  execv(argv[0], (char *const *)argv);
  fprintf(stderr, "mdlc sweep: cannot run %s: %s\n", argv[0], strerror(errno));
  _exit(127);
}

/* The last line a run printed that says something. */
static const char *last_line(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f)
    return NULL;
  char line[1024], last[1024] = "";
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    if (line[0])
      memcpy(last, line, sizeof last);
  }
  fclose(f);
  return last[0] ? arena_strdup(last) : NULL;
}

static RunOutcome outcome_of(const SweepPlan *plan, int k, int status,
                             double started) {
  RunOutcome o = {.status = RUN_OK, .started = started, .finished = now()};
  const char *said = last_line(sweep_run_path(plan, k, ".out"));
  if (status != -1 && WIFEXITED(status)) {
    o.exit_status = WEXITSTATUS(status);
    if (o.exit_status != 0) {
      bool diverged = said && strstr(said, "diverged");
      o.status = diverged ? RUN_DIVERGED : RUN_FAILED;
      o.message = said ? said : arena_printf("exit status %d", o.exit_status);
    }
  } else {
    o.status = RUN_FAILED;
    o.exit_status = -1;
    o.message = status == -1
                    ? "lost track of the run"
                    : arena_printf("killed by signal %d (%s)", WTERMSIG(status),
                                   strsignal(WTERMSIG(status)));
  }
  return o;
}

/* A run that a signal asked to stop (Ctrl-C, kill, scancel) said so and
 * saved its checkpoint: it is not finished, so it gets no record and the
 * next sweep resumes it. */
static bool stopped(int status) {
  if (status == -1 || !WIFEXITED(status))
    return false;
  int code = WEXITSTATUS(status);
  return code == 128 + SIGINT || code == 128 + SIGTERM || code == 128 + SIGHUP;
}

/* The record of a finished run; its checkpoint has done its job. */
static bool finish_run(const SweepPlan *plan, int k, const RunOutcome *o) {
  if (!sweep_record_write(plan, k, o))
    return false;
  remove(sweep_run_path(plan, k, ".ckpt"));
  return true;
}

int sweep_run_one_now(const SweepPlan *plan, int k) {
  double started = now();
  pid_t pid = start_run(plan, k);
  int status = pid > 0 ? wait_for(pid) : -1;
  if (stopped(status)) {
    fprintf(stderr,
            "mdlc sweep: %s stopped; it goes on from its checkpoint "
            "when run again\n",
            plan->runs[k].id);
    return 1;
  }
  RunOutcome o = outcome_of(plan, k, status, started);
  if (!finish_run(plan, k, &o))
    return 1;
  return o.status == RUN_OK ? 0 : 1;
}

/* ---- many runs ---- */

static const char *duration(double seconds) {
  long s = (long)(seconds + 0.5);
  if (s < 60)
    return arena_printf("%lds", s);
  if (s < 3600)
    return arena_printf("%ldm%02lds", s / 60, s % 60);
  return arena_printf("%ldh%02ldm", s / 3600, s / 60 % 60);
}

/* Only one local sweep at a time per results folder. */
static bool lock_results(const SweepPlan *plan) {
  const char *path = arena_printf("%s/.lock", plan->results);
  int fd = open(path, O_RDWR | O_CREAT, 0666);
  struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
  if (fd < 0 || fcntl(fd, F_SETLK, &lock) != 0) {
    diag_plain_error("another mdlc sweep is running in %s", plan->results);
    return false;
  }
  return true; /* held until we exit */
}

typedef struct {
  pid_t pid;
  int run;
  double started;
} Slot;

int sweep_run_local(const SweepPlan *plan, int jobs) {
  if (!lock_results(plan))
    return 1;
  int *pending = arena_alloc(sizeof(int) * (size_t)(plan->n_runs + 1));
  bool *needed = arena_alloc(sizeof(bool) * (size_t)(plan->n_runs + 1));
  int n_pending = 0;
  for (int k = 0; k < plan->n_runs; k++)
    if (sweep_record_read(plan, k, "").status == RUN_MISSING) {
      pending[n_pending++] = k;
      needed[k] = true;
    }
  fprintf(stderr,
          "mdlc sweep: %s, %d recorded already, %d to make, %d at a "
          "time with %s each\n",
          count_of(plan->n_runs, "run"), plan->n_runs - n_pending, n_pending,
          jobs, count_of(plan->threads, "thread"));
  if (n_pending == 0)
    return 0;
  if (!sweep_compile(plan, needed))
    return 1;

  Slot *slots = arena_alloc(sizeof(Slot) * (size_t)jobs);
  int next = 0, running = 0, done = 0, bad = 0;
  double begun = now(), busy = 0;
  while (done < n_pending) {
    while (running < jobs && next < n_pending) {
      int k = pending[next++];
      double started = now();
      pid_t pid = start_run(plan, k);
      if (pid < 0) {
        diag_plain_error("cannot start a run: %s", strerror(errno));
        return 1;
      }
      for (int i = 0; i < jobs; i++)
        if (slots[i].pid == 0) {
          slots[i] = (Slot){pid, k, started};
          break;
        }
      running++;
    }
    int status;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR)
        continue;
      diag_plain_error("waiting for the runs: %s", strerror(errno));
      return 1;
    }
    Slot *slot = NULL;
    for (int i = 0; i < jobs; i++)
      if (slots[i].pid == pid)
        slot = &slots[i];
    if (!slot)
      continue;
    slot->pid = 0;
    running--;
    done++;
    if (stopped(status)) {
      fprintf(stderr,
              "[%d/%d] stopped  %s: it goes on from its checkpoint "
              "when the sweep is run again\n",
              done, n_pending, plan->runs[slot->run].id);
      continue;
    }
    RunOutcome o = outcome_of(plan, slot->run, status, slot->started);
    if (!finish_run(plan, slot->run, &o))
      return 1;
    bad += o.status != RUN_OK;
    busy += o.finished - o.started;
    double elapsed = now() - begun;
    double eta = busy / done * (n_pending - done) / jobs;
    static const char *const said[] = {"", "ok", "diverged", "failed"};
    fprintf(stderr, "[%d/%d] %-8s %s (%s)  |  %d not ok, %s elapsed, ETA %s\n",
            done, n_pending, said[o.status], plan->runs[slot->run].id,
            duration(o.finished - o.started), bad, duration(elapsed),
            done < n_pending ? duration(eta) : "-");
  }
  return 0;
}
