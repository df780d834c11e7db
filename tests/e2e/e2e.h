/* e2e.h — helpers for end-to-end tests: they write .mdl programs, compile
 * them with the built mdlc, run the programs and read what they print.
 * MDLC, TESTS_DIR and WORK_DIR come from the Makefile. */
#ifndef E2E_H
#define E2E_H

#include <stddef.h>
#include <stdint.h>

/* E2E_ASAN: the tests, and so (make check SANITIZE=1) the programs they
 * build, run under AddressSanitizer, which reserves terabytes of address
 * space for itself: a program cannot start under a ulimit -v. */
#if defined(__SANITIZE_ADDRESS__)
#define E2E_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define E2E_ASAN 1
#endif
#endif

typedef struct {
  int status;   /* exit status, or -1 if killed by a signal */
  char *output; /* stdout and stderr together, NUL-terminated */
} e2e_result;

/* Runs a shell command line; its output is captured whole. */
e2e_result e2e_run(const char *format, ...)
    __attribute__((format(printf, 1, 2)));

/* A directory under WORK_DIR for one test, e.g. .../work/nag_quad. */
const char *e2e_dir(const char *name);

/* The same directory, emptied first: nothing left from an earlier run of
 * the tests can make a check pass. */
const char *e2e_fresh_dir(const char *name);

/* dir/file, malloc'ed. */
char *e2e_join(const char *dir, const char *file);

/* Work shared by the tests of one file, done once per run of the test
 * binary: under an exclusive lock on WORK_DIR/name, the first test process
 * to come calls build(dir, ctx) (which returns 0 on success); the others
 * wait and reuse what it built. A stamp holds the test runner's pid (the
 * parent of every test process), so a new run builds afresh. Returns the
 * directory, or NULL if build failed. */
const char *e2e_once(const char *name, int (*build)(const char *dir, void *ctx),
                     void *ctx);

/* A small deterministic generator for test data: the next value in
 * [0, n) of a linear congruential sequence kept in *state. */
int e2e_draw(uint32_t *state, int n);

/* A C compiler for mdlc --cc that applies a sed edit to the generated C
 * before compiling it with clang, and fails loudly when the edit matches
 * nothing: a deliberately broken program that a test must catch. Returns
 * the script's path. */
char *e2e_mutant_cc(const char *dir, const char *edit);

/* Writes text to dir/file and returns the full path. */
const char *e2e_write(const char *dir, const char *file, const char *text);

/* Writes program text to dir/name.mdl, compiles it to dir/name with the
 * extra mdlc flags, and returns the executable's path (NULL if mdlc failed,
 * after printing its output). */
const char *e2e_compile(const char *dir, const char *name, const char *flags,
                        const char *program);

/* The number that follows `key` in text (e.g. "max relative error:"), or
 * NaN when key is absent. */
double e2e_number_after(const char *text, const char *key);

/* Reads a 1-D float64 .npy file written by a program; returns its length
 * (or -1) and the values in *values (malloc'ed). */
long e2e_read_f64(const char *path, double **values);

/* dir/file, a rows × cols float64 .npy of values k/16 in [lo, hi] drawn
 * with e2e_draw from seed: exact in float32, as the runtime holds data.
 * Returns the path (malloc'ed). */
char *e2e_write_grid(const char *dir, const char *file, int rows, int cols,
                     double lo, double hi, uint32_t seed);

/* dir/file, rows × (groups · classes) one-hot targets: each group of
 * `classes` values a distribution with one 1. Returns the path. */
char *e2e_write_one_hot(const char *dir, const char *file, int rows, int groups,
                        int classes, uint32_t seed);

/* Writes n float64 values as a 1-D .npy file (or rows × cols when cols > 0). */
void e2e_write_f64(const char *path, const double *values, long rows,
                   long cols);

#endif
