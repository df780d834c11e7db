/* test_tour.c — docs/reading-the-c.md shows what mdlc writes. The tour
 * names its example with a line `<!-- tour: NAME -->` (examples/NAME.mdl)
 * before each part; this test emits each example's C and checks, in that
 * part:
 *   - every ```c excerpt is in the emitted C: each run of its lines between
 *     lines of "..." appears there as consecutive lines (blanks at the ends
 *     of lines aside);
 *   - every line of an ```mdl excerpt is a line of the example;
 *   - every function written `name()` is in the emitted C, as `name(`.
 * After `<!-- tour: columns A B C -->` the rows of a table name functions
 * of A in their second cell, of B in the third, and so on. A change to the
 * emitter that the tour does not follow fails here with the excerpt. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define TOUR TESTS_DIR "/../docs/reading-the-c.md"
#define EXAMPLES TESTS_DIR "/../examples"

enum { MAX_EXAMPLES = 4, MAX_LINES = 4000, MAX_NAME = 64 };

/* A text as its lines, each without the blanks at its ends. */
typedef struct {
  char *text;
  int n;
  char *line[MAX_LINES];
} lines;

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "cannot read %s", path);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  rewind(f);
  char *text = malloc((size_t)size + 1);
  cr_assert_not_null(text);
  cr_assert_eq(fread(text, 1, (size_t)size, f), (size_t)size);
  text[size] = '\0';
  fclose(f);
  return text;
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
    s[--n] = '\0';
  return s;
}

static lines *split_lines(char *text) {
  lines *l = calloc(1, sizeof *l);
  cr_assert_not_null(l);
  l->text = text;
  for (char *p = text; *p && l->n < MAX_LINES;) {
    char *end = strchr(p, '\n');
    if (end)
      *end = '\0';
    l->line[l->n++] = trim(p);
    if (!end)
      break;
    p = end + 1;
  }
  cr_assert_lt(l->n, MAX_LINES, "more than %d lines", MAX_LINES);
  return l;
}

typedef struct {
  char name[MAX_NAME];
  lines *c;   /* the emitted C */
  lines *mdl; /* the example */
} example;

typedef struct {
  const char *dir;
  int n;
  example ex[MAX_EXAMPLES];
  int excerpts, names; /* how many were checked */
} tour;

static example *example_named(tour *t, const char *name) {
  for (int i = 0; i < t->n; i++)
    if (strcmp(t->ex[i].name, name) == 0)
      return &t->ex[i];
  cr_assert_lt(t->n, MAX_EXAMPLES, "too many examples in the tour");
  example *e = &t->ex[t->n++];
  snprintf(e->name, sizeof e->name, "%s", name);
  char mdl[4096], c[4096];
  snprintf(mdl, sizeof mdl, "%s/%s.mdl", EXAMPLES, name);
  snprintf(c, sizeof c, "%s/%s.c", t->dir, name);
  e2e_result r = e2e_run("%s --emit-c '%s' -o '%s'", MDLC, mdl, c);
  cr_assert_eq(r.status, 0, "mdlc --emit-c %s failed:\n%s", mdl, r.output);
  free(r.output);
  e->c = split_lines(read_file(c));
  e->mdl = split_lines(read_file(mdl));
  return e;
}

/* Whether the n lines at want appear one after another in text. */
static int has_run(const lines *text, char *const *want, int n) {
  for (int i = 0; i + n <= text->n; i++) {
    int j = 0;
    while (j < n && strcmp(text->line[i + j], want[j]) == 0)
      j++;
    if (j == n)
      return 1;
  }
  return 0;
}

static int is_elision(const char *line) { return strcmp(line, "...") == 0; }

static void check_c_excerpt(tour *t, const example *e, char **excerpt, int n,
                            int at) {
  for (int start = 0; start < n;) {
    int end = start;
    while (end < n && !is_elision(excerpt[end]))
      end++;
    if (end > start) {
      cr_expect(has_run(e->c, excerpt + start, end - start),
                "reading-the-c.md:%d: the excerpt from \"%s\" on is not in "
                "the C of examples/%s.mdl",
                at + start + 1, excerpt[start], e->name);
      t->excerpts++;
    }
    start = end + 1;
  }
}

static void check_mdl_excerpt(tour *t, const example *e, char **excerpt, int n,
                              int at) {
  for (int i = 0; i < n; i++)
    if (!is_elision(excerpt[i])) {
      cr_expect(has_run(e->mdl, excerpt + i, 1),
                "reading-the-c.md:%d: \"%s\" is not a line of examples/%s.mdl",
                at + i + 1, excerpt[i], e->name);
      t->excerpts++;
    }
}

static int is_word_char(char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

/* Whether line has word where no name goes on before it: "update(" is not
 * in "mdl_hf_update(". */
static int has_word(const char *line, const char *word) {
  for (const char *at = strstr(line, word); at; at = strstr(at + 1, word))
    if (at == line || !is_word_char(at[-1]))
      return 1;
  return 0;
}

/* Every `name()` in text is called or defined in e's C. */
static void check_names(tour *t, const example *e, const char *text, int at) {
  for (const char *p = strchr(text, '`'); p; p = strchr(p + 1, '`')) {
    const char *end = strchr(p + 1, '`');
    if (!end)
      return;
    size_t length = (size_t)(end - p - 1);
    if (length > 2 && length < MAX_NAME && strncmp(end - 2, "()", 2) == 0) {
      char call[MAX_NAME];
      snprintf(call, sizeof call, "%.*s", (int)(length - 1), p + 1);
      int found = 0;
      for (int i = 0; i < e->c->n && !found; i++)
        found = has_word(e->c->line[i], call);
      cr_expect(found,
                "reading-the-c.md:%d: %s) is not in the C of "
                "examples/%s.mdl",
                at + 1, call, e->name);
      t->names++;
    }
    p = end;
  }
}

/* A table row: cell k + 1 names functions of columns[k]. */
static void check_row(tour *t, char *row, example **columns, int n_columns,
                      int at) {
  int cell = -1;
  for (char *p = strtok(row, "|"); p; p = strtok(NULL, "|"), cell++)
    if (cell >= 0 && cell < n_columns)
      check_names(t, columns[cell], p, at);
}

Test(tour, shows_what_mdlc_writes, .timeout = 120) {
  tour t = {.dir = e2e_fresh_dir("tour")};
  lines *doc = split_lines(read_file(TOUR));
  example *current = NULL, *columns[MAX_EXAMPLES];
  int n_columns = 0;
  for (int i = 0; i < doc->n; i++) {
    char *line = doc->line[i];
    char names[256];
    if (sscanf(line, "<!-- tour: columns %255[^>]", names) == 1) {
      current = NULL;
      for (char *w = strtok(names, " -"); w && n_columns < MAX_EXAMPLES;
           w = strtok(NULL, " -"))
        columns[n_columns++] = example_named(&t, w);
      continue;
    }
    if (sscanf(line, "<!-- tour: %255[a-z0-9_]", names) == 1) {
      current = example_named(&t, names);
      n_columns = 0;
      continue;
    }
    if (strncmp(line, "```", 3) == 0 && line[3] != '\0') {
      int is_c = strcmp(line, "```c") == 0;
      int is_mdl = strcmp(line, "```mdl") == 0;
      int start = i + 1;
      while (i + 1 < doc->n && strcmp(doc->line[i + 1], "```") != 0)
        i++;
      int n = i + 1 - start;
      i++; /* the closing fence */
      if (is_c || is_mdl)
        cr_assert_not_null(current,
                           "reading-the-c.md:%d: an excerpt before any "
                           "<!-- tour: NAME --> line",
                           start);
      if (is_c)
        check_c_excerpt(&t, current, doc->line + start, n, start);
      else if (is_mdl)
        check_mdl_excerpt(&t, current, doc->line + start, n, start);
      continue;
    }
    if (strncmp(line, "```", 3) == 0) { /* a plain block: skip it */
      while (i + 1 < doc->n && strcmp(doc->line[i + 1], "```") != 0)
        i++;
      i++;
      continue;
    }
    if (n_columns && line[0] == '|')
      check_row(&t, line, columns, n_columns, i);
    else if (current)
      check_names(&t, current, line, i);
  }
  /* A tour this test could not read would pass it: it must have found
   * the four examples, and a good many excerpts and names. */
  cr_expect_eq(t.n, 4, "the tour names %d examples", t.n);
  cr_expect_geq(t.excerpts, 30, "only %d excerpt lines or runs checked",
                t.excerpts);
  cr_expect_geq(t.names, 40, "only %d function names checked", t.names);
}
