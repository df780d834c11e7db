/* test_fastmath.c — the float32 e^x and tanh x of generated programs
 * (mdl/fastmath.h) against libm in double precision: errors in units in the
 * last place over the whole range, symmetry, saturation, and NaN. */
#include <criterion/criterion.h>
#include <math.h>

#include "mdl/fastmath.h"

/* |got - want| in units of the float spacing at want. */
static double ulps(float got, double want) {
  float w = fabsf((float)want);
  double ulp = (double)nextafterf(w, INFINITY) - w;
  return fabs((double)got - want) / (ulp > 0 ? ulp : 1e-45);
}

/* Every float in [-20, 20] at a step of 2^-14, and tiny values near 0. */
static double worst_tanh(double *at) {
  double worst = 0;
  for (long i = -20L * 16384; i <= 20L * 16384; i++) {
    float x = (float)i / 16384;
    double u = ulps(mdl_tanhf(x), tanh((double)x));
    if (u > worst) {
      worst = u;
      *at = x;
    }
  }
  for (float x = 1e-30f; x < 1e-2f; x *= 1.001f) {
    double u = ulps(mdl_tanhf(x), tanh((double)x));
    if (u > worst) {
      worst = u;
      *at = x;
    }
  }
  return worst;
}

Test(fastmath, tanh_is_within_two_ulps_of_libm) {
  double at = 0, worst = worst_tanh(&at);
  cr_expect(worst <= 2.0, "tanh: %.2f ulp at %g", worst, at);
  cr_expect(worst > 0, "compared nothing");
}

Test(fastmath, exp_is_within_two_ulps_of_libm) {
  double worst = 0, at = 0;
  for (long i = -87L * 4096; i <= 88L * 4096; i++) {
    float x = (float)i / 4096;
    double u = ulps(mdl_expf(x), exp((double)x));
    if (u > worst) {
      worst = u;
      at = x;
    }
  }
  cr_expect(worst <= 2.0, "exp: %.2f ulp at %g", worst, at);
}

Test(fastmath, tanh_is_odd_and_saturates) {
  for (float x = 0; x < 30; x += 0.01f)
    cr_assert_eq(mdl_tanhf(-x), -mdl_tanhf(x), "at %g", x);
  cr_expect_eq(mdl_tanhf(9.2f), 1.0f);
  cr_expect_eq(mdl_tanhf(1e30f), 1.0f);
  cr_expect_eq(mdl_tanhf(-INFINITY), -1.0f);
  cr_expect_eq(mdl_tanhf(0.0f), 0.0f);
}

Test(fastmath, extremes_stay_finite_and_nan_stays_nan) {
  cr_expect(mdl_expf(-1000.0f) > 0 && mdl_expf(-1000.0f) < 1e-37f);
  cr_expect(isfinite(mdl_expf(1000.0f)) && mdl_expf(1000.0f) > 1e38f);
  cr_expect(isnan(mdl_expf(NAN)), "e^NaN must be NaN");
  cr_expect(isnan(mdl_tanhf(NAN)), "tanh NaN must be NaN: a diverged net "
                                   "must not look like saturated units");
}
