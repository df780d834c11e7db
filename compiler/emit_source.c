/* emit_source.c — the .mdl lines the C came from, as comments: above a
 * setting, a schedule or an initialization, its source line with the
 * program's own comment (`curves.mdl:39  mu min(...)  # eq. 5`), and after
 * a line of C, that comment alone. The program's references to the paper
 * travel into the generated code, and a student can find the line of the
 * .mdl file that each part of the C implements. It reads the source text
 * that the model's locations point into, and calls no other emitter. */
#include "mdlc.h"

#include <string.h>

/* A source line split at its comment: [code, code_end) and
 * [comment, comment_end), each without surrounding blanks; a '#' inside a
 * string is not a comment. */
typedef struct {
  const char *code, *code_end;
  const char *comment, *comment_end; /* equal when the line has none */
} SourceLine;

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static SourceLine source_line(Loc loc) {
  const char *c = loc.file->text;
  for (int line = 1; line < loc.line && *c; c++)
    if (*c == '\n')
      line++;
  SourceLine s;
  while (blank(*c))
    c++;
  s.code = c;
  bool quoted = false;
  for (; *c && *c != '\n' && (quoted || *c != '#'); c++)
    quoted ^= *c == '"';
  s.code_end = c;
  while (s.code_end > s.code && blank(s.code_end[-1]))
    s.code_end--;
  s.comment = s.comment_end = c;
  if (*c == '#') {
    for (c++; blank(*c); c++)
      ;
    s.comment = c;
    while (*c && *c != '\n')
      c++;
    s.comment_end = c;
    while (s.comment_end > s.comment && blank(s.comment_end[-1]))
      s.comment_end--;
  }
  return s;
}

/* Text from the source inside a C comment: a tab reads as a space, and
 * neither the comment's end nor a nested start may appear in it. */
static void put_text(FILE *out, const char *c, const char *end) {
  for (; c < end; c++) {
    fputc(*c == '\t' ? ' ' : *c, out);
    if ((c[0] == '*' && c + 1 < end && c[1] == '/') ||
        (c[0] == '/' && c + 1 < end && c[1] == '*'))
      fputc(' ', out);
  }
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* The heading's words in lines of at most width columns, the first opened
 * with the comment, the last left open: wrapped here, since clang-format
 * would join the line below to a line it wraps. */
static void put_heading(FILE *out, const char *indent, const char *heading,
                        int width) {
  int column = fprintf(out, "%s/*", indent);
  for (const char *w = heading; *w;) {
    const char *end = strchr(w, ' ');
    if (!end)
      end = w + strlen(w);
    int length = (int)(end - w);
    if (column + 1 + length > width - 3 && column > (int)strlen(indent) + 2)
      column = fprintf(out, "\n%s *", indent);
    column += fprintf(out, " %.*s", length, w);
    for (w = end; *w == ' '; w++)
      ;
  }
}

void emit_source_comment(Emitter *e, Loc loc) {
  if (!loc.file)
    return;
  SourceLine s = source_line(loc);
  if (s.comment == s.comment_end)
    return;
  fputs(" /* ", e->out);
  put_text(e->out, s.comment, s.comment_end);
  fputs(" */", e->out);
}

/* Sorts by line, for a comment that lists a schedule's parts in the order
 * the file has them. */
static void sort_by_line(Loc *locs, int n) {
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && locs[j].line < locs[j - 1].line; j--) {
      Loc t = locs[j];
      locs[j] = locs[j - 1];
      locs[j - 1] = t;
    }
}

void emit_source_lines(Emitter *e, const char *indent, const char *heading,
                       const Loc *locs, int n) {
  enum { WIDTH = 80 }; /* clang-format's column limit */
  Loc *sorted = arena_alloc(sizeof(Loc) * (size_t)(n > 0 ? n : 1));
  int m = 0;
  for (int i = 0; i < n; i++) {
    bool seen = false; /* one line gives two parts: once */
    for (int j = 0; j < m; j++)
      seen |= sorted[j].file == locs[i].file && sorted[j].line == locs[i].line;
    if (locs[i].file && !seen)
      sorted[m++] = locs[i];
  }
  sort_by_line(sorted, m);
  if (heading)
    put_heading(e->out, indent, heading, WIDTH);
  if (heading && !m)
    fputs(" */", e->out);
  if (heading)
    fputc('\n', e->out);
  for (int i = 0; i < m; i++) {
    SourceLine s = source_line(sorted[i]);
    int where = fprintf(e->out, "%s%s%s:%d  ", indent,
                        i == 0 && !heading ? "/* " : " * ",
                        base_name(sorted[i].file->name), sorted[i].line);
    put_text(e->out, s.code, s.code_end);
    if (s.comment != s.comment_end) {
      int code = (int)(s.code_end - s.code);
      int comment = (int)(s.comment_end - s.comment);
      /* The comment under the code when both would not fit on one line. */
      if (where + code + 4 + comment + 3 > WIDTH)
        fprintf(e->out, "\n%s * %*s", indent, where - (int)strlen(indent) - 3,
                "");
      else
        fputs("  ", e->out);
      fputs("# ", e->out);
      put_text(e->out, s.comment, s.comment_end);
    }
    fputs(i == m - 1 ? " */\n" : "\n", e->out);
  }
}

void emit_source_line(Emitter *e, const char *indent, Loc loc) {
  emit_source_lines(e, indent, NULL, &loc, 1);
}
