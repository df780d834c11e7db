/* data_npy.c — a data set from a 2-D .npy matrix, one case per row; see
 * mdl/data.h. uint8 values are pixel intensities and are scaled by 1/255;
 * float values are taken as they are, but must be finite and fit a float. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mdl/data.h"
#include "mdl/npy.h"

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

static double npy_value(const mdl_npy *a, size_t i) {
  switch (a->kind) {
  case MDL_NPY_U8:
    return ((const unsigned char *)a->data)[i] / 255.0;
  case MDL_NPY_F32:
    return ((const float *)a->data)[i];
  case MDL_NPY_F64:
    break;
  }
  return ((const double *)a->data)[i];
}

static int check_shape(const mdl_npy *a, const char *path, int n_cases,
                       mdl_error *err) {
  if (a->ndim != 2)
    return mdl_fail(err,
                    "%s: expected a 2-D array (one case per row), found a 1-D "
                    "array of %ld element%s",
                    path, a->rows, mdl_plural(a->rows));
  if (a->rows == 0 || a->cols == 0)
    return mdl_fail(err, "%s: the array is empty (shape (%ld, %ld))", path,
                    a->rows, a->cols);
  if (a->rows > INT_MAX || a->cols > INT_MAX)
    return mdl_fail(err, "%s: shape (%ld, %ld) is too large", path, a->rows,
                    a->cols);
  if (n_cases > a->rows)
    return mdl_fail(err,
                    "%s: asked for %d cases but the file holds only %ld "
                    "row%s",
                    path, n_cases, a->rows, mdl_plural(a->rows));
  return 0;
}

/* Copies the first rows rows into dst as floats. Rows and columns in
 * messages count from 0, as NumPy indexes them. */
static int convert_rows(const mdl_npy *a, const char *path, int rows,
                        float *dst, mdl_error *err) {
  size_t cols = (size_t)a->cols;
  for (size_t r = 0; r < (size_t)rows; r++)
    for (size_t c = 0; c < cols; c++) {
      double v = npy_value(a, r * cols + c);
      if (!isfinite(v))
        return mdl_fail(err, "%s: row %zu column %zu is not finite", path, r,
                        c);
      if (fabs(v) > FLT_MAX)
        return mdl_fail(
            err, "%s: row %zu column %zu (%g) is outside the range of float",
            path, r, c, v);
      dst[r * cols + c] = (float)v;
    }
  return 0;
}

int mdl_data_npy(mdl_dataset *ds, const char *path, int n_cases,
                 mdl_error *err) {
  memset(ds, 0, sizeof *ds);
  mdl_npy a;
  if (mdl_npy_read(path, &a, err) < 0)
    return -1;
  int rc = check_shape(&a, path, n_cases, err);
  if (rc == 0) {
    ds->n_cases = n_cases > 0 ? n_cases : (int)a.rows;
    ds->n_inputs = (int)a.cols;
    ds->inputs = mdl_alloc_for(
        path, (size_t)ds->n_cases * (size_t)ds->n_inputs * sizeof(float), err);
    rc = ds->inputs ? convert_rows(&a, path, ds->n_cases, ds->inputs, err) : -1;
  }
  if (rc == 0)
    snprintf(ds->source, sizeof ds->source, "npy %s (%d × %d)", base_name(path),
             ds->n_cases, ds->n_inputs);
  mdl_npy_free(&a);
  if (rc < 0)
    mdl_data_free(ds);
  return rc;
}

int mdl_data_npy_targets(mdl_dataset *ds, const char *path, mdl_error *err) {
  mdl_npy a;
  if (mdl_npy_read(path, &a, err) < 0)
    return -1;
  int rc = check_shape(&a, path, ds->n_cases, err);
  if (rc == 0) {
    ds->n_targets = (int)a.cols;
    ds->targets = mdl_alloc_for(
        path, (size_t)ds->n_cases * (size_t)a.cols * sizeof(float), err);
    rc = ds->targets ? convert_rows(&a, path, ds->n_cases, ds->targets, err)
                     : -1;
  }
  if (rc == 0) {
    size_t len = strlen(ds->source);
    snprintf(ds->source + len, sizeof ds->source - len,
             ", targets %s (%d wide)", base_name(path), ds->n_targets);
  }
  mdl_npy_free(&a);
  return rc;
}
