/* arena.c — compiler memory, and the strings messages are made of. mdlc is
 * a short-lived process, so, like chibicc, it allocates and never frees:
 * every node lives until exit. */
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

const char *count_of(long n, const char *noun) {
  size_t length = strlen(noun);
  bool es = length > 0 && (noun[length - 1] == 's' || noun[length - 1] == 'x');
  return arena_printf("%ld %s%s", n, noun, n == 1 ? "" : es ? "es" : "s");
}
