/* dense.c — see dense.h. */
#include "dense.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mdl/rng.h"

/* LAPACK's Cholesky solve; there is no lapacke.h, so the Fortran symbol is
 * declared here. Symmetric matrices read the same row- or column-major. */
void dposv_(const char *uplo, const int *n, const int *nrhs, double *a,
            const int *lda, double *b, const int *ldb, int *info);

void dense_gaussian(double *x, int n, uint64_t seed) {
  mdl_rng rng;
  mdl_rng_seed(&rng, seed);
  for (int i = 0; i < n; i++)
    x[i] = mdl_rng_gaussian(&rng);
}

void dense_orthogonal(double *q, int n, uint64_t seed) {
  dense_gaussian(q, n * n, seed);
  /* Modified Gram-Schmidt over the rows, twice for full orthogonality. */
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < n; i++) {
      double *row = q + i * n;
      for (int j = 0; j < i; j++) {
        const double *done = q + j * n;
        double d = 0;
        for (int k = 0; k < n; k++)
          d += row[k] * done[k];
        for (int k = 0; k < n; k++)
          row[k] -= d * done[k];
      }
      double norm = 0;
      for (int k = 0; k < n; k++)
        norm += row[k] * row[k];
      norm = sqrt(norm);
      for (int k = 0; k < n; k++)
        row[k] /= norm;
    }
}

void dense_with_spectrum(double *a, const double *eigenvalues, int n,
                         uint64_t seed) {
  double *q = malloc(sizeof(double) * n * n);
  dense_orthogonal(q, n, seed);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      double sum = 0;
      for (int k = 0; k < n; k++)
        sum += q[k * n + i] * eigenvalues[k] * q[k * n + j];
      a[i * n + j] = sum;
    }
  free(q);
}

void dense_matvec(const double *a, const double *x, double *y, int rows,
                  int cols) {
  for (int i = 0; i < rows; i++) {
    double sum = 0;
    for (int j = 0; j < cols; j++)
      sum += a[i * cols + j] * x[j];
    y[i] = sum;
  }
}

void dense_solve(const double *a, const double *b, double *x, int n) {
  double *factor = malloc(sizeof(double) * n * n);
  memcpy(factor, a, sizeof(double) * n * n);
  memcpy(x, b, sizeof(double) * n);
  int nrhs = 1, info = 0;
  dposv_("L", &n, &nrhs, factor, &n, x, &n, &info);
  free(factor);
  cr_assert_eq(info, 0, "dposv failed (info %d): not positive definite?", info);
}

double dense_quadratic(const double *a, const double *b, const double *x,
                       int n) {
  double value = 0;
  for (int i = 0; i < n; i++) {
    double ax = 0;
    for (int j = 0; j < n; j++)
      ax += a[i * n + j] * x[j];
    value += 0.5 * x[i] * ax - b[i] * x[i];
  }
  return value;
}

void dense_apply(const double *v, double *out, void *ctx) {
  dense_operator *op = ctx;
  dense_matvec(op->a, v, out, op->n, op->n);
  op->products++;
}
