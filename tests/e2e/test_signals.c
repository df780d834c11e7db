/* test_signals.c — mdlc stopped by SIGTERM, SIGINT or SIGHUP while a child
 * of it runs: it ends the child and whatever the child started, removes
 * its temporary files, says so and dies of the signal. The children here
 * are stand-ins that never finish, each with a child of its own: a
 * clang-format found first on PATH, and a C compiler given with --cc. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "e2e.h"

static const char *const program =
    "data d = npy(inputs \"x.npy\", targets \"y.npy\")\n"
    "net f : feedforward { input 4; output linear 2 }\n"
    "train f on d with sgd { batch 10; steps 5; epsilon 0.01 }\n";

/* A stand-in that writes its pid and its child's to $MDLC_TEST_PIDS, and
 * (as a compiler) creates the file after -o, then waits for ever. */
static const char *const stand_in =
    "#!/bin/sh\n"
    "while [ $# -gt 0 ]; do\n"
    "  if [ \"$1\" = -o ]; then : > \"$2\"; fi\n"
    "  shift\n"
    "done\n"
    "sleep 300 &\n"
    "echo $$ $! > \"$MDLC_TEST_PIDS.tmp\"\n"
    "mv \"$MDLC_TEST_PIDS.tmp\" "
    "\"$MDLC_TEST_PIDS\"\n"
    "wait\n";

typedef struct {
  const char *dir;    /* the test's directory, where mdlc runs */
  const char *tmpdir; /* mdlc's TMPDIR */
  const char *bin;    /* the stand-ins; first on PATH */
} Setup;

static Setup set_up(const char *name) {
  Setup s = {.dir = e2e_fresh_dir(name)};
  s.tmpdir = e2e_join(s.dir, "tmp");
  s.bin = e2e_join(s.dir, "bin");
  mkdir(s.tmpdir, 0755);
  mkdir(s.bin, 0755);
  const char *script = e2e_write(s.bin, "clang-format", stand_in);
  chmod(script, 0755);
  script = e2e_write(s.bin, "slow-cc", stand_in);
  chmod(script, 0755);
  e2e_write(s.dir, "p.mdl", program);
  return s;
}

/* Starts mdlc with the arguments in dir, its stderr to dir/stderr. */
static pid_t start_mdlc(const Setup *s, char *const args[]) {
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    char *path = malloc(strlen(s->bin) + strlen(getenv("PATH")) + 2);
    sprintf(path, "%s:%s", s->bin, getenv("PATH"));
    setenv("PATH", path, 1);
    setenv("TMPDIR", s->tmpdir, 1);
    setenv("MDLC_TEST_PIDS", e2e_join(s->dir, "pids"), 1);
    if (chdir(s->dir) != 0 || !freopen("stderr", "w", stderr))
      _exit(126);
    char *argv[16] = {MDLC};
    for (int i = 0; args[i]; i++)
      argv[i + 1] = args[i];
    execv(MDLC, argv);
    _exit(127);
  }
  return pid;
}

/* The pids the stand-in wrote, once it has: it and its child. */
static void wait_for_stand_in(const Setup *s, long pids[2]) {
  char *path = e2e_join(s->dir, "pids");
  struct timespec tick = {0, 20 * 1000 * 1000};
  for (int i = 0; i < 3000; i++) {
    FILE *f = fopen(path, "r");
    if (f) {
      int n = fscanf(f, "%ld %ld", &pids[0], &pids[1]);
      fclose(f);
      if (n == 2)
        return;
    }
    nanosleep(&tick, NULL);
  }
  cr_assert_fail("the stand-in never started");
}

/* Whether pid is a process that has not ended (a zombie has). */
static bool running(long pid) {
  char path[64], stat[256] = "";
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return false;
  size_t n = fread(stat, 1, sizeof stat - 1, f);
  fclose(f);
  stat[n] = '\0';
  const char *state = strrchr(stat, ')');
  return state && state[1] == ' ' && state[2] != 'Z' && state[2] != 'X';
}

/* The names in dir, one per line, skipping those in keep. */
static char *listing(const char *dir, const char *const keep[]) {
  static char names[4096];
  names[0] = '\0';
  DIR *d = opendir(dir);
  cr_assert_not_null(d, "cannot open %s", dir);
  for (struct dirent *e; (e = readdir(d));) {
    bool kept = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    for (int i = 0; keep[i]; i++)
      kept |= !strcmp(e->d_name, keep[i]);
    if (!kept)
      snprintf(names + strlen(names), sizeof names - strlen(names), "%s\n",
               e->d_name);
  }
  closedir(d);
  return names;
}

/* Starts mdlc, sends sig once the stand-in runs, and checks what is
 * left: no stand-in, no temporary file, and a message. */
static void check_stopped(const char *name, int sig, const char *child,
                          char *const args[]) {
  Setup s = set_up(name);
  pid_t mdlc = start_mdlc(&s, args);
  long pids[2];
  wait_for_stand_in(&s, pids);
  cr_assert(running(pids[0]) && running(pids[1]));
  kill(mdlc, sig);
  int status;
  cr_assert_eq(waitpid(mdlc, &status, 0), mdlc);
  cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == sig,
            "mdlc did not die of signal %d (status %#x)", sig, status);
  /* mdlc waits for the group to end before it goes; a little more time
   * for the kernel to let the last of it go. */
  struct timespec tick = {0, 20 * 1000 * 1000};
  for (int i = 0; i < 100 && (running(pids[0]) || running(pids[1])); i++)
    nanosleep(&tick, NULL);
  cr_expect(!running(pids[0]), "%s (pid %ld) is still running", child, pids[0]);
  cr_expect(!running(pids[1]), "the child of %s (pid %ld) is still running",
            child, pids[1]);
  for (int i = 0; i < 2; i++)
    if (running(pids[i]))
      kill((pid_t)pids[i], SIGKILL);

  static const char *const nothing[] = {NULL};
  static const char *const own[] = {"p.mdl", "bin",    "tmp",
                                    "pids",  "stderr", NULL};
  const char *left = listing(s.tmpdir, nothing);
  cr_expect_str_empty(left, "left in TMPDIR:\n%s", left);
  left = listing(s.dir, own);
  cr_expect_str_empty(left, "left beside the program:\n%s", left);

  e2e_result r = e2e_run("cat '%s/stderr'", s.dir);
  char expected[128];
  snprintf(expected, sizeof expected, "%s; stopped %s\n",
           sig == SIGTERM  ? "terminated (SIGTERM)"
           : sig == SIGINT ? "interrupted (SIGINT)"
                           : "hung up (SIGHUP)",
           child);
  cr_expect(strstr(r.output, expected), "mdlc said:\n%s", r.output);
  free(r.output);
}

Test(signals, sigterm_while_clang_format_runs, .timeout = 60) {
  char *args[] = {"p.mdl", "-o", "prog", NULL};
  check_stopped("signals_term", SIGTERM, "clang-format", args);
}

Test(signals, sigint_while_clang_format_runs_for_emit_c, .timeout = 60) {
  char *args[] = {"--emit-c", "p.mdl", "-o", "prog.c", NULL};
  check_stopped("signals_int", SIGINT, "clang-format", args);
}

Test(signals, sighup_while_the_compiler_runs, .timeout = 60) {
  char *args[] = {"--no-format", "--keep-c", "--cc", "slow-cc",
                  "p.mdl",       "-o",       "prog", NULL};
  check_stopped("signals_hup", SIGHUP, "slow-cc", args);
}
