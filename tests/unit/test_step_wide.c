/* test_step_wide.c — mdl/step.h's kernels with AVX-512's vectors of 64
 * bytes, as a program compiled for such a processor has them, whatever
 * processor runs the tests (the compiler splits what it lacks); the checks
 * are tests/unit/step_checks.h's. */
#define MDL_STEP_VECTOR_BYTES 64
#define STEP_SUITE step_wide
#include "step_checks.h"
