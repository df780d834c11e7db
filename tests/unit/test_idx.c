/* test_idx.c — IDX images and labels (runtime/data_idx.c), plain and
 * gzip-compressed, good and corrupt. Fixtures are written by the tests. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "mdl/data.h"
#include "scratch.h"

static char idx_dir[64];

static void idx_setup(void) { scratch_make(idx_dir, "idx"); }

static void idx_teardown(void) { scratch_remove(idx_dir); }

/* Each call returns a fresh buffer so a test can hold two paths. */
static const char *idx_path(const char *name) {
  static char paths[4][512];
  static int next;
  char *path = paths[next++ % 4];
  snprintf(path, 512, "%s/%s", idx_dir, name);
  return path;
}

/* A small IDX file assembled in memory. */
typedef struct {
  unsigned char bytes[256];
  size_t len;
} idx_blob;

static void put_u32(idx_blob *b, uint32_t v) {
  for (int k = 3; k >= 0; k--)
    b->bytes[b->len++] = (unsigned char)(v >> (8 * k));
}

static void put_bytes(idx_blob *b, const unsigned char *p, size_t n) {
  memcpy(b->bytes + b->len, p, n);
  b->len += n;
}

/* Writes the first len bytes of b, through zlib when gz is set. */
static void write_blob(const char *path, const idx_blob *b, size_t len,
                       int gz) {
  if (gz) {
    gzFile f = gzopen(path, "wb");
    cr_assert(f != NULL);
    cr_assert_eq(gzwrite(f, b->bytes, (unsigned)len), (int)len);
    gzclose(f);
  } else {
    FILE *f = fopen(path, "wb");
    cr_assert(f != NULL);
    fwrite(b->bytes, 1, len, f);
    fclose(f);
  }
}

/* Three 2 × 2 images and their labels 0, 2, 1. */
static const unsigned char pixels[12] = {0,   255, 51, 102, 255, 0,
                                         153, 204, 1,  2,   3,   4};
static const unsigned char labels[3] = {0, 2, 1};

static idx_blob image_blob(uint32_t magic, uint32_t count, uint32_t rows,
                           uint32_t cols) {
  idx_blob b = {{0}, 0};
  put_u32(&b, magic);
  put_u32(&b, count);
  put_u32(&b, rows);
  put_u32(&b, cols);
  put_bytes(&b, pixels, sizeof pixels);
  return b;
}

static idx_blob label_blob(uint32_t count, const unsigned char *values,
                           size_t n) {
  idx_blob b = {{0}, 0};
  put_u32(&b, 0x00000801);
  put_u32(&b, count);
  put_bytes(&b, values, n);
  return b;
}

/* Writes the good pair of files at the given paths. */
static void write_good_pair(const char *images, const char *labels_path,
                            int gz) {
  idx_blob im = image_blob(0x00000803, 3, 2, 2);
  idx_blob lb = label_blob(3, labels, 3);
  write_blob(images, &im, im.len, gz);
  write_blob(labels_path, &lb, lb.len, gz);
}

static void check_good_set(const mdl_dataset *ds) {
  cr_assert_eq(ds->n_cases, 3);
  cr_assert_eq(ds->n_inputs, 4);
  for (int i = 0; i < 12; i++)
    cr_assert_float_eq(ds->inputs[i], pixels[i] / 255.0f, 1e-7,
                       "pixel %d is %g", i, ds->inputs[i]);
  cr_assert_eq(ds->n_targets, 3);
  for (int i = 0; i < 3; i++)
    for (int c = 0; c < 3; c++)
      cr_assert_eq(ds->targets[i * 3 + c], c == labels[i] ? 1.0f : 0.0f,
                   "target %d,%d", i, c);
}

/* Loads and expects failure with phrase in the message and an empty set. */
static void assert_idx_fails(const char *images, const char *labels_path,
                             int n_classes, int n_cases, const char *phrase) {
  mdl_dataset ds;
  mdl_error err = {""};
  cr_assert_eq(mdl_data_idx(&ds, images, labels_path, n_classes, n_cases, &err),
               -1, "loading %s succeeded", images);
  cr_assert(strstr(err.message, phrase) != NULL, "message \"%s\" lacks \"%s\"",
            err.message, phrase);
  cr_assert_null(ds.inputs, "a failed load left inputs allocated");
  cr_assert_null(ds.targets);
}

TestSuite(idx, .init = idx_setup, .fini = idx_teardown);

Test(idx, reads_plain_files) {
  const char *im = idx_path("images-idx3-ubyte"), *lb = idx_path("labels");
  write_good_pair(im, lb, 0);
  mdl_dataset ds;
  mdl_error err = {""};
  cr_assert_eq(mdl_data_idx(&ds, im, lb, 0, 0, &err), 0, "%s", err.message);
  check_good_set(&ds);
  cr_assert_str_eq(ds.source, "idx images-idx3-ubyte (3 × 4)");
  mdl_data_free(&ds);
}

Test(idx, reads_gzip_files) {
  const char *im = idx_path("images.gz"), *lb = idx_path("labels.gz");
  write_good_pair(im, lb, 1);
  FILE *f = fopen(im, "rb");
  cr_assert(fgetc(f) == 0x1f && fgetc(f) == 0x8b, "fixture is not gzip");
  fclose(f);
  mdl_dataset ds;
  mdl_error err = {""};
  cr_assert_eq(mdl_data_idx(&ds, im, lb, 0, 0, &err), 0, "%s", err.message);
  check_good_set(&ds);
  mdl_data_free(&ds);
}

Test(idx, takes_first_cases_and_given_classes) {
  const char *im = idx_path("images"), *lb = idx_path("labels");
  write_good_pair(im, lb, 0);
  mdl_dataset ds;
  mdl_error err = {""};
  cr_assert_eq(mdl_data_idx(&ds, im, lb, 10, 2, &err), 0, "%s", err.message);
  cr_assert_eq(ds.n_cases, 2);
  cr_assert_eq(ds.n_targets, 10);
  cr_assert_eq(ds.targets[10 + 2], 1.0f, "case 1 should be class 2");
  float sum = 0;
  for (int k = 0; k < 20; k++)
    sum += ds.targets[k];
  cr_assert_eq(sum, 2.0f, "one-hot rows should hold one 1 each");
  mdl_data_free(&ds);
}

Test(idx, images_without_labels) {
  const char *im = idx_path("images");
  idx_blob b = image_blob(0x00000803, 3, 2, 2);
  write_blob(im, &b, b.len, 0);
  mdl_dataset ds;
  mdl_error err = {""};
  cr_assert_eq(mdl_data_idx(&ds, im, NULL, 0, 0, &err), 0, "%s", err.message);
  cr_assert_eq(ds.n_targets, 0);
  cr_assert_null(ds.targets);
  cr_assert_eq(ds.inputs[1], 1.0f);
  mdl_data_free(&ds);
}

Test(idx, rejects_missing_file) {
  assert_idx_fails(idx_path("absent.gz"), NULL, 0, 0, "cannot open");
  assert_idx_fails(idx_path("absent.gz"), NULL, 0, 0, "absent.gz");
  assert_idx_fails(idx_path("absent.gz"), NULL, 0, 0, "No such file");
}

Test(idx, rejects_wrong_magic) {
  const char *im = idx_path("images"), *lb = idx_path("labels");
  write_good_pair(im, lb, 0);
  assert_idx_fails(lb, NULL, 0, 0,
                   "not an IDX image file: magic 0x00000801, expected "
                   "0x00000803");
  assert_idx_fails(im, im, 0, 0,
                   "not an IDX label file: magic 0x00000803, expected "
                   "0x00000801");
}

Test(idx, rejects_truncated_pixels) {
  const char *im = idx_path("short-images");
  idx_blob b = image_blob(0x00000803, 3, 2, 2);
  write_blob(im, &b, b.len - 3, 0);
  assert_idx_fails(im, NULL, 0, 0,
                   "truncated: expected 12 bytes of pixel data, found 9");
}

Test(idx, rejects_truncated_gzip_stream) {
  const char *whole = idx_path("whole.gz"), *cut = idx_path("cut.gz");
  idx_blob b = image_blob(0x00000803, 3, 2, 2);
  write_blob(whole, &b, b.len, 1);
  /* Cut the compressed file itself, not the data before compression. */
  FILE *f = fopen(whole, "rb");
  unsigned char gz[512];
  size_t n = fread(gz, 1, sizeof gz, f);
  fclose(f);
  f = fopen(cut, "wb");
  fwrite(gz, 1, n - 12, f); /* drops the gzip trailer and some data */
  fclose(f);
  assert_idx_fails(cut, NULL, 0, 0, "truncated");
}

Test(idx, rejects_truncated_header) {
  const char *im = idx_path("stub");
  idx_blob b = image_blob(0x00000803, 3, 2, 2);
  write_blob(im, &b, 10, 0);
  assert_idx_fails(im, NULL, 0, 0, "truncated: expected a 16-byte IDX header");
}

Test(idx, rejects_truncated_labels) {
  const char *im = idx_path("images"), *lb = idx_path("labels");
  write_good_pair(im, lb, 0);
  idx_blob l = label_blob(3, labels, 3);
  write_blob(lb, &l, l.len - 1, 0);
  assert_idx_fails(im, lb, 0, 0,
                   "truncated: expected 3 bytes of label data, found 2");
}

Test(idx, rejects_count_mismatch) {
  const char *im = idx_path("images"), *lb = idx_path("labels");
  write_good_pair(im, lb, 0);
  idx_blob l = label_blob(2, labels, 2);
  write_blob(lb, &l, l.len, 0);
  assert_idx_fails(im, lb, 0, 0, "image and label counts differ");
}

Test(idx, rejects_label_out_of_range) {
  const char *im = idx_path("images"), *lb = idx_path("labels");
  write_good_pair(im, lb, 0);
  assert_idx_fails(im, lb, 2, 0, "label 2 of case 1 is out of range");
}

Test(idx, rejects_too_many_cases) {
  const char *im = idx_path("images"), *lb = idx_path("labels");
  write_good_pair(im, lb, 0);
  assert_idx_fails(im, lb, 0, 4, "asked for 4 cases but the file holds only 3");
}

Test(idx, rejects_absurd_dimensions) {
  const char *im = idx_path("huge");
  idx_blob b = image_blob(0x00000803, 0xffffffffu, 0xffffffffu, 0xffffffffu);
  write_blob(im, &b, b.len, 0);
  assert_idx_fails(im, NULL, 0, 0, "implausible IDX dimensions");
  b = image_blob(0x00000803, 60000, 1000, 1000);
  write_blob(im, &b, b.len, 0);
  assert_idx_fails(im, NULL, 0, 0, "implausible IDX dimensions");
  b = image_blob(0x00000803, 3, 0, 4);
  write_blob(im, &b, b.len, 0);
  assert_idx_fails(im, NULL, 0, 0, "holds no pixels");
}

/* ------------------------------------------- sizes against the header */

/* Loads and expects failure with exactly the message `want`. */
static void assert_idx_message(const char *images, const char *labels_path,
                               int n_cases, const char *want) {
  mdl_dataset ds;
  mdl_error err = {""};
  cr_assert_eq(mdl_data_idx(&ds, images, labels_path, 0, n_cases, &err), -1,
               "loading %s succeeded", images);
  cr_assert_str_eq(err.message, want);
  cr_assert_null(ds.inputs, "a failed load left inputs allocated");
}

/* The header-only reader mdlc uses must refuse it with the same message. */
static void assert_shape_message(const char *images, const char *want) {
  int n = 0, pixels = 0;
  mdl_error err = {""};
  cr_assert_eq(mdl_idx_image_shape(images, &n, &pixels, &err), -1,
               "reading the shape of %s succeeded", images);
  cr_assert_str_eq(err.message, want);
}

/* Appends n bytes to the file at path. */
static void append_bytes(const char *path, const void *bytes, size_t n) {
  FILE *f = fopen(path, "ab");
  cr_assert(f != NULL);
  cr_assert_eq(fwrite(bytes, 1, n, f), n);
  fclose(f);
}

static char want[1024];

/* want = "PATH: MESSAGE" */
static const char *message(const char *path, const char *text) {
  snprintf(want, sizeof want, "%s: %s", path, text);
  return want;
}

Test(idx, rejects_trailing_bytes_in_plain_files) {
  const char *im = idx_path("images"), *lb = idx_path("labels");
  write_good_pair(im, lb, 0);
  append_bytes(im, "\x01\x02\x03\x04\x05", 5);
  const char *text = "5 bytes of trailing data after the 12 bytes of pixel "
                     "data (the header declares 3 images of 2 × 2)";
  assert_idx_message(im, lb, 0, message(im, text));
  assert_shape_message(im, message(im, text));
  write_good_pair(im, lb, 0);
  append_bytes(lb, "\x01", 1);
  assert_idx_message(
      im, lb, 0,
      message(lb, "1 byte of trailing data after the 3 bytes of label data"));
}

/* 1,000,000 images of 28 × 28 claimed by a 28-byte file: its size refutes
 * the header before 3 GB of floats are asked for (with memory capped,
 * asking would end the test in mdl_alloc). */
Test(idx, rejects_oversized_header_before_allocating) {
  const char *im = idx_path("huge");
  idx_blob b = image_blob(0x00000803, 1000000, 28, 28);
  write_blob(im, &b, b.len, 0);
  scratch_limit_memory(64 << 20);
  const char *text = "truncated: expected 784000000 bytes of pixel data, "
                     "found 12 (the header declares 1000000 images of 28 × "
                     "28)";
  assert_shape_message(im, message(im, text));
  assert_idx_message(im, NULL, 0, message(im, text));
}

/* The reader holds pixels as 4-byte floats: 12 M images of 28 × 28 are
 * 9.4 GB of bytes but 37.6 GB in memory, past the plausible. */
Test(idx, plausibility_counts_floats) {
  const char *im = idx_path("mnist-times-200");
  idx_blob b = image_blob(0x00000803, 12000000, 28, 28);
  write_blob(im, &b, b.len, 0);
  assert_shape_message(im, message(im, "implausible IDX dimensions 12000000 "
                                       "× 28 × 28: 37.6 GB as floats "
                                       "(corrupt header?)"));
}

/* A gzip stream's length is known only by inflating it: what a header
 * claims must not be allocated before the data arrives. */
Test(idx, gzip_with_oversized_header_allocates_only_what_arrives) {
  const char *im = idx_path("huge-images.gz"), *lb = idx_path("huge-labels.gz");
  idx_blob b = image_blob(0x00000803, 2000000000, 1, 1);
  write_blob(im, &b, b.len, 1);
  idx_blob l = label_blob(2000000000, labels, 3);
  write_blob(lb, &l, l.len, 1);
  scratch_limit_memory(64 << 20);
  assert_idx_message(
      im, NULL, 0,
      message(im, "truncated: expected 2000000000 bytes of pixel data, found "
                  "12 (the header declares 2000000000 images of 1 × 1)"));
  assert_idx_message(im, lb, 0,
                     message(lb, "truncated: expected 2000000000 bytes of "
                                 "label data, found 3"));
}

Test(idx, rejects_trailing_garbage_after_gzip_stream) {
  const char *im = idx_path("images.gz"), *lb = idx_path("labels.gz");
  write_good_pair(im, lb, 1);
  append_bytes(im, "garbage", 7);
  const char *text = "7 bytes of trailing data after the gzip stream";
  assert_idx_message(im, lb, 0, message(im, text));
  assert_shape_message(im, message(im, text));
  /* Also when the program takes fewer cases than the file holds. */
  assert_idx_message(im, lb, 1, message(im, text));
  write_good_pair(im, lb, 1);
  append_bytes(lb, "\n", 1);
  assert_idx_message(
      im, lb, 0, message(lb, "1 byte of trailing data after the gzip stream"));
}

/* gzread would join a second member on; mdl reads files of one. */
Test(idx, rejects_second_gzip_member) {
  const char *im = idx_path("images.gz"), *lb = idx_path("labels.gz");
  write_good_pair(im, lb, 1);
  gzFile f = gzopen(im, "ab"); /* appends a member of its own */
  cr_assert(f != NULL);
  cr_assert_eq(gzwrite(f, pixels, 4), 4);
  gzclose(f);
  mdl_dataset ds;
  mdl_error err = {""};
  cr_assert_eq(mdl_data_idx(&ds, im, lb, 0, 0, &err), -1);
  cr_assert(strstr(err.message, "bytes of trailing data after the gzip "
                                "stream (a second gzip member; mdl reads "
                                "files of one)"),
            "%s", err.message);
  cr_assert(strncmp(err.message, im, strlen(im)) == 0, "%s", err.message);
}

/* A stream that holds more than its header declares runs long. */
Test(idx, rejects_gzip_stream_longer_than_its_header) {
  const char *im = idx_path("images.gz");
  idx_blob b = image_blob(0x00000803, 2, 2, 2); /* and 3 images of data */
  write_blob(im, &b, b.len, 1);
  const char *text = "trailing data after the 8 bytes of pixel data (the "
                     "header declares 2 images of 2 × 2)";
  assert_idx_message(im, NULL, 0, message(im, text));
  assert_shape_message(im, message(im, text));
}

/* All the data, but not the stream's end: its trailer (CRC-32 and length)
 * is cut off, so the data cannot be trusted. */
Test(idx, rejects_gzip_stream_that_ends_early) {
  const char *im = idx_path("images.gz");
  idx_blob b = image_blob(0x00000803, 3, 2, 2);
  write_blob(im, &b, b.len, 1);
  struct stat st;
  cr_assert_eq(stat(im, &st), 0);
  cr_assert_eq(truncate(im, st.st_size - 8), 0);
  const char *text = "truncated: the gzip stream ends early (its data is "
                     "whole, its trailer is missing)";
  assert_idx_message(im, NULL, 0, message(im, text));
  assert_shape_message(im, message(im, text));
}

/* A gzip file larger than one chunk: the buffer grows as data arrives, and
 * every pixel lands where it belongs, also when only some cases are kept. */
Test(idx, reads_gzip_larger_than_a_chunk) {
  enum { N = 300, SIDE = 28, PIXELS = N * SIDE * SIDE };
  unsigned char *file = malloc(16 + PIXELS);
  unsigned char header[16] = {0, 0, 8, 3,    0, 0, N >> 8, N & 0xff,
                              0, 0, 0, SIDE, 0, 0, 0,      SIDE};
  memcpy(file, header, 16);
  for (int i = 0; i < PIXELS; i++)
    file[16 + i] = (unsigned char)(i * 7 % 251);
  const char *im = idx_path("large.gz");
  gzFile f = gzopen(im, "wb");
  cr_assert(f != NULL);
  cr_assert_eq(gzwrite(f, file, 16 + PIXELS), 16 + PIXELS);
  gzclose(f);
  for (int cases = 0; cases <= 100; cases += 100) {
    mdl_dataset ds;
    mdl_error err = {""};
    cr_assert_eq(mdl_data_idx(&ds, im, NULL, 0, cases, &err), 0, "%s",
                 err.message);
    cr_assert_eq(ds.n_cases, cases ? cases : N);
    for (int i = 0; i < ds.n_cases * SIDE * SIDE; i++)
      cr_assert_eq(ds.inputs[i], (float)(i * 7 % 251) / 255.0f, "pixel %d", i);
    mdl_data_free(&ds);
  }
  free(file);
}
