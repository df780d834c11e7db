/* test_checkpoint.c — what mdl_checkpoint_load refuses that no shell edit
 * of a file reaches easily: a sound file (its checksum right) whose
 * parameters are not finite, a header whose length field is impossible,
 * and another program's identity; and what it takes back whole. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mdl/checkpoint.h"

enum { N = 6 };

static char path[64];

static void setup(void) {
  snprintf(path, sizeof path, "/tmp/mdl_ckpt_test_%ld.ckpt", (long)getpid());
  mdl_checkpoint_set_model("test net 2-3-1, float32");
}

static void teardown(void) { remove(path); }

TestSuite(checkpoint, .init = setup, .fini = teardown);

/* Saves θ = theta with velocity 0.5 at update 7; returns 0 on success. */
static int save(const float *theta, mdl_batcher *b) {
  float velocity[N];
  for (int i = 0; i < N; i++)
    velocity[i] = 0.5f;
  mdl_error err;
  return mdl_checkpoint_save(path, 7, theta, velocity, 0, MDL_F32, N, b, &err);
}

static int load(float *theta, mdl_batcher *b, mdl_error *err) {
  float velocity[N];
  long t;
  return mdl_checkpoint_load(path, &t, theta, velocity, 0, MDL_F32, N, b, err);
}

Test(checkpoint, a_sound_file_comes_back_whole) {
  mdl_batcher b;
  mdl_batcher_init(&b, 10, 5, 3);
  float theta[N] = {1, -2, 3, -4, 5, -6}, back[N];
  cr_assert_eq(save(theta, &b), 0);
  mdl_error err;
  cr_assert_eq(load(back, &b, &err), 0, "%s", err.message);
  cr_expect_arr_eq(theta, back, sizeof theta);
}

Test(checkpoint, parameters_that_are_not_numbers_are_refused) {
  mdl_batcher b;
  mdl_batcher_init(&b, 10, 5, 3);
  float theta[N] = {1, -2, NAN, -4, 5, -6}, back[N];
  cr_assert_eq(save(theta, &b), 0);
  mdl_error err;
  cr_assert_eq(load(back, &b, &err), -1);
  cr_expect(strstr(err.message, "is damaged: its parameters hold a value "
                                "that is not a finite number"),
            "%s", err.message);
}

Test(checkpoint, an_impossible_header_is_refused) {
  mdl_batcher b;
  mdl_batcher_init(&b, 10, 5, 3);
  float theta[N] = {0}, back[N];
  cr_assert_eq(save(theta, &b), 0);
  FILE *f = fopen(path, "r+b");
  cr_assert_not_null(f);
  int64_t length = -5; /* the identity's length, after the magic */
  fseek(f, 8, SEEK_SET);
  fwrite(&length, sizeof length, 1, f);
  fclose(f);
  mdl_error err;
  cr_assert_eq(load(back, &b, &err), -1);
  cr_expect(strstr(err.message, "is damaged (its header)"), "%s", err.message);
}

Test(checkpoint, another_programs_identity_is_named) {
  mdl_batcher b;
  mdl_batcher_init(&b, 10, 5, 3);
  float theta[N] = {0}, back[N];
  cr_assert_eq(save(theta, &b), 0);
  mdl_checkpoint_set_model("test net 2-3-1, float64");
  mdl_error err;
  cr_assert_eq(load(back, &b, &err), -1);
  cr_expect(strstr(err.message,
                   "belongs to another program: it was written by [test net "
                   "2-3-1, float32], this program is [test net 2-3-1, "
                   "float64]"),
            "%s", err.message);
}
