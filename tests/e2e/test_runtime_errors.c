/* test_runtime_errors.c — a generated program given bad data files stops
 * with exit status 1 and one clear line naming the cause and the file, never
 * a crash: missing files, IDX files that are truncated, gzip-truncated or
 * corrupt, of the wrong magic, with mismatched counts or labels out of range,
 * with bytes after their data or after their gzip stream, and .npy files of
 * the wrong width for the net, with NaN or Inf, truncated, with bytes after
 * their data, with a shape their size refutes, or not .npy.
 *
 * Two programs (one reading IDX images and labels, one .npy inputs and
 * targets, both by relative paths) are compiled once and shared; each test
 * writes its files into a directory of its own and runs the program there. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "e2e.h"

static const char *const idx_program =
    "# idx_prog.mdl — a softmax classifier of 4 x 4 IDX images\n"
    "data digits = idx(images \"images.idx\", labels \"labels.idx\", "
    "classes 3)\n"
    "net clf : feedforward { input 16; layer sigmoid 4; output softmax 3 }\n"
    "train clf on digits with sgd { batch 5; steps 2; epsilon 0.1 }\n";

static const char *const npy_program =
    "# npy_prog.mdl — a 6-3-2 regression net on .npy inputs and targets\n"
    "data pairs = npy(inputs \"x.npy\", targets \"y.npy\")\n"
    "net fit : feedforward { input 6; layer tanh 3; output linear 2 }\n"
    "train fit on pairs with sgd { batch 5; steps 2; epsilon 0.01 }\n";

/* Compiles a program once per run of the test binary, under a lock, for all
 * the tests that use it (the stamp holds the test runner's pid). */
typedef struct {
  const char *name, *text;
} program_source;

static int build_program(const char *dir, void *source) {
  const program_source *p = source;
  return e2e_compile(dir, p->name, "", p->text) ? 0 : -1;
}

/* Each program is compiled once per run of the tests (see e2e_once). */
static const char *shared_program(const char *name, const char *text) {
  char shared[128];
  snprintf(shared, sizeof shared, "errors_shared_%s", name);
  program_source source = {name, text};
  const char *dir = e2e_once(shared, build_program, &source);
  cr_assert_not_null(dir, "mdlc failed on %s.mdl", name);
  return e2e_join(dir, name);
}

/* ---- Writing data files -------------------------------------------------- */

static void put_u32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

/* An IDX images file of n 4 x 4 images, its header declaring declared_n, of
 * which only the first `bytes` bytes are written (all when bytes < 0). */
static void write_idx_images(const char *path, uint32_t magic,
                             uint32_t declared_n, int n, long bytes) {
  size_t size = 16 + (size_t)n * 16;
  unsigned char *buffer = malloc(size);
  put_u32(buffer, magic);
  put_u32(buffer + 4, declared_n);
  put_u32(buffer + 8, 4);
  put_u32(buffer + 12, 4);
  for (size_t i = 16; i < size; i++)
    buffer[i] = (unsigned char)(i * 37 % 256);
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f);
  fwrite(buffer, 1, bytes < 0 ? size : (size_t)bytes, f);
  fclose(f);
  free(buffer);
}

/* An IDX labels file of n labels 0, 1, 2, 0, ... with label `bad` at 3
 * (unless bad < 0). */
static void write_idx_labels(const char *path, int n, int bad) {
  unsigned char header[8];
  put_u32(header, 0x00000801);
  put_u32(header + 4, (uint32_t)n);
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f);
  fwrite(header, 1, 8, f);
  for (int i = 0; i < n; i++)
    fputc(i == 3 && bad >= 0 ? bad : i % 3, f);
  fclose(f);
}

/* Appends n bytes to the file at path. */
static void append_bytes(const char *path, const void *bytes, size_t n) {
  FILE *f = fopen(path, "ab");
  cr_assert_not_null(f);
  cr_assert_eq(fwrite(bytes, 1, n, f), n);
  fclose(f);
}

/* Compresses a file in place with gzip (zlib), keeping `keep` bytes of the
 * compressed stream (all when keep < 0). */
static void gzip_in_place(const char *path, long keep) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f);
  static unsigned char plain[1 << 16];
  size_t n = fread(plain, 1, sizeof plain, f);
  fclose(f);
  char *gz_path = malloc(strlen(path) + 4);
  sprintf(gz_path, "%s.gz", path);
  gzFile gz = gzopen(gz_path, "wb");
  cr_assert_not_null(gz);
  gzwrite(gz, plain, (unsigned)n);
  gzclose(gz);
  if (keep >= 0)
    cr_assert_eq(truncate(gz_path, keep), 0);
  cr_assert_eq(rename(gz_path, path), 0);
  free(gz_path);
}

/* An n × cols float64 matrix, smooth values, with `poison` at row 3
 * column 1 unless poison is 0. */
static void write_matrix(const char *path, long n, long cols, double poison) {
  double *values = malloc(sizeof(double) * (size_t)(n * cols));
  for (long i = 0; i < n * cols; i++)
    values[i] = sin(0.37 * (double)i);
  if (poison != 0)
    values[3 * cols + 1] = poison;
  e2e_write_f64(path, values, n, cols);
  free(values);
}

/* ---- Checking the outcome ------------------------------------------------ */

/* Runs the program in dir: it must exit 1 (not by a signal) with a single
 * line "NAME: error: ..." that contains every fragment. */
static void expect_data_error(const char *exe, const char *dir,
                              const char *fragment, const char *fragment2) {
  const char *name = strrchr(exe, '/') + 1;
  e2e_result r = e2e_run("cd '%s' && '%s' --steps 2", dir, exe);
  cr_expect_neq(r.status, -1, "the program was killed by a signal:\n%s",
                r.output);
  cr_expect_eq(r.status, 1, "exit status %d:\n%s", r.status, r.output);
  char prefix[128];
  snprintf(prefix, sizeof prefix, "%s: error: ", name);
  cr_expect(strncmp(r.output, prefix, strlen(prefix)) == 0,
            "the message should start with '%s':\n%s", prefix, r.output);
  size_t length = strlen(r.output);
  cr_expect(length > 0 && r.output[length - 1] == '\n' &&
                strchr(r.output, '\n') == r.output + length - 1,
            "the message should be one line:\n%s", r.output);
  cr_expect(strstr(r.output, fragment), "should say \"%s\":\n%s", fragment,
            r.output);
  if (fragment2)
    cr_expect(strstr(r.output, fragment2), "should say \"%s\":\n%s", fragment2,
              r.output);
  free(r.output);
}

static void expect_success(const char *exe, const char *dir) {
  e2e_result r = e2e_run("cd '%s' && '%s' --steps 2", dir, exe);
  cr_expect_eq(r.status, 0, "good data, yet exit status %d:\n%s", r.status,
               r.output);
  cr_expect(strstr(r.output, "# done: 2 updates"), "%s", r.output);
  free(r.output);
}

/* ---- IDX ------------------------------------------------------------------
 */

static const char *idx_exe(void) {
  return shared_program("idx_prog", idx_program);
}

Test(runtime_errors, idx_good_data_plain_and_gzip) {
  const char *exe = idx_exe();
  const char *dir = e2e_fresh_dir("errors_idx_good");
  write_idx_images(e2e_join(dir, "images.idx"), 0x00000803, 20, 20, -1);
  write_idx_labels(e2e_join(dir, "labels.idx"), 20, -1);
  expect_success(exe, dir);
  gzip_in_place(e2e_join(dir, "images.idx"), -1);
  gzip_in_place(e2e_join(dir, "labels.idx"), -1);
  expect_success(exe, dir);
}

Test(runtime_errors, idx_missing_file) {
  const char *exe = idx_exe();
  const char *dir = e2e_fresh_dir("errors_idx_missing");
  remove(e2e_join(dir, "images.idx"));
  write_idx_labels(e2e_join(dir, "labels.idx"), 20, -1);
  expect_data_error(exe, dir, "cannot open images.idx", NULL);
  write_idx_images(e2e_join(dir, "images.idx"), 0x00000803, 20, 20, -1);
  remove(e2e_join(dir, "labels.idx"));
  expect_data_error(exe, dir, "cannot open labels.idx", NULL);
}

Test(runtime_errors, idx_wrong_magic) {
  const char *exe = idx_exe();
  const char *dir = e2e_fresh_dir("errors_idx_magic");
  write_idx_images(e2e_join(dir, "images.idx"), 0x00000804, 20, 20, -1);
  write_idx_labels(e2e_join(dir, "labels.idx"), 20, -1);
  expect_data_error(exe, dir, "images.idx", "magic 0x00000804");
  /* The labels given as images. */
  write_idx_labels(e2e_join(dir, "images.idx"), 20, -1);
  expect_data_error(exe, dir, "images.idx", "magic 0x00000801");
}

Test(runtime_errors, idx_truncated) {
  const char *exe = idx_exe();
  const char *dir = e2e_fresh_dir("errors_idx_truncated");
  write_idx_labels(e2e_join(dir, "labels.idx"), 20, -1);
  /* The header promises 20 images; the body holds 5 and a half. */
  write_idx_images(e2e_join(dir, "images.idx"), 0x00000803, 20, 20,
                   16 + 5 * 16 + 8);
  expect_data_error(exe, dir, "images.idx", NULL);
  /* A header cut short. */
  write_idx_images(e2e_join(dir, "images.idx"), 0x00000803, 20, 20, 10);
  expect_data_error(exe, dir, "images.idx", NULL);
  /* An empty file. */
  write_idx_images(e2e_join(dir, "images.idx"), 0x00000803, 20, 20, 0);
  expect_data_error(exe, dir, "images.idx", NULL);
}

Test(runtime_errors, idx_truncated_gzip) {
  const char *exe = idx_exe();
  const char *dir = e2e_fresh_dir("errors_idx_gzip");
  write_idx_labels(e2e_join(dir, "labels.idx"), 20, -1);
  write_idx_images(e2e_join(dir, "images.idx"), 0x00000803, 20, 20, -1);
  gzip_in_place(e2e_join(dir, "images.idx"), 60);
  expect_data_error(exe, dir, "images.idx", NULL);
  /* Whole, but with a wrong CRC-32 in the gzip trailer. */
  write_idx_images(e2e_join(dir, "images.idx"), 0x00000803, 20, 20, -1);
  gzip_in_place(e2e_join(dir, "images.idx"), -1);
  FILE *f = fopen(e2e_join(dir, "images.idx"), "r+b");
  cr_assert_not_null(f);
  cr_assert_eq(fseek(f, -8, SEEK_END), 0);
  int byte = fgetc(f);
  cr_assert_eq(fseek(f, -8, SEEK_END), 0);
  fputc(byte ^ 0xff, f);
  fclose(f);
  expect_data_error(exe, dir, "images.idx", NULL);
}

Test(runtime_errors, idx_trailing_data) {
  const char *exe = idx_exe();
  const char *dir = e2e_fresh_dir("errors_idx_trailing");
  write_idx_images(e2e_join(dir, "images.idx"), 0x00000803, 20, 20, -1);
  write_idx_labels(e2e_join(dir, "labels.idx"), 20, -1);
  append_bytes(e2e_join(dir, "images.idx"), "\0\0\0", 3);
  expect_data_error(exe, dir,
                    "images.idx: 3 bytes of trailing data after the 320 "
                    "bytes of pixel data",
                    NULL);
  write_idx_images(e2e_join(dir, "images.idx"), 0x00000803, 20, 20, -1);
  append_bytes(e2e_join(dir, "labels.idx"), "\0", 1);
  expect_data_error(exe, dir,
                    "labels.idx: 1 byte of trailing data after the 20 bytes "
                    "of label data",
                    NULL);
}

Test(runtime_errors, idx_gzip_trailing_data_and_cut_trailer) {
  const char *exe = idx_exe();
  const char *dir = e2e_fresh_dir("errors_idx_gzip_trailing");
  const char *images = e2e_join(dir, "images.idx");
  write_idx_labels(e2e_join(dir, "labels.idx"), 20, -1);
  write_idx_images(images, 0x00000803, 20, 20, -1);
  gzip_in_place(images, -1);
  append_bytes(images, "junk", 4);
  expect_data_error(
      exe, dir, "images.idx: 4 bytes of trailing data after the gzip stream",
      NULL);
  /* A second gzip member after the first. */
  write_idx_images(images, 0x00000803, 20, 20, -1);
  gzip_in_place(images, -1);
  gzFile gz = gzopen(images, "ab");
  cr_assert_not_null(gz);
  gzwrite(gz, "more", 4);
  gzclose(gz);
  expect_data_error(exe, dir, "images.idx: ",
                    "(a second gzip member; mdl reads files "
                    "of one)");
  /* A stream whose data is whole but whose trailer is cut off. */
  write_idx_images(images, 0x00000803, 20, 20, -1);
  gzip_in_place(images, -1);
  struct stat st;
  cr_assert_eq(stat(images, &st), 0);
  cr_assert_eq(truncate(images, st.st_size - 8), 0);
  expect_data_error(exe, dir,
                    "images.idx: truncated: the gzip stream ends early", NULL);
}

/* Images 5 x 5 for a net of 16 inputs: the file is named. */
Test(runtime_errors, idx_wrong_width) {
  const char *exe = idx_exe();
  const char *dir = e2e_fresh_dir("errors_idx_width");
  unsigned char header[16];
  put_u32(header, 0x00000803);
  put_u32(header + 4, 20);
  put_u32(header + 8, 5);
  put_u32(header + 12, 5);
  FILE *f = fopen(e2e_join(dir, "images.idx"), "wb");
  cr_assert_not_null(f);
  fwrite(header, 1, sizeof header, f);
  for (int i = 0; i < 20 * 25; i++)
    fputc(i % 256, f);
  fclose(f);
  write_idx_labels(e2e_join(dir, "labels.idx"), 20, -1);
  expect_data_error(exe, dir, "images.idx: 25 values per case",
                    "but the network's input has 16 units");
}

Test(runtime_errors, idx_counts_and_labels) {
  const char *exe = idx_exe();
  const char *dir = e2e_fresh_dir("errors_idx_labels");
  write_idx_images(e2e_join(dir, "images.idx"), 0x00000803, 20, 20, -1);
  write_idx_labels(e2e_join(dir, "labels.idx"), 19, -1);
  expect_data_error(exe, dir, "labels.idx", "19");
  /* Label 7 with classes 3. */
  write_idx_labels(e2e_join(dir, "labels.idx"), 20, 7);
  expect_data_error(exe, dir, "labels.idx", "7");
}

/* ---- .npy -----------------------------------------------------------------
 */

static const char *npy_exe(void) {
  return shared_program("npy_prog", npy_program);
}

Test(runtime_errors, npy_good_data) {
  const char *exe = npy_exe();
  const char *dir = e2e_fresh_dir("errors_npy_good");
  write_matrix(e2e_join(dir, "x.npy"), 20, 6, 0);
  write_matrix(e2e_join(dir, "y.npy"), 20, 2, 0);
  expect_success(exe, dir);
}

Test(runtime_errors, npy_missing_file) {
  const char *exe = npy_exe();
  const char *dir = e2e_fresh_dir("errors_npy_missing");
  remove(e2e_join(dir, "x.npy"));
  write_matrix(e2e_join(dir, "y.npy"), 20, 2, 0);
  expect_data_error(exe, dir, "cannot open x.npy", NULL);
  write_matrix(e2e_join(dir, "x.npy"), 20, 6, 0);
  remove(e2e_join(dir, "y.npy"));
  expect_data_error(exe, dir, "cannot open y.npy", NULL);
}

Test(runtime_errors, npy_wrong_width) {
  const char *exe = npy_exe();
  const char *dir = e2e_fresh_dir("errors_npy_width");
  write_matrix(e2e_join(dir, "x.npy"), 20, 5, 0);
  write_matrix(e2e_join(dir, "y.npy"), 20, 2, 0);
  expect_data_error(exe, dir, "x.npy: 5 values per case",
                    "the network's input has 6 units");
  write_matrix(e2e_join(dir, "x.npy"), 20, 6, 0);
  write_matrix(e2e_join(dir, "y.npy"), 20, 3, 0);
  expect_data_error(exe, dir, "y.npy: 3 target values per case",
                    "the network has 2 outputs");
}

Test(runtime_errors, npy_not_finite) {
  const char *exe = npy_exe();
  const char *dir = e2e_fresh_dir("errors_npy_nan");
  write_matrix(e2e_join(dir, "x.npy"), 20, 6, NAN);
  write_matrix(e2e_join(dir, "y.npy"), 20, 2, 0);
  expect_data_error(exe, dir, "x.npy: row 3 column 1 is not finite", NULL);
  write_matrix(e2e_join(dir, "x.npy"), 20, 6, 0);
  write_matrix(e2e_join(dir, "y.npy"), 20, 2, INFINITY);
  expect_data_error(exe, dir, "y.npy: row 3 column 1 is not finite", NULL);
}

Test(runtime_errors, npy_malformed) {
  const char *exe = npy_exe();
  const char *dir = e2e_fresh_dir("errors_npy_malformed");
  write_matrix(e2e_join(dir, "y.npy"), 20, 2, 0);
  e2e_write(dir, "x.npy", "x0,x1,x2,x3,x4,x5\n1,2,3,4,5,6\n");
  expect_data_error(exe, dir, "x.npy: not a .npy file", NULL);
  /* A body cut short. */
  write_matrix(e2e_join(dir, "x.npy"), 20, 6, 0);
  struct stat st;
  cr_assert_eq(stat(e2e_join(dir, "x.npy"), &st), 0);
  cr_assert_eq(truncate(e2e_join(dir, "x.npy"), st.st_size - 100), 0);
  expect_data_error(exe, dir, "x.npy", NULL);
}

/* A file whose size refutes its header: refused before the 24 TB it
 * claims are asked for, and bytes after the data. */
Test(runtime_errors, npy_size_against_header) {
  const char *exe = npy_exe();
  const char *dir = e2e_fresh_dir("errors_npy_size");
  write_matrix(e2e_join(dir, "y.npy"), 20, 2, 0);
  FILE *f = fopen(e2e_join(dir, "x.npy"), "wb");
  cr_assert_not_null(f);
  const char *dict = "{'descr': '<f8', 'fortran_order': False, 'shape': "
                     "(500000000000, 6), }";
  fputs("\x93NUMPY\x01", f);
  fputc(0, f);
  fputc(128 - 10, f);
  fputc(0, f);
  fprintf(f, "%-117s\n", dict);
  for (int i = 0; i < 72; i++) /* 9 doubles of the 3e12 declared */
    fputc(0, f);
  fclose(f);
  expect_data_error(exe, dir,
                    "x.npy: file is truncated: expected 24000000000000 bytes "
                    "of data, found 72",
                    "(shape (500000000000, 6) of '<f8')");
  write_matrix(e2e_join(dir, "x.npy"), 20, 6, 0);
  append_bytes(e2e_join(dir, "x.npy"), "\n", 1);
  expect_data_error(exe, dir, "x.npy: 1 byte of trailing data after the array",
                    "(shape (20, 6) of '<f8': 960 bytes)");
}

/* A header the file's size bears out (a 33.6 GB hole in a sparse file,
 * which takes no disk), for more than the program may allocate: the message
 * names the file, not only the bytes. */
Test(runtime_errors, npy_out_of_memory_names_the_file) {
#ifdef E2E_ASAN
  cr_skip_test("the program cannot start under ulimit -v with ASan");
#endif
  const char *exe = npy_exe();
  const char *dir = e2e_fresh_dir("errors_npy_memory");
  write_matrix(e2e_join(dir, "y.npy"), 20, 2, 0);
  const char *x = e2e_join(dir, "x.npy");
  FILE *f = fopen(x, "wb");
  cr_assert_not_null(f);
  const char *dict = "{'descr': '<f8', 'fortran_order': False, 'shape': "
                     "(700000000, 6), }";
  fputs("\x93NUMPY\x01", f);
  fputc(0, f);
  fputc(128 - 10, f);
  fputc(0, f);
  fprintf(f, "%-117s\n", dict);
  fclose(f);
  cr_assert_eq(truncate(x, 128 + 700000000L * 6 * 8), 0);
  e2e_result r =
      e2e_run("cd '%s' && ulimit -v 8388608 && '%s' --steps 2", dir, exe);
  cr_expect_eq(r.status, 1, "exit status %d:\n%s", r.status, r.output);
  cr_expect(strstr(r.output, "npy_prog: error: x.npy: out of memory (asked "
                             "for 33600000000 bytes for its data)\n"),
            "%s", r.output);
  free(r.output);
  remove(x);
}

Test(runtime_errors, npy_case_counts) {
  const char *exe = npy_exe();
  const char *dir = e2e_fresh_dir("errors_npy_cases");
  /* Targets for fewer cases than inputs. */
  write_matrix(e2e_join(dir, "x.npy"), 20, 6, 0);
  write_matrix(e2e_join(dir, "y.npy"), 19, 2, 0);
  expect_data_error(exe, dir, "y.npy", NULL);
  /* Fewer cases than a minibatch of 5. */
  write_matrix(e2e_join(dir, "x.npy"), 4, 6, 0);
  write_matrix(e2e_join(dir, "y.npy"), 4, 2, 0);
  expect_data_error(exe, dir, "x.npy: 4 cases, fewer than a minibatch (5)",
                    NULL);
}

/* Softmax outputs with cross-entropy assume targets that are probability
 * distributions (their deltas are y - t); others are refused at load. */
static const char *const softmax_npy_program =
    "# softmax_npy.mdl — softmax outputs on .npy targets\n"
    "data pairs = npy(inputs \"x.npy\", targets \"y.npy\")\n"
    "net clf : feedforward { input 6; output softmax 2 }\n"
    "train clf on pairs with sgd { batch 5; steps 2; epsilon 0.01 }\n";

Test(runtime_errors, softmax_targets_must_be_distributions) {
  const char *exe = shared_program("softmax_npy", softmax_npy_program);
  const char *dir = e2e_fresh_dir("errors_softmax_targets");
  write_matrix(e2e_join(dir, "x.npy"), 20, 6, 0);
  double y[20][2];
  for (int i = 0; i < 20; i++) {
    y[i][0] = i % 3 == 0 ? 0.25 : 1;
    y[i][1] = 1 - y[i][0];
  }
  e2e_write_f64(e2e_join(dir, "y.npy"), &y[0][0], 20, 2);
  expect_success(exe, dir);
  y[7][1] = 0.5; /* case 7 now sums to 1.5 */
  e2e_write_f64(e2e_join(dir, "y.npy"), &y[0][0], 20, 2);
  expect_data_error(exe, dir,
                    "y.npy: softmax outputs need targets that sum "
                    "to 1",
                    "those of case 7 sum to 1.5");
  y[7][0] = -0.5; /* and now has a negative entry */
  e2e_write_f64(e2e_join(dir, "y.npy"), &y[0][0], 20, 2);
  expect_data_error(exe, dir, "y.npy: softmax outputs need targets in [0, 1]",
                    "target 0 of case 7 is -0.5");
}

/* Sequences from .npy files whose rows hold another number of steps than
 * the program declares: the message names the file of inputs. */
static const char *const sequences_npy_program =
    "# seq_npy.mdl — an RNN on .npy sequences of 3 steps\n"
    "data seqs = npy(inputs \"x.npy\", targets \"y.npy\", length 3)\n"
    "net r : recurrent { input 1; hidden tanh 4; output linear 2 at last }\n"
    "train r on seqs with sgd { batch 5; steps 2; epsilon 0.01 }\n";

Test(runtime_errors, npy_sequences_of_another_length) {
  const char *exe = shared_program("seq_npy", sequences_npy_program);
  const char *dir = e2e_fresh_dir("errors_seq_npy");
  write_matrix(e2e_join(dir, "x.npy"), 20, 3, 0);
  write_matrix(e2e_join(dir, "y.npy"), 20, 2, 0);
  expect_success(exe, dir);
  write_matrix(e2e_join(dir, "x.npy"), 20, 6, 0);
  expect_data_error(exe, dir, "x.npy: the sequences have 1 input,",
                    "up to 6 steps, but the network has 1 input and 2 "
                    "outputs over 3 steps");
}
