/* random_npy.c — writes a data set of random cases as a float32 .npy, for
 * timing nets whose real data cannot be had here (FACES: 625-wide images).
 * For timing the content barely matters; the values are uniform in [0, 1),
 * like pixel intensities, from the runtime's generator, so the file is the
 * same on every machine.
 *
 *   random_npy FILE.npy ROWS COLS SEED */
#include <stdio.h>
#include <stdlib.h>

#include <mdl/npy.h>
#include <mdl/rng.h>

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: random_npy FILE.npy ROWS COLS SEED\n");
    return 2;
  }
  long rows = atol(argv[2]), cols = atol(argv[3]);
  if (rows <= 0 || cols <= 0) {
    fprintf(stderr, "random_npy: ROWS and COLS must be positive\n");
    return 2;
  }
  float *data = malloc(sizeof(float) * (size_t)(rows * cols));
  if (!data) {
    fprintf(stderr, "random_npy: out of memory\n");
    return 1;
  }
  mdl_rng rng;
  mdl_rng_seed(&rng, strtoull(argv[4], NULL, 10));
  for (long i = 0; i < rows * cols; i++)
    data[i] = (float)mdl_rng_uniform(&rng);

  mdl_error err;
  if (mdl_npy_write(argv[1], data, MDL_F32, rows, cols, &err) != 0) {
    fprintf(stderr, "random_npy: %s\n", err.message);
    return 1;
  }
  free(data);
  return 0;
}
