/* test_data_shapes.c — mdlc reads the headers of the data files it can
 * find and rejects a program whose net does not fit them, before any C is
 * written; files it cannot find are left to the program, which opens them
 * when it runs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "e2e.h"

/* A 2 × 2-pixel IDX image file of n images. */
static void write_idx_images(const char *path, int n) {
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f);
  unsigned char header[16] = {0, 0, 8, 3, 0, 0, 0, (unsigned char)n,
                              0, 0, 0, 2, 0, 0, 0, 2};
  fwrite(header, 1, sizeof header, f);
  for (int i = 0; i < 4 * n; i++)
    fputc(i * 7 % 256, f);
  fclose(f);
}

/* Runs mdlc on the program in dir; returns its output, status in *status. */
static char *compile_in(const char *dir, const char *program, int *status) {
  e2e_write(dir, "prog.mdl", program);
  e2e_result r = e2e_run("cd %s && %s prog.mdl -o prog", dir, MDLC);
  *status = r.status;
  return r.output;
}

static void setup_files(const char *dir) {
  double x[30 * 3], y[30 * 2];
  for (int i = 0; i < 30 * 3; i++)
    x[i] = i % 5 * 0.1;
  for (int i = 0; i < 30 * 2; i++)
    y[i] = i % 3 * 0.2;
  e2e_write_f64(e2e_join(dir, "x.npy"), x, 30, 3);
  e2e_write_f64(e2e_join(dir, "y.npy"), y, 30, 2);
  write_idx_images(e2e_join(dir, "images.idx"), 12);
}

Test(data_shapes, npy_widths_counts_and_batch) {
  const char *dir = e2e_fresh_dir("shapes_npy");
  setup_files(dir);
  int status;
  char *out = compile_in(dir,
                         "data d = npy(inputs \"x.npy\", targets \"y.npy\")\n"
                         "net f : feedforward { input 3; output linear 2 }\n"
                         "train f on d with sgd { batch 10; epsilon 0.1 }\n",
                         &status);
  cr_expect_eq(status, 0, "a fitting program: %s", out);
  free(out);

  out = compile_in(dir,
                   "data d = npy(inputs \"x.npy\", targets \"y.npy\")\n"
                   "net f : feedforward { input 4; output linear 3 }\n"
                   "train f on d with sgd { batch 10; epsilon 0.1 }\n",
                   &status);
  cr_expect_eq(status, 1);
  cr_expect(strstr(out, "prog.mdl:2:5: error: net 'f' has 4 inputs but x.npy "
                        "has 3 values per case"),
            "%s", out);
  cr_expect(strstr(out, "error: net 'f' has 3 outputs but y.npy has 2 target "
                        "values per case"),
            "%s", out);
  free(out);

  out = compile_in(dir,
                   "data d = npy(inputs \"x.npy\", targets \"y.npy\", cases "
                   "40)\n"
                   "net f : feedforward { input 3; output linear 2 }\n"
                   "train f on d with sgd { batch 10; epsilon 0.1 }\n",
                   &status);
  cr_expect_eq(status, 1);
  cr_expect(strstr(out, "prog.mdl:1:10: error: data set 'd' asks for 40 cases "
                        "but x.npy holds 30"),
            "%s", out);
  free(out);

  out = compile_in(dir,
                   "data d = npy(inputs \"x.npy\", targets \"y.npy\")\n"
                   "net f : feedforward { input 3; output linear 2 }\n"
                   "train f on d with sgd { batch 31; epsilon 0.1 }\n",
                   &status);
  cr_expect_eq(status, 1);
  cr_expect(strstr(out, "error: the minibatch (31 cases) is larger than data "
                        "set 'd' (30 cases in x.npy)"),
            "%s", out);
  cr_expect(!strstr(out, "prog.c"), "no C should be compiled: %s", out);
  free(out);
}

/* A 1-input RNN with 2 outputs at the last step, on x.npy and y.npy read
 * as sequences of 3 steps; `more` adds to the data set's arguments. */
static char *compile_sequences(const char *dir, const char *more,
                               const char *train, int *status) {
  char program[512];
  snprintf(program, sizeof program,
           "data d = npy(inputs \"x.npy\", targets \"y.npy\", length 3%s)\n"
           "net r : recurrent { input 1; hidden tanh 4; output linear 2 at "
           "last }\n"
           "train r on d with nag { %s; epsilon 0.001; mu 0.9 }\n",
           more, train);
  return compile_in(dir, program, status);
}

Test(data_shapes, npy_sequences_batch) {
  /* x.npy holds 30 rows: 30 sequences of 3 steps of 1 input. */
  const char *dir = e2e_fresh_dir("shapes_npy_sequences");
  setup_files(dir);
  int status;
  char *out = compile_sequences(dir, "", "batch 31", &status);
  cr_expect_eq(status, 1, "%s", out);
  cr_expect(strstr(out, "prog.mdl:3:12: error: the minibatch (31 sequences) "
                        "is larger than data set 'd' (30 sequences in x.npy)"),
            "%s", out);
  cr_expect(!strstr(out, "cases"), "%s", out);
  cr_expect(!strstr(out, "prog.c"), "no C should be compiled: %s", out);
  free(out);

  out = compile_sequences(dir, "", "batch 30; steps 5", &status);
  cr_expect_eq(status, 0, "a minibatch of all 30 sequences is fine: %s", out);
  free(out);

  /* A declared count below the file's: one error, about the count. */
  out = compile_sequences(dir, ", cases 20", "batch 25", &status);
  cr_expect_eq(status, 1, "%s", out);
  const char *error = strstr(out, "error: the minibatch (25 sequences) is "
                                  "larger than data set 'd' (20 sequences)");
  cr_expect(error, "%s", out);
  cr_expect(error && !strstr(error + 1, "error:"), "one error only: %s", out);
  free(out);
}

Test(data_shapes, idx_width) {
  const char *dir = e2e_fresh_dir("shapes_idx");
  setup_files(dir);
  int status;
  char *out = compile_in(
      dir,
      "data d = idx(images \"images.idx\")\n"
      "net ae : autoencoder { input 5; encoder sigmoid [3]; code linear 2; "
      "output sigmoid }\n"
      "train ae on d with nag { batch 4; epsilon 0.1; mu 0.9 }\n",
      &status);
  cr_expect_eq(status, 1);
  cr_expect(strstr(out, "error: net 'ae' has 5 inputs but images.idx has 4 "
                        "values per case"),
            "%s", out);
  free(out);
}

Test(data_shapes, missing_files_are_left_to_the_program) {
  const char *dir = e2e_fresh_dir("shapes_missing");
  int status;
  char *out = compile_in(dir,
                         "data d = npy(inputs \"later.npy\")\n"
                         "net ae : autoencoder { input 5; code linear 2; "
                         "output sigmoid }\n"
                         "train ae on d with sgd { batch 4; epsilon 0.1 }\n",
                         &status);
  cr_expect_eq(status, 0, "%s", out);
  cr_expect_eq(strlen(out), 0, "no message: %s", out);
  free(out);
  /* A file that is there but is no .npy: a warning now, an error at run. */
  e2e_write(dir, "later.npy", "not numpy\n");
  out = compile_in(dir,
                   "data d = npy(inputs \"later.npy\")\n"
                   "net ae : autoencoder { input 5; code linear 2; "
                   "output sigmoid }\n"
                   "train ae on d with sgd { batch 4; epsilon 0.1 }\n",
                   &status);
  cr_expect_eq(status, 0, "%s", out);
  cr_expect(strstr(out, "prog.mdl:1:10: warning: later.npy: not a .npy file "
                        "(bad magic)"),
            "%s", out);
  free(out);
}

/* An IDX label file of n labels, label i being i % 10. */
static void write_idx_labels(const char *path, int n) {
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f);
  unsigned char header[8] = {0, 0, 8, 1, 0, 0, 0, (unsigned char)n};
  fwrite(header, 1, sizeof header, f);
  for (int i = 0; i < n; i++)
    fputc(i % 10, f);
  fclose(f);
}

static char *classifier(const char *dir, const char *data, int outputs,
                        int *status) {
  char program[512];
  snprintf(program, sizeof program,
           "data d = idx(images \"images.idx\", labels \"labels.idx\"%s)\n"
           "net c : feedforward {\n"
           "    input 4\n"
           "    output softmax %d\n"
           "}\n"
           "train c on d with sgd { batch 4; epsilon 0.1 }\n",
           data, outputs);
  return compile_in(dir, program, status);
}

/* A classifier's output width against the labels mdlc reads: one output
 * per class, the classes being the largest label + 1 unless `classes` says
 * otherwise; each mistake is an error with its place, source line and
 * caret, and no C is compiled. */
Test(data_shapes, idx_labels_and_classes) {
  const char *dir = e2e_fresh_dir("shapes_idx_labels");
  write_idx_images(e2e_join(dir, "images.idx"), 12);
  write_idx_labels(e2e_join(dir, "labels.idx"), 12); /* labels 0 to 9 */
  int status;
  char *out = classifier(dir, "", 10, &status);
  cr_expect_eq(status, 0, "ten outputs for labels 0 to 9: %s", out);
  free(out);

  out = classifier(dir, "", 12, &status);
  cr_expect_eq(status, 1, "%s", out);
  cr_expect(strstr(out, "prog.mdl:4:20: error: net 'c' has 12 outputs, but "
                        "the labels of labels.idx are 0 to 9: 10 classes; if "
                        "the data has 12 classes that its labels do not all "
                        "show, say so with idx(..., classes 12)\n"
                        "    4 |     output softmax 12\n"
                        "      |                    ^~\n"),
            "%s", out);
  cr_expect(!strstr(out, "prog.c"), "no C should be compiled: %s", out);
  free(out);

  /* Said so: twelve classes, two of them not in the file. */
  out = classifier(dir, ", classes 12", 12, &status);
  cr_expect_eq(status, 0, "%s", out);
  free(out);

  out = classifier(dir, ", classes 8", 8, &status);
  cr_expect_eq(status, 1, "%s", out);
  cr_expect(strstr(out, "prog.mdl:1:64: error: labels.idx has labels up to 9, "
                        "but classes 8 allows 0 to 7 only\n"),
            "%s", out);
  free(out);

  /* A label for every image. */
  write_idx_labels(e2e_join(dir, "labels.idx"), 11);
  out = classifier(dir, "", 10, &status);
  cr_expect_eq(status, 1, "%s", out);
  cr_expect(strstr(out, "prog.mdl:1:10: error: images.idx holds 12 images but "
                        "labels.idx holds 11 labels: one label per image\n"),
            "%s", out);
  free(out);
}

/* A label file mdlc could not read is checked when the program loads it,
 * with the same hint about `classes`. */
Test(data_shapes, idx_classes_checked_when_the_program_runs) {
  const char *dir = e2e_fresh_dir("shapes_idx_classes_later");
  int status;
  char *out = classifier(dir, "", 12, &status);
  cr_assert_eq(status, 0, "no files yet: %s", out);
  free(out);
  /* A bad --set is refused before the data is read. */
  e2e_result r = e2e_run("cd %s && ./prog --set epsilon=0", dir);
  cr_expect_eq(r.status, 1, "%s", r.output);
  cr_expect(strstr(r.output, "prog: error: at update 0 the learning-rate "
                             "schedule gives epsilon = 0, which must be > 0"),
            "%s", r.output);
  cr_expect(!strstr(r.output, "images.idx"), "%s", r.output);
  free(r.output);
  write_idx_images(e2e_join(dir, "images.idx"), 12);
  write_idx_labels(e2e_join(dir, "labels.idx"), 12);
  r = e2e_run("cd %s && ./prog --steps 1", dir);
  cr_expect_eq(r.status, 1, "%s", r.output);
  cr_expect(strstr(r.output, "prog: error: labels.idx: 10 classes of labels, "
                             "but the network has 12 outputs, one per class; "
                             "if the data has 12 classes that its labels do "
                             "not all show, say so with idx(..., classes "
                             "12)\n"),
            "%s", r.output);
  free(r.output);
}

/* Appends n bytes to the file at path. */
static void append_bytes(const char *path, const void *bytes, size_t n) {
  FILE *f = fopen(path, "ab");
  cr_assert_not_null(f);
  cr_assert_eq(fwrite(bytes, 1, n, f), n);
  fclose(f);
}

/* mdlc holds the files it reads to their headers as the program will: one
 * whose size refutes its header, or with data after it, is no shape to
 * check the net against; it gets a warning naming the file now (and the
 * program an error when it runs). */
static void expect_file_warning(const char *dir, const char *data, int inputs,
                                const char *warning) {
  char program[512];
  snprintf(program, sizeof program,
           "%s\n"
           "net ae : autoencoder { input %d; code linear 2; output sigmoid "
           "}\n"
           "train ae on d with sgd { batch 4; epsilon 0.1 }\n",
           data, inputs);
  int status;
  char *out = compile_in(dir, program, &status);
  cr_expect_eq(status, 0, "%s", out);
  if (warning)
    cr_expect(strstr(out, warning), "should warn \"%s\":\n%s", warning, out);
  else
    cr_expect_eq(strlen(out), 0, "no message: %s", out);
  free(out);
}

Test(data_shapes, files_their_headers_do_not_fit) {
  const char *dir = e2e_fresh_dir("shapes_damaged");
  setup_files(dir);
  const char *x = e2e_join(dir, "x.npy");
  append_bytes(x, "\0\0\0\0", 4);
  expect_file_warning(dir, "data d = npy(inputs \"x.npy\")", 3,
                      "prog.mdl:1:10: warning: x.npy: 4 bytes of trailing "
                      "data after the array (shape (30, 3) of '<f8': 720 "
                      "bytes)");
  struct stat st;
  cr_assert_eq(stat(x, &st), 0);
  cr_assert_eq(truncate(x, st.st_size - 12), 0);
  expect_file_warning(dir, "data d = npy(inputs \"x.npy\")", 3,
                      "prog.mdl:1:10: warning: x.npy: file is truncated: "
                      "expected 720 bytes of data, found 712");

  const char *images = e2e_join(dir, "images.idx");
  append_bytes(images, "\0", 1);
  expect_file_warning(dir, "data d = idx(images \"images.idx\")", 4,
                      "prog.mdl:1:10: warning: images.idx: 1 byte of "
                      "trailing data after the 48 bytes of pixel data");

  /* The same images through gzip, with garbage after the stream. */
  write_idx_images(images, 12);
  FILE *f = fopen(images, "rb");
  unsigned char plain[64];
  size_t n = fread(plain, 1, sizeof plain, f);
  fclose(f);
  const char *gz_path = e2e_join(dir, "images.idx.gz");
  gzFile gz = gzopen(gz_path, "wb");
  cr_assert_not_null(gz);
  gzwrite(gz, plain, (unsigned)n);
  gzclose(gz);
  expect_file_warning(dir, "data d = idx(images \"images.idx.gz\")", 4, NULL);
  append_bytes(gz_path, "garbage", 7);
  expect_file_warning(dir, "data d = idx(images \"images.idx.gz\")", 4,
                      "prog.mdl:1:10: warning: images.idx.gz: 7 bytes of "
                      "trailing data after the gzip stream");
}
