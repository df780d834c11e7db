/* spectral.c — the spectral radius of a square matrix, exactly, by
 * LAPACK's dgeev (OpenBLAS), and rescaling a matrix to a given radius
 * (sec. 4.1); see mdl/init.h.
 *
 * It is an object of its own because mdlc links runtime objects without
 * OpenBLAS: only what calls these functions pulls in LAPACK. */
#include <math.h>
#include <stdlib.h>

#include "mdl/init.h"

/* LAPACK's DGEEV (there is no lapacke.h here). Fortran takes every argument
 * by reference, and gfortran, which built OpenBLAS's LAPACK, appends the
 * lengths of the CHARACTER arguments JOBVL and JOBVR as hidden trailing
 * arguments; we pass them (1 each), as LAPACKE does, rather than leave the
 * callee to read whatever is in their place. INTEGER is int: this OpenBLAS
 * is built without 64-bit integers. */
void dgeev_(const char *jobvl, const char *jobvr, const int *n, double *a,
            const int *lda, double *wr, double *wi, double *vl, const int *ldvl,
            double *vr, const int *ldvr, double *work, const int *lwork,
            int *info, size_t jobvl_len, size_t jobvr_len);

/* w as doubles, checked to be finite; NULL with a message otherwise. */
static double *finite_copy(const void *w, mdl_dtype type, int n,
                           mdl_error *err) {
  size_t count = (size_t)n * (size_t)n;
  double *a = mdl_alloc(count * sizeof *a);
  for (size_t k = 0; k < count; k++) {
    a[k] = type == MDL_F32 ? ((const float *)w)[k] : ((const double *)w)[k];
    if (!isfinite(a[k])) {
      mdl_fail(err,
               "cannot compute the spectral radius of a %d × %d matrix: "
               "element (%zu, %zu) is %g",
               n, n, k / (size_t)n, k % (size_t)n, a[k]);
      free(a);
      return NULL;
    }
  }
  return a;
}

int mdl_spectral_radius(const void *w, mdl_dtype type, int n, double *radius,
                        mdl_error *err) {
  if (n < 1)
    return mdl_fail(err,
                    "a spectral radius needs a square matrix of at least "
                    "1 × 1, not %d × %d",
                    n, n);
  double *a = finite_copy(w, type, n, err);
  if (!a)
    return -1;
  /* dgeev reads a column-major, so it sees our row-major w as its
   * transpose, which has the same eigenvalues: no transpose is needed. */
  double *wr = mdl_alloc((size_t)n * sizeof *wr);
  double *wi = mdl_alloc((size_t)n * sizeof *wi);
  double unused = 0, best_lwork = 0;
  int one = 1, query = -1, info = 0;
  /* First a workspace query (lwork = -1), then the real call. */
  dgeev_("N", "N", &n, a, &n, wr, wi, &unused, &one, &unused, &one, &best_lwork,
         &query, &info, 1, 1);
  if (info == 0) {
    int lwork = (int)best_lwork > 3 * n ? (int)best_lwork : 3 * n;
    double *work = mdl_alloc((size_t)lwork * sizeof *work);
    dgeev_("N", "N", &n, a, &n, wr, wi, &unused, &one, &unused, &one, work,
           &lwork, &info, 1, 1);
    free(work);
  }
  double largest = 0;
  for (int k = 0; info == 0 && k < n; k++)
    largest = fmax(largest, hypot(wr[k], wi[k]));
  free(a);
  free(wr);
  free(wi);
  if (info > 0)
    return mdl_fail(err,
                    "LAPACK's dgeev did not converge on a %d × %d matrix "
                    "(%d eigenvalues not found)",
                    n, n, info);
  if (info < 0)
    return mdl_fail(err, "LAPACK's dgeev rejected its argument %d", -info);
  *radius = largest;
  return 0;
}

static int all_zero(const void *w, mdl_dtype type, size_t count) {
  for (size_t k = 0; k < count; k++)
    if ((type == MDL_F32 ? ((const float *)w)[k] : ((const double *)w)[k]) != 0)
      return 0;
  return 1;
}

int mdl_init_spectral_radius(void *w, mdl_dtype type, int n, double radius,
                             double *before, double *after, mdl_error *err) {
  if (!(radius > 0) || !isfinite(radius))
    return mdl_fail(err, "a spectral radius must be positive, not %g", radius);
  double old_radius, new_radius;
  if (mdl_spectral_radius(w, type, n, &old_radius, err) < 0)
    return -1;
  size_t count = (size_t)n * (size_t)n;
  if (old_radius == 0 && all_zero(w, type, count))
    return mdl_fail(err,
                    "cannot scale a %d × %d matrix of zeros to spectral "
                    "radius %g",
                    n, n, radius);
  if (old_radius == 0)
    return mdl_fail(err,
                    "cannot scale a %d × %d matrix whose eigenvalues are all "
                    "0 to spectral radius %g",
                    n, n, radius);
  double scale = radius / old_radius;
  if (type == MDL_F32)
    for (size_t k = 0; k < count; k++)
      ((float *)w)[k] = (float)(((float *)w)[k] * scale);
  else
    for (size_t k = 0; k < count; k++)
      ((double *)w)[k] *= scale;
  if (mdl_spectral_radius(w, type, n, &new_radius, err) < 0)
    return -1;
  if (before)
    *before = old_radius;
  if (after)
    *after = new_radius;
  return 0;
}
