/* arena.c — compiler memory. mdlc is a short-lived process, so, like
 * chibicc, it allocates and never frees: every node lives until exit. */
#include "mdlc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void *arena_alloc(size_t bytes) {
  void *p = calloc(1, bytes ? bytes : 1);
  if (!p) {
    fprintf(stderr, "mdlc: error: out of memory\n");
    exit(1);
  }
  return p;
}

char *arena_strndup(const char *s, size_t n) {
  char *copy = arena_alloc(n + 1);
  memcpy(copy, s, n);
  return copy;
}

char *arena_strdup(const char *s) { return arena_strndup(s, strlen(s)); }

char *arena_printf(const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  int n = vsnprintf(NULL, 0, format, ap);
  va_end(ap);
  char *s = arena_alloc((size_t)n + 1);
  va_start(ap, format);
  vsnprintf(s, (size_t)n + 1, format, ap);
  va_end(ap);
  return s;
}
