/* mdl/blas.h — the dense linear algebra of generated programs, over
 * OpenBLAS's cblas. All matrices are row-major and contiguous: an m × n
 * matrix has leading dimension n, so a call names only its shapes. */
#ifndef MDL_BLAS_H
#define MDL_BLAS_H

#include <stddef.h>

typedef enum { MDL_PLAIN, MDL_TRANSPOSED } mdl_op;

/* C = alpha op(A) op(B) + beta C, with op(A) m × k, op(B) k × n, C m × n. */
void mdl_sgemm(mdl_op op_a, mdl_op op_b, int m, int n, int k, float alpha,
               const float *a, const float *b, float beta, float *c);
void mdl_dgemm(mdl_op op_a, mdl_op op_b, int m, int n, int k, double alpha,
               const double *a, const double *b, double beta, double *c);

/* y = alpha op(A) x + beta y, with A an m × n matrix. */
void mdl_sgemv(mdl_op op_a, int m, int n, float alpha, const float *a,
               const float *x, float beta, float *y);
void mdl_dgemv(mdl_op op_a, int m, int n, double alpha, const double *a,
               const double *x, double beta, double *y);

/* Which of OpenBLAS's kernels make the products, for the program's header:
 * "OpenBLAS 0.3.21, Cooperlake kernels (its choice for this CPU)", or
 * "(OPENBLAS_CORETYPE=Haswell)" where the environment chose them. A float32
 * run's numbers depend on it: the kernels round the products differently. */
void mdl_blas_kernels(char *text, size_t size);

/* The number of threads BLAS uses (0 leaves OpenBLAS's default). */
void mdl_set_threads(int threads);
int mdl_threads(void);

/* Makes the calling thread and BLAS's threads treat subnormal numbers as
 * zero, as inputs and as results (x86's DAZ and FTZ; elsewhere it does
 * nothing). Sigmoid units that saturate make activations and deltas near
 * 1e-39, and each operation that reads or makes one takes a microcode
 * assist: the weight-gradient products of an MNIST update took 8.0 ms
 * with them and 6.0 ms without. OpenBLAS starts its threads before main(),
 * so this stops them, and its next threaded call starts them again from
 * this thread, whose setting they copy. Call it before the first product;
 * float32 programs do. */
void mdl_flush_subnormals(void);

#endif
