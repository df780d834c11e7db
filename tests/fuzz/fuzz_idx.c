/* fuzz_idx.c — libFuzzer target: arbitrary bytes as IDX image and label
 * files (plain or gzip), read as mdlc reads them (the header) and as a
 * program does (the whole data set). Each read must return an error or a
 * sound data set, never crash, leak or exit.
 *
 * The input: one byte of choices, then, when its bit 0 asks for labels, a
 * 2-byte little-endian length and that many bytes of label file; the rest
 * is the image file. Bits 1-2 choose the number of classes the program
 * asks for, bit 3 whether it takes every case or only the first. */
#include "fuzz_file.h"

#include "mdl/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static FuzzFile images = {.fd = -1}, labels = {.fd = -1};
  static const int class_choices[4] = {0, 10, 3, 256};
  if (size < 1)
    return 0;
  uint8_t choices = data[0];
  data++, size--;
  int with_labels = choices & 1;
  if (with_labels) {
    if (size < 2)
      return 0;
    size_t n = (size_t)data[0] | (size_t)data[1] << 8;
    data += 2, size -= 2;
    if (n > size)
      n = size;
    fuzz_file_put(&labels, data, n);
    data += n, size -= n;
  }
  fuzz_file_put(&images, data, size);

  mdl_error err;
  int n_images, n_pixels;
  mdl_idx_image_shape(images.path, &n_images, &n_pixels, &err);
  mdl_dataset ds;
  if (mdl_data_idx(&ds, images.path, with_labels ? labels.path : NULL,
                   class_choices[choices >> 1 & 3], choices & 8 ? 1 : 0,
                   &err) == 0)
    mdl_data_free(&ds);
  return 0;
}
