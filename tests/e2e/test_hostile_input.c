/* test_hostile_input.c — programs written to make mdlc slow: a data path
 * of a megabyte, a net of hundreds of layers. The C that mdlc emits writes
 * every long string literal in pieces that fit a line, because
 * clang-format's time to break one long literal grows with the square of
 * its length; and such strings still reach the program whole, trigraphs
 * and all. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "e2e.h"

/* A program on .npy inputs at the path given, with n_hidden layers of 2
 * units. */
static char *program_with(const char *path, int n_hidden) {
  size_t size = strlen(path) + 8 * (size_t)n_hidden + 512;
  char *text = malloc(size), *at = text;
  at += sprintf(at,
                "data d = npy(inputs \"%s\", cases 20)\n"
                "net n : autoencoder {\n"
                "    input 3\n",
                path);
  if (n_hidden) {
    at += sprintf(at, "    encoder tanh [2");
    for (int i = 1; i < n_hidden; i++)
      at += sprintf(at, ", 2");
    at += sprintf(at, "]\n");
  }
  sprintf(at, "    code linear 2\n"
              "    output linear\n"
              "}\n"
              "train n on d with nag {\n"
              "    batch 10\n"
              "    steps 2\n"
              "    epsilon 0.01\n"
              "    mu 0.9\n"
              "}\n");
  return text;
}

/* A path of about n characters, in components of 100. */
static char *long_path(const char *start, size_t n) {
  char *path = malloc(strlen(start) + n + 128);
  strcpy(path, start);
  while (strlen(path) < n) {
    strcat(path, "/");
    size_t len = strlen(path);
    memset(path + len, 'x', 99);
    path[len + 99] = '\0';
  }
  strcat(path, ".npy");
  return path;
}

static char *read_all(const char *path) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *text = malloc((size_t)n + 1);
  cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
  text[n] = '\0';
  fclose(f);
  return text;
}

/* The longest string literal in C text, quotes included. */
static size_t longest_literal(const char *c) {
  size_t longest = 0;
  for (const char *p = c; *p; p++) {
    if (p[0] == '/' && p[1] == '*') {
      const char *end = strstr(p + 2, "*/");
      p = end ? end + 1 : p + strlen(p) - 1;
    } else if (p[0] == '/' && p[1] == '/') {
      p += strcspn(p, "\n") - 1;
    } else if (*p == '"' || *p == '\'') {
      const char *end = p + 1;
      while (*end && *end != *p)
        end += end[0] == '\\' && end[1] ? 2 : 1;
      if (*p == '"' && (size_t)(end - p + 1) > longest)
        longest = (size_t)(end - p + 1);
      p = *end ? end : end - 1;
    }
  }
  return longest;
}

/* The C text with adjacent literals joined: "ab"\n   "cd" -> "abcd". */
static char *joined(const char *c) {
  char *out = malloc(strlen(c) + 1), *o = out;
  for (const char *p = c; *p;) {
    if (p[0] == '"' && p[1] == '\n') {
      const char *q = p + 1;
      while (*q == '\n' || *q == ' ')
        q++;
      if (*q == '"') {
        p = q + 1;
        continue;
      }
    }
    *o++ = *p++;
  }
  *o = '\0';
  return out;
}

Test(hostile_input, long_literals_are_written_in_pieces) {
  const char *dir = e2e_fresh_dir("hostile_pieces");
  char *path = long_path("d", 20000);
  char *program = program_with(path, 300);
  e2e_write(dir, "p.mdl", program);
  e2e_result r =
      e2e_run("cd %s && %s --no-format --emit-c p.mdl -o p.c", dir, MDLC);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  char *c = read_all(e2e_join(dir, "p.c"));
  size_t longest = longest_literal(c);
  /* The emitter's own messages run to about 100 characters; literals made
   * from the program are cut beyond 256. */
  cr_expect_leq(longest, 258, "a string literal of %zu characters", longest);
  char *whole = joined(c);
  cr_expect(strstr(whole, path), "the data path is not in the C whole");
  char *model = malloc(8 * 300 + 64);
  strcpy(model, "\"autoencoder 3");
  for (int i = 0; i < 300; i++)
    strcat(model, "-2 tanh");
  cr_expect(strstr(whole, model), "the model's identity is not in the C whole");
  free(model);
  free(whole);
  free(c);
  free(program);
  free(path);
}

/* A data path of a megabyte took clang-format minutes; now its pieces
 * take it a fraction of a second. */
Test(hostile_input, a_megabyte_path_is_formatted_quickly, .timeout = 60) {
  const char *dir = e2e_fresh_dir("hostile_megabyte");
  char *path = long_path("d", 1 << 20);
  char *program = program_with(path, 0);
  e2e_write(dir, "p.mdl", program);
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  e2e_result r = e2e_run("cd %s && %s --emit-c p.mdl -o p.c", dir, MDLC);
  clock_gettime(CLOCK_MONOTONIC, &end);
  double seconds = (double)(end.tv_sec - start.tv_sec) +
                   1e-9 * (end.tv_nsec - start.tv_nsec);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect_lt(seconds, 20, "mdlc --emit-c took %.1f s", seconds);
  free(r.output);
  free(program);
  free(path);
}

/* Writes a data file at path, compiles a program that reads it in dir and
 * runs it: the path must reach the program as it was written. */
static void check_data_path(const char *dir, const char *path) {
  char *parent = strdup(path);
  *strrchr(parent, '/') = '\0';
  e2e_result r = e2e_run("mkdir -p '%s'", parent);
  cr_assert_eq(r.status, 0, "%s", r.output);
  free(r.output);
  double x[20 * 3];
  for (int i = 0; i < 20 * 3; i++)
    x[i] = (i % 7) * 0.125;
  e2e_write_f64(path, x, 20, 3);
  char *program = program_with(path, 1);
  e2e_write(dir, "p.mdl", program);
  r = e2e_run("cd %s && %s p.mdl -o p", dir, MDLC);
  cr_assert_eq(r.status, 0, "%s", r.output);
  cr_expect_eq(strstr(r.output, "warning"), NULL, "%s", r.output);
  free(r.output);
  r = e2e_run("%s/p --quiet", dir);
  cr_expect_eq(r.status, 0, "the program did not read %s:\n%s", path, r.output);
  free(r.output);
  free(program);
  free(parent);
}

/* Over 300 characters, written in pieces. */
Test(hostile_input, a_long_data_path_reaches_the_program, .timeout = 120) {
  const char *dir = e2e_fresh_dir("hostile_long_path");
  char *path = long_path(dir, strlen(dir) + 300);
  check_data_path(dir, path);
  free(path);
}

/* Two '?' before a '/' are a trigraph for '\' to a C11 compiler, before
 * a '=' one for '#' (written here with "\?" so as not to be one). */
Test(hostile_input, a_data_path_with_trigraphs_reaches_the_program,
     .timeout = 120) {
  const char *dir = e2e_fresh_dir("hostile_trigraphs");
  char *path = e2e_join(dir, "q?\?/a?\?\?=.npy");
  check_data_path(dir, path);
  free(path);
}
