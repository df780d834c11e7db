/* fuzz_npy.c — libFuzzer target: arbitrary bytes as a .npy file, through
 * every reader that takes one (header only, whole array, parameters for
 * --load-params, and a data set's inputs and targets). Each must return
 * an error or a sound array, never crash, leak or exit. */
#include "fuzz_file.h"

#include "mdl/data.h"
#include "mdl/npy.h"

enum { MAX_VECTOR = 1 << 16 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static FuzzFile file = {.fd = -1};
  fuzz_file_put(&file, data, size);
  mdl_error err;
  mdl_npy a;
  mdl_npy_read_shape(file.path, &a, &err);
  if (mdl_npy_read(file.path, &a, &err) == 0) {
    long n = a.rows;
    int vector = a.ndim == 1 && n <= MAX_VECTOR;
    mdl_npy_free(&a);
    if (vector) {
      double *values = malloc(sizeof(double) * (size_t)(n ? n : 1));
      mdl_npy_load_vector(file.path, values, MDL_F32, n, &err);
      mdl_npy_load_vector(file.path, values, MDL_F64, n, &err);
      free(values);
    }
  }
  mdl_dataset ds;
  if (mdl_data_npy(&ds, file.path, 0, &err) == 0) {
    mdl_data_npy_targets(&ds, file.path, &err);
    mdl_data_free(&ds);
  }
  return 0;
}
