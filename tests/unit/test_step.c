/* test_step.c — mdl/step.h's kernels with vectors as wide as this build's
 * (tests/unit/step_checks.h has the checks). */
#define STEP_SUITE step
#include "step_checks.h"
