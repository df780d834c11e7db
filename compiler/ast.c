/* ast.c — constructors for the syntax tree, and its printed forms for
 * mdlc --dump-ast. */
#include "mdlc.h"

#include <stdlib.h>

Expr *expr_new(ExprKind kind, Loc loc) {
  Expr *e = arena_alloc(sizeof *e);
  e->kind = kind;
  e->loc = loc;
  return e;
}

Atom *atom_new(AtomKind kind, Loc loc) {
  Atom *a = arena_alloc(sizeof *a);
  a->kind = kind;
  a->loc = loc;
  return a;
}

Stmt *stmt_new(StmtKind kind, Loc loc) {
  Stmt *s = arena_alloc(sizeof *s);
  s->kind = kind;
  s->loc = loc;
  return s;
}

Item *item_new(ItemKind kind, Loc loc) {
  Item *it = arena_alloc(sizeof *it);
  it->kind = kind;
  it->loc = loc;
  return it;
}

Loc loc_span(Loc first, Loc last) {
  Loc span = first;
  if (last.line == first.line && last.col + last.length > first.col)
    span.length = last.col + last.length - first.col;
  return span;
}

const char *binary_op_text(BinaryOp op) {
  static const char *text[] = {
      "+", "-", "*", "/", "^", "<", "<=", ">", ">=", "==", "!=", "and", "or"};
  return text[op];
}

/* A form that reads back as the same number, short where it can be: 0.9,
 * not 0.90000000000000002. */
void number_print(FILE *out, double x) {
  char text[32];
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(text, sizeof text, "%.*g", digits, x);
    if (strtod(text, NULL) == x)
      break;
  }
  fputs(text, out);
}

/* Fully parenthesized, so the dump shows how the parser grouped things. */
void expr_print(FILE *out, const Expr *e) {
  switch (e->kind) {
  case EX_NUMBER:
    number_print(out, e->number);
    break;
  case EX_NAME:
    fputs(e->name, out);
    break;
  case EX_NEG:
  case EX_NOT:
    fputs(e->kind == EX_NEG ? "(-" : "(not ", out);
    expr_print(out, e->lhs);
    fputc(')', out);
    break;
  case EX_BINARY:
    fputc('(', out);
    expr_print(out, e->lhs);
    fprintf(out, " %s ", binary_op_text(e->op));
    expr_print(out, e->rhs);
    fputc(')', out);
    break;
  case EX_CALL:
    fprintf(out, "%s(", e->name);
    for (const Expr *a = e->args; a; a = a->next) {
      expr_print(out, a);
      if (a->next)
        fputs(", ", out);
    }
    fputc(')', out);
    break;
  case EX_COND:
    fputc('(', out);
    expr_print(out, e->lhs);
    fputs(" if ", out);
    expr_print(out, e->cond);
    fputs(" else ", out);
    expr_print(out, e->rhs);
    fputc(')', out);
    break;
  }
}

static void atom_print(FILE *out, const Atom *a) {
  if (a->key)
    fprintf(out, "%s=", a->key);
  switch (a->kind) {
  case AT_NAME:
    fputs(a->text, out);
    break;
  case AT_NUMBER:
    number_print(out, a->number);
    break;
  case AT_STRING:
    fprintf(out, "\"%s\"", a->text);
    break;
  case AT_LIST:
  case AT_CALL:
    fprintf(out, "%s%c", a->kind == AT_CALL ? a->text : "",
            a->kind == AT_CALL ? '(' : '[');
    for (const Atom *i = a->items; i; i = i->next) {
      atom_print(out, i);
      if (i->next)
        fputs(", ", out);
    }
    fputc(a->kind == AT_CALL ? ')' : ']', out);
    break;
  }
}

static void stmts_print(FILE *out, const Stmt *s, int indent) {
  for (; s; s = s->next) {
    fprintf(out, "%*s%d:%d %s", indent, "", s->loc.line, s->loc.col, s->head);
    if (s->kind == ST_WORDS || s->kind == ST_REPORT)
      for (const Atom *a = s->atoms; a; a = a->next) {
        fputc(' ', out);
        atom_print(out, a);
      }
    if (s->expr) {
      fputc(' ', out);
      expr_print(out, s->expr);
    }
    if (s->string)
      fprintf(out, " \"%s\"", s->string->text);
    fputc('\n', out);
    stmts_print(out, s->body, indent + 2);
  }
}

void ast_dump(FILE *out, const Ast *ast) {
  static const char *kinds[] = {"const", "data", "net", "init", "train"};
  for (const Item *it = ast->items; it; it = it->next) {
    fprintf(out, "%d:%d %s %s", it->loc.line, it->loc.col, kinds[it->kind],
            it->name);
    if (it->kind_name)
      fprintf(out, " kind=%s", it->kind_name);
    for (const Atom *m = it->methods ? it->methods->next : NULL; m; m = m->next)
      fprintf(out, " and=%s", m->text);
    if (it->data_name)
      fprintf(out, " on=%s", it->data_name);
    if (it->value) {
      fputs(" = ", out);
      expr_print(out, it->value);
    }
    for (const Atom *a = it->args; a; a = a->next) {
      fputc(' ', out);
      atom_print(out, a);
    }
    fputc('\n', out);
    stmts_print(out, it->body, 2);
  }
}
