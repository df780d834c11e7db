/* base.c — element-type helpers, error reports and the fatal exit. */
#include "mdl/base.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *program_name = "mdl";

size_t mdl_dtype_size(mdl_dtype type) {
  return type == MDL_F32 ? sizeof(float) : sizeof(double);
}

double mdl_get(const void *array, mdl_dtype type, size_t i) {
  return type == MDL_F32 ? ((const float *)array)[i]
                         : ((const double *)array)[i];
}

void mdl_set(void *array, mdl_dtype type, size_t i, double value) {
  if (type == MDL_F32)
    ((float *)array)[i] = (float)value;
  else
    ((double *)array)[i] = value;
}

int mdl_fail(mdl_error *err, const char *format, ...) {
  if (err) {
    va_list ap;
    va_start(ap, format);
    vsnprintf(err->message, sizeof err->message, format, ap);
    va_end(ap);
  }
  return -1;
}

void mdl_set_program_name(const char *name) {
  const char *slash = name;
  for (const char *p = name; *p; p++)
    if (*p == '/')
      slash = p + 1;
  program_name = slash;
}

const char *mdl_program_name(void) { return program_name; }

const char *mdl_plural(long n) { return n == 1 ? "" : "s"; }

void mdl_die(const char *format, ...) {
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "%s: error: ", program_name);
  va_start(ap, format);
  vfprintf(stderr, format, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

void *mdl_alloc(size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p)
    mdl_die("out of memory (asked for %zu bytes)", bytes);
  return p;
}

void *mdl_zalloc(size_t bytes) {
  void *p = calloc(1, bytes ? bytes : 1);
  if (!p)
    mdl_die("out of memory (asked for %zu bytes)", bytes);
  return p;
}

void *mdl_alloc_for(const char *path, size_t bytes, mdl_error *err) {
  return mdl_realloc_for(path, NULL, bytes, err);
}

void *mdl_realloc_for(const char *path, void *old, size_t bytes,
                      mdl_error *err) {
  void *p = realloc(old, bytes ? bytes : 1);
  if (!p)
    mdl_fail(err, "%s: out of memory (asked for %zu bytes for its data)", path,
             bytes);
  return p;
}

void mdl_directory_of(const char *path, char *dir, size_t size) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    snprintf(dir, size, ".");
  else if (slash == path)
    snprintf(dir, size, "/");
  else
    snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

void mdl_output_open(mdl_output *out, const char *path) {
  struct stat st;
  out->path = path;
  out->in_place = stat(path, &st) == 0 && !S_ISREG(st.st_mode);
  snprintf(out->tmp, sizeof out->tmp, "%s.tmp%ld", path, (long)getpid());
  out->file = fopen(out->in_place ? path : out->tmp, "wb");
}

int mdl_output_close(mdl_output *out, int failed) {
  /* fclose flushes, so a full disk may only show up here. */
  if (fclose(out->file) != 0)
    failed = 1;
  if (!failed && !out->in_place && rename(out->tmp, out->path) != 0)
    failed = 1;
  if (failed && !out->in_place) {
    int saved = errno;
    remove(out->tmp); /* half a file would only mislead a later read */
    errno = saved;
  }
  return failed ? -1 : 0;
}
