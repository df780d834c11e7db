/* test_images.c — --save-images writes a PNG of inputs above their
 * reconstructions that holds exactly those values, enlarged and labelled,
 * and programs whose inputs are not square images refuse the option. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "e2e.h"
#include "mdl/image.h"

enum { SIDE = 4, PIXELS = SIDE * SIDE, CASES = 12 };

static const char program[] =
    "data squares = npy(\"squares.npy\")\n"
    "net ae : autoencoder {\n"
    "  input 16\n"
    "  encoder sigmoid [6]\n"
    "  code linear 2\n"
    "  output sigmoid\n"
    "}\n"
    "train ae on squares with nag { batch 12; epsilon 0.1; mu 0.9 }\n";

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

/* The gray levels of a PNG written by the runtime (8-bit gray, filter 0 on
 * every row, one IDAT), with its size; NULL if it is not such a PNG. */
static unsigned char *read_gray_png(const char *path, int *width, int *height) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "no %s", path);
  static unsigned char file[1 << 18];
  size_t n = fread(file, 1, sizeof file, f);
  fclose(f);
  static const unsigned char signature[8] = {0x89, 'P',  'N',  'G',
                                             '\r', '\n', 0x1a, '\n'};
  cr_assert(n > 33 && memcmp(file, signature, 8) == 0, "not a PNG");
  cr_assert(memcmp(file + 12, "IHDR", 4) == 0);
  *width = (int)be32(file + 16);
  *height = (int)be32(file + 20);
  cr_assert_eq(file[24], 8, "bit depth");
  cr_assert_eq(file[25], 0, "colour type (gray)");
  /* The CRC of IHDR covers its type and data. */
  cr_assert_eq(be32(file + 29), (uint32_t)crc32(0, file + 12, 17));
  const unsigned char *idat = file + 33;
  cr_assert(memcmp(idat + 4, "IDAT", 4) == 0);
  uLongf size = (uLongf)(*width + 1) * (uLongf)*height;
  unsigned char *raw = malloc(size);
  cr_assert_eq(uncompress(raw, &size, idat + 8, be32(idat)), Z_OK);
  cr_assert_eq(size, (uLongf)(*width + 1) * (uLongf)*height);
  return raw;
}

Test(images, inputs_above_reconstructions) {
  const char *dir = e2e_fresh_dir("images_pairs");
  double x[CASES][PIXELS];
  for (int i = 0; i < CASES; i++)
    for (int p = 0; p < PIXELS; p++)
      x[i][p] = ((i * 7 + p * 3) % 17) / 16.0;
  e2e_write_f64(e2e_join(dir, "squares.npy"), &x[0][0], CASES, PIXELS);
  const char *exe = e2e_compile(dir, "prog", "--precision double", program);
  cr_assert_not_null(exe);
  /* All parameters 0: every output unit is σ(0) = 0.5, gray level 128. */
  e2e_result r = e2e_run("%s --dump-model %s/prog.mdl", MDLC, dir);
  long n_params = (long)e2e_number_after(r.output, "parameters: ");
  free(r.output);
  cr_assert_gt(n_params, 0);
  double *zeros = calloc((size_t)n_params, sizeof *zeros);
  e2e_write_f64(e2e_join(dir, "zeros.npy"), zeros, n_params, 0);
  r = e2e_run("cd %s && %s --steps 0 --load-params zeros.npy --save-images "
              "pairs.png --quiet",
              dir, exe);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);

  int width, height;
  unsigned char *raw =
      read_gray_png(e2e_join(dir, "pairs.png"), &width, &height);
  /* 4 × 4 images are drawn 16 times larger: 64-pixel tiles. */
  int scale = 16, tile = SIDE * scale;
  cr_assert_eq(mdl_image_scale(SIDE), scale);
  cr_expect_eq(mdl_image_scale(28), 3, "MNIST's 28 x 28");
  cr_expect_eq(mdl_image_scale(200), 1);
  int tiles = 10; /* the first ten cases (fewer than a minibatch) */
  int margin = MDL_IMAGE_MARGIN, gap = MDL_IMAGE_TILE_GAP;
  int label = MDL_IMAGE_LABEL + MDL_IMAGE_LABEL_GAP;
  cr_assert_eq(width, 2 * margin + tiles * (tile + gap) - gap);
  cr_assert_eq(height, 2 * margin + 2 * (label + tile) + MDL_IMAGE_ROW_GAP);
  int top = margin + label;
  int bottom = top + tile + MDL_IMAGE_ROW_GAP + label;
  for (int k = 0; k < tiles; k++)
    for (int y = 0; y < tile; y++)
      for (int xx = 0; xx < tile; xx++) {
        int column = 1 + margin + k * (tile + gap) + xx;
        /* Nearest neighbour: each pixel a scale × scale square. */
        int want = (int)(255 * x[k][y / scale * SIDE + xx / scale] + 0.5);
        cr_assert_eq(raw[(top + y) * (width + 1) + column], want,
                     "case %d pixel (%d, %d)", k, y, xx);
        cr_assert_eq(raw[(bottom + y) * (width + 1) + column], 128,
                     "reconstruction of case %d pixel (%d, %d)", k, y, xx);
      }
  /* Every row has filter type 0; the margins and the gaps between tiles
   * are the page's gray. */
  for (int row = 0; row < height; row++) {
    unsigned char *line = raw + row * (width + 1);
    cr_assert_eq(line[0], 0);
    cr_assert_eq(line[1], MDL_IMAGE_PAGE, "left margin, row %d", row);
    cr_assert_eq(line[width], MDL_IMAGE_PAGE, "right margin, row %d", row);
    int in_tiles = (row >= top && row < top + tile) ||
                   (row >= bottom && row < bottom + tile);
    for (int k = 1; in_tiles && k < tiles; k++)
      cr_assert_eq(line[1 + margin + k * (tile + gap) - 1], MDL_IMAGE_PAGE,
                   "the gap before tile %d, row %d", k, row);
  }
  /* Each row has its label, in black, above it: "inputs" is 6 letters of
   * 12 pixels, "reconstructions" 15. */
  int labels[2] = {margin, top + tile + MDL_IMAGE_ROW_GAP};
  int widths[2] = {6 * 12 - 2, 15 * 12 - 2};
  for (int r = 0; r < 2; r++) {
    int ink = 0, right = 0;
    for (int y = labels[r]; y < labels[r] + MDL_IMAGE_LABEL; y++)
      for (int c = 0; c < width; c++)
        if (raw[y * (width + 1) + 1 + c] == 0) {
          ink++;
          right = c > right ? c : right;
        }
    cr_expect_gt(ink, 100, "label %d has %d black pixels", r, ink);
    cr_expect_eq(right, margin + widths[r] - 1, "label %d ends at %d", r,
                 right);
  }
  free(raw);
}

Test(images, refused_without_square_images) {
  const char *dir = e2e_fresh_dir("images_refused");
  double x[8][3] = {{0}}, y[8][1] = {{0}};
  e2e_write_f64(e2e_join(dir, "x.npy"), &x[0][0], 8, 3);
  e2e_write_f64(e2e_join(dir, "y.npy"), &y[0][0], 8, 1);
  const char *exe =
      e2e_compile(dir, "fit", "",
                  "data d = npy(inputs \"x.npy\", targets \"y.npy\")\n"
                  "net f : feedforward { input 3; output linear 1 }\n"
                  "train f on d with sgd { batch 4; epsilon 0.1 }\n");
  cr_assert_not_null(exe);
  /* A bad option: refused before the data is read (status 2), and not
   * offered by --help. */
  e2e_result r =
      e2e_run("cd %s && rm -f x.npy && %s --save-images f.png", dir, exe);
  cr_expect_eq(r.status, 2, "%s", r.output);
  cr_expect(strstr(r.output, "fit: error: --save-images shows an "
                             "autoencoder's reconstructions of square "
                             "images; this program has none\nTry 'fit "
                             "--help'."),
            "%s", r.output);
  free(r.output);
  r = e2e_run("%s --help", exe);
  cr_expect_eq(r.status, 0, "%s", r.output);
  cr_expect(strstr(r.output, "--save-params FILE.npy"), "%s", r.output);
  cr_expect(!strstr(r.output, "--save-images"), "%s", r.output);
  cr_expect(!strstr(r.output, "gauss-newton"), "%s", r.output);
  cr_expect(!strstr(r.output, "compare-cg-nag"), "%s", r.output);
  free(r.output);
}
