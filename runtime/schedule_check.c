/* schedule_check.c — the ranges a schedule's values must stay in (μ in
 * [0, 1), ε > 0 and finite, HF's decay in [0, 1]), checked at one update
 * or over a whole run before it starts. */
#include "mdl/program.h"

#include <math.h>

void mdl_check_schedule(long t, double mu, double epsilon) {
  if (!(mu >= 0 && mu < 1))
    mdl_die("at update %ld the momentum schedule gives mu = %g, outside "
            "[0, 1)",
            t, mu);
  if (!isfinite(epsilon))
    mdl_die("at update %ld the learning-rate schedule gives epsilon = %g, "
            "which is not a finite number",
            t, epsilon);
  if (epsilon <= 0)
    mdl_die("at update %ld the learning-rate schedule gives epsilon = %g, "
            "which must be > 0",
            t, epsilon);
}

void mdl_check_schedules(long steps, mdl_schedule_fn mu,
                         mdl_schedule_fn epsilon, mdl_schedule_fn decay) {
  /* Each value costs a few nanoseconds: all of them for runs up to ten
   * million updates (as mdlc checks the declared run), a sample beyond. */
  long stride = steps <= 10000000 ? 1 : steps / 10000000 + 1;
  for (long t = 0; t < steps; t += stride) {
    mdl_check_schedule(t, mu ? mu((double)t) : 0, epsilon((double)t));
    double d = decay ? decay((double)t) : 0;
    if (!(d >= 0 && d <= 1))
      mdl_die("at update %ld the decay schedule gives decay = %g, outside "
              "[0, 1]",
              t, d);
  }
}
