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

static FILE *out(void) { return diag_out ? diag_out : stderr; }

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

static void report(Loc loc, const char *kind, const char *format,
                   va_list ap) {
  if (loc.file)
    fprintf(out(), "%s:%d:%d: %s: ", loc.file->name, loc.line, loc.col, kind);
  else
    fprintf(out(), "mdlc: %s: ", kind);
  vfprintf(out(), format, ap);
  fputc('\n', out());
  if (loc.file)
    show_line(loc);
}

void diag_error(Loc loc, const char *format, ...) {
  if (++diag_error_count > MAX_ERRORS) {
    if (diag_error_count == MAX_ERRORS + 1)
      fprintf(out(), "mdlc: too many errors; stopping here\n");
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
  if (strlen(buf) != len) {
    diag_plain_error("'%s' contains a NUL byte; is it a text file?", path);
    free(buf);
    return NULL;
  }
  SourceFile *f = arena_alloc(sizeof *f);
  f->name = arena_strdup(path);
  f->text = buf;
  f->length = len;
  return f;
}
