/* mdl/npy.h — reading and writing NumPy .npy files (format version 1.0),
 * little-endian, C order. Used for parameters (--save-params,
 * --load-params) and for data. */
#ifndef MDL_NPY_H
#define MDL_NPY_H

#include "mdl/base.h"

typedef enum { MDL_NPY_U8, MDL_NPY_F32, MDL_NPY_F64 } mdl_npy_kind;

typedef struct {
  mdl_npy_kind kind;
  int ndim;   /* 1 or 2 */
  long rows;  /* shape[0] */
  long cols;  /* shape[1], or 1 when ndim == 1 */
  void *data; /* rows * cols elements of the kind, malloc'ed */
} mdl_npy;

/* Reads a 1-D or 2-D array of '<f4', '<f8' or '|u1'; anything else (bad
 * magic, Fortran order, other types, a truncated body, bytes after it) is an
 * error. The size of a regular file is checked against the header's shape
 * before anything is allocated for the data. */
int mdl_npy_read(const char *path, mdl_npy *out, mdl_error *err);
void mdl_npy_free(mdl_npy *a);

/* Reads only the header: kind, ndim, rows and cols, with data NULL (mdlc
 * uses it to check a data file's shape when compiling). A regular file whose
 * size does not match the header's shape is refused as mdl_npy_read would. */
int mdl_npy_read_shape(const char *path, mdl_npy *out, mdl_error *err);

/* Writes n elements of the given type as a 1-D array, or as rows × cols
 * when cols > 0 (then n must equal rows * cols). */
int mdl_npy_write(const char *path, const void *data, mdl_dtype type, long rows,
                  long cols, mdl_error *err);

/* Loads a 1-D array of exactly n elements (any float kind) into dst,
 * converting to type: the --load-params path. */
int mdl_npy_load_vector(const char *path, void *dst, mdl_dtype type, long n,
                        mdl_error *err);

#endif
