/* arena.c — compiler memory, and the strings messages are made of. mdlc is
 * a short-lived process, so, like chibicc, it allocates and never frees:
 * every node lives until exit.
 *
 * Each allocation is chained to the one before it, so that a process that
 * compiles many programs (the front end's fuzzer) can let them all go with
 * arena_release; mdlc itself never calls it. */
#include "mdlc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef union ArenaBlock {
  union ArenaBlock *prev;
  max_align_t align; /* what follows suits any type */
} ArenaBlock;

static ArenaBlock *last;

void *arena_alloc(size_t bytes) {
  ArenaBlock *b = bytes <= SIZE_MAX - sizeof *b
                      ? calloc(1, sizeof *b + (bytes ? bytes : 1))
                      : NULL;
  if (!b) {
    fprintf(stderr, "mdlc: error: out of memory\n");
    exit(1);
  }
  b->prev = last;
  last = b;
  return b + 1;
}

void arena_release(void) {
  while (last) {
    ArenaBlock *prev = last->prev;
    free(last);
    last = prev;
  }
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
