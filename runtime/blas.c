/* blas.c — the row-major BLAS wrappers of mdl/blas.h over OpenBLAS's cblas.
 *
 * Every matrix is contiguous, so each leading dimension is the number of
 * columns of the matrix as stored: op(A) is m × k, so A is stored m × k
 * (lda = k) when plain and k × m (lda = m) when transposed. */
#include "mdl/blas.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

static enum CBLAS_TRANSPOSE cblas_op(mdl_op op) {
  return op == MDL_TRANSPOSED ? CblasTrans : CblasNoTrans;
}

/* Columns of the stored matrix whose op() has `cols` columns and `rows`
 * rows: a transposed operand is stored the other way round. */
static int stored_cols(mdl_op op, int rows, int cols) {
  return op == MDL_TRANSPOSED ? rows : cols;
}

static int max1(int n) { return n > 1 ? n : 1; }

/* The threads of --threads, and those OpenBLAS is set to use now. */
static int threads_all, threads_now;

/* Below this many multiply-adds a product runs on one thread: a second
 * thread, woken after the program's own passes over a layer, costs more
 * than it saves. A recurrent net's steps (100 × 100 × 100 each) ran 25%
 * faster so; the big products keep every thread (bench/RESULTS.md). */
enum { SHARED_PRODUCT = 2500000 };

/* Nor does a thin product share: one with a side this short (an RNN's
 * input projection, x W_ih with 2-7 inputs, or its few outputs) is a
 * pass over memory more than arithmetic. On rnn200 at two threads keeping
 * them on one thread took an update from 21.8 to 16.9 ms (medians) and the
 * peak memory from 37.0 to 29.3 MiB: each OpenBLAS thread that joins
 * keeps a packing buffer of its own resident
 * (bench/runs/2026-12-03-epyc/ab_thin_products.txt). */
enum { THIN_SIDE = 16 };

static int shorter(int a, int b) { return a < b ? a : b; }

static void choose_threads(double multiply_adds, int shortest_side) {
  if (threads_all <= 1)
    return;
  int want = multiply_adds < SHARED_PRODUCT || shortest_side < THIN_SIDE
                 ? 1
                 : threads_all;
  if (want != threads_now) {
    openblas_set_num_threads(want);
    threads_now = want;
  }
}

void mdl_sgemm(mdl_op op_a, mdl_op op_b, int m, int n, int k, float alpha,
               const float *a, const float *b, float beta, float *c) {
  int lda = max1(stored_cols(op_a, m, k));
  int ldb = max1(stored_cols(op_b, k, n));
  choose_threads((double)m * n * k, shorter(shorter(m, n), k));
  cblas_sgemm(CblasRowMajor, cblas_op(op_a), cblas_op(op_b), m, n, k, alpha, a,
              lda, b, ldb, beta, c, max1(n));
}

void mdl_dgemm(mdl_op op_a, mdl_op op_b, int m, int n, int k, double alpha,
               const double *a, const double *b, double beta, double *c) {
  int lda = max1(stored_cols(op_a, m, k));
  int ldb = max1(stored_cols(op_b, k, n));
  choose_threads((double)m * n * k, shorter(shorter(m, n), k));
  cblas_dgemm(CblasRowMajor, cblas_op(op_a), cblas_op(op_b), m, n, k, alpha, a,
              lda, b, ldb, beta, c, max1(n));
}

/* For gemv the stored matrix is always m × n (lda = n); the op only decides
 * whether y has m or n elements. */
void mdl_sgemv(mdl_op op_a, int m, int n, float alpha, const float *a,
               const float *x, float beta, float *y) {
  choose_threads((double)m * n, shorter(m, n));
  cblas_sgemv(CblasRowMajor, cblas_op(op_a), m, n, alpha, a, max1(n), x, 1,
              beta, y, 1);
}

void mdl_dgemv(mdl_op op_a, int m, int n, double alpha, const double *a,
               const double *x, double beta, double *y) {
  choose_threads((double)m * n, shorter(m, n));
  cblas_dgemv(CblasRowMajor, cblas_op(op_a), m, n, alpha, a, max1(n), x, 1,
              beta, y, 1);
}

/* OpenBLAS's own, which its fork handler calls: stops its threads, and its
 * next threaded call starts them again. Weak, so that a build of OpenBLAS
 * without it still links (and keeps its threads as they are). */
extern int blas_thread_shutdown_(void) __attribute__((weak));

void mdl_flush_subnormals(void) {
#if defined(__SSE2__)
  enum { FLUSH_TO_ZERO = 1 << 15, DENORMALS_ARE_ZERO = 1 << 6 };
  _mm_setcsr(_mm_getcsr() | FLUSH_TO_ZERO | DENORMALS_ARE_ZERO);
  if (blas_thread_shutdown_)
    blas_thread_shutdown_();
#endif
}

void mdl_set_threads(int threads) {
  if (threads > 0)
    openblas_set_num_threads(threads);
  threads_all = threads_now = openblas_get_num_threads();
}

int mdl_threads(void) {
  return threads_all ? threads_all : openblas_get_num_threads();
}

void mdl_blas_kernels(char *text, size_t size) {
  /* "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ...": its first two words */
  const char *config = openblas_get_config();
  const char *end = strchr(config, ' '); /* after the name */
  if (end)
    end = strchr(end + 1, ' '); /* after the version */
  int name = end ? (int)(end - config) : (int)strlen(config);
  const char *forced = getenv("OPENBLAS_CORETYPE");
  if (forced && *forced)
    snprintf(text, size, "%.*s, %s kernels (OPENBLAS_CORETYPE=%s)", name,
             config, openblas_get_corename(), forced);
  else
    snprintf(text, size, "%.*s, %s kernels (its choice for this CPU)", name,
             config, openblas_get_corename());
}
