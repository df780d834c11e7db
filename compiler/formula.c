/* formula.c — the model's expressions of the update counter t, and the one
 * evaluator of them and of schedules.
 *
 * sema lowers each checked expression to a Formula (sema_expr.c) and uses
 * these to fold consts and sizes and to check every t of a schedule; the
 * emitters only print formulas (emit_print.c), so the meaning of an
 * expression and of a schedule's phases is written here once. */
#include "mdlc.h"

#include <math.h>

const char *const formula_functions[] = {"min", "max", "floor", "ceil", "log2",
                                         "log", "exp", "sqrt",  "abs",  NULL};

static double binary(BinaryOp op, double a, double b) {
  switch (op) {
  case OP_ADD:
    return a + b;
  case OP_SUB:
    return a - b;
  case OP_MUL:
    return a * b;
  case OP_DIV:
    return a / b;
  case OP_POW:
    return pow(a, b);
  case OP_LT:
    return a < b;
  case OP_LE:
    return a <= b;
  case OP_GT:
    return a > b;
  case OP_GE:
    return a >= b;
  case OP_EQ:
    return a == b;
  case OP_NE:
    return a != b;
  case OP_AND:
    return a && b;
  case OP_OR:
    return a || b;
  }
  return NAN;
}

static double call(const Formula *f, double t, long steps) {
  double x = formula_eval(f->args[0], t, steps);
  switch (f->fn) {
  case FN_MIN:
  case FN_MAX:
    for (int i = 1; i < f->n_args; i++) {
      double y = formula_eval(f->args[i], t, steps);
      x = f->fn == FN_MIN ? fmin(x, y) : fmax(x, y);
    }
    return x;
  case FN_FLOOR:
    return floor(x);
  case FN_CEIL:
    return ceil(x);
  case FN_LOG2:
    return log2(x);
  case FN_LOG:
    return log(x);
  case FN_EXP:
    return exp(x);
  case FN_SQRT:
    return sqrt(x);
  case FN_ABS:
    return fabs(x);
  }
  return NAN;
}

double formula_eval(const Formula *f, double t, long steps) {
  switch (f->kind) {
  case FO_NUMBER:
    return f->number;
  case FO_T:
    return t;
  case FO_STEPS:
    return (double)steps;
  case FO_CONST:
    return f->c->folded;
  case FO_NEG:
    return -formula_eval(f->lhs, t, steps);
  case FO_NOT:
    return !formula_eval(f->lhs, t, steps);
  case FO_BINARY:
    return binary(f->op, formula_eval(f->lhs, t, steps),
                  formula_eval(f->rhs, t, steps));
  case FO_CALL:
    return call(f, t, steps);
  case FO_COND:
    return formula_eval(f->cond, t, steps) ? formula_eval(f->lhs, t, steps)
                                           : formula_eval(f->rhs, t, steps);
  }
  return NAN;
}

/* Whether f or a formula under it is of this kind. */
static bool uses(const Formula *f, FormulaKind kind) {
  if (!f)
    return false;
  if (f->kind == kind || uses(f->lhs, kind) || uses(f->rhs, kind) ||
      uses(f->cond, kind))
    return true;
  for (int i = 0; i < f->n_args; i++)
    if (uses(f->args[i], kind))
      return true;
  return false;
}

bool formula_uses_t(const Formula *f) { return uses(f, FO_T); }

bool formula_uses_consts(const Formula *f) { return uses(f, FO_CONST); }

long formula_size(const Formula *f) {
  if (!f)
    return 0;
  long n =
      1 + formula_size(f->lhs) + formula_size(f->rhs) + formula_size(f->cond);
  for (int i = 0; i < f->n_args; i++)
    n += formula_size(f->args[i]);
  return n;
}

void formula_print(FILE *out, const Formula *f) {
  switch (f->kind) {
  case FO_NUMBER:
    number_print(out, f->number);
    break;
  case FO_T:
    fputs("t", out);
    break;
  case FO_STEPS:
    fputs("steps", out);
    break;
  case FO_CONST:
    fputs(f->c->name, out);
    break;
  case FO_NEG:
  case FO_NOT:
    fputs(f->kind == FO_NEG ? "(-" : "(not ", out);
    formula_print(out, f->lhs);
    fputc(')', out);
    break;
  case FO_BINARY:
    fputc('(', out);
    formula_print(out, f->lhs);
    fprintf(out, " %s ", binary_op_text(f->op));
    formula_print(out, f->rhs);
    fputc(')', out);
    break;
  case FO_CALL:
    fprintf(out, "%s(", formula_functions[f->fn]);
    for (int i = 0; i < f->n_args; i++) {
      if (i)
        fputs(", ", out);
      formula_print(out, f->args[i]);
    }
    fputc(')', out);
    break;
  case FO_COND:
    fputc('(', out);
    formula_print(out, f->lhs);
    fputs(" if ", out);
    formula_print(out, f->cond);
    fputs(" else ", out);
    formula_print(out, f->rhs);
    fputc(')', out);
    break;
  }
}

/* A `first N` phase holds for the first N updates; a `last N` phase for
 * the last N of the schedule's `steps` (which --steps only cuts short). */
double schedule_at(const Schedule *s, double t, long steps, int *part) {
  for (int i = 0; i < s->n_phases; i++) {
    const Phase *ph = &s->phases[i];
    bool holds =
        ph->is_first ? t < (double)ph->n : t >= (double)steps - (double)ph->n;
    if (holds) {
      *part = i;
      return formula_eval(ph->value, t, steps);
    }
  }
  *part = -1;
  return formula_eval(s->base, t, steps);
}
