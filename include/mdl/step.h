/* mdl/step.h — the matrix products of one step of a recurrent net, for
 * BPTT's backward pass through time:
 *
 *   mdl_sstep_add        z_s += h_{s-1} W_hh             (W_hh packed once)
 *   mdl_sstep_multiply   δ_s = δ_{s+1} W_hhᵀ             (W_hhᵀ packed once)
 *   mdl_sstep_gradient   g_W += a_sᵀ δ_s                 one step's term
 *   mdl_sstep_column_sums  g_b += δ_sᵀ 1                 one step's term
 *   mdl_sstep_forward    z_s = x_s W_ih + h_{s-1} W_hh   (both packed once)
 *
 * and mdl_d... for double; mdl_sstep_pack packs a weight matrix.
 *
 * Each step of a 100-unit net on a minibatch of 100 sequences is a 100 ×
 * 100 × 100 product, 80 to 200 times back through time. OpenBLAS packs both
 * operands afresh at every call, W_hhᵀ included; and the gradient g_W_hh =
 * Σ_s h_{s-1}ᵀ δ_s made as one product over all the steps at the end reads
 * every h and δ back from memory and packs them again. Here W_hhᵀ is packed
 * once per pass into rows padded to whole vectors, and each step adds its
 * terms of the weight gradients while its δ_s is still in cache. The
 * kernel is register-blocked: a tile of MDL_STEP_ROWS rows of the result
 * by two vectors of columns stays in registers while it sums over k, so
 * that each vector loaded from the right operand serves MDL_STEP_ROWS rows
 * and each number broadcast from the left one two vectors.
 *
 * It is inline, in a header, because a generated program is compiled for
 * its processor (--march) and the runtime library is not: here the vectors
 * are as wide as that processor's (AVX-512, AVX, else 16 bytes). They are
 * written with the vector extension of GCC and clang, since clang's
 * auto-vectorizer did not keep loops over arrays of accumulators in
 * registers (the same kernel in plain C ran 2 to 4 times slower).
 *
 * Sums are in another order than OpenBLAS's, so results differ from a
 * gemm's in the last bits; they are the same from run to run, whatever the
 * threads (the kernels run on the calling thread). Every matrix is
 * row-major and contiguous, as in mdl/blas.h. */
#ifndef MDL_STEP_H
#define MDL_STEP_H

#include <string.h>

#include "mdl/blas.h"

/* The width of a vector in bytes; a test may set it to try another. */
#ifndef MDL_STEP_VECTOR_BYTES
#if defined(__AVX512F__)
#define MDL_STEP_VECTOR_BYTES 64
#elif defined(__AVX__)
#define MDL_STEP_VECTOR_BYTES 32
#else
#define MDL_STEP_VECTOR_BYTES 16
#endif
#endif

/* Rows of a tile: 4 rows × 2 vectors are 8 accumulators, which with the two
 * vectors of the right operand and the broadcast number fit in AVX's 16
 * registers as well as in AVX-512's 32 (and 4 divides the paper's
 * minibatch of 100). */
#define MDL_STEP_ROWS 4

/* The numbers of type real in a vector, and in a narrow one (16 bytes),
 * which makes the last columns where whole vectors do not divide them. */
#define MDL_STEP_LANES(real) ((int)(MDL_STEP_VECTOR_BYTES / sizeof(real)))
#define MDL_STEP_NARROW_LANES(real) ((int)(16 / sizeof(real)))

/* A packed matrix with n columns has rows of MDL_STEP_PADDED(real, n)
 * numbers, n rounded up to whole narrow vectors; MDL_STEP_PACKED_SIZE is
 * the numbers of a packed k × n matrix, a constant for a static array. */
#define MDL_STEP_PADDED(real, n)                                               \
  (((n) + MDL_STEP_NARROW_LANES(real) - 1) / MDL_STEP_NARROW_LANES(real) *     \
   MDL_STEP_NARROW_LANES(real))
#define MDL_STEP_PACKED_SIZE(real, k, n) ((k)*MDL_STEP_PADDED(real, n))

#define MDL_STEP_REAL float
#define MDL_STEP_NAME(name) mdl_s##name
#include "mdl/step_kernel.h"
#undef MDL_STEP_REAL
#undef MDL_STEP_NAME

#define MDL_STEP_REAL double
#define MDL_STEP_NAME(name) mdl_d##name
#include "mdl/step_kernel.h"
#undef MDL_STEP_REAL
#undef MDL_STEP_NAME

#endif
