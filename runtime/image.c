/* image.c — a grayscale PNG of inputs and reconstructions; see
 * mdl/image.h. PNG is written by hand: a signature and three chunks (IHDR,
 * one zlib-compressed IDAT, IEND), each with its CRC-32 from zlib. Written
 * so, every tile holds the exact gray levels of its image, pixel for pixel
 * (only enlarged); the two labels are drawn from a small bitmap font. */
#include "mdl/image.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { INK = 0 };

/* The letters of the labels, 5 × 9 pixels (the last two below the line,
 * for the p), drawn TEXT_SCALE times larger: MDL_IMAGE_LABEL pixels tall.
 * Only the letters the labels use, side by side as they look. */
enum { GLYPH_W = 5, GLYPH_H = 9, TEXT_SCALE = MDL_IMAGE_LABEL / GLYPH_H };
static const char letters[] = "ceinoprstu";
static const char *const font[GLYPH_H] = {
    "..... ..... ..#.. ..... ..... ..... ..... ..... .#... .....",
    "..... ..... ..... ..... ..... ..... ..... ..... .#... .....",
    ".###. .###. .##.. #.##. .###. ####. #.##. .###. ###.. #...#",
    "#.... #...# ..#.. ##..# #...# #...# ##..# #.... .#... #...#",
    "#.... ##### ..#.. #...# #...# #...# #.... .###. .#... #...#",
    "#...# #.... ..#.. #...# #...# ####. #.... ....# .#..# #..##",
    ".###. .###. .###. #...# .###. #.... #.... ####. ..##. .##.#",
    "..... ..... ..... ..... ..... #.... ..... ..... ..... .....",
    "..... ..... ..... ..... ..... #.... ..... ..... ..... .....",
};

static const char *const labels[2] = {"inputs", "reconstructions"};

/* A label's width in pixels: a column of space between letters. */
static int text_width(const char *text) {
  int n = (int)strlen(text);
  return n ? (n * (GLYPH_W + 1) - 1) * TEXT_SCALE : 0;
}

/* Draws text with its top left corner at (x, y) of an image of stride
 * bytes per row (the filter byte first). */
static void draw_text(unsigned char *raw, size_t stride, int x, int y,
                      const char *text) {
  for (; *text; text++, x += (GLYPH_W + 1) * TEXT_SCALE) {
    const char *letter = strchr(letters, *text);
    if (!letter)
      continue;
    int at = (int)(letter - letters) * (GLYPH_W + 1);
    for (int row = 0; row < GLYPH_H * TEXT_SCALE; row++)
      for (int col = 0; col < GLYPH_W * TEXT_SCALE; col++)
        if (font[row / TEXT_SCALE][at + col / TEXT_SCALE] == '#')
          raw[(size_t)(y + row) * stride + 1 + (size_t)(x + col)] = INK;
  }
}

int mdl_image_scale(int side) {
  int scale = side > 0 ? 96 / side : 1;
  return scale < 1 ? 1 : scale > 16 ? 16 : scale;
}

static void put_u32(unsigned char *p, uint32_t x) {
  p[0] = (unsigned char)(x >> 24);
  p[1] = (unsigned char)(x >> 16);
  p[2] = (unsigned char)(x >> 8);
  p[3] = (unsigned char)x;
}

/* A chunk: length, type, data, and the CRC of type and data. */
static int write_chunk(FILE *f, const char type[4], const unsigned char *data,
                       size_t length) {
  unsigned char head[8], tail[4];
  put_u32(head, (uint32_t)length);
  memcpy(head + 4, type, 4);
  uLong crc = crc32(0, head + 4, 4);
  if (length)
    crc = crc32(crc, data, (uInt)length);
  put_u32(tail, (uint32_t)crc);
  return fwrite(head, 1, 8, f) == 8 &&
                 (length == 0 || fwrite(data, 1, length, f) == length) &&
                 fwrite(tail, 1, 4, f) == 4
             ? 0
             : -1;
}

/* The gray scale of one input image: [0, 1], or its own range. */
static void gray_scale(const void *image, mdl_dtype type, size_t first, int n,
                       double *lo, double *hi) {
  double min = INFINITY, max = -INFINITY;
  for (int i = 0; i < n; i++) {
    double v = mdl_get(image, type, first + (size_t)i);
    min = fmin(min, v);
    max = fmax(max, v);
  }
  bool intensities = min >= 0 && max <= 1;
  *lo = intensities ? 0 : min;
  *hi = intensities ? 1 : (max > min ? max : min + 1);
}

int mdl_save_image_pairs(const char *path, const void *inputs,
                         const void *outputs, mdl_dtype type, int n_images,
                         int width, int height, mdl_error *err) {
  int scale = mdl_image_scale(width > height ? width : height);
  int tile_w = width * scale, tile_h = height * scale;
  int tiles_w = n_images * (tile_w + MDL_IMAGE_TILE_GAP) - MDL_IMAGE_TILE_GAP;
  int label_w = text_width(labels[1]);
  int block = MDL_IMAGE_LABEL + MDL_IMAGE_LABEL_GAP + tile_h; /* one row */
  int columns = 2 * MDL_IMAGE_MARGIN + (tiles_w > label_w ? tiles_w : label_w);
  int rows = 2 * MDL_IMAGE_MARGIN + 2 * block + MDL_IMAGE_ROW_GAP;
  size_t stride = (size_t)columns + 1; /* each scanline starts with filter 0 */
  unsigned char *raw = malloc(stride * (size_t)rows);
  if (!raw)
    return mdl_fail(err, "out of memory for %s", path);
  memset(raw, MDL_IMAGE_PAGE, stride * (size_t)rows);
  for (int row = 0; row < rows; row++)
    raw[(size_t)row * stride] = 0;
  int pixels = width * height;
  for (int which = 0; which < 2; which++) {
    int top = MDL_IMAGE_MARGIN + which * (block + MDL_IMAGE_ROW_GAP);
    draw_text(raw, stride, MDL_IMAGE_MARGIN, top, labels[which]);
    top += MDL_IMAGE_LABEL + MDL_IMAGE_LABEL_GAP;
    const void *images = which == 0 ? inputs : outputs;
    for (int k = 0; k < n_images; k++) {
      double lo, hi;
      size_t first = (size_t)k * (size_t)pixels;
      gray_scale(inputs, type, first, pixels, &lo, &hi);
      int left = MDL_IMAGE_MARGIN + k * (tile_w + MDL_IMAGE_TILE_GAP);
      for (int y = 0; y < tile_h; y++)
        for (int x = 0; x < tile_w; x++) {
          size_t i = first + (size_t)(y / scale * width + x / scale);
          double level = 255 * (mdl_get(images, type, i) - lo) / (hi - lo);
          raw[(size_t)(top + y) * stride + 1 + (size_t)(left + x)] =
              (unsigned char)fmin(255, fmax(0, round(level)));
        }
    }
  }
  uLongf packed_size = compressBound((uLong)(stride * (size_t)rows));
  unsigned char *packed = malloc(packed_size);
  int rc = 0;
  if (!packed || compress2(packed, &packed_size, raw,
                           (uLong)(stride * (size_t)rows), 9) != Z_OK)
    rc = mdl_fail(err, "cannot compress the image for %s", path);
  mdl_output out = {0};
  if (rc == 0)
    mdl_output_open(&out, path);
  FILE *f = out.file;
  if (rc == 0 && !f)
    rc = mdl_fail(err, "cannot open %s for writing: %s", path, strerror(errno));
  if (f) {
    static const unsigned char signature[8] = {0x89, 'P',  'N',  'G',
                                               '\r', '\n', 0x1a, '\n'};
    unsigned char header[13] = {0};
    put_u32(header, (uint32_t)columns);
    put_u32(header + 4, (uint32_t)rows);
    header[8] = 8; /* bits per sample; colour type 0 (gray) follows */
    int failed = fwrite(signature, 1, 8, f) != 8 ||
                 write_chunk(f, "IHDR", header, sizeof header) ||
                 write_chunk(f, "IDAT", packed, packed_size) ||
                 write_chunk(f, "IEND", NULL, 0);
    if (mdl_output_close(&out, failed) != 0)
      rc = mdl_fail(err, "cannot write %s: %s", path, strerror(errno));
  }
  free(packed);
  free(raw);
  return rc;
}
