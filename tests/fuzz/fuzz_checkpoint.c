/* fuzz_checkpoint.c — libFuzzer target: arbitrary bytes as a checkpoint
 * for --resume. The reader must refuse what is not a sound checkpoint of
 * the program, with a message, and never crash, leak or exit.
 *
 * The program that reads it takes its sizes from the file's own header
 * where they are plausible (its identity, parameter count, element size,
 * state, cases and batch), as a program would that the file was written
 * for: so the fuzzer gets past the header checks to the body, the
 * checksum and the sampler's permutation. */
#include "fuzz_file.h"

#include <limits.h>
#include <string.h>

#include "mdl/checkpoint.h"

enum { MAX_MODEL = 4096, MAX_PARAMS = 1 << 12, MAX_CASES = 1 << 12 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The int64 at byte offset at, or fallback when the input is too short. */
static int64_t field(const uint8_t *data, size_t size, size_t at,
                     int64_t fallback) {
  int64_t v;
  if (at > size || size - at < sizeof v)
    return fallback;
  memcpy(&v, data + at, sizeof v);
  return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static FuzzFile file = {.fd = -1};
  static char model[MAX_MODEL + 1];
  fuzz_file_put(&file, data, size);

  /* After the 8-byte magic: the identity's length, the identity, then
   * n_params, element size, state, t, n_cases, batch, next. */
  int64_t length = field(data, size, 8, 0);
  if (length < 0 || length > MAX_MODEL || (size_t)length > size - 16)
    length = 0;
  if (size >= 16)
    memcpy(model, data + 16, (size_t)length);
  model[length] = '\0';
  size_t at = 16 + (size_t)length;
  int64_t n_params = field(data, size, at, 3);
  int64_t element = field(data, size, at + 8, 8);
  int64_t state = field(data, size, at + 16, 1);
  int64_t n_cases = field(data, size, at + 32, 4);
  int64_t batch = field(data, size, at + 40, 2);
  if (n_params < 0 || n_params > MAX_PARAMS)
    n_params = 3;
  mdl_dtype type = element == 4 ? MDL_F32 : MDL_F64;
  if (state < 0 || state > 3)
    state = 1;
  if (n_cases < 0 || n_cases > MAX_CASES)
    n_cases = 4;
  if (n_cases > 0 && (batch < 1 || batch > n_cases))
    batch = 1;
  if (n_cases == 0 && (batch < 0 || batch > INT_MAX))
    batch = 0;

  mdl_checkpoint_set_model(model);
  mdl_batcher b = {.batch = (int)batch}; /* a sequence problem's: no cases */
  if (n_cases > 0)
    mdl_batcher_init(&b, (int)n_cases, (int)batch, 1);
  size_t n = (size_t)n_params, bytes = n * mdl_dtype_size(type);
  size_t extra_bytes = state == 3   ? (1 + n) * sizeof(double)
                       : state != 0 ? bytes
                                    : 0;
  void *point = malloc(bytes + 1), *extra = malloc(extra_bytes + 1);
  long t;
  mdl_error err;
  mdl_checkpoint_load_state(file.path, &t, point, type, (long)n_params,
                            (int)state, extra, extra_bytes, &b, &err);
  free(point);
  free(extra);
  mdl_batcher_free(&b);
  return 0;
}
