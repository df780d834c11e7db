/* test_smoke.c — the compiler runs and the example compiles. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

Test(smoke, version_and_help) {
  e2e_result r = e2e_run("%s --version", MDLC);
  cr_assert_eq(r.status, 0);
  cr_assert(strstr(r.output, "mdlc ") == r.output, "got: %s", r.output);
  free(r.output);
  r = e2e_run("%s --help", MDLC);
  cr_assert_eq(r.status, 0);
  cr_assert(strstr(r.output, "--emit-c"));
  free(r.output);
}
