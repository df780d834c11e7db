/* sweep_parse.c — the .sweep file: a few statements, one per line
 *
 *   title "Table 5"
 *   row "add T = 80" { program "../examples/addition.mdl" }
 *   column "0.9N" { method nag; mu0 0.9 }
 *   try epsilon [1e-3, 1e-4]
 *   seeds 4
 *   paper "add T = 80" [0.02]
 *
 * A hand-written lexer: the .mdl lexer's keywords and expressions are not
 * this language's, and eight token kinds fit in a screen. Errors go
 * through diag.c, so they look like those of a .mdl file. */
#include "sweep.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
  T_EOF,
  T_NEWLINE, /* or ';' */
  T_NAME,
  T_NUMBER,
  T_STRING,
  T_PUNCT /* { } [ ] , */
} TokenKind;

typedef struct {
  TokenKind kind;
  Loc loc;
  const char *text; /* names, strings (without quotes), punctuation */
  double number;
  bool is_integer;
  bool new_line; /* a newline inside [ ] came before it */
} Token;

typedef struct {
  const SourceFile *file;
  const char *p;
  int line, col;
  Token tok; /* the current token */
  int depth; /* inside [ ]: newlines are space */
} Parser;

static Loc here(Parser *P, int length) {
  return (Loc){.file = P->file,
               .line = P->line,
               .col = P->col,
               .length = length > 0 ? length : 1};
}

static void advance(Parser *P, int n) {
  for (int i = 0; i < n && *P->p; i++, P->p++) {
    if (*P->p == '\n') {
      P->line++;
      P->col = 1;
    } else {
      P->col++;
    }
  }
}

static void next(Parser *P) {
  bool new_line = false;
  for (;;) {
    while (*P->p == ' ' || *P->p == '\t' || *P->p == '\r' ||
           (*P->p == '\n' && P->depth > 0)) {
      new_line |= *P->p == '\n';
      advance(P, 1);
    }
    if (*P->p != '#')
      break;
    while (*P->p && *P->p != '\n')
      advance(P, 1);
  }
  const char *s = P->p;
  Token t = {.loc = here(P, 1)};
  if (!*s) {
    t.kind = T_EOF;
  } else if (*s == '\n' || *s == ';') {
    t.kind = T_NEWLINE;
    advance(P, 1);
  } else if (isalpha((unsigned char)*s) || *s == '_') {
    int n = 0;
    while (isalnum((unsigned char)s[n]) || s[n] == '_')
      n++;
    t = (Token){
        .kind = T_NAME, .loc = here(P, n), .text = arena_strndup(s, (size_t)n)};
    advance(P, n);
  } else if (isdigit((unsigned char)*s) || *s == '.' ||
             (*s == '-' && (isdigit((unsigned char)s[1]) || s[1] == '.'))) {
    char *end;
    t.number = strtod(s, &end);
    int n = (int)(end - s);
    if (n == 0) { /* a lone '.' */
      diag_error(here(P, 1), "stray '.'");
      advance(P, 1);
      next(P);
      return;
    }
    t.kind = T_NUMBER;
    t.loc = here(P, n);
    t.is_integer = !memchr(s, '.', (size_t)n) && !memchr(s, 'e', (size_t)n) &&
                   !memchr(s, 'E', (size_t)n);
    t.text = arena_strndup(s, (size_t)n);
    advance(P, n);
  } else if (*s == '"') {
    int n = 1;
    while (s[n] && s[n] != '"' && s[n] != '\n')
      n++;
    bool closed = s[n] == '"';
    if (!closed) /* taken as closed at the end of the line */
      diag_error(here(P, n), "this string has no closing '\"'");
    t = (Token){.kind = T_STRING,
                .loc = here(P, n + closed),
                .text = arena_strndup(s + 1, (size_t)(n - 1))};
    advance(P, n + closed);
  } else if (strchr("{}[],", *s)) {
    t = (Token){
        .kind = T_PUNCT, .loc = here(P, 1), .text = arena_strndup(s, 1)};
    advance(P, 1);
  } else {
    diag_error(here(P, 1), "unexpected character '%c'",
               isprint((unsigned char)*s) ? *s : '?');
    advance(P, 1);
    next(P);
    return;
  }
  t.new_line = new_line;
  P->tok = t;
}

static bool is_punct(const Parser *P, char c) {
  return P->tok.kind == T_PUNCT && P->tok.text[0] == c;
}

/* A list left open ends at the line of the next statement (its first
 * word came after a newline inside the brackets). */
static bool at_end_of_statement(const Parser *P) {
  return P->tok.kind == T_NEWLINE || P->tok.kind == T_EOF || is_punct(P, '}') ||
         (P->depth == 0 && P->tok.new_line);
}

/* After an error: on to the end of the statement. */
static void skip_statement(Parser *P) {
  P->depth = 0;
  while (!at_end_of_statement(P)) {
    if (is_punct(P, '['))
      P->depth++;
    if (is_punct(P, ']') && P->depth > 0)
      P->depth--;
    next(P);
  }
  P->depth = 0;
}

static const char *token_noun(const Token *t) {
  switch (t->kind) {
  case T_EOF:
    return "the end of the file";
  case T_NEWLINE:
    return "the end of the line";
  case T_STRING:
    return "a string";
  default:
    return arena_printf("'%s'", t->text);
  }
}

static bool expect(Parser *P, TokenKind kind, const char *what) {
  if (P->tok.kind == kind)
    return true;
  diag_error(P->tok.loc, "expected %s, not %s", what, token_noun(&P->tok));
  skip_statement(P);
  return false;
}

/* [1e-3, 1e-4] or [0.39, none]; none becomes NAN where allowed. */
static bool number_list(Parser *P, bool allow_none, double **values, int *n) {
  if (!is_punct(P, '[')) {
    diag_error(P->tok.loc, "expected a list such as [0.01, 0.001], not %s",
               token_noun(&P->tok));
    skip_statement(P);
    return false;
  }
  Loc open = P->tok.loc;
  P->depth++;
  next(P);
  *values = NULL;
  *n = 0;
  int cap = 0;
  while (!is_punct(P, ']')) {
    double v;
    if (P->tok.kind == T_NUMBER) {
      v = P->tok.number;
    } else if (allow_none && P->tok.kind == T_NAME &&
               strcmp(P->tok.text, "none") == 0) {
      v = NAN;
    } else {
      diag_error(P->tok.loc, "expected a number%s, not %s",
                 allow_none ? " or none" : "", token_noun(&P->tok));
      skip_statement(P);
      return false;
    }
    if (*n == cap) {
      cap = cap ? 2 * cap : 8;
      double *grown = arena_alloc(sizeof(double) * (size_t)cap);
      if (*n)
        memcpy(grown, *values, sizeof(double) * (size_t)*n);
      *values = grown;
    }
    (*values)[(*n)++] = v;
    next(P);
    if (is_punct(P, ','))
      next(P);
    else if (!is_punct(P, ']')) {
      if (P->tok.new_line || P->tok.kind == T_EOF)
        diag_error(open, "this '[' is never closed");
      else
        diag_error(P->tok.loc, "expected ',' or ']', not %s",
                   token_noun(&P->tok));
      skip_statement(P);
      return false;
    }
  }
  P->depth--;
  next(P);
  return true;
}

static const char *const methods[] = {"sgd", "cm", "nag", "hf", NULL};
static const char *const top_words[] = {"title",  "row",   "column", "seeds",
                                        "score",  "paper", "skip",   "program",
                                        "method", "steps", "try",    NULL};
static const char *const scores[] = {"error", "train_error", "zero_one", "loss",
                                     NULL};

/* "../examples/add.mdl" relative to the sweep file's directory. */
static const char *resolve(const Sweep *s, const char *path) {
  if (path[0] == '/' || !s->dir[0])
    return path;
  return arena_printf("%s/%s", s->dir, path);
}

static void add_setting(SweepChoice *c, SweepSetting set) {
  for (int i = 0; i < c->n_settings; i++)
    if (strcmp(c->settings[i].name, set.name) == 0) {
      diag_error(set.loc, "'%s' is given twice", set.name);
      diag_note(c->settings[i].loc, "first given here");
      return;
    }
  SweepSetting *grown =
      arena_alloc(sizeof *grown * (size_t)(c->n_settings + 1));
  if (c->n_settings)
    memcpy(grown, c->settings, sizeof *grown * (size_t)c->n_settings);
  grown[c->n_settings++] = set;
  c->settings = grown;
}

static bool said_twice(bool said, Loc loc, Loc first, const char *word) {
  if (said) {
    diag_error(loc, "'%s' is given twice", word);
    diag_note(first, "first given here");
  }
  return said;
}

/* A statement that a row, a column or the whole sweep may make. Returns
 * false when the word is not one of them (nothing consumed). */
static bool choice_statement(Parser *P, Sweep *s, SweepChoice *c) {
  Token head = P->tok;
  const char *w = head.text;
  if (head.kind != T_NAME)
    return false;
  if (strcmp(w, "program") == 0) {
    next(P);
    if (!expect(P, T_STRING, "the program's file name in quotes"))
      return true;
    if (!said_twice(c->program != NULL, head.loc, c->program_loc, w)) {
      c->program = resolve(s, P->tok.text);
      c->program_text = P->tok.text;
      c->program_loc = P->tok.loc;
    }
    next(P);
  } else if (strcmp(w, "method") == 0) {
    next(P);
    if (!expect(P, T_NAME, "a method: sgd, cm, nag or hf"))
      return true;
    if (find_word(P->tok.text, methods) < 0)
      diag_error(P->tok.loc, "unknown method '%s'; expected %s%s", P->tok.text,
                 one_of(methods), suggest(P->tok.text, methods));
    else if (!said_twice(c->method != NULL, head.loc, c->method_loc, w)) {
      c->method = P->tok.text;
      c->method_loc = P->tok.loc;
    }
    next(P);
  } else if (strcmp(w, "steps") == 0) {
    next(P);
    if (!expect(P, T_NUMBER, "the number of updates"))
      return true;
    if (!P->tok.is_integer || P->tok.number < 1 || P->tok.number > 1e12)
      diag_error(P->tok.loc, "steps must be a positive integer, not %s",
                 P->tok.text);
    else if (!said_twice(c->steps != 0, head.loc, c->steps_loc, w)) {
      c->steps = (long)P->tok.number;
      c->steps_loc = P->tok.loc;
    }
    next(P);
  } else if (strcmp(w, "try") == 0) {
    next(P);
    if (!expect(P, T_NAME, "the name of a setting to try, such as epsilon"))
      return true;
    SweepTry t = {.name = P->tok.text, .loc = P->tok.loc};
    next(P);
    if (!number_list(P, false, &t.values, &t.n))
      return true;
    for (int i = 0; i < c->n_tries; i++)
      if (strcmp(c->tries[i].name, t.name) == 0) {
        said_twice(true, t.loc, c->tries[i].loc, t.name);
        return true;
      }
    c->tries_said = true;
    if (t.n == 0) /* `try epsilon []`: here, nothing is tried */
      return true;
    SweepTry *grown = arena_alloc(sizeof *grown * (size_t)(c->n_tries + 1));
    if (c->n_tries)
      memcpy(grown, c->tries, sizeof *grown * (size_t)c->n_tries);
    grown[c->n_tries++] = t;
    c->tries = grown;
  } else {
    next(P);
    if (P->tok.kind != T_NUMBER) {
      const char *near = suggest(w, top_words);
      if (*near)
        diag_error(head.loc, "unknown statement '%s'%s", w, near);
      else
        diag_error(P->tok.loc,
                   "expected a number for setting '%s', not %s; a "
                   "statement is a setting (NAME VALUE) or one of %s",
                   w, token_noun(&P->tok), one_of(top_words));
      skip_statement(P);
      return true;
    }
    add_setting(c, (SweepSetting){w, P->tok.number, head.loc});
    next(P);
  }
  return true;
}

static void end_statement(Parser *P) {
  if (at_end_of_statement(P)) {
    if (P->tok.kind == T_NEWLINE)
      next(P);
    return;
  }
  diag_error(P->tok.loc, "unexpected %s at the end of the statement",
             token_noun(&P->tok));
  skip_statement(P);
  if (P->tok.kind == T_NEWLINE)
    next(P);
}

/* { statement; statement } after a row or column. */
static void block(Parser *P, Sweep *s, SweepChoice *c) {
  Loc open = P->tok.loc;
  next(P);
  for (;;) {
    while (P->tok.kind == T_NEWLINE)
      next(P);
    if (is_punct(P, '}')) {
      next(P);
      return;
    }
    if (P->tok.kind == T_EOF) {
      diag_error(open, "this '{' is never closed");
      return;
    }
    if (!choice_statement(P, s, c)) {
      diag_error(P->tok.loc,
                 "expected a setting (NAME VALUE), program, method, steps "
                 "or try, not %s",
                 token_noun(&P->tok));
      skip_statement(P);
    }
    if (!is_punct(P, '}'))
      end_statement(P);
  }
}

static int find_line(const SweepLine *lines, int n, const char *label) {
  for (int i = 0; i < n; i++)
    if (strcmp(lines[i].label, label) == 0)
      return i;
  return -1;
}

static const char **labels(const SweepLine *lines, int n) {
  const char **names = arena_alloc(sizeof(char *) * (size_t)(n + 1));
  for (int i = 0; i < n; i++)
    names[i] = lines[i].label;
  return names;
}

/* row "LABEL" { ... } or column "LABEL" { ... } */
static void line_statement(Parser *P, Sweep *s, bool is_row) {
  SweepLine **lines = is_row ? &s->rows : &s->cols;
  int *n = is_row ? &s->n_rows : &s->n_cols;
  next(P);
  if (!expect(P, T_STRING,
              is_row ? "the row's label in quotes"
                     : "the column's label in quotes"))
    return;
  SweepLine line = {.label = P->tok.text, .loc = P->tok.loc};
  int old = find_line(*lines, *n, line.label);
  if (old >= 0) {
    diag_error(line.loc, "%s \"%s\" is declared twice",
               is_row ? "row" : "column", line.label);
    diag_note((*lines)[old].loc, "first declared here");
  }
  next(P);
  if (is_punct(P, '{'))
    block(P, s, &line.choice);
  SweepLine *grown = arena_alloc(sizeof *grown * (size_t)(*n + 1));
  if (*n)
    memcpy(grown, *lines, sizeof *grown * (size_t)*n);
  grown[(*n)++] = line;
  *lines = grown;
}

/* Statements that refer to rows and columns wait for the whole file. */
typedef struct {
  Token row, col;
  double *values;
  int n;
  bool is_skip;
} Later;

static void statement(Parser *P, Sweep *s, Later **later, int *n_later) {
  Token head = P->tok;
  const char *w = head.text;
  if (head.kind != T_NAME) {
    diag_error(head.loc, "expected a statement, not %s", token_noun(&head));
    skip_statement(P);
    if (is_punct(P, '}'))
      next(P);
    return;
  }
  if (strcmp(w, "title") == 0) {
    next(P);
    if (!expect(P, T_STRING, "the title in quotes"))
      return;
    s->title = P->tok.text;
    next(P);
  } else if (strcmp(w, "row") == 0 || strcmp(w, "column") == 0) {
    line_statement(P, s, w[0] == 'r');
  } else if (strcmp(w, "seeds") == 0) {
    next(P);
    if (s->n_seeds) {
      diag_error(head.loc, "'seeds' is given twice");
      skip_statement(P);
      return;
    }
    if (P->tok.kind == T_NUMBER) { /* seeds N: 1 to N */
      if (!P->tok.is_integer || P->tok.number < 1 || P->tok.number > 1000) {
        diag_error(P->tok.loc,
                   "seeds is a count from 1 to 1000 or a list of seeds, not "
                   "%s",
                   P->tok.text);
      } else {
        s->n_seeds = (int)P->tok.number;
        s->seeds = arena_alloc(sizeof(long) * (size_t)s->n_seeds);
        for (int i = 0; i < s->n_seeds; i++)
          s->seeds[i] = i + 1;
      }
      next(P);
    } else {
      Loc at = P->tok.loc;
      double *values;
      int n;
      if (!number_list(P, false, &values, &n))
        return;
      s->seeds = arena_alloc(sizeof(long) * (size_t)(n + 1));
      for (int i = 0; i < n; i++) {
        if (values[i] < 0 || values[i] != floor(values[i]) || values[i] > 1e15)
          diag_error(at, "a seed is a whole number from 0, not %s",
                     sweep_number(values[i]));
        for (int j = 0; j < i; j++)
          if (values[j] == values[i])
            diag_error(at, "seed %s is listed twice", sweep_number(values[i]));
        s->seeds[i] = (long)values[i];
      }
      if (n == 0)
        diag_error(at, "the list of seeds is empty");
      s->n_seeds = n;
    }
  } else if (strcmp(w, "score") == 0) {
    next(P);
    if (!expect(P, T_NAME, "the column that scores a run, such as error"))
      return;
    if (find_word(P->tok.text, scores) < 0)
      diag_error(P->tok.loc, "unknown score '%s'; expected %s%s", P->tok.text,
                 one_of(scores), suggest(P->tok.text, scores));
    s->score = P->tok.text;
    s->score_loc = P->tok.loc;
    next(P);
  } else if (strcmp(w, "paper") == 0 || strcmp(w, "skip") == 0) {
    Later l = {.is_skip = w[0] == 's'};
    next(P);
    if (!expect(P, T_STRING, "a row's label in quotes"))
      return;
    l.row = P->tok;
    next(P);
    if (l.is_skip) {
      if (!expect(P, T_STRING, "a column's label in quotes"))
        return;
      l.col = P->tok;
      next(P);
    } else {
      l.col = P->tok; /* where the list starts */
      if (!number_list(P, true, &l.values, &l.n))
        return;
    }
    Later *grown = arena_alloc(sizeof *grown * (size_t)(*n_later + 1));
    if (*n_later)
      memcpy(grown, *later, sizeof *grown * (size_t)*n_later);
    grown[(*n_later)++] = l;
    *later = grown;
  } else if (!choice_statement(P, s, &s->all)) {
    diag_error(head.loc, "expected a statement, not %s", token_noun(&head));
    skip_statement(P);
  }
  end_statement(P);
}

/* paper and skip, once every row and column is known. */
static void resolve_later(Sweep *s, const Later *later, int n_later) {
  s->skipped = arena_alloc(sizeof(bool) * (size_t)(s->n_rows * s->n_cols));
  for (int i = 0; i < n_later; i++) {
    const Later *l = &later[i];
    int r = find_line(s->rows, s->n_rows, l->row.text);
    if (r < 0) {
      diag_error(l->row.loc, "no row \"%s\"%s", l->row.text,
                 suggest(l->row.text, labels(s->rows, s->n_rows)));
      continue;
    }
    if (l->is_skip) {
      int c = find_line(s->cols, s->n_cols, l->col.text);
      if (c < 0)
        diag_error(l->col.loc, "no column \"%s\"%s", l->col.text,
                   suggest(l->col.text, labels(s->cols, s->n_cols)));
      else
        s->skipped[r * s->n_cols + c] = true;
      continue;
    }
    int want = s->n_cols ? s->n_cols : 1;
    if (s->rows[r].paper) {
      diag_error(l->row.loc,
                 "the paper's figures for row \"%s\" are given "
                 "twice",
                 l->row.text);
      diag_note(s->rows[r].paper_loc, "first given here");
    } else if (l->n != want) {
      diag_error(l->col.loc,
                 "row \"%s\" has %d figure%s, but the table has %d "
                 "column%s; write none where the paper has none",
                 l->row.text, l->n, l->n == 1 ? "" : "s", want,
                 want == 1 ? "" : "s");
    } else {
      s->rows[r].paper = l->values;
      s->rows[r].paper_loc = l->row.loc;
    }
  }
}

Sweep *sweep_parse(const SourceFile *file) {
  int errors_before = diag_error_count;
  Sweep *s = arena_alloc(sizeof *s);
  s->file = file;
  const char *slash = strrchr(file->name, '/');
  s->dir = slash ? arena_strndup(file->name, (size_t)(slash - file->name)) : "";
  Parser P = {.file = file, .p = file->text, .line = 1, .col = 1};
  Later *later = NULL;
  int n_later = 0;
  next(&P);
  while (P.tok.kind != T_EOF) {
    if (P.tok.kind == T_NEWLINE)
      next(&P);
    else
      statement(&P, s, &later, &n_later);
  }
  /* Without rows or columns, the table is one cell. */
  Loc start = {.file = file, .line = 1, .col = 1, .length = 1};
  if (!s->n_rows) {
    s->rows = arena_alloc(sizeof *s->rows);
    s->rows[0] = (SweepLine){
        .label = s->title ? s->title : "all", .loc = start, .implicit = true};
    s->n_rows = 1;
  }
  if (!s->n_cols) {
    s->cols = arena_alloc(sizeof *s->cols);
    s->cols[0] = (SweepLine){.label = "score", .loc = start, .implicit = true};
    s->n_cols = 1;
  }
  resolve_later(s, later, n_later);
  if (!s->n_seeds) {
    s->seeds = arena_alloc(sizeof(long));
    s->seeds[0] = 1;
    s->n_seeds = 1;
  }
  if (!s->score)
    s->score = "error";
  if (!s->title)
    s->title = file->name;
  return diag_error_count > errors_before ? NULL : s;
}

const char *sweep_number(double x) {
  if (x == floor(x) && fabs(x) < 1e15) /* 750000, not 7.5e+05 */
    return arena_printf("%.0f", x);
  for (int digits = 1; digits < 17; digits++) {
    char *text = arena_printf("%.*g", digits, x);
    if (strtod(text, NULL) == x)
      return text;
  }
  return arena_printf("%.17g", x);
}
