/* dense.h — small explicit matrices for the CG and HF tests: symmetric
 * positive definite matrices with a chosen spectrum, products, and a direct
 * solve by LAPACK's dposv (OpenBLAS exports it). Matrices are row-major,
 * rows × cols doubles. */
#ifndef DENSE_H
#define DENSE_H

#include <stdint.h>

/* x[0..n) from N(0, 1). */
void dense_gaussian(double *x, int n, uint64_t seed);

/* A random n × n orthogonal matrix (Gram-Schmidt of a Gaussian one). */
void dense_orthogonal(double *q, int n, uint64_t seed);

/* a = Q diag(eigenvalues) Qᵀ for a random orthogonal Q. */
void dense_with_spectrum(double *a, const double *eigenvalues, int n,
                         uint64_t seed);

/* y = A x for A rows × cols. */
void dense_matvec(const double *a, const double *x, double *y, int rows,
                  int cols);

/* x = A⁻¹ b for a symmetric positive definite A, by Cholesky (dposv). */
void dense_solve(const double *a, const double *b, double *x, int n);

/* ½ xᵀAx − bᵀx. */
double dense_quadratic(const double *a, const double *b, const double *x,
                       int n);

/* An explicit matrix as a CG operator, counting its products. */
typedef struct {
  const double *a;
  int n;
  long products;
} dense_operator;

void dense_apply(const double *v, double *out, void *ctx);

#endif
