/* e2e.h — helpers for end-to-end tests: they write .mdl programs, compile
 * them with the built mdlc, run the programs and read what they print.
 * MDLC, TESTS_DIR and WORK_DIR come from the Makefile. */
#ifndef E2E_H
#define E2E_H

#include <stddef.h>

typedef struct {
  int status;   /* exit status, or -1 if killed by a signal */
  char *output; /* stdout and stderr together, NUL-terminated */
} e2e_result;

/* Runs a shell command line; its output is captured whole. */
e2e_result e2e_run(const char *format, ...)
    __attribute__((format(printf, 1, 2)));

/* A fresh directory under WORK_DIR for one test, e.g. .../work/nag_quad. */
const char *e2e_dir(const char *name);

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

/* Writes n float64 values as a 1-D .npy file (or rows × cols when cols > 0). */
void e2e_write_f64(const char *path, const double *values, long rows,
                   long cols);

#endif
