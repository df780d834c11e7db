/* best.c — --save-best: the parameters of the report with the lowest
 * held-out error so far. Early stopping's product without stopping: the
 * run goes on, and the file holds the best network seen. */
#include <math.h>
#include <stdio.h>

#include "mdl/npy.h"
#include "mdl/program.h"

void mdl_best_start(mdl_best *b, const mdl_options *opts, const char *what) {
  b->path = opts->save_best;
  b->what = what;
  b->error = INFINITY;
  b->t = -1;
}

void mdl_best_offer(mdl_best *b, long t, double error, const void *theta,
                    mdl_dtype type, long n_params) {
  /* Strictly lower: on a tie the earlier (shorter-trained) net is kept. */
  if (!b->path || !(error < b->error))
    return;
  b->error = error;
  b->t = t;
  /* mdl_npy_write writes beside and renames over: a kill while writing
   * leaves the previous best whole. */
  mdl_error err;
  if (mdl_npy_write(b->path, theta, type, n_params, 0, &err) != 0)
    mdl_die("--save-best: %s", err.message);
}

void mdl_best_finish(const mdl_best *b) {
  if (!b->path || b->t < 0)
    return;
  printf("# best %s %.6g at update %ld, saved to %s\n", b->what, b->error, b->t,
         b->path);
  fflush(stdout);
}
