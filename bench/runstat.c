/* runstat.c — runs one command and reports its wall-clock time and peak
 * resident memory, for the benchmark (GNU time may be absent on a fresh
 * machine, and a shell's `time` does not report memory).
 *
 *   runstat STATS_FILE COMMAND [ARGS...]
 *
 * Starts COMMAND with fork/exec, waits for it with wait4, and writes one line
 * to STATS_FILE:
 *
 *   wall_s=1.234567 maxrss_kib=86588 status=0
 *
 * wall_s is measured with CLOCK_MONOTONIC from just before fork to just after
 * wait4 returns; maxrss_kib is the child's ru_maxrss (Linux reports KiB);
 * status is the exit status, or 128 + the signal that killed it. runstat
 * exits with the same status, so a failing command fails the benchmark. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: runstat STATS_FILE COMMAND [ARGS...]\n");
    return 2;
  }
  FILE *stats = fopen(argv[1], "w");
  if (!stats) {
    fprintf(stderr, "runstat: cannot write %s: %s\n", argv[1], strerror(errno));
    return 2;
  }

  double start = now();
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "runstat: fork: %s\n", strerror(errno));
    return 2;
  }
  if (pid == 0) {
    execvp(argv[2], argv + 2);
    fprintf(stderr, "runstat: cannot run %s: %s\n", argv[2], strerror(errno));
    _exit(127);
  }

  int wstatus;
  struct rusage usage;
  while (wait4(pid, &wstatus, 0, &usage) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "runstat: wait4: %s\n", strerror(errno));
      return 2;
    }
  }
  double wall = now() - start;

  int status =
      WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  fprintf(stats, "wall_s=%.6f maxrss_kib=%ld status=%d\n", wall,
          usage.ru_maxrss, status);
  fclose(stats);
  return status;
}
