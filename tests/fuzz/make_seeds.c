/* make_seeds.c — writes small sound inputs for the fuzz targets of
 * runtime readers into DIR/npy, DIR/idx and DIR/checkpoint (which must
 * exist): a start the fuzzer mutates from, made here rather than kept in
 * the repository as binary files. Usage: make_seeds DIR */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "mdl/checkpoint.h"
#include "mdl/npy.h"

static const char *dir;

static const char *path_of(const char *name) {
  static char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return path;
}

static void write_bytes(const char *name, const void *data, size_t size) {
  FILE *f = fopen(path_of(name), "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
    perror(path_of(name));
    exit(1);
  }
}

static void check(int rc, const mdl_error *err) {
  if (rc != 0) {
    fprintf(stderr, "make_seeds: %s\n", err->message);
    exit(1);
  }
}

static void npy_seeds(void) {
  mdl_error err;
  float f[6] = {0, 1, -2.5f, 3, 0.25f, 1e-3f};
  double d[6] = {1, 0, 0, 0, 1, 0};
  check(mdl_npy_write(path_of("npy/f32_1d.npy"), f, MDL_F32, 6, 0, &err), &err);
  check(mdl_npy_write(path_of("npy/f32_2d.npy"), f, MDL_F32, 2, 3, &err), &err);
  check(mdl_npy_write(path_of("npy/f64_2d.npy"), d, MDL_F64, 3, 2, &err), &err);
  /* A version 2.0 header (4-byte length) over a 2 × 2 byte matrix. */
  static const char v2_dict[] =
      "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }\n";
  unsigned char v2[12 + sizeof v2_dict - 1 + 4];
  uint32_t len = sizeof v2_dict - 1;
  memcpy(v2, "\x93NUMPY\x02\x00", 8);
  for (int i = 0; i < 4; i++)
    v2[8 + i] = (unsigned char)(len >> 8 * i);
  memcpy(v2 + 12, v2_dict, len);
  memcpy(v2 + 12 + len, "\x00\x40\x80\xff", 4);
  write_bytes("npy/u8_v2.npy", v2, sizeof v2);
}

/* The idx target's input: a byte of choices, the label file's length and
 * bytes when bit 0 is set, then the image file. */
static void idx_seeds(void) {
  static const unsigned char images[16 + 3 * 2 * 2] = {
      0, 0, 8, 3,   0,   0, 0, 3, 0, 0, 0,   2,   0,  0,
      0, 2, 0, 255, 128, 7, 1, 2, 3, 4, 200, 100, 50, 25};
  static const unsigned char labels[8 + 3] = {0, 0, 8, 1, 0, 0, 0, 3, 0, 2, 1};
  unsigned char buf[1 + 2 + sizeof labels + sizeof images];
  buf[0] = 0;
  memcpy(buf + 1, images, sizeof images);
  write_bytes("idx/images", buf, 1 + sizeof images);
  buf[0] = 1 | 1 << 1; /* labels, 10 classes */
  buf[1] = sizeof labels;
  buf[2] = 0;
  memcpy(buf + 3, labels, sizeof labels);
  memcpy(buf + 3 + sizeof labels, images, sizeof images);
  write_bytes("idx/images_labels", buf, sizeof buf);

  /* The images gzip-compressed, read back in as one seed. */
  gzFile gz = gzopen(path_of("idx/images.gz.tmp"), "wb");
  if (!gz || gzwrite(gz, images, sizeof images) != (int)sizeof images ||
      gzclose(gz) != Z_OK) {
    fprintf(stderr, "make_seeds: cannot write a gzip file\n");
    exit(1);
  }
  FILE *f = fopen(path_of("idx/images.gz.tmp"), "rb");
  unsigned char packed[512];
  packed[0] = 1 << 3; /* the first case only */
  size_t n = f ? fread(packed + 1, 1, sizeof packed - 1, f) : 0;
  if (f)
    fclose(f);
  remove(path_of("idx/images.gz.tmp"));
  write_bytes("idx/images_gz", packed, 1 + n);
}

/* One checkpoint per kind of state, and one of a sequence problem. */
static void checkpoint_seeds(void) {
  mdl_error err;
  double theta[3] = {0.5, -1, 2}, extra[4] = {1e-2, 0, 1, -1};
  mdl_batcher b;
  mdl_batcher_init(&b, 4, 2, 7);
  mdl_checkpoint_set_model("fuzz net 2-1, float64");
  for (int state = 0; state <= 3; state++) {
    size_t extra_bytes = state == 0   ? 0
                         : state == 3 ? sizeof extra
                                      : 3 * sizeof(double);
    char name[64];
    snprintf(name, sizeof name, "checkpoint/state%d", state);
    check(mdl_checkpoint_save_state(path_of(name), 10 + state, theta, MDL_F64,
                                    3, state, extra, extra_bytes, &b, &err),
          &err);
  }
  mdl_batcher_free(&b);
  float point[2] = {1, 2};
  mdl_batcher seq = {.batch = 5};
  check(mdl_checkpoint_save_state(path_of("checkpoint/sequences"), 3, point,
                                  MDL_F32, 2, 1, point, sizeof point, &seq,
                                  &err),
        &err);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_seeds DIR\n");
    return 2;
  }
  dir = argv[1];
  npy_seeds();
  idx_seeds();
  checkpoint_seeds();
  return 0;
}
