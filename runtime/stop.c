/* stop.c — stopping a training run cleanly when asked to: Ctrl-C (SIGINT),
 * `kill` or Slurm's `scancel` (SIGTERM), a closed terminal (SIGHUP).
 *
 * The handler only notes the signal; the training loop looks at the note
 * between two updates, where θ, v and the minibatch stream are whole, so
 * the checkpoint it writes there resumes exactly as an uninterrupted run
 * goes on. A second signal while the program is stopping ends it at once
 * (the handler is reset after the first), and the checkpoint on disk is
 * then the previous one: it is replaced only by rename. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdl/program.h"

static volatile sig_atomic_t stop_signal;

static void note_signal(int sig) { stop_signal = sig; }

void mdl_catch_stop_signals(void) {
  const int signals[] = {SIGINT, SIGTERM, SIGHUP};
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
    struct sigaction old;
    /* A signal the caller chose to ignore (nohup, a background job's
     * SIGINT) stays ignored. */
    if (sigaction(signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
      continue;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = note_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(signals[i], &sa, NULL);
  }
}

int mdl_stop_requested(void) { return stop_signal; }

static const char *signal_name(int sig) {
  switch (sig) {
  case SIGINT:
    return "SIGINT";
  case SIGTERM:
    return "SIGTERM";
  case SIGHUP:
    return "SIGHUP";
  default:
    return "a signal";
  }
}

_Noreturn void mdl_progress_stop(mdl_progress *p, long t,
                                 const char *checkpoint) {
  fflush(stdout);
  if (p->csv) {
    mdl_log_close(p->csv, p->log_path);
    p->csv = NULL;
  }
  mdl_progress_plot_draw(p, 1);
  int sig = stop_signal;
  if (checkpoint)
    fprintf(stderr,
            "stopped by %s after %ld update%s; the checkpoint '%s' holds "
            "%s: go on with --resume %s\n",
            signal_name(sig), t, mdl_plural(t), checkpoint,
            t == 1 ? "it" : "them", checkpoint);
  else
    fprintf(stderr,
            "stopped by %s after %ld update%s (without --checkpoint this "
            "run cannot be continued)\n",
            signal_name(sig), t, mdl_plural(t));
  /* The status of a program that a signal ended, as shells report it. */
  exit(128 + sig);
}
