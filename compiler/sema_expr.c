/* sema_expr.c — expressions of the update counter t, and consts: their names,
 * calls and types are checked here, and each checked expression is lowered
 * to the model's formula (formula.c), which folds and evaluates it. */
#include "mdlc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const Const *find_const(const Program *p, const char *name) {
  for (int i = 0; i < p->n_consts; i++)
    if (strcmp(p->consts[i].name, name) == 0)
      return &p->consts[i];
  return NULL;
}

Const *sema_const(Program *p, const char *name) {
  return (Const *)find_const(p, name);
}

/* Marks the consts a formula uses as folded when compiling. */
static void fold_names(const Formula *f) {
  if (!f)
    return;
  if (f->kind == FO_CONST)
    ((Const *)f->c)->compile_time = true;
  fold_names(f->lhs);
  fold_names(f->rhs);
  fold_names(f->cond);
  for (int i = 0; i < f->n_args; i++)
    fold_names(f->args[i]);
}

/* Whether a formula uses a const that --set may change. */
static bool follows_a_setting(const Formula *f) {
  if (!f)
    return false;
  if (f->kind == FO_CONST)
    return !f->c->compile_time;
  if (follows_a_setting(f->lhs) || follows_a_setting(f->rhs) ||
      follows_a_setting(f->cond))
    return true;
  for (int i = 0; i < f->n_args; i++)
    if (follows_a_setting(f->args[i]))
      return true;
  return false;
}

void fold_const_uses(Program *p) {
  /* A const uses only consts declared before it: one pass from the last. */
  for (int i = p->n_consts - 1; i >= 0; i--)
    if (p->consts[i].compile_time)
      fold_names(p->consts[i].value);
  for (int i = 0; i < p->n_consts; i++) {
    Const *c = &p->consts[i];
    c->recomputed = !c->compile_time && follows_a_setting(c->value);
  }
}

typedef enum { TY_ERROR, TY_NUMBER, TY_BOOL } Type;

static bool is_comparison(BinaryOp op) { return op >= OP_LT && op <= OP_NE; }

/* Checks names, calls and types. `fixed` is NULL where the expression may
 * use t and steps, else what it is for, in messages ("a const"). */
static Type check_expr(Sema *S, const Expr *e, const char *fixed) {
  switch (e->kind) {
  case EX_NUMBER:
    if (!isfinite(e->number)) {
      diag_error(e->loc, "this number is too large");
      return TY_ERROR;
    }
    return TY_NUMBER;
  case EX_NAME:
    if (strcmp(e->name, "t") == 0 || strcmp(e->name, "steps") == 0) {
      if (fixed) {
        diag_error(e->loc,
                   "%s must be known when compiling, so it cannot use '%s'",
                   fixed, e->name);
        return TY_ERROR;
      }
      return TY_NUMBER;
    }
    if (find_const(S->p, e->name)) {
      if (fixed && !S->in_const) /* folded here, where --set cannot reach */
        sema_const(S->p, e->name)->compile_time = true;
      return TY_NUMBER;
    }
    for (int i = 0; i < S->n_bad_consts; i++)
      if (strcmp(S->bad_consts[i], e->name) == 0)
        return TY_ERROR;
    const char **names =
        arena_alloc(sizeof(char *) * (size_t)(S->p->n_consts + 3));
    names[0] = "t";
    names[1] = "steps";
    for (int i = 0; i < S->p->n_consts; i++)
      names[2 + i] = S->p->consts[i].name;
    diag_error(e->loc,
               "unknown name '%s'; an expression may use t (the update "
               "counter), steps (the number of updates) and consts declared "
               "above it%s",
               e->name, suggest(e->name, names));
    return TY_ERROR;
  case EX_NEG:
  case EX_NOT: {
    Type t = check_expr(S, e->lhs, fixed);
    Type want = e->kind == EX_NEG ? TY_NUMBER : TY_BOOL;
    if (t != TY_ERROR && t != want) {
      diag_error(e->loc, e->kind == EX_NEG ? "cannot negate a condition"
                                           : "'not' needs a condition");
      return TY_ERROR;
    }
    return t;
  }
  case EX_BINARY: {
    Type l = check_expr(S, e->lhs, fixed);
    Type r = check_expr(S, e->rhs, fixed);
    if (l == TY_ERROR || r == TY_ERROR)
      return TY_ERROR;
    Type want = (e->op == OP_AND || e->op == OP_OR) ? TY_BOOL : TY_NUMBER;
    if (l != want || r != want) {
      diag_error(e->loc, "'%s' needs %s on both sides", binary_op_text(e->op),
                 want == TY_BOOL ? "conditions" : "numbers");
      return TY_ERROR;
    }
    return is_comparison(e->op) || want == TY_BOOL ? TY_BOOL : TY_NUMBER;
  }
  case EX_CALL: {
    int n = 0;
    Type result = TY_NUMBER;
    for (const Expr *a = e->args; a; a = a->next, n++) {
      Type t = check_expr(S, a, fixed);
      if (t == TY_ERROR)
        result = TY_ERROR;
      else if (t == TY_BOOL) {
        diag_error(a->loc, "'%s' needs numbers, not a condition", e->name);
        result = TY_ERROR;
      }
    }
    Loc name_loc = e->loc;
    name_loc.length = (int)strlen(e->name);
    int fn = find_word(e->name, formula_functions);
    if (fn < 0) {
      diag_error(name_loc, "unknown function '%s'%s", e->name,
                 suggest(e->name, formula_functions));
      return TY_ERROR;
    }
    if ((fn == FN_MIN || fn == FN_MAX) && n < 2) {
      diag_error(name_loc, "'%s' takes two or more arguments", e->name);
      return TY_ERROR;
    }
    if (fn != FN_MIN && fn != FN_MAX && n != 1) {
      diag_error(name_loc, "'%s' takes one argument, not %d", e->name, n);
      return TY_ERROR;
    }
    return result;
  }
  case EX_COND: {
    Type c = check_expr(S, e->cond, fixed);
    Type l = check_expr(S, e->lhs, fixed);
    Type r = check_expr(S, e->rhs, fixed);
    if (c == TY_NUMBER) {
      diag_error(e->cond->loc,
                 "the condition after 'if' must be a comparison such as "
                 "t < 1000");
      return TY_ERROR;
    }
    if (c == TY_ERROR || l == TY_ERROR || r == TY_ERROR)
      return TY_ERROR;
    if (l != TY_NUMBER || r != TY_NUMBER) {
      diag_error(e->loc, "both branches of 'if ... else' must be numbers");
      return TY_ERROR;
    }
    return TY_NUMBER;
  }
  }
  return TY_ERROR;
}

/* The model's formula of a checked expression: names resolved to t, steps
 * or a const, calls to their functions. */
static Formula *lower(const Program *p, const Expr *e) {
  Formula *f = arena_alloc(sizeof *f);
  switch (e->kind) {
  case EX_NUMBER:
    f->kind = FO_NUMBER;
    f->number = e->number;
    break;
  case EX_NAME:
    f->kind = strcmp(e->name, "t") == 0       ? FO_T
              : strcmp(e->name, "steps") == 0 ? FO_STEPS
                                              : FO_CONST;
    if (f->kind == FO_CONST)
      f->c = find_const(p, e->name);
    break;
  case EX_NEG:
  case EX_NOT:
    f->kind = e->kind == EX_NEG ? FO_NEG : FO_NOT;
    f->lhs = lower(p, e->lhs);
    break;
  case EX_BINARY:
    f->kind = FO_BINARY;
    f->op = e->op;
    f->lhs = lower(p, e->lhs);
    f->rhs = lower(p, e->rhs);
    break;
  case EX_CALL:
    f->kind = FO_CALL;
    f->fn = (Function)find_word(e->name, formula_functions);
    for (const Expr *a = e->args; a; a = a->next)
      f->n_args++;
    f->args = arena_alloc(sizeof(Formula *) * (size_t)f->n_args);
    int i = 0;
    for (const Expr *a = e->args; a; a = a->next)
      f->args[i++] = lower(p, a);
    break;
  case EX_COND:
    f->kind = FO_COND;
    f->cond = lower(p, e->cond);
    f->lhs = lower(p, e->lhs);
    f->rhs = lower(p, e->rhs);
    break;
  }
  return f;
}

Formula *check_number(Sema *S, const Expr *e, const char *what,
                      const char *fixed) {
  Type t = check_expr(S, e, fixed);
  if (t == TY_BOOL)
    diag_error(e->loc, "%s must be a number, not a condition", what);
  return t == TY_NUMBER ? lower(S->p, e) : NULL;
}

/* ---- consts ---- */

/* A name in capitals (BATCH, N_HIDDEN, INPUT_TO_HIDDEN, CLIP): the
 * generated program's sizes, offsets and constants are all written so. */
static bool capitals(const char *name) {
  bool letter = false;
  for (const char *c = name; *c; c++) {
    if (*c >= 'a' && *c <= 'z')
      return false;
    letter |= *c >= 'A' && *c <= 'Z';
  }
  return letter;
}

/* Consts become C variables of the generated program; these names are
 * taken there (C's keywords, the math library, the program's own). */
static bool reserved_name(const char *name) {
  static const char *const taken[] = {"auto",
                                      "break",
                                      "case",
                                      "char",
                                      "const",
                                      "continue",
                                      "default",
                                      "do",
                                      "double",
                                      "else",
                                      "enum",
                                      "extern",
                                      "float",
                                      "for",
                                      "goto",
                                      "if",
                                      "inline",
                                      "int",
                                      "long",
                                      "register",
                                      "restrict",
                                      "return",
                                      "short",
                                      "signed",
                                      "sizeof",
                                      "static",
                                      "struct",
                                      "switch",
                                      "typedef",
                                      "union",
                                      "unsigned",
                                      "void",
                                      "volatile",
                                      "while",
                                      "main",
                                      "exp",
                                      "log",
                                      "log2",
                                      "log1p",
                                      "pow",
                                      "floor",
                                      "ceil",
                                      "sqrt",
                                      "fabs",
                                      "fmin",
                                      "fmax",
                                      "tanh",
                                      "atanh",
                                      "printf",
                                      "epsilon",
                                      "mu",
                                      "n_steps",
                                      "schedule_steps",
                                      "blocks",
                                      "ones",
                                      "settings",
                                      "info",
                                      "opts",
                                      "data",
                                      "err",
                                      "theta",
                                      "a",
                                      "d",
                                      "forward",
                                      "backward",
                                      "measure",
                                      "initialize",
                                      "update",
                                      "train",
                                      "evaluate",
                                      "epsilon_at",
                                      "mu_at",
                                      "output_units",
                                      "output_delta",
                                      "load_cases",
                                      "new_activations",
                                      "new_deltas",
                                      "check_loss",
                                      "check_gradient",
                                      "check_gradients",
                                      "sgd_update",
                                      "cm_update",
                                      "nag_update",
                                      "lookahead_point",
                                      "decay",
                                      "decay_at",
                                      "hf",
                                      "net",
                                      "report",
                                      "progress",
                                      "backpropagate",
                                      "gauss_newton",
                                      "r_forward",
                                      "new_r_activations",
                                      "check_directional",
                                      "count_saturated",
                                      "gradients",
                                      "output_curvature",
                                      "add_bias",
                                      "add_fisher",
                                      "square",
                                      "load_chunk",
                                      "next_gradient_batch",
                                      "hf_settings",
                                      "new_hf_work",
                                      "compare_cg_nag",
                                      "longest",
                                      "parameters_from_lookahead",
                                      NULL};
  return find_word(name, taken) >= 0 || strncmp(name, "mdl_", 4) == 0 ||
         name[0] == '_' || capitals(name);
}

void check_consts(Sema *S, const Ast *ast) {
  int n = 0;
  for (const Item *it = ast->items; it; it = it->next)
    n += it->kind == IT_CONST;
  S->p->consts = arena_alloc(sizeof(Const) * (size_t)(n + 1));
  S->bad_consts = arena_alloc(sizeof(char *) * (size_t)(n + 1));
  for (const Item *it = ast->items; it; it = it->next) {
    if (it->kind != IT_CONST)
      continue;
    if (strcmp(it->name, "t") == 0 || strcmp(it->name, "steps") == 0) {
      diag_error(it->name_loc, "'%s' is a built-in name; choose another",
                 it->name);
      continue;
    }
    if (reserved_name(it->name)) {
      diag_error(it->name_loc,
                 "'%s' is a name the generated C uses; choose another",
                 it->name);
      S->bad_consts[S->n_bad_consts++] = it->name;
      continue;
    }
    const Const *old = find_const(S->p, it->name);
    if (old) {
      diag_error(it->name_loc, "const '%s' is declared twice", it->name);
      diag_note(old->loc, "first declared here");
      continue;
    }
    S->in_const = true;
    Formula *value = check_number(S, it->value, "a const", "a const");
    S->in_const = false;
    if (!value) {
      S->bad_consts[S->n_bad_consts++] = it->name;
      continue;
    }
    double v = formula_eval(value, 0, S->p->steps);
    if (!isfinite(v)) {
      diag_error(it->value->loc, "const '%s' evaluates to %g", it->name, v);
      S->bad_consts[S->n_bad_consts++] = it->name;
      continue;
    }
    Const *c = &S->p->consts[S->p->n_consts++];
    c->name = it->name;
    c->loc = it->name_loc;
    c->value = value;
    c->folded = v;
  }
}
