/* test_npy.c — the .npy reader and writer (runtime/npy.c). Every test works
 * in its own temporary directory and writes its own fixture files. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mdl/npy.h"
#include "scratch.h"

static char npy_dir[64];

static void npy_setup(void) { scratch_make(npy_dir, "npy"); }

static void npy_teardown(void) { scratch_remove(npy_dir); }

static const char *npy_path(const char *name) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", npy_dir, name);
  return path;
}

/* Writes a .npy file by hand: the given header dict (padded to a multiple of
 * 64 bytes with the version's length field) and body bytes. */
static void write_raw_npy(const char *path, int major, const char *dict,
                          const void *body, size_t body_len) {
  size_t prefix = major == 1 ? 10 : 12;
  size_t total = (prefix + strlen(dict) + 1 + 63) / 64 * 64;
  size_t header_len = total - prefix;
  unsigned char pre[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', (unsigned char)major,
                           0};
  for (size_t k = 0; k < prefix - 8; k++)
    pre[8 + k] = (unsigned char)(header_len >> (8 * k));
  FILE *f = fopen(path, "wb");
  cr_assert(f != NULL);
  fwrite(pre, 1, prefix, f);
  fputs(dict, f);
  for (size_t k = prefix + strlen(dict); k < total - 1; k++)
    fputc(' ', f);
  fputc('\n', f);
  fwrite(body, 1, body_len, f);
  fclose(f);
}

static void assert_fails_with(const char *path, const char *phrase) {
  mdl_npy a;
  mdl_error err = {""};
  cr_assert_eq(mdl_npy_read(path, &a, &err), -1, "reading %s succeeded", path);
  cr_assert(strstr(err.message, phrase) != NULL, "message \"%s\" lacks \"%s\"",
            err.message, phrase);
  cr_assert_null(a.data, "a failed read left data allocated");
}

static void check_round_trip(mdl_dtype type, long rows, long cols) {
  long n = rows * (cols > 0 ? cols : 1);
  size_t size = mdl_dtype_size(type);
  unsigned char *data = malloc((size_t)n * size);
  for (long i = 0; i < n; i++)
    mdl_set(data, type, (size_t)i, 0.1 * (double)i - 3.0 + 1e-9 * (double)i);
  mdl_error err = {""};
  const char *path = npy_path("round.npy");
  cr_assert_eq(mdl_npy_write(path, data, type, rows, cols, &err), 0, "%s",
               err.message);
  mdl_npy a;
  cr_assert_eq(mdl_npy_read(path, &a, &err), 0, "%s", err.message);
  cr_assert_eq(a.kind, type == MDL_F32 ? MDL_NPY_F32 : MDL_NPY_F64);
  cr_assert_eq(a.ndim, cols > 0 ? 2 : 1);
  cr_assert_eq(a.rows, rows);
  cr_assert_eq(a.cols, cols > 0 ? cols : 1);
  cr_assert(memcmp(a.data, data, (size_t)n * size) == 0,
            "data changed in the round trip");
  mdl_npy_free(&a);
  free(data);
}

TestSuite(npy, .init = npy_setup, .fini = npy_teardown);

Test(npy, round_trip_f32_1d) { check_round_trip(MDL_F32, 7, 0); }
Test(npy, round_trip_f32_2d) { check_round_trip(MDL_F32, 3, 5); }
Test(npy, round_trip_f64_1d) { check_round_trip(MDL_F64, 9, 0); }
Test(npy, round_trip_f64_2d) { check_round_trip(MDL_F64, 4, 2); }

Test(npy, writer_aligns_data_to_64_bytes) {
  float v[3] = {1, 2, 3};
  mdl_error err;
  const char *path = npy_path("aligned.npy");
  cr_assert_eq(mdl_npy_write(path, v, MDL_F32, 3, 0, &err), 0);
  FILE *f = fopen(path, "rb");
  unsigned char buf[256];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  cr_assert(memcmp(buf, "\x93NUMPY\x01\x00", 8) == 0, "not a v1.0 magic");
  size_t data_start = 10 + (buf[8] | (size_t)buf[9] << 8);
  cr_assert_eq(data_start % 64, 0, "data starts at %zu", data_start);
  cr_assert_eq(buf[data_start - 1], '\n', "header not newline-terminated");
  cr_assert_eq(n, data_start + sizeof v, "file is %zu bytes", n);
  buf[data_start] = 0;
  cr_assert(strstr((char *)buf + 10, "'descr': '<f4'") != NULL);
  cr_assert(strstr((char *)buf + 10, "'shape': (3,)") != NULL);
  cr_assert(strstr((char *)buf + 10, "'fortran_order': False") != NULL);
}

Test(npy, reads_u8_matrix) {
  unsigned char body[6] = {0, 1, 2, 253, 254, 255};
  const char *path = npy_path("u8.npy");
  write_raw_npy(path, 1,
                "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }",
                body, sizeof body);
  mdl_npy a;
  mdl_error err = {""};
  cr_assert_eq(mdl_npy_read(path, &a, &err), 0, "%s", err.message);
  cr_assert_eq(a.kind, MDL_NPY_U8);
  cr_assert_eq(a.rows, 2);
  cr_assert_eq(a.cols, 3);
  cr_assert(memcmp(a.data, body, sizeof body) == 0);
  mdl_npy_free(&a);
}

Test(npy, reads_version_2_and_loose_header) {
  double body[4] = {1.5, -2.5, 3.25, 4};
  const char *path = npy_path("v2.npy");
  /* Double quotes, another key order, odd spacing, no trailing comma. */
  write_raw_npy(path, 2,
                "{\"shape\" :(2,2),\"fortran_order\":False ,  \"descr\": "
                "\"<f8\"}",
                body, sizeof body);
  mdl_npy a;
  mdl_error err = {""};
  cr_assert_eq(mdl_npy_read(path, &a, &err), 0, "%s", err.message);
  cr_assert_eq(a.kind, MDL_NPY_F64);
  cr_assert_eq(a.ndim, 2);
  cr_assert_eq(((double *)a.data)[2], 3.25);
  mdl_npy_free(&a);
}

Test(npy, rejects_missing_file) {
  assert_fails_with(npy_path("absent.npy"), "cannot open");
  assert_fails_with(npy_path("absent.npy"), "No such file");
}

Test(npy, rejects_bad_magic) {
  const char *path = npy_path("bad.npy");
  FILE *f = fopen(path, "wb");
  fputs("\x93NUMPX\x01\x00 this is not numpy at all\n", f);
  fclose(f);
  assert_fails_with(path, "bad magic");
}

Test(npy, rejects_fortran_order) {
  float body[4] = {0};
  const char *path = npy_path("fortran.npy");
  write_raw_npy(path, 1,
                "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
                body, sizeof body);
  assert_fails_with(path, "Fortran order");
}

Test(npy, rejects_int64) {
  long long body[2] = {1, 2};
  const char *path = npy_path("i8.npy");
  write_raw_npy(path, 1,
                "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                body, sizeof body);
  assert_fails_with(path, "unsupported .npy dtype '<i8'");
}

Test(npy, rejects_big_endian_float) {
  float body[2] = {1, 2};
  const char *path = npy_path("be.npy");
  write_raw_npy(path, 1,
                "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
                body, sizeof body);
  assert_fails_with(path, "unsupported .npy dtype '>f4'");
}

Test(npy, rejects_3d) {
  float body[8] = {0};
  const char *path = npy_path("3d.npy");
  write_raw_npy(
      path, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2), }",
      body, sizeof body);
  assert_fails_with(path, "3 dimensions");
}

Test(npy, rejects_truncated_data) {
  float body[5] = {0};
  const char *path = npy_path("short.npy");
  write_raw_npy(path, 1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }",
                body, sizeof body);
  assert_fails_with(path,
                    "file is truncated: expected 48 bytes of data, found 20");
}

Test(npy, rejects_malformed_header) {
  float body[2] = {0};
  const char *path = npy_path("malformed.npy");
  write_raw_npy(path, 1, "{'descr': '<f4', 'shape': (2,), }", body,
                sizeof body);
  assert_fails_with(path, "lacks 'fortran_order'");
  write_raw_npy(path, 1, "{'descr': '<f4' 'fortran_order': False}", body,
                sizeof body);
  assert_fails_with(path, "malformed");
}

Test(npy, load_vector_converts_and_checks_length) {
  double v[4] = {0.5, -1, 2, 1e-3};
  mdl_error err = {""};
  const char *path = npy_path("vec.npy");
  cr_assert_eq(mdl_npy_write(path, v, MDL_F64, 4, 0, &err), 0);
  float got[4];
  cr_assert_eq(mdl_npy_load_vector(path, got, MDL_F32, 4, &err), 0, "%s",
               err.message);
  for (int i = 0; i < 4; i++)
    cr_assert_eq(got[i], (float)v[i], "element %d", i);
  cr_assert_eq(mdl_npy_load_vector(path, got, MDL_F32, 3, &err), -1);
  cr_assert(strstr(err.message, "expected 3 elements, found 4") != NULL, "%s",
            err.message);
  cr_assert_eq(mdl_npy_write(path, v, MDL_F64, 2, 2, &err), 0);
  cr_assert_eq(mdl_npy_load_vector(path, got, MDL_F32, 4, &err), -1);
  cr_assert(strstr(err.message, "1-D") != NULL, "%s", err.message);
}

Test(npy, load_vector_rejects_nan) {
  float v[3] = {1, NAN, 2};
  mdl_error err = {""};
  const char *path = npy_path("nan.npy");
  cr_assert_eq(mdl_npy_write(path, v, MDL_F32, 3, 0, &err), 0);
  double got[3];
  cr_assert_eq(mdl_npy_load_vector(path, got, MDL_F64, 3, &err), -1);
  cr_assert(strstr(err.message, "element 1 is not finite") != NULL, "%s",
            err.message);
}

Test(npy, write_to_missing_directory_fails) {
  float v[1] = {1};
  mdl_error err = {""};
  cr_assert_eq(
      mdl_npy_write(npy_path("no/such/dir.npy"), v, MDL_F32, 1, 0, &err), -1);
  cr_assert(strstr(err.message, "cannot open") != NULL, "%s", err.message);
}

/* ------------------------------------------- sizes against the header */

/* Expects both the reader and the header-only reader (mdlc's) to refuse
 * path with exactly the message `want`. */
static void assert_both_fail_with(const char *path, const char *want) {
  mdl_npy a;
  mdl_error err = {""};
  cr_assert_eq(mdl_npy_read_shape(path, &a, &err), -1,
               "reading the shape of %s succeeded", path);
  cr_assert_str_eq(err.message, want);
  cr_assert_eq(mdl_npy_read(path, &a, &err), -1, "reading %s succeeded", path);
  cr_assert_str_eq(err.message, want);
  cr_assert_null(a.data, "a failed read left data allocated");
}

/* The hostile file of issue 14: 40 bytes of data under a header that claims
 * (10^12, 5) floats. The file's size refutes it before the 20 TB are asked
 * for; with memory capped, asking would end the test in mdl_alloc. */
Test(npy, rejects_oversized_shape_before_allocating) {
  float body[10] = {0};
  char path[512];
  snprintf(path, sizeof path, "%s", npy_path("huge.npy"));
  write_raw_npy(path, 1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': "
                "(1000000000000, 5), }",
                body, sizeof body);
  scratch_limit_memory(64 << 20);
  char want[640];
  snprintf(want, sizeof want,
           "%s: file is truncated: expected 20000000000000 bytes of data, "
           "found 40 (shape (1000000000000, 5) of '<f4')",
           path);
  assert_both_fail_with(path, want);
}

Test(npy, rejects_trailing_bytes) {
  float body[5] = {1, 2, 3, 4, 5};
  char path[512], want[640];
  snprintf(path, sizeof path, "%s", npy_path("long.npy"));
  write_raw_npy(path, 1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
                body, sizeof body);
  snprintf(want, sizeof want,
           "%s: 4 bytes of trailing data after the array (shape (2, 2) of "
           "'<f4': 16 bytes)",
           path);
  assert_both_fail_with(path, want);
  unsigned char bytes[5] = {1, 2, 3, 4, 5};
  write_raw_npy(path, 1,
                "{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }",
                bytes, sizeof bytes);
  snprintf(want, sizeof want,
           "%s: 1 byte of trailing data after the array (shape (4,) of "
           "'|u1': 4 bytes)",
           path);
  assert_both_fail_with(path, want);
}

/* Copies the file at `from` into a FIFO at `fifo` from a child process, so
 * that the reader meets a file with no size to ask; returns the child. */
static pid_t serve_through_fifo(const char *from, const char *fifo) {
  cr_assert_eq(mkfifo(fifo, 0600), 0, "mkfifo %s failed", fifo);
  pid_t child = fork();
  cr_assert_neq(child, -1, "fork failed");
  if (child == 0) {
    FILE *in = fopen(from, "rb"), *out = fopen(fifo, "wb");
    char buffer[4096];
    size_t n;
    while (in && out && (n = fread(buffer, 1, sizeof buffer, in)) > 0 &&
           fwrite(buffer, 1, n, out) == n)
      ;
    if (out)
      fclose(out); /* _exit would not flush it */
    _exit(0);      /* a reader that stops early ends this with SIGPIPE */
  }
  return child;
}

/* Reads `file` through a FIFO; returns mdl_npy_read's result. */
static int read_through_fifo(const char *file, mdl_npy *a, mdl_error *err) {
  char fifo[512];
  snprintf(fifo, sizeof fifo, "%s/pipe", npy_dir);
  unlink(fifo);
  pid_t child = serve_through_fifo(file, fifo);
  int rc = mdl_npy_read(fifo, a, err);
  waitpid(child, NULL, 0);
  return rc;
}

/* From a pipe the body is read into a buffer that grows as data comes
 * (here past its first megabyte), and must be whole. */
Test(npy, reads_through_a_pipe) {
  enum { N = 600000 };
  float *values = malloc(N * sizeof *values);
  for (long i = 0; i < N; i++)
    values[i] = (float)i * 0.5f;
  mdl_error err = {""};
  char path[512];
  snprintf(path, sizeof path, "%s", npy_path("big.npy"));
  cr_assert_eq(mdl_npy_write(path, values, MDL_F32, N, 0, &err), 0);
  mdl_npy a;
  cr_assert_eq(read_through_fifo(path, &a, &err), 0, "%s", err.message);
  cr_assert_eq(a.rows, N);
  cr_assert(memcmp(a.data, values, N * sizeof *values) == 0,
            "the data changed on its way through the pipe");
  mdl_npy_free(&a);
  free(values);
}

Test(npy, rejects_trailing_and_missing_bytes_from_a_pipe) {
  float body[5] = {1, 2, 3, 4, 5};
  char path[512], want[640];
  snprintf(path, sizeof path, "%s", npy_path("piped.npy"));
  write_raw_npy(path, 1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
                body, sizeof body);
  mdl_npy a;
  mdl_error err = {""};
  cr_assert_eq(read_through_fifo(path, &a, &err), -1, "read 5 floats as 4");
  snprintf(want, sizeof want,
           "%s/pipe: trailing data after the array (shape (2, 2) of '<f4': "
           "16 bytes)",
           npy_dir);
  cr_assert_str_eq(err.message, want);
  cr_assert_null(a.data);
  write_raw_npy(path, 1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }",
                body, sizeof body);
  cr_assert_eq(read_through_fifo(path, &a, &err), -1, "read 5 floats as 12");
  snprintf(want, sizeof want,
           "%s/pipe: file is truncated: expected 48 bytes of data, found 20 "
           "(shape (3, 4) of '<f4')",
           npy_dir);
  cr_assert_str_eq(err.message, want);
}

/* A pipe has no size to check the header against, so the reader must not
 * take the header's word for what to allocate either. */
Test(npy, pipe_with_oversized_shape_allocates_only_what_arrives) {
  float body[10] = {0};
  char path[512], want[640];
  snprintf(path, sizeof path, "%s", npy_path("huge.npy"));
  write_raw_npy(path, 1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': "
                "(1000000000000, 5), }",
                body, sizeof body);
  scratch_limit_memory(64 << 20);
  mdl_npy a;
  mdl_error err = {""};
  cr_assert_eq(read_through_fifo(path, &a, &err), -1);
  snprintf(want, sizeof want,
           "%s/pipe: file is truncated: expected 20000000000000 bytes of "
           "data, found 40 (shape (1000000000000, 5) of '<f4')",
           npy_dir);
  cr_assert_str_eq(err.message, want);
}

/* A header the file's size bears out, for more than memory allows: the
 * message names the file rather than only the number of bytes. The 2 GiB
 * body is a hole in a sparse file, which takes no disk. */
Test(npy, out_of_memory_names_the_file) {
  char path[512], want[640];
  snprintf(path, sizeof path, "%s", npy_path("sparse.npy"));
  write_raw_npy(path, 1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': "
                "(536870912,), }",
                "", 0);
  struct stat st;
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_eq(truncate(path, st.st_size + (1L << 31)), 0);
  scratch_limit_memory(256 << 20);
  mdl_npy a;
  mdl_error err = {""};
  cr_assert_eq(mdl_npy_read(path, &a, &err), -1);
  snprintf(want, sizeof want,
           "%s: out of memory (asked for 2147483648 bytes for its data)", path);
  cr_assert_str_eq(err.message, want);
  cr_assert_null(a.data);
}

/* An existing file is replaced whole, by rename (a new inode, nothing left
 * beside it); a device such as /dev/null is written in place, never
 * replaced by a file. */
Test(npy, writes_are_renamed_into_place) {
  const double v[3] = {1, 2, 3};
  mdl_error err;
  const char *path = npy_path("params.npy");
  cr_assert_eq(mdl_npy_write(path, v, MDL_F64, 3, 0, &err), 0, "%s",
               err.message);
  struct stat before, after;
  cr_assert_eq(stat(path, &before), 0);
  cr_assert_eq(mdl_npy_write(path, v, MDL_F64, 2, 0, &err), 0, "%s",
               err.message);
  cr_assert_eq(stat(path, &after), 0);
  cr_expect_neq(before.st_ino, after.st_ino, "written in place");
  mdl_npy a;
  cr_assert_eq(mdl_npy_read(path, &a, &err), 0, "%s", err.message);
  cr_expect_eq(a.rows, 2);
  mdl_npy_free(&a);
  int entries = 0;
  DIR *dir = opendir(npy_dir);
  for (struct dirent *d; (d = readdir(dir));)
    entries += d->d_name[0] != '.';
  closedir(dir);
  cr_expect_eq(entries, 1, "a temporary file was left beside params.npy");
  cr_assert_eq(mdl_npy_write("/dev/null", v, MDL_F64, 3, 0, &err), 0, "%s",
               err.message);
  cr_assert_eq(stat("/dev/null", &after), 0);
  cr_expect(S_ISCHR(after.st_mode), "/dev/null was replaced");
}
