/* test_spectral.c — the spectral radius by LAPACK's dgeev and rescaling to
 * a radius (runtime/spectral.c), on matrices whose eigenvalues are known. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "mdl/init.h"

/* The radius of the row-major n × n matrix m, handed over as `type`. */
static double radius_of(const double *m, int n, mdl_dtype type) {
  float f[16];
  cr_assert(n * n <= 16);
  for (int k = 0; k < n * n; k++)
    f[k] = (float)m[k];
  double r = -1;
  mdl_error err = {""};
  cr_assert_eq(mdl_spectral_radius(type == MDL_F32 ? (void *)f : (void *)m,
                                   type, n, &r, &err),
               0, "%s", err.message);
  return r;
}

/* Float32 matrices are the float-rounded ones, whose eigenvalues move by a
 * few float ulps. */
static void assert_radius(const double *m, int n, double want) {
  double r64 = radius_of(m, n, MDL_F64), r32 = radius_of(m, n, MDL_F32);
  cr_assert(fabs(r64 - want) <= 1e-12 * want, "float64: %.17g, not %.17g", r64,
            want);
  cr_assert(fabs(r32 - want) <= 1e-6 * want, "float32: %.9g, not %.9g", r32,
            want);
}

Test(spectral, diagonal) {
  /* The largest |eigenvalue| is negative: a radius is a modulus. */
  double m[9] = {0.1, 0, 0, 0, -4, 0, 0, 0, 2.5};
  assert_radius(m, 3, 4.0);
}

Test(spectral, rotation_scaling_has_complex_eigenvalues) {
  /* r [cos θ, -sin θ; sin θ, cos θ] has eigenvalues r e^{±iθ}: no real
   * eigenvalue at all, so the imaginary parts must count. */
  double r = 1.7, theta = 0.9;
  double m[4] = {r * cos(theta), -r * sin(theta), r * sin(theta),
                 r * cos(theta)};
  assert_radius(m, 2, r);
}

Test(spectral, triangular) {
  /* The eigenvalues are the diagonal, whatever lies above it. */
  double m[16] = {0.5, 7,  -3, 2,  /* */
                  0,   -3, 5,  1,  /* */
                  0,   0,  2,  -6, /* */
                  0,   0,  0,  1};
  assert_radius(m, 4, 3.0);
}

Test(spectral, lower_triangular_reads_the_same_as_its_transpose) {
  /* Row-major in, column-major to LAPACK: w and its transpose alike. */
  double m[16] = {0.5, 0,  0,  0, /* */
                  7,   -3, 0,  0, /* */
                  -3,  5,  2,  0, /* */
                  2,   1,  -6, 1};
  assert_radius(m, 4, 3.0);
}

Test(spectral, companion_matrix) {
  /* x^3 + x^2 + 3x - 5 = (x - 1)(x^2 + 2x + 5): roots 1 and -1 ± 2i, so the
   * radius is sqrt(5). The companion matrix of x^3 + c2 x^2 + c1 x + c0. */
  double c0 = -5, c1 = 3, c2 = 1;
  double m[9] = {0, 0, -c0, /* */
                 1, 0, -c1, /* */
                 0, 1, -c2};
  assert_radius(m, 3, sqrt(5.0));
}

Test(spectral, one_by_one) {
  double m[1] = {-0.25};
  assert_radius(m, 1, 0.25);
}

static int column_nonzeros(const void *w, mdl_dtype type, int n, int j) {
  int count = 0;
  for (int i = 0; i < n; i++)
    count += (type == MDL_F32 ? ((const float *)w)[i * n + j]
                              : ((const double *)w)[i * n + j]) != 0;
  return count;
}

static void check_sparse_rescaling(mdl_dtype type) {
  enum { N = 100 };
  static double w64[N * N];
  static float w32[N * N];
  void *w = type == MDL_F32 ? (void *)w32 : (void *)w64;
  mdl_rng rng;
  mdl_rng_seed(&rng, 11);
  mdl_init_sparse(w, type, N, N, 15, 1.0, &rng);
  double before = -1, after = -1, again = -1;
  mdl_error err = {""};
  cr_assert_eq(mdl_init_spectral_radius(w, type, N, 1.1, &before, &after, &err),
               0, "%s", err.message);
  /* 15 N(0, 1) weights per unit: the radius is near sqrt(15), far from 1.1,
   * so the rescaling did something. */
  cr_assert(before > 2 && before < 6, "radius before %g", before);
  cr_assert(fabs(after - 1.1) <= 1e-6, "radius after %.12g", after);
  cr_assert_eq(mdl_spectral_radius(w, type, N, &again, &err), 0);
  cr_assert_eq(again, after, "after (%.17g) was not recomputed (%.17g)", after,
               again);
  for (int j = 0; j < N; j++)
    cr_assert_eq(column_nonzeros(w, type, N, j), 15, "unit %d", j);
}

Test(spectral, sparse_hidden_to_hidden_float64) {
  check_sparse_rescaling(MDL_F64);
}

Test(spectral, sparse_hidden_to_hidden_float32) {
  check_sparse_rescaling(MDL_F32);
}

Test(spectral, rescaling_keeps_the_eigenvalues_direction) {
  /* diag(2, -1) scaled to radius 1.1 is diag(1.1, -0.55) exactly. */
  double m[4] = {2, 0, 0, -1};
  double before, after;
  mdl_error err = {""};
  cr_assert_eq(
      mdl_init_spectral_radius(m, MDL_F64, 2, 1.1, &before, &after, &err), 0,
      "%s", err.message);
  cr_assert_float_eq(m[0], 1.1, 1e-15);
  cr_assert_float_eq(m[3], -0.55, 1e-15);
  cr_assert_eq(m[1], 0);
  cr_assert_eq(m[2], 0);
  cr_assert_float_eq(before, 2.0, 1e-15);
  cr_assert_float_eq(after, 1.1, 1e-15);
}

static void assert_refused(void *w, mdl_dtype type, int n, double radius,
                           const char *phrase) {
  mdl_error err = {""};
  cr_assert_eq(mdl_init_spectral_radius(w, type, n, radius, NULL, NULL, &err),
               -1, "rescaling succeeded");
  cr_assert(strstr(err.message, phrase) != NULL, "message \"%s\" lacks \"%s\"",
            err.message, phrase);
}

Test(spectral, zero_matrix_is_refused) {
  float z[9] = {0};
  assert_refused(z, MDL_F32, 3, 1.1, "matrix of zeros");
  for (int k = 0; k < 9; k++)
    cr_assert_eq(z[k], 0.0f);
}

Test(spectral, nilpotent_matrix_is_refused) {
  /* [0 1; 0 0] is not zero, but both its eigenvalues are. */
  double m[4] = {0, 1, 0, 0};
  assert_refused(m, MDL_F64, 2, 1.1, "eigenvalues are all 0");
  cr_assert_eq(m[1], 1.0, "a refused matrix must be left as it was");
}

Test(spectral, bad_arguments_are_refused) {
  double m[4] = {1, 0, 0, 1};
  assert_refused(m, MDL_F64, 2, 0.0, "must be positive");
  assert_refused(m, MDL_F64, 2, NAN, "must be positive");
  assert_refused(m, MDL_F64, 0, 1.1, "at least 1 × 1");
  m[2] = INFINITY;
  assert_refused(m, MDL_F64, 2, 1.1, "element (1, 0) is inf");
}
