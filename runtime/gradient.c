/* gradient.c — the gradient's norm, its statistics between two progress
 * lines, and the rescaling that clipping uses. */
#include <mdl/program.h>

#include <cblas.h>
#include <math.h>

double mdl_gradient_norm(long t, const void *grad, mdl_dtype dtype, long n) {
  /* BLAS's nrm2, vectorized: a plain loop in double took 0.85 ms of a
   * CURVES update of 842,340 parameters (about 13 % of it), nrm2 0.13 ms.
   * A NaN or Inf anywhere makes the norm one too. */
  double norm = dtype == MDL_F32 ? cblas_snrm2((int)n, grad, 1)
                                 : cblas_dnrm2((int)n, grad, 1);
  if (!isfinite(norm))
    mdl_die("training diverged at update %ld: the gradient's norm is %g; "
            "try a smaller epsilon",
            t, fabs(norm)); /* fabs: "nan", not "-nan" */
  return norm;
}

void mdl_gradient_stats_add(mdl_gradient_stats *s, double norm) {
  s->count++;
  s->norm_sum += norm;
  if (norm > s->norm_max)
    s->norm_max = norm;
}

void mdl_scale(void *x, mdl_dtype dtype, long n, double factor) {
  if (dtype == MDL_F32)
    cblas_sscal((int)n, (float)factor, x, 1);
  else
    cblas_dscal((int)n, factor, x, 1);
}
