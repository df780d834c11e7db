/* emit_print.c — the printing helpers every emitter shares: a line of C,
 * a number in its shortest exact form, an expression of the program in C
 * with only the parentheses C needs, and string literals. They know
 * nothing of the page's order, which emit.c lays out. */
#include "mdlc.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void emit_line(Emitter *e, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  vfprintf(e->out, format, ap);
  va_end(ap);
  fputc('\n', e->out);
}

void emit_blank(Emitter *e) { fputc('\n', e->out); }

/* The shortest decimal that reads back as exactly x: 0.005, not
 * 0.0050000000000000001. */
void emit_number(FILE *out, double x) {
  char buf[64];
  if (x == (double)(long long)x && x > -1e15 && x < 1e15) {
    fprintf(out, "%lld", (long long)x); /* 1000, not 1e+03 */
    return;
  }
  for (int digits = 1; digits <= 17; digits++) {
    snprintf(buf, sizeof buf, "%.*g", digits, x);
    if (strtod(buf, NULL) == x)
      break;
  }
  fputs(buf, out);
}

/* Character c of string s as it stands in a C literal, into buf (at most
 * 5 bytes). A '?' next to another is escaped: in C11 mode clang reads
 * "??/" and the other trigraphs as other characters. */
static void escape_char(const char *s, const char *c_at, char buf[5]) {
  unsigned char c = (unsigned char)*c_at;
  bool by_question = c_at[1] == '?' || (c_at > s && c_at[-1] == '?');
  if (c == '"' || c == '\\' || (c == '?' && by_question))
    snprintf(buf, 5, "\\%c", c);
  else if (c == '\n')
    strcpy(buf, "\\n");
  else if (c == '\t')
    strcpy(buf, "\\t");
  else if (c < 32 || c == 127)
    snprintf(buf, 5, "\\%03o", c);
  else
    snprintf(buf, 5, "%c", c);
}

/* Literals longer than LONG_LITERAL are written as pieces of PIECE to
 * PIECE_MAX characters, one per line, that fit an indented line as they
 * are: clang-format's time to break one long literal grows with the square
 * of its length (a data path of 1 MB took minutes), pieces cost it
 * nothing. */
enum { LONG_LITERAL = 256, PIECE = 40, PIECE_MAX = 56 };

static void emit_c_string(FILE *out, const char *s) {
  size_t escaped = 0;
  char buf[5];
  for (const char *c = s; *c; c++) {
    escape_char(s, c, buf);
    escaped += strlen(buf);
  }
  bool split = escaped > LONG_LITERAL;
  size_t piece = 0; /* characters in the current piece */
  fputc('"', out);
  for (const char *c = s; *c; c++) {
    /* A piece ends after a space or '/' once it is long enough, or where
     * the next character might not fit, but not inside an escape or
     * before a UTF-8 continuation byte (with room for 3 of them). */
    escape_char(s, c, buf);
    bool continuation = ((unsigned char)*c & 0xC0) == 0x80 && piece < PIECE_MAX;
    bool full = piece + strlen(buf) + 3 > PIECE_MAX;
    if (split && !continuation && piece >= PIECE &&
        (c[-1] == ' ' || c[-1] == '/' || full)) {
      fputs("\"\n      \"", out);
      piece = 0;
    }
    fputs(buf, out);
    piece += strlen(buf);
  }
  fputc('"', out);
}

/* C's precedence for each operator, to print no more parentheses than
 * needed; pow() and calls bind tightest. */
static int c_precedence(const Expr *x) {
  switch (x->kind) {
  case EX_COND:
    return 1;
  case EX_BINARY:
    switch (x->op) {
    case OP_OR:
      return 2;
    case OP_AND:
      return 3;
    case OP_EQ:
    case OP_NE:
      return 4;
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
      return 5;
    case OP_ADD:
    case OP_SUB:
      return 6;
    case OP_MUL:
    case OP_DIV:
      return 7;
    case OP_POW:
      return 9;
    }
    return 0;
  case EX_NEG:
  case EX_NOT:
    return 8;
  case EX_NUMBER:
    return x->number < 0 ? 8 : 10;
  default:
    return 10;
  }
}

static void emit_operand(Emitter *e, const Expr *x, int min_precedence) {
  bool parens = c_precedence(x) < min_precedence;
  if (parens)
    fputc('(', e->out);
  emit_expr(e, x);
  if (parens)
    fputc(')', e->out);
}

/* An expression of the language as C: t is the function's argument, steps
 * the schedule's number of updates (schedule_steps: the declared run, which
 * --steps only cuts short), consts are the program's settings. */
void emit_expr(Emitter *e, const Expr *x) {
  FILE *out = e->out;
  switch (x->kind) {
  case EX_NUMBER:
    emit_number(out, x->number);
    break;
  case EX_NAME:
    fputs(strcmp(x->name, "steps") == 0 ? "schedule_steps" : x->name, out);
    break;
  case EX_NEG:
  case EX_NOT:
    fputc(x->kind == EX_NEG ? '-' : '!', out);
    emit_operand(e, x->lhs, 8);
    break;
  case EX_BINARY: {
    if (x->op == OP_POW) {
      fputs("pow(", out);
      emit_expr(e, x->lhs);
      fputs(", ", out);
      emit_expr(e, x->rhs);
      fputc(')', out);
      break;
    }
    static const char *c_ops[] = {
        "+", "-", "*", "/", "", "<", "<=", ">", ">=", "==", "!=", "&&", "||"};
    int prec = c_precedence(x);
    emit_operand(e, x->lhs, prec);
    fprintf(out, " %s ", c_ops[x->op]);
    /* Left-associative: the right operand needs parentheses at equal
     * precedence (a - (b - c)). */
    emit_operand(e, x->rhs, prec + 1);
    break;
  }
  case EX_CALL: {
    const char *name = x->name;
    if (strcmp(name, "min") == 0 || strcmp(name, "max") == 0) {
      /* fmin/fmax take two arguments: min(a, b, c) = fmin(fmin(a, b), c). */
      int n = 0;
      for (const Expr *a = x->args; a; a = a->next)
        n++;
      for (int i = 1; i < n; i++)
        fprintf(out, "%s(", name[1] == 'i' ? "fmin" : "fmax");
      emit_expr(e, x->args);
      for (const Expr *a = x->args->next; a; a = a->next) {
        fputs(", ", out);
        emit_expr(e, a);
        fputc(')', out);
      }
      break;
    }
    fprintf(out, "%s(", strcmp(name, "abs") == 0 ? "fabs" : name);
    emit_expr(e, x->args);
    fputc(')', out);
    break;
  }
  case EX_COND:
    emit_operand(e, x->cond, 2);
    fputs(" ? ", out);
    emit_operand(e, x->lhs, 2);
    fputs(" : ", out);
    emit_operand(e, x->rhs, 1);
    break;
  }
}

/* A string of the program (a data path) as a C string literal. */
void emit_string_literal(FILE *out, const char *s) { emit_c_string(out, s); }

void emit_die_naming(Emitter *e, const char *indent, const char *path,
                     const char *message, const char *args) {
  const char *format = message;
  if (path) {
    /* The path is text inside the format: each '%' doubled. */
    size_t n = 0;
    for (const char *c = path; *c; c++)
      n += *c == '%' ? 2 : 1;
    char *text = arena_alloc(n + 1), *t = text;
    for (const char *c = path; *c; c++) {
      *t++ = *c;
      if (*c == '%')
        *t++ = '%';
    }
    format = arena_printf("%s: %s", text, message);
  }
  fprintf(e->out, "%smdl_die(", indent);
  emit_c_string(e->out, format);
  fprintf(e->out, ", %s);\n", args);
}
