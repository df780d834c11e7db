/* test_data.c — the shared data-set services (runtime/data.c): gathering,
 * target means, autoencoder targets and the minibatch sampler; and what a
 * .npy data set (runtime/data_npy.c) says when its floats do not fit. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mdl/data.h"
#include "scratch.h"

/* A 4-case set with 3 inputs and 2 targets, values easy to compute with. */
static mdl_dataset small_set(void) {
  static const float inputs[12] = {1,  2,  3,   /* case 0 */
                                   4,  5,  6,   /* case 1 */
                                   7,  8,  9,   /* case 2 */
                                   10, 11, 12}; /* case 3 */
  static const float targets[8] = {0, 1, 0.5f, 0.25f, 1, 1, 0.125f, 0};
  mdl_dataset ds = {0};
  ds.n_cases = 4;
  ds.n_inputs = 3;
  ds.n_targets = 2;
  ds.inputs = malloc(sizeof inputs);
  ds.targets = malloc(sizeof targets);
  memcpy(ds.inputs, inputs, sizeof inputs);
  memcpy(ds.targets, targets, sizeof targets);
  return ds;
}

Test(data, gather_inputs_as_float) {
  mdl_dataset ds = small_set();
  int cases[3] = {2, 0, 2};
  float out[9];
  mdl_data_gather(&ds, 0, cases, 3, out, MDL_F32);
  float want[9] = {7, 8, 9, 1, 2, 3, 7, 8, 9};
  for (int k = 0; k < 9; k++)
    cr_assert_eq(out[k], want[k], "element %d is %g, not %g", k, out[k],
                 want[k]);
  mdl_data_free(&ds);
}

Test(data, gather_targets_as_double) {
  mdl_dataset ds = small_set();
  int cases[2] = {3, 1};
  double out[4];
  mdl_data_gather(&ds, 1, cases, 2, out, MDL_F64);
  double want[4] = {0.125, 0, 0.5, 0.25};
  for (int k = 0; k < 4; k++)
    cr_assert_eq(out[k], want[k], "element %d is %g, not %g", k, out[k],
                 want[k]);
  mdl_data_free(&ds);
}

Test(data, target_mean_by_hand) {
  mdl_dataset ds = small_set();
  /* Column 0: (0 + 0.5 + 1 + 0.125) / 4; column 1: (1 + 0.25 + 1 + 0) / 4. */
  double mean64[2];
  mdl_data_target_mean(&ds, mean64, MDL_F64);
  cr_assert_float_eq(mean64[0], 1.625 / 4, 1e-15);
  cr_assert_float_eq(mean64[1], 2.25 / 4, 1e-15);
  float mean32[2];
  mdl_data_target_mean(&ds, mean32, MDL_F32);
  cr_assert_eq(mean32[0], (float)(1.625 / 4));
  cr_assert_eq(mean32[1], (float)(2.25 / 4));
  mdl_data_free(&ds);
}

Test(data, target_mean_accumulates_in_double) {
  /* 0.1 summed 10^6 times in float drifts by ~1%; in double it does not. */
  int n = 1000000;
  mdl_dataset ds = {0};
  ds.n_cases = n;
  ds.n_inputs = ds.n_targets = 1;
  ds.inputs = malloc((size_t)n * sizeof(float));
  for (int i = 0; i < n; i++)
    ds.inputs[i] = 0.1f;
  ds.targets = ds.inputs;
  double mean;
  mdl_data_target_mean(&ds, &mean, MDL_F64);
  cr_assert_float_eq(mean, (double)0.1f, 1e-9, "mean %.12g", mean);
  mdl_data_free(&ds);
}

Test(data, autoencode_shares_inputs_and_frees_once) {
  mdl_dataset ds = small_set();
  mdl_data_autoencode(&ds);
  cr_assert_eq(ds.targets, ds.inputs);
  cr_assert_eq(ds.n_targets, 3);
  double mean[3];
  mdl_data_target_mean(&ds, mean, MDL_F64);
  cr_assert_float_eq(mean[2], (3 + 6 + 9 + 12) / 4.0, 1e-12);
  mdl_data_free(&ds); /* a double free would abort this test's process */
  cr_assert_null(ds.inputs);
  cr_assert_null(ds.targets);
  cr_assert_eq(ds.n_cases, 0);
}

/* Counts how often each case appears in the next `batches` batches. */
static void count_cases(mdl_batcher *b, int batches, int *seen) {
  memset(seen, 0, (size_t)b->n_cases * sizeof(int));
  for (int k = 0; k < batches; k++) {
    const int *cases = mdl_batcher_next(b);
    for (int j = 0; j < b->batch; j++) {
      cr_assert(cases[j] >= 0 && cases[j] < b->n_cases, "case %d", cases[j]);
      seen[cases[j]]++;
    }
  }
}

Test(data, batcher_covers_every_case_once_per_epoch) {
  mdl_batcher b;
  mdl_batcher_init(&b, 12, 4, 42);
  int seen[12];
  for (int epoch = 0; epoch < 5; epoch++) {
    count_cases(&b, 3, seen);
    for (int i = 0; i < 12; i++)
      cr_assert_eq(seen[i], 1, "epoch %d used case %d %d times", epoch, i,
                   seen[i]);
  }
  mdl_batcher_free(&b);
}

Test(data, batcher_skips_short_remainder) {
  /* 10 cases in batches of 4: two batches an epoch, eight distinct cases. */
  mdl_batcher b;
  mdl_batcher_init(&b, 10, 4, 3);
  int seen[10];
  for (int epoch = 0; epoch < 6; epoch++) {
    count_cases(&b, 2, seen);
    int used = 0;
    for (int i = 0; i < 10; i++) {
      cr_assert(seen[i] <= 1, "epoch %d used case %d twice", epoch, i);
      used += seen[i];
    }
    cr_assert_eq(used, 8);
  }
  mdl_batcher_free(&b);
}

Test(data, batcher_whole_set_batches) {
  mdl_batcher b;
  mdl_batcher_init(&b, 7, 7, 5);
  int seen[7];
  for (int k = 0; k < 4; k++) {
    count_cases(&b, 1, seen);
    for (int i = 0; i < 7; i++)
      cr_assert_eq(seen[i], 1, "batch %d used case %d %d times", k, i, seen[i]);
  }
  mdl_batcher_free(&b);
}

/* The case order of the first `batches` batches, flattened. */
static void batch_order(int n_cases, int batch, uint64_t seed, int batches,
                        int *order) {
  mdl_batcher b;
  mdl_batcher_init(&b, n_cases, batch, seed);
  for (int k = 0; k < batches; k++)
    memcpy(order + k * batch, mdl_batcher_next(&b),
           (size_t)batch * sizeof(int));
  mdl_batcher_free(&b);
}

Test(data, batcher_is_reproducible_for_a_seed) {
  int a[200], b[200], c[200];
  batch_order(50, 10, 9, 20, a);
  batch_order(50, 10, 9, 20, b);
  batch_order(50, 10, 10, 20, c);
  cr_assert(memcmp(a, b, sizeof a) == 0, "same seed, different batches");
  cr_assert(memcmp(a, c, sizeof a) != 0, "seeds 9 and 10 give one order");
}

Test(data, batcher_reshuffles_between_epochs) {
  int order[100];
  batch_order(50, 25, 1, 4, order); /* two epochs of 50 */
  cr_assert(memcmp(order, order + 50, 50 * sizeof(int)) != 0,
            "epoch 2 repeats epoch 1's order");
  int identity = 1;
  for (int i = 0; i < 50; i++)
    identity &= order[i] == i;
  cr_assert(!identity, "the first epoch is not shuffled");
}

static void silence_stderr(void) { cr_redirect_stderr(); }

Test(data, batch_larger_than_set_dies, .init = silence_stderr, .exit_code = 1) {
  mdl_batcher b;
  mdl_batcher_init(&b, 10, 11, 1);
  cr_assert_fail("mdl_batcher_init accepted a batch of 11 from 10 cases");
}

/* A uint8 .npy of 64 MiB (a hole in a sparse file, which takes no disk)
 * fits in memory as bytes but not as the floats the data set holds: the
 * message names the file whose data asked for so much. */
Test(data, npy_out_of_memory_names_the_file) {
  char dir[64], path[128], want[256];
  scratch_make(dir, "data");
  snprintf(path, sizeof path, "%s/bytes.npy", dir);
  const char *dict =
      "{'descr': '|u1', 'fortran_order': False, 'shape': (65536, 1024), }";
  FILE *f = fopen(path, "wb");
  cr_assert(f != NULL);
  fputs("\x93NUMPY\x01", f);
  fputc(0, f);
  fputc(128 - 10, f); /* the header's length, little-endian */
  fputc(0, f);
  fprintf(f, "%-117s\n", dict);
  fclose(f);
  cr_assert_eq(truncate(path, 128 + (64L << 20)), 0);
  scratch_limit_memory(160 << 20);
  mdl_dataset ds;
  mdl_error err = {""};
  int rc = mdl_data_npy(&ds, path, 0, &err);
  snprintf(want, sizeof want,
           "%s: out of memory (asked for 268435456 bytes for its data)", path);
  scratch_remove(dir);
  cr_assert_eq(rc, -1, "64 Mi bytes became floats in 160 MiB");
  cr_assert_str_eq(err.message, want);
  cr_assert_null(ds.inputs);
}
