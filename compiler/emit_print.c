/* emit_print.c — the printing helpers every emitter shares: a line of C,
 * a number in its shortest exact form, a formula of the model in C with
 * only the parentheses C needs, string literals, and the C names of a
 * block's size and of the data set's type. They know nothing of the page's
 * order, which emit.c lays out, and call no other emitter. */
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
  /* The range first: converting a double beyond long long's is undefined. */
  if (x > -1e15 && x < 1e15 && x == (double)(long long)x) {
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
static int c_precedence(const Formula *f) {
  switch (f->kind) {
  case FO_COND:
    return 1;
  case FO_BINARY:
    switch (f->op) {
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
  case FO_NEG:
  case FO_NOT:
    return 8;
  case FO_NUMBER:
    return f->number < 0 ? 8 : 10;
  default:
    return 10;
  }
}

static void emit_operand(Emitter *e, const Formula *f, int min_precedence) {
  bool parens = c_precedence(f) < min_precedence;
  if (parens)
    fputc('(', e->out);
  emit_formula(e, f);
  if (parens)
    fputc(')', e->out);
}

/* A formula of the model as C: t is the function's argument, steps the
 * schedule's number of updates (schedule_steps: the declared run, which
 * --steps only cuts short), consts are the program's settings. */
void emit_formula(Emitter *e, const Formula *f) {
  FILE *out = e->out;
  switch (f->kind) {
  case FO_NUMBER:
    emit_number(out, f->number);
    break;
  case FO_T:
    fputs("t", out);
    break;
  case FO_STEPS:
    fputs("schedule_steps", out);
    break;
  case FO_CONST:
    fputs(f->c->name, out);
    break;
  case FO_NEG:
  case FO_NOT:
    fputc(f->kind == FO_NEG ? '-' : '!', out);
    emit_operand(e, f->lhs, 8);
    break;
  case FO_BINARY: {
    if (f->op == OP_POW) {
      fputs("pow(", out);
      emit_formula(e, f->lhs);
      fputs(", ", out);
      emit_formula(e, f->rhs);
      fputc(')', out);
      break;
    }
    static const char *c_ops[] = {
        "+", "-", "*", "/", "", "<", "<=", ">", ">=", "==", "!=", "&&", "||"};
    int prec = c_precedence(f);
    emit_operand(e, f->lhs, prec);
    fprintf(out, " %s ", c_ops[f->op]);
    /* Left-associative: the right operand needs parentheses at equal
     * precedence (a - (b - c)). */
    emit_operand(e, f->rhs, prec + 1);
    break;
  }
  case FO_CALL:
    if (f->fn == FN_MIN || f->fn == FN_MAX) {
      /* fmin/fmax take two arguments: min(a, b, c) = fmin(fmin(a, b), c). */
      for (int i = 1; i < f->n_args; i++)
        fputs(f->fn == FN_MIN ? "fmin(" : "fmax(", out);
      emit_formula(e, f->args[0]);
      for (int i = 1; i < f->n_args; i++) {
        fputs(", ", out);
        emit_formula(e, f->args[i]);
        fputc(')', out);
      }
      break;
    }
    fprintf(out, "%s(", f->fn == FN_ABS ? "fabs" : formula_functions[f->fn]);
    emit_formula(e, f->args[0]);
    fputc(')', out);
    break;
  case FO_COND:
    emit_operand(e, f->cond, 2);
    fputs(" ? ", out);
    emit_operand(e, f->lhs, 2);
    fputs(" : ", out);
    emit_operand(e, f->rhs, 1);
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

/* The element count of a block, as the constants that make it. */
const char *emit_block_size(const Program *p, const Block *b) {
  if (b->kind != BLOCK_WEIGHTS)
    return arena_printf("N_%s", p->layers[b->to].upper);
  return arena_printf("N_%s * N_%s", p->layers[b->from].upper,
                      p->layers[b->to].upper);
}

/* The runtime's type of the program's data set. */
const char *emit_data_type(const Program *p) {
  return p->is_recurrent ? "mdl_seq_data" : "mdl_dataset";
}
