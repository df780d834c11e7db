/* sema_util.c — the words of diagnostics and of declarations: suggestions
 * ("did you mean"), lists of choices, and the checks of numbers, counts and
 * repeated statements that every part of sema shares. */
#include "mdlc.h"

#include <math.h>
#include <string.h>

/* Insertions, deletions, substitutions and swaps of neighbours
 * ("caess" is one edit from "cases"). */
static int edit_distance(const char *a, const char *b) {
  int la = (int)strlen(a), lb = (int)strlen(b);
  if (la > 30 || lb > 30)
    return 99;
  int d[32][32];
  for (int i = 0; i <= la; i++)
    d[i][0] = i;
  for (int j = 0; j <= lb; j++)
    d[0][j] = j;
  for (int i = 1; i <= la; i++)
    for (int j = 1; j <= lb; j++) {
      int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < best)
        best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best)
        best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  return d[la][lb];
}

/* "; did you mean 'sigmoid'?" when a candidate is close, else "": within
 * one edit for words of up to five letters, two for longer ones, none for
 * words of one or two letters (every short name is close to them). */
const char *suggest(const char *word, const char *const *candidates) {
  const char *best = NULL;
  size_t length = strlen(word);
  int best_distance = length < 3 ? 0 : length <= 5 ? 2 : 3;
  for (int i = 0; candidates[i]; i++) {
    int d = edit_distance(word, candidates[i]);
    if (d < best_distance) {
      best_distance = d;
      best = candidates[i];
    }
  }
  return best ? arena_printf("; did you mean '%s'?", best) : "";
}

/* "a, b or c" */
const char *one_of(const char *const *candidates) {
  const char *s = "";
  for (int i = 0; candidates[i]; i++)
    s = arena_printf("%s%s%s", s,
                     i == 0              ? ""
                     : candidates[i + 1] ? ", "
                                         : " or ",
                     candidates[i]);
  return s;
}

int find_word(const char *word, const char *const *candidates) {
  for (int i = 0; candidates[i]; i++)
    if (strcmp(word, candidates[i]) == 0)
      return i;
  return -1;
}

const char *atom_text(const Atom *a) {
  switch (a->kind) {
  case AT_NAME:
    return a->text;
  case AT_NUMBER:
    return arena_printf("%g", a->number);
  case AT_STRING:
    return "a string";
  case AT_LIST:
    return "a list";
  case AT_CALL:
    return arena_printf("%s(...)", a->text);
  }
  return "?";
}

/* An atom after "unexpected": 28, softmax, list, string. */
const char *atom_noun(const Atom *a) {
  return a->kind == AT_LIST     ? "list"
         : a->kind == AT_STRING ? "string"
                                : atom_text(a);
}

/* A positive integer such as a layer size; reports and returns false if not. */
bool positive_int(const Atom *a, const char *what, long max, long *out) {
  if (!a) {
    return false;
  }
  if (a->kind != AT_NUMBER) {
    diag_error(a->loc, "%s must be a positive integer, not %s", what,
               atom_text(a));
    return false;
  }
  if (a->number < 1 || a->number != floor(a->number)) {
    diag_error(a->loc, "%s must be a positive integer, not %g", what,
               a->number);
    return false;
  }
  if (a->number > (double)max) {
    diag_error(a->loc, "%s of %.15g is too large (at most %ld)", what,
               a->number, max);
    return false;
  }
  if (!a->is_integer) {
    diag_error(a->loc,
               "%s must be written as an integer (%.15g), without '.' or an "
               "exponent",
               what, a->number);
    return false;
  }
  *out = (long)a->number;
  return true;
}

bool positive_real(const Atom *a, const char *what, double *out) {
  if (a->kind != AT_NUMBER || !(a->number > 0) || !isfinite(a->number)) {
    diag_error(a->loc, "%s must be a positive number, not %s", what,
               atom_text(a));
    return false;
  }
  *out = a->number;
  return true;
}

int count_atoms(const Atom *a) {
  int n = 0;
  for (; a; a = a->next)
    n++;
  return n;
}

/* Reports a statement whose head has been seen before in the same body. */
bool repeated(const Stmt *s, const Stmt *body) {
  for (const Stmt *prev = body; prev != s; prev = prev->next)
    if (strcmp(prev->head, s->head) == 0) {
      diag_error(s->loc, "'%s' is given twice", s->head);
      diag_note(prev->loc, "first given here");
      return true;
    }
  return false;
}

const Stmt *find_stmt(const Stmt *body, const char *head) {
  for (const Stmt *s = body; s; s = s->next)
    if (strcmp(s->head, head) == 0)
      return s;
  return NULL;
}

/* Checks that a statement has exactly `want` words after its head. */
bool word_count(const Stmt *s, int want, const char *example) {
  int n = count_atoms(s->atoms);
  if (n == want)
    return true;
  if (n > want) {
    const Atom *extra = s->atoms;
    for (int i = 0; i < want; i++)
      extra = extra->next;
    diag_error(extra->loc, "unexpected %s; write: %s", atom_noun(extra),
               example);
  } else {
    diag_error(s->loc, "'%s' is incomplete; write: %s", s->head, example);
  }
  return false;
}
