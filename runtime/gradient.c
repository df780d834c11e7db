/* gradient.c — the gradient's norm, its statistics between two progress
 * lines, and the rescaling that clipping uses. */
#include <mdl/program.h>

#include <math.h>

double mdl_gradient_norm(long t, const void *grad, mdl_dtype dtype, long n) {
  /* Summed in double without BLAS's scaling: a gradient whose squares
   * overflow double (‖g‖ > 1e154) has diverged anyway. */
  double sum = 0;
  if (dtype == MDL_F32) {
    const float *g = grad;
    for (long i = 0; i < n; i++)
      sum += (double)g[i] * g[i];
  } else {
    const double *g = grad;
    for (long i = 0; i < n; i++)
      sum += g[i] * g[i];
  }
  double norm = sqrt(sum);
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
  if (dtype == MDL_F32) {
    float *v = x, f = (float)factor;
    for (long i = 0; i < n; i++)
      v[i] *= f;
  } else {
    double *v = x;
    for (long i = 0; i < n; i++)
      v[i] *= factor;
  }
}
