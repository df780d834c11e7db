/* mdl/base.h — what every part of the mdlc runtime shares: the element type
 * tag, the error report, and the fatal-error exit of generated programs. */
#ifndef MDL_BASE_H
#define MDL_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Generated programs compute in float32 (the default) or float64
 * (mdlc --precision double); runtime services that touch parameter or
 * activation arrays take the element type as a tag instead of existing twice.
 */
typedef enum { MDL_F32, MDL_F64 } mdl_dtype;

/* Size in bytes of one element of the given type. */
size_t mdl_dtype_size(mdl_dtype type);

/* Read or write element i of an array of the given type, as a double. */
double mdl_get(const void *array, mdl_dtype type, size_t i);
void mdl_set(void *array, mdl_dtype type, size_t i, double value);

/* Runtime functions that can fail return 0 on success and -1 on failure,
 * with a one-line, human-readable reason in the caller's mdl_error. */
typedef struct {
  char message[512];
} mdl_error;

/* Formats a message into err (printf-style) and returns -1, so that a
 * failing function can end with `return mdl_fail(err, "...", ...);`. */
int mdl_fail(mdl_error *err, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* The name the program was started under, used as the prefix of messages. */
void mdl_set_program_name(const char *name);
const char *mdl_program_name(void);

/* "s" for any number of things but one, "" for one: messages say
 * "%ld update%s", n, mdl_plural(n), so that one update is not "1 updates". */
const char *mdl_plural(long n);

/* Prints "PROGRAM: error: MESSAGE" to stderr and exits with status 1. */
_Noreturn void mdl_die(const char *format, ...)
    __attribute__((format(printf, 1, 2)));

/* malloc/calloc that die with a clear message instead of returning NULL. */
void *mdl_alloc(size_t bytes);
void *mdl_zalloc(size_t bytes);

/* malloc and realloc for what a data file holds: on failure they return NULL
 * with "PATH: out of memory (asked for N bytes for its data)" in err, so that
 * the message names the file that asked for so much (old is then left as it
 * was). */
void *mdl_alloc_for(const char *path, size_t bytes, mdl_error *err);
void *mdl_realloc_for(const char *path, void *old, size_t bytes,
                      mdl_error *err);

/* The directory a file path is in: "." for "file", "/" for "/file". */
void mdl_directory_of(const char *path, char *dir, size_t size);

/* An output file written whole or not at all: mdl_output_open opens a
 * temporary file beside path (or path itself when what is there is not a
 * regular file, such as /dev/null); mdl_output_close closes it and renames
 * it over path, or removes it when failed is set or closing fails, and
 * returns 0 or -1 with errno set. */
typedef struct {
  FILE *file; /* NULL when it could not be opened (errno says why) */
  const char *path;
  char tmp[4200];
  int in_place;
} mdl_output;

void mdl_output_open(mdl_output *out, const char *path);
int mdl_output_close(mdl_output *out, int failed);

#endif
