/* diag.c — diagnostics in the usual form
 *
 *   curves.mdl:12:13: error: unknown activation 'sigmod'
 *      12 |     encoder sigmod [400, 200]
 *         |             ^~~~~~
 *
 * and the reading of source files they point into. */
#include "mdlc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

FILE *diag_out;
int diag_error_count;

/* Beyond this many errors, the rest are more likely noise than news. */
enum { MAX_ERRORS = 20 };

void diag_reset(void) { diag_error_count = 0; }

/* While held (sema's checks run by topic, not by line), each diagnostic is
 * formatted into memory with the position it belongs to and printed by
 * diag_release in the order of the file. A note sorts with the error or
 * warning before it. */
typedef struct {
  int line, col, seq;
  char *text;  /* written by the memory stream, */
  size_t size; /* which also keeps this up to date */
} Held;

static bool holding;
static Held *held;
static int n_held, held_cap;
static int key_line, key_col; /* position of the last error or warning */
static FILE *sink; /* the memory stream of the diagnostic being held */

static FILE *out(void) {
  if (sink)
    return sink;
  return diag_out ? diag_out : stderr;
}

void diag_hold(void) { holding = true; }

static int held_order(const void *a, const void *b) {
  const Held *x = a, *y = b;
  if (x->line != y->line)
    return x->line < y->line ? -1 : 1;
  if (x->col != y->col)
    return x->col < y->col ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void diag_release(void) {
  holding = false;
  if (n_held > 1)
    qsort(held, (size_t)n_held, sizeof *held, held_order);
  for (int i = 0; i < n_held; i++) {
    fputs(held[i].text, out());
    free(held[i].text);
  }
  n_held = 0;
}

/* Starts a diagnostic at the position it sorts by. */
static void begin(int line, int col) {
  if (!holding)
    return;
  if (n_held == held_cap) {
    held_cap = held_cap ? 2 * held_cap : 16;
    held = realloc(held, sizeof *held * (size_t)held_cap);
  }
  held[n_held] = (Held){.line = line, .col = col, .seq = n_held};
  sink = open_memstream(&held[n_held].text, &held[n_held].size);
}

static void end(void) {
  if (!sink)
    return;
  fclose(sink);
  sink = NULL;
  n_held++;
}

/* Prints the source line of loc and a caret under the columns it spans. */
static void show_line(Loc loc) {
  const char *text = loc.file->text;
  const char *start = text;
  for (int line = 1; line < loc.line && *start; start++)
    if (*start == '\n')
      line++;
  const char *end = start;
  while (*end && *end != '\n')
    end++;
  fprintf(out(), "%5d | %.*s\n      | ", loc.line, (int)(end - start), start);
  /* Tabs in the source stay tabs under it, so the caret lines up. */
  for (int col = 1; col < loc.col && start + col - 1 < end; col++)
    fputc(start[col - 1] == '\t' ? '\t' : ' ', out());
  fputc('^', out());
  int room = (int)(end - start) - loc.col;
  for (int i = 1; i < loc.length && i <= room; i++)
    fputc('~', out());
  fputc('\n', out());
}

static void report(Loc loc, const char *kind, const char *format, va_list ap) {
  if (strcmp(kind, "note") != 0) {
    key_line = loc.file ? loc.line : 0;
    key_col = loc.file ? loc.col : 0;
  }
  begin(key_line, key_col);
  if (loc.file)
    fprintf(out(), "%s:%d:%d: %s: ", loc.file->name, loc.line, loc.col, kind);
  else
    fprintf(out(), "mdlc: %s: ", kind);
  vfprintf(out(), format, ap);
  fputc('\n', out());
  if (loc.file)
    show_line(loc);
  end();
}

void diag_error(Loc loc, const char *format, ...) {
  if (++diag_error_count > MAX_ERRORS) {
    if (diag_error_count == MAX_ERRORS + 1) {
      begin(1 << 30, 0); /* after everything held */
      fprintf(out(), "mdlc: too many errors; stopping here\n");
      end();
    }
    return;
  }
  va_list ap;
  va_start(ap, format);
  report(loc, "error", format, ap);
  va_end(ap);
}

/* Past the limit, warnings and notes (which belong to an error that was
 * not shown) are dropped too. */
void diag_warning(Loc loc, const char *format, ...) {
  if (diag_error_count > MAX_ERRORS)
    return;
  va_list ap;
  va_start(ap, format);
  report(loc, "warning", format, ap);
  va_end(ap);
}

void diag_note(Loc loc, const char *format, ...) {
  if (diag_error_count > MAX_ERRORS)
    return;
  va_list ap;
  va_start(ap, format);
  report(loc, "note", format, ap);
  va_end(ap);
}

void diag_plain_error(const char *format, ...) {
  diag_error_count++;
  va_list ap;
  va_start(ap, format);
  report((Loc){0}, "error", format, ap);
  va_end(ap);
}

SourceFile *source_from_string(const char *name, const char *text) {
  SourceFile *f = arena_alloc(sizeof *f);
  f->name = arena_strdup(name);
  f->text = arena_strdup(text);
  f->length = strlen(text);
  return f;
}

SourceFile *source_read(const char *path) {
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    diag_plain_error("cannot open '%s': %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  size_t n;
  while (buf && (n = fread(buf + len, 1, cap - len - 1, fp)) > 0) {
    len += n;
    if (cap - len < 2)
      buf = realloc(buf, cap *= 2);
  }
  bool failed = ferror(fp) || !buf;
  int read_errno = errno;
  fclose(fp);
  if (failed) {
    diag_plain_error("cannot read '%s': %s", path,
                     buf ? strerror(read_errno) : "out of memory");
    free(buf);
    return NULL;
  }
  buf[len] = '\0';
  SourceFile *f = arena_alloc(sizeof *f);
  f->name = arena_strdup(path);
  f->text = buf;
  f->length = len;
  const char *nul = memchr(buf, '\0', len);
  if (nul) {
    /* The text ends there for the lexer; the diagnostic shows the line
     * up to it, with the caret on it. */
    Loc loc = {.file = f, .line = 1, .col = 1, .length = 1};
    for (const char *c = buf; c < nul; c++) {
      loc.col = *c == '\n' ? 1 : loc.col + 1;
      loc.line += *c == '\n';
    }
    diag_error(loc, "a NUL byte; is this a text file?");
    return NULL;
  }
  return f;
}
