/* test_blas.c — the BLAS wrappers against a naive triple loop, for every
 * transpose combination on non-square shapes, with alpha and beta; and
 * which products share the threads. */
#include <cblas.h>
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "mdl/blas.h"
#include "mdl/rng.h"

enum { M = 5, N = 3, K = 4 };

static void fill_random(double *x, int n, uint64_t seed) {
  mdl_rng rng;
  mdl_rng_seed(&rng, seed);
  for (int i = 0; i < n; i++)
    x[i] = 2 * mdl_rng_uniform(&rng) - 1;
}

/* Element (i, j) of op(X), where op(X) has `cols` columns and X is stored
 * row-major in the layout mdl/blas.h documents. */
static double op_at(const double *x, mdl_op op, int rows, int cols, int i,
                    int j) {
  return op == MDL_PLAIN ? x[i * cols + j] : x[j * rows + i];
}

static void reference_gemm(mdl_op op_a, mdl_op op_b, int m, int n, int k,
                           double alpha, const double *a, const double *b,
                           double beta, double *c) {
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double sum = 0;
      for (int p = 0; p < k; p++)
        sum += op_at(a, op_a, m, k, i, p) * op_at(b, op_b, k, n, p, j);
      c[i * n + j] = alpha * sum + beta * c[i * n + j];
    }
}

static void check_dgemm(mdl_op op_a, mdl_op op_b) {
  double a[M * K], b[K * N], c[M * N], expected[M * N];
  fill_random(a, M * K, 1);
  fill_random(b, K * N, 2);
  fill_random(c, M * N, 3);
  fill_random(expected, M * N, 3);
  reference_gemm(op_a, op_b, M, N, K, 0.7, a, b, -1.3, expected);
  mdl_dgemm(op_a, op_b, M, N, K, 0.7, a, b, -1.3, c);
  for (int i = 0; i < M * N; i++)
    cr_assert_float_eq(c[i], expected[i], 1e-12, "ops %d %d, element %d", op_a,
                       op_b, i);
}

static void check_sgemm(mdl_op op_a, mdl_op op_b) {
  double a[M * K], b[K * N], c[M * N], expected[M * N];
  float af[M * K], bf[K * N], cf[M * N];
  fill_random(a, M * K, 4);
  fill_random(b, K * N, 5);
  fill_random(c, M * N, 6);
  /* Compare in double from the float inputs, so only float arithmetic
   * inside sgemm separates the two. */
  for (int i = 0; i < M * K; i++)
    a[i] = af[i] = (float)a[i];
  for (int i = 0; i < K * N; i++)
    b[i] = bf[i] = (float)b[i];
  for (int i = 0; i < M * N; i++)
    expected[i] = cf[i] = (float)c[i];
  reference_gemm(op_a, op_b, M, N, K, 0.5, a, b, 2.0, expected);
  mdl_sgemm(op_a, op_b, M, N, K, 0.5f, af, bf, 2.0f, cf);
  for (int i = 0; i < M * N; i++)
    cr_assert_float_eq(cf[i], expected[i], 1e-5, "ops %d %d, element %d", op_a,
                       op_b, i);
}

Test(blas, dgemm_plain_plain) { check_dgemm(MDL_PLAIN, MDL_PLAIN); }
Test(blas, dgemm_transposed_plain) { check_dgemm(MDL_TRANSPOSED, MDL_PLAIN); }
Test(blas, dgemm_plain_transposed) { check_dgemm(MDL_PLAIN, MDL_TRANSPOSED); }
Test(blas, dgemm_transposed_transposed) {
  check_dgemm(MDL_TRANSPOSED, MDL_TRANSPOSED);
}
Test(blas, sgemm_plain_plain) { check_sgemm(MDL_PLAIN, MDL_PLAIN); }
Test(blas, sgemm_transposed_plain) { check_sgemm(MDL_TRANSPOSED, MDL_PLAIN); }
Test(blas, sgemm_plain_transposed) { check_sgemm(MDL_PLAIN, MDL_TRANSPOSED); }
Test(blas, sgemm_transposed_transposed) {
  check_sgemm(MDL_TRANSPOSED, MDL_TRANSPOSED);
}

Test(blas, dgemm_beta_zero_ignores_nan_in_c) {
  /* BLAS must not read C when beta is 0: a fresh buffer may hold NaN. */
  double a[M * K], b[K * N], c[M * N], expected[M * N];
  fill_random(a, M * K, 7);
  fill_random(b, K * N, 8);
  for (int i = 0; i < M * N; i++) {
    c[i] = NAN;
    expected[i] = 0;
  }
  reference_gemm(MDL_PLAIN, MDL_PLAIN, M, N, K, 1.0, a, b, 0.0, expected);
  mdl_dgemm(MDL_PLAIN, MDL_PLAIN, M, N, K, 1.0, a, b, 0.0, c);
  for (int i = 0; i < M * N; i++)
    cr_assert_float_eq(c[i], expected[i], 1e-12, "element %d", i);
}

static void reference_gemv(mdl_op op, int m, int n, double alpha,
                           const double *a, const double *x, double beta,
                           double *y) {
  int rows = op == MDL_PLAIN ? m : n, cols = op == MDL_PLAIN ? n : m;
  for (int i = 0; i < rows; i++) {
    double sum = 0;
    for (int j = 0; j < cols; j++)
      sum += (op == MDL_PLAIN ? a[i * n + j] : a[j * n + i]) * x[j];
    y[i] = alpha * sum + beta * y[i];
  }
}

static void check_gemv(mdl_op op) {
  double a[M * N], x[M], y[M], expected[M];
  float af[M * N], xf[M], yf[M];
  int x_len = op == MDL_PLAIN ? N : M, y_len = op == MDL_PLAIN ? M : N;
  fill_random(a, M * N, 9);
  fill_random(x, x_len, 10);
  fill_random(y, y_len, 11);
  for (int i = 0; i < M * N; i++)
    a[i] = af[i] = (float)a[i];
  for (int i = 0; i < x_len; i++)
    x[i] = xf[i] = (float)x[i];
  for (int i = 0; i < y_len; i++)
    y[i] = expected[i] = yf[i] = (float)y[i];
  reference_gemv(op, M, N, 1.5, a, x, -0.5, expected);
  mdl_dgemv(op, M, N, 1.5, a, x, -0.5, y);
  mdl_sgemv(op, M, N, 1.5f, af, xf, -0.5f, yf);
  for (int i = 0; i < y_len; i++) {
    cr_assert_float_eq(y[i], expected[i], 1e-12, "dgemv op %d, element %d", op,
                       i);
    cr_assert_float_eq(yf[i], expected[i], 1e-5, "sgemv op %d, element %d", op,
                       i);
  }
}

Test(blas, gemv_plain) { check_gemv(MDL_PLAIN); }
Test(blas, gemv_transposed) { check_gemv(MDL_TRANSPOSED); }

Test(blas, set_threads) {
  mdl_set_threads(1);
  cr_assert_eq(mdl_threads(), 1);
  mdl_set_threads(0); /* 0 keeps the current number */
  cr_assert_eq(mdl_threads(), 1);
}

/* Every product of the sgemm below is 1e-40, a subnormal float. With
 * subnormals flushed each partial sum stays 0, in whichever thread
 * computes it; without, the sums reach 4e-38, a normal float. Run big
 * enough that OpenBLAS splits it over its threads, this fails if any
 * thread missed the setting. */
static int count_nonzero_subnormal_products(void) {
  enum { SIDE = 400 };
  float *a = malloc(sizeof(float) * SIDE * SIDE);
  float *b = malloc(sizeof(float) * SIDE * SIDE);
  float *c = malloc(sizeof(float) * SIDE * SIDE);
  for (int i = 0; i < SIDE * SIDE; i++)
    a[i] = b[i] = 1e-20f;
  mdl_sgemm(MDL_PLAIN, MDL_PLAIN, SIDE, SIDE, SIDE, 1, a, b, 0, c);
  int nonzero = 0;
  for (int i = 0; i < SIDE * SIDE; i++)
    nonzero += c[i] != 0;
  free(a);
  free(b);
  free(c);
  return nonzero;
}

Test(blas, subnormals_as_they_are_by_default) {
  mdl_set_threads(2);
  cr_assert_eq(count_nonzero_subnormal_products(), 400 * 400,
               "IEEE arithmetic keeps the subnormal products");
}

#if defined(__SSE2__)
Test(blas, flush_subnormals_in_every_thread) {
  mdl_set_threads(2);
  count_nonzero_subnormal_products(); /* OpenBLAS's threads are running */
  mdl_flush_subnormals();
  volatile float smallest = FLT_MIN;
  cr_assert_eq(smallest / 4, 0, "this thread flushes");
  cr_assert_eq(count_nonzero_subnormal_products(), 0,
               "some BLAS thread kept subnormals");
  cr_assert_eq(mdl_threads(), 2, "BLAS kept its thread count");
}
#endif

/* Which products share OpenBLAS's threads (runtime/blas.c): big ones, but
 * neither a small one nor a thin one (a side under 16), whose second
 * thread would cost more than it gives. */
static int threads_for_product(int m, int n, int k) {
  float *a = calloc((size_t)m * k, sizeof(float));
  float *b = calloc((size_t)k * n, sizeof(float));
  float *c = calloc((size_t)m * n, sizeof(float));
  cr_assert(a && b && c);
  mdl_sgemm(MDL_PLAIN, MDL_PLAIN, m, n, k, 1, a, b, 0, c);
  free(a);
  free(b);
  free(c);
  return openblas_get_num_threads();
}

Test(blas, only_big_square_enough_products_share_the_threads) {
  mdl_set_threads(2);
  if (mdl_threads() < 2)
    cr_skip_test("OpenBLAS runs one thread here");
  cr_expect_eq(threads_for_product(400, 400, 400), 2, "a big product");
  cr_expect_eq(threads_for_product(100, 100, 100), 1, "an RNN step's");
  cr_expect_eq(threads_for_product(20000, 100, 4), 1,
               "an RNN's input projection: big, but thin");
  cr_expect_eq(threads_for_product(20000, 3, 100), 1, "its few outputs");
  cr_expect_eq(threads_for_product(400, 400, 400), 2, "a big one again");
  cr_expect_eq(mdl_threads(), 2, "--threads is unchanged");
}
